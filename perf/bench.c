/* bench.c - the benchmark runner and its JSON output. */
#define _POSIX_C_SOURCE 200809L
#include "perf/bench.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loom.h"

#ifndef LOOM_GIT_REV
#define LOOM_GIT_REV "unknown"
#endif

double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void settle(double s) {
  if (s <= 0) return;
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  nanosleep(&ts, NULL);
}

static int cmp_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double bench_time_calls(bench_fn fn, void *arg, long calls) {
  const double t0 = bench_now();
  for (long i = 0; i < calls; ++i) fn(arg);
  return bench_now() - t0;
}

/* Calls per repetition so that one lasts at least min_rep seconds. A few untimed calls
 * first: a first call may compile code (oneDNN's JIT) or fault in fresh memory, and
 * sized by it, a repetition would be a single call. */
long bench_calibrate(bench_fn fn, void *arg, double min_rep) {
  for (int i = 0; i < 3; ++i) fn(arg);
  long calls = 1;
  for (double t = bench_time_calls(fn, arg, calls); t < min_rep && calls < (1l << 30);
       t = bench_time_calls(fn, arg, calls))
    calls = t > 0 ? (long)(calls * (1.2 * min_rep / t)) + 1 : calls * 2;
  return calls;
}

void bench_summarise(bench_result *r, const char *name, double *t, int reps, long calls,
                      double work, const char *unit) {
  qsort(t, (size_t)reps, sizeof *t, cmp_double);
  memset(r, 0, sizeof *r);
  snprintf(r->name, sizeof r->name, "%s", name);
  r->median_s = reps % 2 ? t[reps / 2] : 0.5 * (t[reps / 2 - 1] + t[reps / 2]);
  r->min_s = t[0];
  r->max_s = t[reps - 1];
  r->reps = reps;
  r->calls_per_rep = calls;
  r->work = work;
  r->unit = unit;
}

void bench_run_interleaved(int count, const char *const *names, bench_fn const *fns,
                           void *const *args, double work, const char *unit,
                           const bench_opts *opts, bench_result *out) {
  const int warmup = opts && opts->warmup > 0 ? opts->warmup : 2;
  const int reps = opts && opts->reps > 0 ? opts->reps : 7;
  const double min_rep = opts && opts->min_rep_s > 0 ? opts->min_rep_s : 0.02;
  long *calls = malloc((size_t)count * sizeof *calls);
  double *t = malloc((size_t)count * (size_t)reps * sizeof *t);
  for (int f = 0; f < count; ++f) calls[f] = bench_calibrate(fns[f], args[f], min_rep);
  const double pause = opts && count > 1 ? opts->settle_s : 0.0;
  for (int i = 0; i < warmup; ++i)
    for (int f = 0; f < count; ++f) {
      bench_time_calls(fns[f], args[f], calls[f]);
      settle(pause);
    }
  for (int i = 0; i < reps; ++i)
    for (int f = 0; f < count; ++f) {
      /* After a pause, an untimed call first: waking threads (and, in a VM, the idle
       * virtual CPU they run on) takes milliseconds that no caller in a loop pays. */
      if (pause > 0) fns[f](args[f]);
      t[f * reps + i] = bench_time_calls(fns[f], args[f], calls[f]) / (double)calls[f];
      settle(pause);
    }
  for (int f = 0; f < count; ++f)
    bench_summarise(&out[f], names[f], t + f * reps, reps, calls[f], work, unit);
  free(calls);
  free(t);
}

bench_result bench_run(const char *name, bench_fn fn, void *arg, double work, const char *unit,
                       const bench_opts *opts) {
  bench_result r;
  bench_run_interleaved(1, &name, &fn, &arg, work, unit, opts, &r);
  return r;
}

double bench_rate(const bench_result *r) {
  const double scale = strncmp(r->unit, "G", 1) == 0 ? 1e-9 : strncmp(r->unit, "M", 1) == 0 ? 1e-6 : 1.0;
  return r->median_s > 0 ? r->work / r->median_s * scale : 0.0;
}

void bench_add(bench_report *rep, bench_result r) {
  if (rep->n == rep->cap) {
    rep->cap = rep->cap ? 2 * rep->cap : 32;
    rep->results = realloc(rep->results, rep->cap * sizeof *rep->results);
  }
  rep->results[rep->n++] = r;
}

static const bench_result *find(const bench_report *rep, const char *name) {
  for (size_t i = 0; i < rep->n; ++i)
    if (strcmp(rep->results[i].name, name) == 0) return &rep->results[i];
  return NULL;
}

void bench_add_with_reference(bench_report *rep, bench_result r, const char *who, double seconds,
                              FILE *out) {
  bench_add(rep, r);
  if (seconds > 0) {
    bench_result t = {.median_s = seconds, .min_s = seconds, .max_s = seconds, .reps = r.reps,
                      .calls_per_rep = 1, .work = r.work, .unit = r.unit};
    snprintf(t.name, sizeof t.name, "%.*s/%s", (int)(sizeof t.name - 2 - strlen(who)), r.name, who);
    bench_add(rep, t);
    snprintf(rep->results[rep->n - 2].baseline, sizeof t.baseline, "%s", t.name);
    bench_print_row(out, rep, &rep->results[rep->n - 1]);
  }
  bench_print_row(out, rep, &rep->results[rep->n - (seconds > 0 ? 2 : 1)]);
}

void bench_print_header(FILE *f) {
  fprintf(f, "%-36s %11s %11s %11s %10s %8s  %s\n", "benchmark", "median", "min", "max", "rate",
          "unit", "vs baseline (median time ratio)");
}

void bench_print_row(FILE *f, const bench_report *rep, const bench_result *r) {
  fprintf(f, "%-36s %9.2fus %9.2fus %9.2fus %10.2f %8s", r->name, r->median_s * 1e6,
          r->min_s * 1e6, r->max_s * 1e6, bench_rate(r), r->unit);
  const bench_result *b = r->baseline[0] ? find(rep, r->baseline) : NULL;
  if (b) fprintf(f, "  %.2fx faster than %s", b->median_s / r->median_s, b->name);
  fputc('\n', f);
}

static void cpu_model(char *buf, size_t cap) {
  snprintf(buf, cap, "unknown");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f) return;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    /* x86 says "model name", some ARM kernels only "CPU part"; take the first. */
    if (strncmp(line, "model name", 10) == 0 || strncmp(line, "CPU part", 8) == 0) {
      char *v = strchr(line, ':');
      if (v) {
        v += 1 + (v[1] == ' ');
        v[strcspn(v, "\n")] = '\0';
        snprintf(buf, cap, "%s", v);
      }
      break;
    }
  }
  fclose(f);
}

void bench_json_str(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; ++s) {
    if (*s == '"' || *s == '\\') fputc('\\', f);
    if ((unsigned char)*s >= 0x20) fputc(*s, f);
  }
  fputc('"', f);
}

void bench_json_begin(FILE *f, const char *suite, const char *simd, int threads, const char *git) {
  char host[256] = "unknown", cpu[256];
  gethostname(host, sizeof host - 1);
  cpu_model(cpu, sizeof cpu);
  char date[32];
  const time_t t = time(NULL);
  strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
  fprintf(f, "{\n  \"schema\": \"loom-bench-1\",\n  \"suite\": ");
  bench_json_str(f, suite);
  fprintf(f, ",\n  \"date\": \"%s\",\n  \"machine\": ", date);
  bench_json_str(f, host);
  fprintf(f, ",\n  \"cpu\": ");
  bench_json_str(f, cpu);
  fprintf(f, ",\n  \"cores\": %ld,\n  \"simd\": ", sysconf(_SC_NPROCESSORS_ONLN));
  bench_json_str(f, simd);
  fprintf(f, ",\n  \"threads\": %d,\n  \"git\": ", threads);
  bench_json_str(f, git);
  fprintf(f, ",\n  \"loom\": \"%s\",\n  \"results\": [\n", loom_version());
}

void bench_json_result(FILE *f, const bench_result *r, bool last) {
  fprintf(f, "    {\"name\": ");
  bench_json_str(f, r->name);
  fprintf(f,
          ", \"median_s\": %.9g, \"min_s\": %.9g, \"max_s\": %.9g, \"reps\": %d, "
          "\"calls_per_rep\": %ld, \"rate\": %.6g, \"unit\": \"%s\"",
          r->median_s, r->min_s, r->max_s, r->reps, r->calls_per_rep, bench_rate(r), r->unit);
  if (r->baseline[0]) {
    fprintf(f, ", \"baseline\": ");
    bench_json_str(f, r->baseline);
  }
  fprintf(f, "}%s\n", last ? "" : ",");
}

int bench_write_json(const bench_report *rep, const char *path) {
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  bench_json_begin(f, rep->suite, loom_simd_target(), loom_get_num_threads(), LOOM_GIT_REV);
  for (size_t i = 0; i < rep->n; ++i) bench_json_result(f, &rep->results[i], i + 1 == rep->n);
  fprintf(f, "  ]\n}\n");
  return fclose(f) == 0 ? 0 : -1;
}

void bench_report_free(bench_report *rep) {
  free(rep->results);
  rep->results = NULL;
  rep->n = rep->cap = 0;
}

int bench_finish(bench_report *rep, const char *json_path) {
  int rc = 0;
  if (json_path) {
    rc = bench_write_json(rep, json_path);
    printf("%s %s\n", rc == 0 ? "wrote" : "could not write", json_path);
  }
  bench_report_free(rep);
  return rc ? 1 : 0;
}
