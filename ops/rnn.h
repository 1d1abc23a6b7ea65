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
/* gx (time order) += dz . W^T, dz [b, t, gates] by step, kernel w [d, gates]: the input
 * gradient, put back in time order when the steps ran backwards. LOOM_OK or an error. */
int lm_rnn_input_grad(loom_ctx *cx, const char *op, const float *dz, const loom_tensor *w, float *gx,
                      int64_t b, int64_t t, bool back);
/* The states h_{-1} .. h_{t-2} of every sample, gathered from h [b, t + 1, u] into rows
 * that line up with the steps' [b, t, ...] rows (for dU = H_prev^T . dZ); NULL with the
 * ctx's error. */
float *lm_rnn_prev_states(loom_ctx *cx, const char *op, const float *h, int64_t b, int64_t t, int64_t u);
/* The output from the states h [b, t + 1, u] (h_{-1} first): every h_t, or the last. */
void lm_rnn_output(const float *h, float *y, int64_t b, int64_t t, int64_t u, bool seq);
/* h0 (or zeros) into the first state of each sample of h [b, t + 1, u]. */
void lm_rnn_init_state(const loom_tensor *h0, float *h, int64_t b, int64_t t, int64_t u);
/* x [b, t, d], kernel [d, g u], recurrent kernel [u, g u], h0 [b, u] or NULL: false with
 * the ctx's error, naming the expected shapes, when they do not fit. */
bool lm_rnn_shapes_ok(loom_ctx *cx, const char *op, const loom_tensor *x, const loom_tensor *h0,
                      const loom_tensor *kernel, const loom_tensor *recurrent, int gates);

#endif
