/* dense.c - act(x . kernel + bias) over the last axis: forward and backward.
 * Forward is one GEMM whose epilogue adds the bias and applies relu/sigmoid/tanh in
 * registers (softmax, a row-wise op, follows it). Backward: dZ from the output alone,
 * then dX += dZ . K^T and dK += X^T . dZ without materialising a transpose, and
 * db += the column sums of dZ, row after row (the same order for any thread count). */
#include <string.h>

#include "ops/act.h"

static const char op[] = "loom_dense";

typedef struct {
  loom_activation act;
} dense_saved;

/* Rows of x seen as a matrix [rows, in]. */
static size_t rows_of(const loom_tensor *x) {
  const int64_t in = x->shape[x->rank - 1];
  return in ? (size_t)(x->size / in) : 0;
}

static int dense_backward(loom_ctx *cx, const lm_rec *r) {
  loom_tensor *x = r->in[0], *k = r->in[1], *b = r->n_in > 2 ? r->in[2] : NULL;
  const dense_saved *sv = r->saved;
  const size_t m = rows_of(x), in = (size_t)k->shape[0], units = (size_t)k->shape[1];
  float *gx = x->requires_grad ? lm_grad(cx, x) : NULL, *gk = k->requires_grad ? lm_grad(cx, k) : NULL;
  float *gb = b && b->requires_grad ? lm_grad(cx, b) : NULL;
  if (cx->status) return cx->status;
  const lm_arena_mark mark = lm_arena_mark_here(cx->arena); /* dZ is this op's alone */
  const float *dz = lm_activation_grad(cx, op, sv->act, r->out->data, r->out->grad, m, units);
  if (!dz) return cx->status;
  int st = LOOM_OK;
  if (gx) st = lm_sgemm(false, true, m, in, units, 1.0f, dz, units, k->data, units, 1.0f, gx, in, NULL);
  if (st == LOOM_OK && gk)
    st = lm_sgemm(true, false, in, units, m, 1.0f, x->data, in, dz, units, 1.0f, gk, units, NULL);
  if (st == LOOM_OK && gb) lm_bias_grad(dz, m, units, gb);
  lm_arena_rewind(cx->arena, mark);
  return st == LOOM_OK ? st : lm_fail(cx, st, op, "backward: %s", loom_last_error());
}

loom_tensor *loom_dense(loom_ctx *cx, loom_tensor *x, loom_tensor *kernel, loom_tensor *bias,
                        loom_activation act) {
  loom_tensor *in[3] = {x, kernel, bias};
  const int n_in = bias ? 3 : 2;
  if (!lm_inputs_ok(cx, op, n_in, in)) return NULL;
  char sx[96], sk[96], sb[96];
  if (!lm_activation_get(act)) {
    lm_fail(cx, LOOM_EINVAL, op, "unknown activation %d", (int)act);
    return NULL;
  }
  const loom_activation fused = lm_epilogue_part(act); /* the rest runs as its own op */
  if (x->rank < 1 || kernel->rank != 2 || x->shape[x->rank - 1] != kernel->shape[0]) {
    lm_fail(cx, LOOM_ESHAPE, op, "input %s does not fit kernel %s (expected [..., in] and [in, units])",
            lm_shape_str(x, sx, sizeof sx), lm_shape_str(kernel, sk, sizeof sk));
    return NULL;
  }
  if (bias && (bias->rank != 1 || bias->shape[0] != kernel->shape[1])) {
    lm_fail(cx, LOOM_ESHAPE, op, "bias %s does not fit kernel %s (expected [units])",
            lm_shape_str(bias, sb, sizeof sb), lm_shape_str(kernel, sk, sizeof sk));
    return NULL;
  }
  int64_t shape[LOOM_MAX_RANK];
  memcpy(shape, x->shape, sizeof shape);
  shape[x->rank - 1] = kernel->shape[1];
  loom_tensor *y = lm_out(cx, op, x->rank, shape);
  dense_saved *sv = y ? lm_scratch(cx, op, sizeof *sv) : NULL;
  if (!sv) return NULL;
  sv->act = fused;
  const size_t m = rows_of(x), k = (size_t)kernel->shape[0], units = (size_t)kernel->shape[1];
  const lm_gemm_epilogue ep = {bias ? (const float *)bias->data : NULL, lm_fused_act(fused)};
  const int st = lm_sgemm(false, false, m, units, k, 1.0f, x->data, k, kernel->data, units, 0.0f,
                          y->data, units, &ep);
  if (st != LOOM_OK) {
    lm_fail(cx, st, op, "%s", loom_last_error());
    return NULL;
  }
  lm_activation_finish(fused, y->data, m, units);
  return lm_activation_tail(cx, lm_record(cx, op, dense_backward, y, n_in, in, sv), act);
}
