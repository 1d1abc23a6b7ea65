/* layer_separable.c - DepthwiseConv2D and SeparableConv2D (Keras' weights and names:
 * depthwise_kernel [kh, kw, in, dm], pointwise_kernel [1, 1, in * dm, filters], bias). */
#include "lib/layers/layer.h"
#include "lib/layers/spatial.h"
#include "ops/ops.h"

static bool separable(const loom_layer *l) { return l->kind == &lm_kind_separable_conv2d; }

static int sep_build(loom_layer *l, int n, loom_node *const *in, int *n_out, lm_shape *out, loom_dtype *dt) {
  (void)n, (void)n_out, (void)dt;
  const loom_separable_opts *o = &l->o.sep;
  const loom_node *x = in[0];
  if (!lm_check_input(l, in, 0, 4, 4, LOOM_F32) || !lm_check_known_last(l, x, "channels")) return l->g->status;
  const int64_t cin = x->shape.d[3], dm = o->depth_multiplier, mid = cin * dm;
  const int64_t cout = separable(l) ? o->filters : mid;
  if (l->built) {
    if (!lm_check_built_dim(l, x, 3, l->w[0]->shape[2])) return l->g->status;
  } else {
    const int64_t dk[4] = {o->kernel_size[0], o->kernel_size[1], cin, dm};
    const double field = (double)o->kernel_size[0] * o->kernel_size[1];
    loom_tensor *d = lm_layer_add_weight(l, "depthwise_kernel", 4, dk);
    if (!d) return l->g->status;
    lm_init_glorot_uniform(l, d, field * (double)cin, field * (double)dm);
    if (separable(l)) {
      const int64_t pk[4] = {1, 1, mid, cout};
      loom_tensor *p = lm_layer_add_weight(l, "pointwise_kernel", 4, pk);
      if (!p) return l->g->status;
      lm_init_glorot_uniform(l, p, (double)mid, (double)cout);
    }
    if (o->use_bias != LOOM_NO && !lm_layer_add_weight(l, "bias", 1, &cout)) return l->g->status;
  }
  if (!lm_spatial_out(l, x, 2, o->kernel_size, o->strides, o->padding, out)) return l->g->status;
  out->d[3] = cout;
  return LOOM_OK;
}

static int sep_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in, loom_tensor **out,
                       loom_tensor **logits) {
  (void)n;
  const loom_separable_opts *o = &l->o.sep;
  const bool sep = separable(l);
  loom_tensor *kernel = l->w[sep ? 1 : 0], *bias = o->use_bias != LOOM_NO ? l->w[sep ? 2 : 1] : NULL;
  const int64_t cout = sep ? kernel->shape[3] : kernel->shape[2] * kernel->shape[3];
  if (!lm_fold_weights(run, cout, &kernel, &bias)) return loom_ctx_status(run->cx);
  const bool split = lm_wants_split(run, o->activation);
  const loom_activation act = run->fold ? run->fold->act : o->activation;
  const loom_activation fused = split ? LOOM_LINEAR : act;
  loom_tensor *z = sep ? loom_conv2d(run->cx,
                                     loom_depthwise_conv2d(run->cx, in[0], l->w[0], NULL, o->strides[0],
                                                           o->strides[1], o->padding, LOOM_LINEAR),
                                     kernel, bias, 1, 1, 1, 1, LOOM_VALID, fused)
                       : loom_depthwise_conv2d(run->cx, in[0], kernel, bias, o->strides[0], o->strides[1],
                                               o->padding, fused);
  if (split) logits[0] = z, z = lm_activate(run, z, act);
  out[0] = z;
  return loom_ctx_status(run->cx);
}

static loom_activation sep_activation(const loom_layer *l) { return l->o.sep.activation; }

static int sep_check(loom_graph *g, const lm_layer_kind *k, void *opts) {
  loom_separable_opts *c = opts;
  lm_pair(c->kernel_size, 0), lm_pair(c->strides, 1);
  if (!c->depth_multiplier) c->depth_multiplier = 1;
  if (c->activation == LOOM_ACTIVATION_DEFAULT) c->activation = LOOM_LINEAR;
  if ((k == &lm_kind_separable_conv2d && c->filters <= 0) || c->kernel_size[0] <= 0 ||
      c->kernel_size[1] <= 0 || c->strides[0] <= 0 || c->strides[1] <= 0 || c->depth_multiplier <= 0 ||
      (unsigned)c->padding > LOOM_SAME || !lm_activation_name(c->activation))
    return lm_opts_fail(g, k, c, LOOM_EINVAL, "filters, kernel_size, strides and depth_multiplier must "
                        "be > 0 (got %d, %dx%d, %dx%d, %d), padding and activation known", c->filters,
                        c->kernel_size[0], c->kernel_size[1], c->strides[0], c->strides[1],
                        c->depth_multiplier);
  return LOOM_OK;
}

#define SEP_OPT(field, key, type, lo, hi) LM_OPT(loom_separable_opts, field, key, type, lo, hi)
#define SEP_COMMON_OPTS                                                  \
  SEP_OPT(kernel_size, "kernel_size", LM_OPT_TUPLE, 1, 1 << 20),         \
  SEP_OPT(strides, "strides", LM_OPT_TUPLE, 1, 1 << 20),                 \
  SEP_OPT(padding, "padding", LM_OPT_PADDING, 0, 0),                     \
  SEP_OPT(depth_multiplier, "depth_multiplier", LM_OPT_INT, 1, 1 << 10), \
  SEP_OPT(activation, "activation", LM_OPT_ACTIVATION, 0, 0),            \
  SEP_OPT(use_bias, "use_bias", LM_OPT_FLAG, 0, 0)
static const lm_opt depthwise_opts[] = {SEP_COMMON_OPTS, LM_OPTS_END};
static const lm_opt separable_opts[] = {SEP_OPT(filters, "filters", LM_OPT_INT, 1, 1 << 24),
                                        SEP_COMMON_OPTS, LM_OPTS_END};

#define SEP_KIND(ID, cls, pfx, options)                                                      \
  {.id = ID, .class_name = cls, .prefix = pfx, .min_in = 1, .max_in = 1, .dims = 2,          \
   .opts_size = sizeof(loom_separable_opts), .name_offset = offsetof(loom_separable_opts, name), \
   .opts = options, .check = sep_check, .build = sep_build, .forward = sep_forward,           \
   .activation = sep_activation, .fold = LM_FOLD_PRODUCER}
const lm_layer_kind lm_kind_depthwise_conv2d =
    SEP_KIND(LM_KIND_DEPTHWISE_CONV2D, "DepthwiseConv2D", "depthwise_conv2d", depthwise_opts);
const lm_layer_kind lm_kind_separable_conv2d =
    SEP_KIND(LM_KIND_SEPARABLE_CONV2D, "SeparableConv2D", "separable_conv2d", separable_opts);

loom_layer *loom_layer_depthwise_conv2d(loom_graph *g, const loom_separable_opts *o) {
  return lm_layer_make(g, &lm_kind_depthwise_conv2d, o);
}
loom_layer *loom_layer_separable_conv2d(loom_graph *g, const loom_separable_opts *o) {
  return lm_layer_make(g, &lm_kind_separable_conv2d, o);
}
