/* test_registry.c - the layer-kind table is whole and consistent; a layer kind defined in
 * this file alone (registered from outside the library's table) is built, called, trained,
 * summarised, saved and loaded like a built-in one; every built-in kind's config written
 * in Keras' keys reads back to the same layer. */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "lib/graph/model.h"
#include "lib/layers/layer.h"
#include "lib/models.h"
#include "ops/ops.h"

Test(registry, the_table_covers_every_kind_once) {
  for (int i = 0; i < LM_KIND_COUNT; ++i) {
    const lm_layer_kind *k = lm_kind_get((lm_kind_id)i);
    cr_assert(k && (int)k->id == i, "table entry %d holds kind %d", i, k ? (int)k->id : -1);
    cr_assert(k->class_name && *k->class_name && k->prefix && *k->prefix);
    cr_assert_eq(lm_kind_find(k->class_name), k, "%s", k->class_name);
    cr_assert_eq(!k->build, !k->forward, "%s", k->class_name);
    cr_assert(k->opts_size <= LM_OPTS_MAX, "%s", k->class_name);
    if (k->fold == LM_FOLD_PRODUCER || k->fold == LM_FOLD_ACTIVATION) cr_assert(k->activation, "%s", k->class_name);
    if (k->fold == LM_FOLD_BN) cr_assert(k->fold_affine, "%s", k->class_name);
    for (int j = 0; j < i; ++j) cr_assert_str_neq(lm_kind_get((lm_kind_id)j)->class_name, k->class_name);
    for (const lm_opt *p = k->opts; p && p->key; ++p) {
      cr_assert(p->offset + sizeof(int) <= k->opts_size, "%s.%s", k->class_name, p->key);
      cr_assert_neq(p->offset, k->name_offset, "%s.%s", k->class_name, p->key);
      for (const lm_opt *q = k->opts; q != p; ++q) cr_assert_str_neq(q->key, p->key);
    }
  }
  cr_assert_null(lm_kind_find("Dense3D"));
  cr_assert_null(lm_kind_find(NULL));
}

/* ---------------------------------------------------------------- a kind of this file */

/* Scale: y = x * alpha, alpha one trainable weight per feature, initialised to `init`. */
typedef struct scale_opts {
  LOOM_OPTS_HEAD;
  float init;
  const char *name;
} scale_opts;

static int scale_check(loom_graph *g, const lm_layer_kind *k, void *opts) {
  scale_opts *o = opts;
  if (o->init == 0.0f) o->init = 1.0f;
  if (!(o->init > 0.0f)) return lm_opts_fail(g, k, o, LOOM_EINVAL, "init must be > 0, got %g", (double)o->init);
  return LOOM_OK;
}

static int scale_build(loom_layer *l, int n, loom_node *const *in, int *n_out, lm_shape *out, loom_dtype *dt) {
  (void)n, (void)n_out, (void)dt;
  const loom_node *x = in[0];
  if (!lm_check_input(l, in, 0, 2, 2, LOOM_F32) || !lm_check_known_last(l, x, "features")) return l->g->status;
  if (l->built) {
    if (!lm_check_built_dim(l, x, 1, l->w[0]->shape[0])) return l->g->status;
  } else {
    const int64_t f = x->shape.d[1];
    loom_tensor *a = lm_layer_add_weight(l, "alpha", 1, &f);
    if (!a) return l->g->status;
    const scale_opts *o = (const scale_opts *)&l->o;
    for (int64_t i = 0; i < f; ++i) loom_tensor_f32(a)[i] = o->init;
  }
  *out = x->shape;
  return LOOM_OK;
}

static int scale_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in, loom_tensor **out,
                         loom_tensor **logits) {
  (void)n, (void)logits;
  out[0] = loom_mul(run->cx, in[0], l->w[0]);
  return loom_ctx_status(run->cx);
}

static const lm_opt scale_options[] = {LM_OPT(scale_opts, init, "init", LM_OPT_FLOAT, 1e-6, 1e6), LM_OPTS_END};

static const lm_layer_kind scale_kind = {
    .id = LM_KIND_EXTERNAL, .class_name = "Scale", .prefix = "scale", .min_in = 1, .max_in = 1,
    .opts_size = sizeof(scale_opts), .name_offset = offsetof(scale_opts, name), .opts = scale_options,
    .check = scale_check, .build = scale_build, .forward = scale_forward};

static loom_layer *Scale(loom_graph *g, const scale_opts *o) { return lm_layer_make(g, &scale_kind, o); }

static loom_model *scale_model(loom_graph *g) {
  loom_node *x = loom_Input(g, .shape = {3}, .name = "x");
  loom_node *h = loom_call(loom_Dense(g, .units = 4, .activation = LOOM_TANH), x);
  h = loom_call(Scale(g, &(scale_opts){.init = 0.5f}), h);
  loom_node *y = loom_call(loom_Dense(g, .units = 1), h);
  return loom_Model(g, .inputs = {x}, .outputs = {y}, .name = "scaled");
}

Test(registry, a_kind_defined_outside_the_table_works_like_any_other) {
  cr_assert_eq(lm_kind_register(&scale_kind), LOOM_OK, "%s", loom_last_error());
  cr_assert_neq(lm_kind_register(&scale_kind), LOOM_OK);
  cr_assert(strstr(loom_last_error(), "a layer kind \"Scale\" exists already"), "%s", loom_last_error());
  cr_assert_eq(lm_kind_find("Scale"), &scale_kind);

  loom_graph *g = loom_graph_new(3);
  cr_assert_null(Scale(g, &(scale_opts){.init = -1.0f, .name = "neg"}));
  cr_assert(strstr(loom_graph_error(g), "Scale \"neg\": init must be > 0, got -1"), "%s", loom_graph_error(g));
  loom_graph_clear_error(g);
  loom_model *m = scale_model(g);
  cr_assert(m, "%s", loom_graph_error(g));
  char *text = summary_text(m);
  cr_assert(strstr(text, "scale (Scale)                (None, 4)                 4"), "%s", text);
  free(text);

  loom_arena *a = loom_arena_new(NULL);
  const int64_t xs[2] = {64, 3}, ys[2] = {64, 1};
  loom_tensor *x = tu_tensor(a, 2, xs, -1, 1, 5), *y = loom_tensor_new(a, LOOM_F32, 2, ys);
  for (int i = 0; i < 64; ++i) {
    const float *r = (float *)x->data + 3 * i;
    ((float *)y->data)[i] = r[0] - 2 * r[1] + 0.5f * r[2];
  }
  cr_assert_eq(loom_compile(m, .loss = "mse", .optimizer = {.kind = LOOM_ADAM, .learning_rate = 0.02f}), LOOM_OK);
  const loom_history *h = loom_fit(m, .x = {x}, .y = {y}, .epochs = 20, .batch_size = 16, .verbose = LOOM_SILENT);
  cr_assert(h, "%s", loom_graph_error(g));
  const float *loss = loom_history_get(h, "loss");
  cr_assert_lt(loss[19], 0.5f * loss[0], "loss %g -> %g", loss[0], loss[19]);
  const float *alpha = loom_tensor_f32(loom_layer_weight(loom_model_get_layer(m, "scale"), "alpha"));
  cr_assert_neq(alpha[0], 0.5f, "the outside kind's weight is trained");

  char dir[] = "/tmp/loom-registry-XXXXXX", file[64];
  cr_assert(mkdtemp(dir));
  snprintf(file, sizeof file, "%s/scaled.safetensors", dir);
  cr_assert_eq(loom_save(m, file), LOOM_OK, "%s", loom_last_error());
  loom_model *back = loom_model_load(file);
  cr_assert(back, "%s", loom_last_error());
  loom_tensor *p1[1], *p2[1];
  cr_assert_eq(loom_predict(m, a, p1, .x = {x}), LOOM_OK);
  cr_assert_eq(loom_predict(back, a, p2, .x = {x}), LOOM_OK);
  cr_assert(!memcmp(p1[0]->data, p2[0]->data, 64 * sizeof(float)), "predictions after load differ");
  const scale_opts *bo = (const scale_opts *)&loom_model_get_layer(back, "scale")->o;
  cr_assert_float_eq(bo->init, 0.5f, 0, "the option came back from its config key");
  loom_graph_free(loom_model_graph(back));
  unlink(file), rmdir(dir);
  loom_arena_free(a);
  loom_graph_free(g);
}

/* ---------------------------------------------------------------- configs */

static char *config_text(const loom_layer *l) {
  cJSON *c = lm_layer_config(l);
  cr_assert(c);
  char *t = cJSON_PrintUnformatted(c);
  cJSON_Delete(c);
  return t;
}

/* Written, read into a new layer, written again: the same text. */
static void round_trips(loom_graph *g, loom_layer *l) {
  cr_assert(l, "%s", loom_graph_error(g));
  char *a = config_text(l);
  cJSON *c = cJSON_Parse(a);
  char name[80];
  snprintf(name, sizeof name, "%s_copy", l->name);
  loom_layer *b = lm_layer_from_config(g, l->kind, c, name, "test");
  cr_assert(b, "%s: %s", a, loom_last_error());
  cJSON_Delete(c);
  char *bt = config_text(b);
  char *want = malloc(strlen(a) + 16);
  snprintf(want, strlen(a) + 16, "%s", a);
  /* the names differ by the suffix alone */
  char *at = strstr(want, l->name);
  cr_assert(at);
  memmove(at + strlen(l->name) + 5, at + strlen(l->name), strlen(at + strlen(l->name)) + 1);
  memcpy(at + strlen(l->name), "_copy", 5);
  cr_assert_str_eq(bt, want);
  cr_assert_eq(memcmp((char *)&b->o + l->kind->name_offset + sizeof(char *), (char *)&l->o + l->kind->name_offset + sizeof(char *),
                      l->kind->opts_size - l->kind->name_offset - sizeof(char *)), 0);
  free(a), free(bt), free(want);
}

Test(registry, every_kind_config_reads_back_the_same_layer) {
  loom_graph *g = loom_graph_new(1);
  round_trips(g, loom_Dense(g, .units = 7, .activation = LOOM_SOFTMAX, .use_bias = LOOM_NO));
  round_trips(g, loom_Embedding(g, .input_dim = 33, .output_dim = 5));
  round_trips(g, loom_LSTM(g, .units = 3, .return_sequences = true, .go_backwards = true, .unit_forget_bias = LOOM_NO));
  round_trips(g, loom_Conv1D(g, .filters = 4, .kernel_size = {3}, .dilation_rate = {2}, .padding = LOOM_SAME));
  round_trips(g, loom_Conv2D(g, .filters = 4, .kernel_size = {3, 5}, .strides = {2, 1}, .activation = LOOM_RELU));
  round_trips(g, loom_Conv2D(g, .filters = 2, .kernel_size = {3}, .dilation_rate = {2}, .padding = LOOM_SAME));
  round_trips(g, loom_Conv2D(g, .filters = 2, .kernel_size = {3}, .dilation_rate = {2, 3}));
  round_trips(g, loom_Conv2DTranspose(g, .filters = 2, .kernel_size = {3}, .strides = {2, 3}, .output_padding = {1, 2}));
  round_trips(g, loom_Conv2DTranspose(g, .filters = 2, .kernel_size = {3}, .strides = {2}, .output_padding = {LOOM_ZERO}));
  round_trips(g, loom_Conv1DTranspose(g, .filters = 2, .kernel_size = {3}, .strides = {2}, .output_padding = {1}));
  round_trips(g, loom_DepthwiseConv2D(g, .kernel_size = {3}, .depth_multiplier = 2, .strides = {2}));
  round_trips(g, loom_SeparableConv2D(g, .filters = 8, .kernel_size = {3}, .padding = LOOM_SAME));
  round_trips(g, loom_BatchNormalization(g, .momentum = 0.9f, .epsilon = 1e-5f, .center = LOOM_NO));
  round_trips(g, loom_MaxPooling1D(g, .pool_size = {3}, .strides = {1}));
  round_trips(g, loom_MaxPooling2D(g, .pool_size = {2, 3}, .padding = LOOM_SAME));
  round_trips(g, loom_AveragePooling1D(g));
  round_trips(g, loom_AveragePooling2D(g, .pool_size = {3}));
  round_trips(g, loom_GlobalMaxPooling1D(g));
  round_trips(g, loom_GlobalAveragePooling2D(g));
  round_trips(g, loom_Activation(g, .activation = LOOM_TANH));
  round_trips(g, loom_Flatten(g));
  round_trips(g, loom_Dropout(g, .rate = 0.25f));
  round_trips(g, loom_Add(g));
  round_trips(g, loom_Concatenate(g, .axis = 1));
  round_trips(g, loom_Activation(g, .activation = LOOM_GELU_TANH));
  round_trips(g, loom_ReLU(g));
  round_trips(g, loom_ReLU(g, .max_value = 6, .negative_slope = 0.1f, .threshold = 0.5f));
  round_trips(g, loom_LeakyReLU(g, .negative_slope = 0.1f));
  round_trips(g, loom_ELU(g, .alpha = 0.5f));
  round_trips(g, loom_Softmax(g, .axis = 1));
  round_trips(g, loom_PReLU(g));
  round_trips(g, loom_PReLU(g, .shared_axes = {1, 2}));
  round_trips(g, loom_GRU(g, .units = 5));
  round_trips(g, loom_GRU(g, .units = 2, .reset_after = LOOM_NO, .return_state = true, .activation = LOOM_RELU,
                          .recurrent_activation = LOOM_HARD_SIGMOID, .use_bias = LOOM_NO));
  round_trips(g, loom_SimpleRNN(g, .units = 3, .return_sequences = true, .go_backwards = true));
  round_trips(g, loom_Subtract(g));
  round_trips(g, loom_Multiply(g));
  round_trips(g, loom_Average(g));
  round_trips(g, loom_Maximum(g));
  round_trips(g, loom_Minimum(g));
  round_trips(g, loom_Conv1D(g, .filters = 2, .kernel_size = {3}, .padding = LOOM_CAUSAL));
  round_trips(g, loom_Conv1DTranspose(g, .filters = 3, .kernel_size = {4}, .strides = {2}, .padding = LOOM_SAME));
  round_trips(g, loom_Conv2DTranspose(g, .filters = 3, .kernel_size = {3, 2}, .strides = {2, 1}, .activation = LOOM_RELU));
  round_trips(g, loom_Reshape(g, .target_shape = {-1, 4, 2}));
  round_trips(g, loom_Permute(g, .dims = {2, 3, 1}));
  round_trips(g, loom_RepeatVector(g, .n = 5));
  round_trips(g, loom_ZeroPadding1D(g));
  round_trips(g, loom_ZeroPadding1D(g, .padding = {{0, 3}}));
  round_trips(g, loom_ZeroPadding2D(g, .padding = {{0, 1}, {0, 1}}));
  round_trips(g, loom_Cropping1D(g, .cropping = {{1, 2}}));
  round_trips(g, loom_Cropping2D(g, .cropping = {{2, 2}, {0, 1}}));
  round_trips(g, loom_UpSampling1D(g, .size = {3}));
  round_trips(g, loom_UpSampling2D(g, .size = {2, 3}, .interpolation = LOOM_BILINEAR));
  round_trips(g, loom_Embedding(g, .input_dim = 9, .output_dim = 2, .mask_zero = true));
  round_trips(g, loom_Masking(g, .mask_value = -1.5f));
  round_trips(g, loom_LSTM(g, .units = 3, .dropout = 0.25f, .recurrent_dropout = 0.125f));
  round_trips(g, loom_GRU(g, .units = 3, .dropout = 0.5f));
  round_trips(g, loom_Dot(g, .axes = {2, 1}, .normalize = true));
  round_trips(g, loom_ConvLSTM2D(g, .filters = 4, .kernel_size = {3}));
  round_trips(g, loom_ConvLSTM2D(g, .filters = 2, .kernel_size = {3, 2}, .dilation_rate = {2, 1}, .padding = LOOM_SAME,
                                 .recurrent_activation = LOOM_HARD_SIGMOID, .return_sequences = true,
                                 .return_state = true, .go_backwards = true, .dropout = 0.25f,
                                 .unit_forget_bias = LOOM_NO));
  loom_graph_free(g);
}

/* The wrappers' configs nest their layers as Keras does ({"class_name", "config"}); Keras
 * 2's Bidirectional config (the layer under its own name, no backward_layer) makes both
 * directions; merge_mode null is LOOM_MERGE_NONE. */
Test(registry, wrapper_configs_nest_their_layers) {
  loom_graph *g = loom_graph_new(1);
  loom_layer *bi = loom_Bidirectional(g, .layer = loom_GRU(g, .units = 3, .return_sequences = true),
                                      .merge_mode = LOOM_MERGE_NONE);
  cr_assert(bi, "%s", loom_graph_error(g));
  char *t = config_text(bi);
  cr_assert(strstr(t, "\"layer\":{\"class_name\":\"GRU\",\"config\":{\"name\":\"forward_gru\",\"units\":3"), "%s", t);
  cr_assert(strstr(t, "\"merge_mode\":null") && strstr(t, "\"backward_layer\":{\"class_name\":\"GRU\",\"config\":{\"name\":\"backward_gru\""), "%s", t);
  cr_assert(strstr(t, "\"go_backwards\":true"), "%s", t);
  free(t);
  loom_layer *td = loom_TimeDistributed(g, .layer = loom_Dense(g, .units = 2, .name = "head"));
  t = config_text(td);
  cr_assert(strstr(t, "\"layer\":{\"class_name\":\"Dense\",\"config\":{\"name\":\"head\",\"units\":2"), "%s", t);
  free(t);
  loom_graph_free(g);

  g = loom_graph_new(1);
  cJSON *c = cJSON_Parse("{\"layer\": {\"class_name\": \"LSTM\", \"config\": {\"name\": \"lstm\", \"units\": 4}},"
                         " \"merge_mode\": null}");
  loom_layer *l = lm_layer_from_config(g, lm_kind_find("Bidirectional"), c, "bidirectional", "test");
  cJSON_Delete(c);
  cr_assert(l, "%s", loom_last_error());
  cr_assert_eq(l->o.bidir.merge_mode, LOOM_MERGE_NONE);
  cr_assert(l->n_sub == 2 && !strcmp(l->sub[0]->name, "forward_lstm") && !strcmp(l->sub[1]->name, "backward_lstm"));
  cr_assert(l->sub[1]->o.rnn.go_backwards && !l->sub[0]->o.rnn.go_backwards);
  c = cJSON_Parse("{\"layer\": {\"class_name\": \"Lambda\", \"config\": {\"name\": \"fn\"}}}");
  cr_assert_null(lm_layer_from_config(g, lm_kind_find("TimeDistributed"), c, "td", "test"));
  cJSON_Delete(c);
  cr_assert(strstr(loom_last_error(), "layer \"td\" (TimeDistributed): \"layer\" is a layer of class \"Lambda\", which loom does not have"),
            "%s", loom_last_error());
  loom_graph_free(g);
}

/* The activation layers read as Keras writes them: Keras 2's LeakyReLU "alpha", null
 * max_value, a list or a lone int of shared axes, Keras 3's "silu". */
Test(registry, activation_layers_read_keras_configs) {
  loom_graph *g = loom_graph_new(1);
  cJSON *c = cJSON_Parse("{\"alpha\": 0.1, \"name\": \"leaky\", \"trainable\": true}");
  loom_layer *l = lm_layer_from_config(g, &lm_kind_leaky_relu, c, "leaky", "test");
  cr_assert(l, "%s", loom_last_error());
  cr_assert_float_eq(l->o.act.negative_slope, 0.1f, 1e-7);
  cJSON_Delete(c);
  c = cJSON_Parse("{}");
  l = lm_layer_from_config(g, &lm_kind_leaky_relu, c, "leaky2", "test");
  cr_assert_float_eq(l->o.act.negative_slope, 0.3f, 1e-7, "Keras' default");
  cJSON_Delete(c);
  c = cJSON_Parse("{\"max_value\": null, \"negative_slope\": 0.0, \"threshold\": 0.0}");
  l = lm_layer_from_config(g, &lm_kind_relu, c, "re_lu", "test");
  cr_assert(l && l->o.act.max_value == 0 && l->kind->activation(l) == LOOM_RELU);
  cJSON_Delete(c);
  c = cJSON_Parse("{\"max_value\": -1}");
  cr_assert_null(lm_layer_from_config(g, &lm_kind_relu, c, "re_lu_1", "test"));
  cr_assert(strstr(loom_last_error(), "layer \"re_lu_1\" (ReLU): \"max_value\" must be a number"), "%s", loom_last_error());
  cJSON_Delete(c);
  c = cJSON_Parse("{\"shared_axes\": [1, 2], \"alpha_initializer\": {\"class_name\": \"Zeros\"}}");
  l = lm_layer_from_config(g, &lm_kind_prelu, c, "p_re_lu", "test");
  cr_assert(l && l->o.act.shared_axes[0] == 1 && l->o.act.shared_axes[1] == 2 && !l->o.act.shared_axes[2]);
  cJSON_Delete(c);
  c = cJSON_Parse("{\"shared_axes\": 3}");
  l = lm_layer_from_config(g, &lm_kind_prelu, c, "p_re_lu_1", "test");
  cr_assert(l && l->o.act.shared_axes[0] == 3 && !l->o.act.shared_axes[1]);
  cJSON_Delete(c);
  c = cJSON_Parse("{\"activation\": \"silu\"}");
  l = lm_layer_from_config(g, &lm_kind_activation, c, "act", "test");
  cr_assert(l && l->o.misc.activation == LOOM_SWISH);
  cJSON_Delete(c);
  loom_graph_free(g);
}

Test(registry, keras_spellings_of_tuples_and_absent_keys_take_keras_defaults) {
  loom_graph *g = loom_graph_new(1);
  cJSON *c = cJSON_Parse("{\"filters\": 6, \"kernel_size\": 3, \"dilation_rate\": [1, 1], \"name\": \"ignored\"}");
  loom_layer *l = lm_layer_from_config(g, &lm_kind_conv2d, c, "conv", "test");
  cr_assert(l, "%s", loom_last_error());
  cr_assert_eq(l->o.conv.kernel_size[0], 3);
  cr_assert_eq(l->o.conv.kernel_size[1], 3);
  cr_assert_eq(l->o.conv.strides[0], 1);
  cr_assert_eq(l->o.conv.use_bias, LOOM_DEFAULT);
  cr_assert_eq(l->o.conv.padding, LOOM_VALID);
  cJSON_Delete(c);
  c = cJSON_Parse("{\"filters\": 6, \"kernel_size\": [3, 3], \"dilation_rate\": [2, 1]}");
  l = lm_layer_from_config(g, &lm_kind_conv2d, c, "conv2", "test");
  cr_assert(l && l->o.conv.dilation_rate[0] == 2 && l->o.conv.dilation_rate[1] == 1, "%s", loom_last_error());
  cJSON_Delete(c);
  /* Keras' output_padding: null is None, [0, 0] an explicit 0 */
  c = cJSON_Parse("{\"filters\": 6, \"kernel_size\": 3, \"strides\": 2, \"output_padding\": null}");
  l = lm_layer_from_config(g, &lm_kind_conv2d_transpose, c, "ct1", "test");
  cr_assert(l && l->o.conv.output_padding[0] == 0 && l->o.conv.output_padding[1] == 0, "%s", loom_last_error());
  cJSON_Delete(c);
  c = cJSON_Parse("{\"filters\": 6, \"kernel_size\": 3, \"strides\": 2, \"output_padding\": [0, 1]}");
  l = lm_layer_from_config(g, &lm_kind_conv2d_transpose, c, "ct2", "test");
  cr_assert(l && l->o.conv.output_padding[0] == LOOM_ZERO && l->o.conv.output_padding[1] == 1, "%s", loom_last_error());
  cJSON_Delete(c);
  c = cJSON_Parse("{\"kernel_size\": [3, 3]}");
  cr_assert_null(lm_layer_from_config(g, &lm_kind_conv2d, c, "conv3", "test"));
  cr_assert(strstr(loom_last_error(), "config: loom: Conv2D \"conv3\": filters, kernel_size"), "%s",
            loom_last_error());
  cJSON_Delete(c);
  c = cJSON_Parse("{}");
  cr_assert_null(lm_layer_from_config(g, &lm_kind_input_layer, c, "in", "test"));
  cJSON_Delete(c);
  c = cJSON_Parse("{\"filters\": 6, \"kernel_size\": 3, \"strides\": 2, \"output_padding\": [2, 1]}");
  loom_graph *g2 = loom_graph_new(1); /* a graph keeps its first error */
  cr_assert_null(lm_layer_from_config(g2, &lm_kind_conv2d_transpose, c, "ct3", "test"));
  cr_assert(strstr(loom_last_error(), "output_padding 2 on axis 0 must be >= 0 and below the stride (2)"), "%s",
            loom_last_error());
  loom_graph_free(g2);
  cJSON_Delete(c);
  /* padding and cropping: an int, (h, w) symmetric, ((top, bottom), (left, right)) */
  static const struct {
    const char *json;
    int want[2][2];
  } pads[] = {{"{\"padding\": 2}", {{2, 2}, {2, 2}}},
              {"{\"padding\": [1, 3]}", {{1, 1}, {3, 3}}},
              {"{\"padding\": [[0, 1], [2, 3]]}", {{0, 1}, {2, 3}}},
              {"{}", {{1, 1}, {1, 1}}}};
  for (size_t i = 0; i < sizeof pads / sizeof *pads; ++i) {
    c = cJSON_Parse(pads[i].json);
    char name[16];
    snprintf(name, sizeof name, "zp%zu", i);
    l = lm_layer_from_config(g, &lm_kind_zero_padding2d, c, name, "test");
    cr_assert(l, "%s: %s", pads[i].json, loom_last_error());
    cr_assert(!memcmp(l->o.reshaping.padding, pads[i].want, sizeof pads[i].want), "%s", pads[i].json);
    cJSON_Delete(c);
  }
  c = cJSON_Parse("{\"cropping\": 3}");
  l = lm_layer_from_config(g, &lm_kind_cropping1d, c, "crop", "test");
  cr_assert(l && l->o.reshaping.cropping[0][0] == 3 && l->o.reshaping.cropping[0][1] == 3, "%s", loom_last_error());
  cJSON_Delete(c);
  c = cJSON_Parse("{\"size\": [2, 2], \"interpolation\": \"bicubic\"}");
  cr_assert_null(lm_layer_from_config(g, &lm_kind_up_sampling2d, c, "up", "test"));
  cr_assert(strstr(loom_last_error(), "layer \"up\" (UpSampling2D): \"interpolation\" is \"bicubic\", not one of "
                   "\"nearest\", \"bilinear\""), "%s", loom_last_error());
  cJSON_Delete(c);
  c = cJSON_Parse("{\"filters\": 2, \"kernel_size\": 3, \"padding\": \"causal\"}");
  cr_assert_null(lm_layer_from_config(g, &lm_kind_conv2d, c, "c2", "test"));
  cr_assert(strstr(loom_last_error(), "'causal' for Conv1D alone"), "%s", loom_last_error());
  cr_assert(lm_layer_from_config(g, &lm_kind_conv1d, c, "c1", "test"), "%s", loom_last_error());
  cJSON_Delete(c);
  loom_graph_free(g);
}

/* ---------------------------------------------------------------- window arithmetic */

/* Shape inference and the ops use one rule (lm_window_out): the output a layer promises is
 * the one its op makes, on awkward lengths, windows, strides, dilations and both paddings;
 * and 'same' pads as TensorFlow (the larger half after). */
Test(registry, inferred_shapes_are_what_the_ops_make) {
  static const int lens[] = {1, 2, 3, 7, 8, 33}, ks[] = {1, 2, 3, 5}, strides[] = {1, 2, 3};
  loom_arena *a = loom_arena_new(NULL);
  int checked = 0;
  for (size_t li = 0; li < sizeof lens / sizeof *lens; ++li)
    for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ++ki)
      for (size_t si = 0; si < sizeof strides / sizeof *strides; ++si)
        for (int pad = 0; pad < 2; ++pad)
          for (int kind = 0; kind < 3; ++kind) {
            const int len = lens[li], k = ks[ki], s = strides[si], dil = kind == 2 && s == 1 ? 2 : 1;
            loom_graph *g = loom_graph_new(1);
            loom_node *x = loom_Input(g, .shape = {len, 2});
            loom_layer *l = kind == 1 ? loom_MaxPooling1D(g, .pool_size = {k}, .strides = {s}, .padding = (loom_padding)pad)
                                      : loom_Conv1D(g, .filters = 3, .kernel_size = {k}, .strides = {s},
                                                    .dilation_rate = {dil}, .padding = (loom_padding)pad);
            loom_node *y = loom_call(l, x);
            const int span = dil * (k - 1) + 1;
            if (!y) { /* only a 'valid' window longer than the input is refused */
              cr_assert(pad == LOOM_VALID && span > len, "len %d k %d s %d: %s", len, k, s, loom_graph_error(g));
              loom_graph_free(g);
              continue;
            }
            int64_t shape[LOOM_MAX_RANK];
            loom_node_shape(y, shape);
            const int64_t want = pad ? (len + s - 1) / s : (len - span) / s + 1;
            cr_assert_eq(shape[1], want, "len %d k %d s %d pad %d", len, k, s, pad);
            int lead = -1;
            cr_assert_eq(lm_window_out(len, span, s, (loom_padding)pad, &lead), want);
            const int64_t total = (want - 1) * s + span - len;
            cr_assert_eq(lead, pad && total > 0 ? total / 2 : 0);
            loom_model *m = loom_Model(g, .inputs = {x}, .outputs = {y});
            const int64_t xs[3] = {2, len, 2};
            loom_tensor *out[1];
            cr_assert_eq(loom_predict(m, a, out, .x = {tu_tensor(a, 3, xs, -1, 1, 3)}), LOOM_OK, "%s", loom_graph_error(g));
            cr_assert_eq(out[0]->shape[1], want, "the op made %lld, inference said %lld", (long long)out[0]->shape[1],
                         (long long)want);
            ++checked;
            loom_graph_free(g);
          }
  cr_assert_gt(checked, 300);
  loom_arena_free(a);
}
