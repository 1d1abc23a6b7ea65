/* dense.c - Dense: act(x . kernel + bias) over the last axis (Keras' kernel [in, units],
 * glorot_uniform, bias zeros). */
#include "lib/layers/layer.h"
#include "ops/ops.h"

static int dense_check(loom_graph *g, const lm_layer_kind *k, void *opts) {
  loom_dense_opts *o = opts;
  if (o->units <= 0) return lm_opts_fail(g, k, o, LOOM_EINVAL, "units must be > 0, got %d", o->units);
  return lm_check_activation(g, k, o, &o->activation, LOOM_LINEAR) ? LOOM_OK : g->status;
}

static int dense_build(loom_layer *l, int n, loom_node *const *in, int *n_out, lm_shape *out,
                       loom_dtype *dt) {
  (void)n, (void)n_out, (void)dt;
  const loom_node *x = in[0];
  if (!lm_check_input(l, in, 0, 2, LOOM_MAX_RANK, LOOM_F32) || !lm_check_known_last(l, x, "features"))
    return l->g->status;
  const int last = x->shape.rank - 1;
  const int64_t units = l->o.dense.units;
  if (l->built) {
    if (!lm_check_built_dim(l, x, last, l->w[0]->shape[0])) return l->g->status;
  } else {
    const int64_t ks[2] = {x->shape.d[last], units};
    loom_tensor *k = lm_layer_add_weight(l, "kernel", 2, ks);
    if (!k) return l->g->status;
    lm_init_glorot_uniform(l, k, (double)ks[0], (double)units);
    if (l->o.dense.use_bias != LOOM_NO && !lm_layer_add_weight(l, "bias", 1, &units))
      return l->g->status;
  }
  *out = x->shape;
  out->d[last] = units;
  return LOOM_OK;
}

static int dense_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in,
                         loom_tensor **out, loom_tensor **logits) {
  (void)n;
  const loom_activation act = run->fold ? run->fold->act : l->o.dense.activation;
  loom_tensor *kernel = l->w[0], *bias = l->n_weights > 1 ? l->w[1] : NULL;
  if (!lm_fold_weights(run, l->o.dense.units, &kernel, &bias)) return loom_ctx_status(run->cx);
  if (lm_wants_split(run, act)) {
    logits[0] = loom_dense(run->cx, in[0], kernel, bias, LOOM_LINEAR);
    out[0] = lm_activate(run, logits[0], act);
  } else {
    out[0] = loom_dense(run->cx, in[0], kernel, bias, act);
  }
  return loom_ctx_status(run->cx);
}

static loom_activation dense_activation(const loom_layer *l) { return l->o.dense.activation; }

static const lm_opt dense_opts[] = {
    LM_OPT(loom_dense_opts, units, "units", LM_OPT_INT, 1, 1 << 24),
    LM_OPT(loom_dense_opts, activation, "activation", LM_OPT_ACTIVATION, 0, 0),
    LM_OPT(loom_dense_opts, use_bias, "use_bias", LM_OPT_FLAG, 0, 0),
    LM_OPTS_END};

const lm_layer_kind lm_kind_dense = {
    .id = LM_KIND_DENSE, .class_name = "Dense", .prefix = "dense", .min_in = 1, .max_in = 1,
    .opts_size = sizeof(loom_dense_opts), .name_offset = offsetof(loom_dense_opts, name),
    .opts = dense_opts, .check = dense_check, .build = dense_build, .forward = dense_forward,
    .activation = dense_activation, .fold = LM_FOLD_PRODUCER, .mask = LM_MASK_KEEP};

loom_layer *loom_layer_dense(loom_graph *g, const loom_dense_opts *o) {
  return lm_layer_make(g, &lm_kind_dense, o);
}
