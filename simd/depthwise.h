/* depthwise.h - depthwise 2-D convolution on channels-last data (internal): each input
 * channel convolved with its own dm filters (Keras' DepthwiseConv2D, the first half of
 * SeparableConv2D). Memory-bound, so not a GEMM: every output pixel is a sum of taps
 * of whole channel vectors. Plain-C twins lm_ref_depthwise_* are for the tests. */
#ifndef LOOM_SIMD_DEPTHWISE_H
#define LOOM_SIMD_DEPTHWISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Kernels have at most 64 taps (8x8); the op refuses larger ones. */
typedef struct lm_dw_geom {
  int64_t b, h, w, c, dm; /* input [b, h, w, c]; dm filters per channel */
  int64_t oh, ow;         /* output [b, oh, ow, c * dm] */
  int kh, kw, sh, sw, pad_top, pad_left;
} lm_dw_geom;

/* y = depthwise(x, k) (+ bias [c * dm] when not NULL); k is [kh, kw, c, dm]. */
void lm_k_depthwise(const lm_dw_geom *g, const float *x, const float *k, const float *bias, float *y);
/* dx (+)= the gradient through the convolution of dy (written, not read, unless
 * accumulate). */
void lm_k_depthwise_grad_input(const lm_dw_geom *g, const float *dy, const float *k, bool accumulate, float *dx);
/* dk += the gradient of the filters: sums over all positions, in an order fixed by the
 * shapes alone (the same for any thread count). scratch: lm_dw_scratch_floats(g). */
void lm_k_depthwise_grad_filter(const lm_dw_geom *g, const float *x, const float *dy, float *dk,
                                float *scratch);
size_t lm_dw_scratch_floats(const lm_dw_geom *g);

void lm_ref_depthwise(const lm_dw_geom *g, const float *x, const float *k, const float *bias, float *y);
void lm_ref_depthwise_grad_input(const lm_dw_geom *g, const float *dy, const float *k, float *dx);
void lm_ref_depthwise_grad_filter(const lm_dw_geom *g, const float *x, const float *dy, float *dk);

#ifdef __cplusplus
}
#endif
#endif
