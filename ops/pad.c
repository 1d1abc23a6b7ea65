/* pad.c - loom_pad: zeros added before and after axes, or elements cut from them (a
 * negative count): Keras' ZeroPadding1D/2D and Cropping1D/2D, and Conv1D's causal
 * padding. Forward copies rows of the last axis, backward adds the kept part of the
 * gradient back. */
#include <string.h>

#include "ops/ops.h"
#include "simd/simd.h"

typedef struct {
  int rank;
  int64_t before[LOOM_MAX_RANK];
} pad_map;

/* For each run of y's last axis whose source lies in x: the y and x offsets and length. */
static void pad_runs(const loom_tensor *x, const loom_tensor *y, const pad_map *m, float *xd, float *yd,
                     bool backward) {
  const int r = m->rank;
  if (r == 0 || y->size == 0) return;
  const int64_t last = r - 1, lo = m->before[last] > 0 ? m->before[last] : 0;
  const int64_t src0 = lo - m->before[last]; /* x's first kept index on the last axis */
  int64_t len = x->shape[last] - src0;
  if (len > y->shape[last] - lo) len = y->shape[last] - lo;
  const int64_t rows = y->size / y->shape[last];
  int64_t idx[LOOM_MAX_RANK] = {0};
  for (int64_t row = 0; row < rows; ++row) {
    float *yrow = yd + row * y->shape[last];
    int64_t xoff = 0;
    bool inside = len > 0;
    for (int a = 0; a < last && inside; ++a) {
      const int64_t xi = idx[a] - m->before[a];
      inside = xi >= 0 && xi < x->shape[a];
      xoff = xoff * x->shape[a] + xi;
    }
    if (!backward) {
      if (!inside) memset(yrow, 0, (size_t)y->shape[last] * sizeof(float));
      else {
        memset(yrow, 0, (size_t)lo * sizeof(float));
        memcpy(yrow + lo, xd + xoff * x->shape[last] + src0, (size_t)len * sizeof(float));
        memset(yrow + lo + len, 0, (size_t)(y->shape[last] - lo - len) * sizeof(float));
      }
    } else if (inside) {
      float *g = xd + xoff * x->shape[last] + src0;
      lm_k_add(g, yrow + lo, g, (size_t)len);
    }
    for (int a = (int)last - 1; a >= 0; --a) {
      if (++idx[a] < y->shape[a]) break;
      idx[a] = 0;
    }
  }
}

static int pad_backward(loom_ctx *cx, const lm_rec *r) {
  float *gx = lm_grad(cx, r->in[0]);
  if (!gx) return cx->status;
  pad_runs(r->in[0], r->out, r->saved, gx, r->out->grad, true);
  return LOOM_OK;
}

loom_tensor *loom_pad(loom_ctx *cx, loom_tensor *x, const int64_t *before, const int64_t *after) {
  static const char op[] = "loom_pad";
  if (!lm_inputs_ok(cx, op, 1, &x)) return NULL;
  pad_map *m = lm_scratch(cx, op, sizeof *m);
  if (!m) return NULL;
  int64_t shape[LOOM_MAX_RANK];
  m->rank = x->rank;
  for (int a = 0; a < x->rank; ++a) {
    const int64_t b = before ? before[a] : 0, e = after ? after[a] : 0;
    m->before[a] = b;
    shape[a] = x->shape[a] + b + e;
    if (shape[a] < 0 || b > (int64_t)1 << 40 || e > (int64_t)1 << 40) {
      char s[96];
      lm_fail(cx, LOOM_ESHAPE, op, "axis %d of %s: %lld before and %lld after leave %lld elements",
              a, lm_shape_str(x, s, sizeof s), (long long)b, (long long)e, (long long)shape[a]);
      return NULL;
    }
  }
  loom_tensor *y = lm_out(cx, op, x->rank, shape);
  if (!y) return NULL;
  pad_runs(x, y, m, x->data, y->data, false);
  return lm_record(cx, op, pad_backward, y, 1, &x, m);
}
