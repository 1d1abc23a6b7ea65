/* depthwise.c - depthwise 2-D convolution (Keras' DepthwiseConv2D): forward and backward
 * through simd/depthwise.c. Channels-last x [b, h, w, c], kernel [kh, kw, c, dm], bias
 * [c * dm] or NULL; padding as loom_conv2d. */
#include "ops/act.h"
#include "simd/depthwise.h"
#include "simd/simd.h"

static const char op[] = "loom_depthwise_conv2d";

static int depthwise_backward(loom_ctx *cx, const lm_rec *r) {
  const lm_dw_geom *g = r->saved;
  loom_tensor *x = r->in[0], *k = r->in[1], *b = r->n_in > 2 ? r->in[2] : NULL;
  bool fresh = false; /* gx new: written, not added into */
  float *gx = x->requires_grad ? lm_grad_fresh(cx, x, &fresh) : NULL, *gk = k->requires_grad ? lm_grad(cx, k) : NULL;
  float *gb = b && b->requires_grad ? lm_grad(cx, b) : NULL;
  if (cx->status) return cx->status;
  const float *dy = r->out->grad;
  if (gb) {
    const size_t co = (size_t)(g->c * g->dm);
    for (int64_t p = 0; p < r->out->size / (int64_t)co; ++p) lm_k_add(gb, dy + p * co, gb, co);
  }
  if (gx) lm_k_depthwise_grad_input(g, dy, k->data, !fresh, gx);
  if (gk) {
    const lm_arena_mark mark = lm_arena_mark_here(cx->arena);
    float *scratch = lm_scratch_f32(cx, op, (int64_t)lm_dw_scratch_floats(g), 1);
    if (!scratch) return cx->status;
    lm_k_depthwise_grad_filter(g, x->data, dy, gk, scratch);
    lm_arena_rewind(cx->arena, mark);
  }
  return LOOM_OK;
}

loom_tensor *loom_depthwise_conv2d(loom_ctx *cx, loom_tensor *x, loom_tensor *kernel, loom_tensor *bias,
                                   int stride_h, int stride_w, loom_padding padding, loom_activation act) {
  loom_tensor *in[3] = {x, kernel, bias};
  const int n_in = bias ? 3 : 2;
  if (!lm_inputs_ok(cx, op, n_in, in)) return NULL;
  char sx[96], sk[96];
  if (x->rank != 4 || kernel->rank != 4 || kernel->shape[2] != x->shape[3] ||
      kernel->shape[0] * kernel->shape[1] > 64 ||
      (bias && (bias->rank != 1 || bias->shape[0] != kernel->shape[2] * kernel->shape[3]))) {
    lm_fail(cx, LOOM_ESHAPE, op, "input %s, kernel %s: expected [batch, h, w, c], [kh, kw, c, dm] "
            "with kh * kw <= 64 and a bias of c * dm", lm_shape_str(x, sx, sizeof sx), lm_shape_str(kernel, sk, sizeof sk));
    return NULL;
  }
  stride_h = stride_h ? stride_h : 1;
  stride_w = stride_w ? stride_w : 1;
  if (stride_h < 1 || stride_w < 1 || (padding != LOOM_VALID && padding != LOOM_SAME)) {
    lm_fail(cx, LOOM_EINVAL, op, "strides %dx%d must be >= 1 and padding known", stride_h, stride_w);
    return NULL;
  }
  lm_dw_geom *g = lm_scratch(cx, op, sizeof *g);
  if (!g) return NULL;
  *g = (lm_dw_geom){.b = x->shape[0], .h = x->shape[1], .w = x->shape[2], .c = x->shape[3],
                    .dm = kernel->shape[3], .kh = (int)kernel->shape[0], .kw = (int)kernel->shape[1],
                    .sh = stride_h, .sw = stride_w};
  g->oh = lm_window_out(g->h, g->kh, stride_h, padding, &g->pad_top);
  g->ow = lm_window_out(g->w, g->kw, stride_w, padding, &g->pad_left);
  if (!g->oh || !g->ow) {
    lm_fail(cx, LOOM_ESHAPE, op, "input %s is smaller than kernel %s with 'valid' padding",
            lm_shape_str(x, sx, sizeof sx), lm_shape_str(kernel, sk, sizeof sk));
    return NULL;
  }
  const int64_t shape[4] = {g->b, g->oh, g->ow, g->c * g->dm};
  loom_tensor *y = lm_out(cx, op, 4, shape);
  if (!y) return NULL;
  lm_k_depthwise(g, x->data, kernel->data, bias ? (const float *)bias->data : NULL, y->data);
  return lm_apply_activation(cx, lm_record(cx, op, depthwise_backward, y, n_in, in, g), act);
}
