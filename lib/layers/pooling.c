/* pooling.c - Max/AveragePooling1D/2D and the global poolings (channels-last). */
#include "lib/layers/layer.h"
#include "lib/layers/spatial.h"
#include "ops/ops.h"

static bool is_max(const loom_layer *l) {
  return l->kind == &lm_kind_max_pooling1d || l->kind == &lm_kind_max_pooling2d;
}

static int pool_check(loom_graph *g, const lm_layer_kind *k, void *opts) {
  loom_pool_opts *p = opts;
  lm_pair(p->pool_size, 2);
  if (!p->strides[0]) p->strides[0] = p->pool_size[0], p->strides[1] = p->pool_size[1];
  else if (!p->strides[1]) p->strides[1] = p->strides[0];
  if (k->dims == 1) p->pool_size[1] = p->strides[1] = 1;
  if (p->pool_size[0] <= 0 || p->pool_size[1] <= 0 || p->strides[0] <= 0 || p->strides[1] <= 0 ||
      (unsigned)p->padding > LOOM_SAME)
    return lm_opts_fail(g, k, p, LOOM_EINVAL, "pool_size and strides must be > 0 (got %dx%d, %dx%d)",
                        p->pool_size[0], p->pool_size[1], p->strides[0], p->strides[1]);
  return LOOM_OK;
}

static int pool_build(loom_layer *l, int n, loom_node *const *in, int *n_out, lm_shape *out,
                      loom_dtype *dt) {
  (void)n, (void)n_out, (void)dt;
  const loom_pool_opts *o = &l->o.pool;
  const int dims = l->kind->dims;
  if (!lm_check_input(l, in, 0, dims + 2, dims + 2, LOOM_F32)) return l->g->status;
  return lm_spatial_out(l, in[0], dims, o->pool_size, o->strides, o->padding, out)
             ? LOOM_OK : l->g->status;
}

static int pool_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in,
                        loom_tensor **out, loom_tensor **logits) {
  (void)n, (void)logits;
  const loom_pool_opts *o = &l->o.pool;
  if (l->kind->dims == 1)
    out[0] = (is_max(l) ? loom_max_pool1d : loom_avg_pool1d)(run->cx, in[0], o->pool_size[0],
                                                              o->strides[0], o->padding);
  else
    out[0] = (is_max(l) ? loom_max_pool2d : loom_avg_pool2d)(
        run->cx, in[0], o->pool_size[0], o->pool_size[1], o->strides[0], o->strides[1], o->padding);
  return loom_ctx_status(run->cx);
}

static const lm_opt pool_opts[] = {
    LM_OPT(loom_pool_opts, pool_size, "pool_size", LM_OPT_TUPLE, 1, 1 << 20),
    LM_OPT(loom_pool_opts, strides, "strides", LM_OPT_TUPLE, 1, 1 << 20),
    LM_OPT(loom_pool_opts, padding, "padding", LM_OPT_PADDING, 0, 0),
    LM_OPTS_END};

#define POOL_KIND(ID, cls, pfx, d)                                                           \
  {.id = ID, .class_name = cls, .prefix = pfx, .min_in = 1, .max_in = 1, .dims = d,          \
   .opts_size = sizeof(loom_pool_opts), .name_offset = offsetof(loom_pool_opts, name),       \
   .opts = pool_opts, .check = pool_check, .build = pool_build, .forward = pool_forward}
const lm_layer_kind lm_kind_max_pooling1d = POOL_KIND(LM_KIND_MAX_POOLING1D, "MaxPooling1D", "max_pooling1d", 1);
const lm_layer_kind lm_kind_max_pooling2d = POOL_KIND(LM_KIND_MAX_POOLING2D, "MaxPooling2D", "max_pooling2d", 2);
const lm_layer_kind lm_kind_average_pooling1d =
    POOL_KIND(LM_KIND_AVERAGE_POOLING1D, "AveragePooling1D", "average_pooling1d", 1);
const lm_layer_kind lm_kind_average_pooling2d =
    POOL_KIND(LM_KIND_AVERAGE_POOLING2D, "AveragePooling2D", "average_pooling2d", 2);

loom_layer *loom_layer_max_pooling1d(loom_graph *g, const loom_pool_opts *o) {
  return lm_layer_make(g, &lm_kind_max_pooling1d, o);
}
loom_layer *loom_layer_max_pooling2d(loom_graph *g, const loom_pool_opts *o) {
  return lm_layer_make(g, &lm_kind_max_pooling2d, o);
}
loom_layer *loom_layer_average_pooling1d(loom_graph *g, const loom_pool_opts *o) {
  return lm_layer_make(g, &lm_kind_average_pooling1d, o);
}
loom_layer *loom_layer_average_pooling2d(loom_graph *g, const loom_pool_opts *o) {
  return lm_layer_make(g, &lm_kind_average_pooling2d, o);
}

/* ---------------------------------------------------------------- global */

static int global_build(loom_layer *l, int n, loom_node *const *in, int *n_out, lm_shape *out,
                        loom_dtype *dt) {
  (void)n, (void)n_out, (void)dt;
  const int dims = l->kind->dims;
  if (!lm_check_input(l, in, 0, dims + 2, dims + 2, LOOM_F32)) return l->g->status;
  *out = (lm_shape){2, {LOOM_NONE, in[0]->shape.d[dims + 1]}};
  return LOOM_OK;
}

static bool is_global_max(const loom_layer *l) {
  return l->kind == &lm_kind_global_max_pooling1d || l->kind == &lm_kind_global_max_pooling2d;
}

static int global_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in,
                          loom_tensor **out, loom_tensor **logits) {
  (void)n, (void)logits;
  if (run->mask) { /* GlobalAveragePooling1D alone takes a mask: the mean of the valid steps */
    out[0] = loom_global_avg_pool_masked(run->cx, in[0], run->mask[0]);
    return loom_ctx_status(run->cx);
  }
  out[0] = (is_global_max(l) ? loom_global_max_pool : loom_global_avg_pool)(run->cx, in[0]);
  return loom_ctx_status(run->cx);
}

#define GLOBAL_KIND(ID, cls, pfx, d, ...)                                                    \
  {.id = ID, .class_name = cls, .prefix = pfx, .min_in = 1, .max_in = 1, .dims = d,          \
   .opts_size = sizeof(loom_layer_opts), .name_offset = offsetof(loom_layer_opts, name),     \
   .build = global_build, .forward = global_forward, __VA_ARGS__}
const lm_layer_kind lm_kind_global_max_pooling1d =
    GLOBAL_KIND(LM_KIND_GLOBAL_MAX_POOLING1D, "GlobalMaxPooling1D", "global_max_pooling1d", 1);
const lm_layer_kind lm_kind_global_max_pooling2d =
    GLOBAL_KIND(LM_KIND_GLOBAL_MAX_POOLING2D, "GlobalMaxPooling2D", "global_max_pooling2d", 2);
const lm_layer_kind lm_kind_global_average_pooling1d =
    GLOBAL_KIND(LM_KIND_GLOBAL_AVERAGE_POOLING1D, "GlobalAveragePooling1D", "global_average_pooling1d", 1,
                .mask = LM_MASK_CONSUME);
const lm_layer_kind lm_kind_global_average_pooling2d =
    GLOBAL_KIND(LM_KIND_GLOBAL_AVERAGE_POOLING2D, "GlobalAveragePooling2D", "global_average_pooling2d", 2);

loom_layer *loom_layer_global_max_pooling1d(loom_graph *g, const loom_layer_opts *o) {
  return lm_layer_make(g, &lm_kind_global_max_pooling1d, o);
}
loom_layer *loom_layer_global_max_pooling2d(loom_graph *g, const loom_layer_opts *o) {
  return lm_layer_make(g, &lm_kind_global_max_pooling2d, o);
}
loom_layer *loom_layer_global_average_pooling1d(loom_graph *g, const loom_layer_opts *o) {
  return lm_layer_make(g, &lm_kind_global_average_pooling1d, o);
}
loom_layer *loom_layer_global_average_pooling2d(loom_graph *g, const loom_layer_opts *o) {
  return lm_layer_make(g, &lm_kind_global_average_pooling2d, o);
}
