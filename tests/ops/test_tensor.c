/* test_tensor.c - tensor construction, views and bad shapes. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "loom.h"

Test(tensor, new_is_zeroed_with_shape_and_size) {
  loom_arena *a = loom_arena_new(NULL);
  const int64_t shape[3] = {2, 3, 4};
  loom_tensor *t = loom_tensor_new(a, LOOM_F32, 3, shape);
  cr_assert(t);
  cr_assert_eq(t->size, 24);
  cr_assert_eq(t->rank, 3);
  cr_assert_eq(t->shape[2], 4);
  cr_assert_eq((uintptr_t)t->data % 64, 0);
  for (int i = 0; i < 24; ++i) cr_assert_eq(loom_tensor_f32(t)[i], 0.0f);
  cr_assert_null(t->grad);
  cr_assert(!t->requires_grad);
  cr_assert_null(loom_tensor_i32(t), "an f32 tensor has no i32 view");
  loom_arena_free(a);
}

Test(tensor, from_copies_and_scalars_have_size_one) {
  loom_arena *a = loom_arena_new(NULL);
  const int32_t ids[4] = {3, 1, 4, 1};
  const int64_t shape[1] = {4};
  loom_tensor *t = loom_tensor_from(a, LOOM_I32, 1, shape, ids);
  cr_assert(t && memcmp(loom_tensor_i32(t), ids, sizeof ids) == 0);
  cr_assert_null(loom_tensor_f32(t));
  const float v = 2.5f;
  loom_tensor *s = loom_tensor_from(a, LOOM_F32, 0, NULL, &v);
  cr_assert(s && s->size == 1 && loom_tensor_f32(s)[0] == 2.5f);
  const int64_t empty[2] = {0, 5};
  loom_tensor *e = loom_tensor_new(a, LOOM_F32, 2, empty);
  cr_assert(e && e->size == 0);
  loom_arena_free(a);
}

Test(tensor, bad_arguments) {
  loom_arena *a = loom_arena_new(NULL);
  const int64_t shape[7] = {1, 2, 3, 4, 5, 6, 7};
  cr_assert_null(loom_tensor_new(NULL, LOOM_F32, 1, shape));
  cr_assert(strstr(loom_last_error(), "arena is NULL"));
  cr_assert_null(loom_tensor_new(a, (loom_dtype)9, 1, shape));
  cr_assert(strstr(loom_arena_error(a), "dtype"), "%s", loom_arena_error(a));
  cr_assert_null(loom_tensor_new(a, LOOM_F32, 7, shape));
  cr_assert(strstr(loom_arena_error(a), "rank 7"), "%s", loom_arena_error(a));
  cr_assert_null(loom_tensor_new(a, LOOM_F32, -1, shape));
  cr_assert_null(loom_tensor_new(a, LOOM_F32, 2, NULL));
  cr_assert(strstr(loom_arena_error(a), "shape is NULL"));
  const int64_t neg[2] = {3, -1};
  cr_assert_null(loom_tensor_new(a, LOOM_F32, 2, neg));
  cr_assert(strstr(loom_arena_error(a), "negative"), "%s", loom_arena_error(a));
  const int64_t huge[3] = {1ll << 30, 1ll << 30, 1ll << 30};
  cr_assert_null(loom_tensor_new(a, LOOM_F32, 3, huge));
  cr_assert(strstr(loom_arena_error(a), "more than"), "%s", loom_arena_error(a));
  cr_assert_null(loom_tensor_from(a, LOOM_F32, 1, shape, NULL));
  cr_assert(strstr(loom_arena_error(a), "data is NULL"));
  cr_assert_null(loom_tensor_f32(NULL));
  cr_assert_null(loom_tensor_i32(NULL));
  cr_assert_eq(loom_tensor_set_requires_grad(NULL, true), LOOM_EINVAL);
  loom_tensor *ids = loom_tensor_new(a, LOOM_I32, 1, shape);
  cr_assert_eq(loom_tensor_set_requires_grad(ids, true), LOOM_EDTYPE);
  cr_assert_eq(loom_tensor_set_requires_grad(ids, false), LOOM_OK);
  loom_arena_free(a);
}
