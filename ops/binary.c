/* binary.c - shape rule, forward loop and gradient reduction of add/sub/mul. */
#include "ops/binary.h"
#include "simd/simd.h"

static bool is_suffix(const loom_tensor *small, const loom_tensor *big) {
  if (small->rank > big->rank) return false;
  for (int i = 1; i <= small->rank; ++i)
    if (small->shape[small->rank - i] != big->shape[big->rank - i]) return false;
  return true;
}

loom_tensor *lm_binary(loom_ctx *cx, const char *op, loom_tensor *a, loom_tensor *b,
                       lm_binary_kernel kernel, lm_backward_fn backward) {
  loom_tensor *in[2] = {a, b};
  if (!lm_inputs_ok(cx, op, 2, in)) return NULL;
  const bool b_small = is_suffix(b, a);
  if (!b_small && !is_suffix(a, b)) {
    char sa[96], sb[96];
    lm_fail(cx, LOOM_ESHAPE, op,
            "shapes %s and %s do not fit (equal, or one a suffix of the other, expected)",
            lm_shape_str(a, sa, sizeof sa), lm_shape_str(b, sb, sizeof sb));
    return NULL;
  }
  const loom_tensor *big = b_small ? a : b;
  loom_tensor *out = lm_out(cx, op, big->rank, big->shape);
  if (!out) return NULL;
  const size_t n = (size_t)(b_small ? b->size : a->size);
  const float *pa = a->data, *pb = b->data;
  float *py = out->data;
  for (size_t o = 0; n && o < (size_t)out->size; o += n)
    kernel(b_small ? pa + o : pa, b_small ? pb : pb + o, py + o, n);
  return lm_record(cx, op, backward, out, 2, in, NULL);
}

int lm_binary_grad(loom_ctx *cx, const lm_rec *r, loom_tensor *x, float scale,
                   const loom_tensor *partner) {
  float *gx = lm_grad(cx, x);
  if (!gx) return cx->status;
  const loom_tensor *out = r->out;
  const size_t n = (size_t)(r->in[0]->size < r->in[1]->size ? r->in[0]->size : r->in[1]->size);
  const float *dy = out->grad;
  /* Rows in order: a broadcast operand sums its repetitions in the same order always. */
  for (size_t o = 0; n && o < (size_t)out->size; o += n) {
    float *g = gx + (x->size == out->size ? o : 0);
    if (!partner) {
      lm_k_axpy(scale, dy + o, g, n);
    } else {
      const float *p = (const float *)partner->data + (partner->size == out->size ? o : 0);
      lm_k_mul_acc(dy + o, p, g, n);
    }
  }
  return LOOM_OK;
}
