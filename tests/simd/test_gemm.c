/* test_gemm.c - SGEMM against the triple-loop reference: every transpose combination,
 * awkward sizes in every mix, padded leading dimensions, alpha/beta, NaN-filled C for
 * beta = 0, unaligned pointers, the fused epilogue, bad arguments, thread counts. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "simd/gemm.h"
#include "simd/ref.h"

#define EPS 1.1920929e-7

typedef struct {
  bool ta, tb;
  size_t m, n, k, lda, ldb, ldc;
  float *a, *b, *c0; /* inputs and C's starting value */
  double *prod, *mag; /* op(A).op(B) and sum |a||b| in double, m x n */
} problem;

/* Stored shapes with leading dimensions padded by `pad`; pointers start one float in
 * (unaligned) when `off`. */
static problem make(bool ta, bool tb, size_t m, size_t n, size_t k, size_t pad, size_t off,
                    uint64_t seed) {
  problem P = {ta, tb, m, n, k, 0, 0, 0, NULL, NULL, NULL, NULL, NULL};
  const size_t arows = ta ? k : m, acols = ta ? m : k, brows = tb ? n : k, bcols = tb ? k : n;
  P.lda = (acols ? acols : 1) + pad; /* BLAS: ld >= max(1, row length) */
  P.ldb = (bcols ? bcols : 1) + pad;
  P.ldc = (n ? n : 1) + pad;
  P.a = (float *)malloc((arows * P.lda + 1) * sizeof(float)) + off;
  P.b = (float *)malloc((brows * P.ldb + 1) * sizeof(float)) + off;
  P.c0 = (float *)malloc((m * P.ldc + 1) * sizeof(float)) + off;
  tu_fill(P.a, arows * P.lda, -1, 1, seed);
  tu_fill(P.b, brows * P.ldb, -1, 1, seed + 1);
  tu_fill(P.c0, m * P.ldc, -1, 1, seed + 2);
  P.prod = calloc(m * n + 1, sizeof(double));
  P.mag = calloc(m * n + 1, sizeof(double));
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) {
      double s = 0, g = 0;
      for (size_t p = 0; p < k; ++p) {
        const double av = ta ? P.a[p * P.lda + i] : P.a[i * P.lda + p];
        const double bv = tb ? P.b[j * P.ldb + p] : P.b[p * P.ldb + j];
        s += av * bv;
        g += fabs(av * bv);
      }
      P.prod[i * n + j] = s;
      P.mag[i * n + j] = g;
    }
  return P;
}

static void release(problem P, size_t off) {
  free(P.a - off);
  free(P.b - off);
  free(P.c0 - off);
  free(P.prod);
  free(P.mag);
}

/* Runs loom_sgemm and checks every element within a K * eps bound, and that the
 * padding of C is untouched. */
static void run_check(const problem *P, float alpha, float beta) {
  const size_t csize = P->m * P->ldc;
  float *c = malloc((csize + 1) * sizeof(float));
  memcpy(c, P->c0, csize * sizeof(float));
  if (beta == 0.0f)
    for (size_t i = 0; i < P->m; ++i)
      for (size_t j = 0; j < P->n; ++j) c[i * P->ldc + j] = NAN; /* must not leak */
  cr_assert_eq(loom_sgemm(P->ta, P->tb, (int64_t)P->m, (int64_t)P->n, (int64_t)P->k, alpha, P->a,
                          (int64_t)P->lda, P->b, (int64_t)P->ldb, beta, c, (int64_t)P->ldc),
               LOOM_OK, "%s", loom_last_error());
  for (size_t i = 0; i < P->m; ++i) {
    for (size_t j = 0; j < P->n; ++j) {
      const double c0 = beta == 0.0f ? 0.0 : P->c0[i * P->ldc + j];
      const double want = alpha * P->prod[i * P->n + j] + beta * c0;
      const double tol = (P->k + 3) * EPS * (fabs(alpha) * P->mag[i * P->n + j] + fabs(beta * c0)) + 1e-30;
      const float got = c[i * P->ldc + j];
      cr_assert(fabs(got - want) <= tol,
                "ta=%d tb=%d m=%zu n=%zu k=%zu alpha=%g beta=%g: C[%zu][%zu] = %.9g, want %.9g (tol %.3g)",
                P->ta, P->tb, P->m, P->n, P->k, alpha, beta, i, j, got, want, tol);
    }
    for (size_t j = P->n; j < P->ldc; ++j)
      cr_assert_eq(c[i * P->ldc + j], P->c0[i * P->ldc + j], "padding of C written at [%zu][%zu]", i, j);
  }
  free(c);
}

static const size_t small[] = {0, 1, 2, 3, 7, 15, 16, 17, 31, 33, 64, 65};
#define N_SMALL (sizeof small / sizeof small[0])
static const float betas[] = {0.0f, 1.0f, 0.5f};

/* Every mix of the small sizes, for one transpose combination. */
static void all_small(bool ta, bool tb) {
  uint64_t seed = 100;
  for (size_t x = 0; x < N_SMALL; ++x)
    for (size_t y = 0; y < N_SMALL; ++y)
      for (size_t z = 0; z < N_SMALL; ++z) {
        const size_t pad = (x + y + z) % 3 == 0 ? 3 : 0, off = (x + z) % 2;
        problem P = make(ta, tb, small[x], small[y], small[z], pad, off, seed++);
        run_check(&P, (x + y) % 2 ? -1.5f : 0.75f, betas[(x + y + z) % 3]);
        release(P, off);
      }
}

Test(gemm, plain_every_small_mix) { all_small(false, false); }
Test(gemm, trans_a_every_small_mix) { all_small(true, false); }
Test(gemm, trans_b_every_small_mix) { all_small(false, true); }
Test(gemm, trans_both_every_small_mix) { all_small(true, true); }

/* The larger sizes, each against a spread of the others, all transposes and betas. */
Test(gemm, larger_sizes) {
  const size_t big[] = {127, 257};
  const size_t other[] = {1, 17, 65, 257};
  uint64_t seed = 500;
  for (int t = 0; t < 4; ++t)
    for (size_t b = 0; b < 2; ++b)
      for (size_t o = 0; o < 4; ++o)
        for (int which = 0; which < 3; ++which) {
          size_t dims[3] = {other[o], other[(o + 1) % 4], other[(o + 2) % 4]};
          dims[which] = big[b];
          problem P = make(t & 1, t & 2, dims[0], dims[1], dims[2], 5, (o & 1), seed++);
          run_check(&P, 0.5f, betas[(b + o + which) % 3]);
          release(P, o & 1);
        }
}

Test(gemm, deep_k_spans_several_blocks) {
  const lm_gemm_blocking g = lm_gemm_get_blocking();
  cr_assert(g.mr >= 1 && g.nr >= 1 && g.kc >= 64 && g.mc >= g.mr && g.nc >= g.nr);
  problem P = make(false, false, g.mr + 1, g.nr + 3, 2 * g.kc + 5, 0, 0, 77);
  run_check(&P, 1.0f, 0.5f);
  release(P, 0);
  problem Q = make(true, true, g.mc + 3, 2 * g.nr, g.kc + 1, 2, 1, 78);
  run_check(&Q, -2.0f, 0.0f);
  release(Q, 1);
}

Test(gemm, alpha_zero_and_k_zero_scale_c) {
  problem P = make(false, false, 5, 7, 3, 1, 0, 9);
  run_check(&P, 0.0f, 0.5f);
  run_check(&P, 0.0f, 0.0f);
  release(P, 0);
  problem Q = make(false, false, 5, 7, 0, 1, 0, 10);
  run_check(&Q, 1.0f, 1.0f);
  run_check(&Q, 1.0f, 0.0f);
  release(Q, 0);
}

/* act(alpha A.B + beta C + bias) from the internal entry point. */
Test(gemm, fused_bias_and_activation) {
  const lm_act acts[4] = {LM_ACT_NONE, LM_ACT_RELU, LM_ACT_SIGMOID, LM_ACT_TANH};
  const size_t dims[][3] = {{1, 1, 1}, {7, 33, 5}, {65, 17, 300}, {30, 70, 700}};
  for (int d = 0; d < 4; ++d)
    for (int t = 0; t < 4; ++t) {
      const size_t m = dims[d][0], n = dims[d][1], k = dims[d][2];
      problem P = make(t & 1, t & 2, m, n, k, 0, 0, 30 + d);
      float *bias = malloc(n * sizeof(float)), *c = malloc(m * n * sizeof(float));
      tu_fill(bias, n, -1, 1, 40 + d);
      for (int ai = 0; ai < 4; ++ai) {
        const float beta = ai % 2 ? 0.5f : 0.0f;
        memcpy(c, P.c0, m * n * sizeof(float));
        const lm_gemm_epilogue ep = {bias, acts[ai]};
        cr_assert_eq(lm_sgemm(t & 1, t & 2, m, n, k, 0.5f, P.a, P.lda, P.b, P.ldb, beta, c, n, &ep), LOOM_OK);
        for (size_t i = 0; i < m * n; ++i) {
          const double pre = 0.5 * P.prod[i] + beta * P.c0[i] + bias[i % n];
          double want = pre;
          if (acts[ai] == LM_ACT_RELU) want = pre > 0 ? pre : 0;
          if (acts[ai] == LM_ACT_SIGMOID) want = 1.0 / (1.0 + exp(-pre));
          if (acts[ai] == LM_ACT_TANH) want = tanh(pre);
          const double tol = (k + 3) * EPS * (0.5 * P.mag[i] + 2.0) + 2e-6;
          cr_assert(fabs(c[i] - want) <= tol, "act %d m=%zu n=%zu k=%zu [%zu]: %.9g vs %.9g", ai, m,
                    n, k, i, c[i], want);
        }
      }
      free(bias);
      free(c);
      release(P, 0);
    }
}

Test(gemm, one_and_two_threads_agree_bitwise) {
  const size_t dims[][3] = {{300, 500, 700}, {1000, 40, 64}, {33, 2000, 129}, {257, 257, 1100}};
  for (int d = 0; d < 4; ++d)
    for (int t = 0; t < 4; ++t) {
      const size_t m = dims[d][0], n = dims[d][1], k = dims[d][2];
      const size_t arows = t & 1 ? k : m, brows = t & 2 ? n : k;
      float *a = malloc(m * k * sizeof(float)), *b = malloc(k * n * sizeof(float));
      float *c1 = malloc(m * n * sizeof(float)), *c2 = malloc(m * n * sizeof(float));
      tu_fill(a, m * k, -1, 1, 1);
      tu_fill(b, k * n, -1, 1, 2);
      tu_fill(c1, m * n, -1, 1, 3);
      memcpy(c2, c1, m * n * sizeof(float));
      const int64_t lda = (int64_t)(m * k / arows), ldb = (int64_t)(k * n / brows);
      loom_set_num_threads(1);
      loom_sgemm(t & 1, t & 2, m, n, k, 1.25f, a, lda, b, ldb, 0.5f, c1, n);
      loom_set_num_threads(2);
      loom_sgemm(t & 1, t & 2, m, n, k, 1.25f, a, lda, b, ldb, 0.5f, c2, n);
      cr_assert(memcmp(c1, c2, m * n * sizeof(float)) == 0, "m=%zu n=%zu k=%zu t=%d", m, n, k, t);
      free(a);
      free(b);
      free(c1);
      free(c2);
    }
}

Test(gemm, bad_arguments_touch_nothing) {
  float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {1, 2, 3, 4, 5, 6}, c[4] = {7, 7, 7, 7};
  struct { int64_t m, n, k, lda, ldb, ldc; bool ta, tb; const char *msg; } bad[] = {
      {-1, 2, 3, 3, 2, 2, false, false, "negative size"},
      {2, 2, -3, 3, 2, 2, false, false, "negative size"},
      {2, 2, 3, 2, 2, 2, false, false, "lda=2 is less than 3"},
      {2, 2, 3, 1, 2, 2, true, false, "lda=1 is less than 2"},
      {2, 2, 3, 3, 1, 2, false, false, "ldb=1 is less than 2"},
      {2, 2, 3, 3, 2, 2, false, true, "ldb=2 is less than 3"},
      {2, 2, 3, 3, 2, 1, false, false, "ldc=1 is less than n=2"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    cr_assert_eq(loom_sgemm(bad[i].ta, bad[i].tb, bad[i].m, bad[i].n, bad[i].k, 1.0f, a, bad[i].lda,
                            b, bad[i].ldb, 0.0f, c, bad[i].ldc),
                 LOOM_EINVAL, "case %zu", i);
    cr_assert(strstr(loom_last_error(), bad[i].msg), "case %zu: %s", i, loom_last_error());
    for (int j = 0; j < 4; ++j) cr_assert_eq(c[j], 7.0f, "case %zu wrote C", i);
  }
  cr_assert_eq(loom_sgemm(false, false, 2, 2, 3, 1.0f, NULL, 3, b, 2, 0.0f, c, 2), LOOM_EINVAL);
  cr_assert(strstr(loom_last_error(), "A is NULL"));
  cr_assert_eq(loom_sgemm(false, false, 2, 2, 3, 1.0f, a, 3, NULL, 2, 0.0f, c, 2), LOOM_EINVAL);
  cr_assert_eq(loom_sgemm(false, false, 2, 2, 3, 1.0f, a, 3, b, 2, 0.0f, NULL, 2), LOOM_EINVAL);
  cr_assert(strstr(loom_last_error(), "C is NULL"));
  /* empty products are valid, with NULL pointers too */
  cr_assert_eq(loom_sgemm(false, false, 0, 0, 0, 1.0f, NULL, 1, NULL, 1, 0.0f, NULL, 1), LOOM_OK);
  cr_assert_eq(loom_sgemm(false, false, 2, 2, 0, 1.0f, NULL, 1, NULL, 2, 0.0f, c, 2), LOOM_OK);
  for (int j = 0; j < 4; ++j) cr_assert_eq(c[j], 0.0f, "k = 0, beta = 0: C = 0");
}

/* Threads only along N (one M block) and K in several blocks, the last one shallower:
 * each thread packs its own B panels with no barrier, so one a K block ahead must not
 * write where another still reads. Found as predictions that changed between runs;
 * small-integer data makes every product exact, so any race shows as a wrong value. */
Test(gemm, threads_along_n_never_overwrite_each_others_panels) {
  const size_t dims[][3] = {{28, 256, 1280}, {44, 256, 1280}, {12, 256, 1300}, {20, 512, 777}};
  loom_set_num_threads(2);
  for (int d = 0; d < 4; ++d) {
    const size_t m = dims[d][0], n = dims[d][1], k = dims[d][2];
    float *a = malloc(m * k * sizeof(float)), *b = malloc(k * n * sizeof(float));
    float *want = malloc(m * n * sizeof(float)), *c = malloc(m * n * sizeof(float));
    for (size_t i = 0; i < m * k; ++i) a[i] = (float)((i * 7919) % 13) - 6.0f;
    for (size_t i = 0; i < k * n; ++i) b[i] = (float)((i * 104729) % 11) - 5.0f;
    lm_ref_matmul(false, false, m, n, k, a, k, b, n, want, n, false);
    for (int rep = 0; rep < 100; ++rep) {
      loom_sgemm(false, false, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
      cr_assert(memcmp(c, want, m * n * sizeof(float)) == 0, "m=%zu n=%zu k=%zu, run %d", m, n, k, rep);
    }
    free(a), free(b), free(want), free(c);
  }
  loom_set_num_threads(1);
}
