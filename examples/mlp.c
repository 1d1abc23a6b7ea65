/* mlp.c - the notebook's first cell: a Dense MLP in the functional API.
 *
 * Keras:
 *   input_tensor = Input(shape=(64,))
 *   x = Dense(32, activation='relu')(input_tensor)
 *   x = Dense(32, activation='relu')(x)
 *   output_tensor = Dense(10, activation='softmax')(x)
 *   model = Model(input_tensor, output_tensor)
 *   model.summary()
 *
 * Then trained on a task it can learn: which of 10 clusters a 64-dim point comes from. */
#include "example.h"

loom_model *build_mlp_model(loom_graph *g) {
  loom_node *input_tensor = loom_Input(g, .shape = {64});
  loom_node *x = loom_call(loom_Dense(g, .units = 32, .activation = LOOM_RELU), input_tensor);
  x = loom_call(loom_Dense(g, .units = 32, .activation = LOOM_RELU), x);
  loom_node *output_tensor = loom_call(loom_Dense(g, .units = 10, .activation = LOOM_SOFTMAX), x);
  return loom_Model(g, .inputs = {input_tensor}, .outputs = {output_tensor});
}

/* Points around 10 random centres; y one-hot of the centre. */
void make_blobs(loom_arena *a, int64_t n, uint64_t seed, loom_tensor **x, loom_tensor **y) {
  ex_rng r = {seed};
  float centre[10][64];
  ex_rng rc = {12345}; /* the same centres for every call: train and test share them */
  for (int c = 0; c < 10; ++c)
    for (int j = 0; j < 64; ++j) centre[c][j] = 2.0f * ex_uniform(&rc) - 1.0f;
  const int64_t sx[2] = {n, 64}, sy[2] = {n, 10};
  *x = ex_tensor(a, LOOM_F32, 2, sx);
  *y = ex_tensor(a, LOOM_F32, 2, sy);
  for (int64_t i = 0; i < n; ++i) {
    const int c = ex_randint(&r, 0, 10);
    for (int j = 0; j < 64; ++j)
      loom_tensor_f32(*x)[i * 64 + j] = centre[c][j] + 1.5f * (ex_uniform(&r) - 0.5f);
    loom_tensor_f32(*y)[i * 10 + c] = 1.0f;
  }
}

#ifndef LOOM_EXAMPLE_NO_MAIN
int main(int argc, char **argv) {
  const bool quick = ex_quick(argc, argv);
  loom_graph *g = ex_ok(NULL, loom_graph_new(2), "loom_graph_new");
  loom_model *model = ex_ok(g, build_mlp_model(g), "Model");
  loom_model_summary(model, stdout);
  ex_st(g, loom_compile(model, .optimizer = {LOOM_RMSPROP}, .loss = "categorical_crossentropy",
                        .metrics = {"acc"}),
        "compile");
  loom_arena *a = ex_ok(NULL, loom_arena_create(), "loom_arena_new");
  loom_tensor *x, *y, *tx, *ty;
  make_blobs(a, quick ? 512 : 4096, 1, &x, &y);
  make_blobs(a, 1000, 2, &tx, &ty);
  const loom_history *h = ex_ok(g, loom_fit(model, .x = {x}, .y = {y}, .epochs = quick ? 3 : 10,
                                            .batch_size = 32),
                                "fit");
  ex_show(h, "loss");
  float v[2];
  ex_st(g, loom_evaluate(model, v, 2, .x = {tx}, .y = {ty}), "evaluate");
  printf("held-out: loss %.4f, acc %.4f\n", v[0], v[1]);
  loom_tensor *pred[1];
  ex_st(g, loom_predict(model, a, pred, .x = {tx}), "predict");
  double row = 0;
  for (int j = 0; j < 10; ++j) row += loom_tensor_f32(pred[0])[j];
  printf("predict: %lld x %lld probabilities; the first row sums to %.4f\n",
         (long long)pred[0]->shape[0], (long long)pred[0]->shape[1], row);
  loom_arena_free(a);
  loom_graph_free(g);
  return 0;
}
#endif
