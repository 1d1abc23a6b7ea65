/* test_masking.c - Keras' masks through models: Embedding(mask_zero) and Masking before
 * LSTM, GRU, SimpleRNN and Bidirectional (a padded batch equals each sequence alone;
 * Bidirectional against PyTorch on packed-style per-sample runs), masked
 * GlobalAveragePooling1D, the merges' masks, losses and metrics over the valid steps
 * alone (and the labels of masked steps never reaching the weights), save and load, and
 * the layers that cannot take a mask refusing it by name. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/fixture.h"
#include "common/util.h"
#include "lib/models.h"

static loom_arena *arena;
static void setup(void) { arena = loom_arena_new(NULL); }
static void teardown(void) { loom_arena_free(arena); }
TestSuite(masking, .init = setup, .fini = teardown);

#define T 6
#define B T /* sample b has b + 1 valid steps, then zeros */

static loom_tensor *padded_ids(int vocab) {
  const int64_t s[2] = {B, T};
  loom_tensor *ids = loom_tensor_new(arena, LOOM_I32, 2, s);
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t) loom_tensor_i32(ids)[b * T + t] = t <= b ? 1 + (b * 7 + t * 3) % (vocab - 1) : 0;
  return ids;
}

static loom_tensor *first_ids(const loom_tensor *ids, int b, int len) {
  const int64_t s[2] = {1, len};
  loom_tensor *one = loom_tensor_new(arena, LOOM_I32, 2, s);
  memcpy(loom_tensor_i32(one), loom_tensor_i32((loom_tensor *)ids) + b * T, (size_t)len * sizeof(int32_t));
  return one;
}

static void close_to(float got, float want, const char *what, int b, int t, int j) {
  cr_assert(tu_close(got, want, 1e-6, 1e-5), "%s: sample %d step %d unit %d: %g, alone %g", what, b, t, j, got, want);
}

/* Embedding(mask_zero) -> recurrent layer: every padded sample as if run alone on its
 * valid ids; sequences carry the last valid output over the padding, as Keras does */
static void embedding_rnn_case(int kind, bool seq, bool back) {
  loom_graph *g = loom_graph_new(11 + kind);
  loom_node *in = loom_Input(g, .shape = {LOOM_NONE}, .dtype = LOOM_I32);
  loom_node *e = loom_call(loom_Embedding(g, .input_dim = 12, .output_dim = 4, .mask_zero = true), in);
  cr_assert(loom_node_has_mask(e), "%s", loom_graph_error(g));
  const loom_rnn_opts o = {.units = 3, .return_sequences = seq, .go_backwards = back};
  loom_layer *rnn = kind == 0 ? loom_layer_lstm(g, &o) : kind == 1 ? loom_layer_gru(g, &o) : loom_layer_simple_rnn(g, &o);
  loom_node *y = loom_call(rnn, e);
  cr_assert(y, "%s", loom_graph_error(g));
  cr_assert_eq(loom_node_has_mask(y), seq, "the mask stays on sequences alone");
  loom_model *m = loom_Model(g, .inputs = {in}, .outputs = {y});
  cr_assert(m, "%s", loom_graph_error(g));
  loom_tensor *ids = padded_ids(12), *all[1];
  cr_assert_eq(loom_predict(m, arena, all, .x = {ids}), LOOM_OK, "%s", loom_graph_error(g));
  for (int b = 0; b < B; ++b) {
    const int len = b + 1;
    loom_tensor *one[1];
    cr_assert_eq(loom_predict(m, arena, one, .x = {first_ids(ids, b, len)}), LOOM_OK, "%s", loom_graph_error(g));
    const float *got = loom_tensor_f32(all[0]), *want = loom_tensor_f32(one[0]);
    for (int t = 0; t < (seq ? T : 1); ++t)
      for (int j = 0; j < 3; ++j) {
        float w = want[j];
        if (seq) { /* backwards the padding comes first: h_{-1} = 0 carried */
          const int at = back ? t - (T - len) : t;
          w = at < 0 ? 0.0f : at < len ? want[at * 3 + j] : want[(len - 1) * 3 + j];
        }
        close_to(got[(b * (seq ? T : 1) + t) * 3 + j], w, loom_layer_name(rnn), b, t, j);
      }
  }
  loom_graph_free(g);
}

Test(masking, embedding_mask_zero_recurrent_layers_equal_each_sequence_alone) {
  for (int kind = 0; kind < 3; ++kind)
    for (int v = 0; v < 4; ++v) embedding_rnn_case(kind, v & 1, v & 2);
}

/* return_state: the states of the last valid step */
Test(masking, returned_states_are_the_last_valid_ones) {
  loom_graph *g = loom_graph_new(3);
  loom_node *in = loom_Input(g, .shape = {T}, .dtype = LOOM_I32);
  loom_node *e = loom_call(loom_Embedding(g, .input_dim = 9, .output_dim = 3, .mask_zero = true), in);
  loom_node *outs[3];
  cr_assert_eq(loom_call_outputs(loom_LSTM(g, .units = 2, .return_sequences = true, .return_state = true), 1, &e, 3, outs),
               3, "%s", loom_graph_error(g));
  cr_assert(loom_node_has_mask(outs[0]) && !loom_node_has_mask(outs[1]) && !loom_node_has_mask(outs[2]));
  loom_model *m = loom_Model(g, .inputs = {in}, .outputs = {outs[0], outs[1], outs[2]});
  loom_tensor *ids = padded_ids(9), *y[3];
  cr_assert_eq(loom_predict(m, arena, y, .x = {ids}), LOOM_OK, "%s", loom_graph_error(g));
  for (int b = 0; b < B; ++b)
    for (int j = 0; j < 2; ++j) /* h is the output of step len - 1, carried to the end */
      cr_assert_eq(loom_tensor_f32(y[1])[b * 2 + j], loom_tensor_f32(y[0])[(b * T + b) * 2 + j]);
  loom_graph_free(g);
}

/* Masking(mask_value): the masked steps come out zeroed and the RNN skips them */
Test(masking, masking_layer_zeroes_and_masks_its_steps) {
  loom_graph *g = loom_graph_new(4);
  loom_node *in = loom_Input(g, .shape = {LOOM_NONE, 2});
  loom_node *mk = loom_call(loom_Masking(g, .mask_value = -1.0f), in);
  loom_node *y = loom_call(loom_SimpleRNN(g, .units = 3), mk);
  cr_assert(y && loom_node_has_mask(mk), "%s", loom_graph_error(g));
  loom_model *m = loom_Model(g, .inputs = {in}, .outputs = {mk, y});
  const float xs[2][4][2] = {{{0.5f, -1}, {-1, -1}, {0.25f, 0.75f}, {-1, -1}}, {{-1, -1}, {0.1f, 0.2f}, {-1, -1}, {-1, -1}}};
  const int64_t sx[3] = {2, 4, 2};
  loom_tensor *x = loom_tensor_from(arena, LOOM_F32, 3, sx, (float *)xs), *out[2];
  cr_assert_eq(loom_predict(m, arena, out, .x = {x}), LOOM_OK, "%s", loom_graph_error(g));
  for (int i = 0; i < 16; ++i) {
    const float v = ((const float *)xs)[i], step_masked = ((const float *)xs)[i & ~1] == -1 && ((const float *)xs)[i | 1] == -1;
    cr_assert_eq(loom_tensor_f32(out[0])[i], step_masked ? 0.0f : v, "element %d", i);
  }
  /* sample 0 alone on its valid steps 0 and 2 */
  const float x0[2][2] = {{0.5f, -1}, {0.25f, 0.75f}};
  const int64_t s0[3] = {1, 2, 2};
  loom_tensor *alone[2];
  cr_assert_eq(loom_predict(m, arena, alone, .x = {loom_tensor_from(arena, LOOM_F32, 3, s0, (float *)x0)}), LOOM_OK);
  for (int j = 0; j < 3; ++j) close_to(loom_tensor_f32(out[1])[j], loom_tensor_f32(alone[1])[j], "simple_rnn", 0, 3, j);
  loom_graph_free(g);
}

/* Masking -> Bidirectional(LSTM / GRU) with the weights of the PyTorch fixture (each
 * sample run alone on its valid steps, zeros at the padding) */
static void bidir_fixture(const char *file, bool lstm, bool seq) {
  fx_file fx;
  fx_load(file, &fx);
  const fx_tensor *fxx = fx_get(&fx, "x"), *fy = fx_get(&fx, "y");
  const int64_t t = fxx->shape[1], d = fxx->shape[2];
  loom_graph *g = loom_graph_new(1);
  loom_node *in = loom_Input(g, .shape = {t, d});
  loom_node *mk = loom_call(loom_Masking(g), in);
  const loom_rnn_opts o = {.units = 3 + !lstm, .return_sequences = seq};
  loom_layer *bi = loom_Bidirectional(g, .layer = lstm ? loom_layer_lstm(g, &o) : loom_layer_gru(g, &o));
  loom_node *y = loom_call(bi, mk);
  cr_assert(y, "%s", loom_graph_error(g));
  cr_assert_eq(loom_node_has_mask(y), seq);
  loom_model *m = loom_Model(g, .inputs = {in}, .outputs = {y});
  const char *kind = lstm ? "lstm" : "gru", *w[3] = {"kernel", "recurrent_kernel", "bias"};
  for (int side = 0; side < 2; ++side)
    for (int i = 0; i < 3; ++i) {
      char key[32], name[64];
      snprintf(key, sizeof key, "%s_%c", w[i], side ? 'b' : 'f');
      snprintf(name, sizeof name, "%s_%s/%s", side ? "backward" : "forward", kind, w[i]);
      loom_tensor *dst = loom_layer_weight(bi, name);
      const fx_tensor *src = fx_get(&fx, key);
      cr_assert(dst && dst->size == src->size, "%s", name);
      memcpy(loom_tensor_f32(dst), src->data, (size_t)src->size * sizeof(float));
    }
  loom_tensor *x = fx_tensor_new(arena, fxx), *out[1];
  cr_assert_eq(loom_predict(m, arena, out, .x = {x}), LOOM_OK, "%s", loom_graph_error(g));
  fx_expect("y", loom_tensor_f32(out[0]), fy);
  loom_graph_free(g);
  fx_free(&fx);
}
Test(masking, bidirectional_lstm_sequences_against_pytorch) { bidir_fixture("bidir_lstm_masked_seq", true, true); }
Test(masking, bidirectional_gru_last_states_against_pytorch) { bidir_fixture("bidir_gru_masked_last", false, false); }

Test(masking, global_average_pooling1d_averages_the_valid_steps) {
  loom_graph *g = loom_graph_new(5);
  loom_node *in = loom_Input(g, .shape = {T}, .dtype = LOOM_I32);
  loom_layer *emb = loom_Embedding(g, .input_dim = 10, .output_dim = 3, .mask_zero = true);
  loom_node *p = loom_call(loom_GlobalAveragePooling1D(g), loom_call(emb, in));
  cr_assert(p && !loom_node_has_mask(p), "%s", loom_graph_error(g));
  loom_model *m = loom_Model(g, .inputs = {in}, .outputs = {p});
  loom_tensor *ids = padded_ids(10), *out[1];
  cr_assert_eq(loom_predict(m, arena, out, .x = {ids}), LOOM_OK, "%s", loom_graph_error(g));
  const float *table = loom_tensor_f32(loom_layer_weight(emb, "embeddings"));
  for (int b = 0; b < B; ++b)
    for (int j = 0; j < 3; ++j) {
      double sum = 0;
      for (int t = 0; t <= b; ++t) sum += table[loom_tensor_i32(ids)[b * T + t] * 3 + j];
      close_to(loom_tensor_f32(out[0])[b * 3 + j], (float)(sum / (b + 1)), "global_average_pooling1d", b, 0, j);
    }
  loom_graph_free(g);
}

/* Add: the OR of the masks (Keras 3); Concatenate: an unmasked input counts as valid */
Test(masking, merges_join_the_masks) {
  loom_graph *g = loom_graph_new(6);
  loom_node *a = loom_Input(g, .shape = {T}, .dtype = LOOM_I32), *b = loom_Input(g, .shape = {T}, .dtype = LOOM_I32);
  loom_node *f = loom_Input(g, .shape = {T, 2});
  loom_layer *emb = loom_Embedding(g, .input_dim = 10, .output_dim = 2, .mask_zero = true);
  loom_node *ea = loom_call(emb, a), *eb = loom_call(emb, b);
  loom_node *sum = loom_call_n(loom_Add(g), 2, (loom_node *[]){ea, eb});
  loom_node *cat = loom_call_n(loom_Concatenate(g), 2, (loom_node *[]){ea, f});
  cr_assert(loom_node_has_mask(sum) && loom_node_has_mask(cat) && !loom_node_has_mask(f), "%s", loom_graph_error(g));
  loom_layer *rnn = loom_GRU(g, .units = 2);
  loom_layer *rnn2 = loom_GRU(g, .units = 2);
  loom_model *m = loom_Model(g, .inputs = {a, b, f}, .outputs = {loom_call(rnn, sum), loom_call(rnn2, cat), sum});
  cr_assert(m, "%s", loom_graph_error(g));
  /* a valid where b is not and back: the OR is valid on the first 4 steps */
  const int64_t s[2] = {1, T}, sf[3] = {1, T, 2};
  loom_tensor *ia = loom_tensor_new(arena, LOOM_I32, 2, s), *ib = loom_tensor_new(arena, LOOM_I32, 2, s);
  const int32_t va[T] = {3, 0, 4, 0, 0, 0}, vb[T] = {0, 5, 6, 7, 0, 0};
  memcpy(loom_tensor_i32(ia), va, sizeof va), memcpy(loom_tensor_i32(ib), vb, sizeof vb);
  loom_tensor *xf = tu_tensor(arena, 3, sf, -1, 1, 3), *out[3];
  cr_assert_eq(loom_predict(m, arena, out, .x = {ia, ib, xf}), LOOM_OK, "%s", loom_graph_error(g));
  loom_ctx *cx = loom_ctx_new(NULL);
  const int64_t sm[2] = {1, T};
  loom_tensor *mask = loom_tensor_new(arena, LOOM_F32, 2, sm);
  for (int t = 0; t < T; ++t) loom_tensor_f32(mask)[t] = t < 4 ? 1.0f : 0.0f;
  loom_tensor *want = loom_gru(cx, out[2], NULL, loom_layer_weight(rnn, "kernel"), loom_layer_weight(rnn, "recurrent_kernel"),
                               loom_layer_weight(rnn, "bias"), &(loom_rnn_cfg){.reset_after = true, .mask = mask});
  cr_assert(want, "%s", loom_ctx_error(cx));
  for (int j = 0; j < 2; ++j) close_to(loom_tensor_f32(out[0])[j], loom_tensor_f32(want)[j], "gru over add", 0, 0, j);
  loom_ctx_free(cx);
  /* the concatenation's mask is all valid: the same as the GRU on every step */
  cx = loom_ctx_new(NULL);
  loom_tensor *parts[2] = {NULL, xf};
  loom_tensor *ids = ia;
  parts[0] = loom_embedding(cx, ids, loom_layer_weight(emb, "embeddings"));
  loom_tensor *whole = loom_gru(cx, loom_concatenate(cx, 2, parts, -1), NULL, loom_layer_weight(rnn2, "kernel"),
                                loom_layer_weight(rnn2, "recurrent_kernel"), loom_layer_weight(rnn2, "bias"),
                                &(loom_rnn_cfg){.reset_after = true});
  cr_assert(whole, "%s", loom_ctx_error(cx));
  for (int j = 0; j < 2; ++j) close_to(loom_tensor_f32(out[1])[j], loom_tensor_f32(whole)[j], "gru over concatenate", 0, 0, j);
  loom_ctx_free(cx);
  loom_graph_free(g);
}

/* A sequence-labelling model: Embedding(mask_zero) -> LSTM(return_sequences) ->
 * TimeDistributed(Dense(softmax)), the mask reaching the loss */
static loom_model *tagger(loom_graph *g) {
  loom_node *in = loom_Input(g, .shape = {T}, .dtype = LOOM_I32);
  loom_node *h = loom_call(loom_Embedding(g, .input_dim = 10, .output_dim = 4, .mask_zero = true), in);
  h = loom_call(loom_LSTM(g, .units = 5, .return_sequences = true), h);
  loom_node *y = loom_call(loom_TimeDistributed(g, .layer = loom_Dense(g, .units = 3, .activation = LOOM_SOFTMAX)), h);
  cr_assert(y && loom_node_has_mask(y), "%s", loom_graph_error(g));
  loom_model *m = loom_Model(g, .inputs = {in}, .outputs = {y});
  cr_assert_eq(loom_compile(m, .optimizer = {.kind = LOOM_ADAM}, .loss = "sparse_categorical_crossentropy",
                            .metrics = {"accuracy"}),
               LOOM_OK, "%s", loom_graph_error(g));
  return m;
}

static loom_tensor *labels(int padded_label) {
  const int64_t s[2] = {B, T};
  loom_tensor *y = loom_tensor_new(arena, LOOM_I32, 2, s);
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t) loom_tensor_i32(y)[b * T + t] = t <= b ? (b + t) % 3 : padded_label;
  return y;
}

Test(masking, the_loss_and_metrics_count_the_valid_steps_alone) {
  loom_graph *g = loom_graph_new(7);
  loom_model *m = tagger(g);
  loom_tensor *ids = padded_ids(10), *p[1];
  cr_assert_eq(loom_predict(m, arena, p, .x = {ids}), LOOM_OK, "%s", loom_graph_error(g));
  loom_tensor *y = labels(0);
  double loss = 0;
  int valid = 0, hits = 0;
  for (int b = 0; b < B; ++b)
    for (int t = 0; t <= b; ++t) {
      const float *row = loom_tensor_f32(p[0]) + (b * T + t) * 3;
      const int label = loom_tensor_i32(y)[b * T + t];
      loss -= log(row[label]);
      int best = 0;
      for (int c = 1; c < 3; ++c) best = row[c] > row[best] ? c : best;
      hits += best == label, ++valid;
    }
  float v[4];
  cr_assert_eq(loom_evaluate(m, v, 4, .x = {ids}, .y = {y}, .batch_size = B), 2, "%s", loom_graph_error(g));
  cr_assert(tu_close(v[0], loss / valid, 1e-6, 1e-5), "loss %g, the valid steps' mean %g", v[0], loss / valid);
  cr_assert(tu_close(v[1], (double)hits / valid, 1e-6, 1e-6), "accuracy %g, on the valid steps %g", v[1], (double)hits / valid);
  /* other labels on the masked steps change nothing */
  float v2[4];
  cr_assert_eq(loom_evaluate(m, v2, 4, .x = {ids}, .y = {labels(2)}, .batch_size = B), 2);
  cr_assert(v2[0] == v[0] && v2[1] == v[1]);
  loom_graph_free(g);
}

Test(masking, labels_of_masked_steps_never_reach_the_weights) {
  loom_tensor *w[2];
  for (int run = 0; run < 2; ++run) {
    loom_graph *g = loom_graph_new(8);
    loom_model *m = tagger(g);
    cr_assert(loom_fit(m, .x = {padded_ids(10)}, .y = {labels(run ? 2 : 0)}, .epochs = 3, .batch_size = 3,
                       .shuffle = LOOM_NO, .verbose = LOOM_SILENT),
              "%s", loom_graph_error(g));
    loom_tensor *k = loom_layer_weight(loom_model_get_layer(m, "lstm"), "kernel");
    w[run] = loom_tensor_new(arena, LOOM_F32, k->rank, k->shape);
    memcpy(loom_tensor_f32(w[run]), loom_tensor_f32(k), (size_t)k->size * sizeof(float));
    loom_graph_free(g);
  }
  cr_assert(!memcmp(loom_tensor_f32(w[0]), loom_tensor_f32(w[1]), (size_t)w[0]->size * sizeof(float)));
}

Test(masking, sequential_models_save_and_load_their_masks) {
  loom_graph *g = loom_graph_new(9);
  loom_model *m = loom_Sequential(g, .input = {.shape = {T}, .dtype = LOOM_I32},
                                  .layers = {loom_Embedding(g, .input_dim = 10, .output_dim = 3, .mask_zero = true),
                                             loom_GRU(g, .units = 4), loom_Dense(g, .units = 2)});
  cr_assert(m, "%s", loom_graph_error(g));
  loom_model *back = saved_and_loaded(m);
  cr_assert(back, "save and load: %s", loom_last_error());
  loom_tensor *ids = padded_ids(10), *a[1], *b[1];
  cr_assert_eq(loom_predict(m, arena, a, .x = {ids}), LOOM_OK);
  cr_assert_eq(loom_predict(back, arena, b, .x = {ids}), LOOM_OK, "%s", loom_last_error());
  /* equal: mask_zero came back (without it the padded samples would run their zeros) */
  cr_assert(!memcmp(loom_tensor_f32(a[0]), loom_tensor_f32(b[0]), (size_t)a[0]->size * sizeof(float)));
  loom_graph_free(loom_model_graph(back));
  loom_graph_free(g);
}

static void refused(loom_layer *(*make)(loom_graph *), const char *want) {
  loom_graph *g = loom_graph_new(1);
  loom_node *in = loom_Input(g, .shape = {T}, .dtype = LOOM_I32);
  loom_node *e = loom_call(loom_Embedding(g, .input_dim = 10, .output_dim = 4, .mask_zero = true, .name = "words"), in);
  cr_assert_null(loom_call(make(g), e));
  cr_assert(strstr(loom_graph_error(g), want), "%s", loom_graph_error(g));
  loom_graph_free(g);
}
static loom_layer *conv(loom_graph *g) { return loom_Conv1D(g, .filters = 2, .kernel_size = {3}); }
static loom_layer *flatten(loom_graph *g) { return loom_Flatten(g); }
static loom_layer *bn(loom_graph *g) { return loom_BatchNormalization(g); }
static loom_layer *gmp(loom_graph *g) { return loom_GlobalMaxPooling1D(g); }
static loom_layer *nested(loom_graph *g) {
  loom_node *i = loom_Input(g, .shape = {T, 4});
  loom_node *h = loom_call(loom_Conv1D(g, .filters = 2, .kernel_size = {3}, .name = "inner_conv"), i);
  return loom_model_layer(loom_Model(g, .inputs = {i}, .outputs = {h}));
}

Test(masking, layers_that_cannot_take_a_mask_refuse_it_by_name) {
  refused(conv, "conv1d: Conv1D does not support masking, but input 0 carries the mask of \"words\" (an Embedding "
                "with mask_zero); consume it before (a recurrent layer, GlobalAveragePooling1D) or make none");
  refused(flatten, "flatten: Flatten does not support masking");
  refused(bn, "batch_normalization: BatchNormalization does not support masking");
  refused(gmp, "global_max_pooling1d: GlobalMaxPooling1D does not support masking");
  /* a nested model takes the mask: a layer inside that cannot refuses it by name */
  refused(nested, "inner_conv: Conv1D does not support masking, but input 0 carries the mask of \"words\"");
  /* mask_zero needs [batch, steps] ids */
  loom_graph *g = loom_graph_new(1);
  loom_node *in = loom_Input(g, .shape = {3, 2}, .dtype = LOOM_I32);
  cr_assert_null(loom_call(loom_Embedding(g, .input_dim = 10, .output_dim = 4, .mask_zero = true), in));
  cr_assert(strstr(loom_graph_error(g), "embedding: mask_zero needs ids [batch, steps], got [None, 3, 2]"), "%s",
            loom_graph_error(g));
  loom_graph_free(g);
}
