/* lstm.c - Keras' LSTM: forward and backward through time.
 * Forward: one GEMM projects every step's input (x . W + b for all steps at once); each
 * step adds h_{t-1} . U with a small GEMM into its gate rows, then the cell: with Keras'
 * default activations (tanh, sigmoid) the fused kernel (simd/lstm.cc), with any other
 * elementwise pair the activation kernels, keeping the pre-activations for backward.
 * Backward walks the steps in reverse with one small GEMM per step (dh_{t-1} = dZ_t .
 * U^T); the weight gradients are single GEMMs over all steps (dW = X^T . dZ, dU =
 * H_prev^T . dZ), so no transpose is materialised. The last cell state (return_state) is
 * a second tensor whose gradient the LSTM's backward starts from. Everything is kept
 * batch-major ([batch, steps, ...]); a step is a strided slice. */
#include <string.h>

#include "ops/rnn.h"
#include "simd/simd.h"

static const char op[] = "loom_lstm";

typedef struct {
  int64_t b, t, d, u;
  loom_rnn_cfg cfg;
  lm_rnn_act act, rec;
  bool fused;      /* tanh and sigmoid: the fused cell kernels */
  bool has_h0, has_c0;
  float *gates;    /* [b, t, 4u]: i, f, g, o after their activations */
  float *pre;      /* [b, t, 4u]: their pre-activations (not fused only) */
  float *c;        /* [b, t + 1, u]: c_{-1} first */
  float *h;        /* [b, t + 1, u]: h_{-1} first */
  float *dc_last;  /* [b, u]: the gradient reaching the last cell state, or NULL */
  const float *xs; /* x in step order: x itself, or its time-reversed copy */
  lm_rnn_mask mk;
} lstm_state;

#define ROW(s, base, bi, step, width) ((base) + ((bi) * (s)->t + (step)) * (width))
#define STATE(s, base, bi, step) ((base) + ((bi) * ((s)->t + 1) + (step)) * (s)->u)

/* One sample's cell at one step, gates holding the pre-activations. */
static void cell(const lstm_state *s, int64_t bi, int64_t step) {
  const size_t U = (size_t)s->u;
  float *z = ROW(s, s->gates, bi, step, 4 * s->u);
  const float *c_prev = STATE(s, s->c, bi, step);
  float *c_now = STATE(s, s->c, bi, step + 1), *h_now = STATE(s, s->h, bi, step + 1);
  if (s->fused) {
    lm_k_lstm_cell(z, c_prev, c_now, h_now, U);
    return;
  }
  memcpy(ROW(s, s->pre, bi, step, 4 * s->u), z, 4 * U * sizeof(float));
  lm_k_act(s->rec.f, &s->rec.p, z, z, 2 * U); /* i, f */
  lm_k_act(s->act.f, &s->act.p, z + 2 * U, z + 2 * U, U);
  lm_k_act(s->rec.f, &s->rec.p, z + 3 * U, z + 3 * U, U);
  lm_k_mul(z + U, c_prev, c_now, U); /* c = f c_prev + i g */
  lm_k_mul_acc(z, z + 2 * U, c_now, U);
  lm_k_act(s->act.f, &s->act.p, c_now, h_now, U); /* h = o act(c) */
  lm_k_mul(z + 3 * U, h_now, h_now, U);
}

/* One sample's cell gradient: dh (all of d loss / d h_t) and dc (d loss / d c_t, from
 * the step after) in, dz (zeroed) and dc := d loss / d c_{t-1} out; tmp holds 2u. */
static void cell_grad(const lstm_state *s, int64_t bi, int64_t step, const float *dh, float *dc, float *dz,
                      float *tmp) {
  const size_t U = (size_t)s->u;
  const float *a = ROW(s, s->gates, bi, step, 4 * s->u);
  const float *c_prev = STATE(s, s->c, bi, step), *c_now = STATE(s, s->c, bi, step + 1);
  if (s->fused) {
    lm_k_lstm_cell_grad(a, c_prev, c_now, dh, dc, dz, U);
    return;
  }
  const float *pre = ROW(s, s->pre, bi, step, 4 * s->u);
  float *t = tmp, *th = tmp + U;
  lm_k_act(s->act.f, &s->act.p, c_now, th, U);
  lm_k_mul(dh, a + 3 * U, t, U); /* dc += act'(c) dh o */
  lm_k_act_grad(s->act.f, &s->act.p, c_now, t, dc, U);
  lm_k_mul(dh, th, t, U); /* d pre_o = rec'(pre_o) dh act(c) */
  lm_k_act_grad(s->rec.f, &s->rec.p, pre + 3 * U, t, dz + 3 * U, U);
  lm_k_mul(dc, a + 2 * U, t, U); /* d pre_i = rec'(pre_i) dc g */
  lm_k_act_grad(s->rec.f, &s->rec.p, pre, t, dz, U);
  lm_k_mul(dc, c_prev, t, U); /* d pre_f = rec'(pre_f) dc c_prev */
  lm_k_act_grad(s->rec.f, &s->rec.p, pre + U, t, dz + U, U);
  lm_k_mul(dc, a, t, U); /* d pre_g = act'(pre_g) dc i */
  lm_k_act_grad(s->act.f, &s->act.p, pre + 2 * U, t, dz + 2 * U, U);
  lm_k_mul(dc, a + U, dc, U); /* dc_{t-1} = dc f */
}

static int lstm_backward(loom_ctx *cx, const lm_rec *r) {
  const lstm_state *s = r->saved;
  loom_tensor *x = r->in[0], *h0 = s->has_h0 ? r->in[1] : NULL, *c0 = s->has_c0 ? r->in[2] : NULL;
  loom_tensor *w = r->in[3], *u = r->in[4], *bias = r->n_in > 5 ? r->in[5] : NULL;
  const int64_t B = s->b, T = s->t, U = s->u, G = 4 * U;
  const float *dy = r->out->grad;
  /* the gradients first: what comes after the mark is this op's alone */
  float *gh0 = h0 && h0->requires_grad ? lm_grad(cx, h0) : NULL, *gc0 = c0 && c0->requires_grad ? lm_grad(cx, c0) : NULL;
  float *gw = w->requires_grad ? lm_grad(cx, w) : NULL, *gu = u->requires_grad ? lm_grad(cx, u) : NULL;
  float *gb = bias && bias->requires_grad ? lm_grad(cx, bias) : NULL, *gx = x->requires_grad ? lm_grad(cx, x) : NULL;
  if (cx->status) return cx->status;
  const lm_arena_mark mark = lm_arena_mark_here(cx->arena);
  float *dz = lm_scratch_f32(cx, op, B * T, G); /* [b, t, 4u] by step */
  float *dh = dz ? lm_scratch_f32(cx, op, B, U) : NULL;
  float *dc = dh ? lm_scratch_f32(cx, op, B, U) : NULL;
  float *tmp = dc ? lm_scratch_f32(cx, op, 2, U) : NULL;
  float *hold = tmp ? lm_scratch_f32(cx, op, 3 * B, U) : NULL; /* dh, dc held; a [b, u] for the dropout */
  if (!hold) return cx->status;
  if (!s->fused) memset(dz, 0, (size_t)(B * T * G) * sizeof(float));
  memset(dh, 0, (size_t)(B * U) * sizeof(float));
  if (s->dc_last) memcpy(dc, s->dc_last, (size_t)(B * U) * sizeof(float));
  else memset(dc, 0, (size_t)(B * U) * sizeof(float));
  int st = LOOM_OK;
  for (int64_t step = T - 1; step >= 0 && st == LOOM_OK; --step) {
    for (int64_t bi = 0; bi < B; ++bi) {
      const float *dout = s->cfg.return_sequences ? dy + (bi * T + step) * U : (step == T - 1 ? dy + bi * U : NULL);
      float *dhb = dh + bi * U;
      if (dout && lm_rnn_output_flows(&s->mk, bi, step)) lm_k_add(dhb, dout, dhb, (size_t)U); /* d loss / d h_t */
    }
    lm_rnn_hold(&s->mk, dh, hold, step);
    lm_rnn_hold(&s->mk, dc, hold + B * U, step);
    for (int64_t bi = 0; bi < B; ++bi) cell_grad(s, bi, step, dh + bi * U, dc + bi * U, ROW(s, dz, bi, step, G), tmp);
    /* dh_{t-1} = dZ_t . U^T (rows of dZ_t are T * 4u apart) */
    st = lm_rnn_rec_backward(&s->mk, dz + step * G, (size_t)(T * G), u->data, 0, 4, 0.0f, dh, hold + 2 * B * U);
    lm_rnn_release(&s->mk, dh, hold, step);
    lm_rnn_release(&s->mk, dc, hold + B * U, step);
  }
  const size_t rows = (size_t)(B * T);
  if (st == LOOM_OK && gh0) lm_k_add(gh0, dh, gh0, (size_t)(B * U));
  if (st == LOOM_OK && gc0) lm_k_add(gc0, dc, gc0, (size_t)(B * U));
  if (st == LOOM_OK && gw)
    st = lm_rnn_kernel_grad(&s->mk, s->xs, dz, gw);
  if (st == LOOM_OK && gu) st = lm_rnn_rec_weight_grad(cx, op, &s->mk, s->h, dz, 0, 4, gu);
  if (st == LOOM_OK && gb) lm_bias_grad(dz, rows, (size_t)G, gb);
  if (st == LOOM_OK && gx) st = lm_rnn_input_grad(cx, op, &s->mk, dz, w, gx, s->cfg.go_backwards);
  lm_arena_rewind(cx->arena, mark);
  return st == LOOM_OK ? st : lm_fail(cx, st, op, "backward: %s", loom_last_error());
}

/* The last cell state's record: its gradient is kept for the LSTM's backward, which the
 * (possibly zero) gradient of the LSTM's output makes run. */
static int last_cell_backward(loom_ctx *cx, const lm_rec *r) {
  const lstm_state *s = r->saved;
  if (!lm_grad(cx, r->in[0])) return cx->status;
  lm_k_add(s->dc_last, r->out->grad, s->dc_last, (size_t)(s->b * s->u));
  return LOOM_OK;
}

static bool bias_ok(loom_ctx *cx, const loom_tensor *bias, const loom_tensor *kernel) {
  if (!bias || (bias->rank == 1 && bias->shape[0] == kernel->shape[1])) return true;
  char sb[96], sk[96];
  lm_fail(cx, LOOM_ESHAPE, op, "bias %s does not fit kernel %s (expected [4 units])", lm_shape_str(bias, sb, sizeof sb),
          lm_shape_str(kernel, sk, sizeof sk));
  return false;
}

loom_tensor *loom_lstm(loom_ctx *cx, loom_tensor *x, loom_tensor *h0, loom_tensor *c0, loom_tensor *kernel,
                       loom_tensor *recurrent_kernel, loom_tensor *bias, const loom_rnn_cfg *cfg,
                       loom_tensor **c_last) {
  if (c_last) *c_last = NULL;
  loom_tensor *w[2] = {kernel, recurrent_kernel};
  if (!lm_inputs_ok(cx, op, 1, &x) || !lm_inputs_ok(cx, op, 2, w) || (bias && !lm_inputs_ok(cx, op, 1, &bias)) ||
      (h0 && !lm_inputs_ok(cx, op, 1, &h0)) || (c0 && !lm_inputs_ok(cx, op, 1, &c0)))
    return NULL;
  if (!cfg) {
    lm_fail(cx, LOOM_EINVAL, op, "cfg is NULL");
    return NULL;
  }
  lm_rnn_act act, rec;
  if (!lm_rnn_acts(cx, op, cfg, &act, &rec) || !lm_rnn_shapes_ok(cx, op, x, h0, kernel, recurrent_kernel, 4) ||
      !lm_rnn_shapes_ok(cx, op, x, c0, kernel, recurrent_kernel, 4) || !bias_ok(cx, bias, kernel))
    return NULL;
  const int64_t B = x->shape[0], T = x->shape[1], D = x->shape[2], U = recurrent_kernel->shape[0], G = 4 * U;
  if (T < 1) {
    lm_fail(cx, LOOM_ESHAPE, op, "the input has no steps");
    return NULL;
  }
  const bool fused = (!cfg->activation || cfg->activation == LOOM_TANH) &&
                     (!cfg->recurrent_activation || cfg->recurrent_activation == LOOM_SIGMOID);
  lstm_state *s = lm_scratch(cx, op, sizeof *s);
  float *gates = s ? lm_scratch_f32(cx, op, B * T, G) : NULL;
  float *pre = gates && !fused ? lm_scratch_f32(cx, op, B * T, G) : gates;
  float *c = pre ? lm_scratch_f32(cx, op, B * (T + 1), U) : NULL, *h = c ? lm_scratch_f32(cx, op, B * (T + 1), U) : NULL;
  float *dc_last = h && c_last && cx->training ? lm_scratch_f32(cx, op, B, U) : NULL;
  const int64_t seq_shape[3] = {B, T, U}, last_shape[2] = {B, U};
  loom_tensor *y = h ? lm_out(cx, op, cfg->return_sequences ? 3 : 2, cfg->return_sequences ? seq_shape : last_shape) : NULL;
  loom_tensor *cy = y && c_last ? lm_out(cx, op, 2, last_shape) : NULL;
  if (!y || (c_last && !cy) || (c_last && cx->training && !dc_last)) return NULL;
  *s = (lstm_state){.b = B, .t = T, .d = D, .u = U, .cfg = *cfg, .act = act, .rec = rec, .fused = fused,
                    .has_h0 = h0 != NULL, .has_c0 = c0 != NULL, .gates = gates, .pre = fused ? NULL : pre,
                    .c = c, .h = h, .dc_last = dc_last};
  if (!lm_rnn_masks(cx, op, cfg, B, T, D, U, 4, &s->mk)) return NULL;
  /* input projection of every step at once, into the gate rows (by step) */
  s->xs = lm_rnn_steps(cx, op, x, cfg->go_backwards);
  if (!s->xs) return NULL;
  int st = lm_rnn_project(&s->mk, s->xs, kernel->data, bias ? (const float *)bias->data : NULL, gates);
  lm_rnn_init_state(h0, h, B, T, U);
  lm_rnn_init_state(c0, c, B, T, U);
  for (int64_t step = 0; step < T && st == LOOM_OK; ++step) {
    /* z_t += h_{t-1} . U: rows of h are (T + 1) u apart, rows of z T 4u apart */
    st = lm_rnn_rec_forward(&s->mk, h, step, recurrent_kernel->data, 0, 4, NULL, 1.0f, gates + step * G,
                            (size_t)(T * G));
    for (int64_t bi = 0; bi < B && st == LOOM_OK; ++bi) cell(s, bi, step);
    lm_rnn_carry(&s->mk, h, step);
    lm_rnn_carry(&s->mk, c, step);
  }
  if (st != LOOM_OK) {
    lm_fail(cx, st, op, "%s", loom_last_error());
    return NULL;
  }
  lm_rnn_output(h, y->data, B, T, U, cfg->return_sequences);
  lm_rnn_zero_masked(&s->mk, y->data, cfg->return_sequences);
  /* the tape's inputs: x, h0 and c0 (or x again, taking no gradient from this op), weights */
  loom_tensor *rec_in[6] = {x, h0 ? h0 : x, c0 ? c0 : x, kernel, recurrent_kernel, bias};
  if (!lm_record(cx, op, lstm_backward, y, bias ? 6 : 5, rec_in, s)) return NULL;
  if (c_last) {
    lm_rnn_output(c, cy->data, B, T, U, false);
    if (dc_last) memset(dc_last, 0, (size_t)(B * U) * sizeof(float));
    if (!lm_record(cx, op, last_cell_backward, cy, 1, &y, s)) return NULL;
    *c_last = cy;
  }
  return y;
}
