/* lstm.c - Keras' LSTM: forward and backward through time.
 * Forward: one GEMM projects every step's input (x . W + b for all steps at once); each
 * step adds h_{t-1} . U with a small GEMM into its gate rows, then the fused cell kernel
 * (simd/lstm.cc) computes the gates and the cell update. Backward walks the steps in reverse with one small GEMM per
 * step (dh_{t-1} = dZ_t . U^T); the weight gradients are single GEMMs over all steps
 * (dW = X^T . dZ, dU = H_prev^T . dZ), so no transpose is materialised. Everything is
 * kept batch-major ([batch, steps, ...]); a step is a strided slice. */
#include <string.h>

#include "ops/rnn.h"
#include "simd/simd.h"

static const char op[] = "loom_lstm";

typedef struct {
  int64_t b, t, d, u;
  bool seq, back;
  float *gates; /* [b, t, 4u]: i, f, g, o after their activations */
  float *c;     /* [b, t + 1, u]: c_{-1} = 0 first */
  float *h;     /* [b, t + 1, u]: h_{-1} = 0 first */
  const float *xs; /* x in step order: x itself, or its time-reversed copy */
} lstm_state;


static int lstm_backward(loom_ctx *cx, const lm_rec *r) {
  const lstm_state *s = r->saved;
  loom_tensor *x = r->in[0], *w = r->in[1], *u = r->in[2], *bias = r->n_in > 3 ? r->in[3] : NULL;
  const int64_t B = s->b, T = s->t, D = s->d, U = s->u, G = 4 * U;
  const float *dy = r->out->grad;
  const size_t zn = (size_t)(B * T * G);
  float *dz = lm_scratch_f32(cx, op, (int64_t)zn, 1); /* [b, t, 4u] by step */
  float *dh = dz ? lm_scratch_f32(cx, op, B, U) : NULL;
  float *dc = dh ? lm_scratch_f32(cx, op, B, U) : NULL;
  if (!dc) return cx->status;
  memset(dh, 0, (size_t)(B * U) * sizeof(float));
  memset(dc, 0, (size_t)(B * U) * sizeof(float));
  for (int64_t step = T - 1; step >= 0; --step) {
    for (int64_t bi = 0; bi < B; ++bi) {
      const float *c_prev = s->c + (bi * (T + 1) + step) * U;
      const float *dout = s->seq ? dy + (bi * T + step) * U : (step == T - 1 ? dy + bi * U : NULL);
      float *dhb = dh + bi * U;
      if (dout) lm_k_add(dhb, dout, dhb, (size_t)U); /* all of d loss / d h_t */
      lm_k_lstm_cell_grad(s->gates + (bi * T + step) * G, c_prev, c_prev + U, dhb, dc + bi * U,
                          dz + (bi * T + step) * G, (size_t)U);
    }
    /* dh_{t-1} = dZ_t . U^T (rows of dZ_t are T * 4u apart) */
    const int st = lm_sgemm(false, true, (size_t)B, (size_t)U, (size_t)G, 1.0f, dz + step * G,
                            (size_t)(T * G), u->data, (size_t)G, 0.0f, dh, (size_t)U, NULL);
    if (st != LOOM_OK) return lm_fail(cx, st, op, "backward: %s", loom_last_error());
  }
  const float *xs = s->xs; /* rows by step, as dZ's */
  int st = LOOM_OK;
  const size_t rows = (size_t)(B * T);
  if (w->requires_grad) {
    float *gw = lm_grad(cx, w);
    if (!gw) return cx->status;
    st = lm_sgemm(true, false, (size_t)D, (size_t)G, rows, 1.0f, xs, (size_t)D, dz, (size_t)G, 1.0f, gw, (size_t)G, NULL);
  }
  if (st == LOOM_OK && u->requires_grad) {
    /* dU = H_prev^T . dZ as one GEMM: H_prev (h_{-1} .. h_{t-2} of every sample) gathered
     * into rows that line up with dZ's */
    float *gu = lm_grad(cx, u);
    const float *hp = gu ? lm_rnn_prev_states(cx, op, s->h, B, T, U) : NULL;
    if (!hp) return cx->status;
    st = lm_sgemm(true, false, (size_t)U, (size_t)G, rows, 1.0f, hp, (size_t)U, dz, (size_t)G, 1.0f,
                  gu, (size_t)G, NULL);
  }
  if (st == LOOM_OK && bias && bias->requires_grad) {
    float *gb = lm_grad(cx, bias);
    if (!gb) return cx->status;
    lm_bias_grad(dz, rows, (size_t)G, gb);
  }
  if (st == LOOM_OK && x->requires_grad) {
    float *gx = lm_grad(cx, x);
    if (!gx) return cx->status;
    st = lm_rnn_input_grad(cx, op, dz, w, gx, B, T, s->back);
  }
  return st == LOOM_OK ? st : lm_fail(cx, st, op, "backward: %s", loom_last_error());
}

loom_tensor *loom_lstm(loom_ctx *cx, loom_tensor *x, loom_tensor *kernel,
                       loom_tensor *recurrent_kernel, loom_tensor *bias, bool return_sequences,
                       bool go_backwards) {
  loom_tensor *in[4] = {x, kernel, recurrent_kernel, bias};
  const int n_in = bias ? 4 : 3;
  if (!lm_inputs_ok(cx, op, n_in, in)) return NULL;
  char sx[96], sk[96], su[96];
  const bool shapes_ok = x->rank == 3 && kernel->rank == 2 && recurrent_kernel->rank == 2 &&
                         kernel->shape[0] == x->shape[2] && kernel->shape[1] % 4 == 0 &&
                         recurrent_kernel->shape[0] * 4 == kernel->shape[1] &&
                         recurrent_kernel->shape[1] == kernel->shape[1];
  if (!shapes_ok) {
    lm_fail(cx, LOOM_ESHAPE, op, "input %s, kernel %s and recurrent kernel %s do not fit (expected "
            "[batch, steps, in], [in, 4 units], [units, 4 units])", lm_shape_str(x, sx, sizeof sx),
            lm_shape_str(kernel, sk, sizeof sk), lm_shape_str(recurrent_kernel, su, sizeof su));
    return NULL;
  }
  if (bias && (bias->rank != 1 || bias->shape[0] != kernel->shape[1])) {
    lm_fail(cx, LOOM_ESHAPE, op, "bias %s does not fit kernel %s (expected [4 units])",
            lm_shape_str(bias, sx, sizeof sx), lm_shape_str(kernel, sk, sizeof sk));
    return NULL;
  }
  const int64_t B = x->shape[0], T = x->shape[1], D = x->shape[2], U = recurrent_kernel->shape[0];
  const int64_t G = 4 * U;
  lstm_state *s = loom_arena_alloc(cx->arena, sizeof *s);
  float *gates = loom_arena_alloc(cx->arena, (size_t)(B * T * G) * sizeof(float) + 1);
  float *c = loom_arena_alloc(cx->arena, (size_t)(B * (T + 1) * U) * sizeof(float) + 1);
  float *h = loom_arena_alloc(cx->arena, (size_t)(B * (T + 1) * U) * sizeof(float) + 1);
  const int64_t seq_shape[3] = {B, T, U}, last_shape[2] = {B, U};
  loom_tensor *y = s && gates && c && h ? lm_out(cx, op, return_sequences ? 3 : 2,
                                                 return_sequences ? seq_shape : last_shape)
                                        : NULL;
  if (!y) {
    if (cx->status == LOOM_OK) lm_fail(cx, LOOM_ENOMEM, op, "%s", loom_arena_error(cx->arena));
    return NULL;
  }
  *s = (lstm_state){B, T, D, U, return_sequences, go_backwards, gates, c, h, NULL};
  /* input projection of every step at once, into the gate rows (by step) */
  const float *xs = lm_rnn_steps(cx, op, x, go_backwards);
  if (!xs) return NULL;
  s->xs = xs;
  const lm_gemm_epilogue ep = {bias ? (const float *)bias->data : NULL, LM_ACT_NONE};
  int st = lm_sgemm(false, false, (size_t)(B * T), (size_t)G, (size_t)D, 1.0f, xs, (size_t)D,
                    kernel->data, (size_t)G, 0.0f, gates, (size_t)G, &ep);
  for (int64_t bi = 0; bi < B; ++bi) {
    memset(c + bi * (T + 1) * U, 0, (size_t)U * sizeof(float));
    memset(h + bi * (T + 1) * U, 0, (size_t)U * sizeof(float));
  }
  for (int64_t step = 0; step < T && st == LOOM_OK; ++step) {
    /* z_t += h_{t-1} . U: rows of h are (T + 1) u apart, rows of z T 4u apart */
    st = lm_sgemm(false, false, (size_t)B, (size_t)G, (size_t)U, 1.0f, h + step * U,
                  (size_t)((T + 1) * U), recurrent_kernel->data, (size_t)G, 1.0f, gates + step * G,
                  (size_t)(T * G), NULL);
    for (int64_t bi = 0; bi < B && st == LOOM_OK; ++bi) {
      float *c_prev = c + (bi * (T + 1) + step) * U;
      lm_k_lstm_cell(gates + (bi * T + step) * G, c_prev, c_prev + U,
                     h + (bi * (T + 1) + step + 1) * U, (size_t)U);
    }
  }
  if (st != LOOM_OK) {
    lm_fail(cx, st, op, "%s", loom_last_error());
    return NULL;
  }
  lm_rnn_output(h, y->data, B, T, U, return_sequences);
  return lm_record(cx, op, lstm_backward, y, n_in, in, s);
}
