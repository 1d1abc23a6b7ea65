/* conv_lstm.c - ConvLSTM2D (Keras' kernel glorot_uniform over the kernel's receptive
 * field, recurrent_kernel orthogonal as a [kh * kw * filters, 4 filters] matrix, bias zeros
 * with the forget gate at 1 under unit_forget_bias; gates i, f, c, o). Called on [x] or
 * [x, h, c] (initial_state); return_state adds the last h and c as outputs. */
#include "lib/layers/layer.h"
#include "lib/layers/spatial.h"
#include "ops/ops.h"

static int conv_lstm_check(loom_graph *g, const lm_layer_kind *k, void *opts) {
  loom_conv_lstm_opts *o = opts;
  lm_pair(o->kernel_size, 0), lm_pair(o->strides, 1), lm_pair(o->dilation_rate, 1);
  if (o->filters <= 0 || o->kernel_size[0] <= 0 || o->kernel_size[1] <= 0 || o->strides[0] <= 0 ||
      o->strides[1] <= 0 || o->dilation_rate[0] <= 0 || o->dilation_rate[1] <= 0 || (unsigned)o->padding > LOOM_SAME)
    return lm_opts_fail(g, k, o, LOOM_EINVAL, "filters, kernel_size, strides and dilation_rate must be > 0 (got %d, "
                        "%dx%d, %dx%d, %dx%d) and padding 'valid' or 'same'", o->filters, o->kernel_size[0],
                        o->kernel_size[1], o->strides[0], o->strides[1], o->dilation_rate[0], o->dilation_rate[1]);
  if ((o->dilation_rate[0] != 1 || o->dilation_rate[1] != 1) && (o->strides[0] != 1 || o->strides[1] != 1))
    return lm_opts_fail(g, k, o, LOOM_EINVAL, "dilation_rate > 1 needs strides 1, as Keras requires");
  return lm_check_cell(g, k, o, &o->activation, &o->recurrent_activation, o->dropout, o->recurrent_dropout);
}

static int conv_lstm_build(loom_layer *l, int n, loom_node *const *in, int *n_out, lm_shape *out, loom_dtype *dt) {
  (void)dt;
  const loom_conv_lstm_opts *o = &l->o.conv_lstm;
  const loom_node *x = in[0];
  if (!lm_check_input(l, in, 0, 5, 5, LOOM_F32) || !lm_check_known_last(l, x, "channels")) return l->g->status;
  if (n != 1 && n != 3)
    return lm_layer_fail(l, LOOM_EINVAL, "takes [x] or [x, h, c] (initial_state), got %d inputs", n);
  /* the state's rows and cols: the input convolution's output over x's images */
  const lm_shape image = {4, {x->shape.d[0], x->shape.d[2], x->shape.d[3], x->shape.d[4]}};
  const loom_node img = {.shape = image};
  int window[2];
  for (int k = 0; k < 2; ++k) window[k] = o->dilation_rate[k] * (o->kernel_size[k] - 1) + 1;
  lm_shape st;
  if (!lm_spatial_out(l, &img, 2, window, o->strides, o->padding, &st)) return l->g->status;
  const int64_t f = o->filters, cin = x->shape.d[4];
  st.d[3] = f;
  for (int i = 1; i < n; ++i) {
    if (!lm_check_input(l, in, i, 4, 4, LOOM_F32)) return l->g->status;
    for (int a = 1; a < 4; ++a)
      if (in[i]->shape.d[a] != st.d[a] && st.d[a] != LOOM_NONE) {
        char s[96], w[96];
        return lm_layer_fail(l, LOOM_ESHAPE, "initial_state %s must be %s (batch, rows, cols, filters)",
                             lm_shape_msg(&in[i]->shape, s, sizeof s), lm_shape_msg(&st, w, sizeof w));
      }
  }
  if (l->built) {
    if (!lm_check_built_dim(l, x, 4, l->w[0]->shape[2])) return l->g->status;
  } else {
    const int64_t kh = o->kernel_size[0], kw = o->kernel_size[1];
    const int64_t ks[4] = {kh, kw, cin, 4 * f}, rs[4] = {kh, kw, f, 4 * f}, bs = 4 * f;
    loom_tensor *k = lm_layer_add_weight(l, "kernel", 4, ks);
    loom_tensor *r = k ? lm_layer_add_weight(l, "recurrent_kernel", 4, rs) : NULL;
    if (!r) return l->g->status;
    lm_init_glorot_uniform(l, k, (double)(kh * kw * cin), (double)(kh * kw * 4 * f));
    if (lm_init_orthogonal(l, r)) return lm_layer_fail(l, LOOM_ENOMEM, "out of memory drawing the recurrent kernel");
    loom_tensor *b = NULL;
    if (o->use_bias != LOOM_NO && !(b = lm_layer_add_weight(l, "bias", 1, &bs))) return l->g->status;
    if (b && o->unit_forget_bias != LOOM_NO) /* i, f, c, o: f at 1 */
      for (int64_t i = f; i < 2 * f; ++i) ((float *)b->data)[i] = 1.0f;
  }
  st.d[0] = LOOM_NONE;
  out[0] = o->return_sequences ? (lm_shape){5, {LOOM_NONE, x->shape.d[1], st.d[1], st.d[2], f}} : st;
  if (o->return_state) {
    *n_out = 3;
    out[1] = out[2] = st;
  }
  return LOOM_OK;
}

static int conv_lstm_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in, loom_tensor **out,
                             loom_tensor **logits) {
  (void)logits;
  const loom_conv_lstm_opts *o = &l->o.conv_lstm;
  loom_ctx *cx = run->cx;
  loom_tensor *x = in[0];
  loom_conv_lstm_cfg cfg = {
      .rnn = {.activation = o->activation, .recurrent_activation = o->recurrent_activation,
              .return_sequences = o->return_sequences, .go_backwards = o->go_backwards,
              .mask = run->mask ? run->mask[0] : NULL},
      .strides = {o->strides[0], o->strides[1]},
      .dilation = {o->dilation_rate[0], o->dilation_rate[1]},
      .padding = o->padding};
  /* Keras' dropout in training: four masks per gate, drawn once for the sequence */
  if (run->training && o->dropout > 0.0f) {
    const int64_t s[4] = {x->shape[0], x->shape[2], x->shape[3], 4 * x->shape[4]};
    if (!(cfg.rnn.input_mask = lm_dropout_mask(l, cx, 4, s, o->dropout))) return l->g->status;
  }
  if (run->training && o->recurrent_dropout > 0.0f) {
    int64_t s[4] = {x->shape[0], 0, 0, 4 * (int64_t)o->filters}; /* the state's shape, 4 times */
    for (int k = 0; k < 2; ++k)
      s[1 + k] = lm_out_len(x->shape[2 + k], o->dilation_rate[k] * (o->kernel_size[k] - 1) + 1, o->strides[k],
                            o->padding);
    if (!(cfg.rnn.recurrent_mask = lm_dropout_mask(l, cx, 4, s, o->recurrent_dropout))) return l->g->status;
  }
  loom_tensor *bias = l->n_weights > 2 ? l->w[2] : NULL;
  out[0] = loom_conv_lstm2d(cx, x, n > 1 ? in[1] : NULL, n > 2 ? in[2] : NULL, l->w[0], l->w[1], bias, &cfg,
                            o->return_state ? &out[2] : NULL);
  if (o->return_state) out[1] = o->return_sequences ? loom_last_step(cx, out[0]) : out[0];
  return loom_ctx_status(cx);
}

#define CL_OPT(field, key, type, lo, hi) LM_OPT(loom_conv_lstm_opts, field, key, type, lo, hi)
static const lm_opt conv_lstm_opts[] = {
    CL_OPT(filters, "filters", LM_OPT_INT, 1, 1 << 24),
    CL_OPT(kernel_size, "kernel_size", LM_OPT_TUPLE, 1, 1 << 20),
    CL_OPT(strides, "strides", LM_OPT_TUPLE, 1, 1 << 20),
    CL_OPT(padding, "padding", LM_OPT_PADDING, 0, 0),
    CL_OPT(dilation_rate, "dilation_rate", LM_OPT_TUPLE, 1, 1 << 20),
    CL_OPT(activation, "activation", LM_OPT_ACTIVATION, 0, 0),
    CL_OPT(recurrent_activation, "recurrent_activation", LM_OPT_ACTIVATION, 0, 0),
    CL_OPT(use_bias, "use_bias", LM_OPT_FLAG, 0, 0),
    CL_OPT(unit_forget_bias, "unit_forget_bias", LM_OPT_FLAG, 0, 0),
    CL_OPT(return_sequences, "return_sequences", LM_OPT_BOOL, 0, 0),
    CL_OPT(return_state, "return_state", LM_OPT_BOOL, 0, 0),
    CL_OPT(go_backwards, "go_backwards", LM_OPT_BOOL, 0, 0),
    CL_OPT(dropout, "dropout", LM_OPT_FLOAT, 0.0, 0.999999),
    CL_OPT(recurrent_dropout, "recurrent_dropout", LM_OPT_FLOAT, 0.0, 0.999999),
    LM_OPTS_END};

/* Keras' ConvRNN.compute_mask: the input's mask stays on a returned sequence */
static int conv_lstm_masked_outputs(const loom_layer *l) { return l->o.conv_lstm.return_sequences; }

const lm_layer_kind lm_kind_conv_lstm2d = {
    .id = LM_KIND_CONV_LSTM2D, .class_name = "ConvLSTM2D", .prefix = "conv_lstm2d", .min_in = 1, .max_in = 3,
    .dims = 2, .opts_size = sizeof(loom_conv_lstm_opts), .name_offset = offsetof(loom_conv_lstm_opts, name),
    .opts = conv_lstm_opts, .check = conv_lstm_check, .build = conv_lstm_build, .forward = conv_lstm_forward,
    .mask = LM_MASK_SEQUENCE, .masked_outputs = conv_lstm_masked_outputs};

loom_layer *loom_layer_conv_lstm2d(loom_graph *g, const loom_conv_lstm_opts *o) {
  return lm_layer_make(g, &lm_kind_conv_lstm2d, o);
}
