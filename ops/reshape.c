/* reshape.c - the same elements under another shape (Keras' Flatten): forward copies,
 * backward adds the gradient back unchanged. */
#include <string.h>

#include "ops/ops.h"
#include "simd/simd.h"

static int reshape_backward(loom_ctx *cx, const lm_rec *r) {
  float *gx = lm_grad(cx, r->in[0]);
  if (gx) lm_k_add(gx, r->out->grad, gx, (size_t)r->out->size);
  return cx->status;
}

loom_tensor *loom_reshape(loom_ctx *cx, loom_tensor *x, int rank, const int64_t *shape) {
  static const char op[] = "loom_reshape";
  if (!lm_inputs_ok(cx, op, 1, &x)) return NULL;
  int64_t size = 1;
  for (int i = 0; i < rank && shape; ++i) size *= shape[i] >= 0 ? shape[i] : -1;
  if (rank < 0 || rank > LOOM_MAX_RANK || (rank && !shape) || size != x->size) {
    char sx[96];
    lm_fail(cx, LOOM_ESHAPE, op, "cannot give %s a shape of rank %d holding %lld elements",
            lm_shape_str(x, sx, sizeof sx), rank, (long long)size);
    return NULL;
  }
  loom_tensor *y = lm_out(cx, op, rank, shape);
  if (!y) return NULL;
  memcpy(y->data, x->data, (size_t)x->size * sizeof(float));
  return lm_record(cx, op, reshape_backward, y, 1, &x, NULL);
}
