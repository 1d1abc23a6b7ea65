/* layer_conv.c - Conv1D and Conv2D (channels-last, Keras' kernel layout), and the
 * output-length rule they share with pooling. */
#include "lib/layers.h"
#include "lib/spatial.h"

int64_t lm_out_len(int64_t len, int64_t window, int64_t stride, loom_padding padding) {
  if (len == LOOM_NONE) return LOOM_NONE;
  if (padding == LOOM_SAME) return (len + stride - 1) / stride;
  return len < window ? -2 : (len - window) / stride + 1;
}

bool lm_spatial_out(loom_layer *l, const loom_node *x, int dims, const int *window,
                    const int *stride, loom_padding padding, lm_shape *out) {
  *out = x->shape;
  for (int k = 0; k < dims; ++k) {
    out->d[1 + k] = lm_out_len(x->shape.d[1 + k], window[k], stride[k], padding);
    if (out->d[1 + k] == -2) {
      char s[96];
      lm_layer_fail(l, LOOM_ESHAPE, "input %s is smaller than the window (%d) in dim %d with "
                    "'valid' padding", lm_shape_msg(&x->shape, s, sizeof s), window[k], 1 + k);
      return false;
    }
  }
  return true;
}

/* Keras' int-or-tuple: a second entry left 0 repeats the first; the first 0 is `dflt`. */
void lm_pair(int v[2], int dflt) {
  if (!v[0]) v[0] = dflt;
  if (!v[1]) v[1] = v[0];
}

static int conv_build(loom_layer *l, int n, loom_node *const *in, int *n_out, lm_shape *out,
                      loom_dtype *dt) {
  (void)n, (void)n_out, (void)dt;
  const loom_conv_opts *o = &l->o.conv;
  const int dims = l->rank;
  const loom_node *x = in[0];
  if (!lm_check_input(l, in, 0, dims + 2, dims + 2, LOOM_F32) ||
      !lm_check_known_last(l, x, "channels"))
    return l->g->status;
  const int64_t cin = x->shape.d[dims + 1];
  if (l->built) {
    if (!lm_check_built_dim(l, x, dims + 1, l->w[0]->shape[dims])) return l->g->status;
  } else {
    int64_t ks[4];
    double field = 1;
    for (int k = 0; k < dims; ++k) ks[k] = o->kernel_size[k], field *= o->kernel_size[k];
    ks[dims] = cin, ks[dims + 1] = o->filters;
    loom_tensor *w = lm_layer_add_weight(l, "kernel", dims + 2, ks);
    if (!w) return l->g->status;
    lm_init_glorot_uniform(l, w, field * (double)cin, field * o->filters);
    const int64_t f = o->filters;
    if (o->use_bias != LOOM_NO && !lm_layer_add_weight(l, "bias", 1, &f)) return l->g->status;
  }
  int window[2];
  for (int k = 0; k < dims; ++k) window[k] = o->dilation_rate * (o->kernel_size[k] - 1) + 1;
  if (!lm_spatial_out(l, x, dims, window, o->strides, o->padding, out)) return l->g->status;
  out->d[dims + 1] = o->filters;
  return LOOM_OK;
}

static int conv_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in,
                        loom_tensor **out, loom_tensor **logits) {
  (void)n;
  const loom_conv_opts *o = &l->o.conv;
  loom_tensor *kernel = l->w[0], *bias = l->n_weights > 1 ? l->w[1] : NULL;
  if (!lm_fold_weights(run, o->filters, &kernel, &bias)) return loom_ctx_status(run->cx);
  const bool split = lm_wants_split(run, o->activation);
  const loom_activation act = run->fold ? run->fold->act : split ? LOOM_LINEAR : o->activation;
  loom_tensor *y = l->rank == 1 ? loom_conv1d(run->cx, in[0], kernel, bias, o->strides[0],
                                              o->dilation_rate, o->padding, act)
                                : loom_conv2d(run->cx, in[0], kernel, bias, o->strides[0],
                                              o->strides[1], o->padding, act);
  if (split) logits[0] = y, y = lm_activate(run, y, o->activation);
  out[0] = y;
  return loom_ctx_status(run->cx);
}

static bool conv_foldable(const loom_layer *l) { return l->o.conv.activation == LOOM_LINEAR; }

static const lm_layer_vt conv1d_vt = {"Conv1D", "conv1d", 1, 1, conv_build, conv_forward,
                                      conv_foldable};
static const lm_layer_vt conv2d_vt = {"Conv2D", "conv2d", 1, 1, conv_build, conv_forward,
                                      conv_foldable};

static loom_layer *conv_new(loom_graph *g, const loom_conv_opts *o, int dims) {
  const char *type = dims == 1 ? "Conv1D" : "Conv2D";
  if (g && o) {
    loom_conv_opts c = *o;
    lm_pair(c.kernel_size, 0), lm_pair(c.strides, 1);
    if (dims == 1) c.kernel_size[1] = 1, c.strides[1] = 1;
    if (!c.dilation_rate) c.dilation_rate = 1;
    if (c.filters <= 0 || c.kernel_size[0] <= 0 || c.kernel_size[1] <= 0 || c.strides[0] <= 0 ||
        c.strides[1] <= 0 || c.dilation_rate <= 0 || (unsigned)c.padding > LOOM_SAME ||
        (unsigned)c.activation > LOOM_SOFTMAX) {
      lm_graph_fail(g, LOOM_EINVAL, "%s: filters, kernel_size, strides and dilation_rate must "
                    "be > 0 (got %d, %dx%d, %dx%d, %d), padding and activation known", type,
                    c.filters, c.kernel_size[0], c.kernel_size[1], c.strides[0], c.strides[1],
                    c.dilation_rate);
      return NULL;
    }
    if (dims == 2 && c.dilation_rate != 1) {
      lm_graph_fail(g, LOOM_EUNSUPPORTED, "Conv2D: dilation_rate > 1 is not supported");
      return NULL;
    }
    if (c.dilation_rate != 1 && c.strides[0] != 1) { /* Keras' rule too */
      lm_graph_fail(g, LOOM_EINVAL, "Conv1D: dilation_rate > 1 needs strides 1");
      return NULL;
    }
    loom_layer *l = lm_layer_from(g, dims == 1 ? &conv1d_vt : &conv2d_vt, &c, sizeof c, c.name);
    if (l) l->rank = dims;
    return l;
  }
  return lm_layer_from(g, dims == 1 ? &conv1d_vt : &conv2d_vt, o, sizeof *o, NULL);
}

loom_layer *loom_layer_conv1d(loom_graph *g, const loom_conv_opts *o) { return conv_new(g, o, 1); }
loom_layer *loom_layer_conv2d(loom_graph *g, const loom_conv_opts *o) { return conv_new(g, o, 2); }
