/* crossentropy.c - Keras' categorical and sparse categorical cross-entropy: forward and
 * gradient. On probabilities each row is normalised to sum 1, clipped to [eps, 1 - eps]
 * (no gradient where the clip bites), and -sum t log p is averaged over the rows. On
 * logits (Keras' from_logits, and what Keras does itself when y_pred comes out of a
 * softmax) it is -sum t log softmax(z) through log-sum-exp, unclipped, with the stable
 * gradient softmax(z) sum(t) - t. The sparse forms take i32 class ids in place of
 * one-hot rows. */
#include <math.h>
#include <string.h>

#include "ops/loss.h"
#include "simd/simd.h"

/* One row of `classes` probabilities against weights t (or the one-hot `label` when t is
 * NULL): returns the loss and writes d loss / d pred, divided by `rows`. */
static double row_loss(const float *pred, size_t classes, const float *t, size_t label,
                       double rows, float *grad) {
  const double eps = LM_KERAS_EPSILON;
  double s = 0.0;
  for (size_t j = 0; j < classes; ++j) s += pred[j];
  double loss = 0.0, dot = 0.0;
  for (size_t j = 0; j < classes; ++j) { /* grad holds d loss / d q for now */
    const double q = pred[j] / s, tj = t ? t[j] : (j == label);
    const bool inside = !(q <= eps) && !(q >= 1.0 - eps); /* NaN: inside, so it reaches the loss */
    const double c = inside ? q : q <= eps ? eps : 1.0 - eps;
    if (tj != 0.0) loss -= tj * log(c);
    const double g = inside ? -tj / c : 0.0;
    grad[j] = (float)g;
    dot += g * q;
  }
  for (size_t j = 0; j < classes; ++j) grad[j] = (float)((grad[j] - dot) / s / rows);
  return loss;
}

/* The same on a row of logits z: the loss, and d loss / d z divided by `rows`. */
static double row_loss_logits(const float *z, size_t classes, const float *t, size_t label,
                              double rows, float *grad) {
  double m = -INFINITY;
  for (size_t j = 0; j < classes; ++j) m = z[j] > m ? z[j] : m;
  double se = 0.0, tsum = 0.0, loss = 0.0;
  for (size_t j = 0; j < classes; ++j) se += exp(z[j] - m);
  const double lse = m + log(se);
  for (size_t j = 0; j < classes; ++j) {
    const double tj = t ? t[j] : (j == label);
    tsum += tj;
    if (tj != 0.0) loss += tj * (lse - z[j]);
  }
  for (size_t j = 0; j < classes; ++j) {
    const double tj = t ? t[j] : (j == label);
    grad[j] = (float)((exp(z[j] - lse) * tsum - tj) / rows);
  }
  return loss;
}

typedef double (*row_loss_fn)(const float *, size_t, const float *, size_t, double, float *);

static loom_tensor *crossentropy(loom_ctx *cx, const char *op, loom_tensor *y_true, loom_tensor *y_pred,
                                 bool sparse, row_loss_fn row_loss, const float *w) {
  const size_t classes = y_pred->rank ? (size_t)y_pred->shape[y_pred->rank - 1] : 0;
  const size_t rows = classes ? (size_t)y_pred->size / classes : 0;
  float *grad = lm_scratch_f32(cx, op, y_pred->size, 1);
  if (!grad) return NULL;
  const float *p = y_pred->data;
  double sum = 0.0;
  for (size_t r = 0; r < rows; ++r) {
    const float *t = sparse ? NULL : (const float *)y_true->data + r * classes;
    const size_t label = sparse ? (size_t)((const int32_t *)y_true->data)[r] : 0;
    const double wr = w ? w[r] : 1.0;
    sum += wr * row_loss(p + r * classes, classes, t, label, (double)rows, grad + r * classes);
    if (w) lm_k_scale((float)wr, grad + r * classes, grad + r * classes, classes);
  }
  return lm_loss_out(cx, op, y_true, y_pred, rows ? sum / (double)rows : 0.0, grad);
}

loom_tensor *lm_loss_cce_w(loom_ctx *cx, loom_tensor *y_true, loom_tensor *y_pred, const float *w) {
  static const char op[] = "loom_loss_categorical_crossentropy";
  if (!lm_loss_shapes(cx, op, y_true, y_pred)) return NULL;
  return crossentropy(cx, op, y_true, y_pred, false, row_loss, w);
}
loom_tensor *lm_loss_scce_w(loom_ctx *cx, loom_tensor *y_true, loom_tensor *y_pred, const float *w) {
  static const char op[] = "loom_loss_sparse_categorical_crossentropy";
  if (!lm_class_ids_ok(cx, op, y_true, y_pred)) return NULL;
  return crossentropy(cx, op, y_true, y_pred, true, row_loss, w);
}
loom_tensor *lm_loss_cce_logits_w(loom_ctx *cx, loom_tensor *y_true, loom_tensor *logits, const float *w) {
  static const char op[] = "loom_loss_categorical_crossentropy_logits";
  if (!lm_loss_shapes(cx, op, y_true, logits)) return NULL;
  return crossentropy(cx, op, y_true, logits, false, row_loss_logits, w);
}
loom_tensor *lm_loss_scce_logits_w(loom_ctx *cx, loom_tensor *y_true, loom_tensor *logits, const float *w) {
  static const char op[] = "loom_loss_sparse_categorical_crossentropy_logits";
  if (!lm_class_ids_ok(cx, op, y_true, logits)) return NULL;
  return crossentropy(cx, op, y_true, logits, true, row_loss_logits, w);
}

loom_tensor *loom_loss_categorical_crossentropy(loom_ctx *cx, loom_tensor *y_true, loom_tensor *y_pred) {
  return lm_loss_cce_w(cx, y_true, y_pred, NULL);
}
loom_tensor *loom_loss_sparse_categorical_crossentropy(loom_ctx *cx, loom_tensor *y_true, loom_tensor *y_pred) {
  return lm_loss_scce_w(cx, y_true, y_pred, NULL);
}
loom_tensor *loom_loss_categorical_crossentropy_logits(loom_ctx *cx, loom_tensor *y_true, loom_tensor *logits) {
  return lm_loss_cce_logits_w(cx, y_true, logits, NULL);
}
loom_tensor *loom_loss_sparse_categorical_crossentropy_logits(loom_ctx *cx, loom_tensor *y_true,
                                                              loom_tensor *logits) {
  return lm_loss_scce_logits_w(cx, y_true, logits, NULL);
}
