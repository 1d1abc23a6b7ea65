/* global_pool.c - max and average over every spatial dim: [batch, ..., channels] ->
 * [batch, channels]. Forward and backward (max routes to the first maximum). */
#include <math.h>

#include "ops/ops.h"

typedef struct {
  int64_t b, s, c;
  int32_t *arg; /* max: index of each output's winner; NULL for the average */
} gpool_saved;

static int gpool_backward(loom_ctx *cx, const lm_rec *r) {
  const gpool_saved *g = r->saved;
  float *gx = lm_grad(cx, r->in[0]);
  if (!gx) return cx->status;
  const float *dy = r->out->grad;
  if (g->arg) {
    for (int64_t o = 0; o < g->b * g->c; ++o) gx[g->arg[o]] += dy[o];
    return LOOM_OK;
  }
  const float inv = 1.0f / (float)g->s;
  for (int64_t bi = 0; bi < g->b; ++bi)
    for (int64_t i = 0; i < g->s; ++i)
      for (int64_t ch = 0; ch < g->c; ++ch) gx[(bi * g->s + i) * g->c + ch] += dy[bi * g->c + ch] * inv;
  return LOOM_OK;
}

static loom_tensor *gpool(loom_ctx *cx, const char *op, loom_tensor *x, bool is_max) {
  if (!lm_inputs_ok(cx, op, 1, &x)) return NULL;
  char sx[96];
  int64_t s = 1;
  for (int d = 1; d + 1 < x->rank; ++d) s *= x->shape[d];
  if (x->rank < 3 || s == 0) {
    lm_fail(cx, LOOM_ESHAPE, op, "input %s must be [batch, ..., channels] with spatial dims",
            lm_shape_str(x, sx, sizeof sx));
    return NULL;
  }
  gpool_saved *g = lm_scratch(cx, op, sizeof *g);
  const int64_t shape[2] = {x->shape[0], x->shape[x->rank - 1]};
  loom_tensor *y = g ? lm_out(cx, op, 2, shape) : NULL;
  if (!y) return NULL;
  *g = (gpool_saved){shape[0], s, shape[1], NULL};
  if (is_max && !(g->arg = lm_scratch_i32(cx, op, y->size, 1))) return NULL;
  const float *in = x->data;
  float *out = y->data;
  for (int64_t bi = 0; bi < g->b; ++bi)
    for (int64_t ch = 0; ch < g->c; ++ch) {
      float best = -INFINITY;
      double sum = 0.0;
      int64_t where = bi * s * g->c + ch;
      for (int64_t i = 0; i < s; ++i) {
        const int64_t k = (bi * s + i) * g->c + ch;
        if (in[k] > best) {
          best = in[k];
          where = k;
        }
        sum += in[k];
      }
      out[bi * g->c + ch] = is_max ? best : (float)(sum / (double)s);
      if (is_max) g->arg[bi * g->c + ch] = (int32_t)where;
    }
  return lm_record(cx, op, gpool_backward, y, 1, &x, g);
}

loom_tensor *loom_global_max_pool(loom_ctx *cx, loom_tensor *x) {
  return gpool(cx, "loom_global_max_pool", x, true);
}
loom_tensor *loom_global_avg_pool(loom_ctx *cx, loom_tensor *x) {
  return gpool(cx, "loom_global_avg_pool", x, false);
}
