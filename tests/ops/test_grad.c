/* test_grad.c - finite-difference gradient checks of every op. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "common/gradcheck.h"
#include "common/util.h"

static loom_arena *arena;
static void setup(void) { arena = loom_arena_new(NULL); }
static void teardown(void) { loom_arena_free(arena); }
TestSuite(grad, .init = setup, .fini = teardown);

static loom_tensor *T(int rank, const int64_t *shape, uint64_t seed) {
  return tu_tensor(arena, rank, shape, -1.5f, 1.5f, seed);
}

typedef loom_tensor *(*bin_op)(loom_ctx *, loom_tensor *, loom_tensor *);
typedef loom_tensor *(*un_op)(loom_ctx *, loom_tensor *);

static loom_tensor *apply_bin(loom_ctx *cx, loom_tensor **in, void *op) {
  return ((bin_op)op)(cx, in[0], in[1]);
}
static loom_tensor *apply_un(loom_ctx *cx, loom_tensor **in, void *op) {
  return ((un_op)op)(cx, in[0]);
}

static void check_binary(const char *name, bin_op op) {
  const int64_t s34[2] = {3, 4}, s4[1] = {4}, s5[1] = {5}, s235[3] = {2, 3, 5}, s35[2] = {3, 5};
  struct { int ra; const int64_t *sa; int rb; const int64_t *sb; } cases[] = {
      {2, s34, 2, s34},   /* same shape */
      {2, s34, 1, s4},    /* bias-like broadcast of b */
      {1, s4, 2, s34},    /* broadcast of a */
      {0, NULL, 1, s5},   /* scalar against a vector */
      {3, s235, 2, s35},  /* rank 3 against a suffix of rank 2 */
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
    loom_tensor *in[2] = {T(cases[c].ra, cases[c].sa, 10 + c), T(cases[c].rb, cases[c].sb, 20 + c)};
    gc_check(name, apply_bin, in, 2, (void *)op);
  }
}

Test(grad, add) { check_binary("add", loom_add); }
Test(grad, sub) { check_binary("sub", loom_sub); }
Test(grad, mul) { check_binary("mul", loom_mul); }

Test(grad, matmul) {
  const int64_t dims[][3] = {{3, 5, 4}, {1, 7, 1}, {2, 1, 6}, {17, 9, 3}};
  for (size_t c = 0; c < 4; ++c) {
    const int64_t sa[2] = {dims[c][0], dims[c][1]}, sb[2] = {dims[c][1], dims[c][2]};
    loom_tensor *in[2] = {T(2, sa, 30 + c), T(2, sb, 40 + c)};
    gc_check("matmul", apply_bin, in, 2, (void *)loom_matmul);
  }
}

static void check_unary(const char *name, un_op op, bool away_from_zero) {
  const int64_t s1[1] = {1}, s37[2] = {3, 7}, s2345[4] = {2, 3, 4, 5};
  const int64_t *shapes[3] = {s1, s37, s2345};
  const int ranks[3] = {1, 2, 4};
  for (int c = 0; c < 3; ++c) {
    loom_tensor *x = T(ranks[c], shapes[c], 50 + c);
    if (away_from_zero) tu_fill_away(loom_tensor_f32(x), (size_t)x->size, -2, 2, 0.05f, 60 + c);
    gc_check(name, apply_un, &x, 1, (void *)op);
  }
}

Test(grad, relu) { check_unary("relu", loom_relu, true); }
Test(grad, sigmoid) { check_unary("sigmoid", loom_sigmoid, false); }
Test(grad, tanh) { check_unary("tanh", loom_tanh, false); }
Test(grad, softmax) { check_unary("softmax", loom_softmax, false); }
/* Every activation through loom_activate, off the kinks of the relu family and the clips
 * of hard_sigmoid (|x| > 0.05, and 0.2 x + 0.5 off 0 and 1 for |x| < 2). */
static loom_tensor *apply_act(loom_ctx *cx, loom_tensor **in, void *act) {
  return loom_activate(cx, in[0], *(const loom_activation *)act);
}
Test(grad, activations) {
  const int64_t s1[1] = {1}, s37[2] = {3, 7}, s2345[4] = {2, 3, 4, 5};
  const int64_t *shapes[3] = {s1, s37, s2345};
  const int ranks[3] = {1, 2, 4};
  for (int a = 0; a < LOOM_ACTIVATION_COUNT; ++a)
    for (int c = 0; c < 3; ++c) {
      loom_tensor *x = T(ranks[c], shapes[c], 150 + c);
      tu_fill_away(loom_tensor_f32(x), (size_t)x->size, -2, 2, 0.05f, 160 + c);
      const loom_activation act = (loom_activation)a;
      gc_check("activate", apply_act, &x, 1, (void *)&act);
    }
}

Test(grad, sum) { check_unary("sum", loom_sum, false); }
Test(grad, mean) { check_unary("mean", loom_mean, false); }

/* A small network: softmax(tanh(x W1 + b1) W2 + b2), gradients for all five inputs. */
static loom_tensor *mlp(loom_ctx *cx, loom_tensor **in, void *user) {
  (void)user;
  loom_tensor *h = loom_tanh(cx, loom_add(cx, loom_matmul(cx, in[0], in[1]), in[2]));
  return loom_softmax(cx, loom_add(cx, loom_matmul(cx, h, in[3]), in[4]));
}

Test(grad, composite_mlp) {
  const int64_t sx[2] = {4, 6}, sw1[2] = {6, 5}, sb1[1] = {5}, sw2[2] = {5, 3}, sb2[1] = {3};
  loom_tensor *in[5] = {T(2, sx, 1), T(2, sw1, 2), T(1, sb1, 3), T(2, sw2, 4), T(1, sb2, 5)};
  gc_check("mlp", mlp, in, 5, NULL);
}

/* Dense: every activation (epilogue or its own op), with and without bias, 2-d and 3-d inputs. */
typedef struct {
  loom_activation act;
  bool bias;
} dense_case;

static loom_tensor *apply_dense(loom_ctx *cx, loom_tensor **in, void *user) {
  const dense_case *dc = user;
  return loom_dense(cx, in[0], in[1], dc->bias ? in[2] : NULL, dc->act);
}

/* Every pre-activation z of x . W (+ b) is at least `gap` from 0 and from +-2.5. */
static bool off_kinks(loom_tensor **in, bool withb, float gap) {
  const float *x = loom_tensor_f32(in[0]), *w = loom_tensor_f32(in[1]), *b = loom_tensor_f32(in[2]);
  const int64_t k = in[1]->shape[0], u = in[1]->shape[1], rows = in[0]->size / k;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < u; ++j) {
      float z = withb ? b[j] : 0.0f;
      for (int64_t i = 0; i < k; ++i) z += x[r * k + i] * w[i * u + j];
      if (fabsf(z) < gap || fabsf(fabsf(z) - 2.5f) < gap) return false;
    }
  return true;
}

Test(grad, dense) {
  const int64_t sx2[2] = {3, 5}, sx3[3] = {2, 3, 5}, sx1[2] = {1, 5}, sk[2] = {5, 4}, sb[1] = {4};
  const int64_t *xs[3] = {sx2, sx3, sx1};
  const int ranks[3] = {2, 3, 2};
  for (int a = LOOM_LINEAR; a < LOOM_ACTIVATION_COUNT; ++a)
    for (int withb = 0; withb < 2; ++withb)
      for (int s = 0; s < 3; ++s) {
        dense_case dc = {(loom_activation)a, withb};
        loom_tensor *in[3];
        /* kinked activations: inputs whose pre-activations lie off the kinks by more than
         * the finite difference's reach */
        const bool kinked = a == LOOM_RELU || a == LOOM_RELU6 || a == LOOM_LEAKY_RELU ||
                            a == LOOM_SELU || a == LOOM_HARD_SIGMOID ||
                            a == LOOM_SOFTSIGN; /* its curvature jumps at 0 */
        for (uint64_t seed = 70 + a;; seed += 100) {
          in[0] = T(ranks[s], xs[s], seed), in[1] = T(2, sk, 80 + s), in[2] = T(1, sb, 90);
          if (!kinked || off_kinks(in, withb, 0.06f)) break;
        }
        char name[48];
        snprintf(name, sizeof name, "dense activation %d shape %d", a, s);
        gc_check(name, apply_dense, in, withb ? 3 : 2, &dc);
      }
}

/* The fused layer computes what the separate ops compute. */
Test(grad, dense_matches_matmul_add_activation) {
  const int64_t sx[2] = {7, 33}, sk[2] = {33, 17}, sb[1] = {17};
  loom_tensor *x = T(2, sx, 1), *k = T(2, sk, 2), *b = T(1, sb, 3);
  loom_ctx *cx = loom_ctx_new(NULL);
  un_op acts[LOOM_SOFTMAX + 1] = {[LOOM_RELU] = loom_relu, [LOOM_SIGMOID] = loom_sigmoid, [LOOM_TANH] = loom_tanh,
                                 [LOOM_SOFTMAX] = loom_softmax};
  for (int a = LOOM_LINEAR; a <= LOOM_SOFTMAX; ++a) {
    loom_tensor *fused = loom_dense(cx, x, k, b, (loom_activation)a);
    loom_tensor *z = loom_add(cx, loom_matmul(cx, x, k), b);
    loom_tensor *ref = a == LOOM_LINEAR ? z : acts[a](cx, z);
    cr_assert(fused && ref, "%s", loom_ctx_error(cx));
    for (int64_t i = 0; i < fused->size; ++i)
      cr_assert(tu_close(loom_tensor_f32(fused)[i], loom_tensor_f32(ref)[i], 1e-5, 1e-5),
                "act %d [%lld]", a, (long long)i);
  }
  loom_ctx_free(cx);
}

static loom_tensor *apply_prelu(loom_ctx *cx, loom_tensor **in, void *user) {
  (void)user;
  return loom_prelu(cx, in[0], in[1]);
}
Test(grad, prelu) {
  const int64_t sx[4] = {2, 3, 4, 5}, sa_full[3] = {3, 4, 5}, sa_shared[3] = {1, 1, 5},
                sa_mid[3] = {3, 1, 1}, sx2[2] = {7, 1}, sa1[1] = {1};
  const struct { int rx; const int64_t *x; int ra; const int64_t *a; } cases[] = {
      {4, sx, 3, sa_full}, {4, sx, 3, sa_shared}, {4, sx, 3, sa_mid}, {2, sx2, 1, sa1}};
  for (int c = 0; c < 4; ++c) {
    loom_tensor *in[2] = {T(cases[c].rx, cases[c].x, 200 + c), T(cases[c].ra, cases[c].a, 210 + c)};
    tu_fill_away(loom_tensor_f32(in[0]), (size_t)in[0]->size, -2, 2, 0.05f, 220 + c);
    gc_check("prelu", apply_prelu, in, 2, NULL);
  }
}

static loom_tensor *apply_softmax_axis(loom_ctx *cx, loom_tensor **in, void *axis) {
  return loom_softmax_axis(cx, in[0], *(const int *)axis);
}
Test(grad, softmax_axis) {
  const int64_t s[4] = {2, 3, 4, 5}, s1[2] = {1, 7};
  for (int axis = -4; axis < 4; ++axis) {
    loom_tensor *x = T(4, s, 230 + axis);
    gc_check("softmax_axis", apply_softmax_axis, &x, 1, &axis);
  }
  const int zero = 0;
  loom_tensor *x = T(2, s1, 240);
  gc_check("softmax_axis 0 of [1, 7]", apply_softmax_axis, &x, 1, (void *)&zero);
}

/* Average, Maximum, Minimum of three inputs whose elements differ by >= 0.2 (no ties
 * within the finite difference's reach). */
typedef loom_tensor *(*nary_op)(loom_ctx *, int, loom_tensor *const *);
static loom_tensor *apply_nary(loom_ctx *cx, loom_tensor **in, void *op) { return ((nary_op)op)(cx, 3, in); }
Test(grad, average_maximum_minimum) {
  const int64_t s[3] = {2, 3, 5};
  const nary_op ops[3] = {loom_average_n, loom_maximum_n, loom_minimum_n};
  for (int o = 0; o < 3; ++o) {
    loom_tensor *in[3], *base = T(3, s, 300 + o);
    for (int i = 0; i < 3; ++i) {
      in[i] = T(3, s, 310 + i);
      for (int64_t j = 0; j < base->size; ++j)
        loom_tensor_f32(in[i])[j] = loom_tensor_f32(base)[j] + 0.2f * (float)((i + j) % 3);
    }
    gc_check(o == 0 ? "average" : o == 1 ? "maximum" : "minimum", apply_nary, in, 3, (void *)ops[o]);
  }
}
