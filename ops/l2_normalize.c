/* l2_normalize.c - Keras' l2_normalize along one axis: y = x / sqrt(max(sum x^2, 1e-12)),
 * forward and backward (Dot's normalize). Sums in double, in order. */
#include <math.h>

#include "ops/ops.h"

static const char op[] = "loom_l2_normalize";
#define EPS 1e-12

typedef struct {
  int64_t outer, len, inner; /* x as [outer, len, inner], normalised along len */
  float *scale;              /* [outer, inner]: 1 / sqrt(max(sum, eps)) */
  bool *clipped;             /* [outer, inner]: the sum fell below eps (the scale is a constant) */
} l2_saved;

static int l2_backward(loom_ctx *cx, const lm_rec *r) {
  const l2_saved *s = r->saved;
  float *gx = lm_grad(cx, r->in[0]);
  if (!gx) return cx->status;
  const float *dy = r->out->grad, *y = r->out->data;
  for (int64_t o = 0; o < s->outer; ++o)
    for (int64_t i = 0; i < s->inner; ++i) {
      const int64_t base = o * s->len * s->inner + i, at = o * s->inner + i;
      double dot = 0.0;
      if (!s->clipped[at])
        for (int64_t j = 0; j < s->len; ++j) dot += (double)dy[base + j * s->inner] * y[base + j * s->inner];
      for (int64_t j = 0; j < s->len; ++j) {
        const int64_t k = base + j * s->inner;
        gx[k] += (float)(s->scale[at] * (dy[k] - dot * y[k]));
      }
    }
  return LOOM_OK;
}

loom_tensor *loom_l2_normalize(loom_ctx *cx, loom_tensor *x, int axis) {
  if (!lm_inputs_ok(cx, op, 1, &x)) return NULL;
  const int a = axis < 0 ? x->rank + axis : axis;
  if (a < 0 || a >= x->rank) {
    char s[96];
    lm_fail(cx, LOOM_EINVAL, op, "axis %d is outside %s", axis, lm_shape_str(x, s, sizeof s));
    return NULL;
  }
  l2_saved *s = lm_scratch(cx, op, sizeof *s);
  if (!s) return NULL;
  *s = (l2_saved){1, x->shape[a], 1, NULL, NULL};
  for (int d = 0; d < a; ++d) s->outer *= x->shape[d];
  for (int d = a + 1; d < x->rank; ++d) s->inner *= x->shape[d];
  const int64_t n = s->outer * s->inner;
  s->scale = lm_scratch_f32(cx, op, n ? n : 1, 1);
  s->clipped = s->scale ? lm_scratch(cx, op, (size_t)(n ? n : 1) * sizeof(bool)) : NULL;
  loom_tensor *y = s->clipped ? lm_out(cx, op, x->rank, x->shape) : NULL;
  if (!y) return NULL;
  const float *px = x->data;
  float *py = y->data;
  for (int64_t o = 0; o < s->outer; ++o)
    for (int64_t i = 0; i < s->inner; ++i) {
      const int64_t base = o * s->len * s->inner + i, at = o * s->inner + i;
      double sum = 0.0;
      for (int64_t j = 0; j < s->len; ++j) sum += (double)px[base + j * s->inner] * px[base + j * s->inner];
      s->clipped[at] = sum < EPS;
      s->scale[at] = (float)(1.0 / sqrt(sum < EPS ? EPS : sum));
      for (int64_t j = 0; j < s->len; ++j) py[base + j * s->inner] = px[base + j * s->inner] * s->scale[at];
    }
  return lm_record(cx, op, l2_backward, y, 1, &x, s);
}
