/* layer_pool.c - Max/AveragePooling1D/2D and the global poolings. */
#include "lib/layers.h"
#include "lib/spatial.h"

static int pool_build(loom_layer *l, int n, loom_node *const *in, int *n_out, lm_shape *out,
                      loom_dtype *dt) {
  (void)n, (void)n_out, (void)dt;
  const loom_pool_opts *o = &l->o.pool;
  if (!lm_check_input(l, in, 0, l->rank + 2, l->rank + 2, LOOM_F32)) return l->g->status;
  return lm_spatial_out(l, in[0], l->rank, o->pool_size, o->strides, o->padding, out)
             ? LOOM_OK : l->g->status;
}

static bool is_max(const loom_layer *l) { return l->vt->type[0] == 'M'; }

static int pool_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in,
                        loom_tensor **out, loom_tensor **logits) {
  (void)n, (void)logits;
  const loom_pool_opts *o = &l->o.pool;
  if (l->rank == 1)
    out[0] = (is_max(l) ? loom_max_pool1d : loom_avg_pool1d)(run->cx, in[0], o->pool_size[0],
                                                              o->strides[0], o->padding);
  else
    out[0] = (is_max(l) ? loom_max_pool2d : loom_avg_pool2d)(
        run->cx, in[0], o->pool_size[0], o->pool_size[1], o->strides[0], o->strides[1], o->padding);
  return loom_ctx_status(run->cx);
}

static const lm_layer_vt pool_vt[4] = {
    {"MaxPooling1D", "max_pooling1d", 1, 1, pool_build, pool_forward, NULL},
    {"MaxPooling2D", "max_pooling2d", 1, 1, pool_build, pool_forward, NULL},
    {"AveragePooling1D", "average_pooling1d", 1, 1, pool_build, pool_forward, NULL},
    {"AveragePooling2D", "average_pooling2d", 1, 1, pool_build, pool_forward, NULL},
};

static loom_layer *pool_new(loom_graph *g, const loom_pool_opts *o, int kind, int dims) {
  if (!g || !o) return lm_layer_from(g, &pool_vt[kind], o, sizeof *o, NULL);
  loom_pool_opts p = *o;
  lm_pair(p.pool_size, 2);
  if (!p.strides[0]) p.strides[0] = p.pool_size[0], p.strides[1] = p.pool_size[1];
  else if (!p.strides[1]) p.strides[1] = p.strides[0];
  if (dims == 1) p.pool_size[1] = p.strides[1] = 1;
  if (p.pool_size[0] <= 0 || p.pool_size[1] <= 0 || p.strides[0] <= 0 || p.strides[1] <= 0 ||
      (unsigned)p.padding > LOOM_SAME) {
    lm_graph_fail(g, LOOM_EINVAL, "%s: pool_size and strides must be > 0 (got %dx%d, %dx%d)",
                  pool_vt[kind].type, p.pool_size[0], p.pool_size[1], p.strides[0], p.strides[1]);
    return NULL;
  }
  loom_layer *l = lm_layer_from(g, &pool_vt[kind], &p, sizeof p, p.name);
  if (l) l->rank = dims;
  return l;
}

loom_layer *loom_layer_max_pooling1d(loom_graph *g, const loom_pool_opts *o) { return pool_new(g, o, 0, 1); }
loom_layer *loom_layer_max_pooling2d(loom_graph *g, const loom_pool_opts *o) { return pool_new(g, o, 1, 2); }
loom_layer *loom_layer_average_pooling1d(loom_graph *g, const loom_pool_opts *o) { return pool_new(g, o, 2, 1); }
loom_layer *loom_layer_average_pooling2d(loom_graph *g, const loom_pool_opts *o) { return pool_new(g, o, 3, 2); }

/* ---------------------------------------------------------------- global */

static int global_build(loom_layer *l, int n, loom_node *const *in, int *n_out, lm_shape *out,
                        loom_dtype *dt) {
  (void)n, (void)n_out, (void)dt;
  if (!lm_check_input(l, in, 0, l->rank + 2, l->rank + 2, LOOM_F32)) return l->g->status;
  *out = (lm_shape){2, {LOOM_NONE, in[0]->shape.d[l->rank + 1]}};
  return LOOM_OK;
}

static int global_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in,
                          loom_tensor **out, loom_tensor **logits) {
  (void)n, (void)logits;
  out[0] = (l->vt->type[6] == 'M' ? loom_global_max_pool : loom_global_avg_pool)(run->cx, in[0]);
  return loom_ctx_status(run->cx);
}

static const lm_layer_vt global_vt[4] = {
    {"GlobalMaxPooling1D", "global_max_pooling1d", 1, 1, global_build, global_forward, NULL},
    {"GlobalMaxPooling2D", "global_max_pooling2d", 1, 1, global_build, global_forward, NULL},
    {"GlobalAveragePooling1D", "global_average_pooling1d", 1, 1, global_build, global_forward, NULL},
    {"GlobalAveragePooling2D", "global_average_pooling2d", 1, 1, global_build, global_forward, NULL},
};

static loom_layer *global_new(loom_graph *g, const loom_layer_opts *o, int kind, int dims) {
  loom_layer *l = lm_layer_from(g, &global_vt[kind], o, sizeof *o, o ? o->name : NULL);
  if (l) l->rank = dims;
  return l;
}

loom_layer *loom_layer_global_max_pooling1d(loom_graph *g, const loom_layer_opts *o) { return global_new(g, o, 0, 1); }
loom_layer *loom_layer_global_max_pooling2d(loom_graph *g, const loom_layer_opts *o) { return global_new(g, o, 1, 2); }
loom_layer *loom_layer_global_average_pooling1d(loom_graph *g, const loom_layer_opts *o) { return global_new(g, o, 2, 1); }
loom_layer *loom_layer_global_average_pooling2d(loom_graph *g, const loom_layer_opts *o) { return global_new(g, o, 3, 2); }
