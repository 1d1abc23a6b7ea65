/* pool.c - max and average pooling, 1-D and 2-D (1-D is 2-D with height 1): forward and
 * backward. Max pooling keeps the flat index of each window's winner (the first of equal
 * maxima), and backward routes the gradient there; average pooling spreads it over the
 * window's real (unpadded) positions. */
#include <math.h>
#include <string.h>

#include "ops/ops.h"
#include "simd/simd.h"

typedef struct {
  int ph, pw, sh, sw, pad_top, pad_left;
  int64_t b, h, w, c, oh, ow;
  bool is_max;
  int32_t *arg; /* max: input index of each output's winner */
} pool_geom;

/* Output length and leading pad of one axis, as TensorFlow computes them. */
static int pool_backward(loom_ctx *cx, const lm_rec *r) {
  const pool_geom *g = r->saved;
  float *gx = lm_grad(cx, r->in[0]);
  if (!gx) return cx->status;
  const float *dy = r->out->grad;
  const int64_t outs = r->out->size;
  if (g->is_max) {
    for (int64_t o = 0; o < outs; ++o) gx[g->arg[o]] += dy[o]; /* in order: deterministic */
    return LOOM_OK;
  }
  for (int64_t bi = 0; bi < g->b; ++bi)
    for (int64_t oy = 0; oy < g->oh; ++oy)
      for (int64_t ox = 0; ox < g->ow; ++ox) {
        const int64_t y0 = oy * g->sh - g->pad_top, x0 = ox * g->sw - g->pad_left;
        const int64_t ya = y0 < 0 ? 0 : y0, yb = y0 + g->ph > g->h ? g->h : y0 + g->ph;
        const int64_t xa = x0 < 0 ? 0 : x0, xb = x0 + g->pw > g->w ? g->w : x0 + g->pw;
        const float inv = 1.0f / (float)((yb - ya) * (xb - xa));
        const float *d = dy + ((bi * g->oh + oy) * g->ow + ox) * g->c;
        for (int64_t yy = ya; yy < yb; ++yy)
          for (int64_t xx = xa; xx < xb; ++xx) {
            float *t = gx + ((bi * g->h + yy) * g->w + xx) * g->c;
            for (int64_t ch = 0; ch < g->c; ++ch) t[ch] += d[ch] * inv;
          }
      }
  return LOOM_OK;
}

static loom_tensor *pool(loom_ctx *cx, const char *op, loom_tensor *x, bool one_d, int ph, int pw,
                         int sh, int sw, loom_padding padding, bool is_max) {
  if (!lm_inputs_ok(cx, op, 1, &x)) return NULL;
  char sx[96];
  if (x->rank != (one_d ? 3 : 4)) {
    lm_fail(cx, LOOM_ESHAPE, op, "input %s must be %s", lm_shape_str(x, sx, sizeof sx),
            one_d ? "[batch, steps, channels]" : "[batch, height, width, channels]");
    return NULL;
  }
  sh = sh ? sh : ph;
  sw = sw ? sw : pw;
  if (ph < 1 || pw < 1 || sh < 1 || sw < 1 || (padding != LOOM_VALID && padding != LOOM_SAME)) {
    lm_fail(cx, LOOM_EINVAL, op, "pool %dx%d, strides %dx%d, padding %d: sizes must be >= 1 and "
            "padding LOOM_VALID or LOOM_SAME", ph, pw, sh, sw, (int)padding);
    return NULL;
  }
  pool_geom *g = lm_scratch(cx, op, sizeof *g);
  if (!g) return NULL;
  *g = (pool_geom){.ph = ph, .pw = pw, .sh = sh, .sw = sw, .b = x->shape[0], .h = one_d ? 1 : x->shape[1],
                   .w = x->shape[one_d ? 1 : 2], .c = x->shape[one_d ? 2 : 3], .is_max = is_max};
  g->oh = lm_window_out(g->h, ph, sh, padding, &g->pad_top);
  g->ow = lm_window_out(g->w, pw, sw, padding, &g->pad_left);
  if (g->oh == 0 || g->ow == 0) {
    lm_fail(cx, LOOM_ESHAPE, op, "input %s is smaller than the %dx%d pool with 'valid' padding",
            lm_shape_str(x, sx, sizeof sx), ph, pw);
    return NULL;
  }
  const int64_t shape1[3] = {g->b, g->ow, g->c}, shape2[4] = {g->b, g->oh, g->ow, g->c};
  loom_tensor *y = lm_out(cx, op, one_d ? 3 : 4, one_d ? shape1 : shape2);
  if (!y) return NULL;
  if (is_max && !(g->arg = lm_scratch_i32(cx, op, y->size, 1))) return NULL;
  const float *in = x->data;
  float *out = y->data;
  /* the geometry in locals: the stores below may not alias it */
  const int64_t oh = g->oh, ow = g->ow, h = g->h, w = g->w, c = g->c;
  const int pad_top = g->pad_top, pad_left = g->pad_left;
  int32_t *arg = g->arg;
  const long rows = (long)(g->b * oh);
  const int nt = lm_threads_for((size_t)y->size * (size_t)(ph * pw));
  /* one output row per iteration; the window's positions outside, channels inside, so
   * that every read runs along a pixel's channels */
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (long row = 0; row < rows; ++row) {
    const int64_t bi = row / oh, oy = row % oh;
    for (int64_t ox = 0; ox < ow; ++ox) {
      const int64_t y0 = oy * sh - pad_top, x0 = ox * sw - pad_left;
      const int64_t ya = y0 < 0 ? 0 : y0, yb = y0 + ph > h ? h : y0 + ph;
      const int64_t xa = x0 < 0 ? 0 : x0, xb = x0 + pw > w ? w : x0 + pw;
      const int64_t o = ((bi * oh + oy) * ow + ox) * c;
      float *best = out + o;
      int32_t *where = is_max ? arg + o : NULL;
      const int32_t first = (int32_t)(((bi * h + ya) * w + xa) * c);
      for (int64_t ch = 0; ch < c; ++ch) best[ch] = is_max ? -INFINITY : 0.0f;
      if (is_max)
        for (int64_t ch = 0; ch < c; ++ch) where[ch] = first + (int32_t)ch;
      for (int64_t yy = ya; yy < yb; ++yy)
        for (int64_t xx = xa; xx < xb; ++xx) {
          const int32_t base = (int32_t)(((bi * h + yy) * w + xx) * c);
          const float *px = in + base;
          if (is_max) lm_k_max_update(px, best, where, base, (size_t)c);
          else lm_k_add(best, px, best, (size_t)c);
        }
      if (!is_max) {
        const float n = (float)((yb - ya) * (xb - xa));
        for (int64_t ch = 0; ch < c; ++ch) best[ch] /= n;
      }
    }
  }
  return lm_record(cx, op, pool_backward, y, 1, &x, g);
}

loom_tensor *loom_max_pool1d(loom_ctx *cx, loom_tensor *x, int pool_, int stride,
                             loom_padding padding) {
  return pool(cx, "loom_max_pool1d", x, true, 1, pool_, 1, stride, padding, true);
}
loom_tensor *loom_avg_pool1d(loom_ctx *cx, loom_tensor *x, int pool_, int stride,
                             loom_padding padding) {
  return pool(cx, "loom_avg_pool1d", x, true, 1, pool_, 1, stride, padding, false);
}
loom_tensor *loom_max_pool2d(loom_ctx *cx, loom_tensor *x, int pool_h, int pool_w, int stride_h,
                             int stride_w, loom_padding padding) {
  return pool(cx, "loom_max_pool2d", x, false, pool_h, pool_w, stride_h, stride_w, padding, true);
}
loom_tensor *loom_avg_pool2d(loom_ctx *cx, loom_tensor *x, int pool_h, int pool_w, int stride_h,
                             int stride_w, loom_padding padding) {
  return pool(cx, "loom_avg_pool2d", x, false, pool_h, pool_w, stride_h, stride_w, padding, false);
}
