/* repeat.c - loom_repeat: each slice along an axis repeated, in place, a number of times
 * (numpy's repeat): Keras' UpSampling1D/2D with 'nearest' and, on a new axis,
 * RepeatVector. Backward sums the copies' gradients into their source. */
#include <string.h>

#include "ops/ops.h"
#include "simd/simd.h"

typedef struct {
  int64_t outer, n, inner, times;
} repeat_geom;

static int repeat_backward(loom_ctx *cx, const lm_rec *r) {
  float *gx = lm_grad(cx, r->in[0]);
  if (!gx) return cx->status;
  const repeat_geom *g = r->saved;
  const float *gy = r->out->grad;
  for (int64_t o = 0; o < g->outer; ++o)
    for (int64_t i = 0; i < g->n; ++i) {
      float *dst = gx + (o * g->n + i) * g->inner;
      for (int64_t t = 0; t < g->times; ++t)
        lm_k_add(dst, gy + ((o * g->n + i) * g->times + t) * g->inner, dst, (size_t)g->inner);
    }
  return LOOM_OK;
}

loom_tensor *loom_repeat(loom_ctx *cx, loom_tensor *x, int axis, int times) {
  static const char op[] = "loom_repeat";
  if (!lm_inputs_ok(cx, op, 1, &x)) return NULL;
  if (axis < 0 || axis >= x->rank || times < 1) {
    char s[96];
    lm_fail(cx, LOOM_EINVAL, op, "axis %d of %s repeated %d times: the axis must be one of x's "
            "and times >= 1", axis, lm_shape_str(x, s, sizeof s), times);
    return NULL;
  }
  repeat_geom *g = lm_scratch(cx, op, sizeof *g);
  if (!g) return NULL;
  *g = (repeat_geom){1, x->shape[axis], 1, times};
  for (int a = 0; a < axis; ++a) g->outer *= x->shape[a];
  for (int a = axis + 1; a < x->rank; ++a) g->inner *= x->shape[a];
  int64_t shape[LOOM_MAX_RANK];
  memcpy(shape, x->shape, sizeof shape);
  shape[axis] *= times;
  loom_tensor *y = lm_out(cx, op, x->rank, shape);
  if (!y) return NULL;
  const float *xd = x->data;
  float *yd = y->data;
  const size_t bytes = (size_t)g->inner * sizeof(float);
  for (int64_t o = 0; o < g->outer; ++o)
    for (int64_t i = 0; i < g->n; ++i)
      for (int64_t t = 0; t < times; ++t)
        memcpy(yd + ((o * g->n + i) * times + t) * g->inner, xd + (o * g->n + i) * g->inner, bytes);
  return lm_record(cx, op, repeat_backward, y, 1, &x, g);
}
