/* gru.c - Keras' GRU: forward and backward through time, both variants (reset_after).
 * Forward: one GEMM projects every step's input (x . W + b_in for all steps); each step
 * one small GEMM for h_{t-1} . U (two with reset_after=False: the gates', then (r h) . U_h)
 * and the gate arithmetic: with Keras' default activations (tanh, sigmoid) the fused step
 * kernels (simd/gru.cc, one call a step for the whole batch), with any other pair the
 * activation kernels, keeping the pre-activations for backward. Backward walks the steps
 * in reverse, one or two small GEMMs per step; the weight gradients are single GEMMs over
 * all steps. */
#include <string.h>

#include "ops/rnn.h"
#include "simd/simd.h"

static const char op[] = "loom_gru";

typedef struct {
  int64_t b, t, d, u;
  loom_rnn_cfg cfg;
  lm_rnn_act act, rec;
  bool fused;      /* tanh and sigmoid: the fused step kernels */
  const float *xs; /* x in step order */
  float *pre;      /* [b, t, 3u] pre-activations of z, r, hh (a itself when fused) */
  float *a;        /* [b, t, 3u] z, r, hh */
  float *rh;       /* [b, t, u] reset_after: h U_h + b'_h; else r h_prev */
  float *h;        /* [b, t + 1, u], h_{-1} first */
  bool has_h0;     /* the tape's second input is h0 (else x again, taking nothing) */
  lm_rnn_mask mk;
} gru_state;

#define ROW(s, base, bi, step, width) ((base) + ((bi) * (s)->t + (step)) * (width))

/* The step's gate arithmetic for one sample once z and r's pre-activations are in pre
 * and the cell's input part (x W_h + b_h, plus r (h U_h + b'_h) with reset_after) in
 * pre's third block. */
static void finish_step(const gru_state *s, int64_t bi, int64_t step) {
  const size_t U = (size_t)s->u;
  float *pre = ROW(s, s->pre, bi, step, 3 * s->u), *a = ROW(s, s->a, bi, step, 3 * s->u);
  const float *hp = s->h + (bi * (s->t + 1) + step) * s->u;
  float *hn = s->h + (bi * (s->t + 1) + step + 1) * s->u;
  lm_k_act(s->act.f, &s->act.p, pre + 2 * U, a + 2 * U, U);
  lm_k_sub(hp, a + 2 * U, hn, U); /* h = hh + z (h_prev - hh) */
  lm_k_mul(a, hn, hn, U);
  lm_k_add(hn, a + 2 * U, hn, U);
}

/* h_{t-1} as U_h reads it without reset_after (dropped with recurrent dropout): the
 * first sample's row at the step, rows *ld apart. */
static const float *gru_hp_rows(const gru_state *s, int64_t step, size_t *ld) {
  *ld = (size_t)(s->mk.drop ? s->t * 3 * s->u : (s->t + 1) * s->u);
  return lm_rnn_prev_row(&s->mk, s->h, 0, step, 2);
}

/* One step with the fused kernels: the recurrent GEMM(s), then gates and update (one
 * pass with reset_after; without it (r h) . U_h comes between them). */
static int gru_fused_step(gru_state *s, const float *uk, const float *brec, float *rec, int64_t step) {
  const int64_t T = s->t, U = s->u, G = 3 * U;
  const size_t B = (size_t)s->b, Us = (size_t)U, lda = (size_t)(T * G), ldh = (size_t)((T + 1) * U);
  float *a = s->a + step * G, *rh = s->rh + step * U, *hn = s->h + (step + 1) * U;
  const float *hp = s->h + step * U;
  if (s->cfg.reset_after) {
    int st = lm_rnn_rec_forward(&s->mk, s->h, step, uk, 0, 3, brec, 0.0f, rec, (size_t)G);
    if (!st) lm_k_gru_step(B, Us, a, lda, rec, (size_t)G, hp, ldh, rh, (size_t)(T * U), hn, ldh);
    return st;
  }
  int st = lm_rnn_rec_forward(&s->mk, s->h, step, uk, 0, 2, NULL, 0.0f, rec, (size_t)G);
  if (!st && s->mk.drop) st = lm_rnn_rec_forward(&s->mk, s->h, step, uk, 2, 3, NULL, 0.0f, rec + 2 * U, (size_t)G);
  if (st) return st;
  size_t ldd;
  const float *hd = gru_hp_rows(s, step, &ldd);
  lm_k_gru_gates(B, Us, false, a, lda, rec, (size_t)G, hd, ldd, rh, (size_t)(T * U));
  st = lm_sgemm(false, false, B, Us, Us, 1.0f, rh, (size_t)(T * U), uk + 2 * U, (size_t)G, 1.0f, a + 2 * U, lda, NULL);
  if (!st) lm_k_gru_update(B, Us, a, lda, hp, ldh, hn, ldh);
  return st;
}

static int gru_forward_steps(loom_ctx *cx, gru_state *s, const loom_tensor *u, const float *brec) {
  const int64_t B = s->b, T = s->t, U = s->u, G = 3 * U;
  const float *uk = u->data;
  float *rec = lm_scratch_f32(cx, op, B, G);
  if (!rec) return cx->status;
  for (int64_t step = 0; step < T; ++step) {
    if (s->fused) {
      int st = gru_fused_step(s, uk, brec, rec, step);
      if (st) return lm_fail(cx, st, op, "%s", loom_last_error());
    } else if (s->cfg.reset_after) {
      int st = lm_rnn_rec_forward(&s->mk, s->h, step, uk, 0, 3, brec, 0.0f, rec, (size_t)G);
      if (st) return lm_fail(cx, st, op, "%s", loom_last_error());
      for (int64_t bi = 0; bi < B; ++bi) {
        float *pre = ROW(s, s->pre, bi, step, G), *a = ROW(s, s->a, bi, step, G);
        const float *rb = rec + bi * G;
        lm_k_add(pre, rb, pre, (size_t)(2 * U));
        lm_k_act(s->rec.f, &s->rec.p, pre, a, (size_t)(2 * U));
        memcpy(ROW(s, s->rh, bi, step, U), rb + 2 * U, (size_t)U * sizeof(float));
        lm_k_mul_acc(a + U, rb + 2 * U, pre + 2 * U, (size_t)U);
        finish_step(s, bi, step);
      }
    } else {
      /* z and r's products; with dropout, h's dropped copy too (r h_h is what U_h meets) */
      int st = lm_rnn_rec_forward(&s->mk, s->h, step, uk, 0, 2, NULL, 0.0f, rec, (size_t)G);
      if (!st && s->mk.drop) st = lm_rnn_rec_forward(&s->mk, s->h, step, uk, 2, 3, NULL, 0.0f, rec + 2 * U, (size_t)G);
      if (st) return lm_fail(cx, st, op, "%s", loom_last_error());
      for (int64_t bi = 0; bi < B; ++bi) {
        float *pre = ROW(s, s->pre, bi, step, G), *a = ROW(s, s->a, bi, step, G);
        lm_k_add(pre, rec + bi * G, pre, (size_t)(2 * U));
        lm_k_act(s->rec.f, &s->rec.p, pre, a, (size_t)(2 * U));
        lm_k_mul(a + U, lm_rnn_prev_row(&s->mk, s->h, bi, step, 2), ROW(s, s->rh, bi, step, U), (size_t)U);
      }
      /* pre_h += (r h) . U_h for the whole batch */
      st = lm_sgemm(false, false, (size_t)B, (size_t)U, (size_t)U, 1.0f, s->rh + step * U, (size_t)(T * U),
                    uk + 2 * U, (size_t)G, 1.0f, s->pre + step * G + 2 * U, (size_t)(T * G), NULL);
      if (st) return lm_fail(cx, st, op, "%s", loom_last_error());
      for (int64_t bi = 0; bi < B; ++bi) finish_step(s, bi, step);
    }
    lm_rnn_carry(&s->mk, s->h, step);
  }
  return LOOM_OK;
}

/* Backward through one step with the fused kernels: dh (all of d loss / d h_t) gives
 * the step's dz (and drec with reset_after) and dhn = d loss / d h_{t-1} before the
 * recurrent GEMM adds d rec . U^T; drh holds [b, u]. */
static int gru_fused_step_grad(const gru_state *s, const float *uk, const float *dh, float *dz, float *drec,
                               float *drh, float *dhn, int64_t step) {
  const int64_t T = s->t, U = s->u, G = 3 * U;
  const size_t B = (size_t)s->b, Us = (size_t)U, lda = (size_t)(T * G);
  const float *a = s->a + step * G;
  float *dzs = dz + step * G;
  lm_k_gru_update_grad(B, Us, a, lda, s->h + step * U, (size_t)((T + 1) * U), dh, dzs, lda, dhn);
  if (s->cfg.reset_after) {
    lm_k_gru_reset_after_grad(B, Us, a, lda, s->rh + step * U, (size_t)(T * U), dzs, lda, drec + step * G, lda);
    return LOOM_OK;
  }
  /* d(r h) = d pre_h . U_h^T */
  int st = lm_sgemm(false, true, B, Us, Us, 1.0f, dzs + 2 * U, lda, uk + 2 * U, (size_t)G, 0.0f, drh, Us, NULL);
  if (st) return st;
  size_t ldd;
  const float *hd = gru_hp_rows(s, step, &ldd);
  lm_k_gru_reset_grad(B, Us, a, lda, hd, ldd, drh, s->mk.drop ? s->mk.drop + 2 * U : NULL, (size_t)G, dzs, lda, dhn);
  return LOOM_OK;
}

static int gru_backward(loom_ctx *cx, const lm_rec *r) {
  const gru_state *s = r->saved;
  loom_tensor *x = r->in[0], *h0 = r->in[1], *w = r->in[2], *u = r->in[3], *bias = r->n_in > 4 ? r->in[4] : NULL;
  const int64_t B = s->b, T = s->t, U = s->u, G = 3 * U;
  const bool ra = s->cfg.reset_after;
  const float *dy = r->out->grad, *uk = u->data;
  if (!s->has_h0) h0 = NULL;
  /* the gradients first: what comes after the mark is this op's alone */
  float *g0 = h0 && h0->requires_grad ? lm_grad(cx, h0) : NULL, *gw = w->requires_grad ? lm_grad(cx, w) : NULL;
  float *gu = u->requires_grad ? lm_grad(cx, u) : NULL, *gb = bias && bias->requires_grad ? lm_grad(cx, bias) : NULL;
  float *gx = x->requires_grad ? lm_grad(cx, x) : NULL;
  if (cx->status) return cx->status;
  const lm_arena_mark mark = lm_arena_mark_here(cx->arena);
  float *dz = lm_scratch_f32(cx, op, B * T, G);        /* d pre-activations (input side) */
  float *drec = ra ? lm_scratch_f32(cx, op, B * T, G) : dz; /* d (h U + b') with reset_after */
  float *dh = drec ? lm_scratch_f32(cx, op, B, U) : NULL, *dhn = dh ? lm_scratch_f32(cx, op, B, U) : NULL;
  float *t1 = dhn ? lm_scratch_f32(cx, op, B, U) : NULL, *drh = t1 ? lm_scratch_f32(cx, op, B, U) : NULL;
  float *hold = drh ? lm_scratch_f32(cx, op, 2 * B, U) : NULL; /* dh held; a [b, u] for the dropout */
  if (!hold) return cx->status;
  memset(dh, 0, (size_t)(B * U) * sizeof(float));
  if (!s->fused) { /* the fused kernels write every block of every step */
    memset(dz, 0, (size_t)(B * T * G) * sizeof(float));
    if (ra) memset(drec, 0, (size_t)(B * T * G) * sizeof(float));
  }
  const size_t Us = (size_t)U;
  int st = LOOM_OK;
  for (int64_t step = T - 1; step >= 0 && st == LOOM_OK; --step) {
    for (int64_t bi = 0; bi < B; ++bi) {
      const float *dout = s->cfg.return_sequences ? dy + (bi * T + step) * U : (step == T - 1 ? dy + bi * U : NULL);
      if (dout && lm_rnn_output_flows(&s->mk, bi, step)) lm_k_add(dh + bi * U, dout, dh + bi * U, Us);
    }
    lm_rnn_hold(&s->mk, dh, hold, step);
    if (s->fused) {
      st = gru_fused_step_grad(s, uk, dh, dz, drec, drh, dhn, step);
    } else {
    for (int64_t bi = 0; bi < B; ++bi) {
      float *dhb = dh + bi * U, *tb = t1 + bi * U;
      const float *pre = ROW(s, s->pre, bi, step, G), *a = ROW(s, s->a, bi, step, G);
      const float *hp = s->h + (bi * (T + 1) + step) * U;
      float *dzb = ROW(s, dz, bi, step, G);
      /* dhh = dh (1 - z) = dh - dh z; d pre_h = act'(pre_h) dhh */
      lm_k_mul(dhb, a, tb, Us);
      lm_k_sub(dhb, tb, tb, Us);
      lm_k_act_grad(s->act.f, &s->act.p, pre + 2 * U, tb, dzb + 2 * U, Us);
      /* dz_act = dh (h_prev - hh), kept in dhn's row for now */
      float *dza = dhn + bi * U;
      lm_k_sub(hp, a + 2 * U, dza, Us);
      lm_k_mul(dza, dhb, dza, Us);
      lm_k_act_grad(s->rec.f, &s->rec.p, pre, dza, dzb, Us);
      if (ra) { /* d rec_h = d pre_h r; dr = d pre_h rec_h */
        float *drb = ROW(s, drec, bi, step, G);
        lm_k_mul(dzb + 2 * U, a + U, drb + 2 * U, Us);
        lm_k_mul(dzb + 2 * U, ROW(s, s->rh, bi, step, U), tb, Us);
        lm_k_act_grad(s->rec.f, &s->rec.p, pre + U, tb, dzb + U, Us);
        memcpy(drb, dzb, (size_t)(2 * U) * sizeof(float));
      }
    }
    if (!ra) { /* d(r h) = d pre_h . U_h^T; dr = d(r h) h_prev; dh_prev gets d(r h) r */
      st = lm_sgemm(false, true, (size_t)B, Us, Us, 1.0f, dz + step * G + 2 * U, (size_t)(T * G), uk + 2 * U,
                    (size_t)G, 0.0f, drh, Us, NULL);
      for (int64_t bi = 0; bi < B && st == LOOM_OK; ++bi) {
        const float *pre = ROW(s, s->pre, bi, step, G);
        const float *hp = lm_rnn_prev_row(&s->mk, s->h, bi, step, 2);
        float *dzb = ROW(s, dz, bi, step, G), *tb = t1 + bi * U;
        lm_k_mul(drh + bi * U, hp, tb, Us);
        lm_k_act_grad(s->rec.f, &s->rec.p, pre + U, tb, dzb + U, Us);
      }
    }
    /* dh_prev = dh z (+ d(r h_h) r drop_h) + d rec . U^T over the gates the recurrence
     * feeds (each times its dropout) */
    for (int64_t bi = 0; bi < B; ++bi) {
      float *dn = dhn + bi * U;
      lm_k_mul(dh + bi * U, ROW(s, s->a, bi, step, G), dn, Us);
      if (!ra) {
        float *tb = t1 + bi * U;
        lm_k_mul(drh + bi * U, ROW(s, s->a, bi, step, G) + U, tb, Us);
        if (s->mk.drop) lm_k_mul(tb, s->mk.drop + bi * G + 2 * U, tb, Us);
        lm_k_add(dn, tb, dn, Us);
      }
    }
    }
    if (st == LOOM_OK)
      st = lm_rnn_rec_backward(&s->mk, drec + step * G, (size_t)(T * G), uk, 0, ra ? 3 : 2, 1.0f, dhn, hold + B * U);
    lm_rnn_release(&s->mk, dhn, hold, step);
    float *tmp = dh;
    dh = dhn, dhn = tmp;
  }
  const size_t rows = (size_t)(B * T);
  if (st == LOOM_OK && g0) lm_k_add(g0, dh, g0, (size_t)(B * U));
  if (st == LOOM_OK && gw) {
    st = lm_rnn_kernel_grad(&s->mk, s->xs, dz, gw);
  }
  if (st == LOOM_OK && gu) {
    if (ra) {
      st = lm_rnn_rec_weight_grad(cx, op, &s->mk, s->h, drec, 0, 3, gu);
    } else {
      st = lm_rnn_rec_weight_grad(cx, op, &s->mk, s->h, dz, 0, 2, gu);
      if (st == LOOM_OK)
        st = lm_sgemm(true, false, Us, Us, rows, 1.0f, s->rh, Us, dz + 2 * U, (size_t)G, 1.0f, gu + 2 * U, (size_t)G, NULL);
    }
  }
  if (st == LOOM_OK && gb) {
    lm_bias_grad(dz, rows, (size_t)G, gb);
    if (ra) lm_bias_grad(drec, rows, (size_t)G, gb + G);
  }
  if (st == LOOM_OK && gx) st = lm_rnn_input_grad(cx, op, &s->mk, dz, w, gx, s->cfg.go_backwards);
  lm_arena_rewind(cx->arena, mark);
  return st == LOOM_OK ? st : lm_fail(cx, st, op, "backward: %s", loom_last_error());
}

loom_tensor *loom_gru(loom_ctx *cx, loom_tensor *x, loom_tensor *h0, loom_tensor *kernel,
                      loom_tensor *recurrent_kernel, loom_tensor *bias, const loom_rnn_cfg *cfg) {
  loom_tensor *in[5] = {x, h0, kernel, recurrent_kernel, bias};
  const int n_in = bias ? 5 : 4;
  if (!lm_inputs_ok(cx, op, 1, &x) || !lm_inputs_ok(cx, op, 2, in + 2) || (bias && !lm_inputs_ok(cx, op, 1, &bias)) ||
      (h0 && !lm_inputs_ok(cx, op, 1, &h0)))
    return NULL;
  if (!cfg) {
    lm_fail(cx, LOOM_EINVAL, op, "cfg is NULL");
    return NULL;
  }
  lm_rnn_act act, rec;
  if (!lm_rnn_acts(cx, op, cfg, &act, &rec) || !lm_rnn_shapes_ok(cx, op, x, h0, kernel, recurrent_kernel, 3))
    return NULL;
  const int64_t B = x->shape[0], T = x->shape[1], D = x->shape[2], U = recurrent_kernel->shape[0], G = 3 * U;
  const bool bias_ok = !bias || (cfg->reset_after ? bias->rank == 2 && bias->shape[0] == 2 && bias->shape[1] == G
                                                  : bias->rank == 1 && bias->shape[0] == G);
  if (!bias_ok) {
    char sb[96];
    lm_fail(cx, LOOM_ESHAPE, op, "bias %s does not fit %lld units (expected %s)", lm_shape_str(bias, sb, sizeof sb),
            (long long)U, cfg->reset_after ? "[2, 3 units] with reset_after" : "[3 units] without reset_after");
    return NULL;
  }
  if (T < 1) {
    lm_fail(cx, LOOM_ESHAPE, op, "the input has no steps");
    return NULL;
  }
  const bool fused = (!cfg->activation || cfg->activation == LOOM_TANH) &&
                     (!cfg->recurrent_activation || cfg->recurrent_activation == LOOM_SIGMOID);
  gru_state *s = lm_scratch(cx, op, sizeof *s);
  float *a = s ? lm_scratch_f32(cx, op, B * T, G) : NULL, *pre = a && !fused ? lm_scratch_f32(cx, op, B * T, G) : a;
  float *rh = pre ? lm_scratch_f32(cx, op, B * T, U) : NULL, *h = rh ? lm_scratch_f32(cx, op, B * (T + 1), U) : NULL;
  const int64_t seq_shape[3] = {B, T, U}, last_shape[2] = {B, U};
  loom_tensor *y = h ? lm_out(cx, op, cfg->return_sequences ? 3 : 2, cfg->return_sequences ? seq_shape : last_shape) : NULL;
  if (!y) return NULL;
  *s = (gru_state){.b = B, .t = T, .d = D, .u = U, .cfg = *cfg, .act = act, .rec = rec, .fused = fused, .pre = pre, .a = a,
                   .rh = rh, .h = h, .has_h0 = h0 != NULL};
  if (!lm_rnn_masks(cx, op, cfg, B, T, D, U, 3, &s->mk)) return NULL;
  s->xs = lm_rnn_steps(cx, op, x, cfg->go_backwards);
  if (!s->xs) return NULL;
  int st = lm_rnn_project(&s->mk, s->xs, kernel->data, bias ? (const float *)bias->data : NULL, pre);
  if (st) {
    lm_fail(cx, st, op, "%s", loom_last_error());
    return NULL;
  }
  lm_rnn_init_state(h0, h, B, T, U);
  const float *brec = bias && cfg->reset_after ? (const float *)bias->data + G : NULL;
  if (gru_forward_steps(cx, s, recurrent_kernel, brec)) return NULL;
  lm_rnn_output(h, y->data, B, T, U, cfg->return_sequences);
  lm_rnn_zero_masked(&s->mk, y->data, cfg->return_sequences);
  /* the tape's inputs: x, h0 (or x again, taking no gradient from this op), weights */
  loom_tensor *rec_in[5] = {x, h0 ? h0 : x, kernel, recurrent_kernel, bias};
  return lm_record(cx, op, gru_backward, y, n_in, rec_in, s);
}
