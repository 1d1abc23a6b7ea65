/* rnn.c - the recurrent ops' shared steps (rnn.h), loom_last_step and loom_reverse_steps. */
#include <string.h>

#include "ops/rnn.h"

bool lm_rnn_acts(loom_ctx *cx, const char *op, const loom_rnn_cfg *cfg, lm_rnn_act *act, lm_rnn_act *rec) {
  const loom_activation want[2] = {cfg->activation ? cfg->activation : LOOM_TANH,
                                   cfg->recurrent_activation ? cfg->recurrent_activation : LOOM_SIGMOID};
  lm_rnn_act *got[2] = {act, rec};
  for (int i = 0; i < 2; ++i) {
    const lm_activation_info *a = lm_activation_get(want[i]);
    if (!a || want[i] == LOOM_SOFTMAX) {
      lm_fail(cx, LOOM_EINVAL, op, "%s %d is not an elementwise activation", i ? "recurrent_activation" : "activation",
              (int)want[i]);
      return false;
    }
    *got[i] = (lm_rnn_act){a->fn, a->p};
  }
  return true;
}

const float *lm_rnn_steps(loom_ctx *cx, const char *op, const loom_tensor *x, bool back) {
  if (!back) return x->data;
  const int64_t B = x->shape[0], T = x->shape[1], D = x->shape[2];
  float *xr = lm_scratch_f32(cx, op, B * T, D);
  if (!xr) return NULL;
  const float *xs = x->data;
  for (int64_t bi = 0; bi < B; ++bi)
    for (int64_t s = 0; s < T; ++s)
      memcpy(xr + (bi * T + s) * D, xs + (bi * T + T - 1 - s) * D, (size_t)D * sizeof(float));
  return xr;
}

void lm_rnn_output(const float *h, float *y, int64_t b, int64_t t, int64_t u, bool seq) {
  for (int64_t bi = 0; bi < b; ++bi) {
    if (seq) memcpy(y + bi * t * u, h + (bi * (t + 1) + 1) * u, (size_t)(t * u) * sizeof(float));
    else memcpy(y + bi * u, h + (bi * (t + 1) + t) * u, (size_t)u * sizeof(float));
  }
}

void lm_rnn_init_state(const loom_tensor *h0, float *h, int64_t b, int64_t t, int64_t u) {
  for (int64_t bi = 0; bi < b; ++bi) {
    float *at = h + bi * (t + 1) * u;
    if (h0) memcpy(at, (const float *)h0->data + bi * u, (size_t)u * sizeof(float));
    else memset(at, 0, (size_t)u * sizeof(float));
  }
}

bool lm_rnn_shapes_ok(loom_ctx *cx, const char *op, const loom_tensor *x, const loom_tensor *h0,
                      const loom_tensor *kernel, const loom_tensor *recurrent, int gates) {
  const bool ok = x->rank == 3 && kernel->rank == 2 && recurrent->rank == 2 &&
                  kernel->shape[0] == x->shape[2] && kernel->shape[1] % gates == 0 &&
                  recurrent->shape[0] * gates == kernel->shape[1] && recurrent->shape[1] == kernel->shape[1] &&
                  (!h0 || (h0->rank == 2 && h0->shape[0] == x->shape[0] && h0->shape[1] == recurrent->shape[0]));
  if (!ok) {
    char sx[96], sk[96], su[96], sh[96] = "none";
    if (h0) lm_shape_str(h0, sh, sizeof sh);
    lm_fail(cx, LOOM_ESHAPE, op, "input %s, kernel %s, recurrent kernel %s and initial state %s do not fit "
            "(expected [batch, steps, in], [in, %d units], [units, %d units], [batch, units])",
            lm_shape_str(x, sx, sizeof sx), lm_shape_str(kernel, sk, sizeof sk),
            lm_shape_str(recurrent, su, sizeof su), sh, gates, gates);
  }
  return ok;
}

/* ---------------------------------------------------------------- masks and recurrent dropout */

static bool mask_shape_ok(loom_ctx *cx, const char *op, const char *what, const loom_tensor *m, int64_t rows,
                          int64_t cols, const char *want) {
  if (m->dtype == LOOM_F32 && m->rank == 2 && m->shape[0] == rows && m->shape[1] == cols) return true;
  char sm[96];
  lm_fail(cx, LOOM_ESHAPE, op, "%s %s%s does not fit the input (expected f32 [%lld, %lld]: %s)", what,
          m->dtype == LOOM_F32 ? "" : "int32 ", lm_shape_str(m, sm, sizeof sm), (long long)rows, (long long)cols, want);
  return false;
}

bool lm_rnn_masks(loom_ctx *cx, const char *op, const loom_rnn_cfg *cfg, int64_t b, int64_t t, int64_t d, int64_t u,
                  int gates, lm_rnn_mask *m) {
  *m = (lm_rnn_mask){.b = b, .t = t, .d = d, .u = u, .gates = gates,
                     .zero_output = cfg->mask && cfg->zero_output_for_mask};
  if (cfg->mask) {
    if (!mask_shape_ok(cx, op, "mask", cfg->mask, b, t, "[batch, steps]")) return false;
    const float *src = cfg->mask->data;
    if (cfg->go_backwards) {
      float *k = lm_scratch_f32(cx, op, b, t);
      if (!k) return false;
      for (int64_t bi = 0; bi < b; ++bi)
        for (int64_t s = 0; s < t; ++s) k[bi * t + s] = src[bi * t + t - 1 - s];
      m->keep = k;
    } else {
      m->keep = src;
    }
  }
  if (cfg->recurrent_mask) {
    if (!mask_shape_ok(cx, op, "recurrent_mask", cfg->recurrent_mask, b, gates * u, "[batch, gates * units]"))
      return false;
    m->drop = cfg->recurrent_mask->data;
    if (!(m->hd = lm_scratch_f32(cx, op, b * t, gates * u))) return false;
  }
  if (cfg->input_mask) {
    if (!mask_shape_ok(cx, op, "input_mask", cfg->input_mask, b, gates * d, "[batch, gates * in]")) return false;
    m->in_drop = cfg->input_mask->data;
    if (!(m->xd = lm_scratch_f32(cx, op, b * t, gates * d))) return false;
  }
  return true;
}

int lm_rnn_project(const lm_rnn_mask *m, const float *xs, const float *w, const float *bias, float *pre) {
  const int64_t rows = m->b * m->t, d = m->d, u = m->u, gu = m->gates * u, gd = m->gates * d;
  const lm_gemm_epilogue ep = {bias, LM_ACT_NONE};
  if (!m->in_drop)
    return lm_sgemm(false, false, (size_t)rows, (size_t)gu, (size_t)d, 1.0f, xs, (size_t)d, w, (size_t)gu, 0.0f, pre,
                    (size_t)gu, &ep);
  int st = LOOM_OK;
  for (int g = 0; g < m->gates && st == LOOM_OK; ++g) {
    for (int64_t r = 0; r < rows; ++r)
      lm_k_mul(xs + r * d, m->in_drop + (r / m->t) * gd + g * d, m->xd + r * gd + g * d, (size_t)d);
    const lm_gemm_epilogue epg = {bias ? bias + g * u : NULL, LM_ACT_NONE};
    st = lm_sgemm(false, false, (size_t)rows, (size_t)u, (size_t)d, 1.0f, m->xd + g * d, (size_t)gd, w + g * u,
                  (size_t)gu, 0.0f, pre + g * u, (size_t)gu, &epg);
  }
  return st;
}

int lm_rnn_kernel_grad(const lm_rnn_mask *m, const float *xs, const float *dz, float *gw) {
  const int64_t rows = m->b * m->t, d = m->d, u = m->u, gu = m->gates * u, gd = m->gates * d;
  if (!m->in_drop)
    return lm_sgemm(true, false, (size_t)d, (size_t)gu, (size_t)rows, 1.0f, xs, (size_t)d, dz, (size_t)gu, 1.0f, gw,
                    (size_t)gu, NULL);
  int st = LOOM_OK;
  for (int g = 0; g < m->gates && st == LOOM_OK; ++g)
    st = lm_sgemm(true, false, (size_t)d, (size_t)u, (size_t)rows, 1.0f, m->xd + g * d, (size_t)gd, dz + g * u,
                  (size_t)gu, 1.0f, gw + g * u, (size_t)gu, NULL);
  return st;
}

int lm_rnn_input_grad(loom_ctx *cx, const char *op, const lm_rnn_mask *m, const float *dz, const loom_tensor *w,
                      float *gx, bool back) {
  const int64_t b = m->b, t = m->t, d = m->d, u = m->u, gu = m->gates * u;
  const size_t rows = (size_t)(b * t);
  if (!back && !m->in_drop)
    return lm_sgemm(false, true, rows, (size_t)d, (size_t)gu, 1.0f, dz, (size_t)gu, w->data, (size_t)gu, 1.0f, gx,
                    (size_t)d, NULL);
  float *dxs = lm_scratch_f32(cx, op, (int64_t)rows, d);
  float *tmp = dxs && m->in_drop ? lm_scratch_f32(cx, op, (int64_t)rows, d) : dxs;
  if (!tmp) return cx->status;
  int st = LOOM_OK;
  if (!m->in_drop) {
    st = lm_sgemm(false, true, rows, (size_t)d, (size_t)gu, 1.0f, dz, (size_t)gu, w->data, (size_t)gu, 0.0f, dxs,
                  (size_t)d, NULL);
  } else { /* dx = sum over gates of (dz_g . W_g^T) * in_drop_g */
    memset(dxs, 0, rows * (size_t)d * sizeof(float));
    for (int g = 0; g < m->gates && st == LOOM_OK; ++g) {
      st = lm_sgemm(false, true, rows, (size_t)d, (size_t)u, 1.0f, dz + g * u, (size_t)gu, (const float *)w->data + g * u,
                    (size_t)gu, 0.0f, tmp, (size_t)d, NULL);
      for (size_t r = 0; r < rows && st == LOOM_OK; ++r)
        lm_k_mul_acc(tmp + r * d, m->in_drop + (int64_t)(r / (size_t)t) * m->gates * d + g * d, dxs + r * d, (size_t)d);
    }
  }
  for (int64_t bi = 0; bi < b && st == LOOM_OK; ++bi)
    for (int64_t s = 0; s < t; ++s)
      lm_k_axpy(1.0f, dxs + (bi * t + s) * d, gx + (bi * t + (back ? t - 1 - s : s)) * d, (size_t)d);
  return st;
}

const float *lm_rnn_prev_row(const lm_rnn_mask *m, const float *h, int64_t bi, int64_t step, int g) {
  return m->drop ? m->hd + (bi * m->t + step) * m->gates * m->u + g * m->u : h + (bi * (m->t + 1) + step) * m->u;
}

int lm_rnn_rec_forward(const lm_rnn_mask *m, const float *h, int64_t step, const float *uk, int g0, int g1,
                       const float *bias, float beta, float *out, size_t ld_out) {
  const int64_t t = m->t, u = m->u, gu = m->gates * u;
  const lm_gemm_epilogue ep = {bias, LM_ACT_NONE};
  if (!m->drop)
    return lm_sgemm(false, false, (size_t)m->b, (size_t)((g1 - g0) * u), (size_t)u, 1.0f, h + step * u,
                    (size_t)((t + 1) * u), uk + g0 * u, (size_t)gu, beta, out, ld_out, bias ? &ep : NULL);
  int st = LOOM_OK;
  for (int g = g0; g < g1 && st == LOOM_OK; ++g) {
    float *hd = m->hd + step * gu + g * u;
    for (int64_t bi = 0; bi < m->b; ++bi)
      lm_k_mul(h + (bi * (t + 1) + step) * u, m->drop + bi * gu + g * u, hd + bi * t * gu, (size_t)u);
    const lm_gemm_epilogue epg = {bias ? bias + (g - g0) * u : NULL, LM_ACT_NONE};
    st = lm_sgemm(false, false, (size_t)m->b, (size_t)u, (size_t)u, 1.0f, hd, (size_t)(t * gu), uk + g * u,
                  (size_t)gu, beta, out + (g - g0) * u, ld_out, bias ? &epg : NULL);
  }
  return st;
}

int lm_rnn_rec_backward(const lm_rnn_mask *m, const float *dz, size_t ldz, const float *uk, int g0, int g1,
                        float beta, float *dprev, float *tmp) {
  const int64_t u = m->u, gu = m->gates * u;
  if (!m->drop)
    return lm_sgemm(false, true, (size_t)m->b, (size_t)u, (size_t)((g1 - g0) * u), 1.0f, dz + g0 * u, ldz,
                    uk + g0 * u, (size_t)gu, beta, dprev, (size_t)u, NULL);
  if (beta == 0.0f) memset(dprev, 0, (size_t)(m->b * u) * sizeof(float));
  int st = LOOM_OK;
  for (int g = g0; g < g1 && st == LOOM_OK; ++g) {
    st = lm_sgemm(false, true, (size_t)m->b, (size_t)u, (size_t)u, 1.0f, dz + g * u, ldz, uk + g * u, (size_t)gu,
                  0.0f, tmp, (size_t)u, NULL);
    for (int64_t bi = 0; bi < m->b && st == LOOM_OK; ++bi)
      lm_k_mul_acc(tmp + bi * u, m->drop + bi * gu + g * u, dprev + bi * u, (size_t)u);
  }
  return st;
}

int lm_rnn_rec_weight_grad(loom_ctx *cx, const char *op, const lm_rnn_mask *m, const float *h, const float *dz,
                           int g0, int g1, float *gu) {
  const int64_t b = m->b, t = m->t, u = m->u, G = m->gates * u;
  const size_t rows = (size_t)(b * t);
  if (m->drop) {
    int st = LOOM_OK;
    for (int g = g0; g < g1 && st == LOOM_OK; ++g)
      st = lm_sgemm(true, false, (size_t)u, (size_t)u, rows, 1.0f, m->hd + g * u, (size_t)G, dz + g * u, (size_t)G,
                    1.0f, gu + g * u, (size_t)G, NULL);
    return st;
  }
  /* H_prev's rows gathered to line up with dZ's, for one GEMM over every step */
  float *hp = lm_scratch_f32(cx, op, b * t, u);
  if (!hp) return cx->status;
  for (int64_t bi = 0; bi < b; ++bi) memcpy(hp + bi * t * u, h + bi * (t + 1) * u, (size_t)(t * u) * sizeof(float));
  return lm_sgemm(true, false, (size_t)u, (size_t)((g1 - g0) * u), rows, 1.0f, hp, (size_t)u, dz + g0 * u, (size_t)G,
                  1.0f, gu + g0 * u, (size_t)G, NULL);
}

void lm_rnn_carry(const lm_rnn_mask *m, float *state, int64_t step) {
  if (!m->keep) return;
  const int64_t t = m->t, u = m->u;
  for (int64_t bi = 0; bi < m->b; ++bi)
    if (lm_rnn_masked(m, bi, step)) {
      float *prev = state + (bi * (t + 1) + step) * u;
      memcpy(prev + u, prev, (size_t)u * sizeof(float));
    }
}

void lm_rnn_zero_masked(const lm_rnn_mask *m, float *y, bool seq) {
  if (!m->zero_output) return;
  const int64_t t = m->t, u = m->u;
  for (int64_t bi = 0; bi < m->b; ++bi)
    for (int64_t s = seq ? 0 : t - 1; s < t; ++s)
      if (lm_rnn_masked(m, bi, s)) memset(y + (seq ? bi * t + s : bi) * u, 0, (size_t)u * sizeof(float));
}

void lm_rnn_hold(const lm_rnn_mask *m, float *d, float *hold, int64_t step) {
  if (!m->keep) return;
  const size_t u = (size_t)m->u;
  for (int64_t bi = 0; bi < m->b; ++bi)
    if (lm_rnn_masked(m, bi, step)) {
      memcpy(hold + bi * m->u, d + bi * m->u, u * sizeof(float));
      memset(d + bi * m->u, 0, u * sizeof(float));
    }
}

void lm_rnn_release(const lm_rnn_mask *m, float *dprev, const float *hold, int64_t step) {
  if (!m->keep) return;
  for (int64_t bi = 0; bi < m->b; ++bi)
    if (lm_rnn_masked(m, bi, step)) memcpy(dprev + bi * m->u, hold + bi * m->u, (size_t)m->u * sizeof(float));
}

/* ---------------------------------------------------------------- loom_last_step */

static int last_step_backward(loom_ctx *cx, const lm_rec *r) {
  loom_tensor *x = r->in[0];
  float *gx = lm_grad(cx, x);
  if (!gx) return cx->status;
  const int64_t B = x->shape[0], T = x->shape[1], inner = T ? x->size / (B * T) : 0;
  for (int64_t bi = 0; bi < B; ++bi)
    lm_k_axpy(1.0f, (const float *)r->out->grad + bi * inner, gx + (bi * T + T - 1) * inner, (size_t)inner);
  return LOOM_OK;
}

loom_tensor *loom_last_step(loom_ctx *cx, loom_tensor *x) {
  static const char op[] = "loom_last_step";
  if (!lm_inputs_ok(cx, op, 1, &x)) return NULL;
  if (x->rank < 2 || x->shape[1] < 1) {
    char s[96];
    lm_fail(cx, LOOM_ESHAPE, op, "input %s has no steps (expected [batch, steps >= 1, ...])", lm_shape_str(x, s, sizeof s));
    return NULL;
  }
  int64_t shape[LOOM_MAX_RANK];
  shape[0] = x->shape[0];
  for (int d = 2; d < x->rank; ++d) shape[d - 1] = x->shape[d];
  loom_tensor *y = lm_out(cx, op, x->rank - 1, shape);
  if (!y) return NULL;
  const int64_t B = x->shape[0], T = x->shape[1], inner = B ? y->size / B : 0;
  for (int64_t bi = 0; bi < B; ++bi)
    memcpy((float *)y->data + bi * inner, (const float *)x->data + (bi * T + T - 1) * inner, (size_t)inner * sizeof(float));
  return lm_record(cx, op, last_step_backward, y, 1, &x, NULL);
}

/* ---------------------------------------------------------------- loom_reverse_steps */

/* y's step s is x's step t - 1 - s, each sample's rows of `inner` floats */
static void reverse_rows(const float *x, float *y, int64_t b, int64_t t, int64_t inner, bool add) {
  for (int64_t bi = 0; bi < b; ++bi)
    for (int64_t s = 0; s < t; ++s) {
      const float *src = x + (bi * t + t - 1 - s) * inner;
      float *dst = y + (bi * t + s) * inner;
      if (add) lm_k_add(dst, src, dst, (size_t)inner);
      else memcpy(dst, src, (size_t)inner * sizeof(float));
    }
}

static int reverse_backward(loom_ctx *cx, const lm_rec *r) {
  loom_tensor *x = r->in[0];
  float *gx = lm_grad(cx, x);
  if (!gx) return cx->status;
  const int64_t B = x->shape[0], T = x->shape[1], inner = B > 0 && T > 0 ? x->size / (B * T) : 0;
  reverse_rows(r->out->grad, gx, B, T, inner, true);
  return LOOM_OK;
}

loom_tensor *loom_reverse_steps(loom_ctx *cx, loom_tensor *x) {
  static const char op[] = "loom_reverse_steps";
  if (!lm_inputs_ok(cx, op, 1, &x)) return NULL;
  if (x->rank < 2) {
    char s[96];
    lm_fail(cx, LOOM_ESHAPE, op, "input %s has no steps (expected [batch, steps, ...])", lm_shape_str(x, s, sizeof s));
    return NULL;
  }
  loom_tensor *y = lm_out(cx, op, x->rank, x->shape);
  if (!y) return NULL;
  const int64_t B = x->shape[0], T = x->shape[1], inner = B > 0 && T > 0 ? x->size / (B * T) : 0;
  reverse_rows(x->data, y->data, B, T, inner, false);
  return lm_record(cx, op, reverse_backward, y, 1, &x, NULL);
}
