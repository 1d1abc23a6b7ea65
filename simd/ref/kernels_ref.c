/* kernels_ref.c - scalar references of the kernels (test code: not in libloom.a): the obvious loop, nothing clever. */
#include "simd/ref.h"

#include <math.h>

void lm_ref_add(const float *a, const float *b, float *y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
}
void lm_ref_sub(const float *a, const float *b, float *y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = a[i] - b[i];
}
void lm_ref_mul(const float *a, const float *b, float *y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = a[i] * b[i];
}
void lm_ref_axpy(float alpha, const float *x, float *y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}
void lm_ref_mul_acc(const float *a, const float *b, float *y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] += a[i] * b[i];
}
void lm_ref_scale(float alpha, const float *x, float *y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = alpha * x[i];
}
void lm_ref_add_scalar(float c, const float *x, float *y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = x[i] + c;
}
void lm_ref_fill(float v, float *y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = v;
}
void lm_ref_relu(const float *x, float *y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}
void lm_ref_sigmoid(const float *x, float *y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = 1.0f / (1.0f + expf(-x[i]));
}
void lm_ref_tanh(const float *x, float *y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = tanhf(x[i]);
}
void lm_ref_exp(const float *x, float *y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = expf(x[i]);
}
void lm_ref_log(const float *x, float *y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] = logf(x[i]);
}
void lm_ref_relu_grad(const float *x, const float *dy, float *dx, size_t n) {
  for (size_t i = 0; i < n; ++i) dx[i] += x[i] > 0.0f ? dy[i] : 0.0f;
}
void lm_ref_sigmoid_grad(const float *y, const float *dy, float *dx, size_t n) {
  for (size_t i = 0; i < n; ++i) dx[i] += dy[i] * y[i] * (1.0f - y[i]);
}
void lm_ref_tanh_grad(const float *y, const float *dy, float *dx, size_t n) {
  for (size_t i = 0; i < n; ++i) dx[i] += dy[i] * (1.0f - y[i] * y[i]);
}
float lm_ref_sum(const float *x, size_t n) {
  double s = 0.0;
  for (size_t i = 0; i < n; ++i) s += x[i];
  return (float)s;
}
float lm_ref_max(const float *x, size_t n) {
  float m = -INFINITY;
  for (size_t i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}
void lm_ref_softmax(const float *x, float *y, size_t rows, size_t cols) {
  for (size_t r = 0; r < rows; ++r) {
    const float *xr = x + r * cols;
    float *yr = y + r * cols;
    const float m = lm_ref_max(xr, cols);
    double s = 0.0;
    for (size_t j = 0; j < cols; ++j) s += (yr[j] = expf(xr[j] - m));
    for (size_t j = 0; j < cols; ++j) yr[j] = (float)(yr[j] / s);
  }
}
void lm_ref_softmax_grad(const float *y, const float *dy, float *dx, size_t rows, size_t cols) {
  for (size_t r = 0; r < rows; ++r) {
    const float *yr = y + r * cols, *gr = dy + r * cols;
    double dot = 0.0;
    for (size_t j = 0; j < cols; ++j) dot += (double)yr[j] * gr[j];
    for (size_t j = 0; j < cols; ++j) dx[r * cols + j] += yr[j] * (gr[j] - (float)dot);
  }
}
void lm_ref_matmul(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, const float *a,
                   size_t lda, const float *b, size_t ldb, float *c, size_t ldc, bool accumulate) {
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) {
      double s = 0.0;
      for (size_t p = 0; p < k; ++p) {
        const float av = trans_a ? a[p * lda + i] : a[i * lda + p];
        const float bv = trans_b ? b[j * ldb + p] : b[p * ldb + j];
        s += (double)av * bv;
      }
      c[i * ldc + j] = accumulate ? c[i * ldc + j] + (float)s : (float)s;
    }
}

static float ref_sigmoid(float z) { return 1.0f / (1.0f + expf(-z)); }

void lm_ref_lstm_cell(float *gates, const float *c_prev, float *c_now, float *h_now, size_t u) {
  for (size_t j = 0; j < u; ++j) {
    const float i = ref_sigmoid(gates[j]), f = ref_sigmoid(gates[u + j]);
    const float g = tanhf(gates[2 * u + j]), o = ref_sigmoid(gates[3 * u + j]);
    gates[j] = i;
    gates[u + j] = f;
    gates[2 * u + j] = g;
    gates[3 * u + j] = o;
    c_now[j] = f * c_prev[j] + i * g;
    h_now[j] = o * tanhf(c_now[j]);
  }
}

void lm_ref_lstm_cell_grad(const float *gates, const float *c_prev, const float *c_now,
                           const float *dh, float *dc, float *dz, size_t u) {
  for (size_t j = 0; j < u; ++j) {
    const float i = gates[j], f = gates[u + j], g = gates[2 * u + j], o = gates[3 * u + j];
    const float th = tanhf(c_now[j]);
    const float dcj = dc[j] + dh[j] * o * (1.0f - th * th);
    dz[j] = dcj * g * i * (1.0f - i);
    dz[u + j] = dcj * c_prev[j] * f * (1.0f - f);
    dz[2 * u + j] = dcj * i * (1.0f - g * g);
    dz[3 * u + j] = dh[j] * th * o * (1.0f - o);
    dc[j] = dcj * f;
  }
}

void lm_ref_gru_gates(size_t batch, size_t u, bool reset_after, float *a, size_t lda, const float *rec,
                      size_t ldrec, const float *hp, size_t ldhp, float *rh, size_t ldrh) {
  for (size_t b = 0; b < batch; ++b) {
    float *ab = a + b * lda, *rhb = rh + b * ldrh;
    const float *rb = rec + b * ldrec;
    for (size_t j = 0; j < u; ++j) {
      ab[j] = ref_sigmoid(ab[j] + rb[j]);
      ab[u + j] = ref_sigmoid(ab[u + j] + rb[u + j]);
      if (reset_after) {
        rhb[j] = rb[2 * u + j];
        ab[2 * u + j] += ab[u + j] * rhb[j];
      } else {
        rhb[j] = ab[u + j] * hp[b * ldhp + j];
      }
    }
  }
}

void lm_ref_gru_update(size_t batch, size_t u, float *a, size_t lda, const float *hp, size_t ldhp, float *h_now,
                       size_t ldhn) {
  for (size_t b = 0; b < batch; ++b)
    for (size_t j = 0; j < u; ++j) {
      float *ab = a + b * lda;
      const float hh = tanhf(ab[2 * u + j]);
      ab[2 * u + j] = hh;
      h_now[b * ldhn + j] = hh + ab[j] * (hp[b * ldhp + j] - hh);
    }
}

void lm_ref_gru_update_grad(size_t batch, size_t u, const float *a, size_t lda, const float *hp, size_t ldhp,
                            const float *dh, float *dz, size_t lddz, float *dh_prev) {
  for (size_t b = 0; b < batch; ++b)
    for (size_t j = 0; j < u; ++j) {
      const float z = a[b * lda + j], hh = a[b * lda + 2 * u + j], g = dh[b * u + j];
      dz[b * lddz + 2 * u + j] = g * (1.0f - z) * (1.0f - hh * hh);
      dz[b * lddz + j] = g * (hp[b * ldhp + j] - hh) * z * (1.0f - z);
      dh_prev[b * u + j] = g * z;
    }
}

void lm_ref_gru_reset_after_grad(size_t batch, size_t u, const float *a, size_t lda, const float *rh,
                                 size_t ldrh, float *dz, size_t lddz, float *drec, size_t lddrec) {
  for (size_t b = 0; b < batch; ++b)
    for (size_t j = 0; j < u; ++j) {
      float *dzb = dz + b * lddz, *drb = drec + b * lddrec;
      const float r = a[b * lda + u + j], g = dzb[2 * u + j];
      dzb[u + j] = g * rh[b * ldrh + j] * r * (1.0f - r);
      drb[j] = dzb[j];
      drb[u + j] = dzb[u + j];
      drb[2 * u + j] = g * r;
    }
}

void lm_ref_gru_reset_grad(size_t batch, size_t u, const float *a, size_t lda, const float *hp, size_t ldhp,
                           const float *drh, const float *drop, size_t lddrop, float *dz, size_t lddz,
                           float *dh_prev) {
  for (size_t b = 0; b < batch; ++b)
    for (size_t j = 0; j < u; ++j) {
      const float r = a[b * lda + u + j], g = drh[b * u + j];
      dz[b * lddz + u + j] = g * hp[b * ldhp + j] * r * (1.0f - r);
      dh_prev[b * u + j] += g * r * (drop ? drop[b * lddrop + j] : 1.0f);
    }
}

void lm_ref_scatter_add_rows(const float *src, const int32_t *idx, size_t n, float *dst,
                             size_t dim) {
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < dim; ++j) dst[(size_t)idx[i] * dim + j] += src[i * dim + j];
}

void lm_ref_bn_col_sums(const float *x, const float *center, size_t rows, size_t c, double *tot) {
  for (size_t i = 0; i < rows; ++i)
    for (size_t j = 0; j < c; ++j) {
      const double v = center ? (double)x[i * c + j] - center[j] : x[i * c + j];
      tot[j] += center ? v * v : v;
    }
}

/* dy where y > 0 (or everywhere without y) */
static double masked(const float *dy, const float *y, size_t k) { return y && !(y[k] > 0.0f) ? 0.0 : dy[k]; }

void lm_ref_bn_grad_sums(const float *dy, const float *x, const float *y, size_t rows, size_t c,
                         double *sum_dy, double *sum_dyx) {
  for (size_t i = 0; i < rows; ++i)
    for (size_t j = 0; j < c; ++j) {
      const double g = masked(dy, y, i * c + j);
      sum_dy[j] += g, sum_dyx[j] += g * x[i * c + j];
    }
}

void lm_ref_bn_apply(const float *x, const float *scale, const float *shift, float *y, size_t rows,
                     size_t c, bool relu) {
  for (size_t i = 0; i < rows; ++i)
    for (size_t j = 0; j < c; ++j) {
      const double v = (double)scale[j] * x[i * c + j] + shift[j];
      y[i * c + j] = (float)(relu && v < 0 ? 0.0 : v);
    }
}

void lm_ref_bn_grad_input(const float *dy, const float *x, const float *y, const float *p, const float *q,
                          const float *u, float *gx, size_t rows, size_t c) {
  for (size_t i = 0; i < rows; ++i)
    for (size_t j = 0; j < c; ++j) {
      double v = gx[i * c + j] + (double)p[j] * masked(dy, y, i * c + j);
      if (q) v += (double)q[j] * x[i * c + j] + u[j];
      gx[i * c + j] = (float)v;
    }
}

void lm_ref_max_update(const float *x, float *best, int32_t *where, int32_t base, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (x[i] > best[i]) best[i] = x[i], where[i] = base + (int32_t)i;
}
