/* config.c - the architecture of a model as JSON, and a model rebuilt from it. */
#include <stdlib.h>
#include <string.h>

#include "lib/config.h"
#include "lib/layers.h"
#include "ops/ops.h"

#define LM_CONFIG_VERSION 1

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

static cJSON *ints(const int *v, int n) { return cJSON_CreateIntArray(v, n); }

/* ---------------------------------------------------------------- writing */

static const char *padding_name(loom_padding p) { return p == LOOM_SAME ? "same" : "valid"; }

static cJSON *layer_config(const loom_layer *l) {
  cJSON *c = cJSON_CreateObject();
  const char *t = l->vt->type;
  if (!strcmp(t, "Dense")) {
    cJSON_AddNumberToObject(c, "units", l->o.dense.units);
    cJSON_AddStringToObject(c, "activation", lm_activation_name(l->o.dense.activation));
    cJSON_AddBoolToObject(c, "use_bias", l->o.dense.use_bias != LOOM_NO);
  } else if (!strcmp(t, "Embedding")) {
    cJSON_AddNumberToObject(c, "input_dim", l->o.embedding.input_dim);
    cJSON_AddNumberToObject(c, "output_dim", l->o.embedding.output_dim);
  } else if (!strcmp(t, "LSTM")) {
    cJSON_AddNumberToObject(c, "units", l->o.lstm.units);
    cJSON_AddBoolToObject(c, "return_sequences", l->o.lstm.return_sequences);
    cJSON_AddBoolToObject(c, "go_backwards", l->o.lstm.go_backwards);
    cJSON_AddBoolToObject(c, "use_bias", l->o.lstm.use_bias != LOOM_NO);
    cJSON_AddBoolToObject(c, "unit_forget_bias", l->o.lstm.unit_forget_bias != LOOM_NO);
  } else if (!strcmp(t, "Conv1D") || !strcmp(t, "Conv2D")) {
    const loom_conv_opts *o = &l->o.conv;
    cJSON_AddNumberToObject(c, "filters", o->filters);
    cJSON_AddItemToObject(c, "kernel_size", ints(o->kernel_size, l->rank));
    cJSON_AddItemToObject(c, "strides", ints(o->strides, l->rank));
    cJSON_AddNumberToObject(c, "dilation_rate", o->dilation_rate);
    cJSON_AddStringToObject(c, "padding", padding_name(o->padding));
    cJSON_AddStringToObject(c, "activation", lm_activation_name(o->activation));
    cJSON_AddBoolToObject(c, "use_bias", o->use_bias != LOOM_NO);
  } else if (!strcmp(t, "DepthwiseConv2D") || !strcmp(t, "SeparableConv2D")) {
    const loom_separable_opts *o = &l->o.sep;
    if (t[0] == 'S') cJSON_AddNumberToObject(c, "filters", o->filters);
    cJSON_AddItemToObject(c, "kernel_size", ints(o->kernel_size, 2));
    cJSON_AddItemToObject(c, "strides", ints(o->strides, 2));
    cJSON_AddNumberToObject(c, "depth_multiplier", o->depth_multiplier);
    cJSON_AddStringToObject(c, "padding", padding_name(o->padding));
    cJSON_AddStringToObject(c, "activation", lm_activation_name(o->activation));
    cJSON_AddBoolToObject(c, "use_bias", o->use_bias != LOOM_NO);
  } else if (!strcmp(t, "BatchNormalization")) {
    cJSON_AddNumberToObject(c, "momentum", l->o.bn.momentum);
    cJSON_AddNumberToObject(c, "epsilon", l->o.bn.epsilon);
    cJSON_AddBoolToObject(c, "center", l->o.bn.center != LOOM_NO);
    cJSON_AddBoolToObject(c, "scale", l->o.bn.scale != LOOM_NO);
  } else if (strstr(t, "Pooling") && !strstr(t, "Global")) {
    cJSON_AddItemToObject(c, "pool_size", ints(l->o.pool.pool_size, l->rank));
    cJSON_AddItemToObject(c, "strides", ints(l->o.pool.strides, l->rank));
    cJSON_AddStringToObject(c, "padding", padding_name(l->o.pool.padding));
  } else if (!strcmp(t, "Activation")) {
    cJSON_AddStringToObject(c, "activation", lm_activation_name(l->o.misc.activation));
  } else if (!strcmp(t, "Dropout")) {
    cJSON_AddNumberToObject(c, "rate", l->o.misc.rate);
  } else if (!strcmp(t, "Concatenate")) {
    cJSON_AddNumberToObject(c, "axis", l->o.misc.axis ? l->o.misc.axis : -1);
  }
  return c;
}

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
  cJSON_AddNumberToObject(o, "kind", m->opt.kind);
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
    cJSON_AddItemToArray(metrics, cJSON_CreateStringArray(m->spec[i].metric_name, m->spec[i].n_metrics));
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
  for (int i = 0; i < s.n; ++i) { /* layers at their first call */
    const lm_call *c = s.call[i];
    const loom_layer *l = c->layer;
    bool first = true;
    for (int j = 0; j < i && first; ++j) first = s.call[j]->layer != l;
    if (first && l->model) { /* a nested model: its inputs and outputs as node refs */
      cJSON *nm = cJSON_CreateObject();
      cJSON_AddStringToObject(nm, "name", l->name);
      cJSON_AddItemToObject(nm, "inputs", refs(&s, l->model->in, l->model->n_in));
      cJSON_AddItemToObject(nm, "outputs", refs(&s, l->model->out, l->model->n_out));
      cJSON_AddItemToArray(models, nm);
    } else if (first && !lm_is_input_layer(l)) {
      cJSON *lj = cJSON_CreateObject();
      cJSON_AddStringToObject(lj, "class", l->vt->type);
      cJSON_AddStringToObject(lj, "name", l->name);
      cJSON_AddItemToObject(lj, "config", layer_config(l));
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

static loom_activation get_act(reader *r, const cJSON *o) {
  const char *s = get_str(r, o, "activation");
  for (int a = LOOM_LINEAR; a <= LOOM_SOFTMAX; ++a)
    if (!strcmp(s, lm_activation_name((loom_activation)a))) return (loom_activation)a;
  bad(r, "unknown activation \"%s\"", s);
  return LOOM_LINEAR;
}

static loom_padding get_padding(reader *r, const cJSON *o) {
  const char *s = get_str(r, o, "padding");
  if (strcmp(s, "same") && strcmp(s, "valid")) bad(r, "padding \"%s\" is neither same nor valid", s);
  return !strcmp(s, "same") ? LOOM_SAME : LOOM_VALID;
}

/* An array of n (1 or 2) integers in [1, 1 << 20] into v[2] (the second repeats the first). */
static void get_pair(reader *r, const cJSON *o, const char *key, int n, int v[2]) {
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);
  v[0] = v[1] = 1;
  if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != n) {
    bad(r, "\"%s\" must be an array of %d integers", key, n);
    return;
  }
  for (int i = 0; i < n; ++i) {
    const cJSON *e = cJSON_GetArrayItem(a, i);
    const double d = cJSON_IsNumber(e) ? cJSON_GetNumberValue(e) : 0;
    if (d != (double)(int)d || d < 1 || d > (1 << 20)) bad(r, "\"%s\" holds %g (integers in [1, 1048576])", key, d);
    else v[i] = (int)d;
  }
  if (n == 1) v[1] = 1;
}

#define LM_MAX_UNITS (1 << 24)
/* Layers and calls a file may hold (Xception has 132 layers): names are matched by
 * linear search, so this bounds a hostile file's cost. */
#define LM_MAX_FILE_LAYERS 10000

static loom_layer *make_layer(reader *r, loom_graph *g, const cJSON *lj) {
  const char *cls = get_str(r, lj, "class"), *name = get_str(r, lj, "name");
  const cJSON *c = cJSON_GetObjectItemCaseSensitive(lj, "config");
  if (!cJSON_IsObject(c)) bad(r, "layer \"%s\": \"config\" must be an object", name);
  if (!r->ok) return NULL;
  loom_layer *l = NULL;
  if (!strcmp(cls, "Dense")) {
    loom_dense_opts o = {.units = get_int(r, c, "units", 1, LM_MAX_UNITS, false, 0), .activation = get_act(r, c),
                         .use_bias = get_bool(r, c, "use_bias") ? LOOM_YES : LOOM_NO, .name = name};
    if (r->ok) l = loom_layer_dense(g, &o);
  } else if (!strcmp(cls, "Embedding")) {
    loom_embedding_opts o = {.input_dim = get_int(r, c, "input_dim", 1, LM_MAX_UNITS, false, 0),
                             .output_dim = get_int(r, c, "output_dim", 1, LM_MAX_UNITS, false, 0), .name = name};
    if (r->ok) l = loom_layer_embedding(g, &o);
  } else if (!strcmp(cls, "LSTM")) {
    loom_lstm_opts o = {.units = get_int(r, c, "units", 1, LM_MAX_UNITS, false, 0),
                        .return_sequences = get_bool(r, c, "return_sequences"),
                        .go_backwards = get_bool(r, c, "go_backwards"),
                        .use_bias = get_bool(r, c, "use_bias") ? LOOM_YES : LOOM_NO,
                        .unit_forget_bias = get_bool(r, c, "unit_forget_bias") ? LOOM_YES : LOOM_NO, .name = name};
    if (r->ok) l = loom_layer_lstm(g, &o);
  } else if (!strcmp(cls, "Conv1D") || !strcmp(cls, "Conv2D")) {
    const int dims = cls[4] - '0';
    loom_conv_opts o = {.filters = get_int(r, c, "filters", 1, LM_MAX_UNITS, false, 0),
                        .dilation_rate = get_int(r, c, "dilation_rate", 1, 1 << 20, false, 0),
                        .padding = get_padding(r, c), .activation = get_act(r, c),
                        .use_bias = get_bool(r, c, "use_bias") ? LOOM_YES : LOOM_NO, .name = name};
    get_pair(r, c, "kernel_size", dims, o.kernel_size);
    get_pair(r, c, "strides", dims, o.strides);
    if (r->ok) l = (dims == 1 ? loom_layer_conv1d : loom_layer_conv2d)(g, &o);
  } else if (!strcmp(cls, "DepthwiseConv2D") || !strcmp(cls, "SeparableConv2D")) {
    loom_separable_opts o = {.filters = cls[0] == 'S' ? get_int(r, c, "filters", 1, LM_MAX_UNITS, false, 0) : 0,
                             .depth_multiplier = get_int(r, c, "depth_multiplier", 1, 1 << 10, false, 0),
                             .padding = get_padding(r, c), .activation = get_act(r, c),
                             .use_bias = get_bool(r, c, "use_bias") ? LOOM_YES : LOOM_NO, .name = name};
    get_pair(r, c, "kernel_size", 2, o.kernel_size);
    get_pair(r, c, "strides", 2, o.strides);
    if (r->ok) l = (cls[0] == 'S' ? loom_layer_separable_conv2d : loom_layer_depthwise_conv2d)(g, &o);
  } else if (!strcmp(cls, "BatchNormalization")) {
    loom_batch_norm_opts o = {.momentum = get_float(r, c, "momentum", 1e-6, 1.0),
                              .epsilon = get_float(r, c, "epsilon", 1e-12, 1e6),
                              .center = get_bool(r, c, "center") ? LOOM_YES : LOOM_NO,
                              .scale = get_bool(r, c, "scale") ? LOOM_YES : LOOM_NO, .name = name};
    if (r->ok) l = loom_layer_batch_normalization(g, &o);
  } else if (strstr(cls, "Pooling") && !strstr(cls, "Global")) {
    static const char *kinds[4] = {"MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D"};
    static loom_layer *(*const make[4])(loom_graph *, const loom_pool_opts *) = {
        loom_layer_max_pooling1d, loom_layer_max_pooling2d, loom_layer_average_pooling1d,
        loom_layer_average_pooling2d};
    loom_pool_opts o = {.padding = get_padding(r, c), .name = name};
    for (int k = 0; k < 4; ++k)
      if (!strcmp(cls, kinds[k])) {
        get_pair(r, c, "pool_size", 1 + k % 2, o.pool_size);
        get_pair(r, c, "strides", 1 + k % 2, o.strides);
        if (r->ok) l = make[k](g, &o);
      }
    if (r->ok && !l) bad(r, "unknown layer class \"%s\"", cls);
  } else {
    static const char *kinds[9] = {"GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalAveragePooling1D",
                                   "GlobalAveragePooling2D", "Activation", "Flatten", "Dropout", "Add",
                                   "Concatenate"};
    static loom_layer *(*const make[9])(loom_graph *, const loom_layer_opts *) = {
        loom_layer_global_max_pooling1d, loom_layer_global_max_pooling2d,
        loom_layer_global_average_pooling1d, loom_layer_global_average_pooling2d,
        loom_layer_activation, loom_layer_flatten, loom_layer_dropout, loom_layer_add,
        loom_layer_concatenate};
    int k = 0;
    while (k < 9 && strcmp(cls, kinds[k])) ++k;
    if (k == 9) {
      bad(r, "unknown layer class \"%s\"", cls);
      return NULL;
    }
    loom_layer_opts o = {.name = name};
    if (k == 4) o.activation = get_act(r, c);
    if (k == 6) o.rate = get_float(r, c, "rate", 0.0, 0.999999);
    if (k == 8) o.axis = get_int(r, c, "axis", -LOOM_MAX_RANK, LOOM_MAX_RANK, false, 0);
    if (r->ok) l = make[k](g, &o);
  }
  if (r->ok && !l) bad(r, "layer \"%s\": %s", name, loom_graph_error(g));
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
  loom_model *m = loom_model_new(g, &o);
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
  co.optimizer.kind = (loom_optimizer_kind)get_int(r, o, "kind", 0, LOOM_ADAM, false, 0);
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
  if (get_int(&r, root, "loom_config", 1, LM_CONFIG_VERSION, false, 0) != LM_CONFIG_VERSION || !r.ok) {
    if (r.ok) bad(&r, "unknown loom_config version");
    return NULL;
  }
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
