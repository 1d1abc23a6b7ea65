/* reshaping.c - Keras' reshaping layers (channels-last, no weights): Reshape, Permute,
 * RepeatVector, ZeroPadding1D/2D, Cropping1D/2D, UpSampling1D/2D. */
#include <string.h>

#include "lib/layers/layer.h"
#include "lib/layers/spatial.h"
#include "ops/ops.h"

#define RESHAPING_OPTS \
  .opts_size = sizeof(loom_reshaping_opts), .name_offset = offsetof(loom_reshaping_opts, name)

/* entries of a 0-ended list of at most LOOM_MAX_RANK - 1 */
static int list_len(const int *v) {
  int n = 0;
  while (n < LOOM_MAX_RANK - 1 && v[n]) ++n;
  return n;
}

/* ---------------------------------------------------------------- Reshape */

static int reshape_check(loom_graph *g, const lm_layer_kind *k, void *opts) {
  const loom_reshaping_opts *o = opts;
  const int n = list_len(o->target_shape);
  int unknown = 0;
  for (int i = 0; i < n; ++i) unknown += o->target_shape[i] == -1;
  for (int i = 0; i < n; ++i)
    if (o->target_shape[i] < -1 || unknown > 1)
      return lm_opts_fail(g, k, o, LOOM_EINVAL, "target_shape entries must be > 0, one of them -1 at "
                          "most (entry %d is %d)", i, o->target_shape[i]);
  if (n == 0 || n > LOOM_MAX_RANK - 1)
    return lm_opts_fail(g, k, o, LOOM_EINVAL, "target_shape needs 1 to %d entries", LOOM_MAX_RANK - 2);
  return LOOM_OK;
}

/* The sample shape Reshape gives a sample of `size` elements (-1: unknown), into d[1..];
 * false if it cannot hold them. */
static bool reshape_dims(const loom_reshaping_opts *o, int64_t size, int64_t *d) {
  const int n = list_len(o->target_shape);
  int64_t known = 1;
  int free_at = -1;
  for (int i = 0; i < n; ++i) {
    d[1 + i] = o->target_shape[i];
    if (o->target_shape[i] == -1) free_at = i;
    else known *= o->target_shape[i];
  }
  if (free_at >= 0) {
    if (size < 0) return d[1 + free_at] = LOOM_NONE, true;
    if (known == 0 || size % known) return false;
    d[1 + free_at] = size / known;
    return true;
  }
  return size < 0 || size == known;
}

static int reshape_build(loom_layer *l, int n, loom_node *const *in, int *n_out, lm_shape *out,
                         loom_dtype *dt) {
  (void)n, (void)n_out, (void)dt;
  if (!lm_check_input(l, in, 0, 1, LOOM_MAX_RANK, LOOM_F32)) return l->g->status;
  const loom_reshaping_opts *o = &l->o.reshaping;
  *out = (lm_shape){1 + list_len(o->target_shape), {LOOM_NONE}};
  if (!reshape_dims(o, lm_shape_sample_size(&in[0]->shape), out->d)) {
    char s[96];
    return lm_layer_fail(l, LOOM_ESHAPE, "a sample of %s cannot take the target shape",
                         lm_shape_msg(&in[0]->shape, s, sizeof s));
  }
  return LOOM_OK;
}

static int reshape_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in,
                           loom_tensor **out, loom_tensor **logits) {
  (void)n, (void)logits;
  const loom_reshaping_opts *o = &l->o.reshaping;
  const loom_tensor *x = in[0];
  int64_t d[LOOM_MAX_RANK] = {x->shape[0]};
  if (!reshape_dims(o, x->shape[0] ? x->size / x->shape[0] : 0, d))
    return lm_layer_fail(l, LOOM_ESHAPE, "a sample of %lld elements cannot take the target shape",
                         (long long)(x->shape[0] ? x->size / x->shape[0] : 0));
  out[0] = loom_reshape(run->cx, in[0], 1 + list_len(o->target_shape), d);
  return loom_ctx_status(run->cx);
}

static const lm_opt reshape_opts[] = {
    LM_OPT(loom_reshaping_opts, target_shape, "target_shape", LM_OPT_AXES, -1, 1 << 30), LM_OPTS_END};

const lm_layer_kind lm_kind_reshape = {
    .id = LM_KIND_RESHAPE, .class_name = "Reshape", .prefix = "reshape", .min_in = 1, .max_in = 1,
    RESHAPING_OPTS, .opts = reshape_opts, .check = reshape_check, .build = reshape_build,
    .forward = reshape_forward};

loom_layer *loom_layer_reshape(loom_graph *g, const loom_reshaping_opts *o) {
  return lm_layer_make(g, &lm_kind_reshape, o);
}

/* ---------------------------------------------------------------- Permute */

static int permute_check(loom_graph *g, const lm_layer_kind *k, void *opts) {
  const loom_reshaping_opts *o = opts;
  const int n = list_len(o->dims);
  bool seen[LOOM_MAX_RANK] = {false};
  for (int i = 0; i < n; ++i) {
    if (o->dims[i] < 1 || o->dims[i] > n || seen[o->dims[i]])
      return lm_opts_fail(g, k, o, LOOM_EINVAL, "dims must order the axes 1..%d, each once (entry %d "
                          "is %d)", n, i, o->dims[i]);
    seen[o->dims[i]] = true;
  }
  if (n == 0) return lm_opts_fail(g, k, o, LOOM_EINVAL, "dims is empty");
  return LOOM_OK;
}

static int permute_build(loom_layer *l, int n, loom_node *const *in, int *n_out, lm_shape *out,
                         loom_dtype *dt) {
  (void)n, (void)n_out, (void)dt;
  const loom_reshaping_opts *o = &l->o.reshaping;
  const int k = list_len(o->dims);
  if (!lm_check_input(l, in, 0, k + 1, k + 1, LOOM_F32)) return l->g->status;
  *out = in[0]->shape;
  for (int i = 0; i < k; ++i) out->d[1 + i] = in[0]->shape.d[o->dims[i]];
  return LOOM_OK;
}

static int permute_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in,
                           loom_tensor **out, loom_tensor **logits) {
  (void)n, (void)logits;
  const loom_reshaping_opts *o = &l->o.reshaping;
  int perm[LOOM_MAX_RANK] = {0};
  for (int i = 0; i < list_len(o->dims); ++i) perm[1 + i] = o->dims[i];
  out[0] = loom_transpose(run->cx, in[0], perm);
  return loom_ctx_status(run->cx);
}

static const lm_opt permute_opts[] = {
    LM_OPT(loom_reshaping_opts, dims, "dims", LM_OPT_AXES, 1, LOOM_MAX_RANK - 1), LM_OPTS_END};

const lm_layer_kind lm_kind_permute = {
    .id = LM_KIND_PERMUTE, .class_name = "Permute", .prefix = "permute", .min_in = 1, .max_in = 1,
    RESHAPING_OPTS, .opts = permute_opts, .check = permute_check, .build = permute_build,
    .forward = permute_forward};

loom_layer *loom_layer_permute(loom_graph *g, const loom_reshaping_opts *o) {
  return lm_layer_make(g, &lm_kind_permute, o);
}

/* ---------------------------------------------------------------- RepeatVector */

static int repeat_check(loom_graph *g, const lm_layer_kind *k, void *opts) {
  const loom_reshaping_opts *o = opts;
  if (o->n < 1) return lm_opts_fail(g, k, o, LOOM_EINVAL, "n must be >= 1, got %d", o->n);
  return LOOM_OK;
}

static int repeat_build(loom_layer *l, int n, loom_node *const *in, int *n_out, lm_shape *out,
                        loom_dtype *dt) {
  (void)n, (void)n_out, (void)dt;
  if (!lm_check_input(l, in, 0, 2, 2, LOOM_F32)) return l->g->status;
  *out = (lm_shape){3, {LOOM_NONE, l->o.reshaping.n, in[0]->shape.d[1]}};
  return LOOM_OK;
}

static int repeat_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in,
                          loom_tensor **out, loom_tensor **logits) {
  (void)n, (void)logits;
  const int64_t s[3] = {in[0]->shape[0], 1, in[0]->shape[1]};
  out[0] = loom_repeat(run->cx, loom_reshape(run->cx, in[0], 3, s), 1, l->o.reshaping.n);
  return loom_ctx_status(run->cx);
}

static const lm_opt repeat_opts[] = {
    LM_OPT(loom_reshaping_opts, n, "n", LM_OPT_INT, 1, 1 << 30), LM_OPTS_END};

const lm_layer_kind lm_kind_repeat_vector = {
    .id = LM_KIND_REPEAT_VECTOR, .class_name = "RepeatVector", .prefix = "repeat_vector", .min_in = 1,
    .max_in = 1, RESHAPING_OPTS, .opts = repeat_opts, .check = repeat_check, .build = repeat_build,
    .forward = repeat_forward};

loom_layer *loom_layer_repeat_vector(loom_graph *g, const loom_reshaping_opts *o) {
  return lm_layer_make(g, &lm_kind_repeat_vector, o);
}

/* ---------------------------------------------------------------- ZeroPadding, Cropping */

static bool is_cropping(const lm_layer_kind *k) { return k == &lm_kind_cropping1d || k == &lm_kind_cropping2d; }

/* the layer's {before, after} per spatial dim */
static const int (*edges(const lm_layer_kind *k, const loom_reshaping_opts *o))[2] {
  return is_cropping(k) ? o->cropping : o->padding;
}

static int edges_check(loom_graph *g, const lm_layer_kind *k, void *opts) {
  loom_reshaping_opts *o = opts;
  int(*e)[2] = is_cropping(k) ? o->cropping : o->padding;
  if (k->dims == 1) e[1][0] = e[1][1] = 0;
  if (!is_cropping(k) && !e[0][0] && !e[0][1] && !e[1][0] && !e[1][1]) /* Keras' default: 1 */
    e[0][0] = e[0][1] = 1, e[1][0] = e[1][1] = k->dims == 2;
  for (int d = 0; d < k->dims; ++d)
    if (e[d][0] < 0 || e[d][1] < 0)
      return lm_opts_fail(g, k, o, LOOM_EINVAL, "%s must be >= 0, got (%d, %d) in dim %d",
                          is_cropping(k) ? "cropping" : "padding", e[d][0], e[d][1], d + 1);
  return LOOM_OK;
}

static int edges_build(loom_layer *l, int n, loom_node *const *in, int *n_out, lm_shape *out,
                       loom_dtype *dt) {
  (void)n, (void)n_out, (void)dt;
  const int dims = l->kind->dims, sign = is_cropping(l->kind) ? -1 : 1;
  const int(*e)[2] = edges(l->kind, &l->o.reshaping);
  if (!lm_check_input(l, in, 0, dims + 2, dims + 2, LOOM_F32)) return l->g->status;
  *out = in[0]->shape;
  for (int d = 0; d < dims; ++d) {
    if (out->d[1 + d] == LOOM_NONE) continue;
    out->d[1 + d] += sign * (e[d][0] + e[d][1]);
    if (out->d[1 + d] < 1) {
      char s[96];
      return lm_layer_fail(l, LOOM_ESHAPE, "cropping (%d, %d) leaves nothing of dim %d of %s", e[d][0],
                           e[d][1], d + 1, lm_shape_msg(&in[0]->shape, s, sizeof s));
    }
  }
  return LOOM_OK;
}

static int edges_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in,
                         loom_tensor **out, loom_tensor **logits) {
  (void)n, (void)logits;
  const int sign = is_cropping(l->kind) ? -1 : 1;
  const int(*e)[2] = edges(l->kind, &l->o.reshaping);
  int64_t before[LOOM_MAX_RANK] = {0}, after[LOOM_MAX_RANK] = {0};
  for (int d = 0; d < l->kind->dims; ++d) before[1 + d] = sign * e[d][0], after[1 + d] = sign * e[d][1];
  out[0] = loom_pad(run->cx, in[0], before, after);
  return loom_ctx_status(run->cx);
}

static const lm_opt padding_opts[] = {
    LM_OPT(loom_reshaping_opts, padding, "padding", LM_OPT_PAIRS, 0, 1 << 30), LM_OPTS_END};
static const lm_opt cropping_opts[] = {
    LM_OPT(loom_reshaping_opts, cropping, "cropping", LM_OPT_PAIRS, 0, 1 << 30), LM_OPTS_END};

#define EDGES_KIND(ID, cls, pfx, d, o)                                                            \
  {.id = ID, .class_name = cls, .prefix = pfx, .min_in = 1, .max_in = 1, .dims = d, RESHAPING_OPTS, \
   .opts = o, .check = edges_check, .build = edges_build, .forward = edges_forward}
const lm_layer_kind lm_kind_zero_padding1d =
    EDGES_KIND(LM_KIND_ZERO_PADDING1D, "ZeroPadding1D", "zero_padding1d", 1, padding_opts);
const lm_layer_kind lm_kind_zero_padding2d =
    EDGES_KIND(LM_KIND_ZERO_PADDING2D, "ZeroPadding2D", "zero_padding2d", 2, padding_opts);
const lm_layer_kind lm_kind_cropping1d = EDGES_KIND(LM_KIND_CROPPING1D, "Cropping1D", "cropping1d", 1, cropping_opts);
const lm_layer_kind lm_kind_cropping2d = EDGES_KIND(LM_KIND_CROPPING2D, "Cropping2D", "cropping2d", 2, cropping_opts);

loom_layer *loom_layer_zero_padding1d(loom_graph *g, const loom_reshaping_opts *o) {
  return lm_layer_make(g, &lm_kind_zero_padding1d, o);
}
loom_layer *loom_layer_zero_padding2d(loom_graph *g, const loom_reshaping_opts *o) {
  return lm_layer_make(g, &lm_kind_zero_padding2d, o);
}
loom_layer *loom_layer_cropping1d(loom_graph *g, const loom_reshaping_opts *o) {
  return lm_layer_make(g, &lm_kind_cropping1d, o);
}
loom_layer *loom_layer_cropping2d(loom_graph *g, const loom_reshaping_opts *o) {
  return lm_layer_make(g, &lm_kind_cropping2d, o);
}

/* ---------------------------------------------------------------- UpSampling */

static int up_check(loom_graph *g, const lm_layer_kind *k, void *opts) {
  loom_reshaping_opts *o = opts;
  lm_pair(o->size, 2);
  if (k->dims == 1) o->size[1] = 1, o->interpolation = LOOM_NEAREST;
  if (o->size[0] < 1 || o->size[1] < 1 || (unsigned)o->interpolation > LOOM_BILINEAR)
    return lm_opts_fail(g, k, o, LOOM_EINVAL, "size must be >= 1 (got %dx%d), interpolation nearest "
                        "or bilinear", o->size[0], o->size[1]);
  return LOOM_OK;
}

static int up_build(loom_layer *l, int n, loom_node *const *in, int *n_out, lm_shape *out,
                    loom_dtype *dt) {
  (void)n, (void)n_out, (void)dt;
  const int dims = l->kind->dims;
  if (!lm_check_input(l, in, 0, dims + 2, dims + 2, LOOM_F32)) return l->g->status;
  *out = in[0]->shape;
  for (int d = 0; d < dims; ++d)
    if (out->d[1 + d] != LOOM_NONE) out->d[1 + d] *= l->o.reshaping.size[d];
  return LOOM_OK;
}

static int up_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in,
                      loom_tensor **out, loom_tensor **logits) {
  (void)n, (void)logits;
  const loom_reshaping_opts *o = &l->o.reshaping;
  loom_tensor *x = in[0];
  if (o->interpolation == LOOM_BILINEAR) {
    out[0] = loom_resize_bilinear(run->cx, x, x->shape[1] * o->size[0], x->shape[2] * o->size[1]);
    return loom_ctx_status(run->cx);
  }
  for (int d = 0; d < l->kind->dims; ++d)
    if (o->size[d] > 1) x = loom_repeat(run->cx, x, 1 + d, o->size[d]);
  out[0] = x;
  return loom_ctx_status(run->cx);
}

static const char *const interpolation_names[] = {[LOOM_NEAREST] = "nearest", [LOOM_BILINEAR] = "bilinear", NULL};

static const lm_opt up1_opts[] = {LM_OPT(loom_reshaping_opts, size, "size", LM_OPT_INT, 1, 1 << 20),
                                  LM_OPTS_END};
static const lm_opt up2_opts[] = {LM_OPT(loom_reshaping_opts, size, "size", LM_OPT_TUPLE, 1, 1 << 20),
                                  LM_OPT_ENUM(loom_reshaping_opts, interpolation, "interpolation",
                                              interpolation_names),
                                  LM_OPTS_END};

const lm_layer_kind lm_kind_up_sampling1d = {
    .id = LM_KIND_UP_SAMPLING1D, .class_name = "UpSampling1D", .prefix = "up_sampling1d", .min_in = 1,
    .max_in = 1, .dims = 1, RESHAPING_OPTS, .opts = up1_opts, .check = up_check, .build = up_build,
    .forward = up_forward};
const lm_layer_kind lm_kind_up_sampling2d = {
    .id = LM_KIND_UP_SAMPLING2D, .class_name = "UpSampling2D", .prefix = "up_sampling2d", .min_in = 1,
    .max_in = 1, .dims = 2, RESHAPING_OPTS, .opts = up2_opts, .check = up_check, .build = up_build,
    .forward = up_forward};

loom_layer *loom_layer_up_sampling1d(loom_graph *g, const loom_reshaping_opts *o) {
  return lm_layer_make(g, &lm_kind_up_sampling1d, o);
}
loom_layer *loom_layer_up_sampling2d(loom_graph *g, const loom_reshaping_opts *o) {
  return lm_layer_make(g, &lm_kind_up_sampling2d, o);
}
