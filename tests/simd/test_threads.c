/* test_threads.c - results are bitwise the same with 1 and 2 threads. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "simd/simd.h"

/* Big enough that two threads really split the work. */
#define N 300007

static float *make(uint64_t seed) {
  float *x = malloc(N * sizeof(float));
  tu_fill(x, N, -3, 3, seed);
  return x;
}

typedef struct {
  float sum, max;
  float *softmax, *softmax_grad, *exp, *axpy;
} results;

static results run(int threads, const float *x, const float *g) {
  cr_assert_eq(loom_set_num_threads(threads), LOOM_OK);
  cr_assert_eq(lm_threads_for(N), threads, "the kernels would not use %d threads", threads);
  results r;
  r.sum = lm_k_sum(x, N);
  r.max = lm_k_max(x, N);
  r.softmax = malloc(N * sizeof(float));
  r.softmax_grad = calloc(N, sizeof(float));
  r.exp = malloc(N * sizeof(float));
  r.axpy = malloc(N * sizeof(float));
  lm_k_softmax(x, r.softmax, 7, N / 7);
  lm_k_softmax_grad(r.softmax, g, r.softmax_grad, 7, N / 7);
  lm_k_exp(x, r.exp, N);
  memcpy(r.axpy, g, N * sizeof(float));
  lm_k_axpy(0.5f, x, r.axpy, N);
  return r;
}

Test(threads, one_and_two_threads_agree_bitwise) {
  float *x = make(11), *g = make(12);
  results a = run(1, x, g), b = run(2, x, g);
  cr_assert(memcmp(&a.sum, &b.sum, sizeof a.sum) == 0, "sum %.9g vs %.9g", a.sum, b.sum);
  cr_assert(memcmp(&a.max, &b.max, sizeof a.max) == 0);
  cr_assert(memcmp(a.softmax, b.softmax, N * sizeof(float)) == 0, "softmax differs");
  cr_assert(memcmp(a.softmax_grad, b.softmax_grad, N * sizeof(float)) == 0, "softmax_grad");
  cr_assert(memcmp(a.exp, b.exp, N * sizeof(float)) == 0, "exp differs");
  cr_assert(memcmp(a.axpy, b.axpy, N * sizeof(float)) == 0, "axpy differs");
}

Test(threads, sum_does_not_depend_on_thread_count_for_many_sizes) {
  float *x = make(13);
  for (size_t n = 16000; n < N; n = n * 2 + 77) {
    loom_set_num_threads(1);
    const float s1 = lm_k_sum(x, n);
    loom_set_num_threads(2);
    const float s2 = lm_k_sum(x, n);
    loom_set_num_threads(3);
    const float s3 = lm_k_sum(x, n);
    cr_assert(memcmp(&s1, &s2, sizeof s1) == 0 && memcmp(&s1, &s3, sizeof s1) == 0, "n=%zu", n);
  }
  free(x);
}

Test(threads, small_work_stays_on_one_thread) {
  loom_set_num_threads(2);
  cr_assert_eq(lm_threads_for(100), 1);
  cr_assert_eq(lm_threads_for((size_t)1 << 20), 2);
}

Test(threads, scatter_add_rows_splits_columns_and_agrees_bitwise) {
  /* 2000 ids (many repeats) x 100 columns: enough work for threads, columns not a
   * multiple of the 16-float split */
  enum { n = 2000, dim = 100, vocab = 37 };
  float *src = make(21), *base = make(22);
  int32_t idx[n];
  for (int i = 0; i < n; ++i) idx[i] = (int32_t)((i * 11) % vocab);
  float *out[3];
  for (int t = 1; t <= 3; ++t) {
    loom_set_num_threads(t);
    out[t - 1] = malloc(vocab * dim * sizeof(float));
    memcpy(out[t - 1], base, vocab * dim * sizeof(float));
    lm_k_scatter_add_rows(src, idx, n, out[t - 1], dim);
  }
  cr_assert_eq(lm_threads_for((size_t)n * dim), 3);
  cr_assert(memcmp(out[0], out[1], vocab * dim * sizeof(float)) == 0, "1 vs 2 threads");
  cr_assert(memcmp(out[0], out[2], vocab * dim * sizeof(float)) == 0, "1 vs 3 threads");
  for (int t = 0; t < 3; ++t) free(out[t]);
  free(src), free(base);
}
