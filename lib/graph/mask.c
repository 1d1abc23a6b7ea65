/* mask.c - Keras' masks through the graph: at a call, which outputs carry a mask (the
 * kind's lm_mask_role) or why the call is refused; while a model runs, each output's
 * mask from its inputs'. */
#include "lib/graph/model.h"
#include "lib/layers/kind.h"

static const char *made_by(const loom_layer *from) {
  return from->kind->id == LM_KIND_EMBEDDING ? "an Embedding with mask_zero" : from->kind->class_name;
}

/* A model used as a layer on masked inputs: as Keras, its inputs take the masks and its
 * layers' plans are made again from them (their checks included: a layer inside that
 * cannot take a mask refuses it by name). A model takes masks on every call or on none,
 * so that one plan serves them all; run on its own, a model planned with masks runs
 * without (no mask given, none used). */
static int plan_model(loom_layer *l, int n, loom_node *const *in, int first) {
  loom_model *m = l->model;
  const signed char fed = first >= 0 ? 2 : 1;
  if (m->mask_fed && m->mask_fed != fed)
    return lm_layer_fail(l, LOOM_EINVAL, "a model used as a layer takes masked inputs on every call or on none: "
                         "this call's inputs %s a mask, an earlier call's %s", fed == 2 ? "carry" : "carry no",
                         fed == 2 ? "did not" : "did");
  m->mask_fed = fed;
  if (fed == 1) return LOOM_OK;
  for (int i = 0; i < n && i < m->n_in; ++i) m->in[i]->mask_from = in[i]->mask_from;
  for (int i = 0; i < m->n_order; ++i) {
    lm_call *c = m->order[i];
    bool is_input = false;
    for (int k = 0; k < m->n_in; ++k) is_input |= m->in[k] == c->out[0];
    if (is_input) continue;
    const loom_layer *outs[LOOM_MAX_IO];
    const int st = lm_mask_plan(c->layer, c->n_in, c->in, c->n_out, outs);
    if (st) return st;
    for (int k = 0; k < c->n_out; ++k) c->out[k]->mask_from = outs[k];
  }
  return LOOM_OK;
}

int lm_mask_plan(loom_layer *l, int n, loom_node *const *in, int n_out, const loom_layer **out) {
  const lm_layer_kind *k = l->kind;
  int first = -1;
  for (int i = 0; i < n && first < 0; ++i)
    if (in[i]->mask_from) first = i;
  for (int i = 0; i < n_out; ++i) out[i] = NULL;
  const loom_layer *from = first >= 0 ? in[first]->mask_from : NULL;
  switch (k->mask) {
  case LM_MASK_REFUSE:
    if (from)
      return lm_layer_fail(l, LOOM_EINVAL,
                           "%s does not support masking, but input %d carries the mask of \"%s\" (%s); "
                           "consume it before (a recurrent layer, GlobalAveragePooling1D) or make none",
                           k->class_name, first, from->name, made_by(from));
    break;
  case LM_MASK_KEEP: out[0] = in[0]->mask_from; break;
  case LM_MASK_MERGE:
  case LM_MASK_CONCAT: out[0] = from; break;
  case LM_MASK_CONSUME: break;
  case LM_MASK_SEQUENCE:
    for (int i = 0, m = k->masked_outputs ? k->masked_outputs(l) : 1; i < m; ++i) out[i] = in[0]->mask_from;
    break;
  case LM_MASK_MAKE:
    if (!k->masked_outputs || k->masked_outputs(l)) out[0] = l;
    break;
  case LM_MASK_MODEL: {
    const int st = plan_model(l, n, in, first);
    if (st) return st;
    for (int i = 0; i < n_out && i < l->model->n_out; ++i) out[i] = l->model->out[i]->mask_from;
    break;
  }
  }
  return LOOM_OK;
}

/* [batch, steps] ones, in the run's arena */
static loom_tensor *all_valid(loom_ctx *cx, const loom_tensor *like) {
  loom_tensor *m = loom_tensor_new(loom_ctx_arena(cx), LOOM_F32, 2, like->shape);
  if (m)
    for (int64_t i = 0; i < m->size; ++i) loom_tensor_f32(m)[i] = 1.0f;
  return m;
}

int lm_mask_run(lm_call *c, loom_ctx *cx, loom_tensor *const *in_mask) {
  const loom_layer *l = c->layer;
  for (int i = 0; i < c->n_out; ++i) c->out[i]->mask = NULL;
  if (l->kind->mask == LM_MASK_MODEL) {
    for (int i = 0; i < c->n_out; ++i)
      if (c->out[i]->mask_from) c->out[i]->mask = l->model->out[i]->mask;
    return LOOM_OK;
  }
  if (!c->out[0]->mask_from) return LOOM_OK;
  bool given = false; /* none: a model planned with masks, run on its own without */
  for (int i = 0; i < c->n_in; ++i) given |= in_mask[i] != NULL;
  if (!given && l->kind->mask != LM_MASK_MAKE) return LOOM_OK;
  if (l->kind->mask == LM_MASK_SEQUENCE) { /* Bidirectional without merge: both outputs */
    for (int i = 0; i < c->n_out; ++i)
      if (c->out[i]->mask_from) c->out[i]->mask = in_mask[0];
    return LOOM_OK;
  }
  loom_tensor *m = NULL;
  switch (l->kind->mask) {
  case LM_MASK_KEEP:
  case LM_MASK_SEQUENCE: m = in_mask[0]; break;
  case LM_MASK_MAKE: m = l->kind->make_mask(l, cx, c->in[0]->value); break;
  case LM_MASK_MERGE:
    for (int i = 0; i < c->n_in; ++i)
      if (in_mask[i] && !(m = m ? loom_mask_or(cx, m, in_mask[i]) : in_mask[i])) break;
    break;
  case LM_MASK_CONCAT: { /* Keras: an unmasked input counts as all valid; joined along the
                          * steps, the masks are joined too */
    loom_tensor *ms[LOOM_MAX_IO];
    const int rank = c->out[0]->shape.rank, axis = l->o.misc.axis < 0 ? rank + l->o.misc.axis : l->o.misc.axis;
    for (int i = 0; i < c->n_in; ++i)
      if (!(ms[i] = in_mask[i] ? in_mask[i] : all_valid(cx, c->in[i]->value))) return lm_layer_fail(c->layer, LOOM_ENOMEM, "out of memory for its mask");
    if (axis == 1) {
      m = loom_concatenate(cx, c->n_in, ms, 1);
    } else {
      m = ms[0];
      for (int i = 1; i < c->n_in && m; ++i) m = loom_mask_or(cx, m, ms[i]);
    }
    break;
  }
  default: break;
  }
  if (!m)
    return lm_layer_fail(c->layer, loom_ctx_status(cx) ? loom_ctx_status(cx) : LOOM_ENOMEM, "its mask: %s",
                         loom_ctx_status(cx) ? loom_ctx_error(cx) : "out of memory");
  c->out[0]->mask = m;
  return LOOM_OK;
}
