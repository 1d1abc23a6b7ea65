/* test_optim.c - optimiser kernels against their references on awkward lengths, and
 * against Keras' update formulas worked by hand. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "simd/optim.h"

static const size_t lengths[] = {0, 1, 3, 15, 16, 17, 33, 1000, 70001};

/* Runs three steps of kernel and reference from the same state and compares all arrays. */
static void compare(int which) {
  for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; ++li) {
    const size_t n = lengths[li];
    float *buf = malloc((8 * n + 8) * sizeof(float));
    float *w = buf, *g = w + n, *a = g + n, *b = a + n, *rw = b + n, *ra = rw + n, *rb = ra + n;
    tu_fill(w, n, -1, 1, 1);
    tu_fill(g, n, -1, 1, 2);
    memset(a, 0, n * sizeof(float));
    memset(b, 0, n * sizeof(float));
    memcpy(rw, w, n * sizeof(float));
    memcpy(ra, a, n * sizeof(float));
    memcpy(rb, b, n * sizeof(float));
    for (long t = 1; t <= 3; ++t) {
      switch (which) {
        case 0: lm_k_sgd(w, g, NULL, n, 0.1f, 0.0f, false); lm_ref_sgd(rw, g, NULL, n, 0.1f, 0.0f, false); break;
        case 1: lm_k_sgd(w, g, a, n, 0.1f, 0.9f, false); lm_ref_sgd(rw, g, ra, n, 0.1f, 0.9f, false); break;
        case 2: lm_k_sgd(w, g, a, n, 0.1f, 0.9f, true); lm_ref_sgd(rw, g, ra, n, 0.1f, 0.9f, true); break;
        case 3: lm_k_rmsprop(w, g, a, n, 1e-3f, 0.9f, 1e-7f); lm_ref_rmsprop(rw, g, ra, n, 1e-3f, 0.9f, 1e-7f); break;
        default:
          lm_k_adam(w, g, a, b, n, 1e-3f, 0.9f, 0.999f, 1e-7f, t);
          lm_ref_adam(rw, g, ra, rb, n, 1e-3f, 0.9f, 0.999f, 1e-7f, t);
      }
    }
    for (size_t i = 0; i < n; ++i) {
      cr_assert(tu_close(w[i], rw[i], 1e-6, 1e-5), "opt %d n=%zu w[%zu] %g vs %g", which, n, i, w[i], rw[i]);
      cr_assert(tu_close(a[i], ra[i], 1e-7, 1e-5), "opt %d n=%zu slot[%zu]", which, n, i);
      cr_assert(tu_close(b[i], rb[i], 1e-9, 1e-5), "opt %d n=%zu slot2[%zu]", which, n, i);
    }
    free(buf);
  }
}

Test(optim, sgd) { compare(0); }
Test(optim, sgd_momentum) { compare(1); }
Test(optim, sgd_nesterov) { compare(2); }
Test(optim, rmsprop) { compare(3); }
Test(optim, adam) { compare(4); }

Test(optim, keras_formulas_by_hand) {
  float w = 1.0f, g = 0.5f, v = 0.0f, m = 0.0f;
  lm_k_sgd(&w, &g, NULL, 1, 0.1f, 0.0f, false);
  cr_assert_float_eq(w, 0.95f, 1e-7f);
  w = 1.0f;
  lm_k_sgd(&w, &g, &v, 1, 0.1f, 0.9f, false); /* v = -0.05 */
  lm_k_sgd(&w, &g, &v, 1, 0.1f, 0.9f, false); /* v = -0.095 */
  cr_assert_float_eq(w, 0.855f, 1e-6f);
  w = 1.0f;
  v = 0.0f;
  lm_k_sgd(&w, &g, &v, 1, 0.1f, 0.9f, true); /* w += 0.9 * -0.05 - 0.05 */
  cr_assert_float_eq(w, 0.905f, 1e-6f);
  w = 1.0f;
  v = 0.0f;
  lm_k_rmsprop(&w, &g, &v, 1, 1e-3f, 0.9f, 1e-7f); /* ms = 0.025 */
  cr_assert_float_eq(w, 1.0f - 1e-3f * 0.5f / (0.15811388f + 1e-7f), 1e-7f);
  w = 1.0f;
  v = 0.0f;
  lm_k_adam(&w, &g, &m, &v, 1, 1e-3f, 0.9f, 0.999f, 1e-7f, 1); /* Adam's first step is lr */
  cr_assert_float_eq(w, 0.999f, 1e-6f);
  cr_assert_float_eq(m, 0.05f, 1e-7f); /* (1 - 0.9f) is not 0.1 exactly */
  cr_assert_float_eq(v, 0.00025f, 1e-8f);
}
