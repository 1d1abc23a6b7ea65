/* batch_norm.c - batch normalisation over the last axis (Keras' BatchNormalization,
 * axis -1): forward and backward.
 * Training: each channel is normalised with the batch's mean and (biased) variance over
 * every other axis, y = gamma (x - mean) / sqrt(var + eps) + beta, and the moving
 * statistics move as Keras moves them, moving -= (moving - batch) * (1 - momentum), with
 * the biased variance (Keras removes the Bessel correction fused_batch_norm applies).
 * Inference: the moving statistics, and nothing is updated.
 * Per-channel sums run a block of rows at a time in float vectors, each block's partial
 * then added into double, in order: fast, accurate and the same for any thread count
 * (simd/batch_norm.cc). lm_batch_norm_relu is the same followed by a ReLU, in one pass
 * and one tensor: its backward masks dy with the output > 0 on the way. */
#include <math.h>
#include <string.h>

#include "ops/ops.h"
#include "simd/simd.h"

static const char op[] = "loom_batch_norm";

typedef struct {
  size_t rows, c;
  bool training, relu;
  float *mean, *inv; /* per channel: the mean used and 1 / sqrt(var + eps) */
} bn_saved;

static int bn_backward(loom_ctx *cx, const lm_rec *r) {
  const bn_saved *s = r->saved;
  loom_tensor *x = r->in[0], *gamma = r->in[1], *beta = r->in[2];
  bool fresh = false; /* gx new: written, not added into */
  float *gx = x->requires_grad ? lm_grad_fresh(cx, x, &fresh) : NULL;
  float *gg = gamma && gamma->requires_grad ? lm_grad(cx, gamma) : NULL;
  float *gbe = beta && beta->requires_grad ? lm_grad(cx, beta) : NULL;
  if (cx->status) return cx->status;
  const float *xv = x->data, *dy = r->out->grad, *mask = s->relu ? r->out->data : NULL;
  const size_t rows = s->rows, c = s->c;
  const lm_arena_mark mark = lm_arena_mark_here(cx->arena);
  double *sum_dy = lm_scratch(cx, op, 2 * c * sizeof(double) + 3 * c * sizeof(float) +
                                          2 * lm_k_bn_parts(rows, c) * sizeof(float) + 64);
  if (!sum_dy) return cx->status;
  double *sum_dyx = sum_dy + c;
  float *p = (float *)(sum_dyx + c), *q = p + c, *u = q + c, *parts = u + c;
  memset(sum_dy, 0, 2 * c * sizeof(double));
  lm_k_bn_grad_sums(dy, xv, mask, rows, c, parts, sum_dy, sum_dyx);
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
    lm_k_bn_grad_input(dy, xv, mask, p, s->training ? q : NULL, s->training ? u : NULL, !fresh, gx, rows, c);
  }
  lm_arena_rewind(cx->arena, mark);
  return LOOM_OK;
}

static loom_tensor *batch_norm(loom_ctx *cx, loom_tensor *x, loom_tensor *gamma, loom_tensor *beta,
                               loom_tensor *moving_mean, loom_tensor *moving_variance, float momentum,
                               float epsilon, bool training, bool relu) {
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
  s->rows = rows, s->c = n, s->training = training, s->relu = relu;
  s->mean = (float *)(s + 1), s->inv = s->mean + n;
  float *mm = moving_mean->data, *mv = moving_variance->data;
  const float *xv = x->data;
  loom_tensor *y = lm_out(cx, op, x->rank, x->shape);
  if (!y) return NULL;
  const lm_arena_mark mark = lm_arena_mark_here(cx->arena); /* the sums are this call's alone */
  double *sum = lm_scratch(cx, op, 2 * n * sizeof(double) + 2 * n * sizeof(float) +
                                      lm_k_bn_parts(rows, n) * sizeof(float) + 64);
  if (!sum) return NULL;
  double *sq = sum + n;
  float *scale = (float *)(sq + n), *shift = scale + n, *parts = shift + n;
  if (training) { /* mean, then the squares about it: two passes, no cancellation */
    memset(sum, 0, 2 * n * sizeof(double));
    lm_k_bn_col_sums(xv, NULL, rows, n, parts, sum);
    for (size_t j = 0; j < n; ++j) s->mean[j] = (float)(sum[j] / (double)rows);
    lm_k_bn_col_sums(xv, s->mean, rows, n, parts, sq);
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
  lm_k_bn_apply(xv, scale, shift, y->data, rows, n, relu);
  lm_arena_rewind(cx->arena, mark);
  loom_tensor *rec[3] = {x, gamma, beta};
  return lm_record(cx, op, bn_backward, y, 3, rec, s);
}

loom_tensor *loom_batch_norm(loom_ctx *cx, loom_tensor *x, loom_tensor *gamma, loom_tensor *beta,
                             loom_tensor *moving_mean, loom_tensor *moving_variance, float momentum,
                             float epsilon) {
  return batch_norm(cx, x, gamma, beta, moving_mean, moving_variance, momentum, epsilon, loom_ctx_training(cx),
                    false);
}

loom_tensor *lm_batch_norm(loom_ctx *cx, loom_tensor *x, loom_tensor *gamma, loom_tensor *beta,
                           loom_tensor *moving_mean, loom_tensor *moving_variance, float momentum, float epsilon,
                           bool training) {
  return batch_norm(cx, x, gamma, beta, moving_mean, moving_variance, momentum, epsilon, training, false);
}

loom_tensor *lm_batch_norm_relu(loom_ctx *cx, loom_tensor *x, loom_tensor *gamma, loom_tensor *beta,
                                loom_tensor *moving_mean, loom_tensor *moving_variance, float momentum,
                                float epsilon, bool training) {
  return batch_norm(cx, x, gamma, beta, moving_mean, moving_variance, momentum, epsilon, training, true);
}
