/* test_reshaping_layers.c - Reshape, Permute, RepeatVector, ZeroPadding, Cropping,
 * UpSampling, Conv1D 'causal' and the transposed convolutions as layers: each gives what
 * its op gives with the options Keras gives it, shapes are inferred with unknown dims,
 * Keras' kernel layout and parameter count, an encoder-decoder of them trains and saves
 * and loads to the same predictions, bad options and inputs are refused naming the layer. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "lib/models.h"

static loom_arena *arena;
static loom_ctx *cx;
static void setup(void) { arena = loom_arena_new(NULL), cx = loom_ctx_new(NULL); }
static void teardown(void) { loom_ctx_free(cx), loom_arena_free(arena); }
TestSuite(reshaping, .init = setup, .fini = teardown);

/* One layer on x (its sample shape the input's): predict's output. */
static loom_tensor *run_layer(loom_graph *g, loom_layer *l, loom_tensor *x) {
  cr_assert(l, "%s", loom_graph_error(g));
  loom_input_opts io = {0};
  for (int i = 1; i < x->rank; ++i) io.shape[i - 1] = x->shape[i];
  loom_node *in = loom_input(g, &io);
  loom_node *y = loom_call(l, in);
  cr_assert(y, "%s", loom_graph_error(g));
  loom_model *m = loom_Model(g, .inputs = {in}, .outputs = {y});
  cr_assert(m, "%s", loom_graph_error(g));
  loom_tensor *out[1];
  cr_assert_eq(loom_predict(m, arena, out, .x = {x}), LOOM_OK, "%s", loom_graph_error(g));
  return out[0];
}

static void same(const loom_tensor *a, const loom_tensor *b, const char *what) {
  cr_assert(a && b, "%s: %s", what, loom_ctx_error(cx));
  cr_assert_eq(a->rank, b->rank, "%s", what);
  for (int i = 0; i < a->rank; ++i) cr_assert_eq(a->shape[i], b->shape[i], "%s: dim %d", what, i);
  cr_assert(!memcmp(a->data, b->data, (size_t)a->size * sizeof(float)), "%s: values differ", what);
}

Test(reshaping, each_layer_is_its_op) {
  const int64_t s3[3] = {2, 6, 4}, s4[4] = {2, 5, 4, 3};
  loom_tensor *x3 = tu_tensor(arena, 3, s3, -1, 1, 1), *x4 = tu_tensor(arena, 4, s4, -1, 1, 2);
  loom_graph *g = loom_graph_new(1);
  const int64_t rs[4] = {2, 3, 4, 2};
  same(run_layer(g, loom_Reshape(g, .target_shape = {3, -1, 2}), x3), loom_reshape(cx, x3, 4, rs), "Reshape");
  same(run_layer(g, loom_Permute(g, .dims = {2, 1}), x3), loom_transpose(cx, x3, (int[]){0, 2, 1}), "Permute");
  const int64_t flat[2] = {2, 24}, col[3] = {2, 1, 24};
  loom_tensor *x2 = loom_reshape(cx, x3, 2, flat);
  same(run_layer(g, loom_RepeatVector(g, .n = 3), x2), loom_repeat(cx, loom_reshape(cx, x2, 3, col), 1, 3),
       "RepeatVector");
  same(run_layer(g, loom_ZeroPadding2D(g, .padding = {{0, 1}, {2, 0}}), x4),
       loom_pad(cx, x4, (int64_t[]){0, 0, 2, 0}, (int64_t[]){0, 1, 0, 0}), "ZeroPadding2D");
  same(run_layer(g, loom_ZeroPadding1D(g), x3), loom_pad(cx, x3, (int64_t[]){0, 1, 0}, (int64_t[]){0, 1, 0}),
       "ZeroPadding1D's default");
  same(run_layer(g, loom_Cropping2D(g, .cropping = {{1, 2}, {0, 1}}), x4),
       loom_pad(cx, x4, (int64_t[]){0, -1, 0, 0}, (int64_t[]){0, -2, -1, 0}), "Cropping2D");
  same(run_layer(g, loom_Cropping1D(g, .cropping = {{2, 0}}), x3),
       loom_pad(cx, x3, (int64_t[]){0, -2, 0}, NULL), "Cropping1D");
  same(run_layer(g, loom_UpSampling1D(g, .size = {3}), x3), loom_repeat(cx, x3, 1, 3), "UpSampling1D");
  same(run_layer(g, loom_UpSampling2D(g), x4), loom_repeat(cx, loom_repeat(cx, x4, 1, 2), 2, 2), "UpSampling2D");
  same(run_layer(g, loom_UpSampling2D(g, .size = {2, 3}, .interpolation = LOOM_BILINEAR), x4),
       loom_resize_bilinear(cx, x4, 10, 12), "UpSampling2D bilinear");
  loom_layer *ct = loom_Conv2DTranspose(g, .filters = 3, .kernel_size = {3}, .strides = {2}, .padding = LOOM_SAME,
                                        .activation = LOOM_TANH);
  loom_tensor *y = run_layer(g, ct, x4);
  loom_tensor *kernel = loom_layer_weight(ct, "kernel"), *bias = loom_layer_weight(ct, "bias");
  cr_assert(kernel && bias);
  cr_assert(kernel->shape[0] == 3 && kernel->shape[1] == 3 && kernel->shape[2] == 3 && kernel->shape[3] == 3);
  same(y, loom_tanh(cx, loom_conv2d_transpose(cx, x4, kernel, bias, 2, 2, 1, 1, LOOM_SAME, LOOM_NONE, LOOM_NONE)), "Conv2DTranspose");
  loom_layer *ct1 = loom_Conv1DTranspose(g, .filters = 5, .kernel_size = {4}, .strides = {3});
  y = run_layer(g, ct1, x3);
  kernel = loom_layer_weight(ct1, "kernel");
  cr_assert(kernel->shape[0] == 4 && kernel->shape[1] == 5 && kernel->shape[2] == 4, "[k, filters, in]");
  same(y, loom_conv1d_transpose(cx, x3, kernel, loom_layer_weight(ct1, "bias"), 3, 1, LOOM_VALID, LOOM_NONE), "Conv1DTranspose");
  cr_assert_eq(y->shape[1], 6 * 3 + 1);
  /* output_padding: Keras' (n - 1) * s + span - 2 * pad + p, here (6 - 1) * 3 + 4 + 2 */
  loom_layer *cto = loom_Conv1DTranspose(g, .filters = 2, .kernel_size = {4}, .strides = {3}, .output_padding = {2});
  y = run_layer(g, cto, x3);
  cr_assert_eq(y->shape[1], 21);
  same(y, loom_conv1d_transpose(cx, x3, loom_layer_weight(cto, "kernel"), loom_layer_weight(cto, "bias"), 3, 1,
                                LOOM_VALID, 2), "Conv1DTranspose output_padding");
  loom_layer *cto2 = loom_Conv2DTranspose(g, .filters = 2, .kernel_size = {3}, .strides = {2, 3}, .padding = LOOM_SAME,
                                          .output_padding = {LOOM_ZERO, 2});
  y = run_layer(g, cto2, x4);
  cr_assert(y->shape[1] == (x4->shape[1] - 1) * 2 + 1 && y->shape[2] == (x4->shape[2] - 1) * 3 + 3);
  same(y, loom_conv2d_transpose(cx, x4, loom_layer_weight(cto2, "kernel"), loom_layer_weight(cto2, "bias"), 2, 3, 1, 1,
                                LOOM_SAME, 0, 2), "Conv2DTranspose output_padding");
  /* dilation per axis */
  loom_layer *cd = loom_Conv2D(g, .filters = 2, .kernel_size = {2}, .dilation_rate = {1, 2}, .padding = LOOM_SAME);
  y = run_layer(g, cd, x4);
  same(y, loom_conv2d(cx, x4, loom_layer_weight(cd, "kernel"), loom_layer_weight(cd, "bias"), 1, 1, 1, 2, LOOM_SAME,
                      LOOM_LINEAR), "Conv2D dilation (1, 2)");
  loom_layer *cc = loom_Conv1D(g, .filters = 2, .kernel_size = {3}, .dilation_rate = {2}, .padding = LOOM_CAUSAL);
  y = run_layer(g, cc, x3);
  same(y, loom_conv1d(cx, x3, loom_layer_weight(cc, "kernel"), loom_layer_weight(cc, "bias"), 1, 2, LOOM_CAUSAL,
                      LOOM_LINEAR), "Conv1D causal");
  loom_graph_free(g);
}

Test(reshaping, output_padding_that_keras_refuses_is_refused_by_name) {
  loom_graph *g = loom_graph_new(1);
  loom_node *x = loom_Input(g, .shape = {5, 3});
  /* an even window, 'same', output_padding 0: 2 * 4 = 8 convolves back to 4, not 5 */
  cr_assert_null(loom_call(loom_Conv1DTranspose(g, .filters = 2, .kernel_size = {2}, .strides = {2},
                                                .padding = LOOM_SAME, .output_padding = {LOOM_ZERO}, .name = "up"),
                           x));
  cr_assert(strstr(loom_graph_error(g), "up") && strstr(loom_graph_error(g), "not 5"), "%s", loom_graph_error(g));
  loom_graph_free(g);
  g = loom_graph_new(1);
  cr_assert_null(loom_Conv2D(g, .filters = 2, .kernel_size = {3}, .output_padding = {1}, .name = "c"));
  cr_assert(strstr(loom_graph_error(g), "\"c\": output_padding is for the transposed"), "%s", loom_graph_error(g));
  loom_graph_free(g);
  g = loom_graph_new(1);
  cr_assert_null(loom_Conv2DTranspose(g, .filters = 2, .kernel_size = {3}, .strides = {2}, .output_padding = {0, 1}));
  cr_assert(strstr(loom_graph_error(g), "for both axes or for none"), "%s", loom_graph_error(g));
  loom_graph_free(g);
}

/* Unknown steps stay unknown where Keras keeps them so, and the ops fill them in. */
Test(reshaping, unknown_dims) {
  loom_graph *g = loom_graph_new(1);
  loom_node *in = loom_Input(g, .shape = {LOOM_NONE, 4});
  loom_node *r = loom_call(loom_Reshape(g, .target_shape = {-1, 2}), in);
  loom_node *u = loom_call(loom_UpSampling1D(g), r);
  loom_node *z = loom_call(loom_ZeroPadding1D(g, .padding = {{2, 0}}), u);
  loom_node *t = loom_call(loom_Conv1DTranspose(g, .filters = 2, .kernel_size = {3}, .strides = {2}), z);
  cr_assert(t, "%s", loom_graph_error(g));
  int64_t shape[LOOM_MAX_RANK];
  loom_node_shape(t, shape);
  cr_assert(shape[1] == LOOM_NONE && shape[2] == 2);
  loom_model *m = loom_Model(g, .inputs = {in}, .outputs = {t});
  const int64_t sx[3] = {3, 5, 4};
  loom_tensor *out[1];
  cr_assert_eq(loom_predict(m, arena, out, .x = {tu_tensor(arena, 3, sx, -1, 1, 3)}), LOOM_OK, "%s", loom_graph_error(g));
  cr_assert_eq(out[0]->shape[1], (10 * 2 + 2) * 2 + 1); /* 10 steps of 2, doubled, 2 padded, transposed */
  loom_graph_free(g);
  g = loom_graph_new(1);
  in = loom_Input(g, .shape = {LOOM_NONE, 4});
  r = loom_call(loom_Reshape(g, .target_shape = {8}, .name = "fixed"), in); /* fits 2 steps alone */
  cr_assert(r, "%s", loom_graph_error(g));
  m = loom_Model(g, .inputs = {in}, .outputs = {r});
  cr_assert_neq(loom_predict(m, arena, out, .x = {tu_tensor(arena, 3, sx, -1, 1, 3)}), LOOM_OK);
  cr_assert(strstr(loom_graph_error(g), "fixed") && strstr(loom_graph_error(g), "a sample of 20 elements cannot take"),
            "%s", loom_graph_error(g));
  loom_graph_free(g);
}

/* An encoder-decoder of the new layers learns to reproduce its input, and loads back to
 * the same predictions and summary. */
Test(reshaping, encoder_decoder_trains_saves_and_loads) {
  loom_graph *g = loom_graph_new(3);
  loom_node *in = loom_Input(g, .shape = {6, 6, 1});
  loom_node *h = loom_call(loom_ZeroPadding2D(g, .padding = {{1, 1}, {1, 1}}), in);
  h = loom_call(loom_Conv2D(g, .filters = 4, .kernel_size = {3}, .strides = {2}, .activation = LOOM_RELU), h);
  h = loom_call(loom_Conv2DTranspose(g, .filters = 4, .kernel_size = {3}, .strides = {2}, .padding = LOOM_SAME,
                                     .activation = LOOM_RELU), h);
  h = loom_call(loom_Cropping2D(g, .cropping = {{0, 0}, {0, 0}}), h);
  loom_node *p = loom_call(loom_Permute(g, .dims = {2, 1, 3}), h);
  p = loom_call(loom_Permute(g, .dims = {2, 1, 3}), p);
  loom_node *y = loom_call(loom_Conv2D(g, .filters = 1, .kernel_size = {1}), p);
  y = loom_call(loom_Reshape(g, .target_shape = {36}), y);
  loom_model *m = loom_Model(g, .inputs = {in}, .outputs = {y});
  cr_assert(m, "%s", loom_graph_error(g));
  const int64_t sx[4] = {128, 6, 6, 1}, sy[2] = {128, 36};
  loom_tensor *x = tu_tensor(arena, 4, sx, -1, 1, 4), *t = tu_tensor(arena, 2, sy, 0, 0, 5);
  memcpy(t->data, x->data, 128 * 36 * sizeof(float));
  cr_assert_eq(loom_compile(m, .optimizer = {LOOM_ADAM, .learning_rate = 0.01f}, .loss = "mse"), LOOM_OK);
  const loom_history *hist = loom_fit(m, .x = {x}, .y = {t}, .epochs = 8, .batch_size = 16, .verbose = LOOM_SILENT);
  cr_assert(hist, "%s", loom_graph_error(g));
  const float *loss = loom_history_get(hist, "loss");
  cr_assert_lt(loss[7], 0.7f * loss[0], "loss %g -> %g", loss[0], loss[7]);
  loom_model *back = saved_and_loaded(m);
  cr_assert(back, "save and load: %s", loom_last_error());
  loom_tensor *a[1], *b[1];
  cr_assert_eq(loom_predict(m, arena, a, .x = {x}), LOOM_OK);
  cr_assert_eq(loom_predict(back, arena, b, .x = {x}), LOOM_OK, "%s", loom_last_error());
  same(a[0], b[0], "loaded predictions");
  loom_graph_free(loom_model_graph(back));
  loom_graph_free(g);
}

static void refused(loom_layer *(*make)(loom_graph *, const loom_reshaping_opts *), loom_reshaping_opts o,
                    int64_t steps, const char *want) {
  loom_graph *g = loom_graph_new(1);
  o.name = "it";
  loom_layer *l = make(g, &o);
  if (l) {
    loom_node *in = steps ? loom_Input(g, .shape = {steps, 4}) : loom_Input(g, .shape = {4});
    cr_assert_null(loom_call(l, in), "%s: accepted", want);
  }
  cr_assert(strstr(loom_graph_error(g), "\"it\"") || strstr(loom_graph_error(g), "it:"), "%s", loom_graph_error(g));
  cr_assert(strstr(loom_graph_error(g), want), "want \"%s\" in: %s", want, loom_graph_error(g));
  loom_graph_free(g);
}

Test(reshaping, bad_options_and_inputs_name_the_layer) {
  refused(loom_layer_reshape, (loom_reshaping_opts){.target_shape = {5}}, 3, "cannot take the target shape");
  refused(loom_layer_reshape, (loom_reshaping_opts){.target_shape = {-1, -1}}, 3, "one of them -1 at most");
  refused(loom_layer_permute, (loom_reshaping_opts){.dims = {1, 1}}, 3, "dims must order the axes 1..2");
  refused(loom_layer_permute, (loom_reshaping_opts){.dims = {3, 2, 1}}, 3, "expected input of rank 4");
  refused(loom_layer_repeat_vector, (loom_reshaping_opts){.n = 0}, 0, "n must be >= 1");
  refused(loom_layer_repeat_vector, (loom_reshaping_opts){.n = 2}, 3, "expected input of rank 2");
  refused(loom_layer_cropping1d, (loom_reshaping_opts){.cropping = {{2, 1}}}, 3, "leaves nothing of dim 1");
  refused(loom_layer_zero_padding1d, (loom_reshaping_opts){.padding = {{-1, 0}}}, 3, "padding must be >= 0");
  refused(loom_layer_up_sampling1d, (loom_reshaping_opts){.size = {-2}}, 3, "size must be >= 1");
  loom_graph *g = loom_graph_new(1);
  cr_assert_null(loom_Conv2D(g, .filters = 1, .kernel_size = {3}, .padding = LOOM_CAUSAL, .name = "c"));
  cr_assert(strstr(loom_graph_error(g), "Conv2D \"c\"") && strstr(loom_graph_error(g), "'causal' for Conv1D alone"),
            "%s", loom_graph_error(g));
  loom_graph_free(g);
  g = loom_graph_new(1);
  cr_assert_null(loom_Conv1DTranspose(g, .filters = 1, .kernel_size = {3}, .padding = LOOM_CAUSAL, .name = "t"));
  cr_assert(strstr(loom_graph_error(g), "Conv1DTranspose \"t\""), "%s", loom_graph_error(g));
  loom_graph_free(g);
}
