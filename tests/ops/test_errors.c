/* test_errors.c - bad arguments to the ctx, the ops and backward: clear errors that
 * propagate, never a crash. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "ops/ops.h"

static loom_arena *params;
static loom_ctx *cx;
static loom_tensor *m23, *m34, *v5, *ids;
static void setup(void) {
  params = loom_arena_new(NULL);
  cx = loom_ctx_new(NULL);
  const int64_t s23[2] = {2, 3}, s34[2] = {3, 4}, s5[1] = {5};
  m23 = tu_tensor(params, 2, s23, -1, 1, 1);
  m34 = tu_tensor(params, 2, s34, -1, 1, 2);
  v5 = tu_tensor(params, 1, s5, -1, 1, 3);
  ids = loom_tensor_new(params, LOOM_I32, 1, s5);
}
static void teardown(void) {
  loom_ctx_free(cx);
  loom_arena_free(params);
}
TestSuite(errors, .init = setup, .fini = teardown);

#define EXPECT_MSG(text) \
  cr_assert(strstr(loom_ctx_error(cx), text) != NULL, "ctx error: '%s'", loom_ctx_error(cx))

Test(errors, null_ctx) {
  cr_assert_null(loom_add(NULL, m23, m23));
  cr_assert(strstr(loom_last_error(), "loom_add: ctx is NULL"), "%s", loom_last_error());
  cr_assert_null(loom_relu(NULL, m23));
  cr_assert_eq(loom_ctx_set_training(NULL, true), LOOM_EINVAL);
  cr_assert(!loom_ctx_training(NULL));
  cr_assert_eq(loom_ctx_reset(NULL), LOOM_EINVAL);
  cr_assert_eq(loom_ctx_tape_length(NULL), 0);
  cr_assert_null(loom_ctx_arena(NULL));
  cr_assert_str_eq(loom_ctx_error(NULL), "ctx is NULL");
  cr_assert_eq(loom_ctx_status(NULL), LOOM_EINVAL);
  cr_assert_eq(loom_backward(NULL, m23), LOOM_EINVAL);
  cr_assert_eq(loom_backward_from(NULL, m23, NULL), LOOM_EINVAL);
  loom_ctx_free(NULL);
}

Test(errors, null_input_names_the_op) {
  cr_assert_null(loom_matmul(cx, NULL, m34));
  cr_assert_eq(loom_ctx_status(cx), LOOM_EINVAL);
  EXPECT_MSG("loom_matmul: input 0 is NULL");
}

Test(errors, first_error_propagates_through_a_chain) {
  loom_tensor *bad = loom_add(cx, m23, m34); /* shape mismatch */
  cr_assert_null(bad);
  EXPECT_MSG("loom_add: shapes [2, 3] and [3, 4] do not fit");
  loom_tensor *y = loom_softmax(cx, loom_tanh(cx, loom_relu(cx, bad)));
  cr_assert_null(y);
  cr_assert_eq(loom_ctx_status(cx), LOOM_ESHAPE);
  EXPECT_MSG("loom_add: shapes"); /* still the root cause */
  cr_assert_eq(loom_backward(cx, y), LOOM_ESHAPE);
  cr_assert(strstr(loom_last_error(), "failed earlier"), "%s", loom_last_error());
  loom_ctx_reset(cx);
  cr_assert_eq(loom_ctx_status(cx), LOOM_OK);
  cr_assert_str_eq(loom_ctx_error(cx), "");
  cr_assert(loom_relu(cx, m23), "a reset ctx works again");
}

Test(errors, dtype) {
  cr_assert_null(loom_sigmoid(cx, ids));
  cr_assert_eq(loom_ctx_status(cx), LOOM_EDTYPE);
  EXPECT_MSG("loom_sigmoid: input 0 is i32");
}

Test(errors, shapes) {
  cr_assert_null(loom_matmul(cx, m34, m23));
  EXPECT_MSG("loom_matmul: shapes [3, 4] and [2, 3] do not multiply");
  loom_ctx_reset(cx);
  cr_assert_null(loom_matmul(cx, v5, m34));
  EXPECT_MSG("[5]");
  loom_ctx_reset(cx);
  cr_assert_null(loom_mul(cx, v5, m34));
  EXPECT_MSG("loom_mul");
  loom_ctx_reset(cx);
  const float one = 1.0f;
  loom_tensor *s = loom_tensor_from(params, LOOM_F32, 0, NULL, &one);
  cr_assert_null(loom_softmax(cx, s));
  EXPECT_MSG("loom_softmax: the input is a scalar");
}

Test(errors, backward_misuse) {
  loom_ctx_set_training(cx, true);
  loom_tensor_set_requires_grad(m23, true);
  loom_tensor *y = loom_relu(cx, m23);
  cr_assert_eq(loom_backward(cx, y), LOOM_ESHAPE);
  EXPECT_MSG("one element");
  loom_ctx_reset(cx);
  cr_assert_eq(loom_backward(cx, NULL), LOOM_EINVAL);
  loom_ctx_reset(cx);
  cr_assert_eq(loom_backward_from(cx, loom_relu(cx, m23), NULL), LOOM_EINVAL);
  EXPECT_MSG("output gradient is NULL");
  loom_ctx_reset(cx);
  loom_tensor *k = loom_sum(cx, m34); /* m34 does not require a gradient */
  cr_assert_eq(loom_backward(cx, k), LOOM_ESTATE);
  EXPECT_MSG("depends on no tensor");
  loom_ctx_reset(cx);
  loom_tensor *loss = loom_sum(cx, m23);
  cr_assert_eq(loom_backward(cx, loss), LOOM_OK);
  cr_assert_eq(loom_backward(cx, loss), LOOM_ESTATE);
  EXPECT_MSG("already ran");
}

Test(errors, arena_exhaustion_inside_an_op) {
  loom_arena *small = loom_arena_create(.block_size = 4096, .max_bytes = 8192);
  loom_ctx *c2 = loom_ctx_new(small);
  const int64_t big[2] = {100, 100};
  loom_tensor *x = tu_tensor(params, 2, big, -1, 1, 5);
  cr_assert_null(loom_relu(c2, x));
  cr_assert_eq(loom_ctx_status(c2), LOOM_ENOMEM);
  cr_assert(strstr(loom_ctx_error(c2), "loom_relu: cannot allocate the output"), "%s",
            loom_ctx_error(c2));
  cr_assert(strstr(loom_ctx_error(c2), "limit of 8192"), "%s", loom_ctx_error(c2));
  loom_ctx_free(c2);
  loom_arena_free(small); /* the ctx does not own an arena it was given */
}

/* Every op, each bad argument: NULL ctx, NULL input, i32 input. */
typedef struct {
  const char *name;
  loom_tensor *(*un)(loom_ctx *, loom_tensor *);
  loom_tensor *(*bin)(loom_ctx *, loom_tensor *, loom_tensor *);
} op_entry;

static const op_entry all_ops[] = {
    {"loom_add", NULL, loom_add},         {"loom_sub", NULL, loom_sub},
    {"loom_mul", NULL, loom_mul},         {"loom_matmul", NULL, loom_matmul},
    {"loom_relu", loom_relu, NULL},       {"loom_sigmoid", loom_sigmoid, NULL},
    {"loom_tanh", loom_tanh, NULL},       {"loom_softmax", loom_softmax, NULL},
    {"loom_sum", loom_sum, NULL},         {"loom_mean", loom_mean, NULL},
};

static loom_tensor *call(const op_entry *op, loom_ctx *c, loom_tensor *x) {
  return op->un ? op->un(c, x) : op->bin(c, x, x);
}

Test(errors, every_op_rejects_every_bad_argument) {
  const int64_t s33[2] = {3, 3};
  loom_tensor *sq = tu_tensor(params, 2, s33, -1, 1, 9);
  loom_tensor *sq_ids = loom_tensor_new(params, LOOM_I32, 2, s33);
  for (size_t i = 0; i < sizeof all_ops / sizeof all_ops[0]; ++i) {
    const op_entry *op = &all_ops[i];
    char want[96];
    cr_assert(call(op, cx, sq), "%s works on good input: %s", op->name, loom_ctx_error(cx));

    cr_assert_null(call(op, NULL, sq), "%s with a NULL ctx", op->name);
    snprintf(want, sizeof want, "%s: ctx is NULL", op->name);
    cr_assert(strstr(loom_last_error(), want), "%s", loom_last_error());

    loom_ctx_reset(cx);
    cr_assert_null(call(op, cx, NULL), "%s with a NULL input", op->name);
    snprintf(want, sizeof want, "%s: input 0 is NULL", op->name);
    EXPECT_MSG(want);

    loom_ctx_reset(cx);
    cr_assert_null(call(op, cx, sq_ids), "%s with an i32 input", op->name);
    cr_assert_eq(loom_ctx_status(cx), LOOM_EDTYPE);
    snprintf(want, sizeof want, "%s: input 0 is i32", op->name);
    EXPECT_MSG(want);
    loom_ctx_reset(cx);
  }
}

Test(errors, dense_shapes_and_activation) {
  const int64_t s5[1] = {5}, s4[1] = {4};
  loom_tensor *b5 = tu_tensor(params, 1, s5, -1, 1, 7), *b4 = tu_tensor(params, 1, s4, -1, 1, 8);
  cr_assert(loom_dense(cx, m23, m34, b4, LOOM_RELU), "%s", loom_ctx_error(cx));
  cr_assert_null(loom_dense(cx, m34, m34, NULL, LOOM_LINEAR));
  EXPECT_MSG("loom_dense: input [3, 4] does not fit kernel [3, 4]");
  loom_ctx_reset(cx);
  cr_assert_null(loom_dense(cx, m23, m34, b5, LOOM_LINEAR));
  EXPECT_MSG("loom_dense: bias [5] does not fit kernel [3, 4]");
  loom_ctx_reset(cx);
  cr_assert_null(loom_dense(cx, m23, m34, NULL, (loom_activation)42));
  EXPECT_MSG("unknown activation 42");
  loom_ctx_reset(cx);
  cr_assert_null(loom_dense(cx, m23, NULL, NULL, LOOM_LINEAR));
  EXPECT_MSG("loom_dense: input 1 is NULL");
  loom_ctx_reset(cx);
  cr_assert_null(loom_dense(NULL, m23, m34, NULL, LOOM_LINEAR));
}

/* Scratch sizes are counted once, with an overflow check, not as hand-made byte counts. */
Test(errors, scratch_counts_that_overflow_are_errors) {
  loom_ctx *cx = loom_ctx_new(NULL);
  cr_assert_null(lm_scratch_f32(cx, "test_op", INT64_MAX / 2, 3));
  cr_assert_eq(loom_ctx_status(cx), LOOM_ENOMEM);
  cr_assert(strstr(loom_ctx_error(cx), "test_op: scratch of"), "%s", loom_ctx_error(cx));
  loom_ctx_reset(cx);
  cr_assert_null(lm_scratch_f32(cx, "test_op", (int64_t)1 << 62, 1)); /* the bytes overflow */
  loom_ctx_reset(cx);
  cr_assert_null(lm_scratch_i32(cx, "test_op", -1, 4));
  loom_ctx_reset(cx);
  float *p = lm_scratch_f32(cx, "test_op", 0, 7); /* empty: still a valid pointer */
  cr_assert(p);
  p = lm_scratch_f32(cx, "test_op", 33, 7);
  cr_assert(p);
  p[33 * 7 - 1] = 1.0f;
  loom_ctx_free(cx);
}
