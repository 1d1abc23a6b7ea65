/* sum.c - sum and mean over all elements, to a scalar: forward and backward. */
#include "ops/ops.h"
#include "simd/simd.h"

/* Both ops: y = scale * sum(x), so dx += scale * dy. */
static int sum_backward(loom_ctx *cx, const lm_rec *r) {
  loom_tensor *x = r->in[0];
  float *gx = lm_grad(cx, x);
  if (!gx) return cx->status;
  const float scale = r->saved ? 1.0f / (float)x->size : 1.0f;
  lm_k_add_scalar(scale * ((const float *)r->out->grad)[0], gx, gx, (size_t)x->size);
  return LOOM_OK;
}

static loom_tensor *reduce(loom_ctx *cx, const char *op, loom_tensor *x, bool mean) {
  if (!lm_inputs_ok(cx, op, 1, &x)) return NULL;
  loom_tensor *y = lm_out(cx, op, 0, NULL);
  if (!y) return NULL;
  const float s = lm_k_sum(x->data, (size_t)x->size);
  ((float *)y->data)[0] = mean ? s / (float)x->size : s;
  /* saved is a flag: non-NULL means mean */
  return lm_record(cx, op, sum_backward, y, 1, &x, mean ? op : NULL);
}

loom_tensor *loom_sum(loom_ctx *cx, loom_tensor *x) { return reduce(cx, "loom_sum", x, false); }
loom_tensor *loom_mean(loom_ctx *cx, loom_tensor *x) { return reduce(cx, "loom_mean", x, true); }
