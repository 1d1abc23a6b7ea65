/* layer_core.c - Dense, Activation, Flatten, Dropout, and what layers share. */
#include <string.h>

#include "lib/layers.h"

loom_layer *lm_layer_from(loom_graph *g, const lm_layer_vt *vt, const void *opts, size_t size,
                          const char *name) {
  if (g && !opts) {
    lm_graph_fail(g, LOOM_EINVAL, "%s: options are NULL", vt->type);
    return NULL;
  }
  loom_layer *l = lm_layer_new(g, vt, name);
  if (l) memcpy(&l->o, opts, size);
  return l;
}

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

const char *lm_activation_name(loom_activation act) {
  static const char *names[] = {"linear", "relu", "sigmoid", "tanh", "softmax"};
  return (unsigned)act < 5 ? names[act] : "?";
}

bool lm_wants_split(const lm_run *run, loom_activation act) {
  return run->want_logits && (act == LOOM_SOFTMAX || act == LOOM_SIGMOID);
}

loom_tensor *lm_activate(const lm_run *run, loom_tensor *z, loom_activation act) {
  switch (act) {
    case LOOM_RELU: return loom_relu(run->cx, z);
    case LOOM_SIGMOID: return loom_sigmoid(run->cx, z);
    case LOOM_TANH: return loom_tanh(run->cx, z);
    case LOOM_SOFTMAX: return loom_softmax(run->cx, z);
    default: return z;
  }
}

static bool activation_ok(loom_graph *g, const char *type, loom_activation act) {
  if ((unsigned)act <= LOOM_SOFTMAX) return true;
  lm_graph_fail(g, LOOM_EINVAL, "%s: unknown activation %d", type, (int)act);
  return false;
}

/* ---------------------------------------------------------------- Dense */

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

static bool dense_foldable(const loom_layer *l) { return l->o.dense.activation == LOOM_LINEAR; }

static const lm_layer_vt dense_vt = {"Dense", "dense", 1, 1, dense_build, dense_forward,
                                     dense_foldable};

loom_layer *loom_layer_dense(loom_graph *g, const loom_dense_opts *o) {
  if (g && o && o->units <= 0) {
    lm_graph_fail(g, LOOM_EINVAL, "Dense: units must be > 0, got %d", o->units);
    return NULL;
  }
  if (g && o && !activation_ok(g, "Dense", o->activation)) return NULL;
  return lm_layer_from(g, &dense_vt, o, sizeof *o, o ? o->name : NULL);
}

/* ---------------------------------------------------------------- Activation */

static int same_shape_build(loom_layer *l, int n, loom_node *const *in, int *n_out, lm_shape *out,
                            loom_dtype *dt) {
  (void)n, (void)n_out, (void)dt;
  if (!lm_check_input(l, in, 0, 1, LOOM_MAX_RANK, LOOM_F32)) return l->g->status;
  *out = in[0]->shape;
  return LOOM_OK;
}

static int activation_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in,
                              loom_tensor **out, loom_tensor **logits) {
  (void)n;
  const loom_activation act = l->o.misc.activation;
  if (lm_wants_split(run, act)) logits[0] = in[0];
  out[0] = lm_activate(run, in[0], act);
  return loom_ctx_status(run->cx);
}

static const lm_layer_vt activation_vt = {"Activation", "activation", 1, 1, same_shape_build,
                                          activation_forward, NULL};

loom_layer *loom_layer_activation(loom_graph *g, const loom_layer_opts *o) {
  if (g && o && !activation_ok(g, "Activation", o->activation)) return NULL;
  return lm_layer_from(g, &activation_vt, o, sizeof *o, o ? o->name : NULL);
}

/* ---------------------------------------------------------------- Flatten */

static int flatten_build(loom_layer *l, int n, loom_node *const *in, int *n_out, lm_shape *out,
                         loom_dtype *dt) {
  (void)n, (void)n_out, (void)dt;
  if (!lm_check_input(l, in, 0, 2, LOOM_MAX_RANK, LOOM_F32)) return l->g->status;
  const int64_t size = lm_shape_sample_size(&in[0]->shape);
  if (size < 0) {
    char s[96];
    return lm_layer_fail(l, LOOM_ESHAPE, "needs every dim but the batch known, got %s",
                         lm_shape_msg(&in[0]->shape, s, sizeof s));
  }
  *out = (lm_shape){2, {LOOM_NONE, size}};
  return LOOM_OK;
}

static int flatten_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in,
                           loom_tensor **out, loom_tensor **logits) {
  (void)l, (void)n, (void)logits;
  const int64_t shape[2] = {in[0]->shape[0], in[0]->shape[0] ? in[0]->size / in[0]->shape[0] : 0};
  out[0] = loom_reshape(run->cx, in[0], 2, shape);
  return loom_ctx_status(run->cx);
}

static const lm_layer_vt flatten_vt = {"Flatten", "flatten", 1, 1, flatten_build, flatten_forward, NULL};

loom_layer *loom_layer_flatten(loom_graph *g, const loom_layer_opts *o) {
  return lm_layer_from(g, &flatten_vt, o, sizeof *o, o ? o->name : NULL);
}

/* ---------------------------------------------------------------- Dropout */

static int dropout_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in,
                           loom_tensor **out, loom_tensor **logits) {
  (void)n, (void)logits;
  const float rate = l->o.misc.rate;
  if (!run->training || rate == 0.0f || !in[0]) {
    out[0] = in[0];
    return loom_ctx_status(run->cx);
  }
  loom_tensor *mask = loom_tensor_new(loom_ctx_arena(run->cx), LOOM_F32, in[0]->rank, in[0]->shape);
  if (!mask) return lm_layer_fail(l, LOOM_ENOMEM, "cannot allocate the mask");
  float *m = mask->data;
  const float keep = 1.0f / (1.0f - rate);
  for (int64_t i = 0; i < mask->size; ++i)
    m[i] = lm_rng_uniform(&l->g->rng) >= (double)rate ? keep : 0.0f;
  out[0] = loom_mul(run->cx, in[0], mask);
  return loom_ctx_status(run->cx);
}

static const lm_layer_vt dropout_vt = {"Dropout", "dropout", 1, 1, same_shape_build, dropout_forward, NULL};

loom_layer *loom_layer_dropout(loom_graph *g, const loom_layer_opts *o) {
  if (g && o && !(o->rate >= 0.0f && o->rate < 1.0f)) {
    lm_graph_fail(g, LOOM_EINVAL, "Dropout: rate must be in [0, 1), got %g", (double)o->rate);
    return NULL;
  }
  return lm_layer_from(g, &dropout_vt, o, sizeof *o, o ? o->name : NULL);
}
