/* simple_rnn.c - Keras' SimpleRNN: h_t = act(x_t W + b + h_{t-1} U), forward and backward
 * through time: one GEMM for every step's input, one small GEMM per step each way, the
 * weight gradients as single GEMMs over all steps. */
#include <string.h>

#include "ops/rnn.h"
#include "simd/simd.h"

static const char op[] = "loom_simple_rnn";

typedef struct {
  int64_t b, t, d, u;
  loom_rnn_cfg cfg;
  lm_rnn_act act;
  const float *xs; /* x in step order */
  float *pre;      /* [b, t, u] */
  float *h;        /* [b, t + 1, u], h_{-1} first */
  bool has_h0;
  lm_rnn_mask mk;
} rnn_state;

static int rnn_backward(loom_ctx *cx, const lm_rec *r) {
  const rnn_state *s = r->saved;
  loom_tensor *x = r->in[0], *h0 = s->has_h0 ? r->in[1] : NULL, *w = r->in[2], *u = r->in[3];
  loom_tensor *bias = r->n_in > 4 ? r->in[4] : NULL;
  const int64_t B = s->b, T = s->t, U = s->u;
  float *g0 = h0 && h0->requires_grad ? lm_grad(cx, h0) : NULL, *gw = w->requires_grad ? lm_grad(cx, w) : NULL;
  float *gu = u->requires_grad ? lm_grad(cx, u) : NULL, *gb = bias && bias->requires_grad ? lm_grad(cx, bias) : NULL;
  float *gx = x->requires_grad ? lm_grad(cx, x) : NULL;
  if (cx->status) return cx->status;
  const lm_arena_mark mark = lm_arena_mark_here(cx->arena);
  const float *dy = r->out->grad;
  float *dz = lm_scratch_f32(cx, op, B * T, U), *dh = dz ? lm_scratch_f32(cx, op, B, U) : NULL;
  float *hold = dh ? lm_scratch_f32(cx, op, B, U) : NULL, *tmp = hold ? lm_scratch_f32(cx, op, B, U) : NULL;
  if (!tmp) return cx->status;
  memset(dz, 0, (size_t)(B * T * U) * sizeof(float));
  memset(dh, 0, (size_t)(B * U) * sizeof(float));
  int st = LOOM_OK;
  for (int64_t step = T - 1; step >= 0 && st == LOOM_OK; --step) {
    for (int64_t bi = 0; bi < B; ++bi) {
      const float *dout = s->cfg.return_sequences ? dy + (bi * T + step) * U : (step == T - 1 ? dy + bi * U : NULL);
      if (dout && lm_rnn_output_flows(&s->mk, bi, step)) lm_k_add(dh + bi * U, dout, dh + bi * U, (size_t)U);
    }
    lm_rnn_hold(&s->mk, dh, hold, step);
    for (int64_t bi = 0; bi < B; ++bi) {
      const int64_t at = (bi * T + step) * U;
      lm_k_act_grad(s->act.f, &s->act.p, s->pre + at, dh + bi * U, dz + at, (size_t)U);
    }
    st = lm_rnn_rec_backward(&s->mk, dz + step * U, (size_t)(T * U), u->data, 0, 1, 0.0f, dh, tmp);
    lm_rnn_release(&s->mk, dh, hold, step);
  }
  const size_t rows = (size_t)(B * T);
  if (st == LOOM_OK && g0) lm_k_add(g0, dh, g0, (size_t)(B * U));
  if (st == LOOM_OK && gw)
    st = lm_rnn_kernel_grad(&s->mk, s->xs, dz, gw);
  if (st == LOOM_OK && gu) st = lm_rnn_rec_weight_grad(cx, op, &s->mk, s->h, dz, 0, 1, gu);
  if (st == LOOM_OK && gb) lm_bias_grad(dz, rows, (size_t)U, gb);
  if (st == LOOM_OK && gx) st = lm_rnn_input_grad(cx, op, &s->mk, dz, w, gx, s->cfg.go_backwards);
  lm_arena_rewind(cx->arena, mark);
  return st == LOOM_OK ? st : lm_fail(cx, st, op, "backward: %s", loom_last_error());
}

loom_tensor *loom_simple_rnn(loom_ctx *cx, loom_tensor *x, loom_tensor *h0, loom_tensor *kernel,
                             loom_tensor *recurrent_kernel, loom_tensor *bias, const loom_rnn_cfg *cfg) {
  if (!lm_inputs_ok(cx, op, 1, &x) || !lm_inputs_ok(cx, op, 1, &kernel) || !lm_inputs_ok(cx, op, 1, &recurrent_kernel) ||
      (bias && !lm_inputs_ok(cx, op, 1, &bias)) || (h0 && !lm_inputs_ok(cx, op, 1, &h0)))
    return NULL;
  if (!cfg) {
    lm_fail(cx, LOOM_EINVAL, op, "cfg is NULL");
    return NULL;
  }
  lm_rnn_act act, unused;
  if (!lm_rnn_acts(cx, op, &(loom_rnn_cfg){.activation = cfg->activation, .recurrent_activation = LOOM_SIGMOID},
                   &act, &unused) ||
      !lm_rnn_shapes_ok(cx, op, x, h0, kernel, recurrent_kernel, 1))
    return NULL;
  const int64_t B = x->shape[0], T = x->shape[1], D = x->shape[2], U = recurrent_kernel->shape[0];
  if (bias && (bias->rank != 1 || bias->shape[0] != U)) {
    char sb[96];
    lm_fail(cx, LOOM_ESHAPE, op, "bias %s does not fit %lld units (expected [units])", lm_shape_str(bias, sb, sizeof sb),
            (long long)U);
    return NULL;
  }
  if (T < 1) {
    lm_fail(cx, LOOM_ESHAPE, op, "the input has no steps");
    return NULL;
  }
  rnn_state *s = lm_scratch(cx, op, sizeof *s);
  float *pre = s ? lm_scratch_f32(cx, op, B * T, U) : NULL, *h = pre ? lm_scratch_f32(cx, op, B * (T + 1), U) : NULL;
  const int64_t seq_shape[3] = {B, T, U}, last_shape[2] = {B, U};
  loom_tensor *y = h ? lm_out(cx, op, cfg->return_sequences ? 3 : 2, cfg->return_sequences ? seq_shape : last_shape) : NULL;
  if (!y) return NULL;
  *s = (rnn_state){.b = B, .t = T, .d = D, .u = U, .cfg = *cfg, .act = act, .pre = pre, .h = h, .has_h0 = h0 != NULL};
  if (!lm_rnn_masks(cx, op, cfg, B, T, D, U, 1, &s->mk)) return NULL;
  s->xs = lm_rnn_steps(cx, op, x, cfg->go_backwards);
  if (!s->xs) return NULL;
  int st = lm_rnn_project(&s->mk, s->xs, kernel->data, bias ? (const float *)bias->data : NULL, pre);
  lm_rnn_init_state(h0, h, B, T, U);
  for (int64_t step = 0; step < T && st == LOOM_OK; ++step) {
    st = lm_rnn_rec_forward(&s->mk, h, step, recurrent_kernel->data, 0, 1, NULL, 1.0f, pre + step * U, (size_t)(T * U));
    for (int64_t bi = 0; bi < B && st == LOOM_OK; ++bi)
      lm_k_act(act.f, &act.p, pre + (bi * T + step) * U, h + (bi * (T + 1) + step + 1) * U, (size_t)U);
    lm_rnn_carry(&s->mk, h, step);
  }
  if (st) {
    lm_fail(cx, st, op, "%s", loom_last_error());
    return NULL;
  }
  lm_rnn_output(h, y->data, B, T, U, cfg->return_sequences);
  lm_rnn_zero_masked(&s->mk, y->data, cfg->return_sequences);
  loom_tensor *rec_in[5] = {x, h0 ? h0 : x, kernel, recurrent_kernel, bias};
  return lm_record(cx, op, rnn_backward, y, bias ? 5 : 4, rec_in, s);
}
