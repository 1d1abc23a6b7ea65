/* layer_norm.c - BatchNormalization(axis=-1): gamma and beta trained, moving_mean and
 * moving_variance kept as non-trainable state (Keras' names, init 1, 0, 0, 1). Batch
 * statistics in training (fit), moving ones in evaluate and predict. */
#include "lib/layers.h"
#include "ops/ops.h"

static int bn_build(loom_layer *l, int n, loom_node *const *in, int *n_out, lm_shape *out, loom_dtype *dt) {
  (void)n, (void)n_out, (void)dt;
  const loom_node *x = in[0];
  if (!lm_check_input(l, in, 0, 2, LOOM_MAX_RANK, LOOM_F32) || !lm_check_known_last(l, x, "channels"))
    return l->g->status;
  const int64_t c = x->shape.d[x->shape.rank - 1];
  if (l->built) {
    if (!lm_check_built_dim(l, x, x->shape.rank - 1, l->w[l->n_weights - 1]->shape[0])) return l->g->status;
  } else {
    loom_tensor *t;
    if (l->o.bn.scale != LOOM_NO) {
      if (!(t = lm_layer_add_weight(l, "gamma", 1, &c))) return l->g->status;
      for (int64_t i = 0; i < c; ++i) loom_tensor_f32(t)[i] = 1.0f;
    }
    if (l->o.bn.center != LOOM_NO && !lm_layer_add_weight(l, "beta", 1, &c)) return l->g->status;
    if (!lm_layer_add_state(l, "moving_mean", 1, &c) || !(t = lm_layer_add_state(l, "moving_variance", 1, &c)))
      return l->g->status;
    for (int64_t i = 0; i < c; ++i) loom_tensor_f32(t)[i] = 1.0f;
  }
  *out = x->shape;
  return LOOM_OK;
}

static int bn_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in, loom_tensor **out,
                      loom_tensor **logits) {
  (void)n, (void)logits;
  loom_tensor *gamma = loom_layer_weight(l, "gamma"), *beta = loom_layer_weight(l, "beta");
  out[0] = (run->relu_after ? lm_batch_norm_relu : loom_batch_norm)(
      run->cx, in[0], gamma, beta, loom_layer_weight(l, "moving_mean"), loom_layer_weight(l, "moving_variance"),
      l->o.bn.momentum, l->o.bn.epsilon, run->training);
  return loom_ctx_status(run->cx);
}

static const lm_layer_vt bn_vt = {"BatchNormalization", "batch_normalization", 1, 1, bn_build, bn_forward, NULL};

loom_layer *loom_layer_batch_normalization(loom_graph *g, const loom_batch_norm_opts *o) {
  if (!g || !o) return lm_layer_from(g, &bn_vt, o, sizeof *o, NULL);
  loom_batch_norm_opts c = *o;
  if (c.momentum == 0.0f) c.momentum = 0.99f;
  if (c.epsilon == 0.0f) c.epsilon = 1e-3f;
  if (!(c.momentum > 0.0f && c.momentum <= 1.0f) || !(c.epsilon > 0.0f)) {
    lm_graph_fail(g, LOOM_EINVAL, "BatchNormalization: momentum %g must be in (0, 1] and epsilon %g > 0",
                  (double)c.momentum, (double)c.epsilon);
    return NULL;
  }
  return lm_layer_from(g, &bn_vt, &c, sizeof c, c.name);
}
