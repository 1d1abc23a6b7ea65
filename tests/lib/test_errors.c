/* test_errors.c - bad graphs, bad options and bad data give an error that names the
 * layer or the data and what was expected, and change nothing. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "lib/models.h"

static loom_graph *g;
static loom_arena *data;
static void open_g(void) { g = loom_graph_new(1), data = loom_arena_new(NULL); }
static void close_g(void) { loom_graph_free(g), loom_arena_free(data); }
TestSuite(errors, .init = open_g, .fini = close_g);

#define EXPECT_ERR(status, text)                                                          \
  do {                                                                                    \
    cr_assert_eq(loom_graph_status(g), status, "status %d: %s", loom_graph_status(g),     \
                 loom_graph_error(g));                                                    \
    cr_assert(strstr(loom_graph_error(g), text), "error \"%s\" lacks \"%s\"",             \
              loom_graph_error(g), text);                                                 \
    loom_graph_clear_error(g);                                                            \
  } while (0)

Test(errors, a_shape_mismatch_names_the_layer_and_both_shapes) {
  loom_node *a = loom_Input(g, .shape = {64}), *b = loom_Input(g, .shape = {32});
  loom_layer *dense = loom_Dense(g, .units = 8);
  cr_assert(loom_call(dense, a));
  cr_assert_null(loom_call(dense, b)); /* built for 64 features */
  EXPECT_ERR(LOOM_ESHAPE, "dense: was built for inputs with 64 in dim 1, got [None, 32]");
  loom_node *c = loom_Input(g, .shape = {5, 3}), *d = loom_Input(g, .shape = {4, 3});
  cr_assert_null(loom_call_list(loom_Concatenate(g, .axis = -1), c, d));
  EXPECT_ERR(LOOM_ESHAPE, "concatenate: input 0 [None, 5, 3] and input 1 [None, 4, 3] do not fit");
  cr_assert_null(loom_call_list(loom_Add(g), a, b));
  EXPECT_ERR(LOOM_ESHAPE, "add: input 0 [None, 64] and input 1 [None, 32] do not fit");
  cr_assert_null(loom_call(loom_LSTM(g, .units = 4), a));
  EXPECT_ERR(LOOM_ESHAPE, "lstm: expected input of rank 3 (batch included), got [None, 64]");
  cr_assert_null(loom_call(loom_Embedding(g, .input_dim = 10, .output_dim = 2), a));
  EXPECT_ERR(LOOM_EDTYPE, "embedding: expected int32 input, got float32");
  loom_node *img = loom_Input(g, .shape = {4, 4, 3});
  cr_assert_null(loom_call(loom_Conv2D(g, .filters = 2, .kernel_size = {5}), img));
  EXPECT_ERR(LOOM_ESHAPE, "conv2d: input [None, 4, 4, 3] is smaller than the window (5)");
  cr_assert_null(loom_call(loom_Flatten(g), loom_Input(g, .shape = {LOOM_NONE, 3})));
  EXPECT_ERR(LOOM_ESHAPE, "flatten: needs every dim but the batch known, got [None, None, 3]");
  cr_assert_null(loom_call(dense, NULL));
  EXPECT_ERR(LOOM_EINVAL, "dense: input 0 is NULL (an earlier error?)");
}

Test(errors, bad_options_are_refused_at_construction) {
  cr_assert_null(loom_Dense(g, .units = 0));
  EXPECT_ERR(LOOM_EINVAL, "Dense: units must be > 0, got 0");
  cr_assert_null(loom_Dropout(g, .rate = 1.5f));
  EXPECT_ERR(LOOM_EINVAL, "Dropout: rate must be in [0, 1)");
  cr_assert_null(loom_Conv1D(g, .filters = 4));
  EXPECT_ERR(LOOM_EINVAL, "Conv1D: filters, kernel_size, strides and dilation_rate must be > 0");
  cr_assert(loom_Dense(g, .units = 3, .name = "head"));
  cr_assert_null(loom_Dense(g, .units = 3, .name = "head"));
  EXPECT_ERR(LOOM_EINVAL, "a layer named \"head\" exists already");
  cr_assert_null(loom_Input(g, .shape = {-5}));
  EXPECT_ERR(LOOM_ESHAPE, "Input: dim 0 is -5");
  cr_assert_null(loom_layer_dense(g, NULL));
  EXPECT_ERR(LOOM_EINVAL, "Dense: options are NULL");
  cr_assert_null(loom_layer_dense(NULL, &(loom_dense_opts){.units = 2}));
  cr_assert(strstr(loom_last_error(), "graph is NULL"));
}

Test(errors, an_error_flows_through_later_calls_and_the_first_is_kept) {
  loom_node *x = loom_Input(g, .shape = {4});
  loom_node *y = loom_call(loom_Dense(g, .units = 0), x); /* the layer is NULL */
  loom_node *z = loom_call(loom_Dense(g, .units = 2), y);
  cr_assert_null(y);
  cr_assert_null(z);
  cr_assert_null(loom_Model(g, .inputs = {x}, .outputs = {z}));
  EXPECT_ERR(LOOM_EINVAL, "Dense: units must be > 0");
}

Test(errors, a_model_needs_every_input_its_outputs_use) {
  loom_node *a = loom_Input(g, .shape = {4}, .name = "left"), *b = loom_Input(g, .shape = {4}, .name = "right");
  loom_node *sum = loom_call_list(loom_Add(g), a, b);
  cr_assert_null(loom_Model(g, .inputs = {a}, .outputs = {sum}));
  EXPECT_ERR(LOOM_EINVAL, "graph disconnected: the outputs need input \"right\"");
  cr_assert_null(loom_Model(g, .inputs = {sum}, .outputs = {sum}));
  EXPECT_ERR(LOOM_EINVAL, "input 0 is not an Input of this graph (it comes out of \"add\")");
}

static loom_model *small_model(void) {
  loom_node *a = loom_Input(g, .shape = {3}, .name = "a");
  loom_node *ids = loom_Input(g, .shape = {2}, .dtype = LOOM_I32, .name = "ids");
  loom_node *e = loom_call(loom_Flatten(g), loom_call(loom_Embedding(g, .input_dim = 5, .output_dim = 2), ids));
  loom_node *h = loom_call_list(loom_Concatenate(g), a, e);
  loom_node *y = loom_call(loom_Dense(g, .units = 2, .activation = LOOM_SOFTMAX, .name = "out"), h);
  loom_node *v = loom_call(loom_Dense(g, .units = 1, .name = "value"), h);
  loom_model *m = loom_Model(g, .inputs = {a, ids}, .outputs = {y, v});
  cr_assert(m, "%s", loom_graph_error(g));
  return m;
}

Test(errors, compile_checks_losses_names_and_changes_nothing_when_it_fails) {
  loom_model *m = small_model();
  cr_assert_lt(loom_compile(m, .loss = "hinge"), 0);
  EXPECT_ERR(LOOM_EINVAL, "unknown loss \"hinge\" for output \"out\"");
  cr_assert_lt(loom_compile(m, .loss_by_name = {{"outt", "mse"}}), 0);
  EXPECT_ERR(LOOM_EINVAL, "\"outt\", which is no output of model \"model\" (its outputs: \"out\", \"value\")");
  cr_assert_lt(loom_compile(m, .loss_by_name = {{"out", "mse"}}), 0);
  EXPECT_ERR(LOOM_EINVAL, "no loss for output \"value\"");
  cr_assert_lt(loom_compile(m, .losses = {"mse"}), 0);
  EXPECT_ERR(LOOM_EINVAL, "1 losses for 2 outputs");
  cr_assert_lt(loom_compile(m, .loss = "mse", .metrics = {"auc"}), 0);
  EXPECT_ERR(LOOM_EINVAL, "unknown metric \"auc\"");
  cr_assert_null(loom_fit(m, .epochs = 1));
  EXPECT_ERR(LOOM_ESTATE, "fit: model \"model\" is not compiled");
  cr_assert_eq(loom_compile(m, .losses = {"categorical_crossentropy", "mse"}, .loss_weights = (float[]){1, 0.5f},
                            .metrics = {"acc"}), LOOM_OK, "%s", loom_graph_error(g));
  cr_assert_eq(loom_model_num_metrics(m), 5);
  static const char *names[5] = {"loss", "out_loss", "value_loss", "out_acc", "value_acc"};
  for (int i = 0; i < 5; ++i) cr_assert_str_eq(loom_model_metric_name(m, i), names[i]);
}

Test(errors, bad_data_is_refused_before_any_training) {
  loom_model *m = small_model();
  cr_assert_eq(loom_compile(m, .loss_by_name = {{"out", "categorical_crossentropy"}, {"value", "mse"}}), LOOM_OK);
  const int64_t sa[2] = {8, 3}, si[2] = {8, 2}, sy[2] = {8, 2}, sv[2] = {8, 1}, sbad[2] = {8, 4}, s7[2] = {7, 2};
  loom_tensor *a = tu_tensor(data, 2, sa, -1, 1, 1), *ids = loom_tensor_new(data, LOOM_I32, 2, si);
  loom_tensor *y = tu_tensor(data, 2, sy, 0, 1, 2), *v = tu_tensor(data, 2, sv, 0, 1, 3);
  loom_tensor *bad = tu_tensor(data, 2, sbad, 0, 1, 4), *ids7 = loom_tensor_new(data, LOOM_I32, 2, s7);
  loom_tensor *fids = tu_tensor(data, 2, si, 0, 1, 5);
  loom_tensor *k = loom_layer_weight(loom_model_get_layer(m, "out"), "kernel");
  float before[32];
  memcpy(before, k->data, (size_t)k->size * sizeof(float));
  cr_assert_null(loom_fit(m, .x = {a}, .y = {y, v}, .verbose = LOOM_SILENT));
  EXPECT_ERR(LOOM_EINVAL, "fit: the model has 2 inputs, got 1");
  cr_assert_null(loom_fit(m, .x = {bad, ids}, .y = {y, v}, .verbose = LOOM_SILENT));
  EXPECT_ERR(LOOM_ESHAPE, "fit: input \"a\" expects [None, 3], got [8, 4]");
  cr_assert_null(loom_fit(m, .x = {a, fids}, .y = {y, v}, .verbose = LOOM_SILENT));
  EXPECT_ERR(LOOM_EDTYPE, "fit: input \"ids\" expects int32 data, got float32");
  cr_assert_null(loom_fit(m, .x = {a, ids7}, .y = {y, v}, .verbose = LOOM_SILENT));
  EXPECT_ERR(LOOM_ESHAPE, "fit: input \"ids\" has 7 samples, input \"a\" has 8");
  cr_assert_null(loom_fit(m, .x_by_name = {{"a", a}, {"idz", ids}}, .y = {y, v}, .verbose = LOOM_SILENT));
  EXPECT_ERR(LOOM_EINVAL, "fit: \"idz\" is no input of model \"model\" (its inputs: \"a\", \"ids\")");
  cr_assert_null(loom_fit(m, .x_by_name = {{"a", a}}, .y = {y, v}, .verbose = LOOM_SILENT));
  EXPECT_ERR(LOOM_EINVAL, "fit: no data for input \"ids\"");
  cr_assert_null(loom_fit(m, .x = {a, ids}, .y_by_name = {{"out", y}, {"value", bad}}, .verbose = LOOM_SILENT));
  EXPECT_ERR(LOOM_ESHAPE, "fit: output \"value\" expects [None, 1], got [8, 4]");
  cr_assert_null(loom_fit(m, .x = {a, ids}, .verbose = LOOM_SILENT));
  EXPECT_ERR(LOOM_EINVAL, "fit: no targets (y) given");
  cr_assert_null(loom_fit(m, .x = {a, ids}, .x_by_name = {{"a", a}}, .y = {y, v}, .verbose = LOOM_SILENT));
  EXPECT_ERR(LOOM_EINVAL, "given both by position and by name");
  cr_assert(memcmp(before, k->data, (size_t)k->size * sizeof(float)) == 0, "weights changed");
  /* ids outside the table: refused before the first step (nothing trained), naming the
   * input, the sample (not its place in a shuffled batch) and the layer */
  loom_tensor_i32(ids)[ids->size - 1] = 9;
  cr_assert_null(loom_fit(m, .x = {a, ids}, .y = {y, v}, .verbose = LOOM_SILENT));
  char want[128];
  snprintf(want, sizeof want, "fit: input \"ids\", sample %lld: id 9 is outside [0, ", (long long)ids->shape[0] - 1);
  EXPECT_ERR(LOOM_EINVAL, want);
  cr_assert(memcmp(before, k->data, (size_t)k->size * sizeof(float)) == 0, "weights changed");
  cr_assert_eq(loom_predict(m, data, (loom_tensor *[2]){0}, .x = {a, ids}), LOOM_EINVAL);
  EXPECT_ERR(LOOM_EINVAL, "predict: input \"ids\", sample");
  loom_tensor_i32(ids)[ids->size - 1] = 0;
  /* a NaN in the data: refused naming the input and the sample */
  loom_tensor_f32(a)[2 * a->shape[1] + 1] = NAN;
  cr_assert_null(loom_fit(m, .x = {a, ids}, .y = {y, v}, .verbose = LOOM_SILENT));
  EXPECT_ERR(LOOM_EINVAL, "fit: input \"a\" holds NaN at sample 2 (value 1 of the sample)");
  loom_tensor_f32(a)[2 * a->shape[1] + 1] = 0.5f;
  loom_tensor_f32(y)[0] = INFINITY;
  cr_assert(loom_evaluate(m, (float[8]){0}, 8, .x = {a, ids}, .y = {y, v}) < 0);
  EXPECT_ERR(LOOM_EINVAL, "evaluate: output \"");
  loom_tensor_f32(y)[0] = 0.0f;
  /* no samples */
  const int64_t none[2] = {0, a->shape[1]}, none_ids[2] = {0, ids->shape[1]};
  cr_assert_null(loom_fit(m, .x = {loom_tensor_new(data, LOOM_F32, 2, none), loom_tensor_new(data, LOOM_I32, 2, none_ids)},
                          .y = {y, v}, .verbose = LOOM_SILENT));
  EXPECT_ERR(LOOM_EINVAL, "fit: 0 samples in input \"a\"");
  cr_assert(loom_fit(m, .x = {a, ids}, .y = {y, v}, .epochs = 2, .verbose = LOOM_SILENT), "%s", loom_graph_error(g));
  loom_tensor *out[2];
  cr_assert_eq(loom_predict(m, data, out, .x_by_name = {{"ids", ids}, {"a", a}}), LOOM_OK);
  cr_assert_eq(out[0]->shape[0], 8);
  cr_assert_eq(out[1]->shape[1], 1);
  /* huge finite values whose sum overflows are data all the same (the check sums first) */
  for (int i = 0; i < 4; ++i) loom_tensor_f32(a)[i] = 3e38f;
  cr_assert_eq(loom_predict(m, data, out, .x = {a, ids}), LOOM_OK, "%s", loom_graph_error(g));
}

Test(errors, sparse_targets_are_class_ids) {
  loom_node *x = loom_Input(g, .shape = {3});
  loom_model *m = loom_Model(g, .inputs = {x}, .outputs = {loom_call(loom_Dense(g, .units = 4, .activation = LOOM_SOFTMAX), x)});
  cr_assert_eq(loom_compile(m, .loss = "sparse_categorical_crossentropy", .metrics = {"accuracy"}), LOOM_OK);
  const int64_t sx[2] = {6, 3}, sy[1] = {6}, sf[2] = {6, 4};
  loom_tensor *xv = tu_tensor(data, 2, sx, -1, 1, 1), *y = loom_tensor_new(data, LOOM_I32, 1, sy);
  for (int i = 0; i < 6; ++i) loom_tensor_i32(y)[i] = i % 4;
  const loom_history *h = loom_fit(m, .x = {xv}, .y = {y}, .epochs = 2, .verbose = LOOM_SILENT);
  cr_assert(h, "%s", loom_graph_error(g));
  cr_assert(loom_history_get(h, "accuracy"));
  cr_assert_null(loom_fit(m, .x = {xv}, .y = {tu_tensor(data, 2, sf, 0, 1, 2)}, .verbose = LOOM_SILENT));
  EXPECT_ERR(LOOM_ESHAPE, "fit: output \"dense\" expects [None], got [6, 4]");
}
