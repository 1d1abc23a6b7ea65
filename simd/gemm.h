/* gemm.h - single-precision matrix multiply, BLIS style (internal).
 *
 * C (m x n) = act(alpha * op(A) . op(B) + beta * C + bias), row-major; op(A) is m x k
 * (A stored m x k, or k x m when trans_a), op(B) is k x n (stored k x n, or n x k when
 * trans_b). beta == 0 means C is not read. The bias (n floats, one per column) and the
 * activation are optional (epilogue NULL: neither). The three products training needs
 * are the trans flags: A.B (forward), A^T.B (weight gradient), A.B^T (input gradient).
 * K is never split across threads, so results are bitwise the same for any thread
 * count. Sizes are assumed valid: loom_sgemm checks them for public callers. */
#ifndef LOOM_SIMD_GEMM_H
#define LOOM_SIMD_GEMM_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lm_act { LM_ACT_NONE = 0, LM_ACT_RELU, LM_ACT_SIGMOID, LM_ACT_TANH } lm_act;

typedef struct lm_gemm_epilogue {
  const float *bias; /* n floats or NULL */
  lm_act act;
} lm_gemm_epilogue;

/* Returns LOOM_OK, or LOOM_ENOMEM if the packing workspace cannot be had (C untouched). */
int lm_sgemm(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha,
             const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
             size_t ldc, const lm_gemm_epilogue *epilogue);

/* The blocking the dispatched target uses: register tile mr x nr, cache blocks mc, kc, nc. */
typedef struct lm_gemm_blocking {
  size_t mr, nr, mc, kc, nc;
} lm_gemm_blocking;
lm_gemm_blocking lm_gemm_get_blocking(void);

#ifdef __cplusplus
}
#endif
#endif
