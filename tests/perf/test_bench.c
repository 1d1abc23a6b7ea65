/* test_bench.c - the benchmark runner's statistics and JSON (no timing is asserted). */
#define _POSIX_C_SOURCE 200809L /* mkstemp */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loom.h"
#include "perf/bench.h"

static volatile double acc;
static void spin(void *arg) {
  const int n = *(const int *)arg;
  for (int i = 0; i < n; ++i) acc += i * 0.5;
}

Test(bench, statistics_are_ordered_and_repetitions_are_long_enough) {
  int n = 1000;
  const bench_opts o = {.warmup = 1, .reps = 5, .min_rep_s = 0.005};
  const bench_result r = bench_run("spin", spin, &n, 1000.0, "Mop/s", &o);
  cr_assert_eq(r.reps, 5);
  cr_assert(r.min_s > 0 && r.min_s <= r.median_s && r.median_s <= r.max_s);
  cr_assert_geq(r.calls_per_rep, 1);
  cr_assert(r.median_s * (double)r.calls_per_rep > 0.5 * o.min_rep_s,
            "a repetition of %ld calls lasts %g s", r.calls_per_rep, r.median_s * r.calls_per_rep);
  cr_assert_float_eq(bench_rate(&r), 1000.0 / r.median_s * 1e-6, 1e-6 * bench_rate(&r));
}

Test(bench, json_holds_the_machine_and_every_result) {
  bench_report rep = {.suite = "unit"};
  bench_result a = {.name = "k/\"quoted\"", .median_s = 2e-6, .min_s = 1e-6, .max_s = 3e-6,
                    .reps = 7, .calls_per_rep = 10, .work = 4e3, .unit = "GB/s"};
  bench_result b = a;
  snprintf(b.name, sizeof b.name, "k/ref");
  snprintf(a.baseline, sizeof a.baseline, "k/ref");
  bench_add(&rep, b);
  bench_add(&rep, a);
  char path[] = "/tmp/loom-bench-XXXXXX";
  const int fd = mkstemp(path);
  cr_assert(fd >= 0);
  cr_assert_eq(bench_write_json(&rep, path), 0);
  FILE *f = fopen(path, "r");
  static char text[8192];
  const size_t len = fread(text, 1, sizeof text - 1, f);
  text[len] = '\0';
  fclose(f);
  remove(path);
  char simd[64];
  snprintf(simd, sizeof simd, "\"simd\": \"%s\"", loom_simd_target());
  cr_assert(strstr(text, simd), "%s", text);
  cr_assert(strstr(text, "\"suite\": \"unit\""));
  cr_assert(strstr(text, "\"name\": \"k/\\\"quoted\\\"\""), "quotes escaped: %s", text);
  cr_assert(strstr(text, "\"baseline\": \"k/ref\""));
  cr_assert(strstr(text, "\"threads\": "));
  cr_assert(strstr(text, "\"git\": "));
  cr_assert(strstr(text, "\"cpu\": "));
  bench_report_free(&rep);
}

Test(bench, interleaved_runs_report_each_function_in_order) {
  int small = 100, big = 10000;
  const char *names[2] = {"small", "big"};
  bench_fn fns[2] = {spin, spin};
  void *args[2] = {&small, &big};
  const bench_opts o = {.warmup = 1, .reps = 3, .min_rep_s = 0.002};
  bench_result r[2];
  bench_run_interleaved(2, names, fns, args, 1.0, "op/s", &o, r);
  cr_assert_str_eq(r[0].name, "small");
  cr_assert_str_eq(r[1].name, "big");
  cr_assert(r[0].reps == 3 && r[1].reps == 3);
  cr_assert(r[1].calls_per_rep < r[0].calls_per_rep, "the longer call needs fewer calls per rep");
}
