/* siamese.c - the notebook's shared LSTM: one layer, one set of weights, two inputs.
 *
 * Keras:
 *   lstm = layers.LSTM(32)
 *   left_input = Input(shape=(None, 128))
 *   left_output = lstm(left_input)
 *   right_input = Input(shape=(None, 128))
 *   right_output = lstm(right_input)
 *   merged = layers.concatenate([left_output, right_output], axis=-1)
 *   predictions = layers.Dense(1, activation='sigmoid')(merged)
 *   model = Model([left_input, right_input], predictions)
 *   model.fit([left_data, right_data], targets)
 *
 * The task: is the left sequence's first feature larger on average than the right's? */
#include "example.h"

loom_model *build_siamese_model(loom_graph *g) {
  loom_layer *lstm = loom_LSTM(g, .units = 32);
  loom_node *left_input = loom_Input(g, .shape = {LOOM_NONE, 128});
  loom_node *left_output = loom_call(lstm, left_input);
  loom_node *right_input = loom_Input(g, .shape = {LOOM_NONE, 128});
  loom_node *right_output = loom_call(lstm, right_input);
  loom_node *merged = loom_call_list(loom_Concatenate(g, .axis = -1), left_output, right_output);
  loom_node *predictions = loom_call(loom_Dense(g, .units = 1, .activation = LOOM_SIGMOID), merged);
  return loom_Model(g, .inputs = {left_input, right_input}, .outputs = {predictions});
}

void make_pairs(loom_arena *a, int64_t n, int64_t steps, uint64_t seed, loom_tensor **left,
                loom_tensor **right, loom_tensor **targets) {
  ex_rng r = {seed};
  const int64_t s[3] = {n, steps, 128}, st[2] = {n, 1};
  *left = ex_tensor(a, LOOM_F32, 3, s);
  *right = ex_tensor(a, LOOM_F32, 3, s);
  *targets = ex_tensor(a, LOOM_F32, 2, st);
  for (int64_t i = 0; i < n; ++i) {
    double mean[2] = {0, 0};
    for (int side = 0; side < 2; ++side) {
      float *v = loom_tensor_f32(side ? *right : *left) + i * steps * 128;
      const float bias = ex_uniform(&r) - 0.5f;
      for (int64_t k = 0; k < steps * 128; ++k) v[k] = ex_uniform(&r) - 0.5f;
      for (int64_t t = 0; t < steps; ++t) v[t * 128] += bias, mean[side] += v[t * 128];
    }
    loom_tensor_f32(*targets)[i] = mean[0] > mean[1];
  }
}

#ifndef LOOM_EXAMPLE_NO_MAIN
int main(int argc, char **argv) {
  const bool quick = ex_quick(argc, argv);
  loom_graph *g = ex_ok(NULL, loom_graph_new(6), "loom_graph_new");
  loom_model *model = ex_ok(g, build_siamese_model(g), "Model");
  loom_model_summary(model, stdout);
  ex_st(g, loom_compile(model, .optimizer = {LOOM_RMSPROP, .learning_rate = 0.003f},
                        .loss = "binary_crossentropy", .metrics = {"acc"}),
        "compile");
  loom_arena *a = ex_ok(NULL, loom_arena_create(), "loom_arena_new");
  loom_tensor *left_data, *right_data, *targets;
  make_pairs(a, quick ? 128 : 1024, 20, 11, &left_data, &right_data, &targets);
  const loom_history *h = ex_ok(g, loom_fit(model, .x = {left_data, right_data}, .y = {targets},
                                            .epochs = quick ? 2 : 15, .verbose = LOOM_EPOCH_LINES),
                                "fit");
  ex_show(h, "loss");
  ex_show(h, "acc");
  loom_arena_free(a);
  loom_graph_free(g);
  return 0;
}
#endif
