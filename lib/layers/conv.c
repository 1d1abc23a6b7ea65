/* conv.c - Conv1D and Conv2D (channels-last, Keras' kernel [k..., in, filters],
 * glorot_uniform, bias zeros), and their transposed forms Conv1DTranspose and
 * Conv2DTranspose (kernel [k..., filters, in]). */
#include "lib/layers/layer.h"
#include "lib/layers/spatial.h"
#include "ops/ops.h"

static bool transposed(const lm_layer_kind *k) {
  return k == &lm_kind_conv1d_transpose || k == &lm_kind_conv2d_transpose;
}

/* an output_padding entry as the op takes it: LOOM_NONE for None, else the count */
static int out_pad(int v) { return v == 0 ? LOOM_NONE : v == LOOM_ZERO ? 0 : v; }

static int conv_check(loom_graph *g, const lm_layer_kind *k, void *opts) {
  loom_conv_opts *c = opts;
  const bool t = transposed(k);
  lm_pair(c->kernel_size, 0), lm_pair(c->strides, 1), lm_pair(c->dilation_rate, 1);
  if (c->output_padding[0]) lm_pair(c->output_padding, 0);
  if (k->dims == 1)
    c->kernel_size[1] = 1, c->strides[1] = 1, c->dilation_rate[1] = 1, c->output_padding[1] = c->output_padding[0];
  if (c->activation == LOOM_ACTIVATION_DEFAULT) c->activation = LOOM_LINEAR;
  if (c->filters <= 0 || c->kernel_size[0] <= 0 || c->kernel_size[1] <= 0 || c->strides[0] <= 0 ||
      c->strides[1] <= 0 || c->dilation_rate[0] <= 0 || c->dilation_rate[1] <= 0 ||
      (unsigned)c->padding > (k->dims == 1 && !t ? LOOM_CAUSAL : LOOM_SAME) ||
      !lm_activation_name(c->activation))
    return lm_opts_fail(g, k, c, LOOM_EINVAL, "filters, kernel_size, strides and dilation_rate must "
                        "be > 0 (got %d, %dx%d, %dx%d, %dx%d), padding known ('causal' for Conv1D alone) and activation known",
                        c->filters, c->kernel_size[0], c->kernel_size[1], c->strides[0],
                        c->strides[1], c->dilation_rate[0], c->dilation_rate[1]);
  /* Keras' rule too */
  if ((c->dilation_rate[0] != 1 || c->dilation_rate[1] != 1) && (c->strides[0] != 1 || c->strides[1] != 1))
    return lm_opts_fail(g, k, c, LOOM_EINVAL, "dilation_rate > 1 needs strides 1");
  if (!t && (c->output_padding[0] || c->output_padding[1]))
    return lm_opts_fail(g, k, c, LOOM_EINVAL, "output_padding is for the transposed convolutions");
  if (k->dims == 2 && !c->output_padding[0] != !c->output_padding[1])
    return lm_opts_fail(g, k, c, LOOM_EINVAL, "output_padding is given for both axes or for none "
                        "(LOOM_ZERO for an explicit 0)");
  for (int i = 0; i < k->dims; ++i) {
    const int p = out_pad(c->output_padding[i]);
    if (p < LOOM_NONE || p >= c->strides[i])
      return lm_opts_fail(g, k, c, LOOM_EINVAL, "output_padding %d on axis %d must be >= 0 and below "
                          "the stride (%d), as Keras requires", p, i, c->strides[i]);
  }
  return LOOM_OK;
}

static int conv_build(loom_layer *l, int n, loom_node *const *in, int *n_out, lm_shape *out,
                      loom_dtype *dt) {
  (void)n, (void)n_out, (void)dt;
  const loom_conv_opts *o = &l->o.conv;
  const int dims = l->kind->dims;
  const loom_node *x = in[0];
  if (!lm_check_input(l, in, 0, dims + 2, dims + 2, LOOM_F32) ||
      !lm_check_known_last(l, x, "channels"))
    return l->g->status;
  const int64_t cin = x->shape.d[dims + 1];
  const bool t = transposed(l->kind);
  if (l->built) {
    if (!lm_check_built_dim(l, x, dims + 1, l->w[0]->shape[dims + t])) return l->g->status;
  } else {
    int64_t ks[4];
    double field = 1;
    for (int k = 0; k < dims; ++k) ks[k] = o->kernel_size[k], field *= o->kernel_size[k];
    ks[dims + t] = cin, ks[dims + !t] = o->filters;
    loom_tensor *w = lm_layer_add_weight(l, "kernel", dims + 2, ks);
    if (!w) return l->g->status;
    lm_init_glorot_uniform(l, w, field * (double)cin, field * o->filters);
    const int64_t f = o->filters;
    if (o->use_bias != LOOM_NO && !lm_layer_add_weight(l, "bias", 1, &f)) return l->g->status;
  }
  int window[2];
  for (int k = 0; k < dims; ++k) window[k] = o->dilation_rate[k] * (o->kernel_size[k] - 1) + 1;
  if (t) {
    *out = x->shape;
    for (int k = 0; k < dims; ++k) {
      const int64_t len = x->shape.d[1 + k];
      if (len == LOOM_NONE) continue;
      out->d[1 + k] = lm_conv_transpose_len(len, window[k], o->strides[k], o->padding, out_pad(o->output_padding[k]));
      int64_t back = lm_window_out(out->d[1 + k], window[k], o->strides[k], o->padding, NULL);
      if (out->d[1 + k] < 1 || back != len)
        return lm_layer_fail(l, LOOM_ESHAPE, "output_padding %d: axis %d of length %lld gives %lld, whose "
                             "convolution has length %lld, not %lld (TensorFlow refuses it too)",
                             out_pad(o->output_padding[k]), 1 + k, (long long)len, (long long)out->d[1 + k],
                             (long long)back, (long long)len);
    }
  } else if (!lm_spatial_out(l, x, dims, window, o->strides, o->padding, out)) {
    return l->g->status;
  }
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
  loom_tensor *y = l->kind->dims == 1 ? loom_conv1d(run->cx, in[0], kernel, bias, o->strides[0],
                                                    o->dilation_rate[0], o->padding, act)
                                      : loom_conv2d(run->cx, in[0], kernel, bias, o->strides[0],
                                                    o->strides[1], o->dilation_rate[0], o->dilation_rate[1],
                                                    o->padding, act);
  if (split) logits[0] = y, y = lm_activate(run, y, o->activation);
  out[0] = y;
  return loom_ctx_status(run->cx);
}

static int conv_t_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in,
                          loom_tensor **out, loom_tensor **logits) {
  (void)n;
  const loom_conv_opts *o = &l->o.conv;
  loom_tensor *kernel = l->w[0], *bias = l->n_weights > 1 ? l->w[1] : NULL;
  loom_tensor *z = l->kind->dims == 1
                       ? loom_conv1d_transpose(run->cx, in[0], kernel, bias, o->strides[0], o->dilation_rate[0],
                                               o->padding, out_pad(o->output_padding[0]))
                       : loom_conv2d_transpose(run->cx, in[0], kernel, bias, o->strides[0], o->strides[1],
                                               o->dilation_rate[0], o->dilation_rate[1], o->padding,
                                               out_pad(o->output_padding[0]), out_pad(o->output_padding[1]));
  if (lm_wants_split(run, o->activation)) logits[0] = z;
  out[0] = lm_activate(run, z, o->activation);
  return loom_ctx_status(run->cx);
}

static loom_activation conv_activation(const loom_layer *l) { return l->o.conv.activation; }

#define CONV_OPTS                                                                  \
  LM_OPT(loom_conv_opts, filters, "filters", LM_OPT_INT, 1, 1 << 24),                    \
      LM_OPT(loom_conv_opts, kernel_size, "kernel_size", LM_OPT_TUPLE, 1, 1 << 20),      \
      LM_OPT(loom_conv_opts, strides, "strides", LM_OPT_TUPLE, 1, 1 << 20),              \
      LM_OPT(loom_conv_opts, padding, "padding", LM_OPT_PADDING, 0, 0),                  \
      LM_OPT(loom_conv_opts, dilation_rate, "dilation_rate", LM_OPT_TUPLE, 1, 1 << 20),  \
      LM_OPT(loom_conv_opts, activation, "activation", LM_OPT_ACTIVATION, 0, 0),         \
      LM_OPT(loom_conv_opts, use_bias, "use_bias", LM_OPT_FLAG, 0, 0)
static const lm_opt conv_opts[] = {CONV_OPTS, LM_OPTS_END};
static const lm_opt conv_t_opts[] = {
    CONV_OPTS, LM_OPT(loom_conv_opts, output_padding, "output_padding", LM_OPT_TUPLE_NONE, 0, 1 << 20),
    LM_OPTS_END};

#define CONV_KIND(ID, cls, pfx, d)                                                           \
  {.id = ID, .class_name = cls, .prefix = pfx, .min_in = 1, .max_in = 1, .dims = d,          \
   .opts_size = sizeof(loom_conv_opts), .name_offset = offsetof(loom_conv_opts, name),       \
   .opts = conv_opts, .check = conv_check, .build = conv_build, .forward = conv_forward,      \
   .activation = conv_activation, .fold = LM_FOLD_PRODUCER}
const lm_layer_kind lm_kind_conv1d = CONV_KIND(LM_KIND_CONV1D, "Conv1D", "conv1d", 1);
const lm_layer_kind lm_kind_conv2d = CONV_KIND(LM_KIND_CONV2D, "Conv2D", "conv2d", 2);

#define CONV_T_KIND(ID, cls, pfx, d)                                                          \
  {.id = ID, .class_name = cls, .prefix = pfx, .min_in = 1, .max_in = 1, .dims = d,            \
   .opts_size = sizeof(loom_conv_opts), .name_offset = offsetof(loom_conv_opts, name),         \
   .opts = conv_t_opts, .check = conv_check, .build = conv_build, .forward = conv_t_forward,   \
   .activation = conv_activation}
const lm_layer_kind lm_kind_conv1d_transpose =
    CONV_T_KIND(LM_KIND_CONV1D_TRANSPOSE, "Conv1DTranspose", "conv1d_transpose", 1);
const lm_layer_kind lm_kind_conv2d_transpose =
    CONV_T_KIND(LM_KIND_CONV2D_TRANSPOSE, "Conv2DTranspose", "conv2d_transpose", 2);

loom_layer *loom_layer_conv1d(loom_graph *g, const loom_conv_opts *o) {
  return lm_layer_make(g, &lm_kind_conv1d, o);
}
loom_layer *loom_layer_conv2d(loom_graph *g, const loom_conv_opts *o) {
  return lm_layer_make(g, &lm_kind_conv2d, o);
}
loom_layer *loom_layer_conv1d_transpose(loom_graph *g, const loom_conv_opts *o) {
  return lm_layer_make(g, &lm_kind_conv1d_transpose, o);
}
loom_layer *loom_layer_conv2d_transpose(loom_graph *g, const loom_conv_opts *o) {
  return lm_layer_make(g, &lm_kind_conv2d_transpose, o);
}
