/* conv.c - 1-D and 2-D convolution (1-D is 2-D with height 1): forward and backward, as
 * im2col + GEMM. The patch matrix [positions, kh*kw*in] times the kernel seen as
 * [kh*kw*in, out] gives the output with bias and activation fused in the GEMM; backward
 * is dK += patches^T . dZ, dPatches = dZ . K^T (no transpose materialised) scattered back
 * onto dX (col2im, in a fixed order), and db += column sums of dZ.
 * The patches are made a block of output positions at a time (about 2 MiB of them) and
 * made again in backward, never kept whole: a patch matrix is kh*kw times the input, and
 * keeping one per layer until backward dominated a training step's memory. The blocks
 * depend on the shapes only, so results stay the same for any thread count.
 * Patches of a 1x1 kernel with stride 1 are the input itself: no copy. */
#include <string.h>

#include "ops/act.h"
#include "simd/simd.h"

typedef struct {
  int64_t b, h, w, cin, cout, oh, ow;
  int kh, kw, sh, sw, dh, dw, pad_top, pad_left;
  loom_activation act;
} conv_geom;

/* Output positions per block of patches. */
#define LM_CONV_BLOCK_BYTES ((size_t)2 << 20)
static size_t block_rows(size_t m, size_t kk) {
  size_t r = LM_CONV_BLOCK_BYTES / (kk * sizeof(float));
  if (r < 256) r = 256;
  return r < m ? r : m;
}

static bool direct(const conv_geom *g) {
  return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pad_top == 0 && g->pad_left == 0;
}

/* For each output position of rows [r0, r1) and each kernel tap: the input row it reads
 * (src, or -1: padding) and where its patch goes in a block starting at r0 (dst). */
#define FOR_TAPS(g, r0, r1, BODY)                                                       \
  for (int64_t row = (r0); row < (r1); ++row) {                                         \
    const int64_t ox = row % (g)->ow, oy = (row / (g)->ow) % (g)->oh;                   \
    const int64_t bi = row / ((g)->ow * (g)->oh);                                       \
    for (int ky = 0; ky < (g)->kh; ++ky)                                                \
      for (int kx = 0; kx < (g)->kw; ++kx) {                                            \
        const int64_t iy = oy * (g)->sh - (g)->pad_top + (int64_t)ky * (g)->dh;         \
        const int64_t ix = ox * (g)->sw - (g)->pad_left + (int64_t)kx * (g)->dw;        \
        const bool inside = iy >= 0 && iy < (g)->h && ix >= 0 && ix < (g)->w;           \
        const int64_t src = inside ? ((bi * (g)->h + iy) * (g)->w + ix) * (g)->cin : -1; \
        const int64_t dst = ((row - (r0)) * (g)->kh * (g)->kw + ky * (g)->kw + kx) * (g)->cin; \
        BODY                                                                            \
      }                                                                                 \
  }

static void im2col(const conv_geom *g, const float *x, int64_t r0, int64_t r1, float *p) {
  const size_t bytes = (size_t)g->cin * sizeof(float);
  FOR_TAPS(g, r0, r1, {
    if (src >= 0) memcpy(p + dst, x + src, bytes);
    else memset(p + dst, 0, bytes);
  })
}

static void col2im(const conv_geom *g, const float *dp, int64_t r0, int64_t r1, float *dx) {
  FOR_TAPS(g, r0, r1, {
    if (src >= 0) lm_k_add(dx + src, dp + dst, dx + src, (size_t)g->cin);
  })
}

static int conv_backward(loom_ctx *cx, const lm_rec *r) {
  static const char op[] = "loom_conv";
  const conv_geom *g = r->saved;
  loom_tensor *x = r->in[0], *k = r->in[1], *b = r->n_in > 2 ? r->in[2] : NULL;
  const size_t m = (size_t)(g->b * g->oh * g->ow), kk = (size_t)(g->kh * g->kw * g->cin);
  const size_t n = (size_t)g->cout;
  float *gk = k->requires_grad ? lm_grad(cx, k) : NULL;
  float *gx = x->requires_grad ? lm_grad(cx, x) : NULL;
  float *gb = b && b->requires_grad ? lm_grad(cx, b) : NULL;
  if (cx->status) return cx->status;
  const lm_arena_mark mark = lm_arena_mark_here(cx->arena); /* dZ and patches: this op's alone */
  const float *dz = lm_activation_grad(cx, op, g->act, r->out->data, r->out->grad, m, n);
  if (!dz) return cx->status;
  int st = LOOM_OK;
  if (gb) lm_bias_grad(dz, m, n, gb);
  if (direct(g)) {
    if (gk) st = lm_sgemm(true, false, kk, n, m, 1.0f, x->data, kk, dz, n, 1.0f, gk, n, NULL);
    if (st == LOOM_OK && gx)
      st = lm_sgemm(false, true, m, kk, n, 1.0f, dz, n, k->data, n, 1.0f, gx, kk, NULL);
  } else if (gk || gx) {
    const size_t rows = block_rows(m, kk);
    float *p = lm_scratch_f32(cx, op, 2 * (int64_t)rows, (int64_t)kk), *dp = p + rows * kk;
    if (!p) return cx->status;
    for (size_t r0 = 0; r0 < m && st == LOOM_OK; r0 += rows) {
      const size_t r = m - r0 < rows ? m - r0 : rows;
      if (gk) {
        im2col(g, x->data, (int64_t)r0, (int64_t)(r0 + r), p);
        st = lm_sgemm(true, false, kk, n, r, 1.0f, p, kk, dz + r0 * n, n, 1.0f, gk, n, NULL);
      }
      if (st == LOOM_OK && gx) {
        st = lm_sgemm(false, true, r, kk, n, 1.0f, dz + r0 * n, n, k->data, n, 0.0f, dp, kk, NULL);
        if (st == LOOM_OK) col2im(g, dp, (int64_t)r0, (int64_t)(r0 + r), gx);
      }
    }
  }
  lm_arena_rewind(cx->arena, mark);
  return st == LOOM_OK ? st : lm_fail(cx, st, op, "backward: %s", loom_last_error());
}

static loom_tensor *conv(loom_ctx *cx, const char *op, loom_tensor *x, loom_tensor *kernel,
                         loom_tensor *bias, bool one_d, int sh, int sw, int dh, int dw,
                         loom_padding padding, loom_activation act) {
  loom_tensor *in[3] = {x, kernel, bias};
  const int n_in = bias ? 3 : 2;
  if (!lm_inputs_ok(cx, op, n_in, in)) return NULL;
  char sx[96], sk[96];
  const int xr = one_d ? 3 : 4;
  if (x->rank != xr || kernel->rank != xr || x->shape[xr - 1] != kernel->shape[xr - 2]) {
    lm_fail(cx, LOOM_ESHAPE, op, "input %s does not fit kernel %s (expected %s)",
            lm_shape_str(x, sx, sizeof sx), lm_shape_str(kernel, sk, sizeof sk),
            one_d ? "[batch, steps, in] and [k, in, out]"
                  : "[batch, height, width, in] and [kh, kw, in, out]");
    return NULL;
  }
  const int64_t cout = kernel->shape[xr - 1];
  if (bias && (bias->rank != 1 || bias->shape[0] != cout)) {
    lm_fail(cx, LOOM_ESHAPE, op, "bias %s does not fit kernel %s (expected [out])",
            lm_shape_str(bias, sx, sizeof sx), lm_shape_str(kernel, sk, sizeof sk));
    return NULL;
  }
  sh = sh ? sh : 1;
  sw = sw ? sw : 1;
  dh = dh ? dh : 1;
  dw = dw ? dw : 1;
  if (sh < 1 || sw < 1 || dh < 1 || dw < 1 ||
      (padding != LOOM_VALID && padding != LOOM_SAME && !(one_d && padding == LOOM_CAUSAL)) ||
      !lm_activation_get(act)) {
    lm_fail(cx, LOOM_EINVAL, op, "strides %dx%d, dilation %dx%d, padding %d, activation %d: "
            "strides and dilation must be >= 1, padding known ('causal' for 1-D alone), activation known", sh, sw, dh, dw,
            (int)padding, (int)act);
    return NULL;
  }
  conv_geom *g = lm_scratch(cx, op, sizeof *g);
  if (!g) return NULL;
  *g = (conv_geom){.b = x->shape[0], .h = one_d ? 1 : x->shape[1], .w = x->shape[xr - 2],
                   .cin = x->shape[xr - 1], .cout = cout, .kh = one_d ? 1 : (int)kernel->shape[0],
                   .kw = (int)kernel->shape[xr - 3], .sh = sh, .sw = sw, .dh = dh, .dw = dw, .act = lm_epilogue_part(act)};
  g->oh = lm_window_out(g->h, (int64_t)dh * (g->kh - 1) + 1, sh, padding, &g->pad_top);
  g->ow = lm_window_out(g->w, (int64_t)dw * (g->kw - 1) + 1, sw, padding, &g->pad_left);
  if (g->oh == 0 || g->ow == 0) {
    lm_fail(cx, LOOM_ESHAPE, op, "input %s is smaller than kernel %s with 'valid' padding",
            lm_shape_str(x, sx, sizeof sx), lm_shape_str(kernel, sk, sizeof sk));
    return NULL;
  }
  const int64_t s1[3] = {g->b, g->ow, cout}, s2[4] = {g->b, g->oh, g->ow, cout};
  loom_tensor *y = lm_out(cx, op, xr, one_d ? s1 : s2);
  if (!y) return NULL;
  const size_t m = (size_t)(g->b * g->oh * g->ow), kk = (size_t)(g->kh * g->kw * g->cin);
  const lm_gemm_epilogue ep = {bias ? (const float *)bias->data : NULL, lm_fused_act(g->act)};
  int st;
  if (direct(g)) {
    st = lm_sgemm(false, false, m, (size_t)cout, kk, 1.0f, x->data, kk, kernel->data, (size_t)cout,
                  0.0f, y->data, (size_t)cout, &ep);
  } else {
    const size_t rows = block_rows(m, kk);
    const lm_arena_mark mark = lm_arena_mark_here(cx->arena); /* the patches go after use */
    float *p = lm_scratch_f32(cx, op, (int64_t)rows, (int64_t)kk);
    if (!p) return NULL;
    st = LOOM_OK;
    for (size_t r0 = 0; r0 < m && st == LOOM_OK; r0 += rows) {
      const size_t r = m - r0 < rows ? m - r0 : rows;
      im2col(g, x->data, (int64_t)r0, (int64_t)(r0 + r), p);
      st = lm_sgemm(false, false, r, (size_t)cout, kk, 1.0f, p, kk, kernel->data, (size_t)cout, 0.0f,
                    (float *)y->data + r0 * (size_t)cout, (size_t)cout, &ep);
    }
    lm_arena_rewind(cx->arena, mark);
  }
  if (st != LOOM_OK) {
    lm_fail(cx, st, op, "%s", loom_last_error());
    return NULL;
  }
  lm_activation_finish(g->act, y->data, m, (size_t)cout);
  return lm_activation_tail(cx, lm_record(cx, op, conv_backward, y, n_in, in, g), act);
}

loom_tensor *loom_conv1d(loom_ctx *cx, loom_tensor *x, loom_tensor *kernel, loom_tensor *bias,
                         int stride, int dilation, loom_padding padding, loom_activation act) {
  return conv(cx, "loom_conv1d", x, kernel, bias, true, 1, stride, 1, dilation, padding, act);
}

loom_tensor *loom_conv2d(loom_ctx *cx, loom_tensor *x, loom_tensor *kernel, loom_tensor *bias,
                         int stride_h, int stride_w, int dilation_h, int dilation_w,
                         loom_padding padding, loom_activation act) {
  return conv(cx, "loom_conv2d", x, kernel, bias, false, stride_h, stride_w, dilation_h, dilation_w,
              padding, act);
}

/* ---------------------------------------------------------------- transposed */

/* A transposed convolution is the adjoint of a convolution: the forward one above, run
 * from y's shape (oh x ow, cout channels) to x's (h x w, cin), has x as its output, so
 * y = col2im(x . K^T), with Keras' transposed kernel [kh, kw, cout, cin] seen as that
 * convolution's [kh*kw*cout, cin]. Backward is that convolution forward: dX += im2col(dY)
 * . K, dK += im2col(dY)^T . X, db += column sums of dY. Here g describes the adjoint
 * convolution: g->h, g->w, g->cin are y's; g->oh, g->ow, g->cout are x's. */
static int conv_t_backward(loom_ctx *cx, const lm_rec *r) {
  static const char op[] = "loom_conv_transpose";
  const conv_geom *g = r->saved;
  loom_tensor *x = r->in[0], *k = r->in[1], *b = r->n_in > 2 ? r->in[2] : NULL;
  const size_t m = (size_t)(g->b * g->oh * g->ow), kk = (size_t)(g->kh * g->kw * g->cin);
  const size_t n = (size_t)g->cout;
  float *gk = k->requires_grad ? lm_grad(cx, k) : NULL;
  float *gx = x->requires_grad ? lm_grad(cx, x) : NULL;
  float *gb = b && b->requires_grad ? lm_grad(cx, b) : NULL;
  if (cx->status) return cx->status;
  const float *dy = r->out->grad;
  if (gb) lm_bias_grad(dy, (size_t)(g->b * g->h * g->w), (size_t)g->cin, gb);
  int st = LOOM_OK;
  if (gk || gx) {
    const lm_arena_mark mark = lm_arena_mark_here(cx->arena);
    const size_t rows = block_rows(m, kk);
    float *p = lm_scratch_f32(cx, op, (int64_t)rows, (int64_t)kk);
    if (!p) return cx->status;
    for (size_t r0 = 0; r0 < m && st == LOOM_OK; r0 += rows) {
      const size_t rn = m - r0 < rows ? m - r0 : rows;
      im2col(g, dy, (int64_t)r0, (int64_t)(r0 + rn), p);
      if (gx) st = lm_sgemm(false, false, rn, n, kk, 1.0f, p, kk, k->data, n, 1.0f, gx + r0 * n, n, NULL);
      if (st == LOOM_OK && gk)
        st = lm_sgemm(true, false, kk, n, rn, 1.0f, p, kk, (const float *)x->data + r0 * n, n, 1.0f, gk, n, NULL);
    }
    lm_arena_rewind(cx->arena, mark);
  }
  return st == LOOM_OK ? st : lm_fail(cx, st, op, "backward: %s", loom_last_error());
}

int64_t lm_conv_transpose_len(int64_t len, int64_t span, int64_t stride, loom_padding pad,
                              int output_padding) {
  if (output_padding >= 0) /* Keras' deconv_output_length with output_padding given */
    return (len - 1) * stride + span - 2 * (pad == LOOM_SAME ? span / 2 : 0) + output_padding;
  if (pad == LOOM_SAME) return len * stride;
  return len * stride + (span > stride ? span - stride : 0);
}

static loom_tensor *conv_t(loom_ctx *cx, const char *op, loom_tensor *x, loom_tensor *kernel,
                           loom_tensor *bias, bool one_d, int sh, int sw, int dh, int dw,
                           loom_padding padding, int oph, int opw) {
  loom_tensor *in[3] = {x, kernel, bias};
  const int n_in = bias ? 3 : 2;
  if (!lm_inputs_ok(cx, op, n_in, in)) return NULL;
  char sx[96], sk[96];
  const int xr = one_d ? 3 : 4;
  if (x->rank != xr || kernel->rank != xr || x->shape[xr - 1] != kernel->shape[xr - 1]) {
    lm_fail(cx, LOOM_ESHAPE, op, "input %s does not fit kernel %s (expected %s)",
            lm_shape_str(x, sx, sizeof sx), lm_shape_str(kernel, sk, sizeof sk),
            one_d ? "[batch, steps, in] and [k, out, in]"
                  : "[batch, height, width, in] and [kh, kw, out, in]");
    return NULL;
  }
  const int64_t cout = kernel->shape[xr - 2];
  if (bias && (bias->rank != 1 || bias->shape[0] != cout)) {
    lm_fail(cx, LOOM_ESHAPE, op, "bias %s does not fit kernel %s (expected [out])",
            lm_shape_str(bias, sx, sizeof sx), lm_shape_str(kernel, sk, sizeof sk));
    return NULL;
  }
  sh = sh ? sh : 1, sw = sw ? sw : 1, dh = dh ? dh : 1, dw = dw ? dw : 1;
  if (sh < 1 || sw < 1 || dh < 1 || dw < 1 || (padding != LOOM_VALID && padding != LOOM_SAME)) {
    lm_fail(cx, LOOM_EINVAL, op, "strides %dx%d, dilation %dx%d, padding %d: strides and dilation "
            "must be >= 1, padding 'valid' or 'same'", sh, sw, dh, dw, (int)padding);
    return NULL;
  }
  conv_geom *g = lm_scratch(cx, op, sizeof *g);
  if (!g) return NULL;
  const int kh = one_d ? 1 : (int)kernel->shape[0], kw = (int)kernel->shape[xr - 3];
  const int64_t h = one_d ? 1 : x->shape[1], w = x->shape[xr - 2];
  *g = (conv_geom){.b = x->shape[0], .cin = cout, .cout = x->shape[xr - 1], .oh = h, .ow = w,
                   .kh = kh, .kw = kw, .sh = sh, .sw = sw, .dh = dh, .dw = dw, .act = LOOM_LINEAR};
  const int64_t span_h = (int64_t)dh * (kh - 1) + 1, span_w = (int64_t)dw * (kw - 1) + 1;
  if (one_d) oph = LOOM_NONE;
  if (oph < LOOM_NONE || opw < LOOM_NONE || oph >= sh || opw >= sw) {
    lm_fail(cx, LOOM_EINVAL, op, "output_padding %dx%d with strides %dx%d: each must be below its "
            "stride (%d for None)", oph, opw, sh, sw, LOOM_NONE);
    return NULL;
  }
  g->h = one_d ? 1 : lm_conv_transpose_len(h, span_h, sh, padding, oph);
  g->w = lm_conv_transpose_len(w, span_w, sw, padding, opw);
  /* the adjoint convolution over y must give x's length back (not so for an even window,
   * 'same' and output_padding 0, which TensorFlow refuses too) */
  const int64_t back_h = one_d ? 1 : lm_window_out(g->h, span_h, sh, padding, &g->pad_top);
  if (one_d) g->pad_top = 0;
  if (g->h < 1 || g->w < 1 || back_h != h || lm_window_out(g->w, span_w, sw, padding, &g->pad_left) != w) {
    lm_fail(cx, LOOM_EINVAL, op, "output_padding %dx%d: an output of %lldx%lld does not convolve back to "
            "the input's %lldx%lld", oph, opw, (long long)g->h, (long long)g->w, (long long)h, (long long)w);
    return NULL;
  }
  const int64_t s1[3] = {g->b, g->w, cout}, s2[4] = {g->b, g->h, g->w, cout};
  loom_tensor *y = lm_out(cx, op, xr, one_d ? s1 : s2);
  if (!y) return NULL;
  float *yd = y->data;
  const size_t m = (size_t)(g->b * h * w), kk = (size_t)(kh * kw * cout), n = (size_t)g->cout;
  const size_t ym = (size_t)(g->b * g->h * g->w);
  if (bias)
    for (size_t i = 0; i < ym; ++i) memcpy(yd + i * (size_t)cout, bias->data, (size_t)cout * sizeof(float));
  else
    memset(yd, 0, ym * (size_t)cout * sizeof(float));
  const lm_arena_mark mark = lm_arena_mark_here(cx->arena);
  const size_t rows = block_rows(m, kk);
  float *dp = lm_scratch_f32(cx, op, (int64_t)rows, (int64_t)kk);
  if (!dp) return NULL;
  int st = LOOM_OK;
  for (size_t r0 = 0; r0 < m && st == LOOM_OK; r0 += rows) {
    const size_t rn = m - r0 < rows ? m - r0 : rows;
    st = lm_sgemm(false, true, rn, kk, n, 1.0f, (const float *)x->data + r0 * n, n, kernel->data, n, 0.0f, dp, kk, NULL);
    if (st == LOOM_OK) col2im(g, dp, (int64_t)r0, (int64_t)(r0 + rn), yd);
  }
  lm_arena_rewind(cx->arena, mark);
  if (st != LOOM_OK) {
    lm_fail(cx, st, op, "%s", loom_last_error());
    return NULL;
  }
  return lm_record(cx, op, conv_t_backward, y, n_in, in, g);
}

loom_tensor *loom_conv1d_transpose(loom_ctx *cx, loom_tensor *x, loom_tensor *kernel, loom_tensor *bias,
                                   int stride, int dilation, loom_padding padding, int output_padding) {
  return conv_t(cx, "loom_conv1d_transpose", x, kernel, bias, true, 1, stride, 1, dilation, padding,
                LOOM_NONE, output_padding);
}

loom_tensor *loom_conv2d_transpose(loom_ctx *cx, loom_tensor *x, loom_tensor *kernel, loom_tensor *bias,
                                   int stride_h, int stride_w, int dilation_h, int dilation_w,
                                   loom_padding padding, int output_padding_h, int output_padding_w) {
  return conv_t(cx, "loom_conv2d_transpose", x, kernel, bias, false, stride_h, stride_w, dilation_h,
                dilation_w, padding, output_padding_h, output_padding_w);
}
