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
