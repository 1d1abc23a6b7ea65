/* test_summary.c - the examples' models have Keras' parameter counts (derived by hand
 * below) and print tf.keras 2's summary text. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "lib/models.h"

static void expect_text(const loom_model *m, const char *want) {
  char *got = summary_text(m);
  cr_assert_str_eq(got, want, "summary differs:\n--- got\n%s\n--- want\n%s", got, want);
  free(got);
}

Test(summary, mlp_is_printed_as_keras_prints_a_chain) {
  loom_graph *g = loom_graph_new(1);
  loom_model *m = build_mlp_model(g);
  cr_assert(m, "%s", loom_graph_error(g));
  /* Dense(in -> out) has in * out + out: 64*32+32 = 2080, 32*32+32 = 1056, 32*10+10 = 330 */
  cr_assert_eq(loom_model_count_params(m, false), 2080 + 1056 + 330);
  expect_text(m,
              "Model: \"model\"\n"
              "_________________________________________________________________\n"
              "Layer (type)                 Output Shape              Param #   \n"
              "=================================================================\n"
              "input_1 (InputLayer)         [(None, 64)]              0         \n"
              "_________________________________________________________________\n"
              "dense (Dense)                (None, 32)                2080      \n"
              "_________________________________________________________________\n"
              "dense_1 (Dense)              (None, 32)                1056      \n"
              "_________________________________________________________________\n"
              "dense_2 (Dense)              (None, 10)                330       \n"
              "=================================================================\n"
              "Total params: 3,466\n"
              "Trainable params: 3,466\n"
              "Non-trainable params: 0\n"
              "_________________________________________________________________\n");
  loom_graph_free(g);
}

Test(summary, qa_model_has_1000052_params_and_connections) {
  loom_graph *g = loom_graph_new(1);
  loom_model *m = build_qa_model(g);
  cr_assert(m, "%s", loom_graph_error(g));
  /* Embedding: vocab * dim; LSTM(u) on d inputs: 4u (d + u + 1); Dense 48 -> 500 */
  const int64_t want = 10000 * 64 + 10000 * 32 + 4 * 32 * (64 + 32 + 1) + 4 * 16 * (32 + 16 + 1) +
                       48 * 500 + 500;
  cr_assert_eq(want, 1000052);
  cr_assert_eq(loom_model_count_params(m, false), want);
  const char *rule = "__________________________________________________________________________________________________\n";
  char expect[8192];
  snprintf(expect, sizeof expect,
           "Model: \"model\"\n%s"
           "Layer (type)                    Output Shape         Param #     Connected to                     \n"
           "==================================================================================================\n"
           "text (InputLayer)               [(None, None)]       0                                            \n%s"
           "question (InputLayer)           [(None, None)]       0                                            \n%s"
           "embedding (Embedding)           (None, None, 64)     640000      text[0][0]                       \n%s"
           "embedding_1 (Embedding)         (None, None, 32)     320000      question[0][0]                   \n%s"
           "lstm (LSTM)                     (None, 32)           12416       embedding[0][0]                  \n%s"
           "lstm_1 (LSTM)                   (None, 16)           3136        embedding_1[0][0]                \n%s"
           "concatenate (Concatenate)       (None, 48)           0           lstm[0][0]                       \n"
           "                                                                 lstm_1[0][0]                     \n%s"
           "dense (Dense)                   (None, 500)          24500       concatenate[0][0]                \n"
           "==================================================================================================\n"
           "Total params: 1,000,052\n"
           "Trainable params: 1,000,052\n"
           "Non-trainable params: 0\n%s",
           rule, rule, rule, rule, rule, rule, rule, rule, rule);
  expect_text(m, expect);
  cr_assert_str_eq(loom_model_input_name(m, 1), "question");
  cr_assert_str_eq(loom_model_output_name(m, 0), "dense");
  loom_graph_free(g);
}

Test(summary, multi_output_model_as_the_notebook_writes_it) {
  loom_graph *g = loom_graph_new(1);
  loom_model *m = build_multi_output_model(g, 5000);
  cr_assert(m, "%s", loom_graph_error(g));
  /* Embedding(256, 5000); Conv1D(f, k) on c channels: k c f + f; heads on 128 */
  const int64_t want = 256 * 5000 + (5 * 5000 * 128 + 128) + (5 * 128 * 256 + 256) +
                       3 * (5 * 256 * 256 + 256) + (256 * 128 + 128) + (128 + 1) + (128 * 10 + 10) +
                       (128 + 1);
  cr_assert_eq(loom_model_count_params(m, false), want);
  char *text = summary_text(m);
  cr_assert(strstr(text, "global_max_pooling1d (GlobalMax (None, 256)          0           conv1d_4[0][0]"),
            "%s", text);
  cr_assert(strstr(text, "income (Dense)                  (None, 10)           1290        dense[0][0]"), "%s", text);
  cr_assert(strstr(text, "Total params: 5,662,476\n"), "%s", text);
  free(text);
  loom_graph_free(g);
}

Test(summary, residual_block_leaves_out_the_unused_convolution) {
  loom_graph *g = loom_graph_new(1);
  loom_model *m = build_residual_model(g);
  cr_assert(m, "%s", loom_graph_error(g));
  /* conv2d_1 3x3x3x128 + 128, conv2d_2 1x1x3x128 + 128, dense 128 + 1; conv2d unused */
  cr_assert_eq(loom_model_count_params(m, false), (27 * 128 + 128) + (3 * 128 + 128) + 129);
  char *text = summary_text(m);
  cr_assert_null(strstr(text, "conv2d (Conv2D)"), "%s", text);
  cr_assert(strstr(text, "add (Add)                       (None, 8, 8, 128)    0           max_pooling2d[0][0]              \n"
                         "                                                                 conv2d_2[0][0]"), "%s", text);
  free(text);
  loom_graph_free(g);
}

Test(summary, shared_lstm_is_listed_once_with_both_calls) {
  loom_graph *g = loom_graph_new(1);
  loom_model *m = build_siamese_model(g);
  cr_assert(m, "%s", loom_graph_error(g));
  cr_assert_eq(loom_model_count_params(m, false), 4 * 32 * (128 + 32 + 1) + 64 + 1);
  char *text = summary_text(m);
  cr_assert(strstr(text, "lstm (LSTM)                     (None, 32)           20608       input_1[0][0]                    \n"
                         "                                                                 input_2[0][0]"), "%s", text);
  cr_assert(strstr(text, "concatenate (Concatenate)       (None, 64)           0           lstm[0][0]                       \n"
                         "                                                                 lstm[1][0]"), "%s", text);
  free(text);
  loom_graph_free(g);
}

Test(summary, nested_model_counts_its_weights_and_its_calls_from_one) {
  loom_graph *g = loom_graph_new(1);
  loom_node *in = loom_Input(g, .shape = {8});
  loom_node *h = loom_call(loom_Dense(g, .units = 4), in);
  loom_model *base = loom_Model(g, .inputs = {in}, .outputs = {h}, .name = "base");
  loom_node *a = loom_Input(g, .shape = {8}), *b = loom_Input(g, .shape = {8});
  loom_node *fa = loom_call(loom_model_layer(base), a), *fb = loom_call(loom_model_layer(base), b);
  loom_node *out = loom_call_list(loom_Add(g), fa, fb);
  loom_model *m = loom_Model(g, .inputs = {a, b}, .outputs = {out});
  cr_assert(m, "%s", loom_graph_error(g));
  cr_assert_eq(loom_model_count_params(m, false), 8 * 4 + 4);
  char *text = summary_text(m);
  cr_assert(strstr(text, "base (Functional)               (None, 4)            36          input_2[0][0]"), "%s", text);
  cr_assert(strstr(text, "add (Add)                       (None, 4)            0           base[1][0]"), "%s", text);
  cr_assert(strstr(text, "base[2][0]"), "%s", text);
  free(text);
  loom_graph_free(g);
}
