/* kernels.c - benchmarks of the simd kernels against their scalar references.
 *
 *   kernels [--json FILE] [--reps N] [--filter TEXT] [--all-targets] [--threads N]
 *
 * Each kernel runs on an L1-sized and a larger-than-L2 array; the scalar reference runs
 * in the same process right after, and the table gives the median-time ratio. With
 * --all-targets every SIMD target this CPU runs is measured in turn. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loom.h"
#include "perf/bench.h"
#include "simd/ref.h"
#include "simd/simd.h"

typedef struct {
  const float *a, *b;
  float *y;
  size_t n, rows;
} args;

typedef struct {
  const char *name;
  void (*k)(const float *, const float *, float *, size_t);
  void (*ref)(const float *, const float *, float *, size_t);
} map3;

typedef struct {
  const char *name;
  void (*k)(const float *, float *, size_t);
  void (*ref)(const float *, float *, size_t);
} map1;

static const map3 *cur3;
static const map1 *cur1;
static void run3_k(void *p) { args *a = p; cur3->k(a->a, a->b, a->y, a->n); }
static void run3_ref(void *p) { args *a = p; cur3->ref(a->a, a->b, a->y, a->n); }
static void run1_k(void *p) { args *a = p; cur1->k(a->a, a->y, a->n); }
static void run1_ref(void *p) { args *a = p; cur1->ref(a->a, a->y, a->n); }
static volatile float sink;
static void sum_k(void *p) { args *a = p; sink = lm_k_sum(a->a, a->n); }
static void sum_ref(void *p) { args *a = p; sink = lm_ref_sum(a->a, a->n); }
static void softmax_k(void *p) { args *a = p; lm_k_softmax(a->a, a->y, a->rows, a->n / a->rows); }
static void softmax_ref(void *p) { args *a = p; lm_ref_softmax(a->a, a->y, a->rows, a->n / a->rows); }

static const map3 maps3[] = {
    {"add", lm_k_add, lm_ref_add},
    {"mul_acc", lm_k_mul_acc, lm_ref_mul_acc},
    {"sigmoid_grad", lm_k_sigmoid_grad, lm_ref_sigmoid_grad},
};
static const map1 maps1[] = {
    {"relu", lm_k_relu, lm_ref_relu},
    {"exp", lm_k_exp, lm_ref_exp},
    {"sigmoid", lm_k_sigmoid, lm_ref_sigmoid},
    {"tanh", lm_k_tanh, lm_ref_tanh},
};

static const char *filter;
static bench_opts opts;
static bench_report report = {.suite = "kernels"};

/* Measures the kernel, then its reference, and prints both rows. */
static void pair(const char *kname, const char *tgt, size_t n, bench_fn k, bench_fn ref,
                 args *a, double bytes_per_elem) {
  char name[96], refname[96];
  snprintf(name, sizeof name, "%s/n=%zu/%s", kname, n, tgt);
  snprintf(refname, sizeof refname, "%s/n=%zu/scalar-ref", kname, n);
  if (filter && !strstr(name, filter)) return;
  const double bytes = bytes_per_elem * (double)n;
  bench_result r = bench_run(name, k, a, bytes, "GB/s", &opts);
  bench_result b = bench_run(refname, ref, a, bytes, "GB/s", &opts);
  snprintf(r.baseline, sizeof r.baseline, "%s", refname);
  bench_add(&report, b);
  bench_add(&report, r);
  bench_print_row(stdout, &report, &report.results[report.n - 2]);
  bench_print_row(stdout, &report, &report.results[report.n - 1]);
}

static void run_target(const char *tgt, float *x, float *z, float *y) {
  const size_t sizes[2] = {4096, (size_t)1 << 21};
  for (int s = 0; s < 2; ++s) {
    args a = {x, z, y, sizes[s], 64};
    for (size_t i = 0; i < sizeof maps3 / sizeof maps3[0]; ++i) {
      cur3 = &maps3[i];
      pair(cur3->name, tgt, a.n, run3_k, run3_ref, &a, 12);
    }
    for (size_t i = 0; i < sizeof maps1 / sizeof maps1[0]; ++i) {
      cur1 = &maps1[i];
      pair(cur1->name, tgt, a.n, run1_k, run1_ref, &a, 8);
    }
    pair("sum", tgt, a.n, sum_k, sum_ref, &a, 4);
    pair("softmax[64 rows]", tgt, a.n, softmax_k, softmax_ref, &a, 8);
  }
}

int main(int argc, char **argv) {
  const char *json = NULL;
  int all = 0;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--json") && i + 1 < argc) json = argv[++i];
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc) opts.reps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--filter") && i + 1 < argc) filter = argv[++i];
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
      if (loom_set_num_threads(atoi(argv[++i])) != LOOM_OK) {
        fprintf(stderr, "%s\n", loom_last_error());
        return 2;
      }
    } else if (!strcmp(argv[i], "--all-targets")) all = 1;
    else {
      fprintf(stderr, "usage: %s [--json FILE] [--reps N] [--filter TEXT] [--all-targets] "
                      "[--threads N]\n", argv[0]);
      return 2;
    }
  }
  const size_t nmax = (size_t)1 << 21;
  float *x = malloc(nmax * sizeof *x), *z = malloc(nmax * sizeof *z), *y = malloc(nmax * sizeof *y);
  for (size_t i = 0; i < nmax; ++i) {
    x[i] = (float)((i * 2654435761u) % 2000) / 1000.0f - 1.0f;
    z[i] = (float)((i * 40503u) % 1000) / 1000.0f;
    y[i] = 0.0f;
  }
  printf("loom %s kernels: SIMD %s, %d threads\n", loom_version(), loom_simd_target(),
         loom_get_num_threads());
  bench_print_header(stdout);
  char targets[128];
  if (all) {
    loom_simd_available(targets, sizeof targets);
  } else {
    snprintf(targets, sizeof targets, "%s", loom_simd_target());
  }
  char *save = NULL;
  for (char *t = strtok_r(targets, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
    if (loom_simd_force(t) != LOOM_OK) {
      fprintf(stderr, "%s\n", loom_last_error());
      return 1;
    }
    run_target(t, x, z, y);
  }
  loom_simd_force(NULL);
  free(x);
  free(z);
  free(y);
  return bench_finish(&report, json);
}
