/* test_recurrent_layers.c - LSTM, GRU and SimpleRNN as layers: what predict gives is the op on
 * the layer's own weights; Keras' parameter counts; return_state and initial_state;
 * training lowers the loss; save and load keep the predictions; bad options are refused
 * naming the layer. */
#include <criterion/criterion.h>
#include <string.h>

#include "common/util.h"
#include "lib/models.h"

static loom_arena *arena;
static void setup(void) { arena = loom_arena_new(NULL); }
static void teardown(void) { loom_arena_free(arena); }
TestSuite(rnn_layers, .init = setup, .fini = teardown);

static loom_model *one_layer(loom_graph *g, loom_layer *l, int steps, int features) {
  cr_assert(l, "%s", loom_graph_error(g));
  loom_node *in = loom_Input(g, .shape = {steps, features});
  loom_node *y = loom_call(l, in);
  cr_assert(y, "%s", loom_graph_error(g));
  return loom_Model(g, .inputs = {in}, .outputs = {y});
}

Test(rnn_layers, predict_is_the_op_on_the_layers_weights) {
  for (int variant = 0; variant < 3; ++variant) {
    loom_graph *g = loom_graph_new(7);
    loom_layer *l = variant == 2 ? loom_SimpleRNN(g, .units = 6, .activation = LOOM_RELU, .return_sequences = true)
                                 : loom_GRU(g, .units = 6, .reset_after = variant ? LOOM_NO : LOOM_DEFAULT,
                                            .recurrent_activation = LOOM_HARD_SIGMOID, .go_backwards = true);
    loom_model *m = one_layer(g, l, 5, 4);
    const int64_t sx[3] = {3, 5, 4};
    loom_tensor *x = tu_tensor(arena, 3, sx, -1, 1, 3), *y[1];
    cr_assert_eq(loom_predict(m, arena, y, .x = {x}), LOOM_OK, "%s", loom_graph_error(g));
    loom_ctx *cx = loom_ctx_new(NULL);
    const loom_rnn_cfg cfg = {.activation = variant == 2 ? LOOM_RELU : LOOM_TANH,
                              .recurrent_activation = LOOM_HARD_SIGMOID, .return_sequences = variant == 2,
                              .go_backwards = variant != 2, .reset_after = variant == 0};
    loom_tensor *k = loom_layer_weight(l, "kernel"), *r = loom_layer_weight(l, "recurrent_kernel");
    loom_tensor *b = loom_layer_weight(l, "bias");
    cr_assert(k && r && b);
    if (variant == 0) cr_assert(b->rank == 2 && b->shape[0] == 2 && b->shape[1] == 18, "reset_after: bias [2, 3 units]");
    if (variant == 1) cr_assert(b->rank == 1 && b->shape[0] == 18);
    loom_tensor *want = variant == 2 ? loom_simple_rnn(cx, x, NULL, k, r, b, &cfg) : loom_gru(cx, x, NULL, k, r, b, &cfg);
    cr_assert(want, "%s", loom_ctx_error(cx));
    cr_assert_eq(want->size, y[0]->size);
    cr_assert(!memcmp(loom_tensor_f32(want), loom_tensor_f32(y[0]), (size_t)want->size * sizeof(float)), "variant %d", variant);
    loom_ctx_free(cx);
    loom_graph_free(g);
  }
}

/* LSTM with other activations, initial h and c, and return_state's [output, h, c]. */
Test(rnn_layers, lstm_states_and_activations) {
  loom_graph *g = loom_graph_new(9);
  loom_node *x = loom_Input(g, .shape = {5, 3}), *h0 = loom_Input(g, .shape = {4}), *c0 = loom_Input(g, .shape = {4});
  loom_layer *l = loom_LSTM(g, .units = 4, .activation = LOOM_RELU, .recurrent_activation = LOOM_HARD_SIGMOID,
                            .return_sequences = true, .return_state = true, .go_backwards = true, .name = "enc");
  loom_node *outs[3];
  cr_assert_eq(loom_call_outputs(l, 3, (loom_node *const[]){x, h0, c0}, 3, outs), 3, "%s", loom_graph_error(g));
  loom_model *m = loom_Model(g, .inputs = {x, h0, c0}, .outputs = {outs[0], outs[1], outs[2]});
  cr_assert(m, "%s", loom_graph_error(g));
  const int64_t sx[3] = {2, 5, 3}, sh[2] = {2, 4};
  loom_tensor *xs = tu_tensor(arena, 3, sx, -1, 1, 1), *hs = tu_tensor(arena, 2, sh, -1, 1, 2);
  loom_tensor *cs = tu_tensor(arena, 2, sh, -1, 1, 3), *y[3];
  cr_assert_eq(loom_predict(m, arena, y, .x = {xs, hs, cs}), LOOM_OK, "%s", loom_graph_error(g));
  loom_ctx *cx = loom_ctx_new(NULL);
  const loom_rnn_cfg cfg = {LOOM_RELU, LOOM_HARD_SIGMOID, .return_sequences = true, .go_backwards = true};
  loom_tensor *c_last = NULL;
  loom_tensor *want = loom_lstm(cx, xs, hs, cs, loom_layer_weight(l, "kernel"), loom_layer_weight(l, "recurrent_kernel"),
                                loom_layer_weight(l, "bias"), &cfg, &c_last);
  cr_assert(want && c_last, "%s", loom_ctx_error(cx));
  cr_assert(!memcmp(loom_tensor_f32(want), loom_tensor_f32(y[0]), 40 * sizeof(float)));
  for (int b = 0; b < 2; ++b)
    cr_assert(!memcmp(loom_tensor_f32(y[1]) + b * 4, loom_tensor_f32(y[0]) + (b * 5 + 4) * 4, 4 * sizeof(float)), "h is the last step");
  cr_assert(!memcmp(loom_tensor_f32(c_last), loom_tensor_f32(y[2]), 8 * sizeof(float)), "c is the op's last cell state");
  const float *bias = loom_tensor_f32(loom_layer_weight(l, "bias"));
  cr_assert(bias[3] == 0.0f && bias[4] == 1.0f && bias[7] == 1.0f && bias[8] == 0.0f, "unit_forget_bias: f starts at 1");
  loom_ctx_free(cx);
  cr_assert_null(loom_call_n(loom_LSTM(g, .units = 4, .name = "dec"), 2, (loom_node *const[]){x, h0}));
  cr_assert(strstr(loom_graph_error(g), "dec: takes [x] or [x, h, c] (initial_state), got 2 inputs"),
            "%s", loom_graph_error(g));
  loom_graph_free(g);
}

Test(rnn_layers, keras_parameter_counts) {
  static const struct { int kind; loom_flag reset_after; const char *total, *type; } cases[] = {
      {0, LOOM_DEFAULT, "Total params: 360\n", "gru (GRU)"}, /* 3 (5 * 8 + 8 * 8 + 2 * 8) */
      {0, LOOM_NO, "Total params: 336\n", "gru (GRU)"},      /* 3 (5 * 8 + 8 * 8 + 8) */
      {1, LOOM_DEFAULT, "Total params: 112\n", "simple_rnn (SimpleRNN)"}, /* 5 * 8 + 8 * 8 + 8 */
      {2, LOOM_DEFAULT, "Total params: 448\n", "lstm (LSTM)"}, /* 4 (5 * 8 + 8 * 8 + 8) */
  };
  for (int i = 0; i < 4; ++i) {
    loom_graph *g = loom_graph_new(1);
    loom_layer *l = cases[i].kind == 2 ? loom_LSTM(g, .units = 8)
                    : cases[i].kind ? loom_SimpleRNN(g, .units = 8) : loom_GRU(g, .units = 8, .reset_after = cases[i].reset_after);
    char *text = summary_text(one_layer(g, l, 10, 5));
    cr_assert(strstr(text, cases[i].total), "%s", text);
    cr_assert(strstr(text, cases[i].type), "%s", text);
    free(text);
    loom_graph_free(g);
  }
}

/* [x, initial_state] in, [sequence, state] out: the state is the sequence's last step,
 * and a zero initial state gives what no initial state gives. */
Test(rnn_layers, return_state_and_initial_state) {
  loom_graph *g = loom_graph_new(3);
  loom_node *x = loom_Input(g, .shape = {4, 3}), *h0 = loom_Input(g, .shape = {5});
  loom_layer *gru = loom_GRU(g, .units = 5, .return_sequences = true, .return_state = true);
  loom_node *outs[2];
  cr_assert_eq(loom_call_outputs(gru, 2, (loom_node *const[]){x, h0}, 2, outs), 2, "%s", loom_graph_error(g));
  loom_model *m = loom_Model(g, .inputs = {x, h0}, .outputs = {outs[0], outs[1]});
  cr_assert(m, "%s", loom_graph_error(g));
  const int64_t sx[3] = {2, 4, 3}, sh[2] = {2, 5};
  loom_tensor *xs = tu_tensor(arena, 3, sx, -1, 1, 1), *zero = tu_tensor(arena, 2, sh, 0, 0, 2), *y[2];
  cr_assert_eq(loom_predict(m, arena, y, .x = {xs, zero}), LOOM_OK, "%s", loom_graph_error(g));
  for (int b = 0; b < 2; ++b)
    cr_assert(!memcmp(loom_tensor_f32(y[1]) + b * 5, loom_tensor_f32(y[0]) + (b * 4 + 3) * 5, 5 * sizeof(float)));
  loom_graph *g2 = loom_graph_new(3);
  loom_node *x2 = loom_Input(g2, .shape = {4, 3});
  loom_layer *same = loom_GRU(g2, .units = 5, .return_sequences = true);
  loom_model *m2 = loom_Model(g2, .inputs = {x2}, .outputs = {loom_call(same, x2)});
  cr_assert(m2, "%s", loom_graph_error(g2));
  for (int i = 0; i < 3; ++i) {
    const loom_tensor *src = loom_layer_weight(gru, i == 0 ? "kernel" : i == 1 ? "recurrent_kernel" : "bias");
    memcpy(loom_tensor_f32(loom_layer_weight(same, i == 0 ? "kernel" : i == 1 ? "recurrent_kernel" : "bias")),
           loom_tensor_f32((loom_tensor *)src), (size_t)src->size * sizeof(float));
  }
  loom_tensor *z[1];
  cr_assert_eq(loom_predict(m2, arena, z, .x = {xs}), LOOM_OK);
  cr_assert(!memcmp(loom_tensor_f32(z[0]), loom_tensor_f32(y[0]), 40 * sizeof(float)));
  loom_graph_free(g2);
  cr_assert_null(loom_call_n(loom_SimpleRNN(g, .units = 5, .name = "rnn"), 2,
                             (loom_node *const[]){x, loom_Input(g, .shape = {4})}));
  cr_assert(strstr(loom_graph_error(g), "rnn") && strstr(loom_graph_error(g), "initial_state [None, 4] must be [batch, 5 units]"),
            "%s", loom_graph_error(g));
  loom_graph_free(g);
}

/* Is the sum of the sequence positive? A GRU and a SimpleRNN learn it. */
Test(rnn_layers, training_lowers_the_loss) {
  const int64_t sx[3] = {256, 6, 1}, sy[2] = {256, 1};
  loom_tensor *x = tu_tensor(arena, 3, sx, -1, 1, 4), *t = tu_tensor(arena, 2, sy, 0, 0, 5);
  for (int i = 0; i < 256; ++i) {
    float s = 0;
    for (int j = 0; j < 6; ++j) s += loom_tensor_f32(x)[i * 6 + j];
    loom_tensor_f32(t)[i] = s > 0;
  }
  for (int kind = 0; kind < 2; ++kind) {
    loom_graph *g = loom_graph_new(11);
    loom_node *in = loom_Input(g, .shape = {6, 1});
    loom_node *h = loom_call(kind ? loom_SimpleRNN(g, .units = 8) : loom_GRU(g, .units = 8), in);
    loom_model *m = loom_Model(g, .inputs = {in}, .outputs = {loom_call(loom_Dense(g, .units = 1, .activation = LOOM_SIGMOID), h)});
    cr_assert_eq(loom_compile(m, .optimizer = {LOOM_ADAM, .learning_rate = 0.01f}, .loss = "binary_crossentropy",
                              .metrics = {"acc"}),
                 LOOM_OK);
    const loom_history *hist = loom_fit(m, .x = {x}, .y = {t}, .epochs = 8, .batch_size = 16, .verbose = LOOM_SILENT);
    cr_assert(hist, "%s", loom_graph_error(g));
    const float *loss = loom_history_get(hist, "loss");
    cr_assert_lt(loss[7], 0.5f * loss[0], "%s: loss %g -> %g", kind ? "SimpleRNN" : "GRU", loss[0], loss[7]);
    loom_graph_free(g);
  }
}

Test(rnn_layers, save_and_load_keep_predictions) {
  loom_graph *g = loom_graph_new(5);
  loom_node *in = loom_Input(g, .shape = {5, 3});
  loom_node *h = loom_call(loom_GRU(g, .units = 4, .reset_after = LOOM_NO, .return_sequences = true,
                                    .activation = LOOM_SOFTSIGN), in);
  loom_node *outs[2], *louts[3];
  cr_assert_eq(loom_call_outputs(loom_SimpleRNN(g, .units = 3, .return_state = true, .go_backwards = true), 1, &h, 2, outs), 2,
               "%s", loom_graph_error(g));
  cr_assert_eq(loom_call_outputs(loom_LSTM(g, .units = 3, .activation = LOOM_RELU, .return_state = true,
                                           .unit_forget_bias = LOOM_NO), 1, &h, 3, louts), 3, "%s", loom_graph_error(g));
  loom_model *m = loom_Model(g, .inputs = {in}, .outputs = {outs[0], outs[1], louts[2]});
  cr_assert(m, "%s", loom_graph_error(g));
  loom_model *back = saved_and_loaded(m);
  cr_assert(back, "save and load: %s", loom_last_error());
  const int64_t sx[3] = {2, 5, 3};
  loom_tensor *x = tu_tensor(arena, 3, sx, -1, 1, 8), *a[3], *b[3];
  cr_assert_eq(loom_predict(m, arena, a, .x = {x}), LOOM_OK);
  cr_assert_eq(loom_predict(back, arena, b, .x = {x}), LOOM_OK, "%s", loom_last_error());
  for (int i = 0; i < 3; ++i) cr_assert(!memcmp(loom_tensor_f32(a[i]), loom_tensor_f32(b[i]), 6 * sizeof(float)));
  loom_graph_free(loom_model_graph(back));
  loom_graph_free(g);
}

Test(rnn_layers, bad_options_name_the_layer) {
  loom_graph *g = loom_graph_new(1);
  cr_assert_null(loom_GRU(g, .units = 0, .name = "enc"));
  cr_assert(strstr(loom_graph_error(g), "GRU \"enc\": units must be > 0, got 0"), "%s", loom_graph_error(g));
  loom_graph_free(g);
  g = loom_graph_new(1);
  cr_assert_null(loom_SimpleRNN(g, .units = 3, .activation = LOOM_SOFTMAX));
  cr_assert(strstr(loom_graph_error(g), "SimpleRNN: softmax is not an elementwise activation"), "%s", loom_graph_error(g));
  loom_graph_free(g);
}
