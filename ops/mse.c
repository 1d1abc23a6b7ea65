/* mse.c - mean squared error: forward and gradient. */
#include "ops/loss.h"

static double mse_term(float t, float p, float *grad) {
  const double d = (double)p - t;
  *grad = (float)(2.0 * d);
  return d * d;
}

loom_tensor *lm_loss_mse_w(loom_ctx *cx, loom_tensor *y_true, loom_tensor *y_pred, const float *w) {
  return lm_pointwise(cx, "loom_loss_mse", y_true, y_pred, mse_term, w);
}
loom_tensor *loom_loss_mse(loom_ctx *cx, loom_tensor *y_true, loom_tensor *y_pred) {
  return lm_loss_mse_w(cx, y_true, y_pred, NULL);
}
