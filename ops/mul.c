/* mul.c - a * b elementwise: forward and backward. */
#include "ops/binary.h"
#include "simd/simd.h"

static int mul_backward(loom_ctx *cx, const lm_rec *r) {
  for (int i = 0; i < 2; ++i)
    if (r->in[i]->requires_grad && lm_binary_grad(cx, r, r->in[i], 1.0f, r->in[1 - i]) != LOOM_OK)
      return cx->status;
  return LOOM_OK;
}

loom_tensor *loom_mul(loom_ctx *cx, loom_tensor *a, loom_tensor *b) {
  return lm_binary(cx, "loom_mul", a, b, lm_k_mul, mul_backward);
}
