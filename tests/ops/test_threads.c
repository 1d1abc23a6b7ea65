/* test_threads.c - a forward and backward pass is bitwise the same with 1 and 2 threads. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

typedef struct {
  float loss;
  float *gw, *gb;
} step;

static step run(int threads) {
  cr_assert_eq(loom_set_num_threads(threads), LOOM_OK);
  loom_arena *params = loom_arena_new(NULL);
  const int64_t sx[2] = {64, 40}, sw[2] = {40, 2000}, sb[1] = {2000};
  loom_tensor *x = tu_tensor(params, 2, sx, -1, 1, 1);
  loom_tensor *w = tu_tensor(params, 2, sw, -0.2f, 0.2f, 2);
  loom_tensor *b = tu_tensor(params, 1, sb, -0.1f, 0.1f, 3);
  loom_tensor_set_requires_grad(w, true);
  loom_tensor_set_requires_grad(b, true);
  loom_ctx *cx = loom_ctx_new(NULL);
  loom_ctx_set_training(cx, true);
  loom_tensor *h = loom_add(cx, loom_matmul(cx, x, w), b);
  loom_tensor *loss = loom_mean(cx, loom_mul(cx, loom_softmax(cx, h), loom_sigmoid(cx, h)));
  cr_assert_eq(loom_backward(cx, loss), LOOM_OK, "%s", loom_ctx_error(cx));
  step s = {loom_tensor_f32(loss)[0], malloc(40 * 2000 * 4), malloc(2000 * 4)};
  memcpy(s.gw, w->grad, 40 * 2000 * 4);
  memcpy(s.gb, b->grad, 2000 * 4);
  loom_ctx_free(cx);
  loom_arena_free(params);
  return s;
}

Test(threads, training_step_is_bitwise_reproducible) {
  step a = run(1), b = run(2);
  cr_assert(memcmp(&a.loss, &b.loss, sizeof a.loss) == 0, "%.9g vs %.9g", a.loss, b.loss);
  cr_assert(memcmp(a.gw, b.gw, 40 * 2000 * 4) == 0, "weight gradient differs");
  cr_assert(memcmp(a.gb, b.gb, 2000 * 4) == 0, "bias gradient differs");
  free(a.gw);
  free(a.gb);
  free(b.gw);
  free(b.gb);
}
