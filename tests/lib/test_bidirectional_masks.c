/* test_bidirectional_masks.c - Bidirectional with return_sequences and return_state on a
 * masked, post-padded batch: every sample's merged sequence and its four (LSTM) or two
 * (GRU) states equal the same model run on that sample alone, unpadded; the sequence is
 * zero at the padding (Keras' force_zero_output_for_mask) and keeps the mask, the states
 * carry none. */
#include <criterion/criterion.h>
#include <string.h>

#include "common/util.h"

static loom_arena *arena;
static void setup(void) { arena = loom_arena_new(NULL); }
static void teardown(void) { loom_arena_free(arena); }
TestSuite(bidirectional_masks, .init = setup, .fini = teardown);

enum { T = 5, B = 5, VOCAB = 11 }; /* sample b has b + 1 valid ids, then zeros */

/* the padded batch (b < 0), or sample b alone on its len valid ids */
static loom_tensor *ids_of(int b, int len) {
  const int rows = b < 0 ? B : 1;
  const int64_t s[2] = {rows, len};
  loom_tensor *ids = loom_tensor_new(arena, LOOM_I32, 2, s);
  for (int i = 0; i < rows; ++i)
    for (int t = 0; t < len; ++t) {
      const int sample = b < 0 ? i : b;
      loom_tensor_i32(ids)[i * len + t] = t <= sample ? 1 + (sample * 5 + t * 3) % (VOCAB - 1) : 0;
    }
  return ids;
}

static void check(bool lstm, loom_merge_mode merge) {
  loom_graph *g = loom_graph_new(lstm ? 21 : 22);
  loom_node *in = loom_Input(g, .shape = {LOOM_NONE}, .dtype = LOOM_I32);
  loom_node *e = loom_call(loom_Embedding(g, .input_dim = VOCAB, .output_dim = 3, .mask_zero = true), in);
  const loom_rnn_opts o = {.units = 4, .return_sequences = true, .return_state = true};
  loom_layer *bi = loom_Bidirectional(g, .layer = lstm ? loom_layer_lstm(g, &o) : loom_layer_gru(g, &o),
                                      .merge_mode = merge);
  const int n_out = 1 + (lstm ? 4 : 2);
  loom_node *outs[5];
  cr_assert_eq(loom_call_outputs(bi, 1, &e, 5, outs), n_out, "%s", loom_graph_error(g));
  cr_assert(loom_node_has_mask(outs[0]), "the merged sequence keeps the mask");
  for (int i = 1; i < n_out; ++i) cr_assert(!loom_node_has_mask(outs[i]), "state %d carries no mask", i);
  loom_model *m = lstm ? loom_Model(g, .inputs = {in}, .outputs = {outs[0], outs[1], outs[2], outs[3], outs[4]})
                      : loom_Model(g, .inputs = {in}, .outputs = {outs[0], outs[1], outs[2]});
  cr_assert(m, "%s", loom_graph_error(g));
  const int w = merge == LOOM_MERGE_CONCAT ? 8 : 4; /* the merged width */
  loom_tensor *all[5];
  cr_assert_eq(loom_predict(m, arena, all, .x = {ids_of(-1, T)}), LOOM_OK, "%s", loom_graph_error(g));
  for (int b = 0; b < B; ++b) {
    const int len = b + 1;
    loom_tensor *one[5];
    cr_assert_eq(loom_predict(m, arena, one, .x = {ids_of(b, len)}), LOOM_OK, "%s", loom_graph_error(g));
    for (int t = 0; t < T; ++t)
      for (int j = 0; j < w; ++j) {
        const float got = loom_tensor_f32(all[0])[(b * T + t) * w + j];
        const float want = t < len ? loom_tensor_f32(one[0])[t * w + j] : 0.0f;
        cr_assert(tu_close(got, want, 1e-6, 1e-5), "sample %d step %d unit %d: %g, alone %g", b, t, j, got, want);
      }
    for (int i = 1; i < n_out; ++i)
      for (int j = 0; j < 4; ++j) {
        const float got = loom_tensor_f32(all[i])[b * 4 + j], want = loom_tensor_f32(one[i])[j];
        cr_assert(tu_close(got, want, 1e-6, 1e-5), "sample %d state %d unit %d: %g, alone %g", b, i, j, got, want);
      }
  }
  loom_graph_free(g);
}

Test(bidirectional_masks, lstm_sequences_and_states_equal_each_sample_alone) { check(true, LOOM_MERGE_CONCAT); }
Test(bidirectional_masks, gru_summed_sequences_and_states_equal_each_sample_alone) { check(false, LOOM_MERGE_SUM); }
