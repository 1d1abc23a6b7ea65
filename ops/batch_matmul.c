/* batch_matmul.c - [batch, m, k] x [batch, k, n] -> [batch, m, n], one SGEMM per sample:
 * forward and backward (Keras' batch_dot, under Dot and attention). */
#include "ops/ops.h"
#include "simd/gemm.h"

static const char op[] = "loom_batch_matmul";

static int batch_matmul_backward(loom_ctx *cx, const lm_rec *r) {
  loom_tensor *a = r->in[0], *b = r->in[1];
  const size_t B = (size_t)a->shape[0], m = (size_t)a->shape[1], k = (size_t)a->shape[2], n = (size_t)b->shape[2];
  const float *dy = r->out->grad, *pa = a->data, *pb = b->data;
  float *ga = a->requires_grad ? lm_grad(cx, a) : NULL, *gb = b->requires_grad ? lm_grad(cx, b) : NULL;
  if (cx->status) return cx->status;
  int st = LOOM_OK;
  for (size_t i = 0; i < B && st == LOOM_OK; ++i) {
    if (ga) st = lm_sgemm(false, true, m, k, n, 1.0f, dy + i * m * n, n, pb + i * k * n, n, 1.0f, ga + i * m * k, k, NULL);
    if (gb && st == LOOM_OK)
      st = lm_sgemm(true, false, k, n, m, 1.0f, pa + i * m * k, k, dy + i * m * n, n, 1.0f, gb + i * k * n, n, NULL);
  }
  return st == LOOM_OK ? st : lm_fail(cx, st, op, "backward: %s", loom_last_error());
}

loom_tensor *loom_batch_matmul(loom_ctx *cx, loom_tensor *a, loom_tensor *b) {
  loom_tensor *in[2] = {a, b};
  if (!lm_inputs_ok(cx, op, 2, in)) return NULL;
  if (a->rank != 3 || b->rank != 3 || a->shape[0] != b->shape[0] || a->shape[2] != b->shape[1]) {
    char sa[96], sb[96];
    lm_fail(cx, LOOM_ESHAPE, op, "shapes %s and %s do not multiply (expected [batch, m, k] and [batch, k, n])",
            lm_shape_str(a, sa, sizeof sa), lm_shape_str(b, sb, sizeof sb));
    return NULL;
  }
  const int64_t shape[3] = {a->shape[0], a->shape[1], b->shape[2]};
  loom_tensor *y = lm_out(cx, op, 3, shape);
  if (!y) return NULL;
  const size_t B = (size_t)shape[0], m = (size_t)shape[1], k = (size_t)a->shape[2], n = (size_t)shape[2];
  const float *pa = a->data, *pb = b->data;
  float *py = y->data;
  for (size_t i = 0; i < B; ++i) {
    const int st = lm_sgemm(false, false, m, n, k, 1.0f, pa + i * m * k, k, pb + i * k * n, n, 0.0f, py + i * m * n, n, NULL);
    if (st) {
      lm_fail(cx, st, op, "%s", loom_last_error());
      return NULL;
    }
  }
  return lm_record(cx, op, batch_matmul_backward, y, 2, in, NULL);
}
