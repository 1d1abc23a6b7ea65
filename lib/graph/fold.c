/* fold.c - inference with each BatchNormalization folded into the Conv1D, Conv2D,
 * DepthwiseConv2D, SeparableConv2D or Dense before it (that layer's output read by the
 * BN alone), and a ReLU Activation after the BN fused into the same op: one pass and one
 * tensor where there were three. In training (and where a BN cannot fold), a ReLU that
 * alone reads a BN's output runs inside the BN (lm_batch_norm_relu): one tensor less to
 * keep for backward. The plan is made with the model; the folded weights are made from
 * the current weights once per inference pass (predict, evaluate, validation) and kept by
 * the model (as much memory as the folded layers' weights), so training in between is seen
 * and the batches of one pass do not fold again. */
#include <stdlib.h>
#include <string.h>

#include "lib/layers/layer.h"
#include "lib/graph/model.h"
#include "ops/ops.h"

static bool is_bn(const loom_layer *l) { return l->kind->fold == LM_FOLD_BN; }
static bool is_relu_activation(const loom_layer *l) {
  return l->kind->fold == LM_FOLD_ACTIVATION && l->kind->activation(l) == LOOM_RELU;
}
static bool can_take_bn(const loom_layer *l) {
  return l->kind->fold == LM_FOLD_PRODUCER && l->kind->activation(l) == LOOM_LINEAR;
}

/* The one call of m->order after `from` that reads x (once), or -1: none, several, or x
 * is an output of the model. */
static int sole_reader(const loom_model *m, const loom_node *x, int from) {
  for (int k = 0; k < m->n_out; ++k)
    if (m->out[k] == x) return -1;
  int who = -1;
  for (int i = from; i < m->n_order; ++i) {
    const lm_call *c = m->order[i];
    for (int k = 0; k < c->n_in; ++k)
      if (c->in[k] == x) {
        if (who >= 0) return -1;
        who = i;
      }
  }
  return who;
}

bool lm_model_plan_folds(loom_model *m) {
  m->fold = malloc(sizeof *m->fold * (size_t)(m->n_order ? m->n_order : 1));
  if (!m->fold) {
    lm_graph_fail(m->g, LOOM_ENOMEM, "out of memory");
    return false;
  }
  for (int i = 0; i < m->n_order; ++i) m->fold[i] = (lm_fold_plan){.bn = -1, .act = -1, .relu = -1};
  for (int i = 0; i < m->n_order; ++i) { /* BN -> ReLU */
    const lm_call *c = m->order[i];
    if (!is_bn(c->layer)) continue;
    const int act = sole_reader(m, c->out[0], i + 1);
    if (act >= 0 && is_relu_activation(m->order[act]->layer))
      m->fold[i].relu = act, m->fold[act].fused = true;
  }
  for (int i = 0; i < m->n_order; ++i) { /* conv -> BN (-> ReLU) */
    const lm_call *c = m->order[i];
    if (!can_take_bn(c->layer) || c->n_out != 1) continue;
    const int bn = sole_reader(m, c->out[0], i + 1);
    if (bn < 0 || !is_bn(m->order[bn]->layer)) continue;
    m->fold[i].bn = bn, m->fold[i].act = m->fold[bn].relu, m->fold[bn].folded = true;
  }
  return true;
}

void lm_fold_new_pass(loom_graph *g) { ++g->fold_epoch; }

/* The scale and shift of the BN folded into call i: gamma / sqrt(var + eps) and
 * beta - mean * scale, in the run's arena; and where the folded weights are kept. */
int lm_fold_prepare(loom_model *m, int i, loom_ctx *cx, lm_fold *f) {
  if (!m->fold_cache || m->fold_epoch != m->g->fold_epoch + 1) { /* + 1: a new model's 0 is stale */
    if (!m->fold_cache && !(m->fold_cache = loom_arena_new(NULL)))
      return lm_fail(cx, LOOM_ENOMEM, "BatchNormalization fold", "out of memory");
    loom_arena_reset(m->fold_cache);
    for (int k = 0; k < m->n_order; ++k) m->fold[k].kernel = m->fold[k].bias = NULL;
    m->fold_epoch = m->g->fold_epoch + 1;
  }
  lm_fold_plan *p = &m->fold[i];
  const loom_layer *bn = m->order[p->bn]->layer;
  const int64_t c = bn->kind->fold_affine(bn, NULL);
  float *s = lm_scratch_f32(cx, "BatchNormalization fold", 2, c);
  if (!s) return loom_ctx_status(cx);
  bn->kind->fold_affine(bn, s);
  *f = (lm_fold){.scale = s, .shift = s + c, .act = p->act >= 0 ? LOOM_RELU : LOOM_LINEAR,
                 .cache = m->fold_cache, .kernel = &p->kernel, .bias = &p->bias};
  return LOOM_OK;
}

bool lm_fold_weights(const lm_run *run, int64_t cout, loom_tensor **kernel, loom_tensor **bias) {
  const lm_fold *f = run->fold;
  if (!f) return true;
  if (*f->kernel) { /* made earlier in this pass */
    *kernel = *f->kernel, *bias = *f->bias;
    return true;
  }
  const loom_tensor *k = *kernel, *b = *bias;
  loom_tensor *nk = loom_tensor_new(f->cache, LOOM_F32, k->rank, k->shape);
  loom_tensor *nb = nk ? loom_tensor_new(f->cache, LOOM_F32, 1, &cout) : NULL;
  if (!nb) {
    lm_fail(run->cx, LOOM_ENOMEM, "BatchNormalization fold", "%s", loom_arena_error(f->cache));
    return false;
  }
  const float *kv = k->data, *bv = b ? b->data : NULL;
  float *nkv = nk->data, *nbv = nb->data;
  for (int64_t r = 0; r < k->size / cout; ++r)
    for (int64_t j = 0; j < cout; ++j) nkv[r * cout + j] = kv[r * cout + j] * f->scale[j];
  for (int64_t j = 0; j < cout; ++j) nbv[j] = (bv ? bv[j] * f->scale[j] : 0.0f) + f->shift[j];
  *kernel = *f->kernel = nk, *bias = *f->bias = nb;
  return true;
}
