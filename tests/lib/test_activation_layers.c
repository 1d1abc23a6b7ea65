/* test_activation_layers.c - ReLU, LeakyReLU, PReLU, ELU, Softmax and Activation with the
 * new functions as layers: each computes its op with the options Keras gives it, PReLU's
 * alpha trains, a model of all of them saves and loads to the same predictions, and bad
 * options or inputs are refused naming the layer. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "lib/models.h"

static loom_arena *arena;
static void setup(void) { arena = loom_arena_new(NULL); }
static void teardown(void) { loom_arena_free(arena); }
TestSuite(act_layers, .init = setup, .fini = teardown);

/* One layer on x [4, 3, 5]: predict's output. */
static loom_tensor *run_layer(loom_graph *g, loom_layer *l, loom_tensor *x) {
  cr_assert(l, "%s", loom_graph_error(g));
  loom_node *in = loom_Input(g, .shape = {3, 5});
  loom_node *y = loom_call(l, in);
  cr_assert(y, "%s", loom_graph_error(g));
  loom_model *m = loom_Model(g, .inputs = {in}, .outputs = {y});
  cr_assert(m, "%s", loom_graph_error(g));
  loom_tensor *out[1];
  cr_assert_eq(loom_predict(m, arena, out, .x = {x}), LOOM_OK, "%s", loom_graph_error(g));
  return out[0];
}

typedef double (*scalar_fn)(double x, const void *user);

static void expect_elementwise(loom_tensor *x, loom_tensor *y, scalar_fn f, const void *user, const char *what) {
  for (int64_t i = 0; i < x->size; ++i) {
    const double want = f(loom_tensor_f32(x)[i], user);
    cr_assert(tu_close(loom_tensor_f32(y)[i], want, 1e-6, 1e-5), "%s [%lld]: x %g gives %g, want %g", what,
              (long long)i, loom_tensor_f32(x)[i], loom_tensor_f32(y)[i], want);
  }
}

static double relu_keras(double x, const void *u) { /* ReLU(max_value 1.5, slope 0.1, threshold 0.2) */
  (void)u;
  return x > 0.2 ? fmin(x, 1.5) : 0.1 * (x - 0.2);
}
static double leaky_default(double x, const void *u) { (void)u; return x > 0 ? x : 0.3 * x; }
static double elu_07(double x, const void *u) { (void)u; return x > 0 ? x : 0.7 * expm1(x); }
static double gelu_exact(double x, const void *u) { (void)u; return 0.5 * x * (1 + erf(x / sqrt(2.0))); }

Test(act_layers, each_computes_its_function_with_keras_options) {
  const int64_t s[3] = {4, 3, 5};
  loom_tensor *x = tu_tensor(arena, 3, s, -3, 3, 7);
  loom_graph *g = loom_graph_new(1);
  expect_elementwise(x, run_layer(g, loom_ReLU(g, .max_value = 1.5f, .negative_slope = 0.1f, .threshold = 0.2f), x),
                     relu_keras, NULL, "ReLU");
  loom_graph_free(g);
  g = loom_graph_new(1);
  expect_elementwise(x, run_layer(g, loom_LeakyReLU(g), x), leaky_default, NULL, "LeakyReLU");
  loom_graph_free(g);
  g = loom_graph_new(1);
  expect_elementwise(x, run_layer(g, loom_ELU(g, .alpha = 0.7f), x), elu_07, NULL, "ELU");
  loom_graph_free(g);
  g = loom_graph_new(1);
  expect_elementwise(x, run_layer(g, loom_Activation(g, .activation = LOOM_GELU), x), gelu_exact, NULL, "gelu");
  loom_graph_free(g);
  g = loom_graph_new(1);
  loom_tensor *y = run_layer(g, loom_Softmax(g, .axis = 1), x); /* over the 3 steps */
  for (int b = 0; b < 4; ++b)
    for (int j = 0; j < 5; ++j) {
      double z = 0;
      for (int t = 0; t < 3; ++t) z += exp(loom_tensor_f32(x)[(b * 3 + t) * 5 + j]);
      for (int t = 0; t < 3; ++t) {
        const int i = (b * 3 + t) * 5 + j;
        cr_assert(tu_close(loom_tensor_f32(y)[i], exp(loom_tensor_f32(x)[i]) / z, 1e-6, 1e-5), "Softmax(axis=1) [%d]", i);
      }
    }
  loom_graph_free(g);
}

/* PReLU: alpha [1, 5] (shared over the steps) starts at zero (a ReLU), trains away from it,
 * and the summary counts 5 parameters. */
Test(act_layers, prelu_shares_alpha_and_trains_it) {
  loom_graph *g = loom_graph_new(3);
  loom_node *in = loom_Input(g, .shape = {3, 5});
  loom_layer *p = loom_PReLU(g, .shared_axes = {1});
  loom_node *h = loom_call(p, in);
  loom_node *y = loom_call(loom_Dense(g, .units = 1), loom_call(loom_Flatten(g), h));
  loom_model *m = loom_Model(g, .inputs = {in}, .outputs = {y});
  cr_assert(m, "%s", loom_graph_error(g));
  loom_tensor *alpha = loom_layer_weight(p, "alpha");
  cr_assert(alpha && alpha->rank == 2 && alpha->shape[0] == 1 && alpha->shape[1] == 5);
  for (int i = 0; i < 5; ++i) cr_assert_eq(loom_tensor_f32(alpha)[i], 0.0f);
  char *text = summary_text(m);
  cr_assert(strstr(text, "p_re_lu (PReLU)"), "%s", text);
  cr_assert(strstr(text, "Total params: 21\n"), "%s", text); /* 5 + 15 + 1 */
  free(text);
  const int64_t sx[3] = {64, 3, 5}, sy[2] = {64, 1};
  loom_tensor *x = tu_tensor(arena, 3, sx, -2, 2, 1), *t = tu_tensor(arena, 2, sy, -1, 1, 2);
  for (int64_t i = 0; i < 64; ++i) /* a target that needs the negative side */
    loom_tensor_f32(t)[i] = -0.5f * loom_tensor_f32(x)[i * 15] + 0.2f * loom_tensor_f32(x)[i * 15 + 6];
  cr_assert_eq(loom_compile(m, .optimizer = {LOOM_ADAM}, .loss = "mse"), LOOM_OK, "%s", loom_graph_error(g));
  cr_assert(loom_fit(m, .x = {x}, .y = {t}, .epochs = 3, .batch_size = 16, .verbose = LOOM_SILENT), "%s",
            loom_graph_error(g));
  float moved = 0;
  for (int i = 0; i < 5; ++i) moved += fabsf(loom_tensor_f32(alpha)[i]);
  cr_assert_gt(moved, 1e-3f, "alpha did not train");
  loom_graph_free(g);
}

Test(act_layers, a_model_of_all_of_them_saves_and_loads) {
  loom_graph *g = loom_graph_new(5);
  loom_node *in = loom_Input(g, .shape = {3, 5});
  loom_node *h = loom_call(loom_PReLU(g, .shared_axes = {1}), in);
  h = loom_call(loom_ReLU(g, .max_value = 6, .negative_slope = 0.05f), h);
  h = loom_call(loom_LeakyReLU(g, .negative_slope = 0.2f), h);
  h = loom_call(loom_ELU(g, .alpha = 0.5f), h);
  h = loom_call(loom_Dense(g, .units = 4, .activation = LOOM_SELU), h);
  h = loom_call(loom_Dense(g, .units = 4, .activation = LOOM_SWISH), h);
  h = loom_call(loom_Softmax(g, .axis = 1), h);
  loom_node *y = loom_call(loom_Dense(g, .units = 2), loom_call(loom_Flatten(g), h));
  loom_model *m = loom_Model(g, .inputs = {in}, .outputs = {y});
  cr_assert(m, "%s", loom_graph_error(g));
  float *alpha = loom_tensor_f32(loom_layer_weight(loom_model_get_layer(m, "p_re_lu"), "alpha"));
  for (int i = 0; i < 5; ++i) alpha[i] = 0.1f * (float)(i + 1);
  char path[] = "/tmp/loom_act_XXXXXX";
  const int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  close(fd);
  cr_assert_eq(loom_save(m, path), LOOM_OK, "%s", loom_graph_error(g));
  loom_model *back = loom_model_load(path);
  cr_assert(back, "%s", loom_last_error());
  unlink(path);
  const int64_t sx[3] = {6, 3, 5};
  loom_tensor *x = tu_tensor(arena, 3, sx, -3, 3, 9), *a[1], *b[1];
  cr_assert_eq(loom_predict(m, arena, a, .x = {x}), LOOM_OK);
  cr_assert_eq(loom_predict(back, arena, b, .x = {x}), LOOM_OK, "%s", loom_last_error());
  cr_assert(!memcmp(loom_tensor_f32(a[0]), loom_tensor_f32(b[0]), 12 * sizeof(float)), "predictions differ after load");
  loom_graph_free(loom_model_graph(back));
  loom_graph_free(g);
}

Test(act_layers, bad_options_and_inputs_name_the_layer) {
  loom_graph *g = loom_graph_new(1);
  cr_assert_null(loom_ReLU(g, .max_value = -1, .name = "clip"));
  cr_assert(strstr(loom_graph_error(g), "ReLU \"clip\": max_value, negative_slope and threshold must be >= 0"), "%s",
            loom_graph_error(g));
  loom_graph_free(g);
  g = loom_graph_new(1);
  cr_assert_null(loom_PReLU(g, .shared_axes = {2, 0, 1}));
  cr_assert(strstr(loom_graph_error(g), "PReLU: shared_axes must list axes >= 1 (the batch is 0), ended by 0"), "%s",
            loom_graph_error(g));
  loom_graph_free(g);
  g = loom_graph_new(1);
  loom_node *in = loom_Input(g, .shape = {3, 5});
  cr_assert_null(loom_call(loom_PReLU(g, .shared_axes = {3}, .name = "pr"), in));
  cr_assert(strstr(loom_graph_error(g), "pr") && strstr(loom_graph_error(g), "shared axis 3 is outside an input of rank 3"),
            "%s", loom_graph_error(g));
  loom_graph_free(g);
  g = loom_graph_new(1);
  in = loom_Input(g, .shape = {LOOM_NONE, 5});
  cr_assert_null(loom_call(loom_PReLU(g), in));
  cr_assert(strstr(loom_graph_error(g), "needs axis 1 of input"), "%s", loom_graph_error(g));
  loom_graph_free(g);
  g = loom_graph_new(1);
  in = loom_Input(g, .shape = {3, 5});
  cr_assert_null(loom_call(loom_Softmax(g, .axis = 3, .name = "sm"), in));
  cr_assert(strstr(loom_graph_error(g), "axis 3 is the batch axis or outside an input of rank 3"), "%s",
            loom_graph_error(g));
  loom_graph_free(g);
}

/* The elementwise merges against their formulas, on two and three inputs. */
Test(act_layers, elementwise_merges) {
  loom_graph *g = loom_graph_new(1);
  loom_node *a = loom_Input(g, .shape = {4}), *b = loom_Input(g, .shape = {4}), *c = loom_Input(g, .shape = {4});
  loom_node *outs[5] = {
      loom_call_list(loom_Subtract(g), a, b), loom_call_list(loom_Multiply(g), a, b, c),
      loom_call_list(loom_Average(g), a, b, c), loom_call_list(loom_Maximum(g), a, b, c),
      loom_call_list(loom_Minimum(g), a, b)};
  loom_model *m = loom_Model(g, .inputs = {a, b, c}, .outputs = {outs[0], outs[1], outs[2], outs[3], outs[4]});
  cr_assert(m, "%s", loom_graph_error(g));
  const int64_t s[2] = {3, 4};
  loom_tensor *x[3] = {tu_tensor(arena, 2, s, -2, 2, 1), tu_tensor(arena, 2, s, -2, 2, 2), tu_tensor(arena, 2, s, -2, 2, 3)};
  loom_tensor *y[5];
  cr_assert_eq(loom_predict(m, arena, y, .x = {x[0], x[1], x[2]}), LOOM_OK, "%s", loom_graph_error(g));
  for (int i = 0; i < 12; ++i) {
    const float p = loom_tensor_f32(x[0])[i], q = loom_tensor_f32(x[1])[i], r = loom_tensor_f32(x[2])[i];
    const float want[5] = {p - q, p * q * r, (p + q + r) / 3, fmaxf(p, fmaxf(q, r)), fminf(p, q)};
    for (int k = 0; k < 5; ++k)
      cr_assert(tu_close(loom_tensor_f32(y[k])[i], want[k], 1e-6, 1e-6), "merge %d [%d]: %g, want %g", k, i,
                loom_tensor_f32(y[k])[i], want[k]);
  }
  cr_assert_null(loom_call_list(loom_Subtract(g, .name = "diff"), a, b, c));
  cr_assert(strstr(loom_graph_error(g), "diff") && strstr(loom_graph_error(g), "takes 2 inputs, got 3"), "%s",
            loom_graph_error(g));
  loom_graph_free(g);
  g = loom_graph_new(1); /* a graph keeps its first error */
  a = loom_Input(g, .shape = {4});
  loom_node *d = loom_Input(g, .shape = {5});
  cr_assert_null(loom_call_list(loom_Maximum(g, .name = "mx"), a, d));
  cr_assert(strstr(loom_graph_error(g), "input 0 [None, 4] and input 1 [None, 5] do not fit: the inputs must have one shape"),
            "%s", loom_graph_error(g));
  loom_graph_free(g);
}
