/* metrics.c - Keras' accuracies: values only, nothing recorded or differentiated. */
#include "ops/loss.h"

static size_t argmax(const float *v, size_t n) {
  size_t best = 0;
  for (size_t j = 1; j < n; ++j)
    if (v[j] > v[best]) best = j;
  return best;
}

static loom_tensor *scalar(loom_ctx *cx, const char *op, double v) {
  loom_tensor *out = lm_out(cx, op, 0, NULL);
  if (out) ((float *)out->data)[0] = (float)v;
  return out;
}

/* Keras' weighted mean of the rows' hits: sum(w hit) / sum(w) (w NULL: the hit rate) */
typedef struct {
  double hits, weight;
} tally;
static void count(tally *t, const float *w, size_t row, bool hit) {
  const double wr = w ? w[row] : 1.0;
  t->hits += hit ? wr : 0.0;
  t->weight += wr;
}
static double rate(const tally *t) { return t->weight != 0.0 ? t->hits / t->weight : 0.0; }

loom_tensor *lm_metric_categorical_accuracy_w(loom_ctx *cx, loom_tensor *y_true, loom_tensor *y_pred, const float *w) {
  static const char op[] = "loom_metric_categorical_accuracy";
  if (!lm_loss_shapes(cx, op, y_true, y_pred)) return NULL;
  const size_t classes = (size_t)y_pred->shape[y_pred->rank - 1];
  const size_t rows = classes ? (size_t)y_pred->size / classes : 0;
  tally t = {0};
  for (size_t r = 0; r < rows; ++r)
    count(&t, w, r, argmax((const float *)y_true->data + r * classes, classes) ==
                        argmax((const float *)y_pred->data + r * classes, classes));
  return scalar(cx, op, rate(&t));
}

loom_tensor *lm_metric_sparse_categorical_accuracy_w(loom_ctx *cx, loom_tensor *y_true, loom_tensor *y_pred,
                                                     const float *w) {
  static const char op[] = "loom_metric_sparse_categorical_accuracy";
  if (!lm_class_ids_ok(cx, op, y_true, y_pred)) return NULL;
  const size_t classes = (size_t)y_pred->shape[y_pred->rank - 1];
  const size_t rows = (size_t)y_true->size;
  tally t = {0};
  for (size_t r = 0; r < rows; ++r)
    count(&t, w, r, (int64_t)((const int32_t *)y_true->data)[r] ==
                        (int64_t)argmax((const float *)y_pred->data + r * classes, classes));
  return scalar(cx, op, rate(&t));
}

loom_tensor *lm_metric_binary_accuracy_w(loom_ctx *cx, loom_tensor *y_true, loom_tensor *y_pred, const float *w) {
  static const char op[] = "loom_metric_binary_accuracy";
  if (!lm_loss_shapes(cx, op, y_true, y_pred)) return NULL;
  const float *t = y_true->data, *p = y_pred->data;
  const size_t inner = (size_t)y_pred->shape[y_pred->rank - 1];
  tally n = {0};
  for (int64_t i = 0; i < y_pred->size; ++i) count(&n, w, (size_t)i / inner, (p[i] > 0.5f) == (t[i] > 0.5f));
  return scalar(cx, op, rate(&n));
}

loom_tensor *loom_metric_categorical_accuracy(loom_ctx *cx, loom_tensor *y_true, loom_tensor *y_pred) {
  return lm_metric_categorical_accuracy_w(cx, y_true, y_pred, NULL);
}
loom_tensor *loom_metric_sparse_categorical_accuracy(loom_ctx *cx, loom_tensor *y_true, loom_tensor *y_pred) {
  return lm_metric_sparse_categorical_accuracy_w(cx, y_true, y_pred, NULL);
}
loom_tensor *loom_metric_binary_accuracy(loom_ctx *cx, loom_tensor *y_true, loom_tensor *y_pred) {
  return lm_metric_binary_accuracy_w(cx, y_true, y_pred, NULL);
}
