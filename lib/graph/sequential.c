/* sequential.c - Keras' Sequential: a model whose layers each take the output of the one
 * before, with add() and pop(). It is a model like any other (kind Sequential, so that
 * summaries and configs say so). */
#include <string.h>

#include "lib/graph/model.h"
#include "lib/layers/kind.h"

static bool is_sequential(const loom_model *m) { return m && m->layer && m->layer->kind == &lm_kind_sequential; }

loom_model *loom_sequential(loom_graph *g, const loom_sequential_opts *o) {
  if (!g) {
    lm_error(LOOM_EINVAL, "loom_sequential", "graph is NULL");
    return NULL;
  }
  if (!o) {
    lm_graph_fail(g, LOOM_EINVAL, "Sequential: options are NULL");
    return NULL;
  }
  const char *name = o->name ? o->name : "(unnamed)";
  if (!o->input.shape[0]) {
    lm_graph_fail(g, LOOM_EINVAL, "Sequential \"%.63s\": needs .input = {.shape = {...}}, the sample "
                  "shape (Keras' Input as the first layer)", name);
    return NULL;
  }
  loom_node *in = loom_input(g, &o->input), *h = in;
  for (int i = 0; h && i < LOOM_MAX_SEQUENTIAL && o->layers[i]; ++i) {
    h = loom_call(o->layers[i], h);
    if (!h) return NULL; /* the call's error names the layer */
  }
  if (!h) return NULL;
  return lm_model_make(g, &(loom_model_opts){.inputs = {in}, .outputs = {h}, .name = o->name}, &lm_kind_sequential);
}

/* add and pop: a Sequential model whose layers may still change */
static int changeable(loom_model *m, const char *what) {
  if (!m) return lm_error(LOOM_EINVAL, what, "model is NULL");
  if (!is_sequential(m))
    return lm_graph_fail(m->g, LOOM_EINVAL, "%s: model \"%s\" is %s, not Sequential", what, m->layer->name,
                         m->layer->kind->class_name);
  if (m->compiled || m->layer->n_calls)
    return lm_graph_fail(m->g, LOOM_EINVAL, "%s: Sequential \"%s\" is %s; change its layers before", what,
                         m->layer->name, m->compiled ? "compiled" : "used as a layer");
  return LOOM_OK;
}

loom_status loom_sequential_add(loom_model *m, loom_layer *layer) {
  static const char what[] = "loom_sequential_add";
  const int st = changeable(m, what);
  if (st) return st;
  if (!layer)
    return lm_graph_fail(m->g, LOOM_EINVAL, "%s: Sequential \"%s\": layer is NULL (an earlier error?)", what,
                         m->layer->name);
  loom_node *before = m->out[0], *y = loom_call(layer, before);
  if (!y) return m->g->status; /* names the layer */
  if (!lm_model_reorder(m, y)) {
    lm_model_reorder(m, before);
    return m->g->status;
  }
  return LOOM_OK;
}

loom_status loom_sequential_pop(loom_model *m) {
  static const char what[] = "loom_sequential_pop";
  const int st = changeable(m, what);
  if (st) return st;
  loom_node *last = m->out[0];
  if (last == m->in[0])
    return lm_graph_fail(m->g, LOOM_EINVAL, "%s: Sequential \"%s\" has no layers to pop", what, m->layer->name);
  return lm_model_reorder(m, last->call->in[0]) ? LOOM_OK : m->g->status;
}
