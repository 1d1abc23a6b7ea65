/* model.c - Model(inputs, outputs): the calls between them, Keras' layer order, the
 * forward run, and the model used as a layer. */
#include <stdlib.h>
#include <string.h>

#include "lib/graph/model.h"
#include "lib/layers/kind.h"

void lm_model_free(loom_model *m) {
  loom_arena_free(m->fold_cache);
  free(m->order), free(m->fold), free(m->layers), free(m->weights), free(m->slot1), free(m->slot2);
  for (int i = 0; i < m->hist.n_keys; ++i) free(m->hist.values[i]);
  free(m->hist.values), free(m->hist.key);
  loom_ctx_free(m->cx);
  free(m);
}

/* ---------------------------------------------------------------- the model as a layer */

static int model_layer_build(loom_layer *l, int n, loom_node *const *in, int *n_out,
                             lm_shape *out, loom_dtype *dt) {
  loom_model *m = l->model;
  if (n != m->n_in)
    return lm_layer_fail(l, LOOM_EINVAL, "the model takes %d input%s, got %d", m->n_in,
                         m->n_in == 1 ? "" : "s", n);
  for (int i = 0; i < n; ++i) {
    const lm_shape *want = &m->in[i]->shape, *got = &in[i]->shape;
    bool fit = want->rank == got->rank && m->in[i]->dtype == in[i]->dtype;
    for (int k = 1; fit && k < want->rank; ++k)
      fit = want->d[k] == LOOM_NONE || want->d[k] == got->d[k];
    if (!fit) {
      char a[96], b[96];
      return lm_layer_fail(l, LOOM_ESHAPE, "input %d: expected %s %s, got %s %s", i,
                           m->in[i]->dtype == LOOM_I32 ? "int32" : "float32",
                           lm_shape_msg(want, a, sizeof a),
                           in[i]->dtype == LOOM_I32 ? "int32" : "float32",
                           lm_shape_msg(got, b, sizeof b));
    }
  }
  *n_out = m->n_out;
  for (int i = 0; i < m->n_out; ++i) out[i] = m->out[i]->shape, dt[i] = m->out[i]->dtype;
  return LOOM_OK;
}

static int model_layer_forward(loom_layer *l, const lm_run *run, int n, loom_tensor **in,
                               loom_tensor **out, loom_tensor **logits) {
  (void)n, (void)logits;
  loom_model *m = l->model;
  lm_run inner = *run;
  inner.want_logits = false;
  const int st = lm_model_run(m, &inner, in, NULL);
  for (int i = 0; i < m->n_out; ++i) out[i] = st ? NULL : m->out[i]->value;
  return st;
}

/* Made by loom_model_new and loom_sequential alone (their options are the model's, not a
 * config's). */
const lm_layer_kind lm_kind_functional = {.id = LM_KIND_FUNCTIONAL, .class_name = "Functional",
                                          .prefix = "model", .min_in = 1, .max_in = LOOM_MAX_IO,
                                          .build = model_layer_build, .forward = model_layer_forward, .mask = LM_MASK_MODEL};
const lm_layer_kind lm_kind_sequential = {.id = LM_KIND_SEQUENTIAL, .class_name = "Sequential",
                                          .prefix = "sequential", .min_in = 1, .max_in = 1,
                                          .build = model_layer_build, .forward = model_layer_forward, .mask = LM_MASK_MODEL};

loom_layer *loom_model_layer(loom_model *m) { return m ? m->layer : NULL; }

/* ---------------------------------------------------------------- construction */

typedef struct walk {
  loom_model *m;
  int *layer_index; /* per graph layer: traversal order, -1 unseen */
  int *call_depth;  /* per graph call: depth, -1 unseen */
  int *layer_depth; /* per graph layer */
  int n_finished;
  lm_call **finished; /* Keras' nodes_in_decreasing_depth */
  int next_index;
  bool ok;
} walk;

static int layer_slot(const loom_graph *g, const loom_layer *l) {
  for (int i = 0; i < g->n_layers; ++i)
    if (g->layers[i] == l) return i;
  return -1;
}

static bool is_model_input(const loom_model *m, const loom_node *x) {
  for (int i = 0; i < m->n_in; ++i)
    if (m->in[i] == x) return true;
  return false;
}

/* Keras' _build_map: depth-first from the outputs, a layer's index at first sight. */
static void build_map(walk *w, lm_call *c) {
  if (!w->ok || w->call_depth[c->id] != -1) return;
  loom_graph *g = w->m->g;
  const int ls = layer_slot(g, c->layer);
  if (w->layer_index[ls] < 0) w->layer_index[ls] = w->next_index++;
  w->call_depth[c->id] = -2; /* in progress */
  if (c->n_in == 0 && !is_model_input(w->m, c->out[0])) {
    lm_graph_fail(g, LOOM_EINVAL, "Model: graph disconnected: the outputs need input \"%s\", "
                  "which is not among the model's inputs", c->layer->name);
    w->ok = false;
    return;
  }
  if (!(c->n_in == 0 || is_model_input(w->m, c->out[0])))
    for (int i = 0; i < c->n_in; ++i) build_map(w, c->in[i]->call);
  w->call_depth[c->id] = 0;
  w->finished[w->n_finished++] = c;
}

/* Keras' model.layers order: deepest first, then by first sight. */
static bool before(const walk *w, int a, int b) {
  if (w->layer_depth[a] != w->layer_depth[b]) return w->layer_depth[a] > w->layer_depth[b];
  return w->layer_index[a] < w->layer_index[b];
}

/* Stable merge sort of v[0, n) with tmp[n]: qsort takes no context, and a static one would
 * make two threads building models race. */
static void sort_layers(const walk *w, int *v, int *tmp, int n) {
  if (n < 2) return;
  const int h = n / 2;
  sort_layers(w, v, tmp, h);
  sort_layers(w, v + h, tmp, n - h);
  int i = 0, j = h, k = 0;
  while (i < h && j < n) tmp[k++] = before(w, v[j], v[i]) ? v[j++] : v[i++];
  while (i < h) tmp[k++] = v[i++];
  while (j < n) tmp[k++] = v[j++];
  memcpy(v, tmp, sizeof *v * (size_t)n);
}

static bool push_weight(loom_model *m, loom_tensor *t, int *cap) {
  for (int i = 0; i < m->n_vars; ++i)
    if (m->weights[i] == t) return true;
  return lm_push(m->g, (void ***)&m->weights, &m->n_vars, cap, t);
}

/* The trainable weights (pass 0), then the state (pass 1). */
static bool collect_weights(loom_model *m, const loom_model *from, int *cap, bool trainable) {
  for (int i = 0; i < from->n_layers; ++i) {
    const loom_layer *l = from->layers[i];
    if (l->model && !collect_weights(m, l->model, cap, trainable)) return false;
    for (int k = 0; k < l->n_weights; ++k)
      if (l->w_trainable[k] == trainable && !push_weight(m, l->w[k], cap)) return false;
  }
  return true;
}

static bool order_model(loom_model *m) {
  loom_graph *g = m->g;
  const int nl = g->n_layers, nc = g->n_calls;
  walk w = {m, malloc(sizeof(int) * (size_t)nl), malloc(sizeof(int) * (size_t)nc),
            malloc(sizeof(int) * (size_t)nl), 0, malloc(sizeof(lm_call *) * (size_t)nc), 0, true};
  int *slots = malloc(sizeof(int) * (size_t)nl), *tmp = malloc(sizeof(int) * (size_t)nl);
  bool ok = w.layer_index && w.call_depth && w.layer_depth && w.finished && slots && tmp;
  if (!ok) lm_graph_fail(g, LOOM_ENOMEM, "out of memory");
  if (ok) {
    for (int i = 0; i < nl; ++i) w.layer_index[i] = -1, w.layer_depth[i] = -1;
    for (int i = 0; i < nc; ++i) w.call_depth[i] = -1;
    for (int i = 0; i < m->n_out && w.ok; ++i) build_map(&w, m->out[i]->call);
    for (int i = 0; i < m->n_in && w.ok; ++i) /* inputs no output needs: still layers */
      build_map(&w, m->in[i]->call);
    ok = w.ok;
  }
  if (ok) { /* Keras' depths: outputs 0, each parent one deeper than its deepest child */
    for (int i = w.n_finished - 1; i >= 0; --i) {
      lm_call *c = w.finished[i];
      const int ls = layer_slot(g, c->layer);
      int depth = w.call_depth[c->id];
      if (w.layer_depth[ls] > depth) depth = w.layer_depth[ls];
      w.layer_depth[ls] = depth;
      w.call_depth[c->id] = depth;
      if (!is_model_input(m, c->out[0]))
        for (int k = 0; k < c->n_in; ++k) {
          int *pd = &w.call_depth[c->in[k]->call->id];
          if (*pd < depth + 1) *pd = depth + 1;
        }
    }
    /* the calls to run: in creation order, which is topological */
    m->order = malloc(sizeof(lm_call *) * (size_t)w.n_finished);
    int n_slots = 0;
    for (int i = 0; i < nl; ++i)
      if (w.layer_index[i] >= 0) slots[n_slots++] = i;
    m->layers = malloc(sizeof(loom_layer *) * (size_t)(n_slots ? n_slots : 1));
    ok = m->order && m->layers;
    if (!ok) lm_graph_fail(g, LOOM_ENOMEM, "out of memory");
    if (ok) {
      for (int id = 0; id < nc; ++id)
        if (w.call_depth[id] >= 0) m->order[m->n_order++] = g->calls[id];
      sort_layers(&w, slots, tmp, n_slots);
      for (int i = 0; i < n_slots; ++i) m->layers[m->n_layers++] = g->layers[slots[i]];
      /* Keras prints a functional model without connections when every depth holds
       * one call with at most one input and no layer is called twice */
      m->sequential_like = true;
      for (int i = 0; i < m->n_order && m->sequential_like; ++i) {
        const lm_call *c = m->order[i];
        if (c->n_in > 1) m->sequential_like = false;
        for (int j = 0; j < i; ++j)
          if (w.call_depth[m->order[j]->id] == w.call_depth[c->id] || m->order[j]->layer == c->layer)
            m->sequential_like = false;
      }
      int cap = 0;
      ok = collect_weights(m, m, &cap, true);
      m->n_weights = m->n_vars;
      ok = ok && collect_weights(m, m, &cap, false);
    }
  }
  free(w.layer_index), free(w.call_depth), free(w.layer_depth), free(w.finished), free(slots), free(tmp);
  return ok;
}

bool lm_model_reorder(loom_model *m, loom_node *out) {
  free(m->order), free(m->fold), free(m->layers), free(m->weights);
  m->order = NULL, m->fold = NULL, m->layers = NULL, m->weights = NULL;
  m->n_order = m->n_layers = m->n_weights = m->n_vars = 0;
  m->out[0] = out;
  return order_model(m) && lm_model_plan_folds(m);
}

loom_model *loom_model_new(loom_graph *g, const loom_model_opts *o) {
  if (!g) {
    lm_error(LOOM_EINVAL, "loom_model_new", "graph is NULL");
    return NULL;
  }
  if (!o) {
    lm_graph_fail(g, LOOM_EINVAL, "Model: options are NULL");
    return NULL;
  }
  return lm_model_make(g, o, &lm_kind_functional);
}

loom_model *lm_model_make(loom_graph *g, const loom_model_opts *o, const lm_layer_kind *kind) {
  loom_model *m = calloc(1, sizeof *m);
  if (!m) {
    lm_graph_fail(g, LOOM_ENOMEM, "out of memory");
    return NULL;
  }
  m->g = g;
  bool ok = true;
  for (int i = 0; i < LOOM_MAX_IO && o->inputs[i]; ++i) m->in[m->n_in++] = o->inputs[i];
  for (int i = 0; i < LOOM_MAX_IO && o->outputs[i]; ++i) m->out[m->n_out++] = o->outputs[i];
  if (!m->n_in || !m->n_out) {
    lm_graph_fail(g, LOOM_EINVAL, "Model: needs at least one input and one output (got %d and "
                  "%d; a NULL ends each list, so an earlier error shows here)", m->n_in, m->n_out);
    ok = false;
  }
  for (int i = 0; ok && i < m->n_in; ++i) {
    const lm_call *c = m->in[i]->call;
    if (c->layer->g != g || !(lm_is_input_layer(c->layer) || c->n_in == 0)) {
      lm_graph_fail(g, LOOM_EINVAL, "Model: input %d is not an Input of this graph (it comes "
                    "out of \"%s\")", i, c->layer->name);
      ok = false;
    }
    for (int j = 0; ok && j < i; ++j)
      if (m->in[j] == m->in[i]) {
        lm_graph_fail(g, LOOM_EINVAL, "Model: input \"%s\" is given twice", c->layer->name);
        ok = false;
      }
  }
  for (int i = 0; ok && i < m->n_out; ++i)
    if (m->out[i]->call->layer->g != g) {
      lm_graph_fail(g, LOOM_EINVAL, "Model: output %d belongs to another graph", i);
      ok = false;
    }
  ok = ok && order_model(m) && lm_model_plan_folds(m);
  if (ok) {
    m->layer = lm_layer_new(g, kind, o->name);
    ok = m->layer != NULL;
  }
  if (ok) {
    m->layer->model = m;
    m->layer->built = true;
    ok = lm_push(g, (void ***)&g->models, &g->n_models, &g->cap_models, m);
  }
  if (!ok) {
    lm_model_free(m);
    return NULL;
  }
  return m;
}

/* ---------------------------------------------------------------- run */

int lm_model_run(loom_model *m, const lm_run *run, loom_tensor *const *in, const bool *want_logits) {
  const bool fuse = !m->g->no_bn_fold, fold = fuse && !run->training;
  for (int i = 0; i < m->n_order; ++i) {
    lm_call *c = m->order[i];
    loom_node *first = c->out[0];
    first->logits = NULL;
    first->mask = NULL;
    if ((fuse && m->fold[i].fused) || (fold && m->fold[i].folded)) continue; /* done by an earlier call */
    int in_i = -1;
    for (int k = 0; k < m->n_in; ++k)
      if (m->in[k] == first) in_i = k;
    if (in_i >= 0) {
      first->value = in[in_i];
      first->mask = run->mask ? run->mask[in_i] : NULL; /* a nested model's masked inputs */
      continue;
    }
    loom_tensor *xs[LOOM_MAX_IO], *ys[LOOM_MAX_IO] = {0}, *zs[LOOM_MAX_IO] = {0}, *ms[LOOM_MAX_IO];
    bool masked = false;
    for (int k = 0; k < c->n_in; ++k) {
      xs[k] = c->in[k]->value;
      ms[k] = c->in[k]->mask_from ? c->in[k]->mask : NULL;
      masked |= ms[k] != NULL;
    }
    lm_run r = *run;
    r.mask = masked ? ms : NULL;
    r.want_logits = false;
    lm_fold fd;
    r.fold = NULL;
    r.relu_after = fuse && m->fold[i].relu >= 0;
    if (fold && m->fold[i].bn >= 0) {
      const int st = lm_fold_prepare(m, i, run->cx, &fd);
      if (st) return lm_graph_fail(m->g, st, "%s: %s", c->layer->name, loom_ctx_error(run->cx));
      r.fold = &fd;
    }
    for (int k = 0; want_logits && k < m->n_out; ++k)
      if (m->out[k] == first && want_logits[k]) r.want_logits = true;
    const int st = c->layer->kind->forward(c->layer, &r, c->n_in, xs, ys, zs);
    if (st || !ys[0]) {
      const int s = st ? st : loom_ctx_status(run->cx);
      lm_graph_fail(m->g, s ? s : LOOM_EINVAL, "%s: %s", c->layer->name,
                    loom_ctx_status(run->cx) ? loom_ctx_error(run->cx) : m->g->err);
      return s ? s : LOOM_EINVAL;
    }
    for (int k = 0; k < c->n_out; ++k) c->out[k]->value = ys[k], c->out[k]->logits = zs[k];
    if (lm_mask_run(c, run->cx, ms)) return m->g->status;
    if (r.fold) {
      m->order[m->fold[i].bn]->out[0]->value = ys[0];
      if (m->fold[i].act >= 0) m->order[m->fold[i].act]->out[0]->value = ys[0];
    } else if (r.relu_after) {
      m->order[m->fold[i].relu]->out[0]->value = ys[0];
    }
  }
  return LOOM_OK;
}

/* ---------------------------------------------------------------- queries */

loom_layer *loom_model_get_layer(loom_model *m, const char *name) {
  if (!m || !name) return NULL;
  for (int i = 0; i < m->n_layers; ++i)
    if (!strcmp(m->layers[i]->name, name)) return m->layers[i];
  lm_graph_fail(m->g, LOOM_EINVAL, "model \"%s\" has no layer \"%s\"", m->layer->name, name);
  return NULL;
}

int loom_model_num_inputs(const loom_model *m) { return m ? m->n_in : 0; }
int loom_model_num_outputs(const loom_model *m) { return m ? m->n_out : 0; }
const char *loom_model_input_name(const loom_model *m, int i) {
  return m && i >= 0 && i < m->n_in ? m->in[i]->call->layer->name : NULL;
}
const char *loom_model_output_name(const loom_model *m, int i) {
  return m && i >= 0 && i < m->n_out ? m->out[i]->call->layer->name : NULL;
}

int64_t lm_layer_count_params(const loom_layer *l, bool trainable_only) {
  if (l->model) return loom_model_count_params(l->model, trainable_only);
  int64_t n = 0;
  for (int k = 0; k < l->n_weights; ++k)
    if (l->w_trainable[k] || !trainable_only) n += l->w[k]->size;
  return n;
}

int64_t loom_model_count_params(const loom_model *m, bool trainable_only) {
  if (!m) return 0;
  int64_t n = 0;
  for (int i = 0; i < (trainable_only ? m->n_weights : m->n_vars); ++i) n += m->weights[i]->size;
  return n;
}
