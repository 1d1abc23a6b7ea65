/* add_n.c - the sum of n tensors of one shape (Keras add): forward and backward. */
#include <string.h>

#include "ops/ops.h"
#include "simd/simd.h"

static const char op[] = "loom_add_n";

static int add_n_backward(loom_ctx *cx, const lm_rec *r) {
  for (int i = 0; i < r->n_in; ++i) {
    if (!r->in[i]->requires_grad) continue;
    float *g = lm_grad(cx, r->in[i]);
    if (!g) return cx->status;
    lm_k_axpy(1.0f, r->out->grad, g, (size_t)r->out->size);
  }
  return LOOM_OK;
}

loom_tensor *loom_add_n(loom_ctx *cx, int n, loom_tensor *const *xs) {
  if (!lm_merge_inputs_ok(cx, op, n, xs)) return NULL;
  loom_tensor *y = lm_out(cx, op, xs[0]->rank, xs[0]->shape);
  if (!y) return NULL;
  const size_t size = (size_t)y->size;
  memcpy(y->data, xs[0]->data, size * sizeof(float));
  for (int i = 1; i < n; ++i) lm_k_add(y->data, xs[i]->data, y->data, size);
  return lm_record(cx, op, add_n_backward, y, n, xs, NULL);
}
