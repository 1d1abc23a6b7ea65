/* layer_norm.c - BatchNormalization(axis=-1): gamma and beta trained, moving_mean and
 * moving_variance kept as non-trainable state (Keras' names, init 1, 0, 0, 1). Batch
 * statistics in training (fit), moving ones in evaluate and predict. */
#include <math.h>

#include "lib/layers/layer.h"
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
  out[0] = (run->relu_after ? lm_batch_norm_relu : lm_batch_norm)(
      run->cx, in[0], gamma, beta, loom_layer_weight(l, "moving_mean"), loom_layer_weight(l, "moving_variance"),
      l->o.bn.momentum, l->o.bn.epsilon, run->training);
  return loom_ctx_status(run->cx);
}

static int64_t bn_fold_affine(const loom_layer *l, float *s) {
  const loom_tensor *mean = loom_layer_weight((loom_layer *)l, "moving_mean");
  const int64_t c = mean->size;
  if (!s) return c;
  const float *gamma = loom_tensor_f32(loom_layer_weight((loom_layer *)l, "gamma"));
  const float *beta = loom_tensor_f32(loom_layer_weight((loom_layer *)l, "beta"));
  const float *mv = loom_tensor_f32(loom_layer_weight((loom_layer *)l, "moving_variance"));
  const float *mm = mean->data;
  for (int64_t j = 0; j < c; ++j) {
    const float inv = (float)(1.0 / sqrt((double)mv[j] + l->o.bn.epsilon));
    s[j] = (gamma ? gamma[j] : 1.0f) * inv;
    s[c + j] = (beta ? beta[j] : 0.0f) - mm[j] * s[j];
  }
  return c;
}

static int bn_check(loom_graph *g, const lm_layer_kind *k, void *opts) {
  loom_batch_norm_opts *c = opts;
  if (c->momentum == 0.0f) c->momentum = 0.99f;
  if (c->epsilon == 0.0f) c->epsilon = 1e-3f;
  if (!(c->momentum > 0.0f && c->momentum <= 1.0f) || !(c->epsilon > 0.0f))
    return lm_opts_fail(g, k, c, LOOM_EINVAL, "momentum %g must be in (0, 1] and epsilon %g > 0",
                        (double)c->momentum, (double)c->epsilon);
  return LOOM_OK;
}

static const lm_opt bn_opts[] = {
    LM_OPT(loom_batch_norm_opts, momentum, "momentum", LM_OPT_FLOAT, 1e-6, 1.0),
    LM_OPT(loom_batch_norm_opts, epsilon, "epsilon", LM_OPT_FLOAT, 1e-12, 1e6),
    LM_OPT(loom_batch_norm_opts, center, "center", LM_OPT_FLAG, 0, 0),
    LM_OPT(loom_batch_norm_opts, scale, "scale", LM_OPT_FLAG, 0, 0),
    LM_OPTS_END};

const lm_layer_kind lm_kind_batch_normalization = {
    .id = LM_KIND_BATCH_NORMALIZATION, .class_name = "BatchNormalization",
    .prefix = "batch_normalization", .min_in = 1, .max_in = 1,
    .opts_size = sizeof(loom_batch_norm_opts), .name_offset = offsetof(loom_batch_norm_opts, name),
    .opts = bn_opts, .check = bn_check, .build = bn_build, .forward = bn_forward, .fold = LM_FOLD_BN,
    .fold_affine = bn_fold_affine};

loom_layer *loom_layer_batch_normalization(loom_graph *g, const loom_batch_norm_opts *o) {
  return lm_layer_make(g, &lm_kind_batch_normalization, o);
}
