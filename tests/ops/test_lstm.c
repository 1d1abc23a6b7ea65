/* test_lstm.c - LSTM against a step-by-step reference written from Keras' equations
 * (default and other activations, initial states, the last cell state), gradients by
 * finite differences (batch 1 and 3, sequence 1 and 5, both directions, last state and
 * sequences), errors. Gradients with initial states and other activations: test_recurrent.c. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/gradcheck.h"
#include "common/util.h"

TestSuite(lstm, .init = tu_suite_open, .fini = tu_suite_close);

typedef struct {
  int64_t b, t, d, u;
  bool bias, seq, back;
  loom_activation act, rec; /* 0: tanh, sigmoid */
  bool states;              /* h0, c0 given (in[4], in[5]) and the last c compared too */
} lstm_case;

static void make(const lstm_case *k, loom_tensor **in, uint64_t seed) {
  const int64_t sx[3] = {k->b, k->t, k->d}, sw[2] = {k->d, 4 * k->u}, su[2] = {k->u, 4 * k->u};
  const int64_t sb[1] = {4 * k->u};
  in[0] = tu_tensor(tu_params, 3, sx, -1, 1, seed);
  in[1] = tu_tensor(tu_params, 2, sw, -0.6f, 0.6f, seed + 1);
  in[2] = tu_tensor(tu_params, 2, su, -0.6f, 0.6f, seed + 2);
  in[3] = tu_tensor(tu_params, 1, sb, -0.4f, 0.4f, seed + 3);
  const int64_t sh[2] = {k->b, k->u};
  in[4] = tu_tensor(tu_params, 2, sh, -1, 1, seed + 4);
  in[5] = tu_tensor(tu_params, 2, sh, -1, 1, seed + 5);
}

static loom_tensor *apply(loom_ctx *c, loom_tensor **in, void *user) {
  const lstm_case *k = user;
  const loom_rnn_cfg cfg = {k->act, k->rec, .return_sequences = k->seq, .go_backwards = k->back};
  return loom_lstm(c, in[0], k->states ? in[4] : NULL, k->states ? in[5] : NULL, in[1], in[2],
                   k->bias ? in[3] : NULL, &cfg, NULL);
}

static double sg(double z) { return 1.0 / (1.0 + exp(-z)); }
static double act_of(loom_activation a, double z) {
  switch (a) {
  case LOOM_RELU: return z > 0 ? z : 0;
  case LOOM_HARD_SIGMOID: return z < -2.5 ? 0 : z > 2.5 ? 1 : 0.2 * z + 0.5;
  case LOOM_LINEAR: return z;
  case LOOM_SIGMOID: return sg(z);
  default: return tanh(z);
  }
}

/* Keras: z = x W + h U + b; i, f, o = rec (sigmoid); g = act (tanh); c = f c + i g;
 * h = o act(c). out gets the output, c_out (when not NULL) the last c. */
static void reference(const lstm_case *k, loom_tensor **in, double *out, double *c_out) {
  const float *x = loom_tensor_f32(in[0]), *w = loom_tensor_f32(in[1]), *u = loom_tensor_f32(in[2]);
  const float *b = loom_tensor_f32(in[3]);
  const int64_t U = k->u, G = 4 * U;
  double *h = calloc((size_t)U, sizeof(double)), *c = calloc((size_t)U, sizeof(double));
  double *z = calloc((size_t)G, sizeof(double));
  for (int64_t bi = 0; bi < k->b; ++bi) {
    for (int64_t j = 0; j < U; ++j) {
      h[j] = k->states ? loom_tensor_f32(in[4])[bi * U + j] : 0.0;
      c[j] = k->states ? loom_tensor_f32(in[5])[bi * U + j] : 0.0;
    }
    const loom_activation ra = k->rec ? k->rec : LOOM_SIGMOID, aa = k->act ? k->act : LOOM_TANH;
    for (int64_t step = 0; step < k->t; ++step) {
      const int64_t tt = k->back ? k->t - 1 - step : step;
      for (int64_t j = 0; j < G; ++j) {
        double s = k->bias ? b[j] : 0.0;
        for (int64_t q = 0; q < k->d; ++q) s += (double)x[(bi * k->t + tt) * k->d + q] * w[q * G + j];
        for (int64_t q = 0; q < U; ++q) s += h[q] * u[q * G + j];
        z[j] = s;
      }
      for (int64_t j = 0; j < U; ++j) {
        const double i = act_of(ra, z[j]), f = act_of(ra, z[U + j]), g = act_of(aa, z[2 * U + j]);
        const double o = act_of(ra, z[3 * U + j]);
        c[j] = f * c[j] + i * g;
        h[j] = o * act_of(aa, c[j]);
      }
      if (k->seq) memcpy(out + (bi * k->t + step) * U, h, (size_t)U * sizeof(double));
    }
    if (!k->seq) memcpy(out + bi * U, h, (size_t)U * sizeof(double));
    if (c_out) memcpy(c_out + bi * U, c, (size_t)U * sizeof(double));
  }
  free(h);
  free(c);
  free(z);
}

static const lstm_case cases[] = {
    {3, 5, 4, 3, true, false, false, 0, 0, false}, {1, 5, 2, 5, true, true, false, 0, 0, false},
    {3, 1, 4, 3, false, false, false, 0, 0, false}, {2, 5, 3, 2, true, true, true, 0, 0, false},
    {3, 4, 5, 3, true, false, true, 0, 0, false},
};
/* other activations (the kernels' path, not the fused cell), initial states, last c */
static const lstm_case more[] = {
    {3, 5, 4, 3, true, true, false, LOOM_RELU, LOOM_HARD_SIGMOID, true},
    {1, 1, 2, 5, false, false, true, LOOM_LINEAR, LOOM_SIGMOID, false},
    {2, 6, 3, 4, true, false, true, LOOM_TANH, LOOM_HARD_SIGMOID, true},
    {2, 3, 3, 7, true, true, false, 0, 0, true},
};

static void compare(const lstm_case *k, uint64_t seed, const char *what) {
  loom_tensor *in[6];
  make(k, in, seed);
  const loom_rnn_cfg cfg = {k->act, k->rec, .return_sequences = k->seq, .go_backwards = k->back};
  loom_tensor *c_last = NULL;
  loom_tensor *y = loom_lstm(tu_cx, in[0], k->states ? in[4] : NULL, k->states ? in[5] : NULL, in[1], in[2],
                             k->bias ? in[3] : NULL, &cfg, &c_last);
  cr_assert(y && c_last, "%s: %s", what, loom_ctx_error(tu_cx));
  cr_assert(c_last->rank == 2 && c_last->shape[0] == k->b && c_last->shape[1] == k->u);
  double *want = calloc((size_t)y->size, sizeof(double)), *want_c = calloc((size_t)c_last->size, sizeof(double));
  reference(k, in, want, want_c);
  for (int64_t j = 0; j < y->size; ++j)
    cr_assert(tu_close(loom_tensor_f32(y)[j], want[j], 1e-5, 1e-5), "%s [%lld]: %g vs %g", what, (long long)j,
              loom_tensor_f32(y)[j], want[j]);
  for (int64_t j = 0; j < c_last->size; ++j)
    cr_assert(tu_close(loom_tensor_f32(c_last)[j], want_c[j], 1e-5, 1e-5), "%s: c[%lld]: %g vs %g", what,
              (long long)j, loom_tensor_f32(c_last)[j], want_c[j]);
  free(want);
  free(want_c);
}

Test(lstm, forward_matches_keras_equations) {
  char what[64];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    snprintf(what, sizeof what, "case %zu", i);
    compare(&cases[i], 10 + i, what);
  }
  for (size_t i = 0; i < sizeof more / sizeof more[0]; ++i) {
    snprintf(what, sizeof what, "other case %zu", i);
    compare(&more[i], 20 + i, what);
  }
}

Test(lstm, gradients) {
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    loom_tensor *in[6];
    make(&cases[i], in, 30 + i);
    gc_check("lstm", apply, in, cases[i].bias ? 4 : 3, (void *)&cases[i]);
  }
}

Test(lstm, bad_inputs) {
  const lstm_case k = {2, 3, 4, 3, true, false, false, 0, 0, false};
  loom_tensor *in[6];
  make(&k, in, 1);
  const loom_rnn_cfg cfg = {0};
  cr_assert_null(loom_lstm(tu_cx, in[0], NULL, NULL, in[2], in[2], NULL, &cfg, NULL));
  cr_assert(strstr(loom_ctx_error(tu_cx), "do not fit"), "%s", loom_ctx_error(tu_cx));
  loom_ctx_reset(tu_cx);
  cr_assert_null(loom_lstm(tu_cx, in[0], NULL, NULL, in[1], in[2], in[0], &cfg, NULL));
  cr_assert(strstr(loom_ctx_error(tu_cx), "bias [2, 3, 4] does not fit"), "%s", loom_ctx_error(tu_cx));
  loom_ctx_reset(tu_cx);
  cr_assert_null(loom_lstm(tu_cx, in[0], NULL, NULL, in[1], NULL, NULL, &cfg, NULL));
  cr_assert(strstr(loom_ctx_error(tu_cx), "is NULL"), "%s", loom_ctx_error(tu_cx));
  loom_ctx_reset(tu_cx);
  cr_assert_null(loom_lstm(tu_cx, in[0], in[4], in[0], in[1], in[2], NULL, &cfg, NULL)); /* c0 [2, 3, 4] */
  cr_assert(strstr(loom_ctx_error(tu_cx), "initial state [2, 3, 4]"), "%s", loom_ctx_error(tu_cx));
  loom_ctx_reset(tu_cx);
  const loom_rnn_cfg soft = {.activation = LOOM_SOFTMAX};
  cr_assert_null(loom_lstm(tu_cx, in[0], NULL, NULL, in[1], in[2], NULL, &soft, NULL));
  cr_assert(strstr(loom_ctx_error(tu_cx), "not an elementwise"), "%s", loom_ctx_error(tu_cx));
  loom_ctx_reset(tu_cx);
  cr_assert_null(loom_lstm(tu_cx, in[0], NULL, NULL, in[1], in[2], NULL, NULL, NULL));
  cr_assert(strstr(loom_ctx_error(tu_cx), "cfg is NULL"), "%s", loom_ctx_error(tu_cx));
  loom_ctx_reset(tu_cx);
  cr_assert_null(loom_lstm(NULL, in[0], NULL, NULL, in[1], in[2], NULL, &cfg, NULL));
}
