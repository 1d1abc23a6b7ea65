/* test_conv.c - convolutions against a direct six-loop reference (Keras layouts and
 * TensorFlow's padding), gradients by finite differences on odd shapes, errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "common/gradcheck.h"
#include "common/util.h"

TestSuite(conv, .init = tu_suite_open, .fini = tu_suite_close);

typedef struct {
  bool two_d;
  int64_t b, h, w, cin, cout;
  int kh, kw, sh, sw, dw;
  loom_padding pad;
  loom_activation act;
  bool bias;
  int dh; /* 2-D: the height's dilation (0: 1); dw is the width's */
} conv_case;

static int dil_h(const conv_case *k) { return k->two_d && k->dh ? k->dh : 1; }

static loom_tensor *apply(loom_ctx *c, loom_tensor **in, void *user) {
  const conv_case *k = user;
  loom_tensor *b = k->bias ? in[2] : NULL;
  return k->two_d ? loom_conv2d(c, in[0], in[1], b, k->sh, k->sw, dil_h(k), k->dw, k->pad, k->act)
                  : loom_conv1d(c, in[0], in[1], b, k->sw, k->dw, k->pad, k->act);
}

static void make_inputs(const conv_case *k, loom_tensor **in, uint64_t seed) {
  const int64_t x1[3] = {k->b, k->w, k->cin}, x2[4] = {k->b, k->h, k->w, k->cin};
  const int64_t k1[3] = {k->kw, k->cin, k->cout}, k2[4] = {k->kh, k->kw, k->cin, k->cout};
  const int64_t sb[1] = {k->cout};
  in[0] = tu_tensor(tu_params, k->two_d ? 4 : 3, k->two_d ? x2 : x1, -1, 1, seed);
  in[1] = tu_tensor(tu_params, k->two_d ? 4 : 3, k->two_d ? k2 : k1, -0.5f, 0.5f, seed + 1);
  in[2] = tu_tensor(tu_params, 1, sb, -0.3f, 0.3f, seed + 2);
}

/* Output length and leading pad as TensorFlow defines them. */
static int64_t out_len(int64_t in, int k, int s, int d, loom_padding pad, int64_t *lead) {
  const int64_t span = (int64_t)d * (k - 1) + 1;
  if (pad == LOOM_SAME) {
    const int64_t out = (in + s - 1) / s, total = (out - 1) * s + span - in;
    *lead = total > 0 ? total / 2 : 0;
    return out;
  }
  *lead = 0;
  return (in - span) / s + 1;
}

static void check_against_reference(const conv_case *k) {
  loom_tensor *in[3];
  make_inputs(k, in, 40);
  loom_tensor *y = apply(tu_cx, in, (void *)k);
  cr_assert(y, "%s", loom_ctx_error(tu_cx));
  int64_t pt, pl;
  const int sh = k->two_d ? k->sh : 1, dh = dil_h(k);
  const int64_t h = k->two_d ? k->h : 1, kh = k->two_d ? k->kh : 1;
  const int64_t oh = out_len(h, (int)kh, sh, dh, k->pad, &pt);
  const int64_t ow = out_len(k->w, k->kw, k->sw, k->dw, k->pad, &pl);
  cr_assert_eq(y->size, k->b * oh * ow * k->cout);
  const float *x = loom_tensor_f32(in[0]), *w = loom_tensor_f32(in[1]), *bb = loom_tensor_f32(in[2]);
  for (int64_t b = 0; b < k->b; ++b)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox)
        for (int64_t co = 0; co < k->cout; ++co) {
          double s = k->bias ? bb[co] : 0.0;
          for (int64_t ky = 0; ky < kh; ++ky)
            for (int64_t kx = 0; kx < k->kw; ++kx) {
              const int64_t iy = oy * sh - pt + ky * dh, ix = ox * k->sw - pl + kx * k->dw;
              if (iy < 0 || iy >= h || ix < 0 || ix >= k->w) continue;
              for (int64_t ci = 0; ci < k->cin; ++ci)
                s += (double)x[((b * h + iy) * k->w + ix) * k->cin + ci] *
                     w[((ky * k->kw + kx) * k->cin + ci) * k->cout + co];
            }
          if (k->act == LOOM_RELU) s = s > 0 ? s : 0;
          if (k->act == LOOM_TANH) s = tanh(s);
          const float got = loom_tensor_f32(y)[((b * oh + oy) * ow + ox) * k->cout + co];
          cr_assert(tu_close(got, s, 1e-5, 1e-5), "[%lld,%lld,%lld,%lld] %g vs %g", (long long)b,
                    (long long)oy, (long long)ox, (long long)co, got, s);
        }
}

static const conv_case cases[] = {
    /* 2d  b  h  w cin cout kh kw sh sw dw pad act bias dh */
    {false, 2, 1, 9, 3, 4, 1, 3, 1, 1, 1, LOOM_VALID, LOOM_LINEAR, true, 1},
    {false, 3, 1, 10, 5, 2, 1, 3, 1, 2, 1, LOOM_SAME, LOOM_RELU, true, 1},
    {false, 1, 1, 11, 2, 3, 1, 3, 1, 1, 2, LOOM_SAME, LOOM_TANH, false, 1}, /* dilation 2 */
    {false, 2, 1, 7, 4, 3, 1, 1, 1, 1, 1, LOOM_VALID, LOOM_LINEAR, true, 1}, /* 1x1: no patches */
    {true, 2, 5, 6, 3, 4, 3, 3, 1, 1, 1, LOOM_SAME, LOOM_LINEAR, true, 1},
    {true, 1, 7, 5, 2, 3, 3, 2, 2, 2, 1, LOOM_VALID, LOOM_RELU, true, 1},
    {true, 2, 6, 7, 3, 2, 3, 3, 2, 1, 1, LOOM_SAME, LOOM_TANH, false, 1},
    {true, 3, 4, 4, 5, 6, 1, 1, 1, 1, 1, LOOM_SAME, LOOM_LINEAR, true, 1}, /* 1x1 */
    {true, 2, 9, 8, 3, 2, 3, 3, 1, 1, 2, LOOM_SAME, LOOM_TANH, true, 2},   /* dilation 2x2 */
    {true, 1, 7, 9, 2, 3, 3, 2, 1, 1, 3, LOOM_VALID, LOOM_LINEAR, false, 2}, /* dilation 2x3 */
};

Test(conv, forward_matches_the_direct_reference) {
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) check_against_reference(&cases[i]);
}

Test(conv, gradients) {
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    conv_case k = cases[i];
    if (k.act == LOOM_RELU) k.act = LOOM_LINEAR; /* finite differences dislike the kink */
    loom_tensor *in[3];
    make_inputs(&k, in, 60 + i);
    gc_check(k.two_d ? "conv2d" : "conv1d", apply, in, k.bias ? 3 : 2, &k);
  }
}

Test(conv, bad_inputs) {
  const int64_t x1[3] = {2, 9, 3}, k1[3] = {3, 4, 2}, k2[3] = {20, 3, 2}, s5[1] = {5};
  loom_tensor *x = tu_tensor(tu_params, 3, x1, -1, 1, 1), *kb = tu_tensor(tu_params, 3, k1, -1, 1, 2);
  cr_assert_null(loom_conv1d(tu_cx, x, kb, NULL, 1, 1, LOOM_VALID, LOOM_LINEAR));
  cr_assert(strstr(loom_ctx_error(tu_cx), "loom_conv1d: input [2, 9, 3] does not fit kernel [3, 4, 2]"), "%s", loom_ctx_error(tu_cx));
  loom_ctx_reset(tu_cx);
  loom_tensor *big = tu_tensor(tu_params, 3, k2, -1, 1, 3);
  cr_assert_null(loom_conv1d(tu_cx, x, big, NULL, 1, 1, LOOM_VALID, LOOM_LINEAR));
  cr_assert(strstr(loom_ctx_error(tu_cx), "smaller than kernel"), "%s", loom_ctx_error(tu_cx));
  loom_ctx_reset(tu_cx);
  const int64_t k3[3] = {3, 3, 2};
  loom_tensor *k = tu_tensor(tu_params, 3, k3, -1, 1, 4), *b5 = tu_tensor(tu_params, 1, s5, -1, 1, 5);
  cr_assert_null(loom_conv1d(tu_cx, x, k, b5, 1, 1, LOOM_VALID, LOOM_LINEAR));
  cr_assert(strstr(loom_ctx_error(tu_cx), "bias [5] does not fit"), "%s", loom_ctx_error(tu_cx));
  loom_ctx_reset(tu_cx);
  cr_assert_null(loom_conv1d(tu_cx, x, k, NULL, -1, 1, LOOM_VALID, LOOM_LINEAR));
  cr_assert_eq(loom_ctx_status(tu_cx), LOOM_EINVAL);
  loom_ctx_reset(tu_cx);
  cr_assert_null(loom_conv2d(tu_cx, x, k, NULL, 1, 1, 1, 1, LOOM_VALID, LOOM_LINEAR));
  cr_assert(strstr(loom_ctx_error(tu_cx), "[batch, height, width, in]"), "%s", loom_ctx_error(tu_cx));
  cr_assert_null(loom_conv2d(NULL, x, k, NULL, 1, 1, 1, 1, LOOM_VALID, LOOM_LINEAR));
}
