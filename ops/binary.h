/* binary.h - elementwise binary ops with suffix broadcasting (internal).
 * Shapes are equal, or one is a suffix of the other (a bias [n] against [m, n]); the
 * smaller operand is repeated over the leading dims of the larger. */
#ifndef LOOM_OPS_BINARY_H
#define LOOM_OPS_BINARY_H

#include "ops/ops.h"

typedef void (*lm_binary_kernel)(const float *a, const float *b, float *y, size_t n);

loom_tensor *lm_binary(loom_ctx *cx, const char *op, loom_tensor *a, loom_tensor *b,
                       lm_binary_kernel kernel, lm_backward_fn backward);

/* For the gradient of operand x of a record (the other operand is `partner`):
 * gx += scale * dy (partner NULL), or gx += dy * partner, each summed over the
 * repetitions when x was broadcast. */
int lm_binary_grad(loom_ctx *cx, const lm_rec *r, loom_tensor *x, float scale,
                   const loom_tensor *partner);

#endif
