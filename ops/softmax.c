/* softmax.c - softmax along the last axis: forward and backward. */
#include "ops/ops.h"
#include "simd/simd.h"

static void rows_cols(const loom_tensor *t, size_t *rows, size_t *cols) {
  *cols = (size_t)t->shape[t->rank - 1];
  *rows = *cols ? (size_t)t->size / *cols : 0;
}

static int softmax_backward(loom_ctx *cx, const lm_rec *r) {
  float *gx = lm_grad(cx, r->in[0]);
  if (!gx) return cx->status;
  size_t rows, cols;
  rows_cols(r->out, &rows, &cols);
  lm_k_softmax_grad(r->out->data, r->out->grad, gx, rows, cols);
  return LOOM_OK;
}

loom_tensor *loom_softmax(loom_ctx *cx, loom_tensor *x) {
  static const char op[] = "loom_softmax";
  if (!lm_inputs_ok(cx, op, 1, &x)) return NULL;
  if (x->rank < 1) {
    lm_fail(cx, LOOM_ESHAPE, op, "the input is a scalar; softmax needs at least one axis");
    return NULL;
  }
  loom_tensor *y = lm_out(cx, op, x->rank, x->shape);
  if (!y) return NULL;
  size_t rows, cols;
  rows_cols(x, &rows, &cols);
  lm_k_softmax(x->data, y->data, rows, cols);
  return lm_record(cx, op, softmax_backward, y, 1, &x, NULL);
}
