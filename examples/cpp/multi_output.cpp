// multi_output.cpp - examples/multi_output.c in C++: the notebook's three-output model,
// age (regression), income group (10 classes) and gender (binary) from one post, with
// losses, loss weights, metrics and targets given by output name (Keras' dicts). Trained
// with 32-wide word vectors on posts whose word mix sets all three (the notebook's
// Embedding(256, vocabulary_size) is reproduced as written in the C example).
//
// Keras:
//   model.compile(optimizer='rmsprop',
//                 loss={'age': 'mse', 'income': 'categorical_crossentropy',
//                       'gender': 'binary_crossentropy'},
//                 loss_weights={'age': 0.25, 'income': 1., 'gender': 10.})
//   model.fit(posts, {'age': age_targets, 'income': income_targets, 'gender': gender_targets})
#include <random>

#include "example.hpp"

constexpr int NUM_INCOME_GROUP = 10;

static loom_node *conv(loom_graph *g, int filters, loom_node *x) {
  return loom_call(loom_Conv1D(g, .filters = filters, .kernel_size = {5}, .activation = LOOM_RELU), x);
}

int main(int argc, char **argv) {
  const bool quick = quick_run(argc, argv);
  graph_ptr graph(ok(loom_graph_new(4), "loom_graph_new"));
  loom_graph *g = graph.get();
  loom_node *posts_input = loom_Input(g, .shape = {LOOM_NONE}, .dtype = LOOM_I32, .name = "posts");
  loom_node *x = loom_call(loom_Embedding(g, .input_dim = 256, .output_dim = 32), posts_input);
  x = loom_call(loom_MaxPooling1D(g, .pool_size = {5}), conv(g, 128, x));
  x = loom_call(loom_MaxPooling1D(g, .pool_size = {5}), conv(g, 256, conv(g, 256, x)));
  x = loom_call(loom_GlobalMaxPooling1D(g), conv(g, 256, conv(g, 256, x)));
  x = loom_call(loom_Dense(g, .units = 128, .activation = LOOM_RELU), x);
  loom_node *age = loom_call(loom_Dense(g, .units = 1, .name = "age"), x);
  loom_node *income =
      loom_call(loom_Dense(g, .units = NUM_INCOME_GROUP, .activation = LOOM_SOFTMAX, .name = "income"), x);
  loom_node *gender = loom_call(loom_Dense(g, .units = 1, .activation = LOOM_SIGMOID, .name = "gender"), x);
  loom_model *model = ok(loom_Model(g, .inputs = {posts_input}, .outputs = {age, income, gender}), "Model");
  loom_model_summary(model, stdout);
  ok(loom_compile(model, .optimizer = {.kind = LOOM_RMSPROP},
                  .loss_by_name = {{"age", "mse"}, {"income", "categorical_crossentropy"},
                                   {"gender", "binary_crossentropy"}},
                  .loss_weight_by_name = {{"age", 0.25f}, {"income", 1.0f}, {"gender", 10.0f}},
                  .metric_by_name = {{"income", "acc"}, {"gender", "acc"}, {"age", "mae"}}),
     "compile");

  // Posts whose words are "small" (< 64) with a per-post probability p; age, income group
  // and gender follow from p.
  arena_ptr arena(ok(loom_arena_new(nullptr), "loom_arena_new"));
  loom_arena *a = arena.get();
  const int64_t n = quick ? 64 : 512, length = 300;
  const int64_t sp[2] = {n, length}, s1[2] = {n, 1}, sc[2] = {n, NUM_INCOME_GROUP};
  loom_tensor *posts = ok(loom_tensor_new(a, LOOM_I32, 2, sp), "tensor");
  loom_tensor *age_t = ok(loom_tensor_new(a, LOOM_F32, 2, s1), "tensor");
  loom_tensor *income_t = ok(loom_tensor_new(a, LOOM_F32, 2, sc), "tensor");
  loom_tensor *gender_t = ok(loom_tensor_new(a, LOOM_F32, 2, s1), "tensor");
  std::mt19937 r(5);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (int64_t i = 0; i < n; ++i) {
    const float p = u(r);
    for (int64_t t = 0; t < length; ++t)
      loom_tensor_i32(posts)[i * length + t] = u(r) < p ? (int32_t)(r() % 64) : 64 + (int32_t)(r() % 192);
    loom_tensor_f32(age_t)[i] = 2.0f + 4.0f * p;  // in tens of years
    loom_tensor_f32(income_t)[i * NUM_INCOME_GROUP + (int)(p * NUM_INCOME_GROUP)] = 1.0f;
    loom_tensor_f32(gender_t)[i] = p > 0.5f;
  }
  const loom_history *h = ok(loom_fit(model, .x = {posts},
                                      .y_by_name = {{"age", age_t}, {"income", income_t}, {"gender", gender_t}},
                                      .epochs = quick ? 2 : 10, .batch_size = 64, .verbose = LOOM_EPOCH_LINES),
                             "fit");
  const int epochs = loom_history_epochs(h);
  for (const char *key : {"loss", "age_loss", "income_loss", "gender_loss", "gender_acc"})
    std::printf("%s: %.4f -> %.4f\n", key, loom_history_get(h, key)[0], loom_history_get(h, key)[epochs - 1]);
  return 0;
}
