/* concatenate.c - n tensors joined along one axis: forward and backward. Seen around
 * the axis, each input is [outer, inner_i] with inner_i = its dims from the axis on; the
 * output interleaves the inputs' inner blocks for every outer index. */
#include <string.h>

#include "ops/ops.h"
#include "simd/simd.h"

static const char op[] = "loom_concatenate";

/* Product of the dims from `axis` on. */
static size_t inner_of(const loom_tensor *t, int axis) {
  size_t v = 1;
  for (int d = axis; d < t->rank; ++d) v *= (size_t)t->shape[d];
  return v;
}

static int concat_backward(loom_ctx *cx, const lm_rec *r) {
  const int axis = *(const int *)r->saved;
  const size_t total = inner_of(r->out, axis);
  const size_t outer = total ? (size_t)r->out->size / total : 0;
  size_t offset = 0;
  for (int i = 0; i < r->n_in; ++i) {
    const size_t inner = inner_of(r->in[i], axis);
    if (r->in[i]->requires_grad) {
      float *g = lm_grad(cx, r->in[i]);
      if (!g) return cx->status;
      for (size_t o = 0; o < outer; ++o)
        lm_k_axpy(1.0f, r->out->grad + o * total + offset, g + o * inner, inner);
    }
    offset += inner;
  }
  return LOOM_OK;
}

loom_tensor *loom_concatenate(loom_ctx *cx, int n, loom_tensor *const *xs, int axis) {
  if (cx && (n < 1 || !xs)) {
    lm_fail(cx, LOOM_EINVAL, op, "needs at least one input (n = %d)", n);
    return NULL;
  }
  if (!lm_inputs_ok(cx, op, n, xs)) return NULL;
  const int rank = xs[0]->rank, ax = axis < 0 ? axis + rank : axis;
  if (ax < 0 || ax >= rank) {
    lm_fail(cx, LOOM_EINVAL, op, "axis %d is outside the %d dims of the inputs", axis, rank);
    return NULL;
  }
  int64_t shape[LOOM_MAX_RANK];
  memcpy(shape, xs[0]->shape, sizeof shape);
  for (int i = 1; i < n; ++i) {
    bool fits = xs[i]->rank == rank;
    for (int d = 0; fits && d < rank; ++d) fits = d == ax || xs[i]->shape[d] == shape[d];
    if (!fits) {
      char s0[96], si[96];
      lm_fail(cx, LOOM_ESHAPE, op, "input %d is %s and input 0 is %s: all dims but axis %d must match",
              i, lm_shape_str(xs[i], si, sizeof si), lm_shape_str(xs[0], s0, sizeof s0), axis);
      return NULL;
    }
    shape[ax] += xs[i]->shape[ax];
  }
  loom_tensor *y = lm_out(cx, op, rank, shape);
  int *saved = y ? lm_scratch(cx, op, sizeof *saved) : NULL;
  if (!saved) return NULL;
  *saved = ax;
  const size_t total = inner_of(y, ax), outer = total ? (size_t)y->size / total : 0;
  float *out = y->data;
  size_t offset = 0;
  for (int i = 0; i < n; ++i) {
    const size_t inner = inner_of(xs[i], ax);
    const float *src = xs[i]->data;
    for (size_t o = 0; o < outer; ++o)
      memcpy(out + o * total + offset, src + o * inner, inner * sizeof(float));
    offset += inner;
  }
  return lm_record(cx, op, concat_backward, y, n, xs, saved);
}
