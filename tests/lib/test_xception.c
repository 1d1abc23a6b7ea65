/* test_xception.c - loom_xception builds Keras' Xception (counts, layer names, summary
 * lines), round-trips through a file with its moving statistics, and a base shared by
 * two inputs gets the sum of both branches' gradients. */
#define _POSIX_C_SOURCE 200809L /* mkstemp */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "lib/graph/model.h"
#include "lib/layers/kind.h"
#include "lib/models.h"

Test(xception, keras_counts_names_and_summary) {
  loom_graph *g = loom_graph_new(1);
  loom_model *m = loom_Xception(g, .include_top = LOOM_NO);
  cr_assert(m, "%s", loom_graph_error(g));
  cr_assert_eq(m->n_layers, 132);
  cr_assert_eq(loom_model_count_params(m, false), 20861480);
  cr_assert_eq(loom_model_count_params(m, true), 20806952);
  /* the non-trainable ones: moving mean and variance of every BatchNormalization */
  int64_t bn_channels = 0;
  for (int i = 0; i < m->n_layers; ++i)
    if (m->layers[i]->kind == &lm_kind_batch_normalization) bn_channels += m->layers[i]->w[0]->size;
  cr_assert_eq(2 * bn_channels, 54528);
  char *text = summary_text(m);
  cr_assert(strstr(text, "Total params: 20,861,480\nTrainable params: 20,806,952\nNon-trainable params: 54,528\n"), "%s", text);
  cr_assert(strstr(text, "block2_sepconv1 (SeparableConv2 (None, None, None, 1 8768        block1_conv2_act[0][0]"), "%s", text);
  cr_assert(strstr(text, "add_11 (Add)                    (None, None, None, 1 0           block13_pool[0][0]"), "%s", text);
  cr_assert(strstr(text, "block14_sepconv2_act (Activatio (None, None, None, 2 0           block14_sepconv2_bn[0][0]"), "%s", text);
  cr_assert_not_null(loom_model_get_layer(m, "block5_sepconv3_bn"));
  cr_assert_not_null(loom_model_get_layer(m, "batch_normalization_3"));
  free(text);
  loom_graph *h = loom_graph_new(1);
  loom_model *top = loom_Xception(h);
  cr_assert_eq(loom_model_count_params(top, false), 22910480);
  cr_assert_null(loom_Xception(h, .include_top = LOOM_NO, .input_shape = {70, 70, 3}));
  cr_assert(strstr(loom_graph_error(h), "at least 71"), "%s", loom_graph_error(h));
  loom_graph_free(g), loom_graph_free(h);
}

/* Mean of the outputs, its gradients into every weight. */
static void backward(loom_model *m, loom_tensor *a, loom_tensor *b) {
  if (!m->cx) m->cx = loom_ctx_new(NULL);
  for (int i = 0; i < m->n_vars; ++i) m->weights[i]->grad = NULL; /* not the last model's */
  loom_ctx_reset(m->cx);
  loom_ctx_set_training(m->cx, true);
  loom_tensor *in[2] = {a, b};
  const lm_run run = {.cx = m->cx, .training = true};
  cr_assert_eq(lm_model_run(m, &run, in, NULL), LOOM_OK, "%s", loom_graph_error(m->g));
  cr_assert_eq(loom_backward(m->cx, loom_mean(m->cx, m->out[0]->value)), LOOM_OK, "%s", loom_ctx_error(m->cx));
}

Test(xception, a_shared_base_gets_the_sum_of_both_branches_gradients) {
  loom_graph *g = loom_graph_new(2);
  loom_model *base = loom_Xception(g, .include_top = LOOM_NO, .pooling = LOOM_POOLING_AVG);
  loom_node *l = loom_Input(g, .shape = {71, 71, 3}), *r = loom_Input(g, .shape = {71, 71, 3});
  loom_node *fl = loom_call(loom_model_layer(base), l), *fr = loom_call(loom_model_layer(base), r);
  loom_model *both = loom_Model(g, .inputs = {l, r}, .outputs = {loom_call_list(loom_Add(g), fl, fr)});
  loom_node *l1 = loom_Input(g, .shape = {71, 71, 3}), *r1 = loom_Input(g, .shape = {71, 71, 3});
  loom_model *left = loom_Model(g, .inputs = {l1}, .outputs = {loom_call(loom_model_layer(base), l1)});
  loom_model *right = loom_Model(g, .inputs = {r1}, .outputs = {loom_call(loom_model_layer(base), r1)});
  cr_assert(both && left && right, "%s", loom_graph_error(g));
  loom_arena *a = loom_arena_new(NULL);
  const int64_t s[4] = {2, 71, 71, 3};
  loom_tensor *xa = tu_tensor(a, 4, s, 0, 1, 1), *xb = tu_tensor(a, 4, s, 0, 1, 2);
  /* three weights along the network: first conv, a middle separable conv, the last BN */
  const char *names[3][2] = {{"block1_conv1", "kernel"}, {"block8_sepconv2", "pointwise_kernel"},
                             {"block14_sepconv2_bn", "gamma"}};
  for (int w = 0; w < 3; ++w) {
    loom_tensor *t = loom_layer_weight(loom_model_get_layer(base, names[w][0]), names[w][1]);
    cr_assert(t, "%s/%s", names[w][0], names[w][1]);
    float *sum = malloc((size_t)t->size * 4);
    backward(left, xa, NULL);
    memcpy(sum, t->grad, (size_t)t->size * 4);
    backward(right, xb, NULL);
    for (int64_t i = 0; i < t->size; ++i) sum[i] += t->grad[i];
    backward(both, xa, xb);
    for (int64_t i = 0; i < t->size; ++i)
      cr_assert(tu_close(t->grad[i], sum[i], 1e-6, 1e-4), "%s/%s[%lld]: %g vs %g", names[w][0], names[w][1],
                (long long)i, t->grad[i], sum[i]);
    free(sum);
  }
  loom_graph_free(g); /* first: its contexts' tapes still point at the inputs */
  loom_arena_free(a);
}

Test(xception, saves_and_loads_with_its_moving_statistics) {
  loom_graph *g = loom_graph_new(3);
  loom_model *m = loom_Xception(g, .include_top = LOOM_NO, .input_shape = {71, 71, 3}, .pooling = LOOM_POOLING_MAX);
  loom_tensor *mv = loom_layer_weight(loom_model_get_layer(m, "block3_sepconv1_bn"), "moving_variance");
  for (int64_t i = 0; i < mv->size; ++i) loom_tensor_f32(mv)[i] = 1.0f + 0.01f * (float)i;
  char path[] = "/tmp/loom-xception-XXXXXX";
  const int fd = mkstemp(path);
  cr_assert(fd >= 0);
  cr_assert_eq(loom_save(m, path), LOOM_OK, "%s", loom_last_error());
  loom_model *back = loom_model_load(path);
  remove(path);
  cr_assert(back, "%s", loom_last_error());
  cr_assert_eq(loom_model_count_params(back, true), 20806952);
  loom_tensor *mv2 = loom_layer_weight(loom_model_get_layer(back, "block3_sepconv1_bn"), "moving_variance");
  cr_assert(memcmp(mv->data, mv2->data, (size_t)mv->size * 4) == 0);
  loom_arena *a = loom_arena_new(NULL);
  const int64_t s[4] = {1, 71, 71, 3};
  loom_tensor *x = tu_tensor(a, 4, s, 0, 1, 5), *p1[1], *p2[1];
  cr_assert_eq(loom_predict(m, a, p1, .x = {x}), LOOM_OK);
  cr_assert_eq(loom_predict(back, a, p2, .x = {x}), LOOM_OK);
  cr_assert(memcmp(p1[0]->data, p2[0]->data, (size_t)p1[0]->size * 4) == 0, "predictions differ after load");
  loom_graph_free(loom_model_graph(back));
  loom_arena_free(a);
  loom_graph_free(g);
}
