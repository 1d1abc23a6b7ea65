/* embedding.c - rows of a table picked by i32 ids: forward (gather) and backward
 * (scatter-add into the table's gradient, id after id in order, threaded over the
 * embedding dimension, so rows that repeat accumulate the same way for any thread
 * count). */
#include <string.h>

#include "ops/ops.h"
#include "simd/simd.h"

static const char op[] = "loom_embedding";

static int embedding_backward(loom_ctx *cx, const lm_rec *r) {
  loom_tensor *ids = r->in[0], *table = r->in[1];
  float *g = lm_grad(cx, table);
  if (!g) return cx->status;
  const size_t dim = (size_t)table->shape[1];
  lm_k_scatter_add_rows(r->out->grad, ids->data, (size_t)ids->size, g, dim);
  return LOOM_OK;
}

loom_tensor *loom_embedding(loom_ctx *cx, loom_tensor *ids, loom_tensor *table) {
  loom_tensor *in[2] = {ids, table};
  static const loom_dtype types[2] = {LOOM_I32, LOOM_F32};
  if (!lm_inputs_typed(cx, op, 2, in, types)) return NULL;
  char st[96];
  if (table->rank != 2 || ids->rank >= LOOM_MAX_RANK) {
    lm_fail(cx, LOOM_ESHAPE, op, "table %s must be [vocab, dim] and ids of rank < %d",
            lm_shape_str(table, st, sizeof st), LOOM_MAX_RANK);
    return NULL;
  }
  const int64_t vocab = table->shape[0], dim = table->shape[1];
  const int32_t *id = ids->data;
  for (int64_t i = 0; i < ids->size; ++i)
    if (id[i] < 0 || id[i] >= vocab) {
      lm_fail(cx, LOOM_EINVAL, op, "id %d at [%lld] is outside the table's %lld rows", id[i],
              (long long)i, (long long)vocab);
      return NULL;
    }
  int64_t shape[LOOM_MAX_RANK];
  memcpy(shape, ids->shape, sizeof shape);
  shape[ids->rank] = dim;
  loom_tensor *y = lm_out(cx, op, ids->rank + 1, shape);
  if (!y) return NULL;
  const float *rows = table->data;
  float *out = y->data;
  for (int64_t i = 0; i < ids->size; ++i)
    memcpy(out + i * dim, rows + (int64_t)id[i] * dim, (size_t)dim * sizeof(float));
  return lm_record(cx, op, embedding_backward, y, 2, in, NULL);
}
