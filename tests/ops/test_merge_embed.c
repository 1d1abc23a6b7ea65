/* test_merge_embed.c - add_n, concatenate and embedding: values, gradients, errors. */
#include <criterion/criterion.h>
#include <string.h>

#include "common/gradcheck.h"
#include "common/util.h"

TestSuite(merge, .init = tu_suite_open, .fini = tu_suite_close);

static loom_tensor *T(int rank, const int64_t *shape, uint64_t seed) {
  return tu_tensor(tu_params, rank, shape, -1.5f, 1.5f, seed);
}

static loom_tensor *apply_add_n(loom_ctx *c, loom_tensor **in, void *user) {
  return loom_add_n(c, *(int *)user, in);
}
static loom_tensor *apply_concat(loom_ctx *c, loom_tensor **in, void *user) {
  const int *nx = user; /* n, axis */
  return loom_concatenate(c, nx[0], in, nx[1]);
}

Test(merge, add_n_gradients) {
  const int64_t s[3] = {2, 3, 4};
  int n = 3;
  loom_tensor *in[3] = {T(3, s, 1), T(3, s, 2), T(3, s, 3)};
  gc_check("add_n", apply_add_n, in, 3, &n);
  loom_tensor *same[2] = {in[0], in[0]}; /* one tensor twice: twice the gradient */
  n = 2;
  loom_ctx_set_training(tu_cx, true);
  loom_tensor_set_requires_grad(in[0], true);
  cr_assert_eq(loom_backward(tu_cx, loom_sum(tu_cx, loom_add_n(tu_cx, 2, same))), LOOM_OK);
  for (int i = 0; i < 24; ++i) cr_assert_float_eq(in[0]->grad[i], 2.0f, 1e-6f);
}

Test(merge, concatenate_values_and_gradients) {
  const float a[4] = {1, 2, 3, 4}, b[2] = {5, 6};
  const int64_t sa[2] = {2, 2}, sb[2] = {2, 1};
  loom_tensor *in[2] = {loom_tensor_from(tu_params, LOOM_F32, 2, sa, a),
                        loom_tensor_from(tu_params, LOOM_F32, 2, sb, b)};
  loom_tensor *y = loom_concatenate(tu_cx, 2, in, -1);
  cr_assert(y && y->shape[0] == 2 && y->shape[1] == 3, "%s", loom_ctx_error(tu_cx));
  const float want[6] = {1, 2, 5, 3, 4, 6};
  cr_assert(memcmp(loom_tensor_f32(y), want, sizeof want) == 0);

  const int64_t s1[3] = {2, 3, 4}, s2[3] = {2, 1, 4}, s3[3] = {2, 5, 4};
  loom_tensor *mid[3] = {T(3, s1, 4), T(3, s2, 5), T(3, s3, 6)};
  int nx[2] = {3, 1};
  gc_check("concatenate axis 1", apply_concat, mid, 3, nx);
  const int64_t l1[3] = {2, 3, 4}, l2[3] = {2, 3, 7};
  loom_tensor *last[2] = {T(3, l1, 7), T(3, l2, 8)};
  int nl[2] = {2, -1};
  gc_check("concatenate axis -1", apply_concat, last, 2, nl);
  const int64_t f1[2] = {1, 3}, f2[2] = {4, 3};
  loom_tensor *first[2] = {T(2, f1, 9), T(2, f2, 10)};
  int nf[2] = {2, 0};
  gc_check("concatenate axis 0", apply_concat, first, 2, nf);
}

static loom_tensor *ids_fixed;
static loom_tensor *apply_embedding(loom_ctx *c, loom_tensor **in, void *user) {
  (void)user;
  return loom_embedding(c, ids_fixed, in[0]);
}

Test(merge, embedding_gathers_and_scatters) {
  const int64_t st[2] = {5, 3}, si[2] = {2, 3};
  const int32_t ids[6] = {4, 0, 4, 1, 1, 4}; /* repeats accumulate */
  ids_fixed = loom_tensor_from(tu_params, LOOM_I32, 2, si, ids);
  loom_tensor *table = T(2, st, 11);
  loom_tensor *y = loom_embedding(tu_cx, ids_fixed, table);
  cr_assert(y && y->rank == 3 && y->shape[2] == 3, "%s", loom_ctx_error(tu_cx));
  for (int i = 0; i < 6; ++i)
    cr_assert(memcmp(loom_tensor_f32(y) + i * 3, loom_tensor_f32(table) + ids[i] * 3, 12) == 0);
  gc_check("embedding", apply_embedding, &table, 1, NULL);
}

Test(merge, bad_inputs) {
  const int64_t s23[2] = {2, 3}, s32[2] = {3, 2}, s5[1] = {5};
  loom_tensor *a = T(2, s23, 1), *b = T(2, s32, 2);
  loom_tensor *ab[2] = {a, b};
  cr_assert_null(loom_add_n(tu_cx, 2, ab));
  cr_assert(strstr(loom_ctx_error(tu_cx), "loom_add_n: input 1 is [3, 2] but input 0 is [2, 3]"), "%s", loom_ctx_error(tu_cx));
  loom_ctx_reset(tu_cx);
  cr_assert_null(loom_add_n(tu_cx, 0, ab));
  cr_assert(strstr(loom_ctx_error(tu_cx), "at least one input"));
  loom_ctx_reset(tu_cx);
  cr_assert_null(loom_concatenate(tu_cx, 2, ab, -1));
  cr_assert(strstr(loom_ctx_error(tu_cx), "all dims but axis -1 must match"), "%s", loom_ctx_error(tu_cx));
  loom_ctx_reset(tu_cx);
  cr_assert_null(loom_concatenate(tu_cx, 2, ab, 2));
  cr_assert(strstr(loom_ctx_error(tu_cx), "axis 2 is outside the 2 dims"), "%s", loom_ctx_error(tu_cx));
  loom_ctx_reset(tu_cx);
  const int32_t bad[5] = {0, 1, 1, 0, 9};
  loom_tensor *ids = loom_tensor_from(tu_params, LOOM_I32, 1, s5, bad);
  cr_assert_null(loom_embedding(tu_cx, ids, a));
  cr_assert(strstr(loom_ctx_error(tu_cx), "id 9 at [4] is outside the table's 2 rows"), "%s", loom_ctx_error(tu_cx));
  loom_ctx_reset(tu_cx);
  cr_assert_null(loom_embedding(tu_cx, a, a));
  cr_assert_eq(loom_ctx_status(tu_cx), LOOM_EDTYPE);
  loom_ctx_reset(tu_cx);
  cr_assert_null(loom_embedding(tu_cx, ids, NULL));
  cr_assert(strstr(loom_ctx_error(tu_cx), "input 1 is NULL"));
  cr_assert_null(loom_embedding(NULL, ids, a));
  cr_assert_null(loom_concatenate(NULL, 2, ab, 0));
  cr_assert_null(loom_add_n(NULL, 2, ab));
}
