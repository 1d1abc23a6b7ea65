/* sub.c - a - b: forward and backward. */
#include "ops/binary.h"
#include "simd/simd.h"

static int sub_backward(loom_ctx *cx, const lm_rec *r) {
  for (int i = 0; i < 2; ++i)
    if (r->in[i]->requires_grad &&
        lm_binary_grad(cx, r, r->in[i], i == 0 ? 1.0f : -1.0f, NULL) != LOOM_OK)
      return cx->status;
  return LOOM_OK;
}

loom_tensor *loom_sub(loom_ctx *cx, loom_tensor *a, loom_tensor *b) {
  return lm_binary(cx, "loom_sub", a, b, lm_k_sub, sub_backward);
}
