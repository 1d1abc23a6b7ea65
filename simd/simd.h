/* simd.h - the kernels, in C: raw pointers and lengths, never tensors (internal).
 *
 * Each lm_k_* function dispatches at run time to the best Highway target (or the one
 * forced by LOOM_SIMD / loom_simd_force) and threads with OpenMP when the work is big
 * enough. Each has a plain-C twin lm_ref_* in ref.h that the tests compare it against.
 * Outputs may alias inputs exactly (y == x), never partially. Reductions are split in
 * blocks whose size depends on n only, and the blocks are combined in order, so the
 * result is bitwise the same for any thread count.
 */
#ifndef LOOM_SIMD_H
#define LOOM_SIMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* y = a op b */
void lm_k_add(const float *a, const float *b, float *y, size_t n);
void lm_k_sub(const float *a, const float *b, float *y, size_t n);
void lm_k_mul(const float *a, const float *b, float *y, size_t n);
/* y += alpha * x */
void lm_k_axpy(float alpha, const float *x, float *y, size_t n);
/* y += a * b */
void lm_k_mul_acc(const float *a, const float *b, float *y, size_t n);
/* y = alpha * x */
void lm_k_scale(float alpha, const float *x, float *y, size_t n);
/* y = x + c */
void lm_k_add_scalar(float c, const float *x, float *y, size_t n);
/* y = v */
void lm_k_fill(float v, float *y, size_t n);

/* y = init + sum of xs[t] * ks[t] over `taps` vectors of n (init NULL: 0; init may be
 * y). Summed in order, fused multiply-adds: the depthwise convolution's pixels. */
void lm_k_taps(const float *const *xs, const float *const *ks, size_t taps, const float *init, float *y,
               size_t n);

/* y = f(x) */
void lm_k_relu(const float *x, float *y, size_t n);
void lm_k_sigmoid(const float *x, float *y, size_t n);
void lm_k_tanh(const float *x, float *y, size_t n);
void lm_k_exp(const float *x, float *y, size_t n);
void lm_k_log(const float *x, float *y, size_t n); /* x > 0 */

/* dx += dy * f'(.) of the activations, from the input x (relu) or the output y */
void lm_k_relu_grad(const float *x, const float *dy, float *dx, size_t n);
void lm_k_sigmoid_grad(const float *y, const float *dy, float *dx, size_t n);
void lm_k_tanh_grad(const float *y, const float *dy, float *dx, size_t n);

/* Reductions over n elements: sum(0 elements) = 0, max(0 elements) = -inf. */
float lm_k_sum(const float *x, size_t n);
float lm_k_max(const float *x, size_t n);

/* Max pooling's step over n channels: where x[i] > best[i] (strictly: the first of equal
 * maxima stays), best[i] = x[i] and where[i] = base + i. */
void lm_k_max_update(const float *x, float *best, int32_t *where, int32_t base, size_t n);

/* The activation functions beyond relu/sigmoid/tanh (simd/activation.cc), one kernel
 * pair chosen by `f`, with the parameters p->a, p->b, p->c as each line says:
 * y[i] = f(x[i]); dx[i] += dy[i] * f'(x[i]) (computed from x). */
typedef enum lm_actfn {
  LM_F_LINEAR,       /* x */
  LM_F_RELU,         /* x > b ? min(x, c) : a (x - b): slope a, threshold b, max c (INFINITY) */
  LM_F_ELU,          /* b (x > 0 ? x : a (e^x - 1)): alpha a, scale b (selu) */
  LM_F_GELU,         /* x Phi(x), Phi the normal CDF (erf) */
  LM_F_GELU_TANH,    /* x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2 */
  LM_F_SWISH,        /* x sigmoid(x) (silu) */
  LM_F_SOFTPLUS,     /* log(1 + e^x), stable */
  LM_F_SOFTSIGN,     /* x / (1 + |x|) */
  LM_F_HARD_SIGMOID, /* clip(a x + b, 0, 1) */
  LM_F_EXP,          /* e^x */
  LM_F_SIGMOID,      /* 1 / (1 + e^-x) */
  LM_F_TANH,         /* tanh x */
  LM_F_COUNT
} lm_actfn;
typedef struct lm_act_param {
  float a, b, c;
} lm_act_param;
void lm_k_act(lm_actfn f, const lm_act_param *p, const float *x, float *y, size_t n);
void lm_k_act_grad(lm_actfn f, const lm_act_param *p, const float *x, const float *dy, float *dx,
                   size_t n);

/* Softmax of each of `rows` rows of `cols` elements; and dx += y * (dy - <dy, y>). */
void lm_k_softmax(const float *x, float *y, size_t rows, size_t cols);
void lm_k_softmax_grad(const float *y, const float *dy, float *dx, size_t rows, size_t cols);

/* One LSTM step for one sample, Keras' gates (u units each, in the order i, f, c, o):
 * gates holds the pre-activations z and receives the activations; c_now = f c_prev + i g;
 * h_now = o tanh(c_now). */
void lm_k_lstm_cell(float *gates, const float *c_prev, float *c_now, float *h_now, size_t u);
/* Its gradient: dh (all of d loss / d h_now) and dc (d loss / d c_now from the next step,
 * replaced by d loss / d c_prev) give dz, d loss / d pre-activations (4u). */
void lm_k_lstm_cell_grad(const float *gates, const float *c_prev, const float *c_now,
                         const float *dh, float *dc, float *dz, size_t u);

/* One GRU step over a batch, Keras' gates (u units each, in the order z, r, hh) with
 * sigmoid gates and a tanh candidate. Row b of each array is its pointer + b * its ld
 * (floats); dh, dh_prev and drh are [batch, u] rows. a holds the input parts (x W + b)
 * of the three pre-activations and receives z, r and hh.
 * gates: z = sigmoid(a_z + rec_z), r likewise; reset_after: rh = rec_h (h U_h + b'_h)
 * and a_h += r rh; otherwise rh = r hp (hp: h_{t-1} as U_h reads it, NULL with
 * reset_after). update (after a_h is complete): hh = tanh(a_h), h_now = hh + z (hp - hh). */
void lm_k_gru_gates(size_t batch, size_t u, bool reset_after, float *a, size_t lda, const float *rec, size_t ldrec,
                    const float *hp, size_t ldhp, float *rh, size_t ldrh);
void lm_k_gru_update(size_t batch, size_t u, float *a, size_t lda, const float *hp, size_t ldhp, float *h_now,
                     size_t ldhn);
/* reset_after's whole step in one pass: gates then update, as the two calls above. */
void lm_k_gru_step(size_t batch, size_t u, float *a, size_t lda, const float *rec, size_t ldrec, const float *hp,
                   size_t ldhp, float *rh, size_t ldrh, float *h_now, size_t ldhn);
/* The update's gradient from dh (all of d loss / d h_now): dz_z and dz_hh (d loss / d
 * pre-activations; dz_r untouched) and dh_prev = dh z. */
void lm_k_gru_update_grad(size_t batch, size_t u, const float *a, size_t lda, const float *hp, size_t ldhp,
                          const float *dh, float *dz, size_t lddz, float *dh_prev);
/* reset_after: dz_r = dz_hh rh r (1 - r); drec = (dz_z, dz_r, dz_hh r). */
void lm_k_gru_reset_after_grad(size_t batch, size_t u, const float *a, size_t lda, const float *rh, size_t ldrh,
                               float *dz, size_t lddz, float *drec, size_t lddrec);
/* reset_after=False, drh = d loss / d (r hp): dz_r = drh hp r (1 - r); dh_prev += drh r
 * drop (drop: the candidate's recurrent dropout rows, or NULL). */
void lm_k_gru_reset_grad(size_t batch, size_t u, const float *a, size_t lda, const float *hp, size_t ldhp,
                         const float *drh, const float *drop, size_t lddrop, float *dz, size_t lddz, float *dh_prev);

/* dst[idx[i], :] += src[i, :] for i = 0..n-1 in order, rows of `dim` floats; the indices
 * are trusted (checked by the caller). Threads split the columns, so repeated indices
 * accumulate bitwise the same for any thread count. */
void lm_k_scatter_add_rows(const float *src, const int32_t *idx, size_t n, float *dst, size_t dim);

/* Batch normalisation over the last axis of [rows, c] arrays (simd/batch_norm.cc).
 * Sums run in float over blocks of LM_BN_ROWS rows and go into the double totals in
 * block order, the same for any thread count; `parts` is scratch of lm_k_bn_parts(rows,
 * c) floats (twice that for the gradient sums).
 * col_sums: tot[j] += sum of x[i][j] (center NULL) or of (x[i][j] - center[j])^2.
 * grad_sums: sum_dy[j] += sum of g, sum_dyx[j] += sum of g x, with g = dy, or dy where
 * y > 0 and 0 elsewhere when y (the ReLU's output) is given.
 * apply: y = scale x + shift per channel, then max(0, .) when relu.
 * grad_input: gx (+)= p g + q x + u per channel (q, u NULL: p g), g as above; gx is
 * written without being read unless accumulate. */
#define LM_BN_ROWS 64
size_t lm_k_bn_parts(size_t rows, size_t c);
void lm_k_bn_col_sums(const float *x, const float *center, size_t rows, size_t c, float *parts, double *tot);
void lm_k_bn_grad_sums(const float *dy, const float *x, const float *y, size_t rows, size_t c, float *parts,
                       double *sum_dy, double *sum_dyx);
void lm_k_bn_apply(const float *x, const float *scale, const float *shift, float *y, size_t rows, size_t c,
                   bool relu);
void lm_k_bn_grad_input(const float *dy, const float *x, const float *y, const float *p, const float *q,
                        const float *u, bool accumulate, float *gx, size_t rows, size_t c);

/* 3x3 depthwise runs (simd/depthwise_rows.cc; depth multiplier 1, every tap inside the
 * input): x points at tap (0, 0) of the first of n output pixels, tap (r, q) at
 * r * row + q * col floats from it (negative steps walk backwards: the input gradient
 * reads dy so), and the next pixel's at px floats; k is 9 vectors of c, tap-major.
 * run: y[p] = (y[p] when accumulate, else bias or 0) + the taps, in tap order;
 * filter_run: dk[t] += sum over p of x at tap t times dy[p]. Not threaded. */
void lm_k_dw3x3_run(const float *x, ptrdiff_t row, ptrdiff_t col, size_t px, const float *k, const float *bias,
                    bool accumulate, float *y, size_t n, size_t c);
void lm_k_dw3x3_filter_run(const float *x, ptrdiff_t row, ptrdiff_t col, size_t px, const float *dy, float *dk,
                           size_t n, size_t c);

/* Threads the kernels may use for `work` elements: 1 below a size where threads pay
 * off, or inside a parallel region; loom_get_num_threads() otherwise. */
int lm_threads_for(size_t work);

#ifdef __cplusplus
}
#endif
#endif
