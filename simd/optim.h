/* optim.h - optimiser updates as fused kernels over flat parameter buffers (internal).
 * Keras' formulas (TF 2 optimizer_v2, dense updates), one pass over w, g and the slots.
 * Each has a plain-C twin lm_ref_* for the tests. */
#ifndef LOOM_SIMD_OPTIM_H
#define LOOM_SIMD_OPTIM_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* SGD: without momentum w -= lr g; with it v = momentum v - lr g, then w += v, or with
 * nesterov w += momentum v - lr g. v may be NULL when momentum is 0. */
void lm_k_sgd(float *w, const float *g, float *v, size_t n, float lr, float momentum, bool nesterov);
/* RMSprop (momentum 0, not centered): ms = rho ms + (1 - rho) g^2;
 * w -= lr g / (sqrt(ms) + eps). */
void lm_k_rmsprop(float *w, const float *g, float *ms, size_t n, float lr, float rho, float eps);
/* Adam at step t (1, 2, ...): m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
 * w -= lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + eps). */
void lm_k_adam(float *w, const float *g, float *m, float *v, size_t n, float lr, float b1,
               float b2, float eps, long t);

void lm_ref_sgd(float *w, const float *g, float *v, size_t n, float lr, float momentum, bool nesterov);
void lm_ref_rmsprop(float *w, const float *g, float *ms, size_t n, float lr, float rho, float eps);
void lm_ref_adam(float *w, const float *g, float *m, float *v, size_t n, float lr, float b1,
                 float b2, float eps, long t);

#ifdef __cplusplus
}
#endif
#endif
