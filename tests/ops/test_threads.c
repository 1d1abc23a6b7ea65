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

/* Every layer op in one small network, forward and backward, at 1 and 2 threads. The
 * sizes are large enough that the kernels and GEMMs do split the work. */
typedef struct {
  float loss;
  float *grads;
  size_t n;
} net_run;

static net_run run_net(int threads) {
  cr_assert_eq(loom_set_num_threads(threads), LOOM_OK);
  loom_arena *p = loom_arena_new(NULL);
  const int64_t sx[3] = {16, 40, 24}, sk[3] = {5, 24, 64}, sb[1] = {64}, sw[2] = {64, 128};
  const int64_t su[2] = {32, 128}, sd[2] = {32, 10}, sdb[1] = {10}, st[2] = {16, 10};
  loom_tensor *w[7] = {tu_tensor(p, 3, sk, -0.3f, 0.3f, 2), tu_tensor(p, 1, sb, -0.1f, 0.1f, 3),
                       tu_tensor(p, 2, sw, -0.2f, 0.2f, 4), tu_tensor(p, 2, su, -0.2f, 0.2f, 5),
                       tu_tensor(p, 1, sw + 1, -0.1f, 0.1f, 6), tu_tensor(p, 2, sd, -0.3f, 0.3f, 7),
                       tu_tensor(p, 1, sdb, -0.1f, 0.1f, 8)};
  for (int i = 0; i < 7; ++i) loom_tensor_set_requires_grad(w[i], true);
  loom_tensor *x = tu_tensor(p, 3, sx, -1, 1, 1), *t = tu_tensor(p, 2, st, 0, 1, 9);
  loom_ctx *cx = loom_ctx_new(NULL);
  loom_ctx_set_training(cx, true);
  loom_tensor *h = loom_conv1d(cx, x, w[0], w[1], 1, 1, LOOM_SAME, LOOM_RELU);
  h = loom_max_pool1d(cx, h, 2, 0, LOOM_VALID);
  h = loom_lstm(cx, h, NULL, NULL, w[2], w[3], w[4], &(loom_rnn_cfg){0}, NULL);
  h = loom_dense(cx, h, w[5], w[6], LOOM_SOFTMAX);
  loom_tensor *loss = loom_loss_categorical_crossentropy(cx, t, h);
  cr_assert_eq(loom_backward(cx, loss), LOOM_OK, "%s", loom_ctx_error(cx));
  net_run r = {loom_tensor_f32(loss)[0], NULL, 0};
  for (int i = 0; i < 7; ++i) r.n += (size_t)w[i]->size;
  r.grads = malloc(r.n * sizeof(float));
  size_t at = 0;
  for (int i = 0; i < 7; ++i) {
    memcpy(r.grads + at, w[i]->grad, (size_t)w[i]->size * sizeof(float));
    at += (size_t)w[i]->size;
  }
  loom_ctx_free(cx);
  loom_arena_free(p);
  return r;
}

Test(threads, conv_pool_lstm_dense_step_is_bitwise_reproducible) {
  net_run a = run_net(1), b = run_net(2);
  cr_assert(memcmp(&a.loss, &b.loss, sizeof a.loss) == 0, "loss %.9g vs %.9g", a.loss, b.loss);
  cr_assert(memcmp(a.grads, b.grads, a.n * sizeof(float)) == 0, "gradients differ");
  free(a.grads);
  free(b.grads);
}

/* The recurrent ops, forward and backward, at 1 and 2 threads: GRU in both variants (its
 * fused kernels split the batch), SimpleRNN, and ConvLSTM2D (its convolutions split). */
enum { REC_GRU, REC_GRU_BEFORE, REC_SIMPLE, REC_CONV_LSTM, REC_KINDS };

static net_run run_recurrent(int kind, int threads) {
  cr_assert_eq(loom_set_num_threads(threads), LOOM_OK);
  loom_arena *p = loom_arena_new(NULL);
  const int64_t g = kind == REC_SIMPLE ? 1 : 3, u = 48;
  const int64_t sx[3] = {64, 12, 20}, sk[2] = {20, g * u}, sr[2] = {u, g * u}, sb1[1] = {g * u}, sb2[2] = {2, g * u};
  const int64_t cx5[5] = {8, 3, 12, 10, 3}, ck[4] = {3, 3, 3, 32}, cr[4] = {3, 3, 8, 32}, cb[1] = {32};
  const bool conv = kind == REC_CONV_LSTM;
  loom_tensor *x = conv ? tu_tensor(p, 5, cx5, -1, 1, 1) : tu_tensor(p, 3, sx, -1, 1, 1);
  loom_tensor *w[3] = {conv ? tu_tensor(p, 4, ck, -0.3f, 0.3f, 2) : tu_tensor(p, 2, sk, -0.3f, 0.3f, 2),
                       conv ? tu_tensor(p, 4, cr, -0.3f, 0.3f, 3) : tu_tensor(p, 2, sr, -0.3f, 0.3f, 3),
                       conv ? tu_tensor(p, 1, cb, -0.1f, 0.1f, 4)
                       : kind == REC_GRU ? tu_tensor(p, 2, sb2, -0.1f, 0.1f, 4)
                                         : tu_tensor(p, 1, sb1, -0.1f, 0.1f, 4)};
  for (int i = 0; i < 3; ++i) loom_tensor_set_requires_grad(w[i], true);
  loom_tensor_set_requires_grad(x, true);
  loom_ctx *cx = loom_ctx_new(NULL);
  loom_ctx_set_training(cx, true);
  const loom_rnn_cfg cfg = {.return_sequences = true, .reset_after = kind == REC_GRU};
  loom_tensor *h = kind == REC_SIMPLE ? loom_simple_rnn(cx, x, NULL, w[0], w[1], w[2], &cfg)
                   : conv ? loom_conv_lstm2d(cx, x, NULL, NULL, w[0], w[1], w[2],
                                             &(loom_conv_lstm_cfg){.rnn = cfg, .padding = LOOM_SAME}, NULL)
                          : loom_gru(cx, x, NULL, w[0], w[1], w[2], &cfg);
  loom_tensor *loss = loom_mean(cx, loom_mul(cx, h, h));
  cr_assert_eq(loom_backward(cx, loss), LOOM_OK, "%s", loom_ctx_error(cx));
  net_run r = {loom_tensor_f32(loss)[0], NULL, (size_t)x->size};
  for (int i = 0; i < 3; ++i) r.n += (size_t)w[i]->size;
  r.grads = malloc(r.n * sizeof(float));
  memcpy(r.grads, x->grad, (size_t)x->size * sizeof(float));
  size_t at = (size_t)x->size;
  for (int i = 0; i < 3; ++i) {
    memcpy(r.grads + at, w[i]->grad, (size_t)w[i]->size * sizeof(float));
    at += (size_t)w[i]->size;
  }
  loom_ctx_free(cx);
  loom_arena_free(p);
  return r;
}

Test(threads, recurrent_ops_are_bitwise_reproducible) {
  static const char *names[REC_KINDS] = {"GRU", "GRU reset_after=False", "SimpleRNN", "ConvLSTM2D"};
  for (int k = 0; k < REC_KINDS; ++k) {
    net_run a = run_recurrent(k, 1), b = run_recurrent(k, 2);
    cr_assert(memcmp(&a.loss, &b.loss, sizeof a.loss) == 0, "%s: loss %.9g vs %.9g", names[k], a.loss, b.loss);
    cr_assert(memcmp(a.grads, b.grads, a.n * sizeof(float)) == 0, "%s: gradients differ", names[k]);
    free(a.grads);
    free(b.grads);
  }
}
