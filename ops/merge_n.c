/* merge_n.c - Keras' Average, Maximum and Minimum over n tensors of one shape: forward
 * and backward. Maximum and Minimum send the gradient to the first input holding the
 * extreme (TensorFlow's rule for ties, folded over the inputs as Keras folds them). */
#include <string.h>

#include "ops/ops.h"
#include "simd/simd.h"

typedef enum { MERGE_AVERAGE, MERGE_MAXIMUM, MERGE_MINIMUM } merge_kind;
static const char *const op_names[] = {"loom_average_n", "loom_maximum_n", "loom_minimum_n"};

typedef struct {
  merge_kind kind;
  int32_t *which; /* Maximum/Minimum: the input each element came from */
} merge_saved;

static int merge_backward(loom_ctx *cx, const lm_rec *r) {
  const merge_saved *s = r->saved;
  const size_t size = (size_t)r->out->size;
  const float *dy = r->out->grad;
  for (int i = 0; i < r->n_in; ++i) {
    if (!r->in[i]->requires_grad) continue;
    float *g = lm_grad(cx, r->in[i]);
    if (!g) return cx->status;
    if (s->kind == MERGE_AVERAGE) {
      lm_k_axpy(1.0f / (float)r->n_in, dy, g, size);
    } else {
      for (size_t j = 0; j < size; ++j)
        if (s->which[j] == i) g[j] += dy[j];
    }
  }
  return LOOM_OK;
}

static loom_tensor *merge_n(loom_ctx *cx, merge_kind kind, int n, loom_tensor *const *xs) {
  const char *op = op_names[kind];
  if (!lm_merge_inputs_ok(cx, op, n, xs)) return NULL;
  loom_tensor *y = lm_out(cx, op, xs[0]->rank, xs[0]->shape);
  merge_saved *s = y ? lm_scratch(cx, op, sizeof *s) : NULL;
  if (!s) return NULL;
  const size_t size = (size_t)y->size;
  *s = (merge_saved){.kind = kind};
  float *out = y->data;
  memcpy(out, xs[0]->data, size * sizeof(float));
  if (kind == MERGE_AVERAGE) {
    for (int i = 1; i < n; ++i) lm_k_add(out, xs[i]->data, out, size);
    lm_k_scale(1.0f / (float)n, out, out, size);
  } else {
    s->which = lm_scratch_i32(cx, op, (int64_t)size, 1);
    if (!s->which) return NULL;
    memset(s->which, 0, size * sizeof(int32_t));
    for (int i = 1; i < n; ++i) {
      const float *x = xs[i]->data;
      for (size_t j = 0; j < size; ++j)
        if (kind == MERGE_MAXIMUM ? x[j] > out[j] : x[j] < out[j]) out[j] = x[j], s->which[j] = i;
    }
  }
  return lm_record(cx, op, merge_backward, y, n, xs, s);
}

loom_tensor *loom_average_n(loom_ctx *cx, int n, loom_tensor *const *xs) { return merge_n(cx, MERGE_AVERAGE, n, xs); }
loom_tensor *loom_maximum_n(loom_ctx *cx, int n, loom_tensor *const *xs) { return merge_n(cx, MERGE_MAXIMUM, n, xs); }
loom_tensor *loom_minimum_n(loom_ctx *cx, int n, loom_tensor *const *xs) { return merge_n(cx, MERGE_MINIMUM, n, xs); }
