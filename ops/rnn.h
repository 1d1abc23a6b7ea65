/* rnn.h - what the recurrent ops share (internal): their activations, the input in step
 * order, the input gradient put back in time order, and the output assembled from the
 * states. Everything is batch-major ([batch, steps, ...]); a step is a strided slice. */
#ifndef LOOM_OPS_RNN_H
#define LOOM_OPS_RNN_H

#include "ops/act.h"

typedef struct lm_rnn_act {
  lm_actfn f;
  lm_act_param p;
} lm_rnn_act;

/* The cell and gate activations of cfg as kernels; false (ctx error naming op) for an
 * unknown one or softmax. */
bool lm_rnn_acts(loom_ctx *cx, const char *op, const loom_rnn_cfg *cfg, lm_rnn_act *act, lm_rnn_act *rec);
/* x [b, t, d] in step order: x itself, or a time-reversed copy in scratch (go_backwards). */
const float *lm_rnn_steps(loom_ctx *cx, const char *op, const loom_tensor *x, bool back);
/* The output from the states h [b, t + 1, u] (h_{-1} first): every h_t, or the last. */
void lm_rnn_output(const float *h, float *y, int64_t b, int64_t t, int64_t u, bool seq);
/* h0 (or zeros) into the first state of each sample of h [b, t + 1, u]. */
void lm_rnn_init_state(const loom_tensor *h0, float *h, int64_t b, int64_t t, int64_t u);
/* x [b, t, d], kernel [d, g u], recurrent kernel [u, g u], h0 [b, u] or NULL: false with
 * the ctx's error, naming the expected shapes, when they do not fit. */
bool lm_rnn_shapes_ok(loom_ctx *cx, const char *op, const loom_tensor *x, const loom_tensor *h0,
                      const loom_tensor *kernel, const loom_tensor *recurrent, int gates);

/* A cfg's mask and recurrent dropout as the steps use them (lm_rnn_masks). Keras'
 * recurrent dropout draws one mask per gate (its implementation 1): gate g's recurrent
 * product reads h_{t-1} * drop_g, kept in hd for backward. */
typedef struct lm_rnn_mask {
  int64_t b, t, d, u;
  int gates;         /* gate blocks of the kernels: LSTM 4, GRU 3, SimpleRNN 1 */
  const float *keep; /* [b, t] in step order (reversed with go_backwards), or NULL: all valid */
  bool zero_output;  /* masked steps output zeros instead of the carried state */
  const float *drop; /* [b, gates u] recurrent dropout, or NULL */
  float *hd;         /* drop: [b, t, gates u] each gate's h_{t-1} * drop_g by step */
  const float *in_drop; /* [b, gates d] input dropout per gate, or NULL */
  float *xd;            /* in_drop: [b, t, gates d] each gate's x_t * in_drop_g by step */
} lm_rnn_mask;

/* cfg's mask, recurrent_mask and input_mask checked against x [b, t, d] and u units and
 * laid out for the steps; false with the ctx's error. */
bool lm_rnn_masks(loom_ctx *cx, const char *op, const loom_rnn_cfg *cfg, int64_t b, int64_t t, int64_t d, int64_t u,
                  int gates, lm_rnn_mask *m);
/* pre [b t, gates u] = xs . W + bias (NULL: none) for every step at once, xs the input in
 * step order, w [d, gates u]: one GEMM, or with input dropout one per gate over its
 * x * in_drop_g (kept in xd). */
int lm_rnn_project(const lm_rnn_mask *m, const float *xs, const float *w, const float *bias, float *pre);
/* gw += X^T . dZ over every step (X as each gate read it), dz [b, t, gates u]. */
int lm_rnn_kernel_grad(const lm_rnn_mask *m, const float *xs, const float *dz, float *gw);
/* gx (time order) += dz . W^T (each gate's part times its input dropout), dz [b, t, gates
 * u] by step, kernel w [d, gates u]: the input gradient, put back in time order when the
 * steps ran backwards. LOOM_OK or an error. */
int lm_rnn_input_grad(loom_ctx *cx, const char *op, const lm_rnn_mask *m, const float *dz, const loom_tensor *w,
                      float *gx, bool back);
/* Whether sample bi's step is masked. */
static inline bool lm_rnn_masked(const lm_rnn_mask *m, int64_t bi, int64_t step) {
  return m->keep && m->keep[bi * m->t + step] == 0.0f;
}
/* out (rows ld_out apart) = beta out + h_{t-1} . U[:, g0 u : g1 u) (+ bias, NULL: none)
 * for the step, h [b, t + 1, u] with h_{-1} first: one GEMM, or with recurrent dropout
 * one per gate over its h_{t-1} * drop_g (written into hd). uk is [u, gates u]. */
int lm_rnn_rec_forward(const lm_rnn_mask *m, const float *h, int64_t step, const float *uk, int g0, int g1,
                       const float *bias, float beta, float *out, size_t ld_out);
/* Sample bi's h_{t-1} as gate g's product read it (after lm_rnn_rec_forward's step). */
const float *lm_rnn_prev_row(const lm_rnn_mask *m, const float *h, int64_t bi, int64_t step, int g);
/* dprev = beta dprev + sum over gates g in [g0, g1) of (dz_g . U_g^T) * drop_g, dz the
 * step's rows (ldz apart); tmp holds [b, u]. */
int lm_rnn_rec_backward(const lm_rnn_mask *m, const float *dz, size_t ldz, const float *uk, int g0, int g1,
                        float beta, float *dprev, float *tmp);
/* gu[:, g0 u : g1 u) += H_prev^T . dZ over every step at once, H_prev as each gate read
 * it; dz [b, t, gates u]. LOOM_OK or an error (the ctx's when memory runs out). */
int lm_rnn_rec_weight_grad(loom_ctx *cx, const char *op, const lm_rnn_mask *m, const float *h, const float *dz,
                           int g0, int g1, float *gu);
/* After the step: a masked sample's new state (of state [b, t + 1, u]) is its old one. */
void lm_rnn_carry(const lm_rnn_mask *m, float *state, int64_t step);
/* After the steps: the output y (from lm_rnn_output) zeroed at masked steps when asked. */
void lm_rnn_zero_masked(const lm_rnn_mask *m, float *y, bool seq);
/* Backward through a step: before it, a masked sample's gradient of a new state is
 * moved into hold (its row zeroed: the step's cell then takes nothing); after it, a
 * masked sample's row of dprev is its held gradient, passed through to the old state. */
void lm_rnn_hold(const lm_rnn_mask *m, float *d, float *hold, int64_t step);
void lm_rnn_release(const lm_rnn_mask *m, float *dprev, const float *hold, int64_t step);
/* Whether the output's gradient at sample bi's step reaches the state (not when the
 * step is masked and its output is zeros). */
static inline bool lm_rnn_output_flows(const lm_rnn_mask *m, int64_t bi, int64_t step) {
  return !m->zero_output || !lm_rnn_masked(m, bi, step);
}

#endif
