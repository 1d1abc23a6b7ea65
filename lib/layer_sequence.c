/* layer_sequence.c - Embedding and LSTM: the layers of the text models. */
#include "lib/layers.h"

/* ---------------------------------------------------------------- Embedding */

static int embedding_build(loom_layer *l, int n, loom_node *const *in, int *n_out, lm_shape *out,
                           loom_dtype *dt) {
  (void)n, (void)n_out, (void)dt;
  const loom_node *x = in[0];
  if (!lm_check_input(l, in, 0, 1, LOOM_MAX_RANK - 1, LOOM_I32)) return l->g->status;
  if (!l->built) {
    const int64_t s[2] = {l->o.embedding.input_dim, l->o.embedding.output_dim};
    loom_tensor *e = lm_layer_add_weight(l, "embeddings", 2, s);
    if (!e) return l->g->status;
    lm_init_uniform(l, e, -0.05, 0.05);
  }
  *out = x->shape;
  out->d[out->rank++] = l->o.embedding.output_dim;
  return LOOM_OK;
}

static int embedding_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in,
                             loom_tensor **out, loom_tensor **logits) {
  (void)n, (void)logits;
  out[0] = loom_embedding(run->cx, in[0], l->w[0]);
  return loom_ctx_status(run->cx);
}

static const lm_layer_vt embedding_vt = {"Embedding", "embedding", 1, 1, embedding_build,
                                         embedding_forward, NULL};

loom_layer *loom_layer_embedding(loom_graph *g, const loom_embedding_opts *o) {
  if (g && o && (o->input_dim <= 0 || o->output_dim <= 0)) {
    lm_graph_fail(g, LOOM_EINVAL, "Embedding: input_dim and output_dim must be > 0, got %d and %d",
                  o->input_dim, o->output_dim);
    return NULL;
  }
  return lm_layer_from(g, &embedding_vt, o, sizeof *o, o ? o->name : NULL);
}

/* ---------------------------------------------------------------- LSTM */

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

static const lm_layer_vt lstm_vt = {"LSTM", "lstm", 1, 1, lstm_build, lstm_forward, NULL};

loom_layer *loom_layer_lstm(loom_graph *g, const loom_lstm_opts *o) {
  if (g && o && o->units <= 0) {
    lm_graph_fail(g, LOOM_EINVAL, "LSTM: units must be > 0, got %d", o->units);
    return NULL;
  }
  return lm_layer_from(g, &lstm_vt, o, sizeof *o, o ? o->name : NULL);
}
