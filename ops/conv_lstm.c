/* conv_lstm.c - loom_conv_lstm2d: Keras' ConvLSTM2D, written with the convolution, cut
 * (loom_pad), elementwise and concatenation ops, so that its gradient is theirs, each
 * checked on its own. The input convolution runs over every step at once ([batch * steps]
 * images, one GEMM); each step then adds the recurrent convolution of h_{t-1} ('same',
 * stride 1, as Keras) and runs the LSTM cell on the four gates. */
#include <string.h>

#include "ops/ops.h"

static const char op[] = "loom_conv_lstm2d";

/* x [batch, steps, ...] -> x[:, s] as [batch, ...] */
static loom_tensor *step_of(loom_ctx *cx, loom_tensor *x, int64_t s) {
  int64_t before[LOOM_MAX_RANK] = {0}, after[LOOM_MAX_RANK] = {0}, shape[LOOM_MAX_RANK];
  before[1] = -s, after[1] = -(x->shape[1] - 1 - s);
  loom_tensor *one = loom_pad(cx, x, before, after);
  if (!one) return NULL;
  shape[0] = x->shape[0];
  for (int a = 2; a < x->rank; ++a) shape[a - 1] = x->shape[a];
  return loom_reshape(cx, one, x->rank - 1, shape);
}

/* z [..., 4 f] -> gate g's [..., f] */
static loom_tensor *gate_of(loom_ctx *cx, loom_tensor *z, int g, int64_t f) {
  int64_t before[LOOM_MAX_RANK] = {0}, after[LOOM_MAX_RANK] = {0};
  before[z->rank - 1] = -g * f, after[z->rank - 1] = -(3 - g) * f;
  return loom_pad(cx, z, before, after);
}

/* conv(x, w) + bias for the four gates at once, or with Keras' dropout masks [..., 4 in]
 * (gate g's x multiplied by its own mask) one gate at a time */
static loom_tensor *conv_gates(loom_ctx *cx, loom_tensor *x, loom_tensor *w, loom_tensor *bias, loom_tensor *masks,
                               const int *strides, const int *dilation, loom_padding padding) {
  if (!masks)
    return loom_conv2d(cx, x, w, bias, strides[0], strides[1], dilation[0], dilation[1], padding, LOOM_LINEAR);
  if (!x) return NULL;
  const int64_t in = x->shape[x->rank - 1], f = w->shape[3] / 4;
  loom_tensor *z[4];
  for (int g = 0; g < 4; ++g)
    z[g] = loom_conv2d(cx, loom_mul(cx, x, gate_of(cx, masks, g, in)), gate_of(cx, w, g, f),
                       bias ? gate_of(cx, bias, g, f) : NULL, strides[0], strides[1], dilation[0], dilation[1],
                       padding, LOOM_LINEAR);
  return z[0] && z[1] && z[2] && z[3] ? loom_concatenate(cx, 4, z, -1) : NULL;
}

/* a constant tensor of `like`'s shape: 1 over sample bi where v[bi * stride] is nonzero
 * (the step is valid), else 0 */
static loom_tensor *keep_of(loom_ctx *cx, const loom_tensor *like, const float *v, int64_t stride) {
  loom_tensor *t = loom_tensor_new(loom_ctx_arena(cx), LOOM_F32, like->rank, like->shape);
  if (!t) {
    lm_fail(cx, LOOM_ENOMEM, op, "cannot allocate a mask");
    return NULL;
  }
  const int64_t b = like->shape[0], each = like->size / b;
  float *d = t->data;
  for (int64_t bi = 0; bi < b; ++bi)
    for (int64_t i = 0; i < each; ++i) d[bi * each + i] = v[bi * stride] != 0.0f;
  return t;
}

static bool shapes_ok(loom_ctx *cx, const loom_tensor *x, const loom_tensor *kernel, const loom_tensor *rec,
                      const loom_tensor *bias) {
  const bool ok = x->rank == 5 && kernel->rank == 4 && rec->rank == 4 && kernel->shape[2] == x->shape[4] &&
                  kernel->shape[3] % 4 == 0 && kernel->shape[3] > 0 && rec->shape[2] * 4 == kernel->shape[3] &&
                  rec->shape[3] == kernel->shape[3] &&
                  (!bias || (bias->rank == 1 && bias->shape[0] == kernel->shape[3]));
  if (!ok) {
    char sx[96], sk[96], sr[96], sb[96] = "none";
    if (bias) lm_shape_str(bias, sb, sizeof sb);
    lm_fail(cx, LOOM_ESHAPE, op, "input %s, kernel %s, recurrent kernel %s and bias %s do not fit (expected "
            "[batch, steps, rows, cols, in], [kh, kw, in, 4 filters], [kh', kw', filters, 4 filters], "
            "[4 filters])", lm_shape_str(x, sx, sizeof sx), lm_shape_str(kernel, sk, sizeof sk),
            lm_shape_str(rec, sr, sizeof sr), sb);
  }
  return ok;
}

static bool state_ok(loom_ctx *cx, const char *what, const loom_tensor *s, const int64_t *want) {
  if (!s || (s->rank == 4 && !memcmp(s->shape, want, 4 * sizeof *want))) return true;
  char ss[96];
  lm_fail(cx, LOOM_ESHAPE, op, "%s %s must be [%lld, %lld, %lld, %lld] (batch, output rows, cols, filters)",
          what, lm_shape_str(s, ss, sizeof ss), (long long)want[0], (long long)want[1], (long long)want[2],
          (long long)want[3]);
  return false;
}

static bool mask_ok(loom_ctx *cx, const char *what, const loom_tensor *m, int rank, const int64_t *want) {
  if (!m || (m->dtype == LOOM_F32 && m->rank == rank && !memcmp(m->shape, want, (size_t)rank * sizeof *want)))
    return true;
  char sm[96];
  lm_fail(cx, LOOM_ESHAPE, op, "%s %s does not fit the input (expected f32 of rank %d: [batch, steps] for the "
          "mask, [batch, rows, cols, 4 in] for input_mask, [batch, rows', cols', 4 filters] for recurrent_mask)",
          what, lm_shape_str(m, sm, sizeof sm), rank);
  return false;
}

loom_tensor *loom_conv_lstm2d(loom_ctx *cx, loom_tensor *x, loom_tensor *h0, loom_tensor *c0, loom_tensor *kernel,
                              loom_tensor *recurrent_kernel, loom_tensor *bias, const loom_conv_lstm_cfg *cfg,
                              loom_tensor **c_last) {
  if (c_last) *c_last = NULL;
  loom_tensor *need[3] = {x, kernel, recurrent_kernel};
  if (!lm_inputs_ok(cx, op, 3, need) || (bias && !lm_inputs_ok(cx, op, 1, &bias)) ||
      (h0 && !lm_inputs_ok(cx, op, 1, &h0)) || (c0 && !lm_inputs_ok(cx, op, 1, &c0)))
    return NULL;
  if (!cfg) {
    lm_fail(cx, LOOM_EINVAL, op, "cfg is NULL");
    return NULL;
  }
  if (!shapes_ok(cx, x, kernel, recurrent_kernel, bias)) return NULL;
  const loom_rnn_cfg *rc = &cfg->rnn;
  const loom_activation act = rc->activation ? rc->activation : LOOM_TANH;
  const loom_activation rec = rc->recurrent_activation ? rc->recurrent_activation : LOOM_SIGMOID;
  if (act == LOOM_SOFTMAX || rec == LOOM_SOFTMAX || (unsigned)act >= LOOM_ACTIVATION_COUNT ||
      (unsigned)rec >= LOOM_ACTIVATION_COUNT) {
    lm_fail(cx, LOOM_EINVAL, op, "activation %d and recurrent_activation %d must be elementwise activations",
            (int)act, (int)rec);
    return NULL;
  }
  const int64_t b = x->shape[0], t = x->shape[1], f = recurrent_kernel->shape[2];
  const int64_t in_shape[4] = {b, x->shape[2], x->shape[3], 4 * x->shape[4]};
  const int64_t keep_shape[2] = {b, t};
  if (!mask_ok(cx, "mask", rc->mask, 2, keep_shape) || !mask_ok(cx, "input_mask", rc->input_mask, 4, in_shape))
    return NULL;
  if (t == 0) {
    lm_fail(cx, LOOM_ESHAPE, op, "the input has no steps");
    return NULL;
  }

  /* the input convolution of every step at once: [batch * steps, rows, cols, in] */
  const int64_t flat[4] = {b * t, x->shape[2], x->shape[3], x->shape[4]};
  loom_tensor *every = NULL; /* the input dropout masks, the same at every step */
  if (rc->input_mask) {
    const int64_t tiled[4] = {b * t, flat[1], flat[2], 4 * flat[3]};
    if (!(every = loom_tensor_new(loom_ctx_arena(cx), LOOM_F32, 4, tiled))) {
      lm_fail(cx, LOOM_ENOMEM, op, "cannot allocate the dropout masks");
      return NULL;
    }
    const int64_t each = every->size / (b * t);
    for (int64_t bi = 0; bi < b; ++bi)
      for (int64_t s = 0; s < t; ++s)
        memcpy((float *)every->data + (bi * t + s) * each, (const float *)rc->input_mask->data + bi * each,
               (size_t)each * sizeof(float));
  }
  loom_tensor *zx = conv_gates(cx, loom_reshape(cx, x, 4, flat), kernel, bias, every, cfg->strides, cfg->dilation,
                               cfg->padding);
  if (!zx) return NULL;
  const int64_t seq[5] = {b, t, zx->shape[1], zx->shape[2], zx->shape[3]};
  const int64_t state_shape[4] = {b, zx->shape[1], zx->shape[2], f};
  const int64_t rec_mask_shape[4] = {b, zx->shape[1], zx->shape[2], 4 * f};
  if (!state_ok(cx, "initial h", h0, state_shape) || !state_ok(cx, "initial c", c0, state_shape) ||
      !mask_ok(cx, "recurrent_mask", rc->recurrent_mask, 4, rec_mask_shape))
    return NULL;
  zx = loom_reshape(cx, zx, 5, seq);

  loom_tensor *h = h0, *c = c0;
  if (!h || !c) {
    loom_tensor *zeros = loom_tensor_new(loom_ctx_arena(cx), LOOM_F32, 4, state_shape);
    if (!zeros) {
      lm_fail(cx, LOOM_ENOMEM, op, "cannot allocate the initial state");
      return NULL;
    }
    memset(zeros->data, 0, (size_t)zeros->size * sizeof(float));
    if (!h) h = zeros;
    if (!c) c = zeros;
  }
  loom_tensor **outs = NULL;
  if (rc->return_sequences && !(outs = lm_scratch(cx, op, (size_t)t * sizeof *outs))) return NULL;
  static const int one[2] = {1, 1};
  const int64_t one_step[5] = {b, 1, state_shape[1], state_shape[2], f};
  for (int64_t k = 0; k < t && loom_ctx_status(cx) == LOOM_OK; ++k) {
    const int64_t s = rc->go_backwards ? t - 1 - k : k;
    loom_tensor *z = loom_add(cx, step_of(cx, zx, s),
                              conv_gates(cx, h, recurrent_kernel, NULL, (loom_tensor *)rc->recurrent_mask, one, one,
                                         LOOM_SAME));
    if (!z) return NULL;
    loom_tensor *i = loom_activate(cx, gate_of(cx, z, 0, f), rec);
    loom_tensor *fg = loom_activate(cx, gate_of(cx, z, 1, f), rec);
    loom_tensor *g = loom_activate(cx, gate_of(cx, z, 2, f), act);
    loom_tensor *o = loom_activate(cx, gate_of(cx, z, 3, f), rec);
    loom_tensor *c_new = loom_add(cx, loom_mul(cx, fg, c), loom_mul(cx, i, g));
    loom_tensor *h_new = loom_mul(cx, o, loom_activate(cx, c_new, act));
    if (rc->mask) { /* a masked step carries both states: s + keep (new - s) */
      loom_tensor *keep = keep_of(cx, h, (const float *)rc->mask->data + s, t);
      if (!keep) return NULL;
      h_new = loom_add(cx, h, loom_mul(cx, keep, loom_sub(cx, h_new, h)));
      c_new = loom_add(cx, c, loom_mul(cx, keep, loom_sub(cx, c_new, c)));
    }
    h = h_new, c = c_new;
    if (outs) outs[k] = loom_reshape(cx, h, 5, one_step);
  }
  if (loom_ctx_status(cx) != LOOM_OK) return NULL;
  if (c_last) *c_last = c;
  return outs ? loom_concatenate(cx, (int)t, outs, 1) : h;
}
