/* activations.c - the activation layers with parameters: ReLU, LeakyReLU, PReLU, ELU,
 * Softmax (Activation itself, naming a function, is in core.c). */
#include <math.h>

#include "lib/layers/layer.h"
#include "ops/act.h"

#define ACT_OPTS                                                                           \
  .opts_size = sizeof(loom_activation_layer_opts),                                        \
  .name_offset = offsetof(loom_activation_layer_opts, name), .min_in = 1, .max_in = 1
#define ACT_OPT(field, key, type, lo, hi) LM_OPT(loom_activation_layer_opts, field, key, type, lo, hi)

static const loom_activation_layer_opts *opts_of(const loom_layer *l) { return &l->o.act; }

/* ---------------------------------------------------------------- ReLU */

static int relu_check(loom_graph *g, const lm_layer_kind *k, void *opts) {
  const loom_activation_layer_opts *o = opts;
  if (!(o->max_value >= 0 && o->negative_slope >= 0 && o->threshold >= 0))
    return lm_opts_fail(g, k, o, LOOM_EINVAL, "max_value, negative_slope and threshold must be >= 0, "
                        "got %g, %g, %g", (double)o->max_value, (double)o->negative_slope, (double)o->threshold);
  return LOOM_OK;
}

static bool plain_relu(const loom_activation_layer_opts *o) {
  return o->max_value == 0 && o->negative_slope == 0 && o->threshold == 0;
}

static int relu_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in, loom_tensor **out,
                        loom_tensor **logits) {
  (void)n, (void)logits;
  const loom_activation_layer_opts *o = opts_of(l);
  if (plain_relu(o)) {
    out[0] = loom_relu(run->cx, in[0]);
  } else {
    const lm_act_param p = {o->negative_slope, o->threshold, o->max_value > 0 ? o->max_value : INFINITY};
    out[0] = lm_act_op(run->cx, "ReLU", in[0], LM_F_RELU, &p);
  }
  return loom_ctx_status(run->cx);
}

/* A plain ReLU may fuse into the BatchNormalization before it; one with parameters not. */
static loom_activation relu_activation(const loom_layer *l) {
  return plain_relu(opts_of(l)) ? LOOM_RELU : LOOM_LINEAR;
}

static const lm_opt relu_opts[] = {
    ACT_OPT(max_value, "max_value", LM_OPT_FLOAT_NONE, 0, 3e38),
    ACT_OPT(negative_slope, "negative_slope", LM_OPT_FLOAT, 0, 3e38),
    ACT_OPT(threshold, "threshold", LM_OPT_FLOAT, 0, 3e38), LM_OPTS_END};

const lm_layer_kind lm_kind_relu = {
    .id = LM_KIND_RELU, .class_name = "ReLU", .prefix = "re_lu", ACT_OPTS, .opts = relu_opts,
    .check = relu_check, .build = lm_same_shape_build, .forward = relu_forward,
    .activation = relu_activation, .fold = LM_FOLD_ACTIVATION, .mask = LM_MASK_KEEP};

loom_layer *loom_layer_relu(loom_graph *g, const loom_activation_layer_opts *o) {
  return lm_layer_make(g, &lm_kind_relu, o);
}

/* ---------------------------------------------------------------- LeakyReLU */

static int leaky_check(loom_graph *g, const lm_layer_kind *k, void *opts) {
  loom_activation_layer_opts *o = opts;
  if (o->negative_slope == 0) o->negative_slope = 0.3f; /* Keras' default */
  if (!(o->negative_slope > 0 && o->negative_slope < 3e38f))
    return lm_opts_fail(g, k, o, LOOM_EINVAL, "negative_slope must be > 0, got %g", (double)o->negative_slope);
  return LOOM_OK;
}

static int leaky_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in, loom_tensor **out,
                         loom_tensor **logits) {
  (void)n, (void)logits;
  const lm_act_param p = {opts_of(l)->negative_slope, 0, INFINITY};
  out[0] = lm_act_op(run->cx, "LeakyReLU", in[0], LM_F_RELU, &p);
  return loom_ctx_status(run->cx);
}

static const lm_opt leaky_opts[] = {
    /* Keras 3 writes negative_slope, Keras 2 alpha */
    LM_OPT_ALIAS(loom_activation_layer_opts, negative_slope, "negative_slope", "alpha", LM_OPT_FLOAT, 0, 3e38),
    LM_OPTS_END};

const lm_layer_kind lm_kind_leaky_relu = {
    .id = LM_KIND_LEAKY_RELU, .class_name = "LeakyReLU", .prefix = "leaky_re_lu", ACT_OPTS,
    .opts = leaky_opts, .check = leaky_check, .build = lm_same_shape_build, .forward = leaky_forward, .mask = LM_MASK_KEEP};

loom_layer *loom_layer_leaky_relu(loom_graph *g, const loom_activation_layer_opts *o) {
  return lm_layer_make(g, &lm_kind_leaky_relu, o);
}

/* ---------------------------------------------------------------- ELU */

static int elu_check(loom_graph *g, const lm_layer_kind *k, void *opts) {
  loom_activation_layer_opts *o = opts;
  if (o->alpha == 0) o->alpha = 1.0f;
  if (!(o->alpha > 0 && o->alpha < 3e38f))
    return lm_opts_fail(g, k, o, LOOM_EINVAL, "alpha must be > 0, got %g", (double)o->alpha);
  return LOOM_OK;
}

static int elu_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in, loom_tensor **out,
                       loom_tensor **logits) {
  (void)n, (void)logits;
  const lm_act_param p = {opts_of(l)->alpha, 1, 0};
  out[0] = lm_act_op(run->cx, "ELU", in[0], LM_F_ELU, &p);
  return loom_ctx_status(run->cx);
}

static const lm_opt elu_opts[] = {ACT_OPT(alpha, "alpha", LM_OPT_FLOAT, 1e-30, 3e38), LM_OPTS_END};

const lm_layer_kind lm_kind_elu = {
    .id = LM_KIND_ELU, .class_name = "ELU", .prefix = "elu", ACT_OPTS, .opts = elu_opts,
    .check = elu_check, .build = lm_same_shape_build, .forward = elu_forward, .mask = LM_MASK_KEEP};

loom_layer *loom_layer_elu(loom_graph *g, const loom_activation_layer_opts *o) {
  return lm_layer_make(g, &lm_kind_elu, o);
}

/* ---------------------------------------------------------------- Softmax */

static int softmax_check(loom_graph *g, const lm_layer_kind *k, void *opts) {
  loom_activation_layer_opts *o = opts;
  if (o->axis == 0) o->axis = -1;
  if (o->axis < -(LOOM_MAX_RANK - 1) || o->axis > LOOM_MAX_RANK - 1)
    return lm_opts_fail(g, k, o, LOOM_EINVAL, "axis %d is outside every input", o->axis);
  return LOOM_OK;
}

static int softmax_build(loom_layer *l, int n, loom_node *const *in, int *n_out, lm_shape *out,
                         loom_dtype *dt) {
  if (lm_same_shape_build(l, n, in, n_out, out, dt)) return l->g->status;
  const int axis = opts_of(l)->axis, rank = in[0]->shape.rank;
  if (axis == 0 || axis >= rank || axis < -(rank - 1))
    return lm_layer_fail(l, LOOM_ESHAPE, "axis %d is the batch axis or outside an input of rank %d", axis, rank);
  return LOOM_OK;
}

static bool last_axis(const loom_layer *l, int rank) {
  return opts_of(l)->axis == -1 || opts_of(l)->axis == rank - 1;
}

static int softmax_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in, loom_tensor **out,
                           loom_tensor **logits) {
  (void)n;
  if (last_axis(l, in[0]->rank)) { /* as Activation('softmax'): logits kept when asked */
    if (lm_wants_split(run, LOOM_SOFTMAX)) logits[0] = in[0];
    out[0] = lm_activate(run, in[0], LOOM_SOFTMAX);
  } else {
    out[0] = loom_softmax_axis(run->cx, in[0], opts_of(l)->axis);
  }
  return loom_ctx_status(run->cx);
}

/* Compile's logits rule sees a softmax over the last axis only. */
static loom_activation softmax_activation(const loom_layer *l) {
  return opts_of(l)->axis == -1 ? LOOM_SOFTMAX : LOOM_LINEAR;
}

static const lm_opt softmax_opts[] = {
    ACT_OPT(axis, "axis", LM_OPT_INT, -(LOOM_MAX_RANK - 1), LOOM_MAX_RANK - 1), LM_OPTS_END};

const lm_layer_kind lm_kind_softmax = {
    .id = LM_KIND_SOFTMAX, .class_name = "Softmax", .prefix = "softmax", ACT_OPTS,
    .opts = softmax_opts, .check = softmax_check, .build = softmax_build,
    .forward = softmax_forward, .activation = softmax_activation, .mask = LM_MASK_KEEP};

loom_layer *loom_layer_softmax(loom_graph *g, const loom_activation_layer_opts *o) {
  return lm_layer_make(g, &lm_kind_softmax, o);
}

/* ---------------------------------------------------------------- PReLU */

static int prelu_check(loom_graph *g, const lm_layer_kind *k, void *opts) {
  const loom_activation_layer_opts *o = opts;
  bool ended = false;
  for (int i = 0; i < LOOM_MAX_RANK - 1; ++i) {
    const int a = o->shared_axes[i];
    if (!a) ended = true;
    else if (ended || a < 1 || a >= LOOM_MAX_RANK)
      return lm_opts_fail(g, k, o, LOOM_EINVAL, "shared_axes must list axes >= 1 (the batch is 0), "
                          "ended by 0; entry %d is %d", i, a);
  }
  return LOOM_OK;
}

static int prelu_build(loom_layer *l, int n, loom_node *const *in, int *n_out, lm_shape *out,
                       loom_dtype *dt) {
  (void)n, (void)n_out, (void)dt;
  if (!lm_check_input(l, in, 0, 2, LOOM_MAX_RANK, LOOM_F32)) return l->g->status;
  const lm_shape *x = &in[0]->shape;
  int64_t as[LOOM_MAX_RANK];
  for (int d = 1; d < x->rank; ++d) as[d - 1] = x->d[d];
  for (int i = 0; i < LOOM_MAX_RANK - 1 && opts_of(l)->shared_axes[i]; ++i) {
    const int a = opts_of(l)->shared_axes[i];
    if (a >= x->rank) return lm_layer_fail(l, LOOM_ESHAPE, "shared axis %d is outside an input of rank %d", a, x->rank);
    as[a - 1] = 1;
  }
  for (int d = 0; d < x->rank - 1; ++d)
    if (as[d] == LOOM_NONE) {
      char s[96];
      return lm_layer_fail(l, LOOM_ESHAPE, "needs axis %d of input %s known, or shared", d + 1,
                           lm_shape_msg(x, s, sizeof s));
    }
  if (l->built) {
    const loom_tensor *w = l->w[0];
    bool same = w->rank == x->rank - 1;
    for (int d = 0; same && d < w->rank; ++d) same = w->shape[d] == as[d];
    if (!same) {
      char s[96];
      return lm_layer_fail(l, LOOM_ESHAPE, "was built for another input shape, now called on %s",
                           lm_shape_msg(x, s, sizeof s));
    }
  } else if (!lm_layer_add_weight(l, "alpha", x->rank - 1, as)) { /* zeros: Keras' alpha_initializer */
    return l->g->status;
  }
  *out = *x;
  return LOOM_OK;
}

static int prelu_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in, loom_tensor **out,
                         loom_tensor **logits) {
  (void)n, (void)logits;
  out[0] = loom_prelu(run->cx, in[0], l->w[0]);
  return loom_ctx_status(run->cx);
}

static const lm_opt prelu_opts[] = {
    ACT_OPT(shared_axes, "shared_axes", LM_OPT_AXES, 1, LOOM_MAX_RANK - 1), LM_OPTS_END};

const lm_layer_kind lm_kind_prelu = {
    .id = LM_KIND_PRELU, .class_name = "PReLU", .prefix = "p_re_lu", ACT_OPTS, .opts = prelu_opts,
    .check = prelu_check, .build = prelu_build, .forward = prelu_forward, .mask = LM_MASK_KEEP};

loom_layer *loom_layer_prelu(loom_graph *g, const loom_activation_layer_opts *o) {
  return lm_layer_make(g, &lm_kind_prelu, o);
}
