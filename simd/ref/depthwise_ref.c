/* depthwise_ref.c - plain-C references of the depthwise kernels (test code: not in
 * libloom.a). */
#include "simd/depthwise.h"

#define FOR_OUT_TAPS(g, BODY)                                                          \
  for (int64_t bi = 0; bi < (g)->b; ++bi)                                              \
    for (int64_t oy = 0; oy < (g)->oh; ++oy)                                           \
      for (int64_t ox = 0; ox < (g)->ow; ++ox)                                         \
        for (int ky = 0; ky < (g)->kh; ++ky)                                           \
          for (int kx = 0; kx < (g)->kw; ++kx) {                                       \
            const int64_t iy = oy * (g)->sh - (g)->pad_top + ky;                       \
            const int64_t ix = ox * (g)->sw - (g)->pad_left + kx;                      \
            if (iy < 0 || iy >= (g)->h || ix < 0 || ix >= (g)->w) continue;            \
            for (int64_t ci = 0; ci < (g)->c; ++ci)                                    \
              for (int64_t m = 0; m < (g)->dm; ++m) {                                  \
                const int64_t xi = ((bi * (g)->h + iy) * (g)->w + ix) * (g)->c + ci;   \
                const int64_t yi = ((bi * (g)->oh + oy) * (g)->ow + ox) * (g)->c * (g)->dm + ci * (g)->dm + m; \
                const int64_t ki = ((ky * (g)->kw + kx) * (g)->c + ci) * (g)->dm + m;  \
                BODY                                                                   \
              }                                                                        \
          }

void lm_ref_depthwise(const lm_dw_geom *g, const float *x, const float *k, const float *bias, float *y) {
  const int64_t co = g->c * g->dm, n = g->b * g->oh * g->ow;
  for (int64_t p = 0; p < n; ++p)
    for (int64_t j = 0; j < co; ++j) y[p * co + j] = bias ? bias[j] : 0.0f;
  FOR_OUT_TAPS(g, { y[yi] += x[xi] * k[ki]; })
}

void lm_ref_depthwise_grad_input(const lm_dw_geom *g, const float *dy, const float *k, float *dx) {
  FOR_OUT_TAPS(g, { dx[xi] += dy[yi] * k[ki]; })
}

void lm_ref_depthwise_grad_filter(const lm_dw_geom *g, const float *x, const float *dy, float *dk) {
  FOR_OUT_TAPS(g, { dk[ki] += x[xi] * dy[yi]; })
}
