/* test_wrappers.c - TimeDistributed and Bidirectional against their unwrapped
 * equivalents (the ops on the wrapper's own weights), every merge mode, return_state and
 * initial states, Keras' names and parameter counts, save and load, training, and the
 * wrongly wrapped layers refused by name. */
#include <criterion/criterion.h>
#include <string.h>

#include "common/util.h"
#include "lib/models.h"

static loom_arena *arena;
static void setup(void) { arena = loom_arena_new(NULL); }
static void teardown(void) { loom_arena_free(arena); }
TestSuite(wrappers, .init = setup, .fini = teardown);

static void same(const loom_tensor *a, const loom_tensor *b, const char *what) {
  cr_assert(a && b, "%s", what);
  cr_assert_eq(a->size, b->size, "%s: %lld vs %lld elements", what, (long long)a->size, (long long)b->size);
  cr_assert(!memcmp(loom_tensor_f32((loom_tensor *)a), loom_tensor_f32((loom_tensor *)b), (size_t)a->size * sizeof(float)),
            "%s", what);
}

Test(wrappers, time_distributed_is_the_layer_on_every_step) {
  loom_graph *g = loom_graph_new(3);
  loom_node *in = loom_Input(g, .shape = {5, 6});
  loom_layer *dense = loom_Dense(g, .units = 4, .activation = LOOM_SOFTMAX);
  loom_layer *td = loom_TimeDistributed(g, .layer = dense);
  cr_assert(td, "%s", loom_graph_error(g));
  loom_node *y = loom_call(td, in);
  cr_assert(y, "%s", loom_graph_error(g));
  int64_t shape[LOOM_MAX_RANK];
  cr_assert_eq(loom_node_shape(y, shape), 3);
  cr_assert(shape[1] == 5 && shape[2] == 4);
  loom_model *m = loom_Model(g, .inputs = {in}, .outputs = {y});
  char *text = summary_text(m);
  cr_assert(strstr(text, "time_distributed (TimeDistri") && strstr(text, "Total params: 28\n"), "%s", text);
  free(text);
  const int64_t sx[3] = {3, 5, 6}, s2[2] = {15, 6};
  loom_tensor *x = tu_tensor(arena, 3, sx, -1, 1, 1), *out[1];
  cr_assert_eq(loom_predict(m, arena, out, .x = {x}), LOOM_OK, "%s", loom_graph_error(g));
  loom_ctx *cx = loom_ctx_new(NULL);
  loom_tensor *flat = loom_tensor_from(arena, LOOM_F32, 2, s2, loom_tensor_f32(x));
  same(loom_dense(cx, flat, loom_layer_weight(td, "kernel"), loom_layer_weight(td, "bias"), LOOM_SOFTMAX), out[0],
       "TimeDistributed(Dense)");
  loom_ctx_free(cx);
  cr_assert_null(loom_call(dense, in));
  cr_assert(strstr(loom_graph_error(g), "is wrapped by TimeDistributed \"time_distributed\""), "%s", loom_graph_error(g));
  loom_graph_free(g);
}

/* Bidirectional(LSTM) == [forward LSTM, the backward one's sequence reversed], merged */
Test(wrappers, bidirectional_is_both_directions_merged) {
  const loom_merge_mode modes[5] = {LOOM_MERGE_CONCAT, LOOM_MERGE_SUM, LOOM_MERGE_MUL, LOOM_MERGE_AVE, LOOM_MERGE_NONE};
  for (int mi = 0; mi < 5; ++mi)
    for (int seq = 0; seq < 2; ++seq) {
      loom_graph *g = loom_graph_new(5 + mi);
      loom_node *in = loom_Input(g, .shape = {6, 3});
      loom_layer *bi = loom_Bidirectional(g, .layer = loom_LSTM(g, .units = 4, .return_sequences = seq),
                                          .merge_mode = modes[mi]);
      cr_assert(bi, "%s", loom_graph_error(g));
      loom_node *outs[2];
      const int n_out = loom_call_outputs(bi, 1, &in, 2, outs);
      cr_assert_eq(n_out, modes[mi] == LOOM_MERGE_NONE ? 2 : 1, "%s", loom_graph_error(g));
      loom_model *m = n_out == 2 ? loom_Model(g, .inputs = {in}, .outputs = {outs[0], outs[1]})
                                 : loom_Model(g, .inputs = {in}, .outputs = {outs[0]});
      cr_assert(m, "%s", loom_graph_error(g));
      const int64_t sx[3] = {2, 6, 3};
      loom_tensor *x = tu_tensor(arena, 3, sx, -1, 1, 2), *y[2];
      cr_assert_eq(loom_predict(m, arena, y, .x = {x}), LOOM_OK, "%s", loom_graph_error(g));
      loom_ctx *cx = loom_ctx_new(NULL);
      loom_tensor *w[6];
      const char *names[6] = {"forward_lstm/kernel", "forward_lstm/recurrent_kernel", "forward_lstm/bias",
                              "backward_lstm/kernel", "backward_lstm/recurrent_kernel", "backward_lstm/bias"};
      for (int i = 0; i < 6; ++i) cr_assert((w[i] = loom_layer_weight(bi, names[i])), "weight %s", names[i]);
      loom_tensor *f = loom_lstm(cx, x, NULL, NULL, w[0], w[1], w[2], &(loom_rnn_cfg){.return_sequences = seq}, NULL);
      loom_tensor *b = loom_lstm(cx, x, NULL, NULL, w[3], w[4], w[5],
                                 &(loom_rnn_cfg){.return_sequences = seq, .go_backwards = true}, NULL);
      if (seq) b = loom_reverse_steps(cx, b);
      loom_tensor *both[2] = {f, b};
      loom_tensor *want = modes[mi] == LOOM_MERGE_CONCAT ? loom_concatenate(cx, 2, both, -1)
                          : modes[mi] == LOOM_MERGE_SUM  ? loom_add(cx, f, b)
                          : modes[mi] == LOOM_MERGE_MUL  ? loom_mul(cx, f, b)
                          : modes[mi] == LOOM_MERGE_AVE  ? loom_average_n(cx, 2, both)
                                                         : f;
      char what[64];
      snprintf(what, sizeof what, "merge mode %d, sequences %d", (int)modes[mi], seq);
      same(want, y[0], what);
      if (n_out == 2) same(b, y[1], what);
      loom_ctx_free(cx);
      loom_graph_free(g);
    }
}

Test(wrappers, bidirectional_states_and_initial_states) {
  loom_graph *g = loom_graph_new(9);
  loom_node *x = loom_Input(g, .shape = {4, 3}), *s[4];
  for (int i = 0; i < 4; ++i) s[i] = loom_Input(g, .shape = {5});
  loom_layer *bi = loom_Bidirectional(g, .layer = loom_LSTM(g, .units = 5, .return_state = true, .name = "enc"));
  loom_node *outs[5];
  cr_assert_eq(loom_call_outputs(bi, 5, (loom_node *const[]){x, s[0], s[1], s[2], s[3]}, 5, outs), 5, "%s",
               loom_graph_error(g));
  int64_t shape[LOOM_MAX_RANK];
  cr_assert(loom_node_shape(outs[0], shape) == 2 && shape[1] == 10, "concat of two 5-unit states");
  loom_model *m = loom_Model(g, .inputs = {x, s[0], s[1], s[2], s[3]}, .outputs = {outs[0], outs[1], outs[2], outs[3], outs[4]});
  cr_assert(m, "%s", loom_graph_error(g));
  char *text = summary_text(m);
  cr_assert(strstr(text, "Total params: 360\n"), "2 x 4 (3 * 5 + 5 * 5 + 5): %s", text);
  free(text);
  const int64_t sx[3] = {2, 4, 3}, sh[2] = {2, 5};
  loom_tensor *xs = tu_tensor(arena, 3, sx, -1, 1, 1), *st[4], *y[5];
  for (int i = 0; i < 4; ++i) st[i] = tu_tensor(arena, 2, sh, -1, 1, 10 + i);
  cr_assert_eq(loom_predict(m, arena, y, .x = {xs, st[0], st[1], st[2], st[3]}), LOOM_OK, "%s", loom_graph_error(g));
  loom_ctx *cx = loom_ctx_new(NULL);
  loom_tensor *cf = NULL, *cb = NULL;
  loom_tensor *f = loom_lstm(cx, xs, st[0], st[1], loom_layer_weight(bi, "forward_enc/kernel"),
                             loom_layer_weight(bi, "forward_enc/recurrent_kernel"), loom_layer_weight(bi, "forward_enc/bias"),
                             &(loom_rnn_cfg){0}, &cf);
  loom_tensor *b = loom_lstm(cx, xs, st[2], st[3], loom_layer_weight(bi, "backward_enc/kernel"),
                             loom_layer_weight(bi, "backward_enc/recurrent_kernel"),
                             loom_layer_weight(bi, "backward_enc/bias"), &(loom_rnn_cfg){.go_backwards = true}, &cb);
  same(f, y[1], "forward h");
  same(cf, y[2], "forward c");
  same(b, y[3], "backward h");
  same(cb, y[4], "backward c");
  loom_ctx_free(cx);
  cr_assert_lt(loom_call_outputs(bi, 3, (loom_node *const[]){x, s[0], s[1]}, 5, outs), 0);
  cr_assert(strstr(loom_graph_error(g), "takes [x] or [x, 2 forward states, 2 backward states], got 3 inputs"), "%s",
            loom_graph_error(g));
  loom_graph_free(g);
}

static loom_model *tagger(loom_graph *g) {
  loom_node *in = loom_Input(g, .shape = {6, 2});
  loom_node *h = loom_call(loom_Bidirectional(g, .layer = loom_GRU(g, .units = 6, .return_sequences = true),
                                              .merge_mode = LOOM_MERGE_SUM), in);
  loom_node *y = loom_call(loom_TimeDistributed(g, .layer = loom_Dense(g, .units = 1, .activation = LOOM_SIGMOID)), h);
  return loom_Model(g, .inputs = {in}, .outputs = {y});
}

/* Is the running sum of the sequence positive at each step? Both directions are needed
 * for nothing here, but the gradient must pass through both wrappers. */
Test(wrappers, training_and_save_load) {
  const int64_t sx[3] = {256, 6, 2}, sy[3] = {256, 6, 1};
  loom_tensor *x = tu_tensor(arena, 3, sx, -1, 1, 4), *t = tu_tensor(arena, 3, sy, 0, 0, 5);
  for (int i = 0; i < 256; ++i) {
    float s = 0;
    for (int j = 0; j < 6; ++j) {
      s += loom_tensor_f32(x)[(i * 6 + j) * 2];
      loom_tensor_f32(t)[i * 6 + j] = s > 0;
    }
  }
  loom_graph *g = loom_graph_new(11);
  loom_model *m = tagger(g);
  cr_assert(m, "%s", loom_graph_error(g));
  cr_assert_eq(loom_compile(m, .optimizer = {LOOM_ADAM, .learning_rate = 0.02f}, .loss = "binary_crossentropy"), LOOM_OK);
  const loom_history *hist = loom_fit(m, .x = {x}, .y = {t}, .epochs = 6, .batch_size = 16, .verbose = LOOM_SILENT);
  cr_assert(hist, "%s", loom_graph_error(g));
  const float *loss = loom_history_get(hist, "loss");
  cr_assert_lt(loss[5], 0.6f * loss[0], "loss %g -> %g", loss[0], loss[5]);
  loom_model *back = saved_and_loaded(m);
  cr_assert(back, "save and load: %s", loom_last_error());
  loom_tensor *a[1], *b[1];
  cr_assert_eq(loom_predict(m, arena, a, .x = {x}), LOOM_OK);
  cr_assert_eq(loom_predict(back, arena, b, .x = {x}), LOOM_OK, "%s", loom_last_error());
  same(a[0], b[0], "loaded predictions");
  char *t1 = summary_text(m), *t2 = summary_text(back);
  cr_assert_str_eq(t1, t2);
  free(t1);
  free(t2);
  loom_graph_free(loom_model_graph(back));
  loom_graph_free(g);
}

Test(wrappers, wrong_layers_are_refused_by_name) {
  loom_graph *g = loom_graph_new(1);
  cr_assert_null(loom_Bidirectional(g, .layer = loom_Dense(g, .units = 3, .name = "head"), .name = "bi"));
  cr_assert(strstr(loom_graph_error(g), "Bidirectional \"bi\": wraps an LSTM, GRU or SimpleRNN; \"head\" is a Dense"), "%s",
            loom_graph_error(g));
  loom_graph_free(g);
  g = loom_graph_new(1);
  cr_assert_null(loom_Bidirectional(g, .layer = loom_GRU(g, .units = 3), .backward_layer = loom_GRU(g, .units = 3)));
  cr_assert(strstr(loom_graph_error(g), "must differ in go_backwards (both false)"), "%s", loom_graph_error(g));
  loom_graph_free(g);
  g = loom_graph_new(1);
  cr_assert_null(loom_Bidirectional(g, .layer = loom_GRU(g, .units = 3), .merge_mode = (loom_merge_mode)9));
  cr_assert(strstr(loom_graph_error(g), "merge_mode 9"), "%s", loom_graph_error(g));
  loom_graph_free(g);
  g = loom_graph_new(1);
  loom_node *in = loom_Input(g, .shape = {4});
  loom_layer *d = loom_Dense(g, .units = 2, .name = "d");
  cr_assert(loom_call(d, in));
  cr_assert_null(loom_TimeDistributed(g, .layer = d));
  cr_assert(strstr(loom_graph_error(g), "layer \"d\" has been called already"), "%s", loom_graph_error(g));
  loom_graph_free(g);
  g = loom_graph_new(1);
  in = loom_Input(g, .shape = {4});
  cr_assert_null(loom_call(loom_TimeDistributed(g, .layer = loom_Dense(g, .units = 2), .name = "td"), in));
  cr_assert(strstr(loom_graph_error(g), "td: expected input of rank 3 to 6"), "%s", loom_graph_error(g));
  loom_graph_free(g);
  g = loom_graph_new(1);
  cr_assert_null(loom_TimeDistributed(g, .layer = NULL));
  cr_assert(strstr(loom_graph_error(g), "layer is NULL"), "%s", loom_graph_error(g));
  loom_graph_free(g);
}
