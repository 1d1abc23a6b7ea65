/* depthwise.c - depthwise convolution kernels: for depth multiplier 1 (Xception's), each
 * output pixel accumulates kh*kw channel vectors with the vectorized multiply-add (3x3:
 * whole runs of interior pixels at once, the filter in registers); other multipliers
 * take a plain loop. Threads split output rows (forward), input rows
 * (backward to the input: each thread gathers into rows of its own) and fixed chunks of
 * rows whose partial filter gradients are added in chunk order (backward to the
 * filters), so results never depend on the thread count. */
#include "simd/depthwise.h"

#include <stdbool.h>
#include <string.h>

#include "simd/simd.h"

#define LM_DW_CHUNKS 16 /* partial filter gradients: a fixed count, whatever the threads */

static const float *pixel(const lm_dw_geom *g, const float *x, int64_t bi, int64_t iy, int64_t ix) {
  return x + ((bi * g->h + iy) * g->w + ix) * g->c;
}

#define LM_DW_MAX_TAPS 64 /* kernels up to 8x8 */

/* 3x3 with depth multiplier 1 (Xception's): runs of pixels whose taps are all inside go
 * through lm_k_dw3x3_run / _filter_run; the borders take the per-pixel path. */
static bool fast3x3(const lm_dw_geom *g) { return g->dm == 1 && g->kh == 3 && g->kw == 3; }

/* Outputs [lo, hi) of an axis whose 3 taps o * stride - pad + {0, 1, 2} are inside [0, len). */
static void inside(int64_t len, int64_t out, int stride, int pad, int64_t *lo, int64_t *hi) {
  *lo = (pad + stride - 1) / stride;
  *hi = len - 3 + pad >= 0 ? (len - 3 + pad) / stride + 1 : 0;
  if (*hi > out) *hi = out;
  if (*lo > *hi) *lo = *hi;
}

/* One output row (bi, oy): all its pixels, each from the taps inside the input. */
static void forward_row(const lm_dw_geom *g, const float *x, const float *k, const float *bias,
                        float *y, int64_t bi, int64_t oy) {
  const int64_t co = g->c * g->dm, iy0 = oy * g->sh - g->pad_top;
  const float *xs[LM_DW_MAX_TAPS], *ks[LM_DW_MAX_TAPS];
  int64_t lo = 0, hi = 0;
  if (fast3x3(g) && iy0 >= 0 && iy0 + 2 < g->h) inside(g->w, g->ow, g->sw, g->pad_left, &lo, &hi);
  for (int64_t ox = 0; ox < g->ow; ++ox) {
    float *out = y + ((bi * g->oh + oy) * g->ow + ox) * co;
    if (ox == lo && hi > lo) {
      lm_k_dw3x3_run(pixel(g, x, bi, iy0, lo * g->sw - g->pad_left), (ptrdiff_t)(g->w * g->c), (ptrdiff_t)g->c,
                     (size_t)(g->sw * g->c), k, bias, false, out, (size_t)(hi - lo), (size_t)g->c);
      ox = hi - 1;
      continue;
    }
    size_t t = 0;
    for (int ky = 0; ky < g->kh; ++ky) {
      const int64_t iy = oy * g->sh - g->pad_top + ky;
      if (iy < 0 || iy >= g->h) continue;
      for (int kx = 0; kx < g->kw; ++kx) {
        const int64_t ix = ox * g->sw - g->pad_left + kx;
        if (ix >= 0 && ix < g->w) xs[t] = pixel(g, x, bi, iy, ix), ks[t++] = k + (ky * g->kw + kx) * co;
      }
    }
    if (g->dm == 1) { /* every tap in registers, one store */
      lm_k_taps(xs, ks, t, bias, out, (size_t)g->c);
      continue;
    }
    for (int64_t j = 0; j < co; ++j) out[j] = bias ? bias[j] : 0.0f;
    for (size_t q = 0; q < t; ++q)
      for (int64_t ci = 0; ci < g->c; ++ci)
        for (int64_t m = 0; m < g->dm; ++m) out[ci * g->dm + m] += xs[q][ci] * ks[q][ci * g->dm + m];
  }
}

void lm_k_depthwise(const lm_dw_geom *g, const float *x, const float *k, const float *bias, float *y) {
  const int64_t rows = g->b * g->oh;
  const int nt = lm_threads_for((size_t)(rows * g->ow * g->c * g->kh * g->kw));
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t r = 0; r < rows; ++r) forward_row(g, x, k, bias, y, r / g->oh, r % g->oh);
}

/* dx for input row (bi, iy): every output pixel that read it, tap by tap. */
static void grad_input_row(const lm_dw_geom *g, const float *dy, const float *k, bool accumulate, float *dx,
                           int64_t bi, int64_t iy) {
  const int64_t co = g->c * g->dm, oy0 = iy + g->pad_top; /* the output row tap ky = 0 reads */
  const float *ups[LM_DW_MAX_TAPS], *ks[LM_DW_MAX_TAPS];
  int64_t lo = 0, hi = 0; /* input columns whose 9 output pixels all exist (stride 1) */
  if (fast3x3(g) && g->sh == 1 && g->sw == 1 && oy0 - 2 >= 0 && oy0 < g->oh) {
    lo = 2 - g->pad_left > 0 ? 2 - g->pad_left : 0;
    hi = g->ow - g->pad_left < g->w ? g->ow - g->pad_left : g->w;
    if (lo > hi) lo = hi;
  }
  for (int64_t ix = 0; ix < g->w; ++ix) {
    float *d = dx + ((bi * g->h + iy) * g->w + ix) * g->c;
    if (ix == lo && hi > lo) { /* tap (ky, kx) reads dy at (oy0 - ky, ix + pad_left - kx) */
      lm_k_dw3x3_run(dy + ((bi * g->oh + oy0) * g->ow + lo + g->pad_left) * co, -(ptrdiff_t)(g->ow * co),
                     -(ptrdiff_t)co, (size_t)co, k, NULL, accumulate, d, (size_t)(hi - lo), (size_t)g->c);
      ix = hi - 1;
      continue;
    }
    size_t t = 0;
    for (int ky = 0; ky < g->kh; ++ky) {
      const int64_t ty = iy + g->pad_top - ky; /* = oy * sh */
      if (ty < 0 || ty % g->sh || ty / g->sh >= g->oh) continue;
      for (int kx = 0; kx < g->kw; ++kx) {
        const int64_t tx = ix + g->pad_left - kx;
        if (tx < 0 || tx % g->sw || tx / g->sw >= g->ow) continue;
        ups[t] = dy + ((bi * g->oh + ty / g->sh) * g->ow + tx / g->sw) * co;
        ks[t++] = k + (ky * g->kw + kx) * co;
      }
    }
    if (!accumulate && (g->dm != 1 || !t)) memset(d, 0, (size_t)g->c * sizeof(float));
    if (g->dm == 1) {
      if (t) lm_k_taps(ups, ks, t, accumulate ? d : NULL, d, (size_t)g->c);
      continue;
    }
    for (size_t q = 0; q < t; ++q)
      for (int64_t ci = 0; ci < g->c; ++ci)
        for (int64_t m = 0; m < g->dm; ++m) d[ci] += ups[q][ci * g->dm + m] * ks[q][ci * g->dm + m];
  }
}

void lm_k_depthwise_grad_input(const lm_dw_geom *g, const float *dy, const float *k, bool accumulate, float *dx) {
  const int64_t rows = g->b * g->h;
  const int nt = lm_threads_for((size_t)(g->b * g->oh * g->ow * g->c * g->kh * g->kw));
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int64_t r = 0; r < rows; ++r) grad_input_row(g, dy, k, accumulate, dx, r / g->h, r % g->h);
}

size_t lm_dw_scratch_floats(const lm_dw_geom *g) {
  return (size_t)(LM_DW_CHUNKS * g->kh * g->kw * g->c * g->dm);
}

/* The filter gradient of output rows [r0, r1) into part. */
static void grad_filter_rows(const lm_dw_geom *g, const float *x, const float *dy, float *part,
                             int64_t r0, int64_t r1) {
  const int64_t co = g->c * g->dm;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t bi = r / g->oh, oy = r % g->oh, iy0 = oy * g->sh - g->pad_top;
    int64_t lo = 0, hi = 0;
    if (fast3x3(g) && iy0 >= 0 && iy0 + 2 < g->h) inside(g->w, g->ow, g->sw, g->pad_left, &lo, &hi);
    for (int64_t ox = 0; ox < g->ow; ++ox) {
      const float *up = dy + (r * g->ow + ox) * co;
      if (ox == lo && hi > lo) {
        lm_k_dw3x3_filter_run(pixel(g, x, bi, iy0, lo * g->sw - g->pad_left), (ptrdiff_t)(g->w * g->c),
                              (ptrdiff_t)g->c, (size_t)(g->sw * g->c), up, part, (size_t)(hi - lo), (size_t)g->c);
        ox = hi - 1;
        continue;
      }
      for (int ky = 0; ky < g->kh; ++ky) {
        const int64_t iy = oy * g->sh - g->pad_top + ky;
        if (iy < 0 || iy >= g->h) continue;
        for (int kx = 0; kx < g->kw; ++kx) {
          const int64_t ix = ox * g->sw - g->pad_left + kx;
          if (ix < 0 || ix >= g->w) continue;
          const float *in = pixel(g, x, bi, iy, ix);
          float *tap = part + (ky * g->kw + kx) * co;
          if (g->dm == 1) {
            lm_k_mul_acc(in, up, tap, (size_t)g->c);
          } else {
            for (int64_t ci = 0; ci < g->c; ++ci)
              for (int64_t m = 0; m < g->dm; ++m) tap[ci * g->dm + m] += in[ci] * up[ci * g->dm + m];
          }
        }
      }
    }
  }
}

void lm_k_depthwise_grad_filter(const lm_dw_geom *g, const float *x, const float *dy, float *dk,
                                float *scratch) {
  const int64_t rows = g->b * g->oh, taps = g->kh * g->kw * g->c * g->dm;
  memset(scratch, 0, lm_dw_scratch_floats(g) * sizeof(float));
  const int nt = lm_threads_for((size_t)(rows * g->ow * g->c * g->kh * g->kw));
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int ch = 0; ch < LM_DW_CHUNKS; ++ch)
    grad_filter_rows(g, x, dy, scratch + ch * taps, rows * ch / LM_DW_CHUNKS, rows * (ch + 1) / LM_DW_CHUNKS);
  for (int ch = 0; ch < LM_DW_CHUNKS; ++ch) lm_k_add(dk, scratch + ch * taps, dk, (size_t)taps);
}
