/* transpose.c - loom_transpose: the axes of a tensor in another order (Keras' Permute).
 * Forward gathers, backward scatters the gradient back through the same index map. */
#include <string.h>

#include "ops/ops.h"

typedef struct {
  int rank;
  int64_t stride[LOOM_MAX_RANK]; /* x's stride of y's axis i */
} perm_map;

/* For each element of y in order, the offset of the x element it holds: y[j] = x[off]. */
#define FOR_PERM(m, y, BODY)                                                        \
  do {                                                                              \
    int64_t idx_[LOOM_MAX_RANK] = {0}, off = 0;                                     \
    for (int64_t j = 0; j < (y)->size; ++j) {                                       \
      BODY;                                                                         \
      for (int a_ = (m)->rank - 1; a_ >= 0; --a_) {                                 \
        off += (m)->stride[a_];                                                     \
        if (++idx_[a_] < (y)->shape[a_]) break;                                     \
        off -= (m)->stride[a_] * (y)->shape[a_];                                    \
        idx_[a_] = 0;                                                               \
      }                                                                             \
    }                                                                               \
  } while (0)

static int transpose_backward(loom_ctx *cx, const lm_rec *r) {
  float *gx = lm_grad(cx, r->in[0]);
  if (!gx) return cx->status;
  const perm_map *m = r->saved;
  const float *gy = r->out->grad;
  FOR_PERM(m, r->out, gx[off] += gy[j]);
  return LOOM_OK;
}

loom_tensor *loom_transpose(loom_ctx *cx, loom_tensor *x, const int *perm) {
  static const char op[] = "loom_transpose";
  if (!lm_inputs_ok(cx, op, 1, &x)) return NULL;
  bool seen[LOOM_MAX_RANK] = {false}, ok = perm != NULL;
  for (int i = 0; i < x->rank && ok; ++i) {
    ok = perm[i] >= 0 && perm[i] < x->rank && !seen[perm[i]];
    if (ok) seen[perm[i]] = true;
  }
  if (!ok) {
    char s[96];
    lm_fail(cx, LOOM_EINVAL, op, "perm must order the %d axes of %s, each once", x->rank,
            lm_shape_str(x, s, sizeof s));
    return NULL;
  }
  int64_t xs[LOOM_MAX_RANK], shape[LOOM_MAX_RANK];
  for (int a = x->rank - 1; a >= 0; --a) xs[a] = a == x->rank - 1 ? 1 : xs[a + 1] * x->shape[a + 1];
  perm_map *m = lm_scratch(cx, op, sizeof *m);
  if (!m) return NULL;
  m->rank = x->rank;
  for (int i = 0; i < x->rank; ++i) shape[i] = x->shape[perm[i]], m->stride[i] = xs[perm[i]];
  loom_tensor *y = lm_out(cx, op, x->rank, shape);
  if (!y) return NULL;
  float *yd = y->data;
  const float *xd = x->data;
  FOR_PERM(m, y, yd[j] = xd[off]);
  return lm_record(cx, op, transpose_backward, y, 1, &x, m);
}
