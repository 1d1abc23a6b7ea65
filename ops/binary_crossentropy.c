/* binary_crossentropy.c - Keras' binary cross-entropy: forward and gradient. On
 * probabilities Keras clips p to [eps, 1 - eps] and then takes log(p + eps) and
 * log(1 - p + eps); the clip passes no gradient where it bites. On logits z (from_logits,
 * and Keras' own path when y_pred comes out of a sigmoid) it is TensorFlow's
 * sigmoid_cross_entropy_with_logits, max(z, 0) - z t + log(1 + exp(-|z|)), unclipped,
 * with gradient sigmoid(z) - t. */
#include <math.h>

#include "ops/loss.h"

static double bce_term(float t, float p, float *grad) {
  const double eps = LM_KERAS_EPSILON;
  const bool inside = !(p <= eps) && !(p >= 1.0 - eps); /* NaN: inside, so it reaches the loss */
  const double c = inside ? p : p <= eps ? eps : 1.0 - eps;
  *grad = inside ? (float)(-(t / (c + eps)) + (1.0 - t) / (1.0 - c + eps)) : 0.0f;
  return -(t * log(c + eps) + (1.0 - t) * log(1.0 - c + eps));
}

loom_tensor *lm_loss_bce_w(loom_ctx *cx, loom_tensor *y_true, loom_tensor *y_pred, const float *w) {
  return lm_pointwise(cx, "loom_loss_binary_crossentropy", y_true, y_pred, bce_term, w);
}
loom_tensor *loom_loss_binary_crossentropy(loom_ctx *cx, loom_tensor *y_true, loom_tensor *y_pred) {
  return lm_loss_bce_w(cx, y_true, y_pred, NULL);
}

static double bce_logits_term(float t, float z, float *grad) {
  const double e = exp(-fabs((double)z));
  const double sig = z >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
  *grad = (float)(sig - t);
  return (z > 0 ? z : 0.0) - (double)z * t + log1p(e);
}

loom_tensor *lm_loss_bce_logits_w(loom_ctx *cx, loom_tensor *y_true, loom_tensor *logits, const float *w) {
  return lm_pointwise(cx, "loom_loss_binary_crossentropy_logits", y_true, logits, bce_logits_term, w);
}
loom_tensor *loom_loss_binary_crossentropy_logits(loom_ctx *cx, loom_tensor *y_true, loom_tensor *logits) {
  return lm_loss_bce_logits_w(cx, y_true, logits, NULL);
}
