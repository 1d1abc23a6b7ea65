/* matmul.c - [m, k] x [k, n] -> [m, n]: forward and backward.
 * A plain loop (the scalar reference) until the SGEMM kernel lands. */
#include "ops/ops.h"
#include "simd/ref.h"

static int matmul_backward(loom_ctx *cx, const lm_rec *r) {
  loom_tensor *a = r->in[0], *b = r->in[1];
  const size_t m = (size_t)a->shape[0], k = (size_t)a->shape[1], n = (size_t)b->shape[1];
  const float *dy = r->out->grad;
  if (a->requires_grad) { /* dA += dY . B^T */
    float *ga = lm_grad(cx, a);
    if (!ga) return cx->status;
    lm_ref_matmul(false, true, m, k, n, dy, n, b->data, n, ga, k, true);
  }
  if (b->requires_grad) { /* dB += A^T . dY */
    float *gb = lm_grad(cx, b);
    if (!gb) return cx->status;
    lm_ref_matmul(true, false, k, n, m, a->data, k, dy, n, gb, n, true);
  }
  return LOOM_OK;
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
  const size_t k = (size_t)a->shape[1], n = (size_t)b->shape[1];
  lm_ref_matmul(false, false, (size_t)shape[0], n, k, a->data, k, b->data, n, y->data, n, false);
  return lm_record(cx, op, matmul_backward, y, 2, in, NULL);
}
