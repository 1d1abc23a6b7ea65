/* xor_mlp.c - trains a 2-8-1 MLP on XOR with loom's tensor + tape API.
 *
 * This is the layer under the Keras-style API: tensors in arenas, ops recorded on a
 * tape, loom_backward for the gradients, and a hand-written SGD step. The model API
 * (Input, Dense, Model, compile, fit) is built on exactly these pieces. */
#include <stdio.h>

#include "loom.h"

#define HIDDEN 8

static void sgd(loom_tensor *w, float lr) {
  float *p = loom_tensor_f32(w);
  for (int64_t i = 0; i < w->size; ++i) p[i] -= lr * w->grad[i];
}

int main(void) {
  loom_arena *params = loom_arena_new(NULL);
  loom_ctx *cx = loom_ctx_new(NULL);
  if (!params || !cx) {
    fprintf(stderr, "xor_mlp: %s\n", loom_last_error());
    return 1;
  }
  const float xs[8] = {0, 0, 0, 1, 1, 0, 1, 1}, ys[4] = {0, 1, 1, 0};
  const int64_t sx[2] = {4, 2}, sy[2] = {4, 1}, sw1[2] = {2, HIDDEN}, sb1[1] = {HIDDEN},
                sw2[2] = {HIDDEN, 1}, sb2[1] = {1};
  loom_tensor *x = loom_tensor_from(params, LOOM_F32, 2, sx, xs);
  loom_tensor *y = loom_tensor_from(params, LOOM_F32, 2, sy, ys);
  loom_tensor *w1 = loom_tensor_new(params, LOOM_F32, 2, sw1);
  loom_tensor *b1 = loom_tensor_new(params, LOOM_F32, 1, sb1);
  loom_tensor *w2 = loom_tensor_new(params, LOOM_F32, 2, sw2);
  loom_tensor *b2 = loom_tensor_new(params, LOOM_F32, 1, sb2);
  loom_tensor *weights[4] = {w1, b1, w2, b2};
  /* a fixed, asymmetric start (initialisers arrive with the layer API) */
  for (int i = 0; i < 2 * HIDDEN; ++i) loom_tensor_f32(w1)[i] = (float)((i * 7) % 11 - 5) / 4.0f;
  for (int i = 0; i < HIDDEN; ++i) loom_tensor_f32(w2)[i] = (float)((i * 5) % 7 - 3) / 3.0f;
  for (int i = 0; i < 4; ++i) loom_tensor_set_requires_grad(weights[i], true);

  loom_ctx_set_training(cx, true);
  float loss_v = 0.0f;
  for (int step = 0; step <= 2000; ++step) {
    loom_ctx_reset(cx);
    loom_tensor *h = loom_tanh(cx, loom_add(cx, loom_matmul(cx, x, w1), b1));
    loom_tensor *p = loom_sigmoid(cx, loom_add(cx, loom_matmul(cx, h, w2), b2));
    loom_tensor *d = loom_sub(cx, p, y);
    loom_tensor *loss = loom_mean(cx, loom_mul(cx, d, d));
    if (loom_backward(cx, loss) != LOOM_OK) {
      fprintf(stderr, "xor_mlp: %s\n", loom_ctx_error(cx));
      return 1;
    }
    loss_v = loom_tensor_f32(loss)[0];
    if (step % 400 == 0) printf("step %4d  mse %.5f\n", step, loss_v);
    for (int i = 0; i < 4; ++i) sgd(weights[i], 2.0f);
  }

  loom_ctx_set_training(cx, false);
  loom_ctx_reset(cx);
  loom_tensor *h = loom_tanh(cx, loom_add(cx, loom_matmul(cx, x, w1), b1));
  const float *p = loom_tensor_f32(loom_sigmoid(cx, loom_add(cx, loom_matmul(cx, h, w2), b2)));
  int right = 0;
  for (int i = 0; i < 4; ++i) {
    printf("%g xor %g -> %.3f\n", xs[2 * i], xs[2 * i + 1], p[i]);
    right += (p[i] > 0.5f) == (ys[i] > 0.5f);
  }
  const loom_arena_stats st = loom_arena_get_stats(loom_ctx_arena(cx));
  printf("%d/4 right; step arena: peak %zu bytes in %zu system allocation(s); SIMD %s\n", right,
         st.peak, st.sys_allocs, loom_simd_target());
  loom_ctx_free(cx);
  loom_arena_free(params);
  return right == 4 && loss_v < 0.01f ? 0 : 1;
}
