/* test_pool.c - pooling: values worked by hand (TensorFlow's 'same' padding), gradients
 * by finite differences on odd sizes and strides, errors. */
#include <criterion/criterion.h>
#include <string.h>

#include "common/gradcheck.h"
#include "common/util.h"

TestSuite(pool, .init = tu_suite_open, .fini = tu_suite_close);

Test(pool, values_1d_valid_and_same) {
  const float v[5] = {1, 5, 2, 4, 3};
  const int64_t s[3] = {1, 5, 1};
  loom_tensor *x = loom_tensor_from(tu_params, LOOM_F32, 3, s, v);
  loom_tensor *m = loom_max_pool1d(tu_cx, x, 2, 0, LOOM_VALID); /* windows [1,5] [2,4] */
  cr_assert(m && m->shape[1] == 2, "%s", loom_ctx_error(tu_cx));
  cr_assert(loom_tensor_f32(m)[0] == 5 && loom_tensor_f32(m)[1] == 4);
  loom_tensor *ms = loom_max_pool1d(tu_cx, x, 2, 0, LOOM_SAME); /* 3 windows, last is [3] */
  cr_assert(ms->shape[1] == 3 && loom_tensor_f32(ms)[2] == 3);
  loom_tensor *as = loom_avg_pool1d(tu_cx, x, 2, 0, LOOM_SAME); /* padding not counted */
  cr_assert_float_eq(loom_tensor_f32(as)[0], 3.0f, 1e-6f);
  cr_assert_float_eq(loom_tensor_f32(as)[2], 3.0f, 1e-6f);
  loom_tensor *s3 = loom_max_pool1d(tu_cx, x, 3, 2, LOOM_SAME); /* out 3, pad total 2: 1 left */
  const float want[3] = {5, 5, 4};
  cr_assert(s3->shape[1] == 3 && memcmp(loom_tensor_f32(s3), want, sizeof want) == 0);
  loom_tensor *g = loom_global_max_pool(tu_cx, x), *ga = loom_global_avg_pool(tu_cx, x);
  cr_assert(g->rank == 2 && loom_tensor_f32(g)[0] == 5);
  cr_assert_float_eq(loom_tensor_f32(ga)[0], 3.0f, 1e-6f);
}

typedef struct {
  int kind; /* 0 max1d 1 avg1d 2 max2d 3 avg2d 4 gmax 5 gavg */
  int p, s, p2, s2;
  loom_padding pad;
} pool_case;

static loom_tensor *apply(loom_ctx *c, loom_tensor **in, void *user) {
  const pool_case *k = user;
  switch (k->kind) {
    case 0: return loom_max_pool1d(c, in[0], k->p, k->s, k->pad);
    case 1: return loom_avg_pool1d(c, in[0], k->p, k->s, k->pad);
    case 2: return loom_max_pool2d(c, in[0], k->p, k->p2, k->s, k->s2, k->pad);
    case 3: return loom_avg_pool2d(c, in[0], k->p, k->p2, k->s, k->s2, k->pad);
    case 4: return loom_global_max_pool(c, in[0]);
    default: return loom_global_avg_pool(c, in[0]);
  }
}

Test(pool, gradients_on_odd_shapes) {
  const int64_t s1[3] = {3, 7, 5}, s2[4] = {2, 5, 7, 3};
  const pool_case cases[] = {
      {0, 2, 0, 0, 0, LOOM_VALID}, {0, 3, 2, 0, 0, LOOM_SAME}, {1, 2, 0, 0, 0, LOOM_SAME},
      {1, 3, 2, 0, 0, LOOM_VALID}, {2, 2, 2, 3, 2, LOOM_SAME}, {2, 3, 1, 2, 3, LOOM_VALID},
      {3, 2, 0, 2, 0, LOOM_SAME},  {3, 3, 2, 3, 2, LOOM_VALID}, {4, 0, 0, 0, 0, LOOM_VALID},
      {5, 0, 0, 0, 0, LOOM_VALID},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    const bool two_d = cases[i].kind == 2 || cases[i].kind == 3;
    loom_tensor *x = loom_tensor_new(tu_params, LOOM_F32, two_d ? 4 : 3, two_d ? s2 : s1);
    /* distinct values, so no window has a tie for its maximum */
    float *v = loom_tensor_f32(x);
    for (int64_t j = 0; j < x->size; ++j) v[j] = (float)((j * 37) % 101) / 10.0f - 5.0f;
    gc_check("pool", apply, &x, 1, (void *)&cases[i]);
    if (cases[i].kind >= 4) { /* the global forms on 2-d inputs too */
      loom_tensor *x2 = loom_tensor_new(tu_params, LOOM_F32, 4, s2);
      for (int64_t j = 0; j < x2->size; ++j) loom_tensor_f32(x2)[j] = (float)((j * 53) % 97) / 10.0f;
      gc_check("global pool 2d", apply, &x2, 1, (void *)&cases[i]);
    }
  }
}

Test(pool, bad_inputs) {
  const int64_t s2[2] = {3, 4}, s3[3] = {1, 2, 3};
  loom_tensor *m = loom_tensor_new(tu_params, LOOM_F32, 2, s2), *x = loom_tensor_new(tu_params, LOOM_F32, 3, s3);
  cr_assert_null(loom_max_pool1d(tu_cx, m, 2, 0, LOOM_VALID));
  cr_assert(strstr(loom_ctx_error(tu_cx), "must be [batch, steps, channels]"), "%s", loom_ctx_error(tu_cx));
  loom_ctx_reset(tu_cx);
  cr_assert_null(loom_max_pool1d(tu_cx, x, 3, 0, LOOM_VALID));
  cr_assert(strstr(loom_ctx_error(tu_cx), "smaller than the 1x3 pool"), "%s", loom_ctx_error(tu_cx));
  loom_ctx_reset(tu_cx);
  cr_assert_null(loom_avg_pool2d(tu_cx, x, 2, 2, 0, 0, LOOM_VALID));
  cr_assert(strstr(loom_ctx_error(tu_cx), "[batch, height, width, channels]"), "%s", loom_ctx_error(tu_cx));
  loom_ctx_reset(tu_cx);
  cr_assert_null(loom_max_pool1d(tu_cx, x, 0, 0, LOOM_VALID));
  cr_assert_eq(loom_ctx_status(tu_cx), LOOM_EINVAL);
  loom_ctx_reset(tu_cx);
  cr_assert_null(loom_max_pool1d(tu_cx, x, 1, 1, (loom_padding)7));
  cr_assert_eq(loom_ctx_status(tu_cx), LOOM_EINVAL);
  loom_ctx_reset(tu_cx);
  cr_assert_null(loom_global_avg_pool(tu_cx, m));
  cr_assert(strstr(loom_ctx_error(tu_cx), "spatial dims"), "%s", loom_ctx_error(tu_cx));
  cr_assert_null(loom_global_max_pool(NULL, x));
  cr_assert_null(loom_max_pool2d(NULL, x, 1, 1, 1, 1, LOOM_VALID));
}
