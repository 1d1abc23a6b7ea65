/* test_rnn_dropout.c - dropout and recurrent_dropout of LSTM, GRU and SimpleRNN as Keras
 * draws them: in training a layer's output is the op on masks drawn from the graph's
 * generator in a fixed order (dropout alone: one [batch, in] mask for every step and
 * gate; with recurrent_dropout: one [batch, units] mask per gate for h_{t-1}, one
 * [batch, in] per gate for x); inference draws nothing; seeded training repeats
 * bitwise; rates outside [0, 1) are refused by name. */
#include <criterion/criterion.h>
#include <string.h>

#include "common/util.h"
#include "lib/graph/model.h"
#include "lib/layers/layer.h"

static loom_arena *arena;
static void setup(void) { arena = loom_arena_new(NULL); }
static void teardown(void) { loom_arena_free(arena); }
TestSuite(rnn_dropout, .init = setup, .fini = teardown);

/* What the layer should draw, drawn again from the same generator state. */
static loom_tensor *redraw(lm_rng *rng, int64_t rows, int64_t cols, float rate) {
  const int64_t s[2] = {rows, cols};
  loom_tensor *m = loom_tensor_new(arena, LOOM_F32, 2, s);
  for (int64_t i = 0; i < m->size; ++i)
    loom_tensor_f32(m)[i] = lm_rng_uniform(rng) >= (double)rate ? 1.0f / (1.0f - rate) : 0.0f;
  return m;
}

static void dropout_case(int kind, float rate, float rrate) {
  const int64_t B = 3, T = 4, D = 5, U = 2, g = kind == 0 ? 4 : kind == 1 ? 3 : 1;
  loom_graph *g0 = loom_graph_new(21);
  const loom_rnn_opts o = {.units = U, .return_sequences = true, .dropout = rate, .recurrent_dropout = rrate};
  loom_layer *l = kind == 0 ? loom_layer_lstm(g0, &o) : kind == 1 ? loom_layer_gru(g0, &o) : loom_layer_simple_rnn(g0, &o);
  loom_node *in = loom_Input(g0, .shape = {T, D});
  cr_assert(loom_call(l, in), "%s", loom_graph_error(g0));
  const int64_t sx[3] = {B, T, D};
  loom_tensor *x = tu_tensor(arena, 3, sx, -1, 1, 5), *out[LOOM_MAX_IO] = {0}, *z[LOOM_MAX_IO] = {0};
  loom_ctx *cx = loom_ctx_new(NULL);
  loom_ctx_set_training(cx, true);
  const lm_rng before = g0->rng;
  const lm_run run = {.cx = cx, .training = true};
  cr_assert_eq(l->kind->forward(l, &run, 1, &x, out, z), LOOM_OK, "%s", loom_graph_error(g0));
  /* the same from the ops and the masks drawn again */
  lm_rng rng = before;
  loom_rnn_cfg cfg = {.return_sequences = true, .reset_after = kind == 1};
  loom_tensor *xin = x;
  if (rrate > 0) {
    cfg.recurrent_mask = redraw(&rng, B, g * U, rrate);
    if (rate > 0) cfg.input_mask = redraw(&rng, B, g * D, rate);
  } else if (rate > 0) {
    loom_tensor *one = redraw(&rng, B, D, rate), *every = loom_tensor_new(arena, LOOM_F32, 3, sx);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < T; ++t)
        memcpy(loom_tensor_f32(every) + (b * T + t) * D, loom_tensor_f32(one) + b * D, (size_t)D * sizeof(float));
    xin = loom_mul(cx, x, every);
  }
  loom_tensor *w = l->w[0], *r = l->w[1], *bias = l->w[2];
  loom_tensor *want = kind == 0 ? loom_lstm(cx, xin, NULL, NULL, w, r, bias, &cfg, NULL)
                      : kind == 1 ? loom_gru(cx, xin, NULL, w, r, bias, &cfg)
                                  : loom_simple_rnn(cx, xin, NULL, w, r, bias, &cfg);
  cr_assert(want, "%s", loom_ctx_error(cx));
  cr_assert(!memcmp(loom_tensor_f32(out[0]), loom_tensor_f32(want), (size_t)want->size * sizeof(float)),
            "%s dropout %g recurrent_dropout %g", l->kind->class_name, (double)rate, (double)rrate);
  /* inference: the plain op, nothing drawn */
  loom_ctx *ix = loom_ctx_new(NULL);
  const lm_rng kept = g0->rng;
  const lm_run infer = {.cx = ix};
  cr_assert_eq(l->kind->forward(l, &infer, 1, &x, out, z), LOOM_OK);
  cr_assert(!memcmp(&kept, &g0->rng, sizeof kept), "inference drew from the generator");
  const loom_rnn_cfg plain = {.return_sequences = true, .reset_after = kind == 1};
  loom_tensor *p = kind == 0 ? loom_lstm(ix, x, NULL, NULL, w, r, bias, &plain, NULL)
                   : kind == 1 ? loom_gru(ix, x, NULL, w, r, bias, &plain)
                               : loom_simple_rnn(ix, x, NULL, w, r, bias, &plain);
  cr_assert(!memcmp(loom_tensor_f32(out[0]), loom_tensor_f32(p), (size_t)p->size * sizeof(float)));
  loom_ctx_free(ix);
  loom_ctx_free(cx);
  loom_graph_free(g0);
}

Test(rnn_dropout, training_draws_keras_masks) {
  for (int kind = 0; kind < 3; ++kind) {
    dropout_case(kind, 0.3f, 0.0f);
    dropout_case(kind, 0.0f, 0.4f);
    dropout_case(kind, 0.25f, 0.5f);
  }
}

static void fitted_kernel(float rate, float rrate, float *into, int64_t n) {
  loom_graph *g = loom_graph_new(31);
  loom_node *in = loom_Input(g, .shape = {5, 3});
  loom_layer *l = loom_GRU(g, .units = 4, .dropout = rate, .recurrent_dropout = rrate);
  loom_model *m = loom_Model(g, .inputs = {in}, .outputs = {loom_call(loom_Dense(g, .units = 1), loom_call(l, in))});
  cr_assert(m && loom_compile(m, .optimizer = {.kind = LOOM_ADAM}, .loss = "mse") == LOOM_OK, "%s", loom_graph_error(g));
  const int64_t sx[3] = {16, 5, 3}, sy[2] = {16, 1};
  cr_assert(loom_fit(m, .x = {tu_tensor(arena, 3, sx, -1, 1, 1)}, .y = {tu_tensor(arena, 2, sy, -1, 1, 2)}, .epochs = 2,
                     .batch_size = 4, .verbose = LOOM_SILENT),
            "%s", loom_graph_error(g));
  cr_assert_eq(loom_layer_weight(l, "kernel")->size, n);
  memcpy(into, loom_tensor_f32(loom_layer_weight(l, "kernel")), (size_t)n * sizeof(float));
  loom_graph_free(g);
}

Test(rnn_dropout, seeded_training_repeats_and_dropout_changes_it) {
  float a[36], b[36], none[36];
  fitted_kernel(0.2f, 0.2f, a, 36);
  fitted_kernel(0.2f, 0.2f, b, 36);
  fitted_kernel(0.0f, 0.0f, none, 36);
  cr_assert(!memcmp(a, b, sizeof a), "the same seed, the same masks");
  cr_assert(memcmp(a, none, sizeof a), "dropout changed nothing");
}

Test(rnn_dropout, rates_outside_zero_one_are_refused) {
  loom_graph *g = loom_graph_new(1);
  cr_assert_null(loom_LSTM(g, .units = 2, .recurrent_dropout = 1.0f, .name = "enc"));
  cr_assert(strstr(loom_graph_error(g), "LSTM \"enc\": dropout and recurrent_dropout must be in [0, 1), got 0 and 1"),
            "%s", loom_graph_error(g));
  loom_graph_free(g);
}
