/* layer_separable.c - DepthwiseConv2D and SeparableConv2D (Keras' weights and names:
 * depthwise_kernel [kh, kw, in, dm], pointwise_kernel [1, 1, in * dm, filters], bias). */
#include <string.h>

#include "lib/layers.h"
#include "lib/spatial.h"

static bool separable(const loom_layer *l) { return l->vt->type[0] == 'S'; }

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
  loom_tensor *z;
  if (sep) {
    loom_tensor *d = loom_depthwise_conv2d(run->cx, in[0], l->w[0], NULL, o->strides[0], o->strides[1], o->padding);
    z = loom_conv2d(run->cx, d, kernel, bias, 1, 1, LOOM_VALID, split ? LOOM_LINEAR : act);
    if (!split) {
      out[0] = z;
      return loom_ctx_status(run->cx);
    }
  } else {
    z = loom_depthwise_conv2d(run->cx, in[0], kernel, bias, o->strides[0], o->strides[1], o->padding);
  }
  if (split) logits[0] = z;
  out[0] = lm_activate(run, z, act);
  return loom_ctx_status(run->cx);
}

static bool sep_foldable(const loom_layer *l) { return l->o.sep.activation == LOOM_LINEAR; }

static const lm_layer_vt depthwise_vt = {"DepthwiseConv2D", "depthwise_conv2d", 1, 1, sep_build, sep_forward,
                                         sep_foldable};
static const lm_layer_vt separable_vt = {"SeparableConv2D", "separable_conv2d", 1, 1, sep_build, sep_forward,
                                         sep_foldable};

static loom_layer *sep_new(loom_graph *g, const loom_separable_opts *o, const lm_layer_vt *vt) {
  if (!g || !o) return lm_layer_from(g, vt, o, sizeof *o, NULL);
  loom_separable_opts c = *o;
  lm_pair(c.kernel_size, 0), lm_pair(c.strides, 1);
  if (!c.depth_multiplier) c.depth_multiplier = 1;
  if ((vt == &separable_vt && c.filters <= 0) || c.kernel_size[0] <= 0 || c.kernel_size[1] <= 0 ||
      c.strides[0] <= 0 || c.strides[1] <= 0 || c.depth_multiplier <= 0 || (unsigned)c.padding > LOOM_SAME ||
      (unsigned)c.activation > LOOM_SOFTMAX) {
    lm_graph_fail(g, LOOM_EINVAL, "%s: filters, kernel_size, strides and depth_multiplier must be > 0 "
                  "(got %d, %dx%d, %dx%d, %d), padding and activation known", vt->type, c.filters,
                  c.kernel_size[0], c.kernel_size[1], c.strides[0], c.strides[1], c.depth_multiplier);
    return NULL;
  }
  return lm_layer_from(g, vt, &c, sizeof c, c.name);
}

loom_layer *loom_layer_depthwise_conv2d(loom_graph *g, const loom_separable_opts *o) {
  return sep_new(g, o, &depthwise_vt);
}
loom_layer *loom_layer_separable_conv2d(loom_graph *g, const loom_separable_opts *o) {
  return sep_new(g, o, &separable_vt);
}
