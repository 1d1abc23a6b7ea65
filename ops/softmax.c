/* softmax.c - softmax along the last axis: forward and backward. */
#include <math.h>

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

/* Softmax along any axis: x seen as [outer, n, inner], each of the outer * inner lines
 * of n elements (inner apart) normalised; the last axis goes to the row kernel. */
typedef struct {
  int64_t outer, n, inner;
} axis_geom;

static axis_geom geom_of(const loom_tensor *x, int axis) {
  axis_geom g = {1, x->shape[axis], 1};
  for (int d = 0; d < axis; ++d) g.outer *= x->shape[d];
  for (int d = axis + 1; d < x->rank; ++d) g.inner *= x->shape[d];
  return g;
}

static int softmax_axis_backward(loom_ctx *cx, const lm_rec *r) {
  const axis_geom *g = r->saved;
  float *gx = lm_grad(cx, r->in[0]);
  if (!gx) return cx->status;
  const float *y = r->out->data, *dy = r->out->grad;
  for (int64_t o = 0; o < g->outer; ++o)
    for (int64_t i = 0; i < g->inner; ++i) {
      const int64_t base = o * g->n * g->inner + i;
      double dot = 0;
      for (int64_t k = 0; k < g->n; ++k) dot += (double)dy[base + k * g->inner] * y[base + k * g->inner];
      for (int64_t k = 0; k < g->n; ++k) {
        const int64_t at = base + k * g->inner;
        gx[at] += (float)(y[at] * (dy[at] - dot));
      }
    }
  return LOOM_OK;
}

loom_tensor *loom_softmax_axis(loom_ctx *cx, loom_tensor *x, int axis) {
  static const char op[] = "loom_softmax_axis";
  if (!lm_inputs_ok(cx, op, 1, &x)) return NULL;
  const int a = axis < 0 ? axis + x->rank : axis;
  if (a < 0 || a >= x->rank) {
    char s[96];
    lm_fail(cx, LOOM_ESHAPE, op, "axis %d is outside input %s", axis, lm_shape_str(x, s, sizeof s));
    return NULL;
  }
  if (a == x->rank - 1) return loom_softmax(cx, x);
  loom_tensor *y = lm_out(cx, op, x->rank, x->shape);
  axis_geom *g = y ? lm_scratch(cx, op, sizeof *g) : NULL;
  if (!g) return NULL;
  *g = geom_of(x, a);
  const float *xs = x->data;
  float *ys = y->data;
  for (int64_t o = 0; o < g->outer; ++o)
    for (int64_t i = 0; i < g->inner; ++i) {
      const int64_t base = o * g->n * g->inner + i;
      float m = -INFINITY;
      for (int64_t k = 0; k < g->n; ++k) m = fmaxf(m, xs[base + k * g->inner]);
      double sum = 0;
      for (int64_t k = 0; k < g->n; ++k) {
        const float e = expf(xs[base + k * g->inner] - m);
        ys[base + k * g->inner] = e;
        sum += e;
      }
      for (int64_t k = 0; k < g->n; ++k) ys[base + k * g->inner] = (float)(ys[base + k * g->inner] / sum);
    }
  return lm_record(cx, op, softmax_axis_backward, y, 1, &x, g);
}
