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
                          lm_pointwise_loss term, const float *w) {
  if (!lm_loss_shapes(cx, op, y_true, y_pred)) return NULL;
  const size_t n = (size_t)y_pred->size, inner = (size_t)y_pred->shape[y_pred->rank - 1];
  float *grad = lm_scratch_f32(cx, op, (int64_t)n, 1);
  if (!grad) return NULL;
  const float *t = y_true->data, *p = y_pred->data;
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double wr = w ? w[i / inner] : 1.0;
    sum += wr * term(t[i], p[i], &grad[i]);
    if (w) grad[i] = (float)(grad[i] * wr);
  }
  /* every sample has the same number of terms: the mean of the per-sample means is the
   * mean of all terms */
  const double inv = n ? 1.0 / (double)n : 0.0;
  lm_k_scale((float)inv, grad, grad, n);
  return lm_loss_out(cx, op, y_true, y_pred, sum * inv, grad);
}

bool lm_class_ids_ok(loom_ctx *cx, const char *op, loom_tensor *y_true, loom_tensor *y_pred) {
  loom_tensor *in[2] = {y_true, y_pred};
  static const loom_dtype types[2] = {LOOM_I32, LOOM_F32};
  if (!lm_inputs_typed(cx, op, 2, in, types)) return false;
  /* ids: y_pred's shape without the class axis (Keras also takes a trailing 1) */
  bool fits = y_pred->rank >= 1 && y_true->size * y_pred->shape[y_pred->rank - 1] == y_pred->size;
  for (int i = 0; fits && i < y_pred->rank - 1; ++i)
    fits = i < y_true->rank && y_true->shape[i] == y_pred->shape[i];
  if (!fits) {
    char st[96], sp[96];
    lm_fail(cx, LOOM_ESHAPE, op, "class ids %s do not fit y_pred %s (expected y_pred's shape "
            "without its last axis)", lm_shape_str(y_true, st, sizeof st),
            lm_shape_str(y_pred, sp, sizeof sp));
    return false;
  }
  const int64_t classes = y_pred->shape[y_pred->rank - 1];
  const int32_t *ids = y_true->data;
  for (int64_t i = 0; i < y_true->size; ++i)
    if (ids[i] < 0 || ids[i] >= classes) {
      lm_fail(cx, LOOM_EINVAL, op, "class id %d at [%lld] is outside [0, %lld)", ids[i],
              (long long)i, (long long)classes);
      return false;
    }
  return true;
}
