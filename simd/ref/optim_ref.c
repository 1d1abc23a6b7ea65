/* optim_ref.c - scalar references of the optimiser updates. */
#include <math.h>

#include "simd/optim.h"

void lm_ref_sgd(float *w, const float *g, float *v, size_t n, float lr, float momentum,
                bool nesterov) {
  for (size_t i = 0; i < n; ++i) {
    if (momentum == 0.0f) {
      w[i] -= lr * g[i];
      continue;
    }
    v[i] = momentum * v[i] - lr * g[i];
    w[i] += nesterov ? momentum * v[i] - lr * g[i] : v[i];
  }
}

void lm_ref_rmsprop(float *w, const float *g, float *ms, size_t n, float lr, float rho, float eps) {
  for (size_t i = 0; i < n; ++i) {
    ms[i] = rho * ms[i] + (1.0f - rho) * g[i] * g[i];
    w[i] -= lr * g[i] / (sqrtf(ms[i]) + eps);
  }
}

void lm_ref_adam(float *w, const float *g, float *m, float *v, size_t n, float lr, float b1,
                 float b2, float eps, long t) {
  const float lr_t = (float)(lr * sqrt(1.0 - pow(b2, (double)t)) / (1.0 - pow(b1, (double)t)));
  for (size_t i = 0; i < n; ++i) {
    m[i] = b1 * m[i] + (1.0f - b1) * g[i];
    v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
    w[i] -= lr_t * m[i] / (sqrtf(v[i]) + eps);
  }
}
