/* test_depthwise.c - the depthwise kernels against their plain references on awkward
 * shapes (odd sizes, strides, padding, depth multipliers 1 and 3), and bitwise the
 * same for 1, 2 and 3 threads. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "simd/depthwise.h"
#include "simd/simd.h"

static lm_dw_geom geom(int64_t b, int64_t h, int64_t w, int64_t c, int64_t dm, int k, int s, bool same) {
  lm_dw_geom g = {b, h, w, c, dm, 0, 0, k, k, s, s, 0, 0};
  if (same) {
    g.oh = (h + s - 1) / s, g.ow = (w + s - 1) / s;
    const int64_t th = (g.oh - 1) * s + k - h, tw = (g.ow - 1) * s + k - w;
    g.pad_top = th > 0 ? (int)(th / 2) : 0, g.pad_left = tw > 0 ? (int)(tw / 2) : 0;
  } else {
    g.oh = (h - k) / s + 1, g.ow = (w - k) / s + 1;
  }
  return g;
}

static void check(lm_dw_geom g, int threads) {
  const size_t nx = (size_t)(g.b * g.h * g.w * g.c), nk = (size_t)(g.kh * g.kw * g.c * g.dm);
  const size_t ny = (size_t)(g.b * g.oh * g.ow * g.c * g.dm);
  float *x = malloc(nx * 4), *k = malloc(nk * 4), *bias = malloc((size_t)(g.c * g.dm) * 4), *dy = malloc(ny * 4);
  float *y = malloc(ny * 4), *yr = malloc(ny * 4), *dx = calloc(nx, 4), *dxr = calloc(nx, 4);
  float *dk = calloc(nk, 4), *dkr = calloc(nk, 4), *scratch = malloc(lm_dw_scratch_floats(&g) * 4);
  tu_fill(x, nx, -1, 1, 1), tu_fill(k, nk, -1, 1, 2), tu_fill(bias, (size_t)(g.c * g.dm), -1, 1, 3);
  tu_fill(dy, ny, -1, 1, 4);
  loom_set_num_threads(threads);
  lm_k_depthwise(&g, x, k, bias, y);
  lm_ref_depthwise(&g, x, k, bias, yr);
  lm_k_depthwise_grad_input(&g, dy, k, true, dx);
  lm_ref_depthwise_grad_input(&g, dy, k, dxr);
  float *dxw = malloc(nx * 4); /* written over garbage: the same as adding into zeros */
  for (size_t i = 0; i < nx; ++i) dxw[i] = NAN;
  lm_k_depthwise_grad_input(&g, dy, k, false, dxw);
  for (size_t i = 0; i < nx; ++i) cr_assert(tu_close(dxw[i], dx[i], 1e-6, 1e-6), "dx written [%zu] %g vs %g", i, dxw[i], dx[i]);
  free(dxw);
  lm_k_depthwise_grad_filter(&g, x, dy, dk, scratch);
  lm_ref_depthwise_grad_filter(&g, x, dy, dkr);
  for (size_t i = 0; i < ny; ++i) cr_assert(tu_close(y[i], yr[i], 1e-5, 1e-5), "y[%zu] %g vs %g", i, y[i], yr[i]);
  for (size_t i = 0; i < nx; ++i) cr_assert(tu_close(dx[i], dxr[i], 1e-5, 1e-5), "dx[%zu] %g vs %g", i, dx[i], dxr[i]);
  for (size_t i = 0; i < nk; ++i) cr_assert(tu_close(dk[i], dkr[i], 1e-4, 1e-5), "dk[%zu] %g vs %g", i, dk[i], dkr[i]);
  free(x), free(k), free(bias), free(dy), free(y), free(yr), free(dx), free(dxr), free(dk), free(dkr), free(scratch);
}

Test(depthwise, against_the_reference) {
  const int64_t chans[] = {1, 7, 16, 33};
  for (int ci = 0; ci < 4; ++ci)
    for (int s = 1; s <= 2; ++s)
      for (int same = 0; same < 2; ++same)
        for (int dm = 1; dm <= 3; dm += 2) {
          check(geom(2, 7, 5, chans[ci], dm, 3, s, same), 1);
          check(geom(1, 9, 9, chans[ci], dm, 5, s, same), 2);
        }
  check(geom(3, 1, 1, 5, 1, 1, 1, false), 1);
  /* long interior runs of the 3x3 path, odd and even sizes, both strides and paddings */
  for (int s = 1; s <= 2; ++s)
    for (int same = 0; same < 2; ++same) {
      check(geom(2, 12, 19, 33, 1, 3, s, same), 1);
      check(geom(1, 16, 16, 24, 1, 3, s, same), 2);
      check(geom(1, 3, 40, 5, 1, 3, s, same), 1);
    }
  loom_set_num_threads(1);
}

Test(depthwise, any_thread_count_gives_the_same_bits) {
  const lm_dw_geom g = geom(2, 37, 29, 64, 1, 3, 1, true);
  const size_t nx = (size_t)(g.b * g.h * g.w * g.c), nk = 9 * 64, ny = (size_t)(g.b * g.oh * g.ow * g.c);
  float *x = malloc(nx * 4), *k = malloc(nk * 4), *dy = malloc(ny * 4), *scratch = malloc(lm_dw_scratch_floats(&g) * 4);
  tu_fill(x, nx, -1, 1, 1), tu_fill(k, nk, -1, 1, 2), tu_fill(dy, ny, -1, 1, 3);
  float *out[3][3];
  for (int t = 1; t <= 3; ++t) {
    loom_set_num_threads(t);
    float *y = malloc(ny * 4), *dx = calloc(nx, 4), *dk = calloc(nk, 4);
    lm_k_depthwise(&g, x, k, NULL, y);
    lm_k_depthwise_grad_input(&g, dy, k, false, dx);
    lm_k_depthwise_grad_filter(&g, x, dy, dk, scratch);
    out[t - 1][0] = y, out[t - 1][1] = dx, out[t - 1][2] = dk;
  }
  cr_assert_eq(lm_threads_for(ny * 9), 3);
  const size_t sizes[3] = {ny, nx, nk};
  for (int t = 1; t < 3; ++t)
    for (int q = 0; q < 3; ++q) cr_assert(memcmp(out[0][q], out[t][q], sizes[q] * 4) == 0, "threads %d, output %d", t + 1, q);
  loom_set_num_threads(1);
  for (int t = 0; t < 3; ++t) free(out[t][0]), free(out[t][1]), free(out[t][2]);
  free(x), free(k), free(dy), free(scratch);
}
