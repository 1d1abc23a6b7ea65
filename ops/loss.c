/* loss.c - the machinery every loss shares. A loss computes its value and its gradient
 * with respect to y_pred in one pass (cheap next to the network, and it spares keeping
 * anything else); backward scales that gradient by the incoming one. Sums run in
 * double, in order: the same result for any thread count. */
#include <string.h>

#include "ops/loss.h"
#include "simd/simd.h"

static int loss_backward(loom_ctx *cx, const lm_rec *r) {
  loom_tensor *pred = r->in[1];
  float *g = lm_grad(cx, pred);
  if (!g) return cx->status; /* LOOM_OK when y_pred takes no gradient */
  lm_k_axpy(((const float *)r->out->grad)[0], r->saved, g, (size_t)pred->size);
  return LOOM_OK;
}

bool lm_loss_shapes(loom_ctx *cx, const char *op, loom_tensor *y_true, loom_tensor *y_pred) {
  loom_tensor *in[2] = {y_true, y_pred};
  if (!lm_inputs_ok(cx, op, 2, in)) return false;
  if (y_pred->rank < 1 || !lm_same_shape(y_true, y_pred)) {
    char st[96], sp[96];
    lm_fail(cx, LOOM_ESHAPE, op, "y_true %s and y_pred %s differ (expected one shape, rank >= 1)",
            lm_shape_str(y_true, st, sizeof st), lm_shape_str(y_pred, sp, sizeof sp));
    return false;
  }
  return true;
}

loom_tensor *lm_loss_out(loom_ctx *cx, const char *op, loom_tensor *y_true, loom_tensor *y_pred,
                         double value, float *grad) {
  loom_tensor *out = lm_out(cx, op, 0, NULL);
  if (!out) return NULL;
  ((float *)out->data)[0] = (float)value;
  loom_tensor *in[2] = {y_true, y_pred}; /* backward feeds y_pred only */
  return lm_record(cx, op, loss_backward, out, 2, in, grad);
}

loom_tensor *lm_pointwise(loom_ctx *cx, const char *op, loom_tensor *y_true, loom_tensor *y_pred,
                          lm_pointwise_loss term) {
  if (!lm_loss_shapes(cx, op, y_true, y_pred)) return NULL;
  const size_t n = (size_t)y_pred->size;
  float *grad = loom_arena_alloc(cx->arena, n * sizeof(float) + 1);
  if (!grad) {
    lm_fail(cx, LOOM_ENOMEM, op, "%s", loom_arena_error(cx->arena));
    return NULL;
  }
  const float *t = y_true->data, *p = y_pred->data;
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) sum += term(t[i], p[i], &grad[i]);
  /* every sample has the same number of terms: the mean of the per-sample means is the
   * mean of all terms */
  const double inv = n ? 1.0 / (double)n : 0.0;
  lm_k_scale((float)inv, grad, grad, n);
  return lm_loss_out(cx, op, y_true, y_pred, sum * inv, grad);
}
