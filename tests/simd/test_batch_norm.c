/* test_batch_norm.c - the batch-norm kernels against their plain references on awkward
 * shapes (rows 1, 7, 63, 64, 65, 1000; channels 1, 7, 16, 33, 128), with and without
 * the ReLU mask, and bitwise the same for 1, 2 and 3 threads. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "simd/ref.h"
#include "simd/simd.h"

typedef struct outs {
  double sum[2][128], sq[128], gsum[2][128], gsumx[2][128];
  float *y[2], *gx[2];
} outs;

/* Every kernel on one shape (relu or not), into o; rows * c <= 1000 * 128. */
static void run_all(size_t rows, size_t c, bool relu, outs *o, bool reference) {
  const size_t n = rows * c;
  float *x = malloc(n * 4), *dy = malloc(n * 4), *parts = malloc(2 * lm_k_bn_parts(rows, c) * 4 + 4);
  float center[128], scale[128], shift[128], p[128], q[128], u[128];
  tu_fill(x, n, -2, 2, 1), tu_fill(dy, n, -1, 1, 2);
  tu_fill(center, c, -0.5f, 0.5f, 3), tu_fill(scale, c, 0.5f, 2, 4), tu_fill(shift, c, -1, 1, 5);
  tu_fill(p, c, -1, 1, 6), tu_fill(q, c, -1, 1, 7), tu_fill(u, c, -1, 1, 8);
  const int k = reference;
  memset(o->sum[k], 0, sizeof o->sum[k]);
  o->y[k] = malloc(n * 4), o->gx[k] = malloc(n * 4);
  tu_fill(o->gx[k], n, -1, 1, 9); /* gx accumulates */
  if (reference) {
    lm_ref_bn_col_sums(x, NULL, rows, c, o->sum[1]);
    memset(o->sq, 0, sizeof o->sq);
    lm_ref_bn_col_sums(x, center, rows, c, o->sq);
    lm_ref_bn_apply(x, scale, shift, o->y[1], rows, c, relu);
    memset(o->gsum[1], 0, sizeof o->gsum[1]), memset(o->gsumx[1], 0, sizeof o->gsumx[1]);
    lm_ref_bn_grad_sums(dy, x, relu ? o->y[1] : NULL, rows, c, o->gsum[1], o->gsumx[1]);
    lm_ref_bn_grad_input(dy, x, relu ? o->y[1] : NULL, p, q, u, o->gx[1], rows, c);
  } else {
    double sq[128] = {0};
    lm_k_bn_col_sums(x, NULL, rows, c, parts, o->sum[0]);
    lm_k_bn_col_sums(x, center, rows, c, parts, sq);
    memset(o->gsum[0], 0, sizeof o->gsum[0]), memset(o->gsumx[0], 0, sizeof o->gsumx[0]);
    memcpy(o->sq, sq, sizeof sq);
    lm_k_bn_apply(x, scale, shift, o->y[0], rows, c, relu);
    lm_k_bn_grad_sums(dy, x, relu ? o->y[0] : NULL, rows, c, parts, o->gsum[0], o->gsumx[0]);
    lm_k_bn_grad_input(dy, x, relu ? o->y[0] : NULL, p, q, u, true, o->gx[0], rows, c);
    /* without accumulate: written over garbage, the same as adding into zeros */
    float *fresh = malloc(n * 4), *zero = calloc(n, 4);
    for (size_t i = 0; i < n; ++i) fresh[i] = NAN;
    lm_k_bn_grad_input(dy, x, relu ? o->y[0] : NULL, p, q, u, false, fresh, rows, c);
    lm_k_bn_grad_input(dy, x, relu ? o->y[0] : NULL, p, q, u, true, zero, rows, c);
    for (size_t i = 0; i < n; ++i) cr_assert(tu_close(fresh[i], zero[i], 1e-6, 1e-6), "overwrite [%zu]: %g vs %g", i, fresh[i], zero[i]);
    free(fresh), free(zero);
  }
  free(x), free(dy), free(parts);
}

static void free_outs(outs *o, int k) { free(o->y[k]), free(o->gx[k]); }

Test(batch_norm_kernels, against_the_reference) {
  const size_t rows[] = {1, 7, 63, 64, 65, 1000}, cs[] = {1, 7, 16, 33, 128};
  for (size_t a = 0; a < sizeof rows / sizeof rows[0]; ++a)
    for (size_t b = 0; b < sizeof cs / sizeof cs[0]; ++b)
      for (int relu = 0; relu < 2; ++relu) {
        const size_t r = rows[a], c = cs[b], n = r * c;
        outs got, want;
        double sq_got[128];
        run_all(r, c, relu, &got, false);
        memcpy(sq_got, got.sq, sizeof sq_got);
        run_all(r, c, relu, &want, true);
        for (size_t j = 0; j < c; ++j) {
          cr_assert(tu_close(got.sum[0][j], want.sum[1][j], 1e-4, 1e-5), "%zux%zu sum[%zu]", r, c, j);
          cr_assert(tu_close(sq_got[j], want.sq[j], 1e-4, 1e-5), "%zux%zu sq[%zu]", r, c, j);
          cr_assert(tu_close(got.gsum[0][j], want.gsum[1][j], 1e-4, 1e-5), "%zux%zu relu %d gsum[%zu]", r, c, relu, j);
          cr_assert(tu_close(got.gsumx[0][j], want.gsumx[1][j], 1e-4, 1e-5), "%zux%zu gsumx[%zu]", r, c, j);
        }
        int zeros = 0;
        for (size_t i = 0; i < n; ++i) {
          cr_assert(tu_close(got.y[0][i], want.y[1][i], 1e-6, 1e-5), "%zux%zu relu %d y[%zu] %g vs %g", r, c, relu, i,
                    got.y[0][i], want.y[1][i]);
          cr_assert(tu_close(got.gx[0][i], want.gx[1][i], 1e-5, 1e-5), "%zux%zu relu %d gx[%zu]", r, c, relu, i);
          zeros += want.y[1][i] == 0.0f;
        }
        if (relu && n >= 64) cr_assert_gt(zeros, 0, "the ReLU clipped nothing: the mask is not tested");
        free_outs(&got, 0), free_outs(&want, 1);
      }
}

Test(batch_norm_kernels, any_thread_count_gives_the_same_bits) {
  /* big enough to be threaded: 5000 rows x 96 channels */
  const size_t r = 5000, c = 96, n = r * c;
  outs base;
  run_all(r, c, true, &base, false);
  for (int t = 2; t <= 3; ++t) {
    loom_set_num_threads(t);
    outs o;
    run_all(r, c, true, &o, false);
    cr_assert_eq(memcmp(o.sum[0], base.sum[0], c * sizeof(double)), 0, "%d threads: sums differ", t);
    cr_assert_eq(memcmp(o.sq, base.sq, c * sizeof(double)), 0, "%d threads: squares differ", t);
    cr_assert_eq(memcmp(o.gsum[0], base.gsum[0], c * sizeof(double)), 0);
    cr_assert_eq(memcmp(o.gsumx[0], base.gsumx[0], c * sizeof(double)), 0);
    cr_assert_eq(memcmp(o.y[0], base.y[0], n * 4), 0);
    cr_assert_eq(memcmp(o.gx[0], base.gx[0], n * 4), 0);
    free_outs(&o, 0);
  }
  loom_set_num_threads(1);
  free_outs(&base, 0);
}
