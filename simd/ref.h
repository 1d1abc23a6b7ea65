/* ref.h - plain-C scalar references of the kernels in simd.h (internal).
 * Straightforward loops, no SIMD, no threads; the tests hold the kernels to these.
 * Same signatures and contracts as the lm_k_* twins. */
#ifndef LOOM_SIMD_REF_H
#define LOOM_SIMD_REF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "simd/simd.h" /* lm_actfn */

#ifdef __cplusplus
extern "C" {
#endif

void lm_ref_add(const float *a, const float *b, float *y, size_t n);
void lm_ref_sub(const float *a, const float *b, float *y, size_t n);
void lm_ref_mul(const float *a, const float *b, float *y, size_t n);
void lm_ref_axpy(float alpha, const float *x, float *y, size_t n);
void lm_ref_mul_acc(const float *a, const float *b, float *y, size_t n);
void lm_ref_scale(float alpha, const float *x, float *y, size_t n);
void lm_ref_add_scalar(float c, const float *x, float *y, size_t n);
void lm_ref_fill(float v, float *y, size_t n);
void lm_ref_relu(const float *x, float *y, size_t n);
void lm_ref_sigmoid(const float *x, float *y, size_t n);
void lm_ref_tanh(const float *x, float *y, size_t n);
void lm_ref_exp(const float *x, float *y, size_t n);
void lm_ref_log(const float *x, float *y, size_t n);
void lm_ref_relu_grad(const float *x, const float *dy, float *dx, size_t n);
void lm_ref_sigmoid_grad(const float *y, const float *dy, float *dx, size_t n);
void lm_ref_tanh_grad(const float *y, const float *dy, float *dx, size_t n);
/* lm_k_act / lm_k_act_grad in double with libm (erf, expm1, log1p). */
void lm_ref_act(lm_actfn f, const lm_act_param *p, const float *x, float *y, size_t n);
void lm_ref_act_grad(lm_actfn f, const lm_act_param *p, const float *x, const float *dy, float *dx,
                     size_t n);
float lm_ref_sum(const float *x, size_t n); /* accumulated in double */
float lm_ref_max(const float *x, size_t n);
void lm_ref_softmax(const float *x, float *y, size_t rows, size_t cols);
void lm_ref_softmax_grad(const float *y, const float *dy, float *dx, size_t rows, size_t cols);

void lm_ref_lstm_cell(float *gates, const float *c_prev, float *c_now, float *h_now, size_t u);
void lm_ref_lstm_cell_grad(const float *gates, const float *c_prev, const float *c_now,
                           const float *dh, float *dc, float *dz, size_t u);

/* The GRU step kernels one sample at a time (lm_k_gru_* in simd.h). */
void lm_ref_gru_gates(size_t batch, size_t u, bool reset_after, float *a, size_t lda, const float *rec,
                      size_t ldrec, const float *hp, size_t ldhp, float *rh, size_t ldrh);
void lm_ref_gru_update(size_t batch, size_t u, float *a, size_t lda, const float *hp, size_t ldhp, float *h_now,
                       size_t ldhn);
void lm_ref_gru_update_grad(size_t batch, size_t u, const float *a, size_t lda, const float *hp, size_t ldhp,
                            const float *dh, float *dz, size_t lddz, float *dh_prev);
void lm_ref_gru_reset_after_grad(size_t batch, size_t u, const float *a, size_t lda, const float *rh,
                                 size_t ldrh, float *dz, size_t lddz, float *drec, size_t lddrec);
void lm_ref_gru_reset_grad(size_t batch, size_t u, const float *a, size_t lda, const float *hp, size_t ldhp,
                           const float *drh, const float *drop, size_t lddrop, float *dz, size_t lddz,
                           float *dh_prev);

/* dst[idx[i], :] += src[i, :], i in order. */
void lm_ref_scatter_add_rows(const float *src, const int32_t *idx, size_t n, float *dst,
                             size_t dim);

void lm_ref_max_update(const float *x, float *best, int32_t *where, int32_t base, size_t n);

/* Batch normalisation's kernels (simd.h), in double, without blocks or threads. */
void lm_ref_bn_col_sums(const float *x, const float *center, size_t rows, size_t c, double *tot);
void lm_ref_bn_grad_sums(const float *dy, const float *x, const float *y, size_t rows, size_t c,
                         double *sum_dy, double *sum_dyx);
void lm_ref_bn_apply(const float *x, const float *scale, const float *shift, float *y, size_t rows,
                     size_t c, bool relu);
void lm_ref_bn_grad_input(const float *dy, const float *x, const float *y, const float *p, const float *q,
                          const float *u, float *gx, size_t rows, size_t c);

/* C (m x n) (+)= op(A) (m x k) . op(B) (k x n), row-major, lda/ldb/ldc in elements; op(A)
 * is A, or the transpose of A stored k x m, when trans_a. Triple loop in double. */
void lm_ref_matmul(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, const float *a,
                   size_t lda, const float *b, size_t ldb, float *c, size_t ldc, bool accumulate);

#ifdef __cplusplus
}
#endif
#endif
