/* test_layout.c - the ops that move elements: loom_transpose, loom_pad (zeros and
 * cuts), loom_repeat, loom_resize_bilinear, and the transposed and causal convolutions'
 * gradients: values against direct index arithmetic, gradients by finite differences on
 * odd shapes (one sample, one step, one channel), bad arguments refused naming the op. */
#include <criterion/criterion.h>
#include <string.h>

#include "common/gradcheck.h"
#include "common/util.h"

TestSuite(layout, .init = tu_suite_open, .fini = tu_suite_close);

static loom_ctx *new_ctx(void) { return loom_ctx_new(NULL); }

/* ---------------------------------------------------------------- transpose */

static loom_tensor *apply_transpose(loom_ctx *cx, loom_tensor **in, void *user) {
  return loom_transpose(cx, in[0], user);
}

Test(layout, transpose_values_and_gradient) {
  const int64_t s[4] = {2, 3, 1, 5};
  int perm[4] = {0, 3, 1, 2};
  loom_tensor *x = tu_tensor(tu_params, 4, s, -1, 1, 1);
  loom_ctx *cx = new_ctx();
  loom_tensor *y = loom_transpose(cx, x, perm);
  cr_assert(y, "%s", loom_ctx_error(cx));
  cr_assert(y->shape[0] == 2 && y->shape[1] == 5 && y->shape[2] == 3 && y->shape[3] == 1);
  const float *xd = loom_tensor_f32(x), *yd = loom_tensor_f32(y);
  for (int b = 0; b < 2; ++b)
    for (int c = 0; c < 5; ++c)
      for (int h = 0; h < 3; ++h) cr_assert_eq(yd[(b * 5 + c) * 3 + h], xd[(b * 3 + h) * 5 + c]);
  int bad[4] = {0, 1, 1, 2};
  cr_assert_null(loom_transpose(cx, x, bad));
  cr_assert(strstr(loom_ctx_error(cx), "loom_transpose"), "%s", loom_ctx_error(cx));
  loom_ctx_free(cx);
  gc_check("transpose rank 4", apply_transpose, &x, 1, perm);
  const int64_t s2[3] = {7, 1, 33};
  int p2[3] = {2, 0, 1};
  x = tu_tensor(tu_params, 3, s2, -1, 1, 2);
  gc_check("transpose 7x1x33", apply_transpose, &x, 1, p2);
}

/* ---------------------------------------------------------------- pad */

typedef struct {
  int64_t before[LOOM_MAX_RANK], after[LOOM_MAX_RANK];
} pads;

static loom_tensor *apply_pad(loom_ctx *cx, loom_tensor **in, void *user) {
  const pads *p = user;
  return loom_pad(cx, in[0], p->before, p->after);
}

Test(layout, pad_and_crop_values_and_gradient) {
  const int64_t s[4] = {2, 3, 4, 2};
  loom_tensor *x = tu_tensor(tu_params, 4, s, -1, 1, 3);
  pads p = {{0, 1, -1, 0}, {0, 2, 1, 0}}; /* rows: 1 zero before, 2 after; columns: cut 1, add 1 */
  loom_ctx *cx = new_ctx();
  loom_tensor *y = loom_pad(cx, x, p.before, p.after);
  cr_assert(y, "%s", loom_ctx_error(cx));
  cr_assert(y->shape[1] == 6 && y->shape[2] == 4, "%lld x %lld", (long long)y->shape[1], (long long)y->shape[2]);
  const float *xd = loom_tensor_f32(x), *yd = loom_tensor_f32(y);
  for (int b = 0; b < 2; ++b)
    for (int i = 0; i < 6; ++i)
      for (int j = 0; j < 4; ++j)
        for (int c = 0; c < 2; ++c) {
          const int xi = i - 1, xj = j + 1;
          const float want = xi >= 0 && xi < 3 && xj < 4 ? xd[((b * 3 + xi) * 4 + xj) * 2 + c] : 0.0f;
          cr_assert_eq(yd[((b * 6 + i) * 4 + j) * 2 + c], want, "y[%d,%d,%d,%d]", b, i, j, c);
        }
  pads too_much = {{0, -2, 0, 0}, {0, -2, 0, 0}};
  cr_assert_null(loom_pad(cx, x, too_much.before, too_much.after));
  cr_assert(strstr(loom_ctx_error(cx), "loom_pad"), "%s", loom_ctx_error(cx));
  loom_ctx_free(cx);
  gc_check("pad rows, crop and pad columns", apply_pad, &x, 1, &p);
  pads last = {{0, 0, 2}, {0, 0, -1}}; /* the last axis itself */
  const int64_t s3[3] = {1, 1, 7};
  x = tu_tensor(tu_params, 3, s3, -1, 1, 4);
  gc_check("pad and crop the last axis", apply_pad, &x, 1, &last);
}

/* ---------------------------------------------------------------- repeat */

typedef struct {
  int axis, times;
} rep;

static loom_tensor *apply_repeat(loom_ctx *cx, loom_tensor **in, void *user) {
  const rep *r = user;
  return loom_repeat(cx, in[0], r->axis, r->times);
}

Test(layout, repeat_values_and_gradient) {
  const int64_t s[3] = {2, 3, 2};
  loom_tensor *x = tu_tensor(tu_params, 3, s, -1, 1, 5);
  loom_ctx *cx = new_ctx();
  loom_tensor *y = loom_repeat(cx, x, 1, 3);
  cr_assert(y && y->shape[1] == 9, "%s", loom_ctx_error(cx));
  const float *xd = loom_tensor_f32(x), *yd = loom_tensor_f32(y);
  for (int b = 0; b < 2; ++b)
    for (int i = 0; i < 9; ++i)
      for (int c = 0; c < 2; ++c) cr_assert_eq(yd[(b * 9 + i) * 2 + c], xd[(b * 3 + i / 3) * 2 + c]);
  cr_assert_null(loom_repeat(cx, x, 3, 2));
  cr_assert(strstr(loom_ctx_error(cx), "loom_repeat"), "%s", loom_ctx_error(cx));
  loom_ctx_free(cx);
  rep r = {1, 3};
  gc_check("repeat steps", apply_repeat, &x, 1, &r);
  r = (rep){2, 2};
  gc_check("repeat the last axis", apply_repeat, &x, 1, &r);
  r = (rep){0, 1};
  gc_check("repeat once", apply_repeat, &x, 1, &r);
}

/* ---------------------------------------------------------------- resize */

static loom_tensor *apply_resize(loom_ctx *cx, loom_tensor **in, void *user) {
  const int64_t *hw = user;
  return loom_resize_bilinear(cx, in[0], hw[0], hw[1]);
}

Test(layout, resize_bilinear_identity_and_gradient) {
  const int64_t s[4] = {1, 3, 5, 2};
  loom_tensor *x = tu_tensor(tu_params, 4, s, -1, 1, 6);
  loom_ctx *cx = new_ctx();
  loom_tensor *y = loom_resize_bilinear(cx, x, 3, 5); /* the same size: each pixel itself */
  cr_assert(y, "%s", loom_ctx_error(cx));
  cr_assert(!memcmp(loom_tensor_f32(y), loom_tensor_f32(x), (size_t)x->size * sizeof(float)));
  cr_assert_null(loom_resize_bilinear(cx, x, 0, 4));
  cr_assert(strstr(loom_ctx_error(cx), "loom_resize_bilinear"), "%s", loom_ctx_error(cx));
  loom_ctx_free(cx);
  int64_t hw[2] = {7, 2};
  gc_check("resize 3x5 to 7x2", apply_resize, &x, 1, hw);
  const int64_t s1[4] = {2, 1, 1, 3};
  x = tu_tensor(tu_params, 4, s1, -1, 1, 7);
  int64_t hw1[2] = {2, 3};
  gc_check("resize one pixel", apply_resize, &x, 1, hw1);
}

/* ---------------------------------------------------------------- transposed and causal conv */

typedef struct {
  bool two_d;
  int s, d;
  loom_padding pad;
  int op; /* output_padding, both axes; 0 here means 0 (LOOM_NONE for None) */
} conv_t_case;

static loom_tensor *apply_conv_t(loom_ctx *cx, loom_tensor **in, void *user) {
  const conv_t_case *k = user;
  return k->two_d ? loom_conv2d_transpose(cx, in[0], in[1], in[2], k->s, k->s, k->d, k->d, k->pad, k->op, k->op)
                  : loom_conv1d_transpose(cx, in[0], in[1], in[2], k->s, k->d, k->pad, k->op);
}

static void check_conv_t(const conv_t_case *k, const int64_t *xs, const int64_t *ks, uint64_t seed) {
  const int r = k->two_d ? 4 : 3;
  const int64_t sb[1] = {ks[r - 2]};
  loom_tensor *in[3] = {tu_tensor(tu_params, r, xs, -1, 1, seed), tu_tensor(tu_params, r, ks, -0.5f, 0.5f, seed + 1),
                        tu_tensor(tu_params, 1, sb, -0.3f, 0.3f, seed + 2)};
  gc_check(k->two_d ? "conv2d_transpose" : "conv1d_transpose", apply_conv_t, in, 3, (void *)k);
}

Test(layout, conv_transpose_gradients) {
  const int64_t x1[3] = {2, 7, 3}, k1[3] = {3, 1, 3};
  check_conv_t(&(conv_t_case){false, 2, 1, LOOM_SAME, LOOM_NONE}, x1, k1, 10);
  check_conv_t(&(conv_t_case){false, 2, 1, LOOM_SAME, 1}, x1, k1, 11);
  const int64_t x2[3] = {1, 1, 2}, k2[3] = {2, 3, 2};
  check_conv_t(&(conv_t_case){false, 3, 1, LOOM_VALID, LOOM_NONE}, x2, k2, 20);
  check_conv_t(&(conv_t_case){false, 3, 1, LOOM_VALID, 2}, x2, k2, 21);
  const int64_t x3[4] = {1, 3, 2, 2}, k3[4] = {3, 2, 2, 2};
  check_conv_t(&(conv_t_case){true, 2, 1, LOOM_SAME, LOOM_NONE}, x3, k3, 30);
  check_conv_t(&(conv_t_case){true, 2, 1, LOOM_SAME, 1}, x3, k3, 31);
  check_conv_t(&(conv_t_case){true, 1, 2, LOOM_VALID, LOOM_NONE}, x3, k3, 40);
  loom_ctx *cx = new_ctx();
  loom_tensor *x = tu_tensor(tu_params, 3, x1, -1, 1, 1), *k = tu_tensor(tu_params, 3, k2, -1, 1, 2);
  cr_assert_null(loom_conv1d_transpose(cx, x, k, NULL, 1, 1, LOOM_SAME, LOOM_NONE)); /* in 3 vs kernel's 2 */
  cr_assert(strstr(loom_ctx_error(cx), "loom_conv1d_transpose"), "%s", loom_ctx_error(cx));
  loom_ctx_reset(cx);
  k = tu_tensor(tu_params, 3, k1, -1, 1, 3);
  cr_assert_null(loom_conv1d_transpose(cx, x, k, NULL, 1, 1, LOOM_CAUSAL, LOOM_NONE));
  loom_ctx_reset(cx);
  cr_assert_null(loom_conv1d_transpose(cx, x, k, NULL, 2, 1, LOOM_SAME, 2)); /* not below the stride */
  cr_assert(strstr(loom_ctx_error(cx), "each must be below its stride"), "%s", loom_ctx_error(cx));
  loom_ctx_reset(cx);
  /* an even window, 'same' and output_padding 0: 2 * (7 - 1) = 12 convolves back to 6, not 7 */
  const int64_t ke[3] = {2, 1, 3};
  k = tu_tensor(tu_params, 3, ke, -1, 1, 4);
  cr_assert_null(loom_conv1d_transpose(cx, x, k, NULL, 2, 1, LOOM_SAME, 0));
  cr_assert(strstr(loom_ctx_error(cx), "does not convolve back"), "%s", loom_ctx_error(cx));
  loom_ctx_free(cx);
}

static loom_tensor *apply_causal(loom_ctx *cx, loom_tensor **in, void *user) {
  const int *sd = user;
  return loom_conv1d(cx, in[0], in[1], in[2], sd[0], sd[1], LOOM_CAUSAL, LOOM_TANH);
}

Test(layout, causal_conv1d) {
  const int64_t xs[3] = {2, 7, 3}, ks[3] = {3, 3, 2}, sb[1] = {2};
  loom_tensor *in[3] = {tu_tensor(tu_params, 3, xs, -1, 1, 50), tu_tensor(tu_params, 3, ks, -0.5f, 0.5f, 51),
                        tu_tensor(tu_params, 1, sb, -0.3f, 0.3f, 52)};
  int sd[2] = {2, 1};
  gc_check("causal, stride 2", apply_causal, in, 3, sd);
  sd[0] = 1, sd[1] = 3;
  gc_check("causal, dilation 3 (past the start)", apply_causal, in, 3, sd);
  /* output t reads inputs up to t alone: changing the last step moves the last output only */
  loom_ctx *cx = new_ctx();
  loom_tensor *y0 = loom_conv1d(cx, in[0], in[1], in[2], 1, 1, LOOM_CAUSAL, LOOM_LINEAR);
  cr_assert(y0 && y0->shape[1] == 7, "%s", loom_ctx_error(cx));
  float before[28];
  memcpy(before, loom_tensor_f32(y0), sizeof before);
  loom_tensor_f32(in[0])[6 * 3] += 1.0f; /* sample 0, step 6 */
  loom_tensor *y1 = loom_conv1d(cx, in[0], in[1], in[2], 1, 1, LOOM_CAUSAL, LOOM_LINEAR);
  for (int t = 0; t < 6; ++t)
    for (int c = 0; c < 2; ++c) cr_assert_eq(loom_tensor_f32(y1)[t * 2 + c], before[t * 2 + c]);
  cr_assert_neq(loom_tensor_f32(y1)[6 * 2], before[6 * 2]);
  const int64_t x4[4] = {1, 3, 3, 3}, k4[4] = {2, 2, 3, 2};
  cr_assert_null(loom_conv2d(cx, tu_tensor(tu_params, 4, x4, -1, 1, 1), tu_tensor(tu_params, 4, k4, -1, 1, 2), NULL,
                             1, 1, 1, 1, LOOM_CAUSAL, LOOM_LINEAR));
  loom_ctx_free(cx);
}
