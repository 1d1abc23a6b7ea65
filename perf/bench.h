/* bench.h - the benchmark runner: warm-up, repetitions, median/min/max, JSON.
 *
 * A benchmark is a function called with its argument; the runner calibrates how many
 * calls make one repetition (at least min_rep_s long), runs warm-up repetitions, then
 * `reps` timed ones, and reports the time per call. Later suites (GEMM, layers, models)
 * register their cases the same way and write into the same JSON schema. */
#ifndef LOOM_PERF_BENCH_H
#define LOOM_PERF_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef void (*bench_fn)(void *arg);

typedef struct bench_opts {
  int warmup;       /* warm-up repetitions; 0 = 2 */
  int reps;         /* timed repetitions; 0 = 7 */
  double min_rep_s; /* shortest repetition; 0 = 0.02 s */
  double settle_s;  /* interleaved runs: pause after each function's repetition, so that
                       thread pools it left spinning go to sleep before the next one runs;
                       each timed repetition is then preceded by one untimed call */
} bench_opts;

typedef struct bench_result {
  char name[96];
  double median_s, min_s, max_s; /* per call */
  int reps;
  long calls_per_rep;
  double work;      /* units of work per call (bytes, flops, samples) */
  const char *unit; /* what `work` counts per second: "GB/s", "GFLOP/s", ... */
  char baseline[96]; /* name of the result this one is compared with; "" = none */
} bench_result;

/* Times fn(arg). work and unit describe one call, for the throughput column. */
bench_result bench_run(const char *name, bench_fn fn, void *arg, double work, const char *unit,
                       const bench_opts *opts);

/* Several functions timed in turn (A B C A B C ...), so that drift of a shared machine
 * falls on all of them alike: each is calibrated and warmed up, then every repetition
 * times each once. out[i] receives the result of fns[i]. */
void bench_run_interleaved(int count, const char *const *names, bench_fn const *fns,
                           void *const *args, double work, const char *unit,
                           const bench_opts *opts, bench_result *out);

/* The runner's parts, for programs that schedule calls themselves (perf/check_bench.c):
 * a monotonic clock in seconds; the time of `calls` calls; the calls that make one
 * repetition last at least min_rep seconds (after 3 untimed calls); a result from the
 * per-call times t[0..reps) (sorted in place). */
double bench_now(void);
double bench_time_calls(bench_fn fn, void *arg, long calls);
long bench_calibrate(bench_fn fn, void *arg, double min_rep);
void bench_summarise(bench_result *r, const char *name, double *t, int reps, long calls, double work,
                     const char *unit);

/* Throughput of a result in its unit (work / median). */
double bench_rate(const bench_result *r);

/* A run's results: printed as a table as they come, written as JSON at the end. */
typedef struct bench_report {
  const char *suite;
  bench_result *results;
  size_t n, cap;
} bench_report;

void bench_add(bench_report *rep, bench_result r);
/* Add r, and when seconds > 0 a row for another library's time per call measured
 * outside the runner (PyTorch's, from its script): named "<r.name>/<who>", with r's work
 * and unit, made r's baseline. Prints the reference row, then r. */
void bench_add_with_reference(bench_report *rep, bench_result r, const char *who, double seconds,
                              FILE *out);
/* Table header / one row (ratio against the named baseline if there is one). */
void bench_print_header(FILE *f);
void bench_print_row(FILE *f, const bench_report *rep, const bench_result *r);
/* JSON with the machine, CPU, SIMD target, threads and git revision. 0 on success. */
/* Its parts, for writers that add fields of their own (perf/check.c): the head up to and
 * with `"results": [`, one result (a comma unless last), a JSON string. */
void bench_json_begin(FILE *f, const char *suite, const char *simd, int threads, const char *git);
void bench_json_result(FILE *f, const bench_result *r, bool last);
void bench_json_str(FILE *f, const char *s);
int bench_write_json(const bench_report *rep, const char *path);
void bench_report_free(bench_report *rep);
/* The end of every benchmark program: JSON to json_path if given (saying where), then
 * the report is freed. Returns the program's exit status (1 if the file failed). */
int bench_finish(bench_report *rep, const char *json_path);

#endif
