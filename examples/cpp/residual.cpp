// residual.cpp - examples/residual.c in C++: the notebook's residual connection (both
// convolutions read x, so the first feeds nothing and Keras, like loom, leaves it out),
// with a head that makes the block trainable: is the image redder than it is green?
//
// Keras:
//   y = layers.Conv2D(128, 3, activation='relu', padding='same')(x)
//   y = layers.Conv2D(128, 3, activation='relu', padding='same')(x)
//   y = layers.MaxPooling2D(2, strides=2)(y)
//   residual = layers.Conv2D(128, 1, strides=2, padding='same')(x)
//   y = layers.add([y, residual])
#include <random>

#include "example.hpp"

// Uniform noise with a random tint; label 1 when red outweighs green.
static void images(loom_arena *a, int64_t n, unsigned seed, loom_tensor **x, loom_tensor **y) {
  std::mt19937 r(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  const int64_t sx[4] = {n, 16, 16, 3}, sy[2] = {n, 1};
  *x = ok(loom_tensor_new(a, LOOM_F32, 4, sx), "tensor");
  *y = ok(loom_tensor_new(a, LOOM_F32, 2, sy), "tensor");
  for (int64_t i = 0; i < n; ++i) {
    const float red = u(r), green = u(r);
    float *px = loom_tensor_f32(*x) + i * 16 * 16 * 3;
    for (int p = 0; p < 16 * 16; ++p) px[3 * p] = red * u(r), px[3 * p + 1] = green * u(r), px[3 * p + 2] = u(r);
    loom_tensor_f32(*y)[i] = red > green;
  }
}

int main(int argc, char **argv) {
  const bool quick = quick_run(argc, argv);
  graph_ptr graph(ok(loom_graph_new(5), "loom_graph_new"));
  loom_graph *g = graph.get();
  loom_node *x = loom_Input(g, .shape = {16, 16, 3}, .name = "image");
  loom_node *y = loom_call(loom_Conv2D(g, .filters = 128, .kernel_size = {3}, .padding = LOOM_SAME,
                                       .activation = LOOM_RELU), x);
  y = loom_call(loom_Conv2D(g, .filters = 128, .kernel_size = {3}, .padding = LOOM_SAME, .activation = LOOM_RELU), x);
  y = loom_call(loom_MaxPooling2D(g, .pool_size = {2}, .strides = {2}), y);
  loom_node *residual =
      loom_call(loom_Conv2D(g, .filters = 128, .kernel_size = {1}, .strides = {2}, .padding = LOOM_SAME), x);
  y = loom_call_list(loom_Add(g), y, residual);
  y = loom_call(loom_GlobalAveragePooling2D(g), y);
  loom_node *out = loom_call(loom_Dense(g, .units = 1, .activation = LOOM_SIGMOID), y);
  loom_model *model = ok(loom_Model(g, .inputs = {x}, .outputs = {out}), "Model");
  loom_model_summary(model, stdout);
  ok(loom_compile(model, .optimizer = {.kind = LOOM_ADAM}, .loss = "binary_crossentropy", .metrics = {"acc"}),
     "compile");

  arena_ptr arena(ok(loom_arena_new(nullptr), "loom_arena_new"));
  loom_tensor *xs, *ys;
  images(arena.get(), quick ? 64 : 512, 9, &xs, &ys);
  const loom_history *h = ok(loom_fit(model, .x = {xs}, .y = {ys}, .epochs = quick ? 2 : 10, .batch_size = 32,
                                      .validation_split = 0.25f),
                             "fit");
  const float *loss = loom_history_get(h, "loss");
  const int n = loom_history_epochs(h);
  std::printf("loss %.4f -> %.4f over %d epochs, val_acc %.4f\n", loss[0], loss[n - 1], n,
              loom_history_get(h, "val_acc")[n - 1]);
  return 0;
}
