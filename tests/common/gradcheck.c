/* gradcheck.c - finite-difference gradient checks against loom_backward_from. */
#include "common/gradcheck.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define GC_EPS 1e-2f
#define GC_ATOL 2e-3
#define GC_RTOL 2e-2
#define GC_SAMPLES 64

static double weighted_output(loom_ctx *cx, gc_fn f, loom_tensor **in, void *user,
                              const float *w) {
  loom_ctx_reset(cx);
  loom_tensor *out = f(cx, in, user);
  cr_assert(out, "forward failed: %s", loom_ctx_error(cx));
  const float *y = loom_tensor_f32(out);
  double s = 0.0;
  for (int64_t i = 0; i < out->size; ++i) s += (double)w[i] * y[i];
  return s;
}

void gc_check(const char *name, gc_fn f, loom_tensor **in, int n_in, void *user) {
  loom_ctx *cx = loom_ctx_new(NULL);
  cr_assert(cx);
  for (int i = 0; i < n_in; ++i)
    if (in[i]->dtype == LOOM_F32) loom_tensor_set_requires_grad(in[i], true);

  /* analytic */
  loom_ctx_set_training(cx, true);
  loom_tensor *out = f(cx, in, user);
  cr_assert(out, "%s: forward failed: %s", name, loom_ctx_error(cx));
  float *w = malloc((size_t)out->size * sizeof *w + 1);
  tu_fill(w, (size_t)out->size, -1.0f, 1.0f, 7);
  cr_assert_eq(loom_backward_from(cx, out, w), LOOM_OK, "%s: backward: %s", name,
               loom_ctx_error(cx));
  float *grads[8] = {0};
  cr_assert(n_in <= 8);
  for (int i = 0; i < n_in; ++i) {
    if (in[i]->dtype != LOOM_F32) continue;
    grads[i] = calloc((size_t)in[i]->size + 1, sizeof(float));
    if (in[i]->grad) memcpy(grads[i], in[i]->grad, (size_t)in[i]->size * sizeof(float));
  }

  /* numeric, in inference mode */
  loom_ctx_set_training(cx, false);
  for (int i = 0; i < n_in; ++i) {
    if (!grads[i]) continue;
    float *x = loom_tensor_f32(in[i]);
    const int64_t n = in[i]->size;
    const int64_t step = n > GC_SAMPLES ? n / GC_SAMPLES : 1;
    for (int64_t j = 0; j < n; j += step) {
      const float keep = x[j];
      x[j] = keep + GC_EPS;
      const double lp = weighted_output(cx, f, in, user, w);
      x[j] = keep - GC_EPS;
      const double lm = weighted_output(cx, f, in, user, w);
      x[j] = keep;
      const double num = (lp - lm) / (2.0 * GC_EPS);
      cr_assert(tu_close(grads[i][j], num, GC_ATOL, GC_RTOL),
                "%s: d/d input %d [%lld]: backward %.6g, finite difference %.6g", name, i,
                (long long)j, grads[i][j], num);
    }
    free(grads[i]);
  }
  free(w);
  loom_ctx_free(cx);
}
