/* dot.c - Dot(axes, normalize): Keras' batch_dot of two inputs of rank 2 or 3 over one
 * axis each, as one batched GEMM: the first brought to [batch, m, k] and the second to
 * [batch, k, n] (a transpose when the axis is elsewhere, a unit dim for rank 2), the
 * result [batch, m, n] reshaped to Keras' output shape. As Keras' Dot it takes a mask and
 * leaves it behind. */
#include "lib/layers/layer.h"
#include "ops/ops.h"

static int dot_check(loom_graph *g, const lm_layer_kind *k, void *opts) {
  loom_dot_opts *o = opts;
  if (!o->axes[0]) return lm_opts_fail(g, k, o, LOOM_EINVAL, "axes must be given (an axis other than the batch's)");
  if (!o->axes[1]) o->axes[1] = o->axes[0];
  for (int i = 2; i < LOOM_MAX_RANK - 1; ++i)
    if (o->axes[i]) return lm_opts_fail(g, k, o, LOOM_EINVAL, "axes holds one axis per input: two at most");
  return LOOM_OK;
}

/* Input i's axis, made positive; 0 when it is not one of the input's axes past the batch. */
static int axis_of(const loom_layer *l, int i, int rank) {
  const int a = l->o.dot.axes[i] < 0 ? rank + l->o.dot.axes[i] : l->o.dot.axes[i];
  return a >= 1 && a < rank ? a : 0;
}

static int dot_build(loom_layer *l, int n, loom_node *const *in, int *n_out, lm_shape *out, loom_dtype *dt) {
  (void)n, (void)n_out, (void)dt;
  for (int i = 0; i < 2; ++i)
    if (!lm_check_input(l, in, i, 2, 3, LOOM_F32)) return l->g->status;
  const lm_shape *a = &in[0]->shape, *b = &in[1]->shape;
  const int ax = axis_of(l, 0, a->rank), ay = axis_of(l, 1, b->rank);
  char sa[96], sb[96];
  if (!ax || !ay)
    return lm_layer_fail(l, LOOM_EINVAL, "axes (%d, %d) are not axes of %s and %s past the batch", l->o.dot.axes[0],
                         l->o.dot.axes[1], lm_shape_msg(a, sa, sizeof sa), lm_shape_msg(b, sb, sizeof sb));
  if (a->d[ax] != b->d[ay] && a->d[ax] != LOOM_NONE && b->d[ay] != LOOM_NONE)
    return lm_layer_fail(l, LOOM_ESHAPE, "%s and %s differ along axes %d and %d (%lld, %lld)",
                         lm_shape_msg(a, sa, sizeof sa), lm_shape_msg(b, sb, sizeof sb), ax, ay, (long long)a->d[ax],
                         (long long)b->d[ay]);
  /* Keras: the first's dims without its axis, then the second's without the batch and its axis */
  *out = (lm_shape){0, {0}};
  for (int d = 0; d < a->rank; ++d)
    if (d != ax) out->d[out->rank++] = a->d[d];
  for (int d = 1; d < b->rank; ++d)
    if (d != ay) out->d[out->rank++] = b->d[d];
  if (out->rank == 1) out->d[out->rank++] = 1;
  return LOOM_OK;
}

/* x as [batch, m, k] (contracted last) or, for the second input, [batch, k, n] */
static loom_tensor *as_matrix(loom_ctx *cx, loom_tensor *x, int axis, bool first) {
  if (x->rank == 2) {
    const int64_t s[3] = {x->shape[0], first ? 1 : x->shape[1], first ? x->shape[1] : 1};
    return loom_reshape(cx, x, 3, s);
  }
  const bool in_place = first ? axis == 2 : axis == 1;
  static const int swap[3] = {0, 2, 1};
  return in_place ? x : loom_transpose(cx, x, swap);
}

static int dot_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in, loom_tensor **out,
                       loom_tensor **logits) {
  (void)n, (void)logits;
  loom_ctx *cx = run->cx;
  loom_tensor *a = in[0], *b = in[1];
  const int ax = axis_of(l, 0, a->rank), ay = axis_of(l, 1, b->rank);
  if (l->o.dot.normalize) a = loom_l2_normalize(cx, a, ax), b = loom_l2_normalize(cx, b, ay);
  loom_tensor *y = a && b ? loom_batch_matmul(cx, as_matrix(cx, a, ax, true), as_matrix(cx, b, ay, false)) : NULL;
  if (!y) return loom_ctx_status(cx);
  int64_t shape[LOOM_MAX_RANK];
  int rank = 0;
  for (int d = 0; d < a->rank; ++d)
    if (d != ax) shape[rank++] = a->shape[d];
  for (int d = 1; d < b->rank; ++d)
    if (d != ay) shape[rank++] = b->shape[d];
  if (rank == 1) shape[rank++] = 1;
  out[0] = loom_reshape(cx, y, rank, shape);
  return loom_ctx_status(cx);
}

static const lm_opt dot_opts[] = {
    LM_OPT(loom_dot_opts, axes, "axes", LM_OPT_AXES, -LOOM_MAX_RANK, LOOM_MAX_RANK),
    LM_OPT(loom_dot_opts, normalize, "normalize", LM_OPT_BOOL, 0, 0), LM_OPTS_END};

const lm_layer_kind lm_kind_dot = {
    .id = LM_KIND_DOT, .class_name = "Dot", .prefix = "dot", .min_in = 2, .max_in = 2,
    .opts_size = sizeof(loom_dot_opts), .name_offset = offsetof(loom_dot_opts, name), .opts = dot_opts,
    .check = dot_check, .build = dot_build, .forward = dot_forward, .mask = LM_MASK_CONSUME};

loom_layer *loom_layer_dot(loom_graph *g, const loom_dot_opts *o) { return lm_layer_make(g, &lm_kind_dot, o); }
