/* residual.c - the notebook's residual connection.
 *
 * Keras:
 *   x = ...
 *   y = layers.Conv2D(128, 3, activation='relu', padding='same')(x)
 *   y = layers.Conv2D(128, 3, activation='relu', padding='same')(x)
 *   y = layers.MaxPooling2D(2, strides=2)(y)
 *   residual = layers.Conv2D(128, 1, strides=2, padding='same')(x)
 *   y = layers.add([y, residual])
 *
 * As written, both convolutions read x, so the first one feeds nothing: Keras leaves it
 * out of the model, and so does loom (the summary shows conv2d_1, not conv2d). Here x is
 * a 16x16 RGB image, and a head (global average pooling, Dense sigmoid) makes the block
 * trainable on a task: is the image redder than it is green? */
#include "example.h"

loom_model *build_residual_model(loom_graph *g) {
  loom_node *x = loom_Input(g, .shape = {16, 16, 3}, .name = "image");
  loom_node *y = loom_call(
      loom_Conv2D(g, .filters = 128, .kernel_size = {3}, .activation = LOOM_RELU, .padding = LOOM_SAME), x);
  y = loom_call(
      loom_Conv2D(g, .filters = 128, .kernel_size = {3}, .activation = LOOM_RELU, .padding = LOOM_SAME), x);
  y = loom_call(loom_MaxPooling2D(g, .pool_size = {2}, .strides = {2}), y);
  loom_node *residual =
      loom_call(loom_Conv2D(g, .filters = 128, .kernel_size = {1}, .strides = {2}, .padding = LOOM_SAME), x);
  y = loom_call_list(loom_Add(g), y, residual);
  y = loom_call(loom_GlobalAveragePooling2D(g), y);
  loom_node *out = loom_call(loom_Dense(g, .units = 1, .activation = LOOM_SIGMOID), y);
  return loom_Model(g, .inputs = {x}, .outputs = {out});
}

/* Images of uniform noise with a random tint; label 1 when red outweighs green. */
void make_images(loom_arena *a, int64_t n, uint64_t seed, loom_tensor **images, loom_tensor **labels) {
  ex_rng r = {seed};
  const int64_t si[4] = {n, 16, 16, 3}, sl[2] = {n, 1};
  *images = ex_tensor(a, LOOM_F32, 4, si);
  *labels = ex_tensor(a, LOOM_F32, 2, sl);
  for (int64_t i = 0; i < n; ++i) {
    const float tint_r = ex_uniform(&r), tint_g = ex_uniform(&r);
    float *px = loom_tensor_f32(*images) + i * 16 * 16 * 3;
    for (int p = 0; p < 16 * 16; ++p) {
      px[3 * p + 0] = tint_r * ex_uniform(&r);
      px[3 * p + 1] = tint_g * ex_uniform(&r);
      px[3 * p + 2] = ex_uniform(&r);
    }
    loom_tensor_f32(*labels)[i] = tint_r > tint_g;
  }
}

#ifndef LOOM_EXAMPLE_NO_MAIN
int main(int argc, char **argv) {
  const bool quick = ex_quick(argc, argv);
  loom_graph *g = ex_ok(NULL, loom_graph_new(5), "loom_graph_new");
  loom_model *model = ex_ok(g, build_residual_model(g), "Model");
  loom_model_summary(model, stdout);
  ex_st(g, loom_compile(model, .optimizer = {LOOM_ADAM}, .loss = "binary_crossentropy",
                        .metrics = {"acc"}),
        "compile");
  loom_arena *a = ex_ok(NULL, loom_arena_create(), "loom_arena_new");
  loom_tensor *images, *labels;
  make_images(a, quick ? 64 : 512, 9, &images, &labels);
  const loom_history *h = ex_ok(g, loom_fit(model, .x = {images}, .y = {labels},
                                            .epochs = quick ? 2 : 10, .batch_size = 32,
                                            .validation_split = 0.25f),
                                "fit");
  ex_show(h, "loss");
  ex_show(h, "acc");
  ex_show(h, "val_acc");
  loom_arena_free(a);
  loom_graph_free(g);
  return 0;
}
#endif
