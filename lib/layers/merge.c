/* merge.c - the merges: Add, Subtract, Multiply, Average, Maximum, Minimum (inputs of one
 * shape) and Concatenate. */
#include "lib/layers/layer.h"
#include "ops/ops.h"

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
    if (!fit) return shape_mismatch(l, in[0], in[i], i, "the inputs must have one shape");
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

/* A merge's mask: the OR of its inputs' (Keras 3); Concatenate's: see LM_MASK_CONCAT. */
#define MERGE_OPTS .opts_size = sizeof(loom_layer_opts), .name_offset = offsetof(loom_layer_opts, name)

const lm_layer_kind lm_kind_add = {.id = LM_KIND_ADD, .class_name = "Add", .prefix = "add", .min_in = 2,
                                   .max_in = LOOM_MAX_IO, MERGE_OPTS, .build = add_build,
                                   .forward = add_forward, .mask = LM_MASK_MERGE};

loom_layer *loom_layer_add(loom_graph *g, const loom_layer_opts *o) {
  return lm_layer_make(g, &lm_kind_add, o);
}

/* The other elementwise merges: one forward by kind, sharing Add's shape rule. */
static int elementwise_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in,
                               loom_tensor **out, loom_tensor **logits) {
  (void)logits;
  loom_ctx *cx = run->cx;
  switch (l->kind->id) {
    case LM_KIND_SUBTRACT: out[0] = loom_sub(cx, in[0], in[1]); break;
    case LM_KIND_MULTIPLY:
      out[0] = in[0];
      for (int i = 1; i < n; ++i) out[0] = loom_mul(cx, out[0], in[i]);
      break;
    case LM_KIND_AVERAGE: out[0] = loom_average_n(cx, n, in); break;
    case LM_KIND_MAXIMUM: out[0] = loom_maximum_n(cx, n, in); break;
    default: out[0] = loom_minimum_n(cx, n, in); break;
  }
  return loom_ctx_status(cx);
}

#define ELEMENTWISE_KIND(ID, cls, pre, max)                                                  \
  const lm_layer_kind lm_kind_##pre = {.id = LM_KIND_##ID, .class_name = cls, .prefix = #pre, \
                                       .min_in = 2, .max_in = max, MERGE_OPTS, .build = add_build, \
                                       .forward = elementwise_forward, .mask = LM_MASK_MERGE};  \
  loom_layer *loom_layer_##pre(loom_graph *g, const loom_layer_opts *o) {                    \
    return lm_layer_make(g, &lm_kind_##pre, o);                                              \
  }
ELEMENTWISE_KIND(SUBTRACT, "Subtract", subtract, 2)
ELEMENTWISE_KIND(MULTIPLY, "Multiply", multiply, LOOM_MAX_IO)
ELEMENTWISE_KIND(AVERAGE, "Average", average, LOOM_MAX_IO)
ELEMENTWISE_KIND(MAXIMUM, "Maximum", maximum, LOOM_MAX_IO)
ELEMENTWISE_KIND(MINIMUM, "Minimum", minimum, LOOM_MAX_IO)

static int concat_axis(const loom_layer *l, int rank) {
  const int axis = l->o.misc.axis;
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

static int concat_check(loom_graph *g, const lm_layer_kind *k, void *opts) {
  (void)g, (void)k;
  loom_layer_opts *o = opts;
  if (!o->axis) o->axis = -1; /* the batch axis cannot be joined: 0 is the default */
  return LOOM_OK;
}

static const lm_opt concat_opts[] = {
    LM_OPT(loom_layer_opts, axis, "axis", LM_OPT_INT, -LOOM_MAX_RANK, LOOM_MAX_RANK), LM_OPTS_END};

const lm_layer_kind lm_kind_concatenate = {
    .id = LM_KIND_CONCATENATE, .class_name = "Concatenate", .prefix = "concatenate", .min_in = 2,
    .max_in = LOOM_MAX_IO, MERGE_OPTS, .opts = concat_opts, .check = concat_check, .build = concat_build,
    .forward = concat_forward, .mask = LM_MASK_CONCAT};

loom_layer *loom_layer_concatenate(loom_graph *g, const loom_layer_opts *o) {
  return lm_layer_make(g, &lm_kind_concatenate, o);
}
