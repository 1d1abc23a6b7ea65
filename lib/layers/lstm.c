/* lstm.c - LSTM (Keras' gates i, f, c, o; kernel glorot_uniform, recurrent_kernel
 * orthogonal, unit_forget_bias). */
#include "lib/layers/layer.h"
#include "ops/ops.h"

static int lstm_check(loom_graph *g, const lm_layer_kind *k, void *opts) {
  const loom_lstm_opts *o = opts;
  if (o->units <= 0) return lm_opts_fail(g, k, o, LOOM_EINVAL, "units must be > 0, got %d", o->units);
  return LOOM_OK;
}

static int lstm_build(loom_layer *l, int n, loom_node *const *in, int *n_out, lm_shape *out,
                      loom_dtype *dt) {
  (void)n, (void)n_out, (void)dt;
  const loom_node *x = in[0];
  if (!lm_check_input(l, in, 0, 3, 3, LOOM_F32) || !lm_check_known_last(l, x, "features"))
    return l->g->status;
  const int64_t u = l->o.lstm.units, d = x->shape.d[2];
  if (l->built) {
    if (!lm_check_built_dim(l, x, 2, l->w[0]->shape[0])) return l->g->status;
  } else {
    const int64_t ks[2] = {d, 4 * u}, rs[2] = {u, 4 * u}, bs = 4 * u;
    loom_tensor *k = lm_layer_add_weight(l, "kernel", 2, ks);
    loom_tensor *r = k ? lm_layer_add_weight(l, "recurrent_kernel", 2, rs) : NULL;
    if (!r) return l->g->status;
    lm_init_glorot_uniform(l, k, (double)d, (double)(4 * u));
    if (lm_init_orthogonal(l, r))
      return lm_layer_fail(l, LOOM_ENOMEM, "out of memory drawing the recurrent kernel");
    if (l->o.lstm.use_bias != LOOM_NO) {
      loom_tensor *b = lm_layer_add_weight(l, "bias", 1, &bs);
      if (!b) return l->g->status;
      if (l->o.lstm.unit_forget_bias != LOOM_NO) /* gates i, f, c, o: f starts at 1 */
        for (int64_t i = u; i < 2 * u; ++i) ((float *)b->data)[i] = 1.0f;
    }
  }
  *out = l->o.lstm.return_sequences ? (lm_shape){3, {LOOM_NONE, x->shape.d[1], u}}
                                    : (lm_shape){2, {LOOM_NONE, u}};
  return LOOM_OK;
}

static int lstm_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in,
                        loom_tensor **out, loom_tensor **logits) {
  (void)n, (void)logits;
  out[0] = loom_lstm(run->cx, in[0], l->w[0], l->w[1], l->n_weights > 2 ? l->w[2] : NULL,
                     l->o.lstm.return_sequences, l->o.lstm.go_backwards);
  return loom_ctx_status(run->cx);
}

static const lm_opt lstm_opts[] = {
    LM_OPT(loom_lstm_opts, units, "units", LM_OPT_INT, 1, 1 << 24),
    LM_OPT(loom_lstm_opts, return_sequences, "return_sequences", LM_OPT_BOOL, 0, 0),
    LM_OPT(loom_lstm_opts, go_backwards, "go_backwards", LM_OPT_BOOL, 0, 0),
    LM_OPT(loom_lstm_opts, use_bias, "use_bias", LM_OPT_FLAG, 0, 0),
    LM_OPT(loom_lstm_opts, unit_forget_bias, "unit_forget_bias", LM_OPT_FLAG, 0, 0),
    LM_OPTS_END};

const lm_layer_kind lm_kind_lstm = {
    .id = LM_KIND_LSTM, .class_name = "LSTM", .prefix = "lstm", .min_in = 1, .max_in = 1,
    .opts_size = sizeof(loom_lstm_opts), .name_offset = offsetof(loom_lstm_opts, name),
    .opts = lstm_opts, .check = lstm_check, .build = lstm_build, .forward = lstm_forward};

loom_layer *loom_layer_lstm(loom_graph *g, const loom_lstm_opts *o) {
  return lm_layer_make(g, &lm_kind_lstm, o);
}
