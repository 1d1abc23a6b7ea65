// mlp.cpp - examples/mlp.c in C++: the same Keras calls with C++20 designated initialisers
// (fields in their declaration order), RAII owners for the graph and the arena.
//
// Keras:
//   input_tensor = Input(shape=(64,))
//   x = layers.Dense(32, activation='relu')(input_tensor)
//   x = layers.Dense(32, activation='relu')(x)
//   output_tensor = layers.Dense(10, activation='softmax')(x)
//   model = Model(input_tensor, output_tensor)
#include <random>

#include "example.hpp"

// Points around 10 centres; y one-hot of the centre.
static void blobs(loom_arena *a, int64_t n, unsigned seed, loom_tensor **x, loom_tensor **y) {
  std::mt19937 centres(12345), r(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  float centre[10][64];
  for (auto &c : centre)
    for (float &v : c) v = 2.0f * u(centres) - 1.0f;
  const int64_t sx[2] = {n, 64}, sy[2] = {n, 10};
  *x = ok(loom_tensor_new(a, LOOM_F32, 2, sx), "tensor");
  *y = ok(loom_tensor_new(a, LOOM_F32, 2, sy), "tensor");
  for (int64_t i = 0; i < n; ++i) {
    const int c = (int)(r() % 10);
    for (int j = 0; j < 64; ++j) loom_tensor_f32(*x)[i * 64 + j] = centre[c][j] + 1.5f * (u(r) - 0.5f);
    loom_tensor_f32(*y)[i * 10 + c] = 1.0f;
  }
}

int main(int argc, char **argv) {
  const bool quick = quick_run(argc, argv);
  graph_ptr graph(ok(loom_graph_new(2), "loom_graph_new"));
  loom_graph *g = graph.get();
  loom_node *input_tensor = loom_Input(g, .shape = {64});
  loom_node *x = loom_call(loom_Dense(g, .units = 32, .activation = LOOM_RELU), input_tensor);
  x = loom_call(loom_Dense(g, .units = 32, .activation = LOOM_RELU), x);
  loom_node *output_tensor = loom_call(loom_Dense(g, .units = 10, .activation = LOOM_SOFTMAX), x);
  loom_model *model = ok(loom_Model(g, .inputs = {input_tensor}, .outputs = {output_tensor}), "Model");
  loom_model_summary(model, stdout);
  ok(loom_compile(model, .optimizer = {.kind = LOOM_RMSPROP}, .loss = "categorical_crossentropy",
                  .metrics = {"acc"}),
     "compile");

  arena_ptr arena(ok(loom_arena_new(nullptr), "loom_arena_new"));
  loom_tensor *xs, *ys, *tx, *ty;
  blobs(arena.get(), quick ? 512 : 4096, 1, &xs, &ys);
  blobs(arena.get(), 1000, 2, &tx, &ty);
  const loom_history *h = ok(loom_fit(model, .x = {xs}, .y = {ys}, .epochs = quick ? 3 : 10, .batch_size = 32), "fit");
  const float *acc = loom_history_get(h, "acc");
  float v[2];
  ok(loom_evaluate(model, v, 2, .x = {tx}, .y = {ty}), "evaluate");
  std::printf("held-out: loss %.4f, acc %.4f (last training epoch acc %.4f)\n", v[0], v[1],
              acc[loom_history_epochs(h) - 1]);
  return v[1] > 0.5f ? 0 : 1;  // the clusters are learnable: fail loudly if not learnt
}
