/* mask.c - Keras' masks over steps: [batch, steps] f32, 1 where a step is valid, 0
 * where it is masked. Made from ids (Embedding's mask_zero) or from values (Masking),
 * joined (the merges), applied (Masking's output) and averaged over (the masked
 * GlobalAveragePooling1D). Masks take no gradient. */
#include <string.h>

#include "ops/ops.h"

/* x [batch, steps, ...]: the mask [batch, steps] in the ctx's arena, or NULL with the
 * error naming op. */
static loom_tensor *mask_out(loom_ctx *cx, const char *op, const loom_tensor *x, int64_t *inner) {
  if (x->rank < 2) {
    char s[96];
    lm_fail(cx, LOOM_ESHAPE, op, "input %s has no steps (expected [batch, steps, ...])", lm_shape_str(x, s, sizeof s));
    return NULL;
  }
  const int64_t shape[2] = {x->shape[0], x->shape[1]};
  *inner = shape[0] * shape[1] != 0 ? x->size / (shape[0] * shape[1]) : 0;
  return lm_out(cx, op, 2, shape);
}

loom_tensor *loom_mask_from_ids(loom_ctx *cx, loom_tensor *ids) {
  static const char op[] = "loom_mask_from_ids";
  static const loom_dtype i32[1] = {LOOM_I32};
  if (!lm_inputs_typed(cx, op, 1, &ids, i32)) return NULL;
  int64_t inner;
  loom_tensor *m = mask_out(cx, op, ids, &inner);
  if (!m) return NULL;
  const int32_t *v = ids->data;
  float *out = m->data;
  for (int64_t r = 0; r < m->size; ++r) { /* Keras: ids != 0 (of a [batch, steps] input) */
    bool any = false;
    for (int64_t j = 0; j < inner; ++j) any |= v[r * inner + j] != 0;
    out[r] = any ? 1.0f : 0.0f;
  }
  return m;
}

loom_tensor *loom_mask_from_values(loom_ctx *cx, loom_tensor *x, float mask_value) {
  static const char op[] = "loom_mask_from_values";
  if (!lm_inputs_ok(cx, op, 1, &x)) return NULL;
  int64_t inner;
  loom_tensor *m = mask_out(cx, op, x, &inner);
  if (!m) return NULL;
  const float *v = x->data;
  float *out = m->data;
  for (int64_t r = 0; r < m->size; ++r) { /* Keras' Masking: any(x != mask_value, axis=-1) */
    bool any = false;
    for (int64_t j = 0; j < inner; ++j) any |= v[r * inner + j] != mask_value;
    out[r] = any ? 1.0f : 0.0f;
  }
  return m;
}

static bool masks_fit(loom_ctx *cx, const char *op, const loom_tensor *x, const loom_tensor *mask) {
  if (mask->dtype == LOOM_F32 && mask->rank == 2 && x->rank >= 2 && mask->shape[0] == x->shape[0] &&
      mask->shape[1] == x->shape[1])
    return true;
  char sx[96], sm[96];
  lm_fail(cx, LOOM_ESHAPE, op, "mask %s does not fit %s (expected f32 [batch, steps] of [batch, steps, ...])",
          lm_shape_str(mask, sm, sizeof sm), lm_shape_str(x, sx, sizeof sx));
  return false;
}

loom_tensor *loom_mask_or(loom_ctx *cx, loom_tensor *a, loom_tensor *b) {
  static const char op[] = "loom_mask_or";
  loom_tensor *in[2] = {a, b};
  if (!lm_inputs_ok(cx, op, 2, in) || !masks_fit(cx, op, a, b)) return NULL;
  loom_tensor *m = lm_out(cx, op, 2, a->shape);
  if (!m) return NULL;
  const float *pa = a->data, *pb = b->data;
  float *out = m->data;
  for (int64_t i = 0; i < m->size; ++i) out[i] = pa[i] != 0.0f || pb[i] != 0.0f ? 1.0f : 0.0f;
  return m;
}

/* ---------------------------------------------------------------- x * mask over the steps */

static void scale_steps(const float *x, const float *mask, float *y, int64_t rows, int64_t inner, bool add) {
  for (int64_t r = 0; r < rows; ++r) {
    const float m = mask[r];
    for (int64_t j = 0; j < inner; ++j) {
      const float v = x[r * inner + j] * m;
      y[r * inner + j] = add ? y[r * inner + j] + v : v;
    }
  }
}

static int mask_steps_backward(loom_ctx *cx, const lm_rec *r) {
  loom_tensor *x = r->in[0];
  const loom_tensor *mask = r->saved;
  float *gx = lm_grad(cx, x);
  if (!gx) return cx->status;
  scale_steps(r->out->grad, mask->data, gx, mask->size, mask->size ? x->size / mask->size : 0, true);
  return LOOM_OK;
}

loom_tensor *loom_mask_steps(loom_ctx *cx, loom_tensor *x, loom_tensor *mask) {
  static const char op[] = "loom_mask_steps";
  loom_tensor *in[2] = {x, mask};
  if (!lm_inputs_ok(cx, op, 2, in) || !masks_fit(cx, op, x, mask)) return NULL;
  loom_tensor *y = lm_out(cx, op, x->rank, x->shape);
  if (!y) return NULL;
  scale_steps(x->data, mask->data, y->data, mask->size, mask->size ? x->size / mask->size : 0, false);
  return lm_record(cx, op, mask_steps_backward, y, 1, &x, mask);
}

/* ---------------------------------------------------------------- masked average over the steps */

typedef struct {
  const loom_tensor *mask;
  float *inv; /* [batch]: 1 / valid steps (0 when none) */
} avg_saved;

static int avg_backward(loom_ctx *cx, const lm_rec *r) {
  loom_tensor *x = r->in[0];
  const avg_saved *s = r->saved;
  float *gx = lm_grad(cx, x);
  if (!gx) return cx->status;
  const int64_t B = x->shape[0], T = x->shape[1], C = x->shape[2];
  const float *dy = r->out->grad, *m = s->mask->data;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) {
      const float w = m[b * T + t] != 0.0f ? s->inv[b] : 0.0f;
      for (int64_t c = 0; c < C; ++c) gx[(b * T + t) * C + c] += dy[b * C + c] * w;
    }
  return LOOM_OK;
}

loom_tensor *loom_global_avg_pool_masked(loom_ctx *cx, loom_tensor *x, loom_tensor *mask) {
  static const char op[] = "loom_global_avg_pool_masked";
  loom_tensor *in[2] = {x, mask};
  if (!lm_inputs_ok(cx, op, 2, in)) return NULL;
  if (x->rank != 3) {
    char s[96];
    lm_fail(cx, LOOM_ESHAPE, op, "input %s must be [batch, steps, channels]", lm_shape_str(x, s, sizeof s));
    return NULL;
  }
  if (!masks_fit(cx, op, x, mask)) return NULL;
  const int64_t B = x->shape[0], T = x->shape[1], C = x->shape[2], shape[2] = {B, C};
  avg_saved *s = lm_scratch(cx, op, sizeof *s);
  float *inv = s ? lm_scratch_f32(cx, op, B ? B : 1, 1) : NULL;
  loom_tensor *y = inv ? lm_out(cx, op, 2, shape) : NULL;
  if (!y) return NULL;
  *s = (avg_saved){mask, inv};
  const float *px = x->data, *m = mask->data;
  float *py = y->data;
  for (int64_t b = 0; b < B; ++b) {
    int64_t valid = 0;
    for (int64_t t = 0; t < T; ++t) valid += m[b * T + t] != 0.0f;
    inv[b] = valid ? 1.0f / (float)valid : 0.0f; /* all masked: 0 (Keras divides 0 by 0) */
    for (int64_t c = 0; c < C; ++c) {
      double sum = 0.0;
      for (int64_t t = 0; t < T; ++t)
        if (m[b * T + t] != 0.0f) sum += px[(b * T + t) * C + c];
      py[b * C + c] = valid ? (float)(sum / (double)valid) : 0.0f;
    }
  }
  return lm_record(cx, op, avg_backward, y, 1, &x, s);
}
