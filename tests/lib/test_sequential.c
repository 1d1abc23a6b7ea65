/* test_sequential.c - Sequential: the same model as the Functional chain of its layers,
 * add() and pop() as Keras', nested in a Functional model and saved and loaded as
 * Sequential, trained with fit; misuse refused naming the model. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "lib/models.h"

static loom_arena *arena;
static void setup(void) { arena = loom_arena_new(NULL); }
static void teardown(void) { loom_arena_free(arena); }
TestSuite(sequential, .init = setup, .fini = teardown);

static void same(const loom_tensor *a, const loom_tensor *b, const char *what) {
  cr_assert_eq(a->size, b->size, "%s", what);
  cr_assert(!memcmp(a->data, b->data, (size_t)a->size * sizeof(float)), "%s: values differ", what);
}

static loom_tensor *predict(loom_model *m, loom_tensor *x) {
  loom_tensor *out[1];
  cr_assert_eq(loom_predict(m, arena, out, .x = {x}), LOOM_OK, "%s", loom_graph_error(loom_model_graph(m)));
  return out[0];
}

Test(sequential, is_the_functional_chain_of_its_layers) {
  const int64_t sx[3] = {5, 7, 3};
  loom_tensor *x = tu_tensor(arena, 3, sx, -1, 1, 1);
  loom_graph *g1 = loom_graph_new(4), *g2 = loom_graph_new(4);
  loom_model *s = loom_Sequential(g1, .input = {.shape = {7, 3}},
                                  .layers = {loom_Conv1D(g1, .filters = 4, .kernel_size = {3}, .padding = LOOM_CAUSAL),
                                             loom_GRU(g1, .units = 5),
                                             loom_Dense(g1, .units = 2, .activation = LOOM_SOFTMAX)});
  cr_assert(s, "%s", loom_graph_error(g1));
  loom_node *in = loom_Input(g2, .shape = {7, 3});
  loom_node *h = loom_call(loom_Conv1D(g2, .filters = 4, .kernel_size = {3}, .padding = LOOM_CAUSAL), in);
  h = loom_call(loom_GRU(g2, .units = 5), h);
  h = loom_call(loom_Dense(g2, .units = 2, .activation = LOOM_SOFTMAX), h);
  loom_model *f = loom_Model(g2, .inputs = {in}, .outputs = {h});
  cr_assert(f, "%s", loom_graph_error(g2));
  same(predict(s, x), predict(f, x), "Sequential vs Functional");
  cr_assert_eq(loom_model_count_params(s, false), loom_model_count_params(f, false));
  char *t = summary_text(s);
  cr_assert(strstr(t, "Model: \"sequential\""), "%s", t);
  free(t);
  loom_graph_free(g1), loom_graph_free(g2);
}

Test(sequential, add_and_pop) {
  loom_graph *g = loom_graph_new(2);
  loom_model *m = loom_Sequential(g, .input = {.shape = {6}}, .name = "stack");
  cr_assert(m, "%s", loom_graph_error(g));
  cr_assert_eq(loom_sequential_pop(m), LOOM_EINVAL);
  cr_assert(strstr(loom_graph_error(g), "Sequential \"stack\" has no layers to pop"), "%s", loom_graph_error(g));
  loom_graph_clear_error(g);
  cr_assert_eq(loom_sequential_add(m, loom_Dense(g, .units = 4, .activation = LOOM_RELU)), LOOM_OK, "%s",
               loom_graph_error(g));
  cr_assert_eq(loom_sequential_add(m, loom_Dense(g, .units = 3)), LOOM_OK);
  cr_assert_eq(loom_model_count_params(m, false), 6 * 4 + 4 + 4 * 3 + 3);
  cr_assert_eq(loom_sequential_pop(m), LOOM_OK);
  cr_assert_eq(loom_model_count_params(m, false), 6 * 4 + 4);
  /* a layer that does not fit leaves the model as it was */
  cr_assert_neq(loom_sequential_add(m, loom_Conv2D(g, .filters = 1, .kernel_size = {1}, .name = "conv")), LOOM_OK);
  cr_assert(strstr(loom_graph_error(g), "conv"), "%s", loom_graph_error(g));
  loom_graph_clear_error(g);
  cr_assert_eq(loom_sequential_add(m, loom_Dense(g, .units = 1, .activation = LOOM_SIGMOID)), LOOM_OK);
  const int64_t sx[2] = {64, 6}, sy[2] = {64, 1};
  loom_tensor *x = tu_tensor(arena, 2, sx, -1, 1, 3), *y = tu_tensor(arena, 2, sy, 0, 0, 4);
  for (int i = 0; i < 64; ++i) loom_tensor_f32(y)[i] = loom_tensor_f32(x)[i * 6] > 0;
  cr_assert_eq(loom_compile(m, .optimizer = {LOOM_ADAM, .learning_rate = 0.05f}, .loss = "binary_crossentropy"), LOOM_OK,
               "%s", loom_graph_error(g));
  const loom_history *h = loom_fit(m, .x = {x}, .y = {y}, .epochs = 10, .batch_size = 8, .verbose = LOOM_SILENT);
  cr_assert(h, "%s", loom_graph_error(g));
  cr_assert_lt(loom_history_get(h, "loss")[9], 0.7f * loom_history_get(h, "loss")[0]);
  cr_assert_neq(loom_sequential_add(m, loom_Dense(g, .units = 1)), LOOM_OK);
  cr_assert(strstr(loom_graph_error(g), "Sequential \"stack\" is compiled"), "%s", loom_graph_error(g));
  loom_graph_free(g);
  g = loom_graph_new(1);
  loom_node *in = loom_Input(g, .shape = {3});
  loom_model *fm = loom_Model(g, .inputs = {in}, .outputs = {in}, .name = "func");
  cr_assert(fm, "%s", loom_graph_error(g));
  cr_assert_neq(loom_sequential_add(fm, loom_Dense(g, .units = 1)), LOOM_OK);
  cr_assert(strstr(loom_graph_error(g), "model \"func\" is Functional, not Sequential"), "%s", loom_graph_error(g));
  loom_graph_free(g);
  g = loom_graph_new(1);
  cr_assert_null(loom_Sequential(g, .layers = {loom_Dense(g, .units = 1)}, .name = "s"));
  cr_assert(strstr(loom_graph_error(g), "Sequential \"s\": needs .input"), "%s", loom_graph_error(g));
  loom_graph_free(g);
}

Test(sequential, nested_saves_and_loads_as_sequential) {
  loom_graph *g = loom_graph_new(5);
  loom_model *enc = loom_Sequential(g, .input = {.shape = {8, 8, 1}}, .name = "encoder",
                                    .layers = {loom_Conv2D(g, .filters = 3, .kernel_size = {3}, .activation = LOOM_RELU),
                                               loom_UpSampling2D(g), loom_GlobalAveragePooling2D(g)});
  cr_assert(enc, "%s", loom_graph_error(g));
  loom_node *in = loom_Input(g, .shape = {8, 8, 1});
  loom_node *y = loom_call(loom_Dense(g, .units = 2), loom_call(loom_model_layer(enc), in));
  loom_model *m = loom_Model(g, .inputs = {in}, .outputs = {y});
  cr_assert(m, "%s", loom_graph_error(g));
  cr_assert_neq(loom_sequential_add(enc, loom_Dense(g, .units = 1)), LOOM_OK);
  cr_assert(strstr(loom_graph_error(g), "is used as a layer"), "%s", loom_graph_error(g));
  loom_graph_clear_error(g);
  char *t1 = summary_text(m);
  cr_assert(strstr(t1, "encoder (Sequential)"), "%s", t1);
  char path[] = "/tmp/loom_seq_XXXXXX";
  const int fd = mkstemp(path);
  close(fd);
  cr_assert_eq(loom_save(m, path), LOOM_OK, "%s", loom_graph_error(g));
  loom_model *back = loom_model_load(path);
  cr_assert(back, "%s", loom_last_error());
  char *t2 = summary_text(back);
  cr_assert_str_eq(t1, t2);
  const int64_t sx[4] = {3, 8, 8, 1};
  loom_tensor *x = tu_tensor(arena, 4, sx, -1, 1, 6);
  same(predict(m, x), predict(back, x), "loaded");
  loom_graph_free(loom_model_graph(back));
  /* a Sequential model saved alone loads as Sequential */
  cr_assert_eq(loom_save(enc, path), LOOM_OK, "%s", loom_graph_error(g));
  back = loom_model_load(path);
  unlink(path);
  cr_assert(back, "%s", loom_last_error());
  cr_assert_eq(loom_sequential_add(back, loom_Dense(loom_model_graph(back), .units = 1)), LOOM_OK, "%s",
               loom_last_error());
  loom_graph_free(loom_model_graph(back));
  free(t1), free(t2);
  loom_graph_free(g);
}
