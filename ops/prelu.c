/* prelu.c - PReLU: x > 0 ? x : alpha x, alpha learned, one per element of a sample or
 * shared along some axes (alpha's dim 1 there). Broadcasting is by strides: alpha's
 * stride is 0 along a shared axis. */
#include "ops/ops.h"

typedef struct {
  int rank;                         /* of a sample (x's rank - 1) */
  int64_t shape[LOOM_MAX_RANK];     /* a sample's dims */
  int64_t astride[LOOM_MAX_RANK];   /* alpha's stride along each, 0 where shared */
  int64_t per_sample;
} prelu_geom;

/* The index into alpha of element j of a sample. */
static int64_t alpha_at(const prelu_geom *g, int64_t j) {
  int64_t a = 0;
  for (int d = g->rank - 1; d >= 0; --d) {
    a += (j % g->shape[d]) * g->astride[d];
    j /= g->shape[d];
  }
  return a;
}

static int prelu_backward(loom_ctx *cx, const lm_rec *r) {
  const prelu_geom *g = r->saved;
  loom_tensor *x = r->in[0], *alpha = r->in[1];
  const float *xs = x->data, *al = alpha->data, *dy = r->out->grad;
  const int64_t samples = g->per_sample ? x->size / g->per_sample : 0;
  float *gx = x->requires_grad ? lm_grad(cx, x) : NULL;
  float *ga = alpha->requires_grad ? lm_grad(cx, alpha) : NULL;
  if ((x->requires_grad && !gx) || (alpha->requires_grad && !ga)) return cx->status;
  for (int64_t j = 0; j < g->per_sample; ++j) {
    const int64_t a = alpha_at(g, j);
    double acc = 0;
    for (int64_t s = 0; s < samples; ++s) {
      const int64_t i = s * g->per_sample + j;
      if (gx) gx[i] += xs[i] > 0 ? dy[i] : al[a] * dy[i];
      if (xs[i] <= 0) acc += (double)xs[i] * dy[i];
    }
    if (ga) ga[a] += (float)acc;
  }
  return LOOM_OK;
}

loom_tensor *loom_prelu(loom_ctx *cx, loom_tensor *x, loom_tensor *alpha) {
  static const char op[] = "loom_prelu";
  loom_tensor *in[2] = {x, alpha};
  if (!lm_inputs_ok(cx, op, 2, in)) return NULL;
  bool fits = x->rank >= 2 && alpha->rank == x->rank - 1;
  for (int d = 0; fits && d < alpha->rank; ++d)
    fits = alpha->shape[d] == x->shape[d + 1] || alpha->shape[d] == 1;
  if (!fits) {
    char sx[96], sa[96];
    lm_fail(cx, LOOM_ESHAPE, op, "alpha %s does not fit input %s (expected the input's dims after "
            "the batch, 1 along a shared axis)", lm_shape_str(alpha, sa, sizeof sa), lm_shape_str(x, sx, sizeof sx));
    return NULL;
  }
  loom_tensor *y = lm_out(cx, op, x->rank, x->shape);
  prelu_geom *g = y ? lm_scratch(cx, op, sizeof *g) : NULL;
  if (!g) return NULL;
  *g = (prelu_geom){.rank = alpha->rank, .per_sample = 1};
  int64_t stride = 1;
  for (int d = alpha->rank - 1; d >= 0; --d) {
    g->shape[d] = x->shape[d + 1];
    g->astride[d] = alpha->shape[d] == 1 ? 0 : stride;
    stride *= alpha->shape[d];
    g->per_sample *= g->shape[d];
  }
  const float *xs = x->data, *al = alpha->data;
  float *ys = y->data;
  for (int64_t i = 0; i < x->size; ++i) ys[i] = xs[i] > 0 ? xs[i] : al[alpha_at(g, i % g->per_sample)] * xs[i];
  return lm_record(cx, op, prelu_backward, y, 2, in, g);
}
