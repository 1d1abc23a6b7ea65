/* xception_siamese.c - the notebook's last cell: Xception as one layer applied to two
 * images, its weights shared.
 *
 * Keras:
 *   xception_base = applications.Xception(weights=None, include_top=False)
 *   left_input = Input(shape=(250, 250, 3))
 *   right_input = Input(shape=(250, 250, 3))
 *   left_features = xception_base(left_input)
 *   right_features = xception_base(right_input)
 *   merged_features = layers.concatenate([left_features, right_features], axis=-1)
 *
 * Then a head (global average pooling, Dense sigmoid) and a few training steps on a
 * synthetic task: is the left image brighter than the right? (--quick: 71x71 images.) */
#include "example.h"

loom_model *build_xception_siamese(loom_graph *g, int side, loom_model **base_out) {
  loom_model *xception_base = loom_Xception(g, .include_top = LOOM_NO);
  loom_node *left_input = loom_Input(g, .shape = {side, side, 3});
  loom_node *right_input = loom_Input(g, .shape = {side, side, 3});
  loom_node *left_features = loom_call(loom_model_layer(xception_base), left_input);
  loom_node *right_features = loom_call(loom_model_layer(xception_base), right_input);
  loom_node *merged_features =
      loom_call_list(loom_Concatenate(g, .axis = -1), left_features, right_features);
  loom_node *pooled = loom_call(loom_GlobalAveragePooling2D(g), merged_features);
  loom_node *brighter = loom_call(loom_Dense(g, .units = 1, .activation = LOOM_SIGMOID), pooled);
  if (base_out) *base_out = xception_base;
  return loom_Model(g, .inputs = {left_input, right_input}, .outputs = {brighter});
}

/* Pairs of noise images, each with its own brightness; label 1 if the left is brighter. */
void make_image_pairs(loom_arena *a, int64_t n, int side, uint64_t seed, loom_tensor **left,
                      loom_tensor **right, loom_tensor **label) {
  ex_rng r = {seed};
  const int64_t s[4] = {n, side, side, 3}, sl[2] = {n, 1};
  *left = ex_tensor(a, LOOM_F32, 4, s), *right = ex_tensor(a, LOOM_F32, 4, s);
  *label = ex_tensor(a, LOOM_F32, 2, sl);
  const int64_t px = (int64_t)side * side * 3;
  for (int64_t i = 0; i < n; ++i) {
    const float bl = ex_uniform(&r), br = ex_uniform(&r);
    for (int64_t p = 0; p < px; ++p) {
      loom_tensor_f32(*left)[i * px + p] = bl * ex_uniform(&r);
      loom_tensor_f32(*right)[i * px + p] = br * ex_uniform(&r);
    }
    loom_tensor_f32(*label)[i] = bl > br;
  }
}

#ifndef LOOM_EXAMPLE_NO_MAIN
int main(int argc, char **argv) {
  const bool quick = ex_quick(argc, argv);
  const int side = quick ? 71 : 250;
  loom_graph *g = ex_ok(NULL, loom_graph_new(8), "loom_graph_new");
  loom_model *base;
  loom_model *model = ex_ok(g, build_xception_siamese(g, side, &base), "Model");
  printf("xception base: %lld params (%lld trainable)\n", (long long)loom_model_count_params(base, false),
         (long long)loom_model_count_params(base, true));
  loom_model_summary(model, stdout);
  ex_st(g, loom_compile(model, .optimizer = {LOOM_ADAM}, .loss = "binary_crossentropy", .metrics = {"acc"}),
        "compile");
  loom_arena *a = ex_ok(NULL, loom_arena_create(), "loom_arena_new");
  loom_tensor *left, *right, *label;
  make_image_pairs(a, quick ? 2 : 8, side, 3, &left, &right, &label);
  const loom_history *h = ex_ok(g, loom_fit(model, .x = {left, right}, .y = {label}, .epochs = quick ? 1 : 3,
                                            .batch_size = 2, .verbose = LOOM_EPOCH_LINES),
                                "fit");
  ex_show(h, "loss");
  loom_arena_free(a);
  loom_graph_free(g);
  return 0;
}
#endif
