/* test_conv_lstm_layer.c - ConvLSTM2D as a layer: predict is the op on the layer's own
 * weights (initial states and return_state's [output, h, c]; dropout inactive there);
 * Keras' parameter count, weight shapes, unit_forget_bias and the orthogonal recurrent
 * kernel as a [kh * kw * filters, 4 filters] matrix; training lowers the loss with
 * dropout on; save and load keep the predictions; bad options and inputs are refused
 * naming the layer. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "common/util.h"
#include "lib/models.h"

static loom_arena *arena;
static void setup(void) { arena = loom_arena_new(NULL); }
static void teardown(void) { loom_arena_free(arena); }
TestSuite(conv_lstm_layer, .init = setup, .fini = teardown);

Test(conv_lstm_layer, predict_is_the_op_with_states_and_return_state) {
  loom_graph *g = loom_graph_new(5);
  loom_node *x = loom_Input(g, .shape = {4, 7, 6, 2});
  loom_node *h0 = loom_Input(g, .shape = {3, 5, 3}), *c0 = loom_Input(g, .shape = {3, 5, 3});
  loom_layer *l = loom_ConvLSTM2D(g, .filters = 3, .kernel_size = {3, 2}, .strides = {2, 1}, .padding = LOOM_VALID,
                                  .return_sequences = true, .return_state = true, .go_backwards = true,
                                  .recurrent_activation = LOOM_HARD_SIGMOID, .dropout = 0.3f,
                                  .recurrent_dropout = 0.2f, .name = "clstm");
  cr_assert(l, "%s", loom_graph_error(g));
  loom_node *outs[3];
  cr_assert_eq(loom_call_outputs(l, 3, (loom_node *const[]){x, h0, c0}, 3, outs), 3, "%s", loom_graph_error(g));
  loom_model *m = loom_Model(g, .inputs = {x, h0, c0}, .outputs = {outs[0], outs[1], outs[2]});
  cr_assert(m, "%s", loom_graph_error(g));
  const int64_t sx[5] = {2, 4, 7, 6, 2}, sh[4] = {2, 3, 5, 3};
  loom_tensor *xs = tu_tensor(arena, 5, sx, -1, 1, 1), *hs = tu_tensor(arena, 4, sh, -1, 1, 2);
  loom_tensor *cs = tu_tensor(arena, 4, sh, -1, 1, 3), *y[3];
  cr_assert_eq(loom_predict(m, arena, y, .x = {xs, hs, cs}), LOOM_OK, "%s", loom_graph_error(g));
  cr_assert(y[0]->rank == 5 && y[0]->shape[1] == 4 && y[0]->shape[2] == 3 && y[0]->shape[3] == 5 &&
            y[0]->shape[4] == 3);
  loom_ctx *cx = loom_ctx_new(NULL);
  const loom_conv_lstm_cfg cfg = {.rnn = {LOOM_TANH, LOOM_HARD_SIGMOID, .return_sequences = true,
                                          .go_backwards = true},
                                  .strides = {2, 1}, .dilation = {1, 1}, .padding = LOOM_VALID};
  loom_tensor *c_last, *want = loom_conv_lstm2d(cx, xs, hs, cs, loom_layer_weight(l, "kernel"),
                                                loom_layer_weight(l, "recurrent_kernel"),
                                                loom_layer_weight(l, "bias"), &cfg, &c_last);
  cr_assert(want, "%s", loom_ctx_error(cx));
  cr_assert(!memcmp(loom_tensor_f32(want), loom_tensor_f32(y[0]), (size_t)want->size * sizeof(float)));
  const int64_t img = 3 * 5 * 3;
  for (int b = 0; b < 2; ++b)
    cr_assert(!memcmp(loom_tensor_f32(y[1]) + b * img, loom_tensor_f32(y[0]) + (b * 4 + 3) * img,
                      img * sizeof(float)), "h is the last step");
  cr_assert(!memcmp(loom_tensor_f32(c_last), loom_tensor_f32(y[2]), 2 * img * sizeof(float)), "c is the op's");
  loom_ctx_free(cx);
  loom_graph_free(g);
}

Test(conv_lstm_layer, keras_weights_parameter_count_and_initialisers) {
  loom_graph *g = loom_graph_new(1);
  loom_node *x = loom_Input(g, .shape = {10, 16, 16, 3});
  loom_layer *l = loom_ConvLSTM2D(g, .filters = 2, .kernel_size = {3}, .padding = LOOM_SAME);
  loom_model *m = loom_Model(g, .inputs = {x}, .outputs = {loom_call(l, x)});
  cr_assert(m, "%s", loom_graph_error(g));
  char *text = summary_text(m);
  /* 3*3*3*8 + 3*3*2*8 + 8 */
  cr_assert(strstr(text, "conv_lstm2d (ConvLSTM2D)") && strstr(text, "(None, 16, 16, 2)") &&
            strstr(text, "Total params: 368\n"), "%s", text);
  free(text);
  loom_tensor *k = loom_layer_weight(l, "kernel"), *r = loom_layer_weight(l, "recurrent_kernel");
  loom_tensor *b = loom_layer_weight(l, "bias");
  cr_assert(k->rank == 4 && k->shape[0] == 3 && k->shape[1] == 3 && k->shape[2] == 3 && k->shape[3] == 8);
  cr_assert(r->rank == 4 && r->shape[2] == 2 && r->shape[3] == 8 && b->rank == 1 && b->shape[0] == 8);
  for (int i = 0; i < 8; ++i) cr_assert_eq(loom_tensor_f32(b)[i], i >= 2 && i < 4 ? 1.0f : 0.0f, "bias[%d]", i);
  /* orthogonal as Keras draws it: R as [18, 8] has orthonormal columns */
  const float *rv = loom_tensor_f32(r);
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 8; ++j) {
      double dot = 0;
      for (int row = 0; row < 18; ++row) dot += (double)rv[row * 8 + i] * rv[row * 8 + j];
      cr_assert(fabs(dot - (i == j)) < 1e-5, "column %d . column %d = %g", i, j, dot);
    }
  /* glorot_uniform over the receptive field: limit sqrt(6 / (9 * 3 + 9 * 8)) */
  const float limit = sqrtf(6.0f / (27 + 72));
  float most = 0;
  for (int64_t i = 0; i < k->size; ++i) most = fmaxf(most, fabsf(loom_tensor_f32(k)[i]));
  cr_assert(most <= limit && most > 0.8f * limit, "max |kernel| %g, limit %g", most, limit);
  loom_graph_free(g);
}

/* Does the bright pixel move right or left over the steps? */
Test(conv_lstm_layer, training_lowers_the_loss_with_dropout) {
  const int n = 128;
  const int64_t sx[5] = {n, 4, 5, 5, 1}, sy[2] = {n, 1};
  loom_tensor *x = tu_tensor(arena, 5, sx, 0, 0, 1), *t = tu_tensor(arena, 2, sy, 0, 0, 2);
  for (int i = 0; i < n; ++i) {
    const int right = i % 2, row = (i / 2) % 5, start = right ? (i / 10) % 2 : 4 - (i / 10) % 2;
    loom_tensor_f32(t)[i] = (float)right;
    for (int s = 0; s < 4; ++s) {
      const int col = right ? start + s : start - s;
      if (col >= 0 && col < 5) loom_tensor_f32(x)[(((int64_t)i * 4 + s) * 5 + row) * 5 + col] = 1.0f;
    }
  }
  loom_graph *g = loom_graph_new(3);
  loom_node *in = loom_Input(g, .shape = {4, 5, 5, 1});
  loom_node *h = loom_call(loom_ConvLSTM2D(g, .filters = 4, .kernel_size = {3}, .padding = LOOM_SAME,
                                           .dropout = 0.1f, .recurrent_dropout = 0.1f), in);
  h = loom_call(loom_GlobalAveragePooling2D(g), h);
  loom_model *m = loom_Model(g, .inputs = {in}, .outputs = {loom_call(loom_Dense(g, .units = 1, .activation = LOOM_SIGMOID), h)});
  cr_assert(m, "%s", loom_graph_error(g));
  cr_assert_eq(loom_compile(m, .optimizer = {LOOM_ADAM, .learning_rate = 0.02f}, .loss = "binary_crossentropy"),
               LOOM_OK);
  const loom_history *hist = loom_fit(m, .x = {x}, .y = {t}, .epochs = 10, .batch_size = 16, .verbose = LOOM_SILENT);
  cr_assert(hist, "%s", loom_graph_error(g));
  const float *loss = loom_history_get(hist, "loss");
  cr_assert_lt(loss[9], 0.6f * loss[0], "loss %g -> %g", loss[0], loss[9]);
  loom_graph_free(g);
}

Test(conv_lstm_layer, save_and_load_keep_predictions) {
  loom_graph *g = loom_graph_new(5);
  loom_node *in = loom_Input(g, .shape = {3, 6, 5, 2});
  loom_node *outs[3];
  cr_assert_eq(loom_call_outputs(loom_ConvLSTM2D(g, .filters = 2, .kernel_size = {2, 3}, .dilation_rate = {2, 1},
                                                 .padding = LOOM_SAME, .activation = LOOM_SOFTSIGN,
                                                 .return_state = true, .unit_forget_bias = LOOM_NO,
                                                 .use_bias = LOOM_NO),
                                 1, &in, 3, outs),
               3, "%s", loom_graph_error(g));
  loom_model *m = loom_Model(g, .inputs = {in}, .outputs = {outs[0], outs[2]});
  cr_assert(m, "%s", loom_graph_error(g));
  loom_model *back = saved_and_loaded(m);
  cr_assert(back, "save and load: %s", loom_last_error());
  const int64_t sx[5] = {2, 3, 6, 5, 2};
  loom_tensor *x = tu_tensor(arena, 5, sx, -1, 1, 8), *a[2], *b[2];
  cr_assert_eq(loom_predict(m, arena, a, .x = {x}), LOOM_OK);
  cr_assert_eq(loom_predict(back, arena, b, .x = {x}), LOOM_OK, "%s", loom_last_error());
  for (int i = 0; i < 2; ++i)
    cr_assert(!memcmp(loom_tensor_f32(a[i]), loom_tensor_f32(b[i]), (size_t)a[i]->size * sizeof(float)), "output %d", i);
  char *text = summary_text(back);
  cr_assert(strstr(text, "Total params: 192\n"), "%s", text); /* 2*3*2*8 + 2*3*2*8, no bias */
  free(text);
  loom_graph_free(loom_model_graph(back));
  loom_graph_free(g);
}

Test(conv_lstm_layer, bad_options_and_inputs_name_the_layer) {
  loom_graph *g = loom_graph_new(1);
  cr_assert_null(loom_ConvLSTM2D(g, .kernel_size = {3}, .name = "cl"));
  cr_assert(strstr(loom_graph_error(g), "ConvLSTM2D \"cl\": filters, kernel_size, strides and dilation_rate must be > 0"),
            "%s", loom_graph_error(g));
  loom_graph_free(g);
  g = loom_graph_new(1);
  cr_assert_null(loom_ConvLSTM2D(g, .filters = 2, .kernel_size = {3}, .strides = {2}, .dilation_rate = {2}));
  cr_assert(strstr(loom_graph_error(g), "dilation_rate > 1 needs strides 1"), "%s", loom_graph_error(g));
  loom_graph_free(g);
  g = loom_graph_new(1);
  cr_assert_null(loom_ConvLSTM2D(g, .filters = 2, .kernel_size = {3}, .padding = LOOM_CAUSAL));
  cr_assert(strstr(loom_graph_error(g), "padding 'valid' or 'same'"), "%s", loom_graph_error(g));
  loom_graph_free(g);
  g = loom_graph_new(1);
  loom_node *x4 = loom_Input(g, .shape = {5, 5, 2});
  cr_assert_null(loom_call(loom_ConvLSTM2D(g, .filters = 2, .kernel_size = {3}, .name = "c4"), x4));
  cr_assert(strstr(loom_graph_error(g), "c4"), "%s", loom_graph_error(g));
  loom_graph_free(g);
  g = loom_graph_new(1);
  loom_node *x = loom_Input(g, .shape = {4, 6, 6, 1}), *h = loom_Input(g, .shape = {6, 6, 2});
  cr_assert_null(loom_call_n(loom_ConvLSTM2D(g, .filters = 2, .kernel_size = {3}, .name = "cs"), 3,
                             (loom_node *const[]){x, h, h}));
  cr_assert(strstr(loom_graph_error(g), "cs: initial_state [None, 6, 6, 2] must be [None, 4, 4, 2]"), "%s",
            loom_graph_error(g));
  loom_graph_free(g);
  g = loom_graph_new(1);
  loom_node *small = loom_Input(g, .shape = {4, 2, 6, 1});
  cr_assert_null(loom_call(loom_ConvLSTM2D(g, .filters = 2, .kernel_size = {3}, .name = "cv"), small));
  cr_assert(strstr(loom_graph_error(g), "cv: input") && strstr(loom_graph_error(g), "smaller than the window"), "%s",
            loom_graph_error(g));
  loom_graph_free(g);
}
