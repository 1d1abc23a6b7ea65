/* batch_norm.c - batch normalisation over the last axis (Keras' BatchNormalization,
 * axis -1): forward and backward.
 * Training: each channel is normalised with the batch's mean and (biased) variance over
 * every other axis, y = gamma (x - mean) / sqrt(var + eps) + beta, and the moving
 * statistics move as Keras moves them, moving -= (moving - batch) * (1 - momentum), with
 * the biased variance (Keras removes the Bessel correction fused_batch_norm applies).
 * Inference: the moving statistics, and nothing is updated.
 * Per-channel sums run a block of rows at a time in float vectors (the row kernels),
 * each block's partial then added into double, in order: fast, accurate and the same
 * for any thread count. */
#include <math.h>
#include <string.h>

#include "ops/ops.h"
#include "simd/simd.h"

#define LM_BN_BLOCK 64 /* rows summed in float before going into the double totals */

/* tot[j] += sum over rows of a[i][j] (b NULL), of a[i][j] * b[i][j], or with center
 * given, of (a[i][j] - center[j])^2; part and tmp: c floats each. */
static void column_sums(const float *a, const float *b, const float *center, size_t rows, size_t c,
                        float *part, float *tmp, double *tot) {
  for (size_t r0 = 0; r0 < rows; r0 += LM_BN_BLOCK) {
    const size_t r1 = r0 + LM_BN_BLOCK < rows ? r0 + LM_BN_BLOCK : rows;
    memset(part, 0, c * sizeof(float));
    for (size_t i = r0; i < r1; ++i) {
      if (center) {
        lm_k_sub(a + i * c, center, tmp, c);
        lm_k_mul_acc(tmp, tmp, part, c);
      } else if (b) {
        lm_k_mul_acc(a + i * c, b + i * c, part, c);
      } else {
        lm_k_add(part, a + i * c, part, c);
      }
    }
    for (size_t j = 0; j < c; ++j) tot[j] += part[j];
  }
}

/* y[i] (+)= p * x[i] + q over rows, with per-channel p, q (y may be x when not adding). */
static void affine_rows(const float *x, const float *p, const float *q, float *y, size_t rows, size_t c,
                        bool add) {
  for (size_t i = 0; i < rows; ++i) {
    float *yr = y + i * c;
    if (add) {
      lm_k_mul_acc(p, x + i * c, yr, c);
      lm_k_add(yr, q, yr, c);
    } else {
      lm_k_mul(p, x + i * c, yr, c);
      lm_k_add(yr, q, yr, c);
    }
  }
}

static const char op[] = "loom_batch_norm";

typedef struct {
  size_t rows, c;
  bool training;
  float *mean, *inv; /* per channel: the mean used and 1 / sqrt(var + eps) */
} bn_saved;

static int bn_backward(loom_ctx *cx, const lm_rec *r) {
  const bn_saved *s = r->saved;
  loom_tensor *x = r->in[0], *gamma = r->in[1], *beta = r->in[2];
  float *gx = x->requires_grad ? lm_grad(cx, x) : NULL;
  float *gg = gamma && gamma->requires_grad ? lm_grad(cx, gamma) : NULL;
  float *gbe = beta && beta->requires_grad ? lm_grad(cx, beta) : NULL;
  if (cx->status) return cx->status;
  const float *xv = x->data, *dy = r->out->grad;
  const size_t rows = s->rows, c = s->c;
  const lm_arena_mark mark = lm_arena_mark_here(cx->arena);
  double *sum_dy = lm_scratch(cx, op, 2 * c * sizeof(double) + 4 * c * sizeof(float) + 64);
  if (!sum_dy) return cx->status;
  double *sum_dyx = sum_dy + c;
  float *part = (float *)(sum_dyx + c), *p = part + c, *q = p + c, *u = q + c;
  memset(sum_dy, 0, 2 * c * sizeof(double));
  column_sums(dy, NULL, NULL, rows, c, part, NULL, sum_dy);
  column_sums(dy, xv, NULL, rows, c, part, NULL, sum_dyx);
  /* sum dy * xhat = inv (sum dy x - mean sum dy) */
  for (size_t j = 0; j < c; ++j) {
    const double sdx = s->inv[j] * (sum_dyx[j] - s->mean[j] * sum_dy[j]);
    if (gg) gg[j] += (float)sdx;
    if (gbe) gbe[j] += (float)sum_dy[j];
    sum_dyx[j] = sdx;
  }
  if (gx) { /* dx = A dy + B x + C per channel (inference: A dy) */
    const float *gm = gamma ? gamma->data : NULL;
    for (size_t j = 0; j < c; ++j) {
      const double a = (gm ? gm[j] : 1.0) * s->inv[j], n = (double)rows;
      const double bcoef = s->training ? -a * s->inv[j] * sum_dyx[j] / n : 0.0;
      const double ccoef = s->training ? -a * sum_dy[j] / n - bcoef * s->mean[j] : 0.0;
      p[j] = (float)a, q[j] = (float)bcoef, u[j] = (float)ccoef;
    }
    for (size_t i = 0; i < rows; ++i) {
      float *gr = gx + i * c;
      lm_k_mul_acc(p, dy + i * c, gr, c);
      if (s->training) {
        lm_k_mul_acc(q, xv + i * c, gr, c);
        lm_k_add(gr, u, gr, c);
      }
    }
  }
  lm_arena_rewind(cx->arena, mark);
  return LOOM_OK;
}

loom_tensor *loom_batch_norm(loom_ctx *cx, loom_tensor *x, loom_tensor *gamma, loom_tensor *beta,
                             loom_tensor *moving_mean, loom_tensor *moving_variance, float momentum,
                             float epsilon, bool training) {
  loom_tensor *all[5] = {x, moving_mean, moving_variance, gamma, beta};
  if (!lm_inputs_ok(cx, op, 3, all) || (gamma && !lm_inputs_ok(cx, op, 1, &gamma)) ||
      (beta && !lm_inputs_ok(cx, op, 1, &beta)))
    return NULL;
  const int64_t c = x->rank ? x->shape[x->rank - 1] : 0;
  bool fits = x->rank >= 2 && c > 0;
  for (int i = 1; i < 5 && fits; ++i) fits = !all[i] || (all[i]->rank == 1 && all[i]->shape[0] == c);
  if (!fits) {
    char sx[96];
    lm_fail(cx, LOOM_ESHAPE, op, "input %s: gamma, beta and the moving statistics must each be "
            "[%lld] (its last axis)", lm_shape_str(x, sx, sizeof sx), (long long)c);
    return NULL;
  }
  if (!(momentum >= 0.0f && momentum <= 1.0f) || !(epsilon > 0.0f)) {
    lm_fail(cx, LOOM_EINVAL, op, "momentum %g must be in [0, 1] and epsilon %g > 0", (double)momentum,
            (double)epsilon);
    return NULL;
  }
  const size_t rows = (size_t)(x->size / c), n = (size_t)c;
  if (training && rows == 0) {
    lm_fail(cx, LOOM_ESHAPE, op, "no samples to take batch statistics from");
    return NULL;
  }
  bn_saved *s = lm_scratch(cx, op, sizeof *s + 2 * n * sizeof(float) + 64);
  if (!s) return NULL;
  s->rows = rows, s->c = n, s->training = training;
  s->mean = (float *)(s + 1), s->inv = s->mean + n;
  float *mm = moving_mean->data, *mv = moving_variance->data;
  const float *xv = x->data;
  loom_tensor *y = lm_out(cx, op, x->rank, x->shape);
  if (!y) return NULL;
  const lm_arena_mark mark = lm_arena_mark_here(cx->arena); /* the sums are this call's alone */
  double *sum = lm_scratch(cx, op, 2 * n * sizeof(double) + 4 * n * sizeof(float) + 64);
  if (!sum) return NULL;
  double *sq = sum + n;
  float *part = (float *)(sq + n), *scale = part + n, *shift = scale + n, *tmp = shift + n;
  if (training) { /* mean, then the squares about it: two passes, no cancellation */
    memset(sum, 0, 2 * n * sizeof(double));
    column_sums(xv, NULL, NULL, rows, n, part, NULL, sum);
    for (size_t j = 0; j < n; ++j) s->mean[j] = (float)(sum[j] / (double)rows);
    column_sums(xv, NULL, s->mean, rows, n, part, tmp, sq);
    for (size_t j = 0; j < n; ++j) {
      const float var = (float)(sq[j] / (double)rows);
      s->inv[j] = (float)(1.0 / sqrt((double)var + epsilon));
      mm[j] -= (mm[j] - s->mean[j]) * (1.0f - momentum);
      mv[j] -= (mv[j] - var) * (1.0f - momentum);
    }
  } else {
    for (size_t j = 0; j < n; ++j) s->mean[j] = mm[j], s->inv[j] = (float)(1.0 / sqrt((double)mv[j] + epsilon));
  }
  const float *gm = gamma ? gamma->data : NULL, *bt = beta ? beta->data : NULL;
  for (size_t j = 0; j < n; ++j) { /* y = scale x + shift */
    scale[j] = (gm ? gm[j] : 1.0f) * s->inv[j];
    shift[j] = (bt ? bt[j] : 0.0f) - s->mean[j] * scale[j];
  }
  affine_rows(xv, scale, shift, y->data, rows, n, false);
  lm_arena_rewind(cx->arena, mark);
  loom_tensor *rec[3] = {x, gamma, beta};
  return lm_record(cx, op, bn_backward, y, 3, rec, s);
}
