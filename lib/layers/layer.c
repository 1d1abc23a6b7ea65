/* layer.c - what the layer files share: input checks, activations. */
#include "lib/layers/layer.h"
#include "ops/act.h"

bool lm_check_input(loom_layer *l, loom_node *const *in, int i, int lo, int hi, loom_dtype dtype) {
  const loom_node *x = in[i];
  char s[96];
  if (x->shape.rank < lo || x->shape.rank > hi) {
    if (lo == hi)
      lm_layer_fail(l, LOOM_ESHAPE, "expected input of rank %d (batch included), got %s", lo,
                    lm_shape_msg(&x->shape, s, sizeof s));
    else
      lm_layer_fail(l, LOOM_ESHAPE, "expected input of rank %d to %d (batch included), got %s",
                    lo, hi, lm_shape_msg(&x->shape, s, sizeof s));
    return false;
  }
  if (x->dtype != dtype) {
    lm_layer_fail(l, LOOM_EDTYPE, "expected %s input, got %s", dtype == LOOM_I32 ? "int32" : "float32",
                  x->dtype == LOOM_I32 ? "int32" : "float32");
    return false;
  }
  return true;
}

bool lm_check_known_last(loom_layer *l, const loom_node *x, const char *what) {
  if (x->shape.d[x->shape.rank - 1] != LOOM_NONE) return true;
  char s[96];
  lm_layer_fail(l, LOOM_ESHAPE, "the last dim of the input (%s) must be known, got %s", what,
                lm_shape_msg(&x->shape, s, sizeof s));
  return false;
}

bool lm_check_built_dim(loom_layer *l, const loom_node *x, int axis, int64_t want) {
  if (x->shape.d[axis] == want) return true;
  char s[96];
  lm_layer_fail(l, LOOM_ESHAPE, "was built for inputs with %lld in dim %d, got %s",
                (long long)want, axis, lm_shape_msg(&x->shape, s, sizeof s));
  return false;
}

int lm_same_shape_build(loom_layer *l, int n, loom_node *const *in, int *n_out, lm_shape *out,
                        loom_dtype *dt) {
  (void)n, (void)n_out, (void)dt;
  if (!lm_check_input(l, in, 0, 1, LOOM_MAX_RANK, LOOM_F32)) return l->g->status;
  *out = in[0]->shape;
  return LOOM_OK;
}

const char *lm_activation_name(loom_activation act) {
  const lm_activation_info *a = lm_activation_get(act);
  return a ? a->name : NULL;
}

bool lm_check_activation(loom_graph *g, const lm_layer_kind *k, const void *opts, loom_activation *act,
                         loom_activation keras_default) {
  if (*act == LOOM_ACTIVATION_DEFAULT) *act = keras_default;
  if (lm_activation_name(*act)) return true;
  lm_opts_fail(g, k, opts, LOOM_EINVAL, "unknown activation %d", (int)*act);
  return false;
}

int lm_check_cell(loom_graph *g, const lm_layer_kind *k, const void *opts, loom_activation *act,
                  loom_activation *rec, float dropout, float recurrent_dropout) {
  if (!lm_check_activation(g, k, opts, act, LOOM_TANH) || !lm_check_activation(g, k, opts, rec, LOOM_SIGMOID))
    return g->status;
  if (*act == LOOM_SOFTMAX || *rec == LOOM_SOFTMAX)
    return lm_opts_fail(g, k, opts, LOOM_EINVAL, "softmax is not an elementwise activation: a cell cannot use it");
  if (!(dropout >= 0.0f && dropout < 1.0f) || !(recurrent_dropout >= 0.0f && recurrent_dropout < 1.0f))
    return lm_opts_fail(g, k, opts, LOOM_EINVAL, "dropout and recurrent_dropout must be in [0, 1), got %g and %g",
                        (double)dropout, (double)recurrent_dropout);
  return LOOM_OK;
}

bool lm_wants_split(const lm_run *run, loom_activation act) {
  return run->want_logits && (act == LOOM_SOFTMAX || act == LOOM_SIGMOID);
}

loom_tensor *lm_activate(const lm_run *run, loom_tensor *z, loom_activation act) {
  return lm_apply_activation(run->cx, z, act);
}

loom_tensor *lm_dropout_mask(loom_layer *l, loom_ctx *cx, int rank, const int64_t *shape, float rate) {
  loom_tensor *mask = loom_tensor_new(loom_ctx_arena(cx), LOOM_F32, rank, shape);
  if (!mask) {
    lm_layer_fail(l, LOOM_ENOMEM, "cannot allocate a dropout mask");
    return NULL;
  }
  float *m = mask->data;
  const float keep = 1.0f / (1.0f - rate);
  for (int64_t i = 0; i < mask->size; ++i) m[i] = lm_rng_uniform(&l->g->rng) >= (double)rate ? keep : 0.0f;
  return mask;
}
