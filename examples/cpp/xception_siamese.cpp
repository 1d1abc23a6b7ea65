// xception_siamese.cpp - examples/xception_siamese.c in C++: Xception as one layer applied
// to two images, its weights shared, with a head trained a few steps on a synthetic task
// (is the left image brighter?). --quick: 71x71 images.
//
// Keras:
//   xception_base = applications.Xception(weights=None, include_top=False)
//   left_features = xception_base(left_input)
//   right_features = xception_base(right_input)
//   merged_features = layers.concatenate([left_features, right_features], axis=-1)
#include <random>

#include "example.hpp"

int main(int argc, char **argv) {
  const bool quick = quick_run(argc, argv);
  const int side = quick ? 71 : 250;
  graph_ptr graph(ok(loom_graph_new(8), "loom_graph_new"));
  loom_graph *g = graph.get();
  loom_model *xception_base = ok(loom_Xception(g, .include_top = LOOM_NO), "Xception");
  loom_node *left_input = loom_Input(g, .shape = {side, side, 3});
  loom_node *right_input = loom_Input(g, .shape = {side, side, 3});
  loom_node *left_features = loom_call(loom_model_layer(xception_base), left_input);
  loom_node *right_features = loom_call(loom_model_layer(xception_base), right_input);
  loom_node *merged = loom_call_list(loom_Concatenate(g, .axis = -1), left_features, right_features);
  loom_node *pooled = loom_call(loom_GlobalAveragePooling2D(g), merged);
  loom_node *brighter = loom_call(loom_Dense(g, .units = 1, .activation = LOOM_SIGMOID), pooled);
  loom_model *model = ok(loom_Model(g, .inputs = {left_input, right_input}, .outputs = {brighter}), "Model");
  std::printf("xception base: %lld params (%lld trainable)\n",
              (long long)loom_model_count_params(xception_base, false),
              (long long)loom_model_count_params(xception_base, true));
  loom_model_summary(model, stdout);
  ok(loom_compile(model, .optimizer = {.kind = LOOM_ADAM}, .loss = "binary_crossentropy", .metrics = {"acc"}),
     "compile");

  arena_ptr arena(ok(loom_arena_new(nullptr), "loom_arena_new"));
  const int64_t n = quick ? 2 : 8, px = (int64_t)side * side * 3, s[4] = {n, side, side, 3}, sl[2] = {n, 1};
  loom_tensor *left = ok(loom_tensor_new(arena.get(), LOOM_F32, 4, s), "tensor");
  loom_tensor *right = ok(loom_tensor_new(arena.get(), LOOM_F32, 4, s), "tensor");
  loom_tensor *label = ok(loom_tensor_new(arena.get(), LOOM_F32, 2, sl), "tensor");
  std::mt19937 r(3);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (int64_t i = 0; i < n; ++i) {
    const float bl = u(r), br = u(r);
    for (int64_t p = 0; p < px; ++p)
      loom_tensor_f32(left)[i * px + p] = bl * u(r), loom_tensor_f32(right)[i * px + p] = br * u(r);
    loom_tensor_f32(label)[i] = bl > br;
  }
  const loom_history *h = ok(loom_fit(model, .x = {left, right}, .y = {label}, .epochs = quick ? 1 : 3,
                                      .batch_size = 2, .verbose = LOOM_EPOCH_LINES),
                             "fit");
  std::printf("loss after %d epochs: %.4f\n", loom_history_epochs(h),
              loom_history_get(h, "loss")[loom_history_epochs(h) - 1]);
  return 0;
}
