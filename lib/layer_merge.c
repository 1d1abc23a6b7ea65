/* layer_merge.c - Add and Concatenate over several inputs. */
#include "lib/layers.h"

static bool dims_fit(int64_t a, int64_t b) { return a == b || a == LOOM_NONE || b == LOOM_NONE; }

static int shape_mismatch(loom_layer *l, const loom_node *a, const loom_node *b, int i,
                          const char *why) {
  char sa[96], sb[96];
  return lm_layer_fail(l, LOOM_ESHAPE, "input 0 %s and input %d %s do not fit: %s",
                       lm_shape_msg(&a->shape, sa, sizeof sa), i,
                       lm_shape_msg(&b->shape, sb, sizeof sb), why);
}

static int add_build(loom_layer *l, int n, loom_node *const *in, int *n_out, lm_shape *out,
                     loom_dtype *dt) {
  (void)n_out, (void)dt;
  for (int i = 0; i < n; ++i)
    if (!lm_check_input(l, in, i, 1, LOOM_MAX_RANK, LOOM_F32)) return l->g->status;
  *out = in[0]->shape;
  for (int i = 1; i < n; ++i) {
    bool fit = in[i]->shape.rank == out->rank;
    for (int k = 0; fit && k < out->rank; ++k) fit = dims_fit(out->d[k], in[i]->shape.d[k]);
    if (!fit) return shape_mismatch(l, in[0], in[i], i, "add needs one shape");
    for (int k = 0; k < out->rank; ++k)
      if (out->d[k] == LOOM_NONE) out->d[k] = in[i]->shape.d[k];
  }
  return LOOM_OK;
}

static int add_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in,
                       loom_tensor **out, loom_tensor **logits) {
  (void)l, (void)logits;
  out[0] = loom_add_n(run->cx, n, in);
  return loom_ctx_status(run->cx);
}

static const lm_layer_vt add_vt = {"Add", "add", 2, LOOM_MAX_IO, add_build, add_forward, NULL};

loom_layer *loom_layer_add(loom_graph *g, const loom_layer_opts *o) {
  return lm_layer_from(g, &add_vt, o, sizeof *o, o ? o->name : NULL);
}

static int concat_axis(const loom_layer *l, int rank) {
  const int axis = l->o.misc.axis ? l->o.misc.axis : -1;
  return axis < 0 ? rank + axis : axis;
}

static int concat_build(loom_layer *l, int n, loom_node *const *in, int *n_out, lm_shape *out,
                        loom_dtype *dt) {
  (void)n_out, (void)dt;
  for (int i = 0; i < n; ++i)
    if (!lm_check_input(l, in, i, 2, LOOM_MAX_RANK, LOOM_F32)) return l->g->status;
  *out = in[0]->shape;
  const int axis = concat_axis(l, out->rank);
  if (axis < 1 || axis >= out->rank)
    return lm_layer_fail(l, LOOM_EINVAL, "axis %d is not a non-batch axis of rank %d inputs",
                         l->o.misc.axis, out->rank);
  for (int i = 1; i < n; ++i) {
    bool fit = in[i]->shape.rank == out->rank;
    for (int k = 0; fit && k < out->rank; ++k)
      fit = k == axis || dims_fit(out->d[k], in[i]->shape.d[k]);
    if (!fit) return shape_mismatch(l, in[0], in[i], i, "concatenate needs equal dims off the axis");
    const int64_t d = in[i]->shape.d[axis];
    out->d[axis] = out->d[axis] == LOOM_NONE || d == LOOM_NONE ? LOOM_NONE : out->d[axis] + d;
  }
  return LOOM_OK;
}

static int concat_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in,
                          loom_tensor **out, loom_tensor **logits) {
  (void)logits;
  out[0] = loom_concatenate(run->cx, n, in, concat_axis(l, in[0] ? in[0]->rank : 1));
  return loom_ctx_status(run->cx);
}

static const lm_layer_vt concat_vt = {"Concatenate", "concatenate", 2, LOOM_MAX_IO, concat_build,
                                      concat_forward, NULL};

loom_layer *loom_layer_concatenate(loom_graph *g, const loom_layer_opts *o) {
  return lm_layer_from(g, &concat_vt, o, sizeof *o, o ? o->name : NULL);
}
