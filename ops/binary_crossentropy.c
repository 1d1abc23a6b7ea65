/* binary_crossentropy.c - Keras' binary cross-entropy on probabilities: forward and
 * gradient. Keras clips p to [eps, 1 - eps] and then takes log(p + eps) and
 * log(1 - p + eps); the clip passes no gradient where it bites. */
#include <math.h>

#include "ops/loss.h"

static double bce_term(float t, float p, float *grad) {
  const double eps = LM_KERAS_EPSILON;
  const bool inside = p > eps && p < 1.0 - eps;
  const double c = inside ? p : p <= eps ? eps : 1.0 - eps;
  *grad = inside ? (float)(-(t / (c + eps)) + (1.0 - t) / (1.0 - c + eps)) : 0.0f;
  return -(t * log(c + eps) + (1.0 - t) * log(1.0 - c + eps));
}

loom_tensor *loom_loss_binary_crossentropy(loom_ctx *cx, loom_tensor *y_true, loom_tensor *y_pred) {
  return lm_pointwise(cx, "loom_loss_binary_crossentropy", y_true, y_pred, bce_term);
}
