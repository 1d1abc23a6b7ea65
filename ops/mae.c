/* mae.c - mean absolute error: forward and gradient (0 where p == t). */
#include <math.h>

#include "ops/loss.h"

static double mae_term(float t, float p, float *grad) {
  const double d = (double)p - t;
  *grad = d > 0 ? 1.0f : d < 0 ? -1.0f : 0.0f;
  return fabs(d);
}

loom_tensor *lm_loss_mae_w(loom_ctx *cx, loom_tensor *y_true, loom_tensor *y_pred, const float *w) {
  return lm_pointwise(cx, "loom_loss_mae", y_true, y_pred, mae_term, w);
}
loom_tensor *loom_loss_mae(loom_ctx *cx, loom_tensor *y_true, loom_tensor *y_pred) {
  return lm_loss_mae_w(cx, y_true, y_pred, NULL);
}
