/* graph.c - the graph: errors, names, layers, calls, Input, and applying a layer. */
#include <stdlib.h>
#include <string.h>

#include "lib/graph/graph.h"
#include "lib/graph/model.h"
#include "lib/layers/kind.h"

loom_graph *loom_graph_new(uint64_t seed) {
  loom_graph *g = calloc(1, sizeof *g);
  if (!g) {
    lm_error(LOOM_ENOMEM, "loom_graph_new", "out of memory");
    return NULL;
  }
  g->params = loom_arena_new(NULL);
  if (!g->params) {
    free(g);
    return NULL;
  }
  g->seed = seed;
  lm_rng_seed(&g->rng, seed);
  return g;
}

void loom_graph_free(loom_graph *g) {
  if (!g) return;
  for (int i = 0; i < g->n_models; ++i) lm_model_free(g->models[i]);
  for (int i = 0; i < g->n_layers; ++i) {
    free(g->layers[i]->calls);
    free(g->layers[i]);
  }
  for (int i = 0; i < g->n_calls; ++i) {
    for (int j = 0; j < g->calls[i]->n_out; ++j) free(g->calls[i]->out[j]);
    free(g->calls[i]);
  }
  free(g->layers), free(g->calls), free(g->models);
  loom_arena_free(g->params);
  free(g);
}

const char *loom_graph_error(const loom_graph *g) { return g ? g->err : "graph is NULL"; }
loom_status loom_graph_status(const loom_graph *g) { return g ? g->status : LOOM_EINVAL; }
void loom_graph_clear_error(loom_graph *g) {
  if (g) g->status = LOOM_OK, g->err[0] = '\0';
}

static int vfail(loom_graph *g, int status, const char *where, const char *fmt, va_list ap) {
  lm_verror(status, where, fmt, ap);
  if (g && g->status == LOOM_OK) {
    g->status = status;
    lm_error_copy(g->err, sizeof g->err);
  }
  return status;
}

int lm_graph_fail(loom_graph *g, int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfail(g, status, "loom", fmt, ap);
  va_end(ap);
  return status;
}

int lm_layer_fail(loom_layer *l, int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfail(l->g, status, l->name, fmt, ap);
  va_end(ap);
  return status;
}

bool lm_push(loom_graph *g, void ***arr, int *n, int *cap, void *p) {
  if (*n == *cap) {
    const int nc = *cap ? *cap * 2 : 16;
    void **na = realloc(*arr, (size_t)nc * sizeof *na);
    if (!na) {
      lm_graph_fail(g, LOOM_ENOMEM, "out of memory");
      return false;
    }
    *arr = na, *cap = nc;
  }
  (*arr)[(*n)++] = p;
  return true;
}

static bool name_used(const loom_graph *g, const char *name) {
  for (int i = 0; i < g->n_layers; ++i)
    if (!strcmp(g->layers[i]->name, name)) return true;
  return false;
}

/* Keras' unique names: prefix, prefix_1, ... (input_1, input_2, ... for inputs). */
static void auto_name(const loom_graph *g, const char *prefix, bool one_based, char *out,
                      size_t cap) {
  for (int k = one_based ? 1 : 0;; ++k) {
    if (k == 0) snprintf(out, cap, "%s", prefix);
    else snprintf(out, cap, "%s_%d", prefix, k);
    if (!name_used(g, out)) return;
  }
}

loom_layer *lm_layer_new(loom_graph *g, const lm_layer_kind *k, const char *name) {
  if (!g) {
    lm_error(LOOM_EINVAL, k->prefix, "graph is NULL");
    return NULL;
  }
  if (name && (!*name || strlen(name) >= sizeof ((loom_layer *)0)->name)) {
    lm_graph_fail(g, LOOM_EINVAL, "layer name \"%s\" must have 1 to 63 characters", name);
    return NULL;
  }
  if (name && name_used(g, name)) {
    lm_graph_fail(g, LOOM_EINVAL, "a layer named \"%s\" exists already: names must be unique",
                  name);
    return NULL;
  }
  loom_layer *l = calloc(1, sizeof *l);
  if (!l) {
    lm_graph_fail(g, LOOM_ENOMEM, "out of memory");
    return NULL;
  }
  l->g = g;
  l->kind = k;
  if (name) snprintf(l->name, sizeof l->name, "%s", name);
  else auto_name(g, k->prefix, k->min_in == 0, l->name, sizeof l->name);
  if (!lm_push(g, (void ***)&g->layers, &g->n_layers, &g->cap_layers, l)) {
    free(l);
    return NULL;
  }
  return l;
}

static loom_tensor *add_variable(loom_layer *l, const char *name, int rank, const int64_t *shape,
                                 bool trainable) {
  loom_tensor *t = loom_tensor_new(l->g->params, LOOM_F32, rank, shape);
  if (!t) {
    lm_layer_fail(l, LOOM_ENOMEM, "cannot allocate %s: %s", name, loom_arena_error(l->g->params));
    return NULL;
  }
  loom_tensor_set_requires_grad(t, trainable);
  l->w[l->n_weights] = t;
  l->w_trainable[l->n_weights] = trainable;
  l->w_name[l->n_weights++] = name;
  return t;
}

loom_tensor *lm_layer_add_weight(loom_layer *l, const char *name, int rank, const int64_t *shape) {
  return add_variable(l, name, rank, shape, true);
}

loom_tensor *lm_layer_add_state(loom_layer *l, const char *name, int rank, const int64_t *shape) {
  return add_variable(l, name, rank, shape, false);
}

lm_call *lm_call_new(loom_layer *l, int n_in, loom_node *const *in, int n_out,
                     const lm_shape *shape, const loom_dtype *dtype) {
  loom_graph *g = l->g;
  lm_call *c = calloc(1, sizeof *c);
  if (!c) {
    lm_graph_fail(g, LOOM_ENOMEM, "out of memory");
    return NULL;
  }
  c->layer = l;
  c->n_in = n_in;
  c->n_out = n_out;
  for (int i = 0; i < n_in; ++i) c->in[i] = in[i];
  int made = 0;
  for (; made < n_out; ++made) {
    loom_node *x = calloc(1, sizeof *x);
    if (!x) break;
    x->call = c, x->index = made, x->shape = shape[made], x->dtype = dtype[made];
    c->out[made] = x;
  }
  if (made < n_out || !lm_push(g, (void ***)&l->calls, &l->n_calls, &l->cap_calls, c)) {
    for (int i = 0; i < made; ++i) free(c->out[i]);
    free(c);
    lm_graph_fail(g, LOOM_ENOMEM, "out of memory");
    return NULL;
  }
  c->index = l->n_calls - 1;
  c->id = g->n_calls;
  if (!lm_push(g, (void ***)&g->calls, &g->n_calls, &g->cap_calls, c)) {
    l->n_calls--;
    for (int i = 0; i < n_out; ++i) free(c->out[i]);
    free(c);
    return NULL;
  }
  return c;
}

/* ---------------------------------------------------------------- Input */

/* Made by loom_input alone: no options, no build, no forward (the model feeds it). */
const lm_layer_kind lm_kind_input_layer = {.id = LM_KIND_INPUT_LAYER, .class_name = "InputLayer",
                                           .prefix = "input"};

loom_node *loom_input(loom_graph *g, const loom_input_opts *o) {
  if (!g) {
    lm_error(LOOM_EINVAL, "loom_input", "graph is NULL");
    return NULL;
  }
  if (!o) {
    lm_graph_fail(g, LOOM_EINVAL, "loom_input: options are NULL");
    return NULL;
  }
  lm_shape s = {1, {LOOM_NONE}};
  for (int i = 0; i < LOOM_MAX_RANK - 1 && o->shape[i]; ++i) {
    if (o->shape[i] < LOOM_NONE) {
      lm_graph_fail(g, LOOM_ESHAPE, "Input: dim %d is %lld (a size > 0, or LOOM_NONE)", i,
                    (long long)o->shape[i]);
      return NULL;
    }
    s.d[s.rank++] = o->shape[i];
  }
  const loom_dtype dt = o->dtype ? o->dtype : LOOM_F32;
  if (dt != LOOM_F32 && dt != LOOM_I32) {
    lm_graph_fail(g, LOOM_EDTYPE, "Input: dtype %d is neither LOOM_F32 nor LOOM_I32", (int)dt);
    return NULL;
  }
  loom_layer *l = lm_layer_new(g, &lm_kind_input_layer, o->name);
  if (!l) return NULL;
  l->built = true;
  lm_call *c = lm_call_new(l, 0, NULL, 1, &s, &dt);
  return c ? c->out[0] : NULL;
}

bool lm_is_input_layer(const loom_layer *l) { return l->kind == &lm_kind_input_layer; }

/* ---------------------------------------------------------------- calls */

int loom_call_outputs(loom_layer *l, int n, loom_node *const *xs, int cap, loom_node **out) {
  if (!l) return lm_error(LOOM_EINVAL, "loom_call", "layer is NULL (an earlier error?)");
  loom_graph *g = l->g;
  const lm_layer_kind *k = l->kind;
  if (!k->build) return lm_layer_fail(l, LOOM_EINVAL, "an Input cannot be called");
  if (l->wrapper)
    return lm_layer_fail(l, LOOM_EINVAL, "is wrapped by %s \"%s\" and runs only inside it", l->wrapper->kind->class_name,
                         l->wrapper->name);
  if (n < k->min_in || n > k->max_in || !xs) {
    if (k->min_in == k->max_in)
      return lm_layer_fail(l, LOOM_EINVAL, "takes %d input%s, got %d", k->min_in,
                           k->min_in == 1 ? "" : "s", n);
    return lm_layer_fail(l, LOOM_EINVAL, "takes %d to %d inputs, got %d", k->min_in, k->max_in, n);
  }
  for (int i = 0; i < n; ++i) {
    if (!xs[i]) return lm_layer_fail(l, LOOM_EINVAL, "input %d is NULL (an earlier error?)", i);
    if (xs[i]->call->layer->g != g)
      return lm_layer_fail(l, LOOM_EINVAL, "input %d belongs to another graph", i);
  }
  const loom_layer *mask_from[LOOM_MAX_IO];
  int st = lm_mask_plan(l, n, xs, LOOM_MAX_IO, mask_from);
  if (st) return st;
  int n_out = 1;
  lm_shape shape[LOOM_MAX_IO];
  loom_dtype dtype[LOOM_MAX_IO];
  for (int i = 0; i < LOOM_MAX_IO; ++i) dtype[i] = LOOM_F32;
  if ((st = k->build(l, n, xs, &n_out, shape, dtype))) return st;
  l->built = true;
  lm_call *c = lm_call_new(l, n, xs, n_out, shape, dtype);
  if (!c) return g->status;
  for (int i = 0; i < n_out; ++i) c->out[i]->mask_from = mask_from[i];
  for (int i = 0; i < n_out && i < cap; ++i) out[i] = c->out[i];
  return n_out;
}

loom_node *loom_call_n(loom_layer *l, int n, loom_node *const *xs) {
  loom_node *out[LOOM_MAX_IO];
  const int k = loom_call_outputs(l, n, xs, LOOM_MAX_IO, out);
  if (k < 0) return NULL;
  if (k != 1) {
    lm_layer_fail(l, LOOM_EINVAL, "has %d outputs: take them with loom_call_outputs", k);
    return NULL;
  }
  return out[0];
}

loom_node *loom_call(loom_layer *l, loom_node *x) { return loom_call_n(l, 1, &x); }

bool loom_node_has_mask(const loom_node *x) { return x && x->mask_from; }

int loom_node_shape(const loom_node *x, int64_t shape[LOOM_MAX_RANK]) {
  if (!x) return lm_error(LOOM_EINVAL, "loom_node_shape", "node is NULL");
  for (int i = 0; i < x->shape.rank; ++i) shape[i] = x->shape.d[i];
  return x->shape.rank;
}

const char *loom_layer_name(const loom_layer *l) { return l ? l->name : NULL; }

loom_tensor *loom_layer_weight(loom_layer *l, const char *name) {
  if (!l || !name) return NULL;
  for (int i = 0; i < l->n_weights; ++i)
    if (!strcmp(l->w_name[i], name)) return l->w[i];
  return NULL;
}

/* ---------------------------------------------------------------- shapes */

const char *lm_shape_py(const lm_shape *s, bool list, char *buf, size_t cap) {
  size_t k = (size_t)snprintf(buf, cap, "%s(", list ? "[" : "");
  for (int i = 0; i < s->rank && k < cap; ++i) {
    if (s->d[i] == LOOM_NONE) k += (size_t)snprintf(buf + k, cap - k, "%sNone", i ? ", " : "");
    else k += (size_t)snprintf(buf + k, cap - k, "%s%lld", i ? ", " : "", (long long)s->d[i]);
  }
  if (k < cap) snprintf(buf + k, cap - k, "%s)%s", s->rank == 1 ? "," : "", list ? "]" : "");
  return buf;
}

const char *lm_shape_msg(const lm_shape *s, char *buf, size_t cap) {
  size_t k = (size_t)snprintf(buf, cap, "[");
  for (int i = 0; i < s->rank && k < cap; ++i) {
    if (s->d[i] == LOOM_NONE) k += (size_t)snprintf(buf + k, cap - k, "%sNone", i ? ", " : "");
    else k += (size_t)snprintf(buf + k, cap - k, "%s%lld", i ? ", " : "", (long long)s->d[i]);
  }
  if (k < cap) snprintf(buf + k, cap - k, "]");
  return buf;
}

int64_t lm_shape_sample_size(const lm_shape *s) {
  int64_t n = 1;
  for (int i = 1; i < s->rank; ++i) {
    if (s->d[i] == LOOM_NONE) return -1;
    n *= s->d[i];
  }
  return n;
}
