/* multi_output.c - the notebook's three-output model: age (regression), income group
 * (10 classes) and gender (binary) predicted from one post.
 *
 * Keras:
 *   posts_input = Input(shape=(None,), dtype='int32', name='posts')
 *   embedded_posts = layers.Embedding(256, vocabulary_size)(posts_input)
 *   x = layers.Conv1D(128, 5, activation='relu')(embedded_posts)
 *   x = layers.MaxPooling1D(5)(x)
 *   x = layers.Conv1D(256, 5, activation='relu')(x)
 *   x = layers.Conv1D(256, 5, activation='relu')(x)
 *   x = layers.MaxPooling1D(5)(x)
 *   x = layers.Conv1D(256, 5, activation='relu')(x)
 *   x = layers.Conv1D(256, 5, activation='relu')(x)
 *   x = layers.GlobalMaxPooling1D()(x)
 *   x = layers.Dense(128, activation='relu')(x)
 *   age_prediction = layers.Dense(1, name='age')(x)
 *   income_prediction = layers.Dense(num_income_group, activation='softmax', name='income')(x)
 *   gender_prediction = layers.Dense(1, activation='sigmoid', name='gender')(x)
 *   model = Model(posts_input, [age_prediction, income_prediction, gender_prediction])
 *   model.compile(optimizer='rmsprop',
 *                 loss={'age': 'mse', 'income': 'categorical_crossentropy',
 *                       'gender': 'binary_crossentropy'},
 *                 loss_weights={'age': 0.25, 'income': 1., 'gender': 10.})
 *   model.fit(posts, {'age': age_targets, 'income': income_targets,
 *                     'gender': gender_targets}, epochs=10, batch_size=64)
 *
 * Note: the notebook writes Embedding(256, vocabulary_size). Keras reads that as
 * input_dim=256 (word ids 0..255) and output_dim=vocabulary_size=5000 (a 5000-wide
 * vector per word) -- the reverse of what was surely meant, Embedding(vocabulary_size,
 * 256). It is reproduced as written (1,280,000 embedding weights and a 3.2M-weight first
 * convolution); the trained demo uses the same layers with 32-wide word vectors so that
 * it runs in seconds. */
#include "example.h"

enum { VOCABULARY_SIZE = 5000, NUM_INCOME_GROUP = 10 };

loom_model *build_multi_output_model(loom_graph *g, int embedding_width) {
  loom_node *posts_input = loom_Input(g, .shape = {LOOM_NONE}, .dtype = LOOM_I32, .name = "posts");
  loom_node *embedded_posts =
      loom_call(loom_Embedding(g, .input_dim = 256, .output_dim = embedding_width), posts_input);
  loom_node *x = loom_call(loom_Conv1D(g, .filters = 128, .kernel_size = {5}, .activation = LOOM_RELU),
                           embedded_posts);
  x = loom_call(loom_MaxPooling1D(g, .pool_size = {5}), x);
  x = loom_call(loom_Conv1D(g, .filters = 256, .kernel_size = {5}, .activation = LOOM_RELU), x);
  x = loom_call(loom_Conv1D(g, .filters = 256, .kernel_size = {5}, .activation = LOOM_RELU), x);
  x = loom_call(loom_MaxPooling1D(g, .pool_size = {5}), x);
  x = loom_call(loom_Conv1D(g, .filters = 256, .kernel_size = {5}, .activation = LOOM_RELU), x);
  x = loom_call(loom_Conv1D(g, .filters = 256, .kernel_size = {5}, .activation = LOOM_RELU), x);
  x = loom_call(loom_GlobalMaxPooling1D(g), x);
  x = loom_call(loom_Dense(g, .units = 128, .activation = LOOM_RELU), x);
  loom_node *age = loom_call(loom_Dense(g, .units = 1, .name = "age"), x);
  loom_node *income = loom_call(
      loom_Dense(g, .units = NUM_INCOME_GROUP, .activation = LOOM_SOFTMAX, .name = "income"), x);
  loom_node *gender =
      loom_call(loom_Dense(g, .units = 1, .activation = LOOM_SIGMOID, .name = "gender"), x);
  return loom_Model(g, .inputs = {posts_input}, .outputs = {age, income, gender});
}

int compile_multi_output_model(loom_model *m) {
  return loom_compile(m, .optimizer = {LOOM_RMSPROP},
                      .loss_by_name = {{"age", "mse"},
                                       {"income", "categorical_crossentropy"},
                                       {"gender", "binary_crossentropy"}},
                      .loss_weight_by_name = {{"age", 0.25f}, {"income", 1.0f}, {"gender", 10.0f}},
                      .metric_by_name = {{"income", "acc"}, {"gender", "acc"}, {"age", "mae"}});
}

/* Posts whose words are "small" (< 64) with a per-post probability p; age, income
 * group and gender follow from p, so all three heads can learn them. */
typedef struct posts_data {
  loom_tensor *posts, *age, *income, *gender;
} posts_data;

posts_data make_posts(loom_arena *a, int64_t samples, int64_t length, uint64_t seed) {
  ex_rng r = {seed};
  const int64_t sp[2] = {samples, length}, s1[2] = {samples, 1}, sc[2] = {samples, NUM_INCOME_GROUP};
  posts_data d = {ex_tensor(a, LOOM_I32, 2, sp), ex_tensor(a, LOOM_F32, 2, s1),
                  ex_tensor(a, LOOM_F32, 2, sc), ex_tensor(a, LOOM_F32, 2, s1)};
  for (int64_t i = 0; i < samples; ++i) {
    const float p = ex_uniform(&r);
    for (int64_t t = 0; t < length; ++t)
      loom_tensor_i32(d.posts)[i * length + t] = ex_uniform(&r) < p ? ex_randint(&r, 0, 64)
                                                                    : ex_randint(&r, 64, 256);
    loom_tensor_f32(d.age)[i] = 2.0f + 4.0f * p; /* in tens of years */
    loom_tensor_f32(d.income)[i * NUM_INCOME_GROUP + (int)(p * NUM_INCOME_GROUP)] = 1.0f;
    loom_tensor_f32(d.gender)[i] = p > 0.5f;
  }
  return d;
}

#ifndef LOOM_EXAMPLE_NO_MAIN
int main(int argc, char **argv) {
  const bool quick = ex_quick(argc, argv);
  loom_graph *g = ex_ok(NULL, loom_graph_new(3), "loom_graph_new");
  loom_model *as_written = ex_ok(g, build_multi_output_model(g, VOCABULARY_SIZE), "Model");
  loom_model_summary(as_written, stdout);
  ex_st(g, compile_multi_output_model(as_written), "compile");
  loom_graph_free(g);

  printf("\nThe same layers with 32-wide word vectors, on posts whose word mix sets age, "
         "income and gender\n");
  g = ex_ok(NULL, loom_graph_new(4), "loom_graph_new");
  loom_model *model = ex_ok(g, build_multi_output_model(g, 32), "Model");
  ex_st(g, compile_multi_output_model(model), "compile");
  loom_arena *a = ex_ok(NULL, loom_arena_create(), "loom_arena_new");
  const posts_data d = make_posts(a, quick ? 64 : 512, 300, 5);
  /* targets by output name: Keras' dict form */
  const loom_history *h = ex_ok(
      g, loom_fit(model, .x = {d.posts},
                  .y_by_name = {{"age", d.age}, {"income", d.income}, {"gender", d.gender}},
                  .epochs = quick ? 2 : 10, .batch_size = 64, .verbose = LOOM_EPOCH_LINES),
      "fit");
  ex_show(h, "loss");
  ex_show(h, "age_loss");
  ex_show(h, "income_loss");
  ex_show(h, "gender_loss");
  ex_show(h, "gender_acc");
  loom_arena_free(a);
  loom_graph_free(g);
  return 0;
}
#endif
