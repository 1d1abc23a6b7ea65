/* test_kernels.c - every kernel against its scalar reference, on awkward lengths and
 * unaligned pointers, on whichever SIMD target LOOM_SIMD selects for this run. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "simd/ref.h"
#include "simd/simd.h"

static const size_t lengths[] = {0, 1, 3, 7, 15, 16, 17, 33, 63, 64, 65, 1000, 70001};
#define N_LENGTHS (sizeof lengths / sizeof lengths[0])
#define ATOL 1e-6
#define RTOL 2e-6

/* Buffers with room for a one-float offset, so kernels also see unaligned pointers. */
typedef struct {
  float *a, *b, *y, *want;
} bufs;

static bufs bufs_new(size_t n, size_t off, float lo, float hi) {
  bufs B;
  float **all[] = {&B.a, &B.b, &B.y, &B.want};
  for (int i = 0; i < 4; ++i) *all[i] = (float *)malloc((n + 1) * sizeof(float)) + off;
  tu_fill(B.a, n, lo, hi, 1);
  tu_fill(B.b, n, lo, hi, 2);
  tu_fill(B.y, n, -1.0f, 1.0f, 3);
  memcpy(B.want, B.y, n * sizeof(float));
  return B;
}

static void bufs_free(bufs B, size_t off) {
  free(B.a - off);
  free(B.b - off);
  free(B.y - off);
  free(B.want - off);
}

static void expect_close(const char *what, const float *got, const float *want, size_t n,
                         size_t off) {
  for (size_t i = 0; i < n; ++i)
    cr_assert(tu_close(got[i], want[i], ATOL, RTOL), "%s n=%zu off=%zu [%zu]: got %.9g want %.9g",
              what, n, off, i, got[i], want[i]);
}

typedef void (*map1_fn)(const float *, float *, size_t);
typedef void (*map3_fn)(const float *, const float *, float *, size_t);

static void check_map1(const char *what, map1_fn k, map1_fn ref, float lo, float hi) {
  for (size_t off = 0; off < 2; ++off)
    for (size_t li = 0; li < N_LENGTHS; ++li) {
      const size_t n = lengths[li];
      bufs B = bufs_new(n, off, lo, hi);
      k(B.a, B.y, n);
      ref(B.a, B.want, n);
      expect_close(what, B.y, B.want, n, off);
      k(B.a, B.a, n); /* in place */
      expect_close(what, B.a, B.want, n, off);
      bufs_free(B, off);
    }
}

/* Binary maps (y = f(a, b)) and accumulations (y += ...) alike: y starts random. */
static void check_map3(const char *what, map3_fn k, map3_fn ref, float lo, float hi) {
  for (size_t off = 0; off < 2; ++off)
    for (size_t li = 0; li < N_LENGTHS; ++li) {
      const size_t n = lengths[li];
      bufs B = bufs_new(n, off, lo, hi);
      k(B.a, B.b, B.y, n);
      ref(B.a, B.b, B.want, n);
      expect_close(what, B.y, B.want, n, off);
      bufs_free(B, off);
    }
}

Test(kernels, add) { check_map3("add", lm_k_add, lm_ref_add, -10, 10); }
Test(kernels, sub) { check_map3("sub", lm_k_sub, lm_ref_sub, -10, 10); }
Test(kernels, mul) { check_map3("mul", lm_k_mul, lm_ref_mul, -10, 10); }
Test(kernels, mul_acc) { check_map3("mul_acc", lm_k_mul_acc, lm_ref_mul_acc, -2, 2); }
Test(kernels, relu_grad) { check_map3("relu_grad", lm_k_relu_grad, lm_ref_relu_grad, -2, 2); }
Test(kernels, sigmoid_grad) {
  check_map3("sigmoid_grad", lm_k_sigmoid_grad, lm_ref_sigmoid_grad, 0, 1);
}
Test(kernels, tanh_grad) { check_map3("tanh_grad", lm_k_tanh_grad, lm_ref_tanh_grad, -1, 1); }
Test(kernels, relu) { check_map1("relu", lm_k_relu, lm_ref_relu, -5, 5); }
Test(kernels, sigmoid) { check_map1("sigmoid", lm_k_sigmoid, lm_ref_sigmoid, -20, 20); }
Test(kernels, tanh) { check_map1("tanh", lm_k_tanh, lm_ref_tanh, -10, 10); }
Test(kernels, exp) { check_map1("exp", lm_k_exp, lm_ref_exp, -40, 40); }
Test(kernels, log) { check_map1("log", lm_k_log, lm_ref_log, 1e-3f, 1e3f); }

/* Kernels with a scalar argument: y = f(c, x[, y]). */
typedef void (*scalar_fn)(float, const float *, float *, size_t);
static void check_scalar(const char *what, scalar_fn k, scalar_fn ref, float c) {
  for (size_t off = 0; off < 2; ++off)
    for (size_t li = 0; li < N_LENGTHS; ++li) {
      const size_t n = lengths[li];
      bufs B = bufs_new(n, off, -3, 3);
      k(c, B.a, B.y, n);
      ref(c, B.a, B.want, n);
      expect_close(what, B.y, B.want, n, off);
      bufs_free(B, off);
    }
}
Test(kernels, axpy) { check_scalar("axpy", lm_k_axpy, lm_ref_axpy, -0.75f); }
Test(kernels, scale) { check_scalar("scale", lm_k_scale, lm_ref_scale, 1.5f); }
Test(kernels, add_scalar) { check_scalar("add_scalar", lm_k_add_scalar, lm_ref_add_scalar, 0.25f); }

Test(kernels, fill) {
  for (size_t off = 0; off < 2; ++off)
    for (size_t li = 0; li < N_LENGTHS; ++li) {
      const size_t n = lengths[li];
      bufs B = bufs_new(n + 1, off, 0, 1);
      const float guard = B.y[n];
      lm_k_fill(2.5f, B.y, n);
      lm_ref_fill(2.5f, B.want, n);
      expect_close("fill", B.y, B.want, n, off);
      cr_assert_eq(B.y[n], guard, "fill wrote past the end (n=%zu)", n);
      bufs_free(B, off);
    }
}

Test(kernels, tails_do_not_write_past_the_end) {
  for (size_t n = 0; n < 70; ++n) {
    float *x = malloc((n + 8) * sizeof(float)), *y = malloc((n + 8) * sizeof(float));
    tu_fill(x, n + 8, -1, 1, 9);
    for (size_t i = 0; i < n + 8; ++i) y[i] = 123.0f;
    lm_k_exp(x, y, n);
    lm_k_add(x, x, y, n);
    lm_k_mul_acc(x, x, y, n);
    for (size_t i = n; i < n + 8; ++i) cr_assert_eq(y[i], 123.0f, "n=%zu wrote y[%zu]", n, i);
    free(x);
    free(y);
  }
}

Test(kernels, sum_and_max) {
  for (size_t off = 0; off < 2; ++off)
    for (size_t li = 0; li < N_LENGTHS; ++li) {
      const size_t n = lengths[li];
      bufs B = bufs_new(n, off, -1, 1);
      double abs_sum = 0.0;
      for (size_t i = 0; i < n; ++i) abs_sum += fabs(B.a[i]);
      const float s = lm_k_sum(B.a, n), rs = lm_ref_sum(B.a, n);
      cr_assert(fabs(s - rs) <= 1e-6 + 1e-6 * abs_sum, "sum n=%zu: %.9g vs %.9g", n, s, rs);
      cr_assert_eq(lm_k_max(B.a, n), lm_ref_max(B.a, n), "max n=%zu", n);
      bufs_free(B, off);
    }
  cr_assert_eq(lm_k_sum(NULL, 0), 0.0f);
  cr_assert(isinf(lm_k_max(NULL, 0)) && lm_k_max(NULL, 0) < 0);
}

Test(kernels, max_finds_the_last_and_first_element) {
  float x[1000];
  for (size_t n = 1; n <= 1000; n = n * 3 + 1) {
    tu_fill(x, n, -1, 0, 4);
    x[n - 1] = 5.0f;
    cr_assert_eq(lm_k_max(x, n), 5.0f, "n=%zu", n);
    x[n - 1] = -2.0f;
    x[0] = 7.0f;
    cr_assert_eq(lm_k_max(x, n), 7.0f, "n=%zu", n);
  }
}

static const size_t shapes[][2] = {{1, 1}, {1, 7}, {3, 15}, {4, 16}, {2, 17}, {33, 10},
                                   {7, 1000}, {1000, 3}, {5, 70001}};

Test(kernels, softmax) {
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; ++s) {
    const size_t rows = shapes[s][0], cols = shapes[s][1], n = rows * cols;
    for (size_t off = 0; off < 2; ++off) {
      bufs B = bufs_new(n, off, -30, 30);
      lm_k_softmax(B.a, B.y, rows, cols);
      lm_ref_softmax(B.a, B.want, rows, cols);
      expect_close("softmax", B.y, B.want, n, off);
      for (size_t r = 0; r < rows; ++r)
        cr_assert(fabs(lm_ref_sum(B.y + r * cols, cols) - 1.0) < 1e-4, "row %zu sums to 1", r);
      bufs_free(B, off);
    }
  }
}

Test(kernels, softmax_is_stable_for_large_inputs) {
  float x[5] = {1000.0f, 1001.0f, 999.0f, -1000.0f, 1001.0f}, y[5], want[5];
  lm_k_softmax(x, y, 1, 5);
  lm_ref_softmax(x, want, 1, 5);
  for (int i = 0; i < 5; ++i) cr_assert(isfinite(y[i]) && tu_close(y[i], want[i], ATOL, RTOL));
}

Test(kernels, softmax_grad) {
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; ++s) {
    const size_t rows = shapes[s][0], cols = shapes[s][1], n = rows * cols;
    bufs B = bufs_new(n, 1, -1, 1);
    float *sm = malloc(n * sizeof(float) + 1);
    lm_ref_softmax(B.a, sm, rows, cols);
    lm_k_softmax_grad(sm, B.b, B.y, rows, cols);
    lm_ref_softmax_grad(sm, B.b, B.want, rows, cols);
    expect_close("softmax_grad", B.y, B.want, n, 1);
    free(sm);
    bufs_free(B, 1);
  }
}

Test(kernels, special_values) {
  float x[6] = {-100.0f, 100.0f, 0.0f, -0.0f, 88.0f, -88.0f}, y[6], want[6];
  lm_k_sigmoid(x, y, 6);
  lm_ref_sigmoid(x, want, 6);
  for (int i = 0; i < 6; ++i)
    cr_assert(tu_close(y[i], want[i], ATOL, RTOL), "sigmoid(%g) = %g, want %g", x[i], y[i], want[i]);
  lm_k_tanh(x, y, 6);
  lm_ref_tanh(x, want, 6);
  for (int i = 0; i < 6; ++i)
    cr_assert(tu_close(y[i], want[i], ATOL, RTOL), "tanh(%g) = %g, want %g", x[i], y[i], want[i]);
  lm_k_relu(x, y, 6);
  cr_assert(y[0] == 0.0f && y[1] == 100.0f && y[2] == 0.0f);
}

/* The sigmoid and tanh every kernel shares (simd/fastmath-inl.h), densely over the range
 * where they are not saturated, against double precision: the bound its header states. */
Test(kernels, sigmoid_tanh_accuracy) {
  const size_t n = 400001;
  float *x = malloc(n * sizeof(float)), *s = malloc(n * sizeof(float)), *t = malloc(n * sizeof(float));
  for (size_t i = 0; i < n; ++i) x[i] = -20.0f + 1e-4f * (float)i;
  lm_k_sigmoid(x, s, n);
  lm_k_tanh(x, t, n);
  for (size_t i = 0; i < n; ++i) {
    const double ws = 1.0 / (1.0 + exp(-(double)x[i])), wt = tanh((double)x[i]);
    cr_assert(fabs(s[i] - ws) <= 3e-7 * ws, "sigmoid(%.9g) = %.9g, want %.9g", x[i], s[i], ws);
    cr_assert(fabs(t[i] - wt) <= 3e-7 * fmax(fabs(wt), 1e-30), "tanh(%.9g) = %.9g, want %.9g", x[i], t[i], wt);
  }
  free(x);
  free(s);
  free(t);
}

Test(kernels, sigmoid_tanh_non_finite_and_tiny) {
  const float x[8] = {NAN, INFINITY, -INFINITY, 1e-30f, -1e-30f, 1e-8f, 0.3f, -0.29999f};
  float s[8], t[8];
  lm_k_sigmoid(x, s, 8);
  lm_k_tanh(x, t, 8);
  cr_assert(isnan(s[0]) && isnan(t[0]), "NaN must stay NaN: sigmoid %g tanh %g", s[0], t[0]);
  cr_assert(s[1] == 1.0f && t[1] == 1.0f && s[2] >= 0.0f && s[2] < 1e-37f && t[2] == -1.0f);
  for (int i = 3; i < 8; ++i) {
    const double ws = 1.0 / (1.0 + exp(-(double)x[i])), wt = tanh((double)x[i]);
    cr_assert(fabs(s[i] - ws) <= 3e-7 * ws, "sigmoid(%g) = %.9g, want %.9g", x[i], s[i], ws);
    cr_assert(fabs(t[i] - wt) <= 3e-7 * fabs(wt), "tanh(%g) = %.9g, want %.9g", x[i], t[i], wt);
  }
}

Test(kernels, matmul_reference) {
  /* The reference itself, on a case small enough to write out. */
  const float a[6] = {1, 2, 3, 4, 5, 6};       /* 2x3 */
  const float b[6] = {7, 8, 9, 10, 11, 12};    /* 3x2 */
  const float want[4] = {58, 64, 139, 154};
  float c[4] = {0};
  lm_ref_matmul(false, false, 2, 2, 3, a, 3, b, 2, c, 2, false);
  for (int i = 0; i < 4; ++i) cr_assert_eq(c[i], want[i]);
  const float at[6] = {1, 4, 2, 5, 3, 6}; /* a stored transposed, 3x2 */
  const float bt[6] = {7, 9, 11, 8, 10, 12}; /* b stored transposed, 2x3 */
  lm_ref_matmul(true, true, 2, 2, 3, at, 2, bt, 3, c, 2, true);
  for (int i = 0; i < 4; ++i) cr_assert_eq(c[i], 2 * want[i]);
}

Test(kernels, lstm_cell_and_its_gradient) {
  const size_t units[] = {1, 3, 7, 16, 17, 33, 100};
  for (size_t k = 0; k < sizeof units / sizeof units[0]; ++k) {
    const size_t u = units[k];
    float *g = malloc(4 * u * sizeof(float)), *rg = malloc(4 * u * sizeof(float));
    float *cp = malloc(u * sizeof(float)), *cn = malloc(u * sizeof(float)), *rcn = malloc(u * sizeof(float));
    float *h = malloc(u * sizeof(float)), *rh = malloc(u * sizeof(float));
    tu_fill(g, 4 * u, -3, 3, 1 + k);
    memcpy(rg, g, 4 * u * sizeof(float));
    tu_fill(cp, u, -1, 1, 2 + k);
    lm_k_lstm_cell(g, cp, cn, h, u);
    lm_ref_lstm_cell(rg, cp, rcn, rh, u);
    expect_close("lstm gates", g, rg, 4 * u, 0);
    expect_close("lstm c", cn, rcn, u, 0);
    expect_close("lstm h", h, rh, u, 0);
    float *dh = malloc(u * sizeof(float)), *dc = malloc(u * sizeof(float)), *rdc = malloc(u * sizeof(float));
    float *dz = malloc(4 * u * sizeof(float)), *rdz = malloc(4 * u * sizeof(float));
    tu_fill(dh, u, -1, 1, 3 + k);
    tu_fill(dc, u, -1, 1, 4 + k);
    memcpy(rdc, dc, u * sizeof(float));
    lm_k_lstm_cell_grad(rg, cp, rcn, dh, dc, dz, u);
    lm_ref_lstm_cell_grad(rg, cp, rcn, dh, rdc, rdz, u);
    expect_close("lstm dz", dz, rdz, 4 * u, 0);
    expect_close("lstm dc", dc, rdc, u, 0);
    float *all[] = {g, rg, cp, cn, rcn, h, rh, dh, dc, rdc, dz, rdz};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i) free(all[i]);
  }
}

/* A GRU step's arrays with rows wider than they need (ld = width + 5), filled, and a copy
 * for the reference. */
typedef struct {
  float *k, *r;
  size_t ld, n;
} gru_arr;

static gru_arr gru_arr_new(size_t batch, size_t width, float lo, float hi, unsigned seed) {
  gru_arr x = {.ld = width + 5, .n = batch * (width + 5)};
  x.k = malloc(x.n * sizeof(float));
  x.r = malloc(x.n * sizeof(float));
  tu_fill(x.k, x.n, lo, hi, seed);
  memcpy(x.r, x.k, x.n * sizeof(float));
  return x;
}

static void gru_arr_check(const char *what, gru_arr x) {
  expect_close(what, x.k, x.r, x.n, 0); /* the padding between rows too: left as it was */
  free(x.k);
  free(x.r);
}

Test(kernels, gru_step_and_its_gradient) {
  const size_t units[] = {1, 3, 7, 16, 17, 33, 100}, batches[] = {1, 3};
  for (size_t k = 0; k < sizeof units / sizeof units[0]; ++k)
    for (size_t bi = 0; bi < 2; ++bi)
      for (int ra = 0; ra < 2; ++ra) {
        const size_t u = units[k], B = batches[bi];
        const unsigned sd = (unsigned)(10 * k + 3 * bi + ra);
        /* forward: gates, then update (a's third block as the cell sees it) */
        gru_arr a = gru_arr_new(B, 3 * u, -3, 3, sd + 1), rec = gru_arr_new(B, 3 * u, -2, 2, sd + 2);
        gru_arr hp = gru_arr_new(B, u, -1, 1, sd + 3), rh = gru_arr_new(B, u, -1, 1, sd + 4);
        gru_arr hn = gru_arr_new(B, u, -1, 1, sd + 5);
        lm_k_gru_gates(B, u, ra, a.k, a.ld, rec.k, rec.ld, ra ? NULL : hp.k, hp.ld, rh.k, rh.ld);
        lm_ref_gru_gates(B, u, ra, a.r, a.ld, rec.r, rec.ld, ra ? NULL : hp.r, hp.ld, rh.r, rh.ld);
        expect_close("gru gates", a.k, a.r, a.n, 0);
        expect_close("gru rh", rh.k, rh.r, rh.n, 0);
        lm_k_gru_update(B, u, a.k, a.ld, hp.k, hp.ld, hn.k, hn.ld);
        lm_ref_gru_update(B, u, a.r, a.ld, hp.r, hp.ld, hn.r, hn.ld);
        expect_close("gru update a", a.k, a.r, a.n, 0);
        if (ra) { /* the fused step from the same inputs equals gates then update */
          gru_arr a2 = gru_arr_new(B, 3 * u, -3, 3, sd + 1), rh2 = gru_arr_new(B, u, -1, 1, sd + 4);
          gru_arr hn2 = gru_arr_new(B, u, -1, 1, sd + 5);
          lm_k_gru_step(B, u, a2.k, a2.ld, rec.k, rec.ld, hp.k, hp.ld, rh2.k, rh2.ld, hn2.k, hn2.ld);
          expect_close("gru step a", a2.k, a.r, a.n, 0);
          expect_close("gru step rh", rh2.k, rh.r, rh.n, 0);
          expect_close("gru step h", hn2.k, hn.r, hn.n, 0);
          gru_arr done[] = {a2, rh2, hn2};
          for (int i = 0; i < 3; ++i) free(done[i].k), free(done[i].r);
        }
        /* backward from the reference's activations */
        memcpy(a.k, a.r, a.n * sizeof(float));
        memcpy(rh.k, rh.r, rh.n * sizeof(float));
        gru_arr dh = gru_arr_new(B, u, -1, 1, sd + 6), dz = gru_arr_new(B, 3 * u, -1, 1, sd + 7);
        gru_arr dhn = gru_arr_new(B, u, -1, 1, sd + 8), drec = gru_arr_new(B, 3 * u, -1, 1, sd + 9);
        gru_arr drh = gru_arr_new(B, u, -1, 1, sd + 10), drop = gru_arr_new(B, u, 0, 2, sd + 11);
        /* dh, dh_prev and drh are dense [batch, u]: use the first B u floats */
        lm_k_gru_update_grad(B, u, a.k, a.ld, hp.k, hp.ld, dh.k, dz.k, dz.ld, dhn.k);
        lm_ref_gru_update_grad(B, u, a.r, a.ld, hp.r, hp.ld, dh.r, dz.r, dz.ld, dhn.r);
        expect_close("gru update dz", dz.k, dz.r, dz.n, 0);
        expect_close("gru update dh_prev", dhn.k, dhn.r, dhn.n, 0);
        if (ra) {
          lm_k_gru_reset_after_grad(B, u, a.k, a.ld, rh.k, rh.ld, dz.k, dz.ld, drec.k, drec.ld);
          lm_ref_gru_reset_after_grad(B, u, a.r, a.ld, rh.r, rh.ld, dz.r, dz.ld, drec.r, drec.ld);
        } else {
          for (int dropped = 0; dropped < 2; ++dropped) {
            lm_k_gru_reset_grad(B, u, a.k, a.ld, hp.k, hp.ld, drh.k, dropped ? drop.k : NULL, drop.ld, dz.k, dz.ld,
                                dhn.k);
            lm_ref_gru_reset_grad(B, u, a.r, a.ld, hp.r, hp.ld, drh.r, dropped ? drop.r : NULL, drop.ld, dz.r,
                                  dz.ld, dhn.r);
          }
        }
        gru_arr all[] = {a, rec, hp, rh, hn, dh, dz, dhn, drec, drh, drop};
        const char *names[] = {"a", "rec", "hp", "rh", "hn", "dh", "dz", "dh_prev", "drec", "drh", "drop"};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i) gru_arr_check(names[i], all[i]);
      }
}

Test(kernels, scatter_add_rows) {
  /* repeated and skipped rows, dims around the 16-float split, 1..3 threads */
  static const size_t dims[] = {1, 7, 16, 17, 33, 64, 1000};
  for (size_t d = 0; d < sizeof dims / sizeof dims[0]; ++d)
    for (size_t n = 0; n <= 65; n += 13) {
      const size_t dim = dims[d], vocab = 9;
      float *src = malloc((n * dim + 1) * sizeof(float));
      float *got = malloc(vocab * dim * sizeof(float)), *want = malloc(vocab * dim * sizeof(float));
      int32_t *idx = malloc((n + 1) * sizeof(int32_t));
      tu_fill(src, n * dim, -1, 1, 3 + n);
      tu_fill(want, vocab * dim, -1, 1, 5 + d);
      memcpy(got, want, vocab * dim * sizeof(float));
      for (size_t i = 0; i < n; ++i) idx[i] = (int32_t)((i * 5) % 7); /* rows 7, 8 untouched */
      lm_ref_scatter_add_rows(src, idx, n, want, dim);
      for (int t = 1; t <= 3; ++t) {
        float *g = malloc(vocab * dim * sizeof(float));
        memcpy(g, got, vocab * dim * sizeof(float));
        loom_set_num_threads(t);
        lm_k_scatter_add_rows(src, idx, n, g, dim);
        expect_close("scatter_add_rows", g, want, vocab * dim, 0);
        free(g);
      }
      loom_set_num_threads(1);
      free(src), free(got), free(want), free(idx);
    }
}
