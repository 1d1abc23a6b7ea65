/* batch_norm.c - batch normalisation over the last axis (Keras' BatchNormalization,
 * axis -1): forward and backward.
 * Training: each channel is normalised with the batch's mean and (biased) variance over
 * every other axis, y = gamma (x - mean) / sqrt(var + eps) + beta, and the moving
 * statistics move as Keras moves them, moving -= (moving - batch) * (1 - momentum), with
 * the biased variance (Keras removes the Bessel correction fused_batch_norm applies).
 * Inference: the moving statistics, and nothing is updated.
 * Sums run in double over rows in order: the same for any thread count. */
#include <math.h>
#include <string.h>

#include "ops/ops.h"

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
  double *sum_dy = lm_scratch(cx, op, 2 * c * sizeof(double) + 1), *sum_dy_xhat = sum_dy + c;
  if (!sum_dy) return cx->status;
  memset(sum_dy, 0, 2 * c * sizeof(double));
  for (size_t i = 0; i < rows; ++i)
    for (size_t j = 0; j < c; ++j) {
      const double xhat = ((double)xv[i * c + j] - s->mean[j]) * s->inv[j];
      sum_dy[j] += dy[i * c + j];
      sum_dy_xhat[j] += dy[i * c + j] * xhat;
    }
  for (size_t j = 0; j < c; ++j) {
    if (gg) gg[j] += (float)sum_dy_xhat[j];
    if (gbe) gbe[j] += (float)sum_dy[j];
  }
  if (gx) {
    const float *gm = gamma ? gamma->data : NULL;
    for (size_t i = 0; i < rows; ++i)
      for (size_t j = 0; j < c; ++j) {
        const double g = (gm ? gm[j] : 1.0) * s->inv[j];
        if (!s->training) {
          gx[i * c + j] += (float)(g * dy[i * c + j]);
          continue;
        }
        const double xhat = ((double)xv[i * c + j] - s->mean[j]) * s->inv[j];
        gx[i * c + j] += (float)(g * (dy[i * c + j] - (sum_dy[j] + xhat * sum_dy_xhat[j]) / (double)rows));
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
  if (training) {
    const lm_arena_mark mark = lm_arena_mark_here(cx->arena);
    double *sum = lm_scratch(cx, op, 2 * n * sizeof(double) + 1), *sq = sum + n;
    if (!sum) return NULL;
    memset(sum, 0, 2 * n * sizeof(double));
    for (size_t i = 0; i < rows; ++i)
      for (size_t j = 0; j < n; ++j) sum[j] += xv[i * n + j];
    for (size_t j = 0; j < n; ++j) s->mean[j] = (float)(sum[j] / (double)rows);
    for (size_t i = 0; i < rows; ++i)
      for (size_t j = 0; j < n; ++j) {
        const double d = (double)xv[i * n + j] - s->mean[j];
        sq[j] += d * d;
      }
    for (size_t j = 0; j < n; ++j) {
      const float var = (float)(sq[j] / (double)rows);
      s->inv[j] = (float)(1.0 / sqrt((double)var + epsilon));
      mm[j] -= (mm[j] - s->mean[j]) * (1.0f - momentum);
      mv[j] -= (mv[j] - var) * (1.0f - momentum);
    }
    lm_arena_rewind(cx->arena, mark);
  } else {
    for (size_t j = 0; j < n; ++j) s->mean[j] = mm[j], s->inv[j] = (float)(1.0 / sqrt((double)mv[j] + epsilon));
  }
  loom_tensor *y = lm_out(cx, op, x->rank, x->shape);
  if (!y) return NULL;
  float *yv = y->data;
  const float *gm = gamma ? gamma->data : NULL, *bt = beta ? beta->data : NULL;
  for (size_t i = 0; i < rows; ++i)
    for (size_t j = 0; j < n; ++j) {
      const float xhat = (xv[i * n + j] - s->mean[j]) * s->inv[j];
      yv[i * n + j] = (gm ? gm[j] : 1.0f) * xhat + (bt ? bt[j] : 0.0f);
    }
  loom_tensor *rec[3] = {x, gamma, beta};
  return lm_record(cx, op, bn_backward, y, 3, rec, s);
}
