/* check_bench.c - the benchmark side of perf-check: one build's suite (check_suite.c),
 * driven by perf/check.c over a pipe so that two builds can be interleaved call for call.
 *
 *   check-bench --list                      the benchmarks, one per line
 *   check-bench --run NAME [--reps N]       time one by hand
 *   check-bench --serve [--threads N]       answer requests on stdin, one per line:
 *     info                 -> "simd=S threads=N git=REV loom=V"
 *     calibrate NAME SECS  -> calls per repetition (>= SECS each)
 *     run NAME CALLS       -> seconds per call over CALLS calls
 *     quit
 *   each answered with one line; "error MESSAGE" when it cannot be done.
 *
 * LOOM_PERF_CHECK_SLOW=NAME=FRACTION makes benchmark NAME slower by that fraction (each
 * call is followed by a busy wait of FRACTION times its own time): the deliberately
 * slowed build that tests that perf-check flags a regression. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loom.h"
#include "perf/bench.h"
#include "perf/check_suite.h"

#ifndef LOOM_GIT_REV
#define LOOM_GIT_REV "unknown"
#endif

typedef struct current {
  const check_bench *b;
  void *state;
  double slow; /* extra fraction per call */
} current;

static void slowed(void *p) {
  current *c = p;
  const double t0 = bench_now();
  c->b->run(c->state);
  const double t1 = bench_now();
  while (bench_now() < t1 + c->slow * (t1 - t0)) {
  }
}

static void plain(void *p) {
  current *c = p;
  c->b->run(c->state);
}

static double slow_fraction(const char *name) {
  const char *s = getenv("LOOM_PERF_CHECK_SLOW");
  const size_t n = strlen(name);
  if (!s || strncmp(s, name, n) || s[n] != '=') return 0.0;
  return atof(s + n + 1);
}

/* Make `name` the current benchmark (setting it up, the previous one torn down). */
static const char *select_bench(current *c, const char *name) {
  if (c->b && !strcmp(c->b->name, name)) return NULL;
  if (c->b) c->b->teardown(c->state), c->b = NULL;
  for (int i = 0; i < check_suite_count; ++i)
    if (!strcmp(check_suite[i].name, name)) {
      void *st = check_suite[i].setup(check_suite[i].arg);
      if (!st) return "setup failed";
      c->b = &check_suite[i], c->state = st, c->slow = slow_fraction(name);
      return NULL;
    }
  return "no such benchmark";
}

static bench_fn fn_of(const current *c) { return c->slow > 0 ? slowed : plain; }

static int serve(void) {
  current c = {0};
  char line[512], name[256];
  setvbuf(stdout, NULL, _IOLBF, 0);
  while (fgets(line, sizeof line, stdin)) {
    double secs;
    long calls;
    const char *err;
    if (!strncmp(line, "quit", 4)) break;
    if (!strncmp(line, "info", 4)) {
      printf("simd=%s threads=%d git=%s loom=%s\n", loom_simd_target(), loom_get_num_threads(), LOOM_GIT_REV,
             loom_version());
    } else if (sscanf(line, "calibrate %255s %lf", name, &secs) == 2) {
      if ((err = select_bench(&c, name))) printf("error %s: %s\n", name, err);
      else printf("%ld\n", bench_calibrate(fn_of(&c), &c, secs));
    } else if (sscanf(line, "run %255s %ld", name, &calls) == 2 && calls > 0) {
      if ((err = select_bench(&c, name))) printf("error %s: %s\n", name, err);
      else printf("%.9g\n", bench_time_calls(fn_of(&c), &c, calls) / (double)calls);
    } else {
      line[strcspn(line, "\n")] = '\0';
      printf("error unknown request \"%s\"\n", line);
    }
  }
  if (c.b) c.b->teardown(c.state);
  return 0;
}

int main(int argc, char **argv) {
  const char *run = NULL;
  int reps = 7;
  bool list = false, srv = false;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--list")) list = true;
    else if (!strcmp(argv[i], "--serve")) srv = true;
    else if (!strcmp(argv[i], "--run") && i + 1 < argc) run = argv[++i];
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc) loom_set_num_threads(atoi(argv[++i]));
    else {
      fprintf(stderr, "usage: %s --list | --serve [--threads N] | --run NAME [--reps N] [--threads N]\n", argv[0]);
      return 2;
    }
  }
  if (list) {
    for (int i = 0; i < check_suite_count; ++i) printf("%s\n", check_suite[i].name);
    return 0;
  }
  if (srv) return serve();
  if (!run) {
    fprintf(stderr, "%s: give --list, --serve or --run NAME\n", argv[0]);
    return 2;
  }
  current c = {0};
  const char *err = select_bench(&c, run);
  if (err) {
    fprintf(stderr, "%s: %s\n", run, err);
    return 1;
  }
  const bench_opts opts = {.reps = reps};
  bench_print_header(stdout);
  bench_result r = bench_run(run, fn_of(&c), &c, 1.0, "call/s", &opts);
  bench_report rep = {.suite = "check"};
  bench_add(&rep, r);
  bench_print_row(stdout, &rep, &rep.results[0]);
  c.b->teardown(c.state);
  bench_report_free(&rep);
  return 0;
}
