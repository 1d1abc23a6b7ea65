/* resize.c - loom_resize_bilinear: images [batch, h, w, c] resized by bilinear
 * interpolation with half-pixel centres, as TensorFlow 2's tf.image.resize (Keras'
 * UpSampling2D(interpolation='bilinear')) and PyTorch's align_corners=False do it: output
 * pixel o reads input coordinate (o + 0.5) * in / out - 0.5, clamped to the image.
 * Backward scatters each output gradient onto its four sources with the same weights. */
#include <math.h>
#include <string.h>

#include "ops/ops.h"

typedef struct {
  int64_t lo, hi;
  float frac; /* weight of hi */
} lerp_tap;

typedef struct {
  int64_t b, h, w, c, oh, ow;
  lerp_tap *ty, *tx;
} resize_geom;

static void taps(lerp_tap *t, int64_t in, int64_t out) {
  const double scale = (double)in / (double)out;
  for (int64_t o = 0; o < out; ++o) {
    double s = ((double)o + 0.5) * scale - 0.5;
    if (s < 0) s = 0;
    int64_t lo = (int64_t)floor(s);
    if (lo > in - 1) lo = in - 1;
    t[o] = (lerp_tap){lo, lo < in - 1 ? lo + 1 : lo, (float)(s - (double)lo)};
  }
}

/* forward (gy NULL): y = sum of the four taps; backward: gx += their share of gy */
static void resize_run(const resize_geom *g, const float *x, float *y, float *gx, const float *gy) {
  const int64_t c = g->c;
  for (int64_t bi = 0; bi < g->b; ++bi)
    for (int64_t oy = 0; oy < g->oh; ++oy) {
      const lerp_tap ty = g->ty[oy];
      const int64_t r0 = (bi * g->h + ty.lo) * g->w, r1 = (bi * g->h + ty.hi) * g->w;
      for (int64_t ox = 0; ox < g->ow; ++ox) {
        const lerp_tap tx = g->tx[ox];
        const float w00 = (1 - ty.frac) * (1 - tx.frac), w01 = (1 - ty.frac) * tx.frac;
        const float w10 = ty.frac * (1 - tx.frac), w11 = ty.frac * tx.frac;
        const int64_t o = ((bi * g->oh + oy) * g->ow + ox) * c;
        const int64_t i00 = (r0 + tx.lo) * c, i01 = (r0 + tx.hi) * c, i10 = (r1 + tx.lo) * c, i11 = (r1 + tx.hi) * c;
        if (!gy) {
          for (int64_t k = 0; k < c; ++k)
            y[o + k] = w00 * x[i00 + k] + w01 * x[i01 + k] + w10 * x[i10 + k] + w11 * x[i11 + k];
        } else {
          for (int64_t k = 0; k < c; ++k) {
            const float d = gy[o + k];
            gx[i00 + k] += w00 * d, gx[i01 + k] += w01 * d;
            gx[i10 + k] += w10 * d, gx[i11 + k] += w11 * d;
          }
        }
      }
    }
}

static int resize_backward(loom_ctx *cx, const lm_rec *r) {
  float *gx = lm_grad(cx, r->in[0]);
  if (!gx) return cx->status;
  resize_run(r->saved, NULL, NULL, gx, r->out->grad);
  return LOOM_OK;
}

loom_tensor *loom_resize_bilinear(loom_ctx *cx, loom_tensor *x, int64_t height, int64_t width) {
  static const char op[] = "loom_resize_bilinear";
  if (!lm_inputs_ok(cx, op, 1, &x)) return NULL;
  char s[96];
  if (x->rank != 4 || height < 1 || width < 1 || x->shape[1] < 1 || x->shape[2] < 1) {
    lm_fail(cx, LOOM_ESHAPE, op, "cannot resize %s to %lldx%lld (expected [batch, height, width, "
            "channels] with pixels, and a size >= 1)", lm_shape_str(x, s, sizeof s),
            (long long)height, (long long)width);
    return NULL;
  }
  resize_geom *g = lm_scratch(cx, op, sizeof *g);
  lerp_tap *t = lm_scratch_n(cx, op, sizeof(lerp_tap), height + width, 1);
  if (!g || !t) return NULL;
  *g = (resize_geom){x->shape[0], x->shape[1], x->shape[2], x->shape[3], height, width, t, t + height};
  taps(g->ty, g->h, height);
  taps(g->tx, g->w, width);
  const int64_t shape[4] = {g->b, height, width, g->c};
  loom_tensor *y = lm_out(cx, op, 4, shape);
  if (!y) return NULL;
  resize_run(g, x->data, y->data, NULL, NULL);
  return lm_record(cx, op, resize_backward, y, 1, &x, g);
}
