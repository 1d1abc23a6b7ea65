/* test_recurrent.c - GRU (both variants), SimpleRNN and LSTM (initial h and c, the last
 * cell state as a second output) by finite differences on odd
 * shapes (one step, one unit, one sample) with every input and weight taking a gradient,
 * other activations than the defaults, go_backwards and initial states; loom_last_step;
 * bad shapes refused naming the op. */
#include <criterion/criterion.h>
#include <string.h>

#include "common/gradcheck.h"
#include "common/util.h"

static loom_arena *arena;
static void setup(void) { arena = loom_arena_new(NULL); }
static void teardown(void) { loom_arena_free(arena); }
TestSuite(recurrent, .init = setup, .fini = teardown);

typedef struct {
  bool gru, h0, bias;
  loom_rnn_cfg cfg;
} rnn_case;

static loom_tensor *apply(loom_ctx *cx, loom_tensor **in, void *user) {
  const rnn_case *c = user;
  loom_tensor *h0 = c->h0 ? in[3] : NULL, *bias = c->bias ? in[c->h0 ? 4 : 3] : NULL;
  return c->gru ? loom_gru(cx, in[0], h0, in[1], in[2], bias, &c->cfg)
                : loom_simple_rnn(cx, in[0], h0, in[1], in[2], bias, &c->cfg);
}

static void check(const rnn_case *c, int64_t b, int64_t t, int64_t d, int64_t u, uint64_t seed) {
  const int64_t g = c->gru ? 3 : 1;
  const int64_t sx[3] = {b, t, d}, sk[2] = {d, g * u}, sr[2] = {u, g * u}, sh[2] = {b, u};
  const int64_t sb2[2] = {2, g * u}, sb1[1] = {g * u};
  loom_tensor *in[5];
  int n = 0;
  in[n++] = tu_tensor(arena, 3, sx, -1, 1, seed);
  in[n++] = tu_tensor(arena, 2, sk, -0.7f, 0.7f, seed + 1);
  in[n++] = tu_tensor(arena, 2, sr, -0.7f, 0.7f, seed + 2);
  if (c->h0) in[n++] = tu_tensor(arena, 2, sh, -1, 1, seed + 3);
  if (c->bias) in[n++] = c->gru && c->cfg.reset_after ? tu_tensor(arena, 2, sb2, -0.4f, 0.4f, seed + 4)
                                                      : tu_tensor(arena, 1, sb1, -0.4f, 0.4f, seed + 4);
  gc_check(c->gru ? "gru" : "simple_rnn", apply, in, n, (void *)c);
}

Test(recurrent, gru_gradients) {
  const loom_activation acts[3][2] = {{LOOM_TANH, LOOM_SIGMOID}, {LOOM_SOFTSIGN, LOOM_HARD_SIGMOID}, {LOOM_LINEAR, LOOM_SIGMOID}};
  const int64_t dims[4][4] = {{2, 3, 4, 3}, {1, 1, 1, 1}, {3, 5, 2, 1}, {2, 4, 3, 7}};
  uint64_t seed = 100;
  for (int ra = 0; ra < 2; ++ra)
    for (int a = 0; a < 3; ++a)
      for (int dm = 0; dm < 4; ++dm) {
        rnn_case c = {.gru = true, .h0 = dm % 2 == 0, .bias = dm != 3,
                      .cfg = {acts[a][0], acts[a][1], .return_sequences = dm < 2, .go_backwards = dm % 3 == 0, .reset_after = ra}};
        check(&c, dims[dm][0], dims[dm][1], dims[dm][2], dims[dm][3], seed += 10);
      }
}

Test(recurrent, simple_rnn_gradients) {
  const loom_activation acts[3] = {LOOM_TANH, LOOM_SIGMOID, LOOM_SOFTPLUS}; /* smooth: no kink for the differences */
  const int64_t dims[4][4] = {{2, 3, 4, 3}, {1, 1, 1, 1}, {3, 5, 2, 1}, {2, 4, 3, 6}};
  uint64_t seed = 500;
  for (int a = 0; a < 3; ++a)
    for (int dm = 0; dm < 4; ++dm) {
      rnn_case c = {.gru = false, .h0 = dm % 2 == 1, .bias = dm != 2,
                    .cfg = {acts[a], LOOM_SIGMOID, .return_sequences = dm >= 2, .go_backwards = dm == 1 || dm == 3}};
      check(&c, dims[dm][0], dims[dm][1], dims[dm][2], dims[dm][3], seed += 10);
    }
}

/* LSTM: in = x, kernel, recurrent kernel, [h0, c0], [bias]; the function differentiated
 * is the output, the last c, or their sum (both [b, u] without sequences) */
typedef struct {
  bool states, bias;
  int out; /* 0: output, 1: last c, 2: output + last c */
  loom_rnn_cfg cfg;
} lstm_case;

static loom_tensor *apply_lstm(loom_ctx *cx, loom_tensor **in, void *user) {
  const lstm_case *c = user;
  loom_tensor *h0 = c->states ? in[3] : NULL, *c0 = c->states ? in[4] : NULL;
  loom_tensor *bias = c->bias ? in[c->states ? 5 : 3] : NULL, *c_last = NULL;
  loom_tensor *y = loom_lstm(cx, in[0], h0, c0, in[1], in[2], bias, &c->cfg, c->out ? &c_last : NULL);
  if (!y || c->out == 0) return y;
  return c->out == 1 ? c_last : loom_add(cx, y, c_last);
}

Test(recurrent, lstm_gradients) {
  const loom_activation acts[3][2] = {{LOOM_TANH, LOOM_SIGMOID}, {LOOM_SOFTSIGN, LOOM_HARD_SIGMOID}, {LOOM_LINEAR, LOOM_SIGMOID}};
  const int64_t dims[4][4] = {{2, 3, 4, 3}, {1, 1, 1, 1}, {3, 5, 2, 1}, {2, 4, 3, 7}};
  uint64_t seed = 900;
  for (int a = 0; a < 3; ++a)
    for (int dm = 0; dm < 4; ++dm) {
      const int64_t b = dims[dm][0], t = dims[dm][1], d = dims[dm][2], u = dims[dm][3];
      lstm_case c = {.states = dm != 1, .bias = dm != 3, .out = (dm + a) % 3,
                     .cfg = {acts[a][0], acts[a][1], .go_backwards = dm >= 2}};
      c.cfg.return_sequences = c.out == 1 && dm % 2 == 0; /* c alone: y's gradient is zero */
      const int64_t sx[3] = {b, t, d}, sk[2] = {d, 4 * u}, sr[2] = {u, 4 * u}, sh[2] = {b, u}, sb[1] = {4 * u};
      loom_tensor *in[6];
      int n = 0;
      in[n++] = tu_tensor(arena, 3, sx, -1, 1, seed += 10);
      in[n++] = tu_tensor(arena, 2, sk, -0.7f, 0.7f, seed + 1);
      in[n++] = tu_tensor(arena, 2, sr, -0.7f, 0.7f, seed + 2);
      if (c.states) {
        in[n++] = tu_tensor(arena, 2, sh, -1, 1, seed + 3);
        in[n++] = tu_tensor(arena, 2, sh, -1, 1, seed + 4);
      }
      if (c.bias) in[n++] = tu_tensor(arena, 1, sb, -0.4f, 0.4f, seed + 5);
      gc_check("lstm", apply_lstm, in, n, &c);
    }
}

static loom_tensor *apply_last(loom_ctx *cx, loom_tensor **in, void *user) {
  (void)user;
  return loom_last_step(cx, in[0]);
}
Test(recurrent, last_step) {
  const int64_t s3[3] = {2, 5, 3}, s4[4] = {3, 1, 2, 2};
  loom_tensor *x = tu_tensor(arena, 3, s3, -1, 1, 1);
  gc_check("last_step", apply_last, &x, 1, NULL);
  x = tu_tensor(arena, 4, s4, -1, 1, 2);
  gc_check("last_step rank 4", apply_last, &x, 1, NULL);
}

static loom_tensor *apply_reverse(loom_ctx *cx, loom_tensor **in, void *user) {
  (void)user;
  return loom_reverse_steps(cx, in[0]);
}
Test(recurrent, reverse_steps) {
  const int64_t s3[3] = {2, 5, 3}, s4[4] = {3, 1, 2, 2};
  loom_tensor *x = tu_tensor(arena, 3, s3, -1, 1, 3);
  gc_check("reverse_steps", apply_reverse, &x, 1, NULL);
  loom_ctx *cx = loom_ctx_new(NULL);
  loom_tensor *y = loom_reverse_steps(cx, x);
  cr_assert(y, "%s", loom_ctx_error(cx));
  for (int b = 0; b < 2; ++b)
    for (int s = 0; s < 5; ++s)
      cr_assert(!memcmp(loom_tensor_f32(y) + (b * 5 + s) * 3, loom_tensor_f32(x) + (b * 5 + 4 - s) * 3, 3 * sizeof(float)));
  loom_ctx_free(cx);
  x = tu_tensor(arena, 4, s4, -1, 1, 4);
  gc_check("reverse_steps rank 4, one step", apply_reverse, &x, 1, NULL);
}

Test(recurrent, bad_shapes_and_settings_are_refused) {
  loom_ctx *cx = loom_ctx_new(arena);
  const int64_t sx[3] = {2, 3, 4}, sk[2] = {4, 9}, sr[2] = {3, 9}, sb[1] = {9}, sh[2] = {2, 4};
  loom_tensor *x = tu_tensor(arena, 3, sx, -1, 1, 1), *k = tu_tensor(arena, 2, sk, -1, 1, 2);
  loom_tensor *r = tu_tensor(arena, 2, sr, -1, 1, 3), *b = tu_tensor(arena, 1, sb, -1, 1, 4);
  loom_tensor *h = tu_tensor(arena, 2, sh, -1, 1, 5);
  const loom_rnn_cfg after = {LOOM_TANH, LOOM_SIGMOID, .reset_after = true};
  cr_assert_null(loom_gru(cx, x, NULL, k, r, b, &after));
  cr_assert(strstr(loom_ctx_error(cx), "loom_gru: bias [9] does not fit 3 units (expected [2, 3 units] with reset_after)"),
            "%s", loom_ctx_error(cx));
  loom_ctx_reset(cx);
  cr_assert_null(loom_gru(cx, x, h, k, r, NULL, &after));
  cr_assert(strstr(loom_ctx_error(cx), "initial state [2, 4]"), "%s", loom_ctx_error(cx));
  loom_ctx_reset(cx);
  const loom_rnn_cfg soft = {LOOM_SOFTMAX, LOOM_SIGMOID, .reset_after = false};
  cr_assert_null(loom_gru(cx, x, NULL, k, r, NULL, &soft));
  cr_assert(strstr(loom_ctx_error(cx), "activation 5 is not an elementwise activation"), "%s", loom_ctx_error(cx));
  loom_ctx_reset(cx);
  cr_assert_null(loom_simple_rnn(cx, x, NULL, k, r, NULL, &after));
  cr_assert(strstr(loom_ctx_error(cx), "loom_simple_rnn: input [2, 3, 4], kernel [4, 9], recurrent kernel [3, 9]"),
            "%s", loom_ctx_error(cx));
  loom_ctx_free(cx);
}
