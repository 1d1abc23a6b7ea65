/* unary.c - forward and backward shared by the elementwise activations. */
#include "ops/unary.h"

static int unary_backward(loom_ctx *cx, const lm_rec *r) {
  const lm_unary_op *op = r->saved;
  loom_tensor *x = r->in[0];
  float *gx = lm_grad(cx, x);
  if (!gx) return cx->status;
  const loom_tensor *src = op->grad_from_output ? r->out : x;
  op->grad(src->data, r->out->grad, gx, (size_t)x->size);
  return LOOM_OK;
}

loom_tensor *lm_unary(loom_ctx *cx, const lm_unary_op *op, loom_tensor *x) {
  if (!lm_inputs_ok(cx, op->name, 1, &x)) return NULL;
  loom_tensor *y = lm_out(cx, op->name, x->rank, x->shape);
  if (!y) return NULL;
  op->forward(x->data, y->data, (size_t)x->size);
  return lm_record(cx, op->name, unary_backward, y, 1, &x, op);
}
