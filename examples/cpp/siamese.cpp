// siamese.cpp - examples/siamese.c in C++: the notebook's shared LSTM, one layer and one
// set of weights for two inputs. The task: is the left sequence's first feature larger on
// average than the right's?
//
// Keras:
//   lstm = layers.LSTM(32)
//   left_output = lstm(left_input)
//   right_output = lstm(right_input)
//   merged = layers.concatenate([left_output, right_output], axis=-1)
//   predictions = layers.Dense(1, activation='sigmoid')(merged)
#include <random>

#include "example.hpp"

int main(int argc, char **argv) {
  const bool quick = quick_run(argc, argv);
  graph_ptr graph(ok(loom_graph_new(6), "loom_graph_new"));
  loom_graph *g = graph.get();
  loom_layer *lstm = loom_LSTM(g, .units = 32);
  loom_node *left_input = loom_Input(g, .shape = {LOOM_NONE, 128});
  loom_node *left_output = loom_call(lstm, left_input);
  loom_node *right_input = loom_Input(g, .shape = {LOOM_NONE, 128});
  loom_node *right_output = loom_call(lstm, right_input);
  loom_node *merged = loom_call_list(loom_Concatenate(g, .axis = -1), left_output, right_output);
  loom_node *predictions = loom_call(loom_Dense(g, .units = 1, .activation = LOOM_SIGMOID), merged);
  loom_model *model = ok(loom_Model(g, .inputs = {left_input, right_input}, .outputs = {predictions}), "Model");
  loom_model_summary(model, stdout);
  ok(loom_compile(model, .optimizer = {.kind = LOOM_RMSPROP, .learning_rate = 0.003f},
                  .loss = "binary_crossentropy", .metrics = {"acc"}),
     "compile");

  arena_ptr arena(ok(loom_arena_new(nullptr), "loom_arena_new"));
  const int64_t n = quick ? 128 : 1024, steps = 20, s[3] = {n, steps, 128}, st[2] = {n, 1};
  loom_tensor *sides[2] = {ok(loom_tensor_new(arena.get(), LOOM_F32, 3, s), "tensor"),
                           ok(loom_tensor_new(arena.get(), LOOM_F32, 3, s), "tensor")};
  loom_tensor *targets = ok(loom_tensor_new(arena.get(), LOOM_F32, 2, st), "tensor");
  std::mt19937 r(11);
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  for (int64_t i = 0; i < n; ++i) {
    double mean[2] = {0, 0};
    for (int side = 0; side < 2; ++side) {
      float *v = loom_tensor_f32(sides[side]) + i * steps * 128;
      const float bias = u(r);
      for (int64_t k = 0; k < steps * 128; ++k) v[k] = u(r);
      for (int64_t t = 0; t < steps; ++t) v[t * 128] += bias, mean[side] += v[t * 128];
    }
    loom_tensor_f32(targets)[i] = mean[0] > mean[1];
  }
  // model.fit([left_data, right_data], targets)
  const loom_history *h = ok(loom_fit(model, .x = {sides[0], sides[1]}, .y = {targets}, .epochs = quick ? 2 : 15,
                                      .verbose = LOOM_EPOCH_LINES),
                             "fit");
  const int epochs = loom_history_epochs(h);
  std::printf("acc %.4f -> %.4f over %d epochs\n", loom_history_get(h, "acc")[0],
              loom_history_get(h, "acc")[epochs - 1], epochs);
  return 0;
}
