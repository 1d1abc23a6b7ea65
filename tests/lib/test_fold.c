/* test_fold.c - inference folds each BatchNormalization into the Conv1D/Conv2D,
 * DepthwiseConv2D, SeparableConv2D or Dense before it (and a ReLU after it into the same
 * op): where it may (the plan), where it must not, and the same predictions as running
 * the BN on its own, with moving statistics far from the identity. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "lib/graph/model.h"
#include "lib/layers/kind.h"

/* Every BN's gamma, beta, moving mean and moving variance set to values far from 1, 0,
 * 0, 1, so that a fold that forgot one of them shows. */
static void scramble_bn(loom_model *m, uint64_t seed) {
  for (int i = 0; i < m->n_layers; ++i) {
    loom_layer *l = m->layers[i];
    if (l->model) scramble_bn(l->model, seed + 100 * (uint64_t)i);
    if (l->kind != &lm_kind_batch_normalization) continue;
    for (int k = 0; k < l->n_weights; ++k) {
      const bool var = !strcmp(l->w_name[k], "moving_variance");
      tu_fill(loom_tensor_f32(l->w[k]), (size_t)l->w[k]->size, var ? 0.2f : -0.8f, var ? 3.0f : 0.8f,
              seed + 7 * (uint64_t)i + (uint64_t)k);
      if (!strcmp(l->w_name[k], "gamma"))
        for (int64_t j = 0; j < l->w[k]->size; ++j) loom_tensor_f32(l->w[k])[j] += 1.0f;
    }
  }
}

/* How many BNs the plan folds and how many ReLUs it fuses. */
static void count_plan(const loom_model *m, int *bn, int *act) {
  *bn = *act = 0;
  for (int i = 0; i < m->n_order; ++i) *bn += m->fold[i].bn >= 0, *act += m->fold[i].act >= 0;
}

/* predict with and without folding: the same within float rounding. */
static void same_predictions(loom_model *m, loom_tensor **x, double atol, double rtol) {
  loom_arena *a = loom_arena_new(0);
  loom_tensor *folded[LOOM_MAX_IO] = {0}, *plain[LOOM_MAX_IO] = {0};
  m->g->no_bn_fold = false;
  cr_assert_eq(loom_predict(m, a, folded, .x = {x[0], m->n_in > 1 ? x[1] : NULL}, .batch_size = 2), LOOM_OK, "%s", loom_graph_error(m->g));
  m->g->no_bn_fold = true;
  cr_assert_eq(loom_predict(m, a, plain, .x = {x[0], m->n_in > 1 ? x[1] : NULL}, .batch_size = 2), LOOM_OK, "%s", loom_graph_error(m->g));
  m->g->no_bn_fold = false;
  for (int o = 0; o < m->n_out; ++o) {
    double worst = 0;
    for (int64_t i = 0; i < plain[o]->size; ++i) {
      const double got = loom_tensor_f32(folded[o])[i], want = loom_tensor_f32(plain[o])[i];
      cr_assert(tu_close(got, want, atol, rtol), "output %d [%lld]: folded %.7g, plain %.7g", o, (long long)i,
                got, want);
      worst = fmax(worst, fabs(want));
    }
    cr_assert_gt(worst, 0.1, "output %d is all near zero: nothing is tested", o);
  }
  loom_arena_free(a);
}

Test(fold, every_foldable_kind_is_folded_and_predicts_the_same) {
  loom_graph *g = loom_graph_new(3);
  loom_node *x = loom_Input(g, .shape = {9, 11, 3});
  loom_node *y = loom_call(loom_Conv2D(g, .filters = 6, .kernel_size = {3}, .padding = LOOM_SAME), x);
  y = loom_call(loom_Activation(g, .activation = LOOM_RELU), loom_call(loom_BatchNormalization(g), y));
  loom_node *s = loom_call(loom_SeparableConv2D(g, .filters = 5, .kernel_size = {3}, .strides = {2},
                                                .use_bias = LOOM_NO), y);
  s = loom_call(loom_BatchNormalization(g, .scale = LOOM_NO), s);
  loom_node *d = loom_call(loom_DepthwiseConv2D(g, .kernel_size = {3}, .depth_multiplier = 2), s);
  d = loom_call(loom_BatchNormalization(g, .center = LOOM_NO), d);
  d = loom_call(loom_Activation(g, .activation = LOOM_RELU), d);
  loom_node *f = loom_call(loom_Flatten(g), d);
  loom_node *h = loom_call(loom_BatchNormalization(g), loom_call(loom_Dense(g, .units = 7), f));
  loom_node *t = loom_Input(g, .shape = {12, 3});
  loom_node *c1 = loom_call(loom_BatchNormalization(g), loom_call(loom_Conv1D(g, .filters = 4, .kernel_size = {2}), t));
  loom_model *m = loom_Model(g, .inputs = {x, t}, .outputs = {h, c1});
  cr_assert(m, "%s", loom_graph_error(g));
  int bn, act;
  count_plan(m, &bn, &act);
  cr_assert_eq(bn, 5);
  cr_assert_eq(act, 2);
  scramble_bn(m, 11);
  loom_arena *a = loom_arena_new(0);
  const int64_t xs[4] = {5, 9, 11, 3}, ts[3] = {5, 12, 3};
  loom_tensor *in[2] = {tu_tensor(a, 4, xs, -1, 1, 5), tu_tensor(a, 3, ts, -1, 1, 6)};
  same_predictions(m, in, 1e-5, 1e-4);
  /* the folded weights are kept between batches of a pass, made again for the next pass:
   * new statistics must show */
  scramble_bn(m, 99);
  same_predictions(m, in, 1e-5, 1e-4);
  loom_arena_free(a);
  loom_graph_free(g);
}

Test(fold, not_where_the_convolution_or_the_bn_output_is_read_elsewhere) {
  loom_graph *g = loom_graph_new(4);
  loom_node *x = loom_Input(g, .shape = {6, 6, 4});
  /* read by the BN and by the Add: the raw convolution is needed, no fold */
  loom_node *c = loom_call(loom_Conv2D(g, .filters = 4, .kernel_size = {1}), x);
  loom_node *y = loom_call_list(loom_Add(g), loom_call(loom_BatchNormalization(g), c), c);
  /* an activation of its own: BN(relu(conv)) is not an affine map of conv */
  y = loom_call(loom_BatchNormalization(g), loom_call(loom_Conv2D(g, .filters = 4, .kernel_size = {3},
                                                                  .padding = LOOM_SAME, .activation = LOOM_RELU), y));
  /* folded, but its BN output is a model output too: the ReLU after it is not fused */
  loom_node *b = loom_call(loom_BatchNormalization(g), loom_call(loom_Conv2D(g, .filters = 3, .kernel_size = {2}), y));
  loom_node *r = loom_call(loom_Activation(g, .activation = LOOM_RELU), b);
  /* a conv that is itself an output: no fold */
  loom_node *o = loom_call(loom_Conv2D(g, .filters = 2, .kernel_size = {1}), y);
  loom_node *ob = loom_call(loom_BatchNormalization(g), o);
  loom_model *m = loom_Model(g, .inputs = {x}, .outputs = {b, r, o, ob});
  cr_assert(m, "%s", loom_graph_error(g));
  int bn, act;
  count_plan(m, &bn, &act);
  cr_assert_eq(bn, 1);
  cr_assert_eq(act, 0);
  scramble_bn(m, 12);
  loom_arena *a = loom_arena_new(0);
  const int64_t xs[4] = {3, 6, 6, 4};
  loom_tensor *in[1] = {tu_tensor(a, 4, xs, -1, 1, 7)};
  same_predictions(m, in, 1e-5, 1e-4);
  loom_arena_free(a);
  loom_graph_free(g);
}

Test(fold, xception_folds_all_40_bns_and_24_relus_and_predicts_the_same) {
  loom_graph *g = loom_graph_new(5);
  loom_model *base = loom_Xception(g, .include_top = LOOM_NO, .input_shape = {71, 71, 3}, .pooling = LOOM_POOLING_AVG);
  cr_assert(base, "%s", loom_graph_error(g));
  int bn, act;
  /* every conv and separable conv feeds its BN alone; the ReLUs right after a BN:
   * block1 2, block2 1, blocks 3, 4, 13 one each, middle flow 8 x 2, block14 2 */
  count_plan(base, &bn, &act);
  cr_assert_eq(bn, 40);
  cr_assert_eq(act, 24);
  int relu = 0;
  for (int i = 0; i < base->n_order; ++i) relu += base->fold[i].relu >= 0;
  cr_assert_eq(relu, 24, "BN -> ReLU pairs fused in training: %d", relu);
  scramble_bn(base, 13);
  loom_node *x = loom_Input(g, .shape = {71, 71, 3});
  loom_model *m = loom_Model(g, .inputs = {x}, .outputs = {loom_call(loom_model_layer(base), x)});
  loom_arena *a = loom_arena_new(0);
  const int64_t xs[4] = {2, 71, 71, 3};
  loom_tensor *in[1] = {tu_tensor(a, 4, xs, -1, 1, 8)};
  same_predictions(m, in, 1e-4, 1e-3);
  loom_arena_free(a);
  loom_graph_free(g);
}

static loom_model *small_bn_model(loom_graph *g) {
  loom_node *x = loom_Input(g, .shape = {8, 8, 3});
  loom_node *y = loom_call(loom_Conv2D(g, .filters = 6, .kernel_size = {3}, .padding = LOOM_SAME), x);
  y = loom_call(loom_Activation(g, .activation = LOOM_RELU), loom_call(loom_BatchNormalization(g), y));
  y = loom_call(loom_MaxPooling2D(g, .pool_size = {2}), y);
  y = loom_call(loom_BatchNormalization(g), loom_call(loom_SeparableConv2D(g, .filters = 5, .kernel_size = {3}), y));
  y = loom_call(loom_Dense(g, .units = 1), loom_call(loom_Flatten(g), loom_call(loom_Activation(g, .activation = LOOM_RELU), y)));
  loom_model *m = loom_Model(g, .inputs = {x}, .outputs = {y});
  cr_assert(m && loom_compile(m, .optimizer = {LOOM_SGD, .learning_rate = 0.05f}, .loss = "mse") == LOOM_OK, "%s",
            loom_graph_error(g));
  return m;
}

Test(fold, training_with_bn_relu_fused_matches_the_layers_on_their_own) {
  loom_graph *g[2] = {loom_graph_new(21), loom_graph_new(21)};
  loom_model *m[2] = {small_bn_model(g[0]), small_bn_model(g[1])};
  g[1]->no_bn_fold = true;
  int relu = 0;
  for (int i = 0; i < m[0]->n_order; ++i) relu += m[0]->fold[i].relu >= 0;
  cr_assert_eq(relu, 2);
  loom_arena *a = loom_arena_new(0);
  const int64_t xs[4] = {16, 8, 8, 3}, ys[2] = {16, 1};
  loom_tensor *x = tu_tensor(a, 4, xs, -1, 1, 31), *y = tu_tensor(a, 2, ys, -1, 1, 32);
  for (int k = 0; k < 2; ++k)
    cr_assert(loom_fit(m[k], .x = {x}, .y = {y}, .epochs = 3, .batch_size = 4, .verbose = LOOM_SILENT), "%s",
              loom_graph_error(g[k]));
  for (int w = 0; w < m[0]->n_vars; ++w) {
    const loom_tensor *a0 = m[0]->weights[w], *a1 = m[1]->weights[w];
    double moved = 0;
    for (int64_t i = 0; i < a0->size; ++i) {
      cr_assert(tu_close(loom_tensor_f32(a0)[i], loom_tensor_f32(a1)[i], 1e-5, 1e-4), "weight %d [%lld]: %g vs %g", w,
                (long long)i, loom_tensor_f32(a0)[i], loom_tensor_f32(a1)[i]);
      moved += fabs(loom_tensor_f32(a0)[i]);
    }
    cr_assert_gt(moved, 0.0);
  }
  loom_arena_free(a);
  loom_graph_free(g[0]), loom_graph_free(g[1]);
}
