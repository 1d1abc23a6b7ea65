/* test_activation.c - lm_k_act / lm_k_act_grad against their double references on every
 * function, awkward lengths, unaligned pointers, in place, and at the points where the
 * functions bend (0, the threshold, the clip, far tails); the references' derivatives
 * against central differences of their values. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "simd/ref.h"
#include "simd/simd.h"

typedef struct {
  const char *name;
  lm_actfn f;
  lm_act_param p;
} act_case;

static const act_case cases[] = {
    {"linear", LM_F_LINEAR, {0, 0, 0}},
    {"relu", LM_F_RELU, {0, 0, INFINITY}},
    {"relu6", LM_F_RELU, {0, 0, 6}},
    {"leaky_relu", LM_F_RELU, {0.2f, 0, INFINITY}},
    {"ReLU(slope .3, threshold .5, max 4)", LM_F_RELU, {0.3f, 0.5f, 4}},
    {"elu", LM_F_ELU, {1, 1, 0}},
    {"elu alpha .5", LM_F_ELU, {0.5f, 1, 0}},
    {"selu", LM_F_ELU, {1.67326324f, 1.05070098f, 0}},
    {"gelu", LM_F_GELU, {0, 0, 0}},
    {"gelu_tanh", LM_F_GELU_TANH, {0, 0, 0}},
    {"swish", LM_F_SWISH, {0, 0, 0}},
    {"softplus", LM_F_SOFTPLUS, {0, 0, 0}},
    {"softsign", LM_F_SOFTSIGN, {0, 0, 0}},
    {"hard_sigmoid (Keras 2)", LM_F_HARD_SIGMOID, {0.2f, 0.5f, 0}},
    {"hard_sigmoid (x/6 + 1/2)", LM_F_HARD_SIGMOID, {1.0f / 6, 0.5f, 0}},
    {"exponential", LM_F_EXP, {0, 0, 0}},
    {"sigmoid", LM_F_SIGMOID, {0, 0, 0}},
    {"tanh", LM_F_TANH, {0, 0, 0}},
};
#define N_CASES (sizeof cases / sizeof cases[0])

static const size_t lengths[] = {0, 1, 3, 7, 15, 16, 17, 33, 63, 64, 65, 1000, 70001};

/* Random values in [-8, 8] with the bending points and far tails mixed in. */
static void fill(float *x, size_t n, uint64_t seed) {
  static const float special[] = {0.0f, -0.0f, 0.5f, 4.0f, 6.0f, -2.5f, 2.5f, 30.0f, -30.0f, 80.0f, -80.0f, 1e-6f};
  tu_fill(x, n, -8, 8, seed);
  for (size_t i = 0; i < n; i += 5) x[i] = special[(i / 5) % (sizeof special / sizeof special[0])];
}

static bool close_enough(float got, float want) { return tu_close(got, want, 3e-6, 1e-5); }

Test(activation, kernels_match_references) {
  for (size_t c = 0; c < N_CASES; ++c)
    for (size_t off = 0; off < 2; ++off)
      for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; ++li) {
        const size_t n = lengths[li];
        float *x = (float *)malloc((n + 1) * sizeof(float)) + off;
        float *y = (float *)malloc((n + 1) * sizeof(float)) + off;
        float *want = malloc((n + 1) * sizeof(float));
        float *dy = malloc((n + 1) * sizeof(float)), *dx = malloc((n + 1) * sizeof(float));
        float *dwant = malloc((n + 1) * sizeof(float));
        fill(x, n, 11 + n);
        tu_fill(dy, n, -1, 1, 12);
        tu_fill(dx, n, -1, 1, 13);
        memcpy(dwant, dx, n * sizeof(float));
        lm_k_act(cases[c].f, &cases[c].p, x, y, n);
        lm_ref_act(cases[c].f, &cases[c].p, x, want, n);
        for (size_t i = 0; i < n; ++i)
          cr_assert(close_enough(y[i], want[i]), "%s n=%zu off=%zu x=%.9g: got %.9g want %.9g",
                    cases[c].name, n, off, x[i], y[i], want[i]);
        lm_k_act_grad(cases[c].f, &cases[c].p, x, dy, dx, n);
        lm_ref_act_grad(cases[c].f, &cases[c].p, x, dy, dwant, n);
        for (size_t i = 0; i < n; ++i)
          cr_assert(close_enough(dx[i], dwant[i]), "%s grad n=%zu off=%zu x=%.9g: got %.9g want %.9g",
                    cases[c].name, n, off, x[i], dx[i], dwant[i]);
        lm_k_act(cases[c].f, &cases[c].p, x, x, n); /* in place */
        for (size_t i = 0; i < n; ++i)
          cr_assert(close_enough(x[i], want[i]), "%s in place n=%zu [%zu]", cases[c].name, n, i);
        free(x - off), free(y - off), free(want), free(dy), free(dx), free(dwant);
      }
}

/* The references' derivatives are the derivatives of their values: a central difference
 * at points away from the kinks (0, the threshold, the clips). */
Test(activation, reference_slopes_are_derivatives) {
  float xs[64];
  for (int i = 0; i < 64; ++i) xs[i] = -7.3f + 0.23f * (float)i;
  for (size_t c = 0; c < N_CASES; ++c)
    for (int i = 0; i < 64; ++i) {
      const float x = xs[i], h = 1e-2f;
      float pts[2] = {x - h, x + h}, ys[2], one = 1.0f, g = 0.0f;
      lm_ref_act(cases[c].f, &cases[c].p, pts, ys, 2);
      lm_ref_act_grad(cases[c].f, &cases[c].p, &x, &one, &g, 1);
      const double fd = ((double)ys[1] - ys[0]) / (2.0 * h);
      cr_assert(tu_close(g, fd, 2e-3, 1e-2), "%s at %g: slope %.6g, central difference %.6g",
                cases[c].name, x, g, fd);
    }
}

Test(activation, values_at_known_points) {
  const struct {
    size_t c;
    float x, y;
  } known[] = {
      {1, -3, 0}, {2, 7, 6}, {3, -1, -0.2f}, {4, 0.25f, -0.075f}, {4, 9, 4}, {4, 2, 2},
      {7, -1, -1.1113307f}, /* selu(-1) = scale alpha (e^-1 - 1) */
      {8, 1, 0.8413447f},   /* gelu(1) = Phi(1) */
      {9, 1, 0.8411920f}, {10, 1, 0.7310586f}, {11, 0, 0.6931472f}, {12, 3, 0.75f},
      {13, 1, 0.7f}, {13, 3, 1}, {14, 1.5f, 0.75f}, {15, 1, 2.7182817f},
  };
  for (size_t i = 0; i < sizeof known / sizeof known[0]; ++i) {
    float y;
    lm_k_act(cases[known[i].c].f, &cases[known[i].c].p, &known[i].x, &y, 1);
    cr_assert(tu_close(y, known[i].y, 1e-6, 1e-6), "%s(%g) = %.9g, want %.9g", cases[known[i].c].name,
              known[i].x, y, known[i].y);
  }
}
