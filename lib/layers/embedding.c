/* embedding.c - Embedding: rows of embeddings [input_dim, output_dim] picked by int32 ids
 * (Keras' uniform(-0.05, 0.05) initialiser). */
#include "lib/layers/layer.h"
#include "ops/ops.h"

static int embedding_check(loom_graph *g, const lm_layer_kind *k, void *opts) {
  const loom_embedding_opts *o = opts;
  if (o->input_dim <= 0 || o->output_dim <= 0)
    return lm_opts_fail(g, k, o, LOOM_EINVAL, "input_dim and output_dim must be > 0, got %d and %d",
                        o->input_dim, o->output_dim);
  return LOOM_OK;
}

static int embedding_build(loom_layer *l, int n, loom_node *const *in, int *n_out, lm_shape *out,
                           loom_dtype *dt) {
  (void)n, (void)n_out, (void)dt;
  const loom_node *x = in[0];
  if (!lm_check_input(l, in, 0, 1, LOOM_MAX_RANK - 1, LOOM_I32)) return l->g->status;
  if (l->o.embedding.mask_zero && x->shape.rank != 2) {
    char s[96];
    return lm_layer_fail(l, LOOM_ESHAPE, "mask_zero needs ids [batch, steps], got %s", lm_shape_msg(&x->shape, s, sizeof s));
  }
  if (!l->built) {
    const int64_t s[2] = {l->o.embedding.input_dim, l->o.embedding.output_dim};
    loom_tensor *e = lm_layer_add_weight(l, "embeddings", 2, s);
    if (!e) return l->g->status;
    lm_init_uniform(l, e, -0.05, 0.05);
  }
  *out = x->shape;
  out->d[out->rank++] = l->o.embedding.output_dim;
  return LOOM_OK;
}

static int embedding_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in,
                             loom_tensor **out, loom_tensor **logits) {
  (void)n, (void)logits;
  out[0] = loom_embedding(run->cx, in[0], l->w[0]);
  return loom_ctx_status(run->cx);
}

static int64_t embedding_ids_below(const loom_layer *l) { return l->o.embedding.input_dim; }

/* Keras' Embedding.compute_mask: ids != 0, with mask_zero */
static int embedding_masked_outputs(const loom_layer *l) { return l->o.embedding.mask_zero; }
static loom_tensor *embedding_mask(const loom_layer *l, loom_ctx *cx, loom_tensor *ids) {
  (void)l;
  return loom_mask_from_ids(cx, ids);
}

static const lm_opt embedding_opts[] = {
    LM_OPT(loom_embedding_opts, input_dim, "input_dim", LM_OPT_INT, 1, 1 << 24),
    LM_OPT(loom_embedding_opts, output_dim, "output_dim", LM_OPT_INT, 1, 1 << 24),
    LM_OPT(loom_embedding_opts, mask_zero, "mask_zero", LM_OPT_BOOL, 0, 0), LM_OPTS_END};

const lm_layer_kind lm_kind_embedding = {
    .id = LM_KIND_EMBEDDING, .class_name = "Embedding", .prefix = "embedding", .min_in = 1,
    .max_in = 1, .opts_size = sizeof(loom_embedding_opts),
    .name_offset = offsetof(loom_embedding_opts, name), .opts = embedding_opts,
    .check = embedding_check, .build = embedding_build, .forward = embedding_forward,
    .ids_below = embedding_ids_below, .mask = LM_MASK_MAKE, .masked_outputs = embedding_masked_outputs,
    .make_mask = embedding_mask};

loom_layer *loom_layer_embedding(loom_graph *g, const loom_embedding_opts *o) {
  return lm_layer_make(g, &lm_kind_embedding, o);
}
