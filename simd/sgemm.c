/* sgemm.c - loom_sgemm: the public, checked entry to the GEMM kernel. */
#include "simd/error.h"
#include "simd/gemm.h"

#define WHERE "loom_sgemm"

static int64_t max1(int64_t v) { return v > 1 ? v : 1; }

loom_status loom_sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                       const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                       int64_t ldc) {
  if (m < 0 || n < 0 || k < 0)
    return lm_error(LOOM_EINVAL, WHERE, "negative size: m=%lld n=%lld k=%lld", (long long)m,
                    (long long)n, (long long)k);
  /* The stored shapes: A is m x k (k x m when transposed), B is k x n (n x k). */
  const int64_t a_cols = trans_a ? m : k, b_cols = trans_b ? k : n;
  if (lda < max1(a_cols))
    return lm_error(LOOM_EINVAL, WHERE, "lda=%lld is less than %lld, the row length of %s A",
                    (long long)lda, (long long)max1(a_cols), trans_a ? "transposed" : "plain");
  if (ldb < max1(b_cols))
    return lm_error(LOOM_EINVAL, WHERE, "ldb=%lld is less than %lld, the row length of %s B",
                    (long long)ldb, (long long)max1(b_cols), trans_b ? "transposed" : "plain");
  if (ldc < max1(n))
    return lm_error(LOOM_EINVAL, WHERE, "ldc=%lld is less than n=%lld", (long long)ldc,
                    (long long)max1(n));
  if (m == 0 || n == 0) return LOOM_OK;
  if (!c) return lm_error(LOOM_EINVAL, WHERE, "C is NULL for a %lld x %lld result", (long long)m,
                          (long long)n);
  if (k > 0 && alpha != 0.0f && (!a || !b))
    return lm_error(LOOM_EINVAL, WHERE, "%s is NULL with k=%lld", !a ? "A" : "B", (long long)k);
  return lm_sgemm(trans_a, trans_b, (size_t)m, (size_t)n, (size_t)k, alpha, a, (size_t)lda, b,
                  (size_t)ldb, beta, c, (size_t)ldc, NULL);
}
