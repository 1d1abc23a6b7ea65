/* config.c - the architecture of a model as JSON, and a model rebuilt from it. */
#include <stdlib.h>
#include <string.h>

#include "lib/io/config.h"
#include "lib/layers/kind.h"
#include "lib/train/optimizer.h"
#include "ops/ops.h"

/* 2: layers as {"class_name", "name", "config" in Keras' keys}, the optimiser by name;
 * files of version 1 still load. */
#define LM_CONFIG_VERSION 2

/* ---------------------------------------------------------------- what a model holds */

/* The calls a model runs, its nested models' included, in creation order. */
typedef struct saved_calls {
  int n;
  lm_call **call;
  int *pos; /* per graph call id: position in call[], or -1 */
} saved_calls;

static void mark_calls(const loom_model *m, int *pos) {
  for (int i = 0; i < m->n_order; ++i) {
    pos[m->order[i]->id] = 0;
    if (m->order[i]->layer->model) mark_calls(m->order[i]->layer->model, pos);
  }
}

static bool collect(loom_model *m, saved_calls *s) {
  loom_graph *g = m->g;
  s->pos = malloc(sizeof(int) * (size_t)(g->n_calls + 1));
  s->call = malloc(sizeof(lm_call *) * (size_t)(g->n_calls + 1));
  if (!s->pos || !s->call) return false;
  for (int i = 0; i < g->n_calls; ++i) s->pos[i] = -1;
  mark_calls(m, s->pos);
  s->n = 0;
  for (int i = 0; i < g->n_calls; ++i)
    if (s->pos[i] == 0) s->pos[i] = s->n, s->call[s->n++] = g->calls[i];
  return true;
}

static cJSON *node_ref(const saved_calls *s, const loom_node *x) {
  const int ref[2] = {s->pos[x->call->id], x->index};
  return cJSON_CreateIntArray(ref, 2);
}


/* ---------------------------------------------------------------- writing */

static cJSON *refs(const saved_calls *s, loom_node *const *nodes, int n) {
  cJSON *a = cJSON_CreateArray();
  for (int i = 0; i < n; ++i) cJSON_AddItemToArray(a, node_ref(s, nodes[i]));
  return a;
}

static const char *loss_name(lm_loss_kind k) {
  static const char *names[] = {"", "mse", "mae", "binary_crossentropy", "categorical_crossentropy",
                                "sparse_categorical_crossentropy"};
  return names[k];
}

static cJSON *compile_config(const loom_model *m) {
  cJSON *c = cJSON_CreateObject(), *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "name", lm_optimizer_name(m->opt.kind));
  cJSON_AddNumberToObject(o, "learning_rate", m->opt.learning_rate);
  cJSON_AddNumberToObject(o, "momentum", m->opt.momentum);
  cJSON_AddNumberToObject(o, "rho", m->opt.rho);
  cJSON_AddNumberToObject(o, "beta_1", m->opt.beta_1);
  cJSON_AddNumberToObject(o, "beta_2", m->opt.beta_2);
  cJSON_AddNumberToObject(o, "epsilon", m->opt.epsilon);
  cJSON_AddBoolToObject(o, "nesterov", m->opt.nesterov);
  cJSON_AddItemToObject(c, "optimizer", o);
  cJSON *losses = cJSON_CreateArray(), *weights = cJSON_CreateArray(), *metrics = cJSON_CreateArray();
  for (int i = 0; i < m->n_out; ++i) {
    cJSON_AddItemToArray(losses, cJSON_CreateString(loss_name(m->spec[i].loss)));
    cJSON_AddItemToArray(weights, cJSON_CreateNumber(m->spec[i].weight));
    const char *names[LM_MAX_METRICS];
    for (int k = 0; k < m->spec[i].n_metrics; ++k) names[k] = m->spec[i].metric_name[k];
    cJSON_AddItemToArray(metrics, cJSON_CreateStringArray(names, m->spec[i].n_metrics));
  }
  cJSON_AddItemToObject(c, "losses", losses);
  cJSON_AddItemToObject(c, "loss_weights", weights);
  cJSON_AddItemToObject(c, "metrics", metrics);
  return c;
}

char *lm_config_write(loom_model *m) {
  saved_calls s = {0};
  if (!collect(m, &s)) {
    free(s.pos), free(s.call);
    lm_graph_fail(m->g, LOOM_ENOMEM, "save: out of memory");
    return NULL;
  }
  cJSON *root = cJSON_CreateObject(), *layers = cJSON_CreateArray(), *calls = cJSON_CreateArray();
  cJSON *models = cJSON_CreateArray();
  cJSON_AddNumberToObject(root, "loom_config", LM_CONFIG_VERSION);
  cJSON_AddStringToObject(root, "name", m->layer->name);
  cJSON_AddStringToObject(root, "class_name", m->layer->kind->class_name);
  for (int i = 0; i < s.n; ++i) { /* layers at their first call */
    const lm_call *c = s.call[i];
    const loom_layer *l = c->layer;
    bool first = true;
    for (int j = 0; j < i && first; ++j) first = s.call[j]->layer != l;
    if (first && l->model) { /* a nested model: its inputs and outputs as node refs */
      cJSON *nm = cJSON_CreateObject();
      cJSON_AddStringToObject(nm, "name", l->name);
      cJSON_AddStringToObject(nm, "class_name", l->kind->class_name);
      cJSON_AddItemToObject(nm, "inputs", refs(&s, l->model->in, l->model->n_in));
      cJSON_AddItemToObject(nm, "outputs", refs(&s, l->model->out, l->model->n_out));
      cJSON_AddItemToArray(models, nm);
    } else if (first && !lm_is_input_layer(l)) {
      cJSON *lj = cJSON_CreateObject();
      cJSON_AddStringToObject(lj, "class_name", l->kind->class_name);
      cJSON_AddStringToObject(lj, "name", l->name);
      cJSON_AddItemToObject(lj, "config", lm_layer_config(l));
      cJSON_AddItemToArray(layers, lj);
    }
    cJSON *cj = cJSON_CreateObject();
    cJSON_AddStringToObject(cj, "layer", l->name);
    if (lm_is_input_layer(l)) {
      const lm_shape *sh = &c->out[0]->shape;
      cJSON *shape = cJSON_CreateArray();
      for (int k = 1; k < sh->rank; ++k) cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)sh->d[k]));
      cJSON_AddItemToObject(cj, "input_shape", shape);
      cJSON_AddStringToObject(cj, "dtype", c->out[0]->dtype == LOOM_I32 ? "int32" : "float32");
    } else {
      cJSON_AddItemToObject(cj, "inbound", refs(&s, c->in, c->n_in));
    }
    cJSON_AddItemToArray(calls, cj);
  }
  cJSON_AddItemToObject(root, "layers", layers);
  cJSON_AddItemToObject(root, "calls", calls);
  cJSON_AddItemToObject(root, "models", models);
  cJSON_AddItemToObject(root, "inputs", refs(&s, m->in, m->n_in));
  cJSON_AddItemToObject(root, "outputs", refs(&s, m->out, m->n_out));
  if (m->compiled) cJSON_AddItemToObject(root, "compile", compile_config(m));
  char *text = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  free(s.pos), free(s.call);
  if (!text) lm_graph_fail(m->g, LOOM_ENOMEM, "save: out of memory writing the config");
  return text;
}

/* ---------------------------------------------------------------- reading */

typedef struct reader {
  const char *where;
  bool ok;
} reader;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void bad(reader *r, const char *fmt, ...) {
  if (!r->ok) return;
  char msg[LM_ERRMSG_CAP];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  lm_error(LOOM_EINVAL, r->where, "config: %s", msg);
  r->ok = false;
}

/* An integer field in [lo, hi]; dflt when absent and optional. */
static int get_int(reader *r, const cJSON *o, const char *key, int lo, int hi, bool optional, int dflt) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  if (!v && optional) return dflt;
  const double d = cJSON_IsNumber(v) ? cJSON_GetNumberValue(v) : 0.5;
  if (!cJSON_IsNumber(v) || d != (double)(long long)d || d < lo || d > hi) {
    bad(r, "\"%s\" must be an integer in [%d, %d]", key, lo, hi);
    return lo;
  }
  return (int)d;
}

static float get_float(reader *r, const cJSON *o, const char *key, double lo, double hi) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  if (!cJSON_IsNumber(v) || !(cJSON_GetNumberValue(v) >= lo && cJSON_GetNumberValue(v) <= hi)) {
    bad(r, "\"%s\" must be a number in [%g, %g]", key, lo, hi);
    return (float)lo;
  }
  return (float)cJSON_GetNumberValue(v);
}

static bool get_bool(reader *r, const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  if (!cJSON_IsBool(v)) bad(r, "\"%s\" must be true or false", key);
  return cJSON_IsTrue(v);
}

static const char *get_str(reader *r, const cJSON *o, const char *key) {
  const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
  if (!s) bad(r, "\"%s\" must be a string", key);
  return s ? s : "";
}

/* Layers and calls a file may hold (Xception has 132 layers): names are matched by
 * linear search, so this bounds a hostile file's cost. */
#define LM_MAX_FILE_LAYERS 10000

/* A layer entry: {"class_name": "Dense", "name": "dense", "config": {...}} (loom_config
 * 1 wrote "class"). */
static loom_layer *make_layer(reader *r, loom_graph *g, const cJSON *lj) {
  const cJSON *cls_item = cJSON_GetObjectItemCaseSensitive(lj, "class_name");
  const char *cls = get_str(r, lj, cls_item ? "class_name" : "class"), *name = get_str(r, lj, "name");
  if (!r->ok) return NULL;
  const lm_layer_kind *k = lm_kind_find(cls);
  if (!k) {
    bad(r, "layer \"%s\": unknown layer class \"%s\"", name, cls);
    return NULL;
  }
  loom_layer *l = lm_layer_from_config(g, k, cJSON_GetObjectItemCaseSensitive(lj, "config"), name, r->where);
  if (!l) r->ok = false; /* the message names the layer and the key */
  return l;
}

/* The node a [call position, output index] pair names, among the first `made` calls. */
static loom_node *get_ref(reader *r, const cJSON *ref, lm_call *const *made, int n_made) {
  const cJSON *a = cJSON_GetArrayItem(ref, 0), *b = cJSON_GetArrayItem(ref, 1);
  const double p = cJSON_IsNumber(a) ? cJSON_GetNumberValue(a) : -1;
  const double k = cJSON_IsNumber(b) ? cJSON_GetNumberValue(b) : -1;
  if (!cJSON_IsArray(ref) || cJSON_GetArraySize(ref) != 2 || p != (double)(int)p || p < 0 ||
      p >= n_made || k != (double)(int)k || k < 0 || k >= made[(int)p]->n_out) {
    bad(r, "a node reference must be [an earlier call, one of its outputs]");
    return NULL;
  }
  return made[(int)p]->out[(int)k];
}

static int get_refs(reader *r, const cJSON *arr, lm_call *const *made, int n_made, loom_node **out,
                    const char *what) {
  const int n = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : -1;
  if (n < 0 || n > LOOM_MAX_IO) {
    bad(r, "\"%s\" must be an array of at most %d node references", what, LOOM_MAX_IO);
    return 0;
  }
  for (int i = 0; i < n && r->ok; ++i) out[i] = get_ref(r, cJSON_GetArrayItem(arr, i), made, n_made);
  return r->ok ? n : 0;
}

static loom_layer *find_layer(loom_graph *g, const char *name) {
  for (int i = 0; i < g->n_layers; ++i)
    if (!strcmp(g->layers[i]->name, name)) return g->layers[i];
  return NULL;
}

static loom_model *make_model(reader *r, loom_graph *g, const cJSON *spec, lm_call *const *made,
                              int n_made) {
  loom_model_opts o = {.name = get_str(r, spec, "name")};
  get_refs(r, cJSON_GetObjectItemCaseSensitive(spec, "inputs"), made, n_made, o.inputs, "inputs");
  get_refs(r, cJSON_GetObjectItemCaseSensitive(spec, "outputs"), made, n_made, o.outputs, "outputs");
  if (!r->ok) return NULL;
  /* Functional or Sequential (files before the key: Functional) */
  const char *cls = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "class_name"));
  const lm_layer_kind *kind = cls ? lm_kind_find(cls) : &lm_kind_functional;
  if (kind != &lm_kind_functional && kind != &lm_kind_sequential) {
    bad(r, "model \"%s\": class_name \"%s\" is not a model's (Functional or Sequential)", o.name ? o.name : "",
        cls);
    return NULL;
  }
  loom_model *m = lm_model_make(g, &o, kind);
  if (!m) bad(r, "model \"%s\": %s", o.name, loom_graph_error(g));
  return m;
}

static void replay(reader *r, loom_graph *g, const cJSON *root, lm_call **made, int n_calls) {
  const cJSON *calls = cJSON_GetObjectItemCaseSensitive(root, "calls");
  const cJSON *models = cJSON_GetObjectItemCaseSensitive(root, "models");
  if (!cJSON_IsArray(models)) bad(r, "\"models\" must be an array");
  for (int i = 0; i < n_calls && r->ok; ++i) {
    const cJSON *cj = cJSON_GetArrayItem(calls, i);
    const char *lname = get_str(r, cj, "layer");
    if (!r->ok) return;
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(cj, "input_shape");
    loom_node *outs[LOOM_MAX_IO];
    if (shape) { /* an Input */
      loom_input_opts o = {.name = lname};
      const int rank = cJSON_IsArray(shape) ? cJSON_GetArraySize(shape) : -1;
      if (rank < 0 || rank > LOOM_MAX_RANK - 1) bad(r, "input \"%s\": bad input_shape", lname);
      for (int k = 0; k < rank && r->ok; ++k) {
        const double d = cJSON_GetNumberValue(cJSON_GetArrayItem(shape, k));
        if (d != (double)(int64_t)d || (d < 1 && d != LOOM_NONE) || d > (double)(1 << 30))
          bad(r, "input \"%s\": dim %d is %g", lname, k, d);
        else o.shape[k] = (int64_t)d;
      }
      const char *dt = get_str(r, cj, "dtype");
      o.dtype = !strcmp(dt, "int32") ? LOOM_I32 : LOOM_F32;
      if (r->ok && strcmp(dt, "int32") && strcmp(dt, "float32")) bad(r, "input \"%s\": dtype \"%s\"", lname, dt);
      if (!r->ok) return;
      loom_node *x = loom_input(g, &o);
      if (!x) return bad(r, "input \"%s\": %s", lname, loom_graph_error(g));
      made[i] = x->call;
      continue;
    }
    loom_layer *l = find_layer(g, lname);
    if (!l) /* a nested model is made at its first call */
      for (int k = 0; k < cJSON_GetArraySize(models) && r->ok && !l; ++k) {
        const cJSON *spec = cJSON_GetArrayItem(models, k);
        if (!strcmp(get_str(r, spec, "name"), lname)) {
          loom_model *nm = make_model(r, g, spec, made, i);
          l = nm ? nm->layer : NULL;
        }
      }
    if (!r->ok) return;
    if (!l) return bad(r, "call %d uses layer \"%s\", which the config does not define", i, lname);
    loom_node *in[LOOM_MAX_IO];
    const int n = get_refs(r, cJSON_GetObjectItemCaseSensitive(cj, "inbound"), made, i, in, "inbound");
    if (!r->ok) return;
    const int k = loom_call_outputs(l, n, in, LOOM_MAX_IO, outs);
    if (k < 0) return bad(r, "call %d of \"%s\": %s", i, lname, loom_graph_error(g));
    made[i] = outs[0]->call;
  }
}

static void read_compile(reader *r, loom_model *m, const cJSON *c) {
  const cJSON *o = cJSON_GetObjectItemCaseSensitive(c, "optimizer");
  loom_compile_opts co = {0};
  const cJSON *oname = cJSON_GetObjectItemCaseSensitive(o, "name");
  if (oname) { /* by name; loom_config 1 wrote the enum's number as "kind" */
    const char *n = get_str(r, o, "name");
    if (r->ok && (int)(co.optimizer.kind = lm_optimizer_from_name(n)) < 0)
      return bad(r, "compile: unknown optimizer \"%s\"", n);
  } else {
    co.optimizer.kind = (loom_optimizer_kind)get_int(r, o, "kind", 0, LOOM_ADAM, false, 0);
  }
  co.optimizer.learning_rate = get_float(r, o, "learning_rate", 0, 1e6);
  co.optimizer.momentum = get_float(r, o, "momentum", 0, 1e6);
  co.optimizer.rho = get_float(r, o, "rho", 0, 0.999999);
  co.optimizer.beta_1 = get_float(r, o, "beta_1", 0, 0.999999);
  co.optimizer.beta_2 = get_float(r, o, "beta_2", 0, 0.999999);
  co.optimizer.epsilon = get_float(r, o, "epsilon", 0, 1e6);
  co.optimizer.nesterov = get_bool(r, o, "nesterov");
  const cJSON *losses = cJSON_GetObjectItemCaseSensitive(c, "losses");
  const cJSON *weights = cJSON_GetObjectItemCaseSensitive(c, "loss_weights");
  const cJSON *metrics = cJSON_GetObjectItemCaseSensitive(c, "metrics");
  if (cJSON_GetArraySize(losses) != m->n_out || cJSON_GetArraySize(weights) != m->n_out ||
      cJSON_GetArraySize(metrics) != m->n_out)
    return bad(r, "compile: losses, loss_weights and metrics need one entry per output");
  float w[LOOM_MAX_IO];
  int km = 0;
  for (int i = 0; i < m->n_out && r->ok; ++i) {
    co.losses[i] = cJSON_GetStringValue(cJSON_GetArrayItem(losses, i));
    const cJSON *wi = cJSON_GetArrayItem(weights, i), *mi = cJSON_GetArrayItem(metrics, i);
    w[i] = (float)cJSON_GetNumberValue(wi);
    const int n = cJSON_IsArray(mi) ? cJSON_GetArraySize(mi) : -1;
    if (!co.losses[i] || !cJSON_IsNumber(wi) || n < 0 || km + n > LOOM_MAX_IO)
      return bad(r, "compile: output %d's loss, weight or metrics", i);
    for (int k = 0; k < n; ++k) { /* by output name, in order: each output's list as it was */
      const char *name = cJSON_GetStringValue(cJSON_GetArrayItem(mi, k));
      if (!name) return bad(r, "compile: output %d's metric %d is not a string", i, k);
      co.metric_by_name[km++] = (loom_named_str){loom_model_output_name(m, i), name};
    }
  }
  co.loss_weights = w;
  if (loom_model_compile(m, &co)) bad(r, "compile: %s", loom_graph_error(m->g));
}

loom_model *lm_config_read(const cJSON *root, const char *where, size_t param_limit) {
  reader r = {where, true};
  if (!cJSON_IsObject(root)) {
    bad(&r, "not a JSON object");
    return NULL;
  }
  if (get_int(&r, root, "loom_config", 1, LM_CONFIG_VERSION, false, 0) < 1 || !r.ok) return NULL;
  const cJSON *layers = cJSON_GetObjectItemCaseSensitive(root, "layers");
  const cJSON *calls = cJSON_GetObjectItemCaseSensitive(root, "calls");
  if (!cJSON_IsArray(layers) || !cJSON_IsArray(calls) || cJSON_GetArraySize(layers) > LM_MAX_FILE_LAYERS ||
      cJSON_GetArraySize(calls) > LM_MAX_FILE_LAYERS) {
    bad(&r, "\"layers\" and \"calls\" must be arrays of at most %d entries", LM_MAX_FILE_LAYERS);
    return NULL;
  }
  loom_graph *g = loom_graph_new(0);
  const int n_calls = cJSON_GetArraySize(calls);
  lm_call **made = calloc((size_t)n_calls + 1, sizeof *made);
  if (!g || !made) {
    loom_graph_free(g), free(made);
    lm_error(LOOM_ENOMEM, where, "out of memory");
    return NULL;
  }
  g->loading = true;
  lm_arena_set_limit(g->params, param_limit);
  for (int i = 0; i < cJSON_GetArraySize(layers) && r.ok; ++i) make_layer(&r, g, cJSON_GetArrayItem(layers, i));
  if (r.ok) replay(&r, g, root, made, n_calls);
  loom_model *m = NULL;
  if (r.ok) {
    const cJSON *spec = root; /* the model itself: name, inputs, outputs like a nested one */
    m = make_model(&r, g, spec, made, n_calls);
  }
  free(made);
  lm_arena_set_limit(g->params, 0); /* the weights are made; optimiser state is as big */
  g->loading = false;
  const cJSON *compile = cJSON_GetObjectItemCaseSensitive(root, "compile");
  if (r.ok && compile) read_compile(&r, m, compile);
  if (!r.ok) {
    loom_graph_free(g);
    return NULL;
  }
  return m;
}
