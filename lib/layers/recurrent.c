/* recurrent.c - LSTM, GRU and SimpleRNN (Keras' kernel glorot_uniform, recurrent_kernel
 * orthogonal, bias zeros but LSTM's forget gate at 1 with unit_forget_bias; LSTM's gates
 * i, f, c, o, GRU's z, r, h). Called on [x] or [x, initial_state] ([x, h, c] for LSTM);
 * return_state adds the last state(s) as outputs: h, and c for LSTM. */
#include <string.h>

#include "lib/layers/layer.h"
#include "ops/ops.h"

static int rnn_check(loom_graph *g, const lm_layer_kind *k, void *opts) {
  loom_rnn_opts *o = opts;
  if (o->units <= 0) return lm_opts_fail(g, k, o, LOOM_EINVAL, "units must be > 0, got %d", o->units);
  return lm_check_cell(g, k, o, &o->activation, &o->recurrent_activation, o->dropout, o->recurrent_dropout);
}

static int gates_of(const loom_layer *l) {
  return l->kind->id == LM_KIND_LSTM ? 4 : l->kind->id == LM_KIND_GRU ? 3 : 1;
}
int lm_rnn_states(const loom_layer *l) { return l->kind->id == LM_KIND_LSTM ? 2 : 1; }
static bool reset_after(const loom_layer *l) { return l->kind->id == LM_KIND_GRU && l->o.rnn.reset_after != LOOM_NO; }

static int rnn_build(loom_layer *l, int n, loom_node *const *in, int *n_out, lm_shape *out, loom_dtype *dt) {
  (void)dt;
  const loom_node *x = in[0];
  if (!lm_check_input(l, in, 0, 3, 3, LOOM_F32) || !lm_check_known_last(l, x, "features")) return l->g->status;
  const int64_t u = l->o.rnn.units, d = x->shape.d[2], gu = gates_of(l) * u;
  const int ns = lm_rnn_states(l);
  if (n > 1 && n != 1 + ns)
    return lm_layer_fail(l, LOOM_EINVAL, "takes [x] or [x, %s] (initial_state), got %d inputs",
                         ns == 2 ? "h, c" : "h", n);
  for (int i = 1; i < n; ++i) {
    if (!lm_check_input(l, in, i, 2, 2, LOOM_F32)) return l->g->status;
    if (in[i]->shape.d[1] != u) {
      char s[96];
      return lm_layer_fail(l, LOOM_ESHAPE, "initial_state %s must be [batch, %lld units]",
                           lm_shape_msg(&in[i]->shape, s, sizeof s), (long long)u);
    }
  }
  if (l->built) {
    if (!lm_check_built_dim(l, x, 2, l->w[0]->shape[0])) return l->g->status;
  } else {
    const int64_t ks[2] = {d, gu}, rs[2] = {u, gu}, b2[2] = {2, gu};
    loom_tensor *k = lm_layer_add_weight(l, "kernel", 2, ks);
    loom_tensor *r = k ? lm_layer_add_weight(l, "recurrent_kernel", 2, rs) : NULL;
    if (!r) return l->g->status;
    lm_init_glorot_uniform(l, k, (double)d, (double)gu);
    if (lm_init_orthogonal(l, r)) return lm_layer_fail(l, LOOM_ENOMEM, "out of memory drawing the recurrent kernel");
    loom_tensor *b = NULL;
    if (l->o.rnn.use_bias != LOOM_NO &&
        !(b = reset_after(l) ? lm_layer_add_weight(l, "bias", 2, b2) : lm_layer_add_weight(l, "bias", 1, &gu)))
      return l->g->status;
    if (b && l->kind->id == LM_KIND_LSTM && l->o.rnn.unit_forget_bias != LOOM_NO) /* i, f, c, o: f at 1 */
      for (int64_t i = u; i < 2 * u; ++i) ((float *)b->data)[i] = 1.0f;
  }
  out[0] = l->o.rnn.return_sequences ? (lm_shape){3, {LOOM_NONE, x->shape.d[1], u}} : (lm_shape){2, {LOOM_NONE, u}};
  if (l->o.rnn.return_state) {
    *n_out = 1 + ns;
    for (int i = 1; i <= ns; ++i) out[i] = (lm_shape){2, {LOOM_NONE, u}};
  }
  return LOOM_OK;
}

/* Keras' dropout in training (its DropoutRNNCell): masks drawn once for the sequence.
 * With recurrent_dropout, one per gate for h_{t-1} and for x (Keras' implementation 1);
 * with dropout alone, one for x shared by the gates, applied here to every step. */
static int draw_dropout(loom_layer *l, const lm_run *run, loom_tensor **x, loom_rnn_cfg *cfg) {
  const loom_rnn_opts *o = &l->o.rnn;
  if (!run->training || (o->dropout == 0.0f && o->recurrent_dropout == 0.0f)) return LOOM_OK;
  loom_ctx *cx = run->cx;
  const int64_t b = (*x)->shape[0], t = (*x)->shape[1], d = (*x)->shape[2], g = gates_of(l);
  if (o->recurrent_dropout > 0.0f) {
    const int64_t sr[2] = {b, g * o->units}, si[2] = {b, g * d};
    if (!(cfg->recurrent_mask = lm_dropout_mask(l, cx, 2, sr, o->recurrent_dropout))) return l->g->status;
    if (o->dropout > 0.0f && !(cfg->input_mask = lm_dropout_mask(l, cx, 2, si, o->dropout))) return l->g->status;
    return LOOM_OK;
  }
  const int64_t s1[2] = {b, d}, st[3] = {b, t, d};
  loom_tensor *one = lm_dropout_mask(l, cx, 2, s1, o->dropout);
  loom_tensor *every = one ? loom_tensor_new(loom_ctx_arena(cx), LOOM_F32, 3, st) : NULL;
  if (!every) return one ? lm_layer_fail(l, LOOM_ENOMEM, "cannot allocate a dropout mask") : l->g->status;
  for (int64_t bi = 0; bi < b; ++bi)
    for (int64_t s = 0; s < t; ++s)
      memcpy(loom_tensor_f32(every) + (bi * t + s) * d, loom_tensor_f32(one) + bi * d, (size_t)d * sizeof(float));
  *x = loom_mul(cx, *x, every);
  return loom_ctx_status(cx);
}

static int rnn_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in, loom_tensor **out,
                       loom_tensor **logits) {
  (void)logits;
  const loom_rnn_opts *o = &l->o.rnn;
  loom_ctx *cx = run->cx;
  loom_tensor *mask = run->mask ? run->mask[0] : NULL, *x = in[0];
  loom_rnn_cfg cfg = {.activation = o->activation, .recurrent_activation = o->recurrent_activation,
                      .return_sequences = o->return_sequences, .go_backwards = o->go_backwards,
                      .reset_after = reset_after(l), .mask = mask};
  const int st = draw_dropout(l, run, &x, &cfg);
  if (st) return st;
  loom_tensor *h0 = n > 1 ? in[1] : NULL, *bias = l->n_weights > 2 ? l->w[2] : NULL;
  switch (l->kind->id) {
  case LM_KIND_LSTM:
    out[0] = loom_lstm(cx, x, h0, n > 2 ? in[2] : NULL, l->w[0], l->w[1], bias, &cfg,
                       o->return_state ? &out[2] : NULL);
    break;
  case LM_KIND_GRU: out[0] = loom_gru(cx, x, h0, l->w[0], l->w[1], bias, &cfg); break;
  default: out[0] = loom_simple_rnn(cx, x, h0, l->w[0], l->w[1], bias, &cfg); break;
  }
  if (o->return_state) out[1] = o->return_sequences ? loom_last_step(cx, out[0]) : out[0];
  /* Bidirectional's zeros at the masked steps, after the last state is taken (the op's
   * zero_output_for_mask would zero it too when the last step is masked) */
  if (mask && run->zero_output_for_mask && o->return_sequences)
    out[0] = loom_mask_steps(cx, out[0], o->go_backwards ? loom_reverse_steps(cx, mask) : mask);
  return loom_ctx_status(cx);
}

#define RNN_OPT(field, key, type, lo, hi) LM_OPT(loom_rnn_opts, field, key, type, lo, hi)
#define RNN_OPTS_COMMON                                                    \
  RNN_OPT(units, "units", LM_OPT_INT, 1, 1 << 24),                         \
  RNN_OPT(activation, "activation", LM_OPT_ACTIVATION, 0, 0),              \
  RNN_OPT(recurrent_activation, "recurrent_activation", LM_OPT_ACTIVATION, 0, 0), \
  RNN_OPT(use_bias, "use_bias", LM_OPT_FLAG, 0, 0),                        \
  RNN_OPT(return_sequences, "return_sequences", LM_OPT_BOOL, 0, 0),        \
  RNN_OPT(return_state, "return_state", LM_OPT_BOOL, 0, 0),                \
  RNN_OPT(go_backwards, "go_backwards", LM_OPT_BOOL, 0, 0),                \
  RNN_OPT(dropout, "dropout", LM_OPT_FLOAT, 0.0, 0.999999),                \
  RNN_OPT(recurrent_dropout, "recurrent_dropout", LM_OPT_FLOAT, 0.0, 0.999999)

static const lm_opt lstm_opts[] = {RNN_OPTS_COMMON,
                                   RNN_OPT(unit_forget_bias, "unit_forget_bias", LM_OPT_FLAG, 0, 0), LM_OPTS_END};
static const lm_opt gru_opts[] = {RNN_OPTS_COMMON, RNN_OPT(reset_after, "reset_after", LM_OPT_FLAG, 0, 0),
                                  LM_OPTS_END};
static const lm_opt simple_rnn_opts[] = {RNN_OPTS_COMMON, LM_OPTS_END};

/* Keras' RNN.compute_mask: the input's mask stays on the output when it has the steps */
static int rnn_masked_outputs(const loom_layer *l) { return l->o.rnn.return_sequences; }

#define RNN_KIND                                                                           \
  .min_in = 1, .opts_size = sizeof(loom_rnn_opts),                           \
  .name_offset = offsetof(loom_rnn_opts, name), .check = rnn_check, .build = rnn_build,   \
  .forward = rnn_forward, .mask = LM_MASK_SEQUENCE, .masked_outputs = rnn_masked_outputs

const lm_layer_kind lm_kind_lstm = {.id = LM_KIND_LSTM, .class_name = "LSTM", .prefix = "lstm", .max_in = 3,
                                    .opts = lstm_opts, RNN_KIND};
const lm_layer_kind lm_kind_gru = {.id = LM_KIND_GRU, .class_name = "GRU", .prefix = "gru", .max_in = 2,
                                   .opts = gru_opts, RNN_KIND};
const lm_layer_kind lm_kind_simple_rnn = {.id = LM_KIND_SIMPLE_RNN, .class_name = "SimpleRNN",
                                          .prefix = "simple_rnn", .max_in = 2, .opts = simple_rnn_opts, RNN_KIND};

loom_layer *loom_layer_lstm(loom_graph *g, const loom_rnn_opts *o) { return lm_layer_make(g, &lm_kind_lstm, o); }
loom_layer *loom_layer_gru(loom_graph *g, const loom_rnn_opts *o) { return lm_layer_make(g, &lm_kind_gru, o); }
loom_layer *loom_layer_simple_rnn(loom_graph *g, const loom_rnn_opts *o) {
  return lm_layer_make(g, &lm_kind_simple_rnn, o);
}
