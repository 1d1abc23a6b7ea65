/* core.c - Activation, Flatten, Dropout and Masking: Keras' core layers without weights. */
#include "lib/layers/layer.h"
#include "ops/ops.h"

#define MISC_OPTS .opts_size = sizeof(loom_layer_opts), .name_offset = offsetof(loom_layer_opts, name)

/* ---------------------------------------------------------------- Activation */

static int activation_check(loom_graph *g, const lm_layer_kind *k, void *opts) {
  loom_layer_opts *o = opts;
  return lm_check_activation(g, k, o, &o->activation, LOOM_LINEAR) ? LOOM_OK : g->status;
}

static int activation_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in,
                              loom_tensor **out, loom_tensor **logits) {
  (void)n;
  const loom_activation act = l->o.misc.activation;
  if (lm_wants_split(run, act)) logits[0] = in[0];
  out[0] = lm_activate(run, in[0], act);
  return loom_ctx_status(run->cx);
}

static loom_activation activation_of(const loom_layer *l) { return l->o.misc.activation; }

static const lm_opt activation_opts[] = {
    LM_OPT(loom_layer_opts, activation, "activation", LM_OPT_ACTIVATION, 0, 0), LM_OPTS_END};

const lm_layer_kind lm_kind_activation = {
    .id = LM_KIND_ACTIVATION, .class_name = "Activation", .prefix = "activation", .min_in = 1,
    .max_in = 1, MISC_OPTS, .opts = activation_opts, .check = activation_check,
    .build = lm_same_shape_build, .forward = activation_forward, .activation = activation_of,
    .fold = LM_FOLD_ACTIVATION, .mask = LM_MASK_KEEP};

loom_layer *loom_layer_activation(loom_graph *g, const loom_layer_opts *o) {
  return lm_layer_make(g, &lm_kind_activation, o);
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

const lm_layer_kind lm_kind_flatten = {
    .id = LM_KIND_FLATTEN, .class_name = "Flatten", .prefix = "flatten", .min_in = 1, .max_in = 1,
    MISC_OPTS, .build = flatten_build, .forward = flatten_forward};

loom_layer *loom_layer_flatten(loom_graph *g, const loom_layer_opts *o) {
  return lm_layer_make(g, &lm_kind_flatten, o);
}

/* ---------------------------------------------------------------- Dropout */

static int dropout_check(loom_graph *g, const lm_layer_kind *k, void *opts) {
  const loom_layer_opts *o = opts;
  if (!(o->rate >= 0.0f && o->rate < 1.0f))
    return lm_opts_fail(g, k, o, LOOM_EINVAL, "rate must be in [0, 1), got %g", (double)o->rate);
  return LOOM_OK;
}

static int dropout_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in,
                           loom_tensor **out, loom_tensor **logits) {
  (void)n, (void)logits;
  const float rate = l->o.misc.rate;
  if (!run->training || rate == 0.0f || !in[0]) {
    out[0] = in[0];
    return loom_ctx_status(run->cx);
  }
  loom_tensor *mask = lm_dropout_mask(l, run->cx, in[0]->rank, in[0]->shape, rate);
  if (!mask) return l->g->status;
  out[0] = loom_mul(run->cx, in[0], mask);
  return loom_ctx_status(run->cx);
}

static const lm_opt dropout_opts[] = {
    LM_OPT(loom_layer_opts, rate, "rate", LM_OPT_FLOAT, 0.0, 0.999999), LM_OPTS_END};

const lm_layer_kind lm_kind_dropout = {
    .id = LM_KIND_DROPOUT, .class_name = "Dropout", .prefix = "dropout", .min_in = 1, .max_in = 1,
    MISC_OPTS, .opts = dropout_opts, .check = dropout_check, .build = lm_same_shape_build,
    .forward = dropout_forward, .mask = LM_MASK_KEEP};

loom_layer *loom_layer_dropout(loom_graph *g, const loom_layer_opts *o) {
  return lm_layer_make(g, &lm_kind_dropout, o);
}

/* ---------------------------------------------------------------- Masking */

static int masking_build(loom_layer *l, int n, loom_node *const *in, int *n_out, lm_shape *out, loom_dtype *dt) {
  if (!lm_check_input(l, in, 0, 3, LOOM_MAX_RANK, LOOM_F32)) return l->g->status;
  return lm_same_shape_build(l, n, in, n_out, out, dt);
}

static loom_tensor *masking_mask(const loom_layer *l, loom_ctx *cx, loom_tensor *x) {
  return loom_mask_from_values(cx, x, l->o.misc.mask_value);
}

static int masking_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in, loom_tensor **out,
                           loom_tensor **logits) {
  (void)n, (void)logits;
  out[0] = loom_mask_steps(run->cx, in[0], masking_mask(l, run->cx, in[0]));
  return loom_ctx_status(run->cx);
}

static const lm_opt masking_opts[] = {
    LM_OPT(loom_layer_opts, mask_value, "mask_value", LM_OPT_FLOAT, -3e38, 3e38), LM_OPTS_END};

const lm_layer_kind lm_kind_masking = {
    .id = LM_KIND_MASKING, .class_name = "Masking", .prefix = "masking", .min_in = 1, .max_in = 1, MISC_OPTS,
    .opts = masking_opts, .build = masking_build, .forward = masking_forward, .mask = LM_MASK_MAKE,
    .make_mask = masking_mask};

loom_layer *loom_layer_masking(loom_graph *g, const loom_layer_opts *o) {
  return lm_layer_make(g, &lm_kind_masking, o);
}
