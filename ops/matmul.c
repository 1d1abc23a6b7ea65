/* matmul.c - [m, k] x [k, n] -> [m, n]: forward and backward, on the SGEMM kernel. */
#include "ops/ops.h"
#include "simd/gemm.h"

static int matmul_backward(loom_ctx *cx, const lm_rec *r) {
  loom_tensor *a = r->in[0], *b = r->in[1];
  const size_t m = (size_t)a->shape[0], k = (size_t)a->shape[1], n = (size_t)b->shape[1];
  const float *dy = r->out->grad;
  int st = LOOM_OK;
  if (a->requires_grad) { /* dA += dY . B^T */
    float *ga = lm_grad(cx, a);
    if (!ga) return cx->status;
    st = lm_sgemm(false, true, m, k, n, 1.0f, dy, n, b->data, n, 1.0f, ga, k, NULL);
  }
  if (st == LOOM_OK && b->requires_grad) { /* dB += A^T . dY */
    float *gb = lm_grad(cx, b);
    if (!gb) return cx->status;
    st = lm_sgemm(true, false, k, n, m, 1.0f, a->data, k, dy, n, 1.0f, gb, n, NULL);
  }
  return st == LOOM_OK ? st : lm_fail(cx, st, "loom_matmul", "backward: %s", loom_last_error());
}

loom_tensor *loom_matmul(loom_ctx *cx, loom_tensor *a, loom_tensor *b) {
  static const char op[] = "loom_matmul";
  loom_tensor *in[2] = {a, b};
  if (!lm_inputs_ok(cx, op, 2, in)) return NULL;
  if (a->rank != 2 || b->rank != 2 || a->shape[1] != b->shape[0]) {
    char sa[96], sb[96];
    lm_fail(cx, LOOM_ESHAPE, op, "shapes %s and %s do not multiply (expected [m, k] and [k, n])",
            lm_shape_str(a, sa, sizeof sa), lm_shape_str(b, sb, sizeof sb));
    return NULL;
  }
  const int64_t shape[2] = {a->shape[0], b->shape[1]};
  loom_tensor *y = lm_out(cx, op, 2, shape);
  if (!y) return NULL;
  const size_t m = (size_t)shape[0], k = (size_t)a->shape[1], n = (size_t)shape[1];
  const int st = lm_sgemm(false, false, m, n, k, 1.0f, a->data, k, b->data, n, 0.0f, y->data, n, NULL);
  if (st != LOOM_OK) {
    lm_fail(cx, st, op, "%s", loom_last_error());
    return NULL;
  }
  return lm_record(cx, op, matmul_backward, y, 2, in, NULL);
}
