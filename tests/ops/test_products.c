/* test_products.c - loom_batch_matmul and loom_l2_normalize (Dot's pieces): values
 * against direct sums, gradients by finite differences on odd shapes (one sample, k = 1,
 * 33 wide; rows that the epsilon clips), bad shapes refused naming the op. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "common/gradcheck.h"
#include "common/util.h"

TestSuite(products, .init = tu_suite_open, .fini = tu_suite_close);

static loom_tensor *apply_bmm(loom_ctx *cx, loom_tensor **in, void *user) {
  (void)user;
  return loom_batch_matmul(cx, in[0], in[1]);
}

Test(products, batch_matmul_values_and_gradients) {
  const int64_t dims[4][4] = {{2, 3, 4, 5}, {1, 1, 1, 1}, {3, 7, 1, 2}, {1, 2, 33, 3}};
  for (int c = 0; c < 4; ++c) {
    const int64_t B = dims[c][0], M = dims[c][1], K = dims[c][2], N = dims[c][3];
    const int64_t sa[3] = {B, M, K}, sb[3] = {B, K, N};
    loom_tensor *in[2] = {tu_tensor(tu_params, 3, sa, -1, 1, 10 + c), tu_tensor(tu_params, 3, sb, -1, 1, 20 + c)};
    loom_ctx *cx = loom_ctx_new(NULL);
    loom_tensor *y = loom_batch_matmul(cx, in[0], in[1]);
    cr_assert(y && y->shape[0] == B && y->shape[1] == M && y->shape[2] == N, "%s", loom_ctx_error(cx));
    for (int64_t b = 0; b < B; ++b)
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
          double s = 0;
          for (int64_t k = 0; k < K; ++k)
            s += (double)loom_tensor_f32(in[0])[(b * M + i) * K + k] * loom_tensor_f32(in[1])[(b * K + k) * N + j];
          cr_assert(tu_close(loom_tensor_f32(y)[(b * M + i) * N + j], s, 1e-6, 1e-5));
        }
    loom_ctx_free(cx);
    gc_check("batch_matmul", apply_bmm, in, 2, NULL);
  }
  loom_ctx *cx = loom_ctx_new(NULL);
  const int64_t sa[3] = {2, 3, 4}, sb[3] = {2, 5, 4};
  cr_assert_null(loom_batch_matmul(cx, tu_tensor(tu_params, 3, sa, -1, 1, 1), tu_tensor(tu_params, 3, sb, -1, 1, 2)));
  cr_assert(strstr(loom_ctx_error(cx), "loom_batch_matmul: shapes [2, 3, 4] and [2, 5, 4] do not multiply"), "%s",
            loom_ctx_error(cx));
  loom_ctx_free(cx);
}

static loom_tensor *apply_l2(loom_ctx *cx, loom_tensor **in, void *user) {
  return loom_l2_normalize(cx, in[0], *(const int *)user);
}

Test(products, l2_normalize_values_and_gradients) {
  const int64_t s[3] = {2, 3, 5};
  for (int axis = -1; axis < 3; ++axis) {
    loom_tensor *x = tu_tensor(tu_params, 3, s, -1, 1, 40 + axis);
    loom_ctx *cx = loom_ctx_new(NULL);
    loom_tensor *y = loom_l2_normalize(cx, x, axis);
    cr_assert(y, "%s", loom_ctx_error(cx));
    const int a = axis < 0 ? 2 : axis;
    int64_t stride = 1;
    for (int d = a + 1; d < 3; ++d) stride *= s[d];
    for (int64_t i = 0; i < x->size; ++i) { /* the norm along the axis through element i is 1 */
      const int64_t pos = (i / stride) % s[a], base = i - pos * stride;
      double n = 0;
      for (int64_t j = 0; j < s[a]; ++j) n += pow(loom_tensor_f32(y)[base + j * stride], 2);
      cr_assert(tu_close(n, 1.0, 1e-6, 1e-5), "axis %d element %lld: %g", axis, (long long)i, n);
    }
    loom_ctx_free(cx);
    gc_check("l2_normalize", apply_l2, &x, 1, &axis);
  }
  /* a zero row: the epsilon holds the scale, y = x / 1e-6 */
  const int64_t s2[2] = {2, 3};
  loom_tensor *x = tu_tensor(tu_params, 2, s2, -1, 1, 7);
  memset(loom_tensor_f32(x), 0, 3 * sizeof(float));
  loom_ctx *cx = loom_ctx_new(NULL);
  loom_tensor *y = loom_l2_normalize(cx, x, 1);
  cr_assert(y && loom_tensor_f32(y)[0] == 0.0f);
  /* inside the clip the scale is a constant: the gradient is 1e6 times the incoming one */
  loom_ctx_set_training(cx, true);
  loom_tensor_set_requires_grad(x, true);
  loom_tensor_f32(x)[1] = 1e-8f;
  y = loom_l2_normalize(cx, x, 1);
  const float ones[6] = {1, 1, 1, 1, 1, 1};
  cr_assert_eq(loom_backward_from(cx, y, ones), LOOM_OK, "%s", loom_ctx_error(cx));
  for (int j = 0; j < 3; ++j) cr_assert(tu_close(x->grad[j], 1e6, 0, 1e-6), "%g", x->grad[j]);
  loom_ctx_free(cx);
}
