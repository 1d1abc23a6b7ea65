/* test_xception_ops.c - depthwise convolution and batch normalisation: finite-difference
 * gradients, values worked by hand, Keras' moving-statistics update, bad arguments. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/gradcheck.h"
#include "common/util.h"
#include "ops/ops.h"

TestSuite(xception_ops, .init = tu_suite_open, .fini = tu_suite_close);

typedef struct {
  int s;
  loom_padding pad;
  bool bias;
  loom_activation act;
} dw_case;

static loom_tensor *apply_dw(loom_ctx *c, loom_tensor **in, void *user) {
  const dw_case *k = user;
  return loom_depthwise_conv2d(c, in[0], in[1], k->bias ? in[2] : NULL, k->s, k->s, k->pad, k->act);
}

Test(xception_ops, depthwise_gradients) {
  for (int dm = 1; dm <= 2; ++dm)
    for (int s = 1; s <= 2; ++s)
      for (int p = 0; p < 2; ++p) {
        const int64_t sx[4] = {2, 5, 4, 3}, sk[4] = {3, 3, 3, dm}, sb[1] = {3 * dm};
        loom_tensor *in[3] = {tu_tensor(tu_params, 4, sx, -1, 1, 1), tu_tensor(tu_params, 4, sk, -1, 1, 2),
                              tu_tensor(tu_params, 1, sb, -1, 1, 3)};
        dw_case k = {s, p ? LOOM_SAME : LOOM_VALID, dm == 1, p ? LOOM_TANH : LOOM_LINEAR};
        gc_check("depthwise_conv2d", apply_dw, in, k.bias ? 3 : 2, &k);
      }
}

typedef struct {
  bool training;
  loom_tensor *mm, *mv;
} bn_case;

static loom_tensor *apply_bn(loom_ctx *c, loom_tensor **in, void *user) {
  const bn_case *k = user;
  /* the mode given, whatever the ctx's (the checker's differences run in inference);
   * loom_batch_norm takes the ctx's flag: batch_norm_values_and_keras_moving_update */
  return lm_batch_norm(c, in[0], in[1], in[2], k->mm, k->mv, 0.99f, 1e-3f, k->training);
}

Test(xception_ops, batch_norm_gradients_in_training_and_inference) {
  const int64_t sx[3] = {3, 2, 5}, sc[1] = {5};
  for (int t = 0; t < 2; ++t) {
    bn_case k = {t == 1, tu_tensor(tu_params, 1, sc, -0.5f, 0.5f, 7), tu_tensor(tu_params, 1, sc, 0.5f, 2, 8)};
    loom_tensor *in[3] = {tu_tensor(tu_params, 3, sx, -2, 2, 1), tu_tensor(tu_params, 1, sc, 0.5f, 1.5f, 2),
                          tu_tensor(tu_params, 1, sc, -1, 1, 3)};
    gc_check(t ? "batch_norm(training)" : "batch_norm(inference)", apply_bn, in, 3, &k);
  }
}

Test(xception_ops, batch_norm_values_and_keras_moving_update) {
  /* one channel, values 1 2 3 4: mean 2.5, biased variance 1.25 */
  const float xv[4] = {1, 2, 3, 4}, zero = 0, one = 1;
  const int64_t sx[2] = {4, 1}, sc[1] = {1};
  loom_tensor *x = loom_tensor_from(tu_params, LOOM_F32, 2, sx, xv);
  loom_tensor *mm = loom_tensor_from(tu_params, LOOM_F32, 1, sc, &zero);
  loom_tensor *mv = loom_tensor_from(tu_params, LOOM_F32, 1, sc, &one);
  loom_ctx_set_training(tu_cx, true);
  loom_tensor *y = loom_batch_norm(tu_cx, x, NULL, NULL, mm, mv, 0.99f, 1e-3f);
  cr_assert(y, "%s", loom_ctx_error(tu_cx));
  for (int i = 0; i < 4; ++i)
    cr_assert_float_eq(loom_tensor_f32(y)[i], (float)((xv[i] - 2.5) / sqrt(1.25 + 1e-3)), 1e-6f);
  cr_assert_float_eq(loom_tensor_f32(mm)[0], 0.025f, 1e-7f);          /* 0 - (0 - 2.5) * 0.01 */
  cr_assert_float_eq(loom_tensor_f32(mv)[0], 1.0025f, 1e-7f);  /* 1 - (1 - 1.25) * 0.01 */
  loom_ctx_set_training(tu_cx, false); /* the ctx's flag picks the mode */
  y = loom_batch_norm(tu_cx, x, NULL, NULL, mm, mv, 0.99f, 1e-3f);
  cr_assert_float_eq(loom_tensor_f32(y)[0], (float)((1 - 0.025) / sqrt(1.0025 + 1e-3)), 1e-6f);
  cr_assert_float_eq(loom_tensor_f32(mm)[0], 0.025f, 1e-7f, "inference moved the statistics");
  const int64_t s3[1] = {3};
  cr_assert_null(loom_batch_norm(tu_cx, x, loom_tensor_new(tu_params, LOOM_F32, 1, s3), NULL, mm, mv, 0.99f, 1e-3f));
  cr_assert_eq(loom_ctx_status(tu_cx), LOOM_ESHAPE);
}

/* SeparableConv2D: the depthwise convolution, then a 1x1 one with bias and relu. */
static loom_tensor *apply_sep(loom_ctx *c, loom_tensor **in, void *user) {
  (void)user;
  loom_tensor *d = loom_depthwise_conv2d(c, in[0], in[1], NULL, 2, 2, LOOM_SAME, LOOM_LINEAR);
  return loom_conv2d(c, d, in[2], in[3], 1, 1, 1, 1, LOOM_VALID, LOOM_TANH);
}

Test(xception_ops, separable_gradients) {
  const int64_t sx[4] = {2, 5, 5, 3}, sk[4] = {3, 3, 3, 2}, sp[4] = {1, 1, 6, 4}, sb[1] = {4};
  loom_tensor *in[4] = {tu_tensor(tu_params, 4, sx, -1, 1, 1), tu_tensor(tu_params, 4, sk, -1, 1, 2),
                        tu_tensor(tu_params, 4, sp, -1, 1, 3), tu_tensor(tu_params, 1, sb, -1, 1, 4)};
  gc_check("separable_conv2d", apply_sep, in, 4, NULL);
}

/* lm_batch_norm_relu against relu(batch_norm): values, moving statistics, and the
 * gradients of x, gamma and beta for one seed dy, in training and inference. */
static void bn_relu_run(bool fused, bool training, loom_tensor **in, loom_tensor *mm, loom_tensor *mv,
                        const float *dy, float *out, float *grads) {
  loom_ctx *cx = loom_ctx_new(NULL);
  loom_ctx_set_training(cx, true);
  loom_tensor *y = fused ? lm_batch_norm_relu(cx, in[0], in[1], in[2], mm, mv, 0.9f, 1e-3f, training)
                         : loom_relu(cx, lm_batch_norm(cx, in[0], in[1], in[2], mm, mv, 0.9f, 1e-3f, training));
  cr_assert(y, "%s", loom_ctx_error(cx));
  memcpy(out, y->data, (size_t)y->size * 4);
  cr_assert_eq(loom_backward_from(cx, y, dy), LOOM_OK, "%s", loom_ctx_error(cx));
  size_t o = 0;
  for (int i = 0; i < 3; ++i) {
    memcpy(grads + o, in[i]->grad, (size_t)in[i]->size * 4);
    o += (size_t)in[i]->size;
  }
  loom_ctx_free(cx);
}

Test(xception_ops, batch_norm_relu_fused_equals_relu_of_batch_norm) {
  const int64_t sx[4] = {3, 5, 7, 33}, sc[1] = {33};
  const size_t n = 3 * 5 * 7 * 33;
  for (int t = 0; t < 2; ++t) {
    loom_tensor *in[3] = {tu_tensor(tu_params, 4, sx, -2, 2, 11), tu_tensor(tu_params, 1, sc, 0.5f, 1.5f, 12),
                          tu_tensor(tu_params, 1, sc, -1, 1, 13)};
    for (int i = 0; i < 3; ++i) loom_tensor_set_requires_grad(in[i], true);
    loom_tensor *stats[2][2];
    for (int k = 0; k < 2; ++k)
      stats[k][0] = tu_tensor(tu_params, 1, sc, -0.5f, 0.5f, 14), stats[k][1] = tu_tensor(tu_params, 1, sc, 0.5f, 2, 15);
    float *dy = malloc(n * 4), *y[2], *g[2];
    tu_fill(dy, n, -1, 1, 16);
    int clipped = 0;
    for (int k = 0; k < 2; ++k) {
      y[k] = malloc(n * 4), g[k] = malloc((n + 66) * 4);
      bn_relu_run(k == 1, t == 1, in, stats[k][0], stats[k][1], dy, y[k], g[k]);
    }
    for (size_t i = 0; i < n; ++i) {
      cr_assert(tu_close(y[1][i], y[0][i], 1e-6, 1e-5), "training %d y[%zu]: %g vs %g", t, i, y[1][i], y[0][i]);
      clipped += y[0][i] == 0.0f;
    }
    for (size_t i = 0; i < n + 66; ++i)
      cr_assert(tu_close(g[1][i], g[0][i], 1e-4, 1e-4), "training %d grad[%zu]: %g vs %g", t, i, g[1][i], g[0][i]);
    for (int j = 0; j < 33; ++j)
      cr_assert(tu_close(loom_tensor_f32(stats[1][0])[j], loom_tensor_f32(stats[0][0])[j], 1e-6, 1e-6) &&
                tu_close(loom_tensor_f32(stats[1][1])[j], loom_tensor_f32(stats[0][1])[j], 1e-6, 1e-6));
    cr_assert_gt(clipped, (int)n / 10, "the ReLU clipped only %d of %zu", clipped, n);
    for (int k = 0; k < 2; ++k) free(y[k]), free(g[k]);
    free(dy);
  }
}
