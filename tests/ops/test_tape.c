/* test_tape.c - recording, reverse walk, accumulation of tensors used twice. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "common/util.h"

static loom_arena *params;
static loom_ctx *cx;
static void setup(void) {
  params = loom_arena_new(NULL);
  cx = loom_ctx_new(NULL);
  loom_ctx_set_training(cx, true);
}
static void teardown(void) {
  loom_ctx_free(cx);
  loom_arena_free(params);
}
TestSuite(tape, .init = setup, .fini = teardown);

static loom_tensor *leaf(const float *v, int64_t n) {
  loom_tensor *t = loom_tensor_from(params, LOOM_F32, 1, &n, v);
  loom_tensor_set_requires_grad(t, true);
  return t;
}

Test(tape, tensor_feeding_two_ops_gets_the_sum) {
  /* L = sum(relu(x) * sigmoid(x)): dL/dx = relu'(x) s(x) + relu(x) s(x)(1 - s(x)) */
  const float v[4] = {-1.0f, 0.5f, 2.0f, -0.25f};
  loom_tensor *x = leaf(v, 4);
  loom_tensor *loss = loom_sum(cx, loom_mul(cx, loom_relu(cx, x), loom_sigmoid(cx, x)));
  cr_assert_eq(loom_ctx_tape_length(cx), 4);
  cr_assert_eq(loom_backward(cx, loss), LOOM_OK, "%s", loom_ctx_error(cx));
  for (int i = 0; i < 4; ++i) {
    const double s = 1.0 / (1.0 + exp(-v[i])), r = v[i] > 0 ? v[i] : 0.0;
    const double want = (v[i] > 0 ? s : 0.0) + r * s * (1.0 - s);
    cr_assert(tu_close(x->grad[i], want, 1e-6, 1e-5), "[%d] %g vs %g", i, x->grad[i], want);
  }
}

Test(tape, same_tensor_twice_in_one_op) {
  const float v[3] = {1.0f, -2.0f, 3.0f};
  loom_tensor *x = leaf(v, 3);
  cr_assert_eq(loom_backward(cx, loom_sum(cx, loom_mul(cx, x, x))), LOOM_OK);
  for (int i = 0; i < 3; ++i) cr_assert_float_eq(x->grad[i], 2.0f * v[i], 1e-6f);
  loom_ctx_reset(cx);
  loom_ctx_set_training(cx, true);
  cr_assert_null(x->grad, "reset forgets gradients");
  cr_assert_eq(loom_backward(cx, loom_sum(cx, loom_add(cx, x, x))), LOOM_OK);
  for (int i = 0; i < 3; ++i) cr_assert_float_eq(x->grad[i], 2.0f, 1e-6f);
}

Test(tape, diamond_through_a_shared_intermediate) {
  /* h = tanh(x); L = mean(h * h + h) -> dL/dx = (2h + 1)(1 - h^2) / n */
  const float v[5] = {0.1f, -0.7f, 1.3f, 0.0f, 2.2f};
  loom_tensor *x = leaf(v, 5);
  loom_tensor *h = loom_tanh(cx, x);
  loom_tensor *loss = loom_mean(cx, loom_add(cx, loom_mul(cx, h, h), h));
  cr_assert_eq(loom_backward(cx, loss), LOOM_OK);
  for (int i = 0; i < 5; ++i) {
    const double t = tanh(v[i]), want = (2 * t + 1) * (1 - t * t) / 5.0;
    cr_assert(tu_close(x->grad[i], want, 1e-6, 1e-5), "[%d] %g vs %g", i, x->grad[i], want);
  }
}

Test(tape, only_tensors_that_ask_get_gradients) {
  const float v[2] = {1.0f, 2.0f};
  loom_tensor *x = leaf(v, 2);
  int64_t n = 2;
  loom_tensor *c = loom_tensor_from(params, LOOM_F32, 1, &n, v); /* a constant */
  loom_tensor *loss = loom_sum(cx, loom_mul(cx, x, c));
  cr_assert_eq(loom_backward(cx, loss), LOOM_OK);
  cr_assert_null(c->grad);
  cr_assert_float_eq(x->grad[1], 2.0f, 1e-6f);
  loom_tensor *k = loom_sum(cx, c);
  cr_assert(!k->requires_grad, "constants only: nothing recorded");
}

Test(tape, inference_records_nothing) {
  loom_ctx_set_training(cx, false);
  cr_assert(!loom_ctx_training(cx));
  const float v[2] = {1.0f, 2.0f};
  loom_tensor *x = leaf(v, 2);
  loom_tensor *loss = loom_sum(cx, loom_relu(cx, x));
  cr_assert_eq(loom_ctx_tape_length(cx), 0);
  cr_assert(!loss->requires_grad);
  cr_assert_eq(loom_backward(cx, loss), LOOM_ESTATE);
  cr_assert(strstr(loom_ctx_error(cx), "training"), "%s", loom_ctx_error(cx));
}

Test(tape, backward_from_an_output_with_a_given_gradient) {
  const float v[3] = {0.5f, -1.0f, 2.0f}, g[3] = {1.0f, 10.0f, 100.0f};
  loom_tensor *x = leaf(v, 3);
  loom_tensor *y = loom_mul(cx, x, x);
  cr_assert_eq(loom_backward_from(cx, y, g), LOOM_OK);
  for (int i = 0; i < 3; ++i) cr_assert_float_eq(x->grad[i], 2 * v[i] * g[i], 1e-5f);
}

Test(tape, a_repeated_step_allocates_nothing_new) {
  const int64_t shape[2] = {64, 64};
  loom_tensor *w = tu_tensor(params, 2, shape, -1, 1, 3);
  loom_tensor *x = tu_tensor(params, 2, shape, -1, 1, 4);
  loom_tensor_set_requires_grad(w, true);
  size_t allocs = 0;
  for (int step = 0; step < 4; ++step) {
    loom_ctx_reset(cx);
    loom_tensor *loss = loom_mean(cx, loom_softmax(cx, loom_tanh(cx, loom_matmul(cx, x, w))));
    cr_assert_eq(loom_backward(cx, loss), LOOM_OK, "%s", loom_ctx_error(cx));
    const size_t now = loom_arena_get_stats(loom_ctx_arena(cx)).sys_allocs;
    if (step > 0) cr_assert_eq(now, allocs, "step %d made system allocations", step);
    allocs = now;
  }
}

Test(tape, reset_forgets_the_gradient_of_a_leaf_seed) {
  const float v[2] = {1.0f, 2.0f}, g[2] = {3.0f, 4.0f};
  loom_tensor *w = leaf(v, 2);
  cr_assert_eq(loom_backward_from(cx, w, g), LOOM_OK);
  cr_assert(w->grad && w->grad[1] == 4.0f);
  loom_ctx_reset(cx);
  cr_assert_null(w->grad, "no pointer into the reset arena is left behind");
}
