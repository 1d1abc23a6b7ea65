/* test_lstm.c - LSTM against a step-by-step reference written from Keras' equations,
 * gradients by finite differences (batch 1 and 3, sequence 1 and 5, both directions,
 * last state and sequences), errors. */
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
} lstm_case;

static void make(const lstm_case *k, loom_tensor **in, uint64_t seed) {
  const int64_t sx[3] = {k->b, k->t, k->d}, sw[2] = {k->d, 4 * k->u}, su[2] = {k->u, 4 * k->u};
  const int64_t sb[1] = {4 * k->u};
  in[0] = tu_tensor(tu_params, 3, sx, -1, 1, seed);
  in[1] = tu_tensor(tu_params, 2, sw, -0.6f, 0.6f, seed + 1);
  in[2] = tu_tensor(tu_params, 2, su, -0.6f, 0.6f, seed + 2);
  in[3] = tu_tensor(tu_params, 1, sb, -0.4f, 0.4f, seed + 3);
}

static loom_tensor *apply(loom_ctx *c, loom_tensor **in, void *user) {
  const lstm_case *k = user;
  return loom_lstm(c, in[0], in[1], in[2], k->bias ? in[3] : NULL, k->seq, k->back);
}

static double sg(double z) { return 1.0 / (1.0 + exp(-z)); }

/* Keras: z = x W + h U + b; i, f, o = sigmoid; g = tanh; c = f c + i g; h = o tanh(c). */
static void reference(const lstm_case *k, loom_tensor **in, double *out) {
  const float *x = loom_tensor_f32(in[0]), *w = loom_tensor_f32(in[1]), *u = loom_tensor_f32(in[2]);
  const float *b = loom_tensor_f32(in[3]);
  const int64_t U = k->u, G = 4 * U;
  double *h = calloc((size_t)U, sizeof(double)), *c = calloc((size_t)U, sizeof(double));
  double *z = calloc((size_t)G, sizeof(double));
  for (int64_t bi = 0; bi < k->b; ++bi) {
    memset(h, 0, (size_t)U * sizeof(double));
    memset(c, 0, (size_t)U * sizeof(double));
    for (int64_t step = 0; step < k->t; ++step) {
      const int64_t tt = k->back ? k->t - 1 - step : step;
      for (int64_t j = 0; j < G; ++j) {
        double s = k->bias ? b[j] : 0.0;
        for (int64_t q = 0; q < k->d; ++q) s += (double)x[(bi * k->t + tt) * k->d + q] * w[q * G + j];
        for (int64_t q = 0; q < U; ++q) s += h[q] * u[q * G + j];
        z[j] = s;
      }
      for (int64_t j = 0; j < U; ++j) {
        const double i = sg(z[j]), f = sg(z[U + j]), g = tanh(z[2 * U + j]), o = sg(z[3 * U + j]);
        c[j] = f * c[j] + i * g;
        h[j] = o * tanh(c[j]);
      }
      if (k->seq) memcpy(out + (bi * k->t + step) * U, h, (size_t)U * sizeof(double));
    }
    if (!k->seq) memcpy(out + bi * U, h, (size_t)U * sizeof(double));
  }
  free(h);
  free(c);
  free(z);
}

static const lstm_case cases[] = {
    {3, 5, 4, 3, true, false, false}, {1, 5, 2, 5, true, true, false},
    {3, 1, 4, 3, false, false, false}, {2, 5, 3, 2, true, true, true},
    {3, 4, 5, 3, true, false, true},
};

Test(lstm, forward_matches_keras_equations) {
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    loom_tensor *in[4];
    make(&cases[i], in, 10 + i);
    loom_tensor *y = apply(tu_cx, in, (void *)&cases[i]);
    cr_assert(y, "%s", loom_ctx_error(tu_cx));
    double *want = calloc((size_t)y->size, sizeof(double));
    reference(&cases[i], in, want);
    for (int64_t j = 0; j < y->size; ++j)
      cr_assert(tu_close(loom_tensor_f32(y)[j], want[j], 1e-5, 1e-5), "case %zu [%lld]: %g vs %g",
                i, (long long)j, loom_tensor_f32(y)[j], want[j]);
    free(want);
  }
}

Test(lstm, gradients) {
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    loom_tensor *in[4];
    make(&cases[i], in, 30 + i);
    gc_check("lstm", apply, in, cases[i].bias ? 4 : 3, (void *)&cases[i]);
  }
}

Test(lstm, bad_inputs) {
  const lstm_case k = {2, 3, 4, 3, true, false, false};
  loom_tensor *in[4];
  make(&k, in, 1);
  cr_assert_null(loom_lstm(tu_cx, in[0], in[2], in[2], NULL, false, false));
  cr_assert(strstr(loom_ctx_error(tu_cx), "do not fit"), "%s", loom_ctx_error(tu_cx));
  loom_ctx_reset(tu_cx);
  cr_assert_null(loom_lstm(tu_cx, in[0], in[1], in[2], in[0], false, false));
  cr_assert(strstr(loom_ctx_error(tu_cx), "bias [2, 3, 4] does not fit"), "%s", loom_ctx_error(tu_cx));
  loom_ctx_reset(tu_cx);
  cr_assert_null(loom_lstm(tu_cx, in[0], in[1], NULL, NULL, false, false));
  cr_assert(strstr(loom_ctx_error(tu_cx), "input 2 is NULL"), "%s", loom_ctx_error(tu_cx));
  cr_assert_null(loom_lstm(NULL, in[0], in[1], in[2], NULL, false, false));
}
