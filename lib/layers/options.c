/* options.c - a layer kind's options to and from Keras' config keys, driven by the kind's
 * option table: the one place a config's layer options are written and read. */
#include <cjson/cJSON.h>
#include <string.h>
#include <stdio.h>

#include "lib/layers/layer.h"
#include "ops/act.h"

/* Keras' padding names, by loom_padding */
static const char *const padding_names[] = {[LOOM_VALID] = "valid", [LOOM_SAME] = "same", [LOOM_CAUSAL] = "causal"};
static const char *padding_name(loom_padding p) {
  return (unsigned)p < sizeof padding_names / sizeof *padding_names ? padding_names[p] : "valid";
}

/* Keras' merge_mode names, by loom_merge_mode (NONE is JSON null) */
static const char *const merge_names[] = {[LOOM_MERGE_CONCAT] = "concat", [LOOM_MERGE_SUM] = "sum",
                                          [LOOM_MERGE_MUL] = "mul", [LOOM_MERGE_AVE] = "ave"};

static void *ptr_at(const void *o, size_t off) {
  void *v;
  memcpy(&v, (const char *)o + off, sizeof v);
  return v;
}

/* A wrapped layer as Keras nests it: {"class_name": "LSTM", "config": {...}}. */
static cJSON *nested_layer(const loom_layer *l) {
  cJSON *n = cJSON_CreateObject(), *c = lm_layer_config(l);
  if (!n || !c || !cJSON_AddStringToObject(n, "class_name", l->kind->class_name) ||
      !cJSON_AddItemToObject(n, "config", c)) {
    cJSON_Delete(n);
    cJSON_Delete(c);
    return NULL;
  }
  return n;
}

static int int_at(const void *o, size_t off) {
  int v;
  memcpy(&v, (const char *)o + off, sizeof v);
  return v;
}

cJSON *lm_layer_config(const loom_layer *l) {
  const lm_layer_kind *k = l->kind;
  const void *o = &l->o;
  const int dims = k->dims ? k->dims : 1;
  cJSON *c = cJSON_CreateObject();
  if (!c || !cJSON_AddStringToObject(c, "name", l->name)) {
    cJSON_Delete(c);
    return NULL;
  }
  for (const lm_opt *p = k->opts; p && p->key; ++p) {
    const char *at = (const char *)o + p->offset;
    cJSON *v = NULL;
    switch (p->type) {
      case LM_OPT_INT: v = cJSON_CreateNumber(int_at(o, p->offset)); break;
      case LM_OPT_FLOAT: {
        float f;
        memcpy(&f, at, sizeof f);
        v = cJSON_CreateNumber(f);
        break;
      }
      case LM_OPT_BOOL: {
        bool b;
        memcpy(&b, at, sizeof b);
        v = cJSON_CreateBool(b);
        break;
      }
      case LM_OPT_FLAG: v = cJSON_CreateBool(int_at(o, p->offset) != LOOM_NO); break;
      case LM_OPT_ACTIVATION: v = cJSON_CreateString(lm_activation_name((loom_activation)int_at(o, p->offset))); break;
      case LM_OPT_PADDING: v = cJSON_CreateString(padding_name((loom_padding)int_at(o, p->offset))); break;
      case LM_OPT_TUPLE: {
        int t[2];
        memcpy(t, at, sizeof t);
        v = cJSON_CreateIntArray(t, dims);
        break;
      }
      case LM_OPT_TUPLE_NONE: {
        int t[2];
        memcpy(t, at, sizeof t);
        for (int i = 0; i < 2; ++i) t[i] = t[i] == LOOM_ZERO ? 0 : t[i];
        v = int_at(o, p->offset) ? cJSON_CreateIntArray(t, dims) : cJSON_CreateNull();
        break;
      }
      case LM_OPT_FLOAT_NONE: {
        float f;
        memcpy(&f, at, sizeof f);
        v = f != 0.0f ? cJSON_CreateNumber(f) : cJSON_CreateNull();
        break;
      }
      case LM_OPT_AXES: {
        int t[LOOM_MAX_RANK - 1], n = 0;
        memcpy(t, at, sizeof t);
        while (n < LOOM_MAX_RANK - 1 && t[n]) ++n;
        v = n ? cJSON_CreateIntArray(t, n) : cJSON_CreateNull();
        break;
      }
      case LM_OPT_LAYER: {
        const loom_layer *w = ptr_at(o, p->offset);
        v = w ? nested_layer(w) : cJSON_CreateNull();
        break;
      }
      case LM_OPT_MERGE: {
        const int m = int_at(o, p->offset);
        v = m == LOOM_MERGE_NONE ? cJSON_CreateNull() : cJSON_CreateString(merge_names[m ? m : LOOM_MERGE_CONCAT]);
        break;
      }
      case LM_OPT_PAIRS: {
        int t[2][2];
        memcpy(t, at, sizeof t);
        if (dims == 1) {
          v = cJSON_CreateIntArray(t[0], 2);
        } else {
          v = cJSON_CreateArray();
          for (int d = 0; d < dims && v; ++d) {
            cJSON *e = cJSON_CreateIntArray(t[d], 2);
            if (!e || !cJSON_AddItemToArray(v, e)) cJSON_Delete(e), cJSON_Delete(v), v = NULL;
          }
        }
        break;
      }
      case LM_OPT_NAMED: v = cJSON_CreateString(p->names[int_at(o, p->offset)]); break;
    }
    if (!v || !cJSON_AddItemToObject(c, p->key, v)) {
      cJSON_Delete(v);
      cJSON_Delete(c);
      return NULL;
    }
  }
  return c;
}

/* ---------------------------------------------------------------- reading */

typedef struct reading {
  loom_graph *g;
  const lm_layer_kind *k;
  const char *name, *where;
  bool ok;
} reading;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void bad(reading *r, const lm_opt *p, const char *fmt, ...) {
  if (!r->ok) return;
  char msg[LM_ERRMSG_CAP];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  lm_error(LOOM_EINVAL, r->where, "config: layer \"%s\" (%s): \"%s\" %s", r->name, r->k->class_name,
           p->key, msg);
  r->ok = false;
}

static bool whole(double d, double lo, double hi) { return d == (double)(long long)d && d >= lo && d <= hi; }

/* An int, or a list of `dims` ints, each whole and in [lo, hi], into v[0..dims). */
static void read_ints(reading *r, const lm_opt *p, const cJSON *v, int dims, int *out) {
  if (cJSON_IsNumber(v)) {
    if (!whole(cJSON_GetNumberValue(v), p->lo, p->hi))
      return bad(r, p, "must be an integer in [%.15g, %.15g]", p->lo, p->hi);
    for (int i = 0; i < dims; ++i) out[i] = (int)cJSON_GetNumberValue(v);
    return;
  }
  if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != dims)
    return bad(r, p, "must be an integer or a list of %d integers", dims);
  for (int i = 0; i < dims; ++i) {
    const cJSON *e = cJSON_GetArrayItem(v, i);
    if (!cJSON_IsNumber(e) || !whole(cJSON_GetNumberValue(e), p->lo, p->hi))
      return bad(r, p, "must hold integers in [%.15g, %.15g]", p->lo, p->hi);
    out[i] = (int)cJSON_GetNumberValue(e);
  }
}

static void read_opt(reading *r, const lm_opt *p, const cJSON *v, int dims, void *o) {
  char *at = (char *)o + p->offset;
  int iv = 0;
  switch (p->type) {
    case LM_OPT_INT:
      if (!cJSON_IsNumber(v) || !whole(cJSON_GetNumberValue(v), p->lo, p->hi))
        return bad(r, p, "must be an integer in [%.15g, %.15g]", p->lo, p->hi);
      iv = (int)cJSON_GetNumberValue(v);
      memcpy(at, &iv, sizeof iv);
      return;
    case LM_OPT_FLOAT:
    case LM_OPT_FLOAT_NONE: {
      const double d = cJSON_IsNumber(v) ? cJSON_GetNumberValue(v) : p->lo - 1;
      if (!(d >= p->lo && d <= p->hi)) return bad(r, p, "must be a number in [%.15g, %.15g]", p->lo, p->hi);
      const float f = (float)d;
      memcpy(at, &f, sizeof f);
      return;
    }
    case LM_OPT_BOOL:
    case LM_OPT_FLAG: {
      if (!cJSON_IsBool(v)) return bad(r, p, "must be true or false");
      if (p->type == LM_OPT_BOOL) {
        const bool b = cJSON_IsTrue(v);
        memcpy(at, &b, sizeof b);
      } else {
        iv = cJSON_IsTrue(v) ? LOOM_YES : LOOM_NO;
        memcpy(at, &iv, sizeof iv);
      }
      return;
    }
    case LM_OPT_ACTIVATION: {
      const char *s = cJSON_GetStringValue(v);
      iv = lm_activation_find(s);
      if (iv >= 0) {
        memcpy(at, &iv, sizeof iv);
        return;
      }
      char names[400] = "";
      for (int a = LOOM_LINEAR; a < LOOM_ACTIVATION_COUNT; ++a)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", a > LOOM_LINEAR ? ", " : "",
                 lm_activation_get((loom_activation)a)->name);
      return bad(r, p, "is \"%s\", which is no activation loom runs (%s)", s ? s : "(not a string)", names);
    }
    case LM_OPT_PADDING: {
      const char *s = cJSON_GetStringValue(v);
      iv = -1;
      for (int i = 0; s && i < (int)(sizeof padding_names / sizeof *padding_names); ++i)
        if (!strcmp(s, padding_names[i])) iv = i;
      if (iv < 0)
        return bad(r, p, "is \"%s\": padding is \"valid\", \"same\" or (Conv1D) \"causal\"", s ? s : "(not a string)");
      memcpy(at, &iv, sizeof iv);
      return;
    }
    case LM_OPT_TUPLE: {
      int t[2] = {0, 0};
      read_ints(r, p, v, dims, t);
      if (dims == 1) t[1] = 1;
      memcpy(at, t, sizeof t);
      return;
    }
    case LM_OPT_TUPLE_NONE: {
      int t[2] = {0, 0};
      if (!cJSON_IsNull(v)) {
        read_ints(r, p, v, dims, t);
        for (int i = 0; i < dims; ++i) t[i] = t[i] ? t[i] : LOOM_ZERO;
      }
      memcpy(at, t, sizeof t);
      return;
    }
    case LM_OPT_AXES: {
      int t[LOOM_MAX_RANK - 1] = {0};
      const int n = cJSON_IsNumber(v) ? 1 : cJSON_GetArraySize(v);
      if (!(cJSON_IsNumber(v) || cJSON_IsArray(v)) || n > LOOM_MAX_RANK - 2)
        return bad(r, p, "must be an axis or a list of at most %d axes", LOOM_MAX_RANK - 2);
      read_ints(r, p, v, n, t);
      memcpy(at, t, sizeof t);
      return;
    }
    case LM_OPT_LAYER: {
      const cJSON *cls = cJSON_GetObjectItemCaseSensitive(v, "class_name");
      const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(v, "config");
      const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cfg, "name"));
      const lm_layer_kind *k = lm_kind_find(cJSON_GetStringValue(cls));
      if (!cJSON_IsObject(v) || !cJSON_IsObject(cfg) || !name)
        return bad(r, p, "must be a layer: {\"class_name\": ..., \"config\": {\"name\": ..., ...}}");
      if (!k) return bad(r, p, "is a layer of class \"%s\", which loom does not have", cJSON_GetStringValue(cls) ? cJSON_GetStringValue(cls) : "(none)");
      loom_layer *l = lm_layer_from_config(r->g, k, cfg, name, r->where);
      if (!l) {
        r->ok = false; /* the error names the wrapped layer */
        return;
      }
      memcpy(at, &l, sizeof l);
      return;
    }
    case LM_OPT_PAIRS: {
      int t[2][2] = {{0, 0}, {0, 0}};
      if (cJSON_IsNumber(v) || dims == 1) {
        read_ints(r, p, v, 2, t[0]); /* an int: all four (1-D: both) */
        if (cJSON_IsNumber(v)) t[1][0] = t[1][1] = t[0][0];
      } else if (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 2 && cJSON_IsNumber(cJSON_GetArrayItem(v, 0))) {
        int sym[2] = {0, 0};
        read_ints(r, p, v, 2, sym); /* (h, w): symmetric per dim */
        t[0][0] = t[0][1] = sym[0], t[1][0] = t[1][1] = sym[1];
      } else if (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 2) {
        for (int d = 0; d < 2; ++d) read_ints(r, p, cJSON_GetArrayItem(v, d), 2, t[d]);
      } else {
        return bad(r, p, "must be an integer, [h, w] or [[top, bottom], [left, right]]");
      }
      memcpy(at, t, sizeof t);
      return;
    }
    case LM_OPT_NAMED: {
      const char *s = cJSON_GetStringValue(v);
      char names[200] = "";
      for (int i = 0; p->names[i]; ++i) {
        if (s && !strcmp(s, p->names[i])) {
          memcpy(at, &i, sizeof i);
          return;
        }
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s\"%s\"", i ? ", " : "", p->names[i]);
      }
      return bad(r, p, "is \"%s\", not one of %s", s ? s : "(not a string)", names);
    }
    case LM_OPT_MERGE: {
      const char *s = cJSON_GetStringValue(v);
      iv = -1;
      for (int m = LOOM_MERGE_CONCAT; m < LOOM_MERGE_NONE && s; ++m)
        if (!strcmp(s, merge_names[m])) iv = m;
      if (cJSON_IsNull(v)) iv = LOOM_MERGE_NONE;
      if (iv < 0) return bad(r, p, "is \"%s\": merge_mode is \"concat\", \"sum\", \"mul\", \"ave\" or null", s ? s : "(not a string)");
      memcpy(at, &iv, sizeof iv);
      return;
    }
  }
}

loom_layer *lm_layer_from_config(loom_graph *g, const lm_layer_kind *k, const cJSON *config,
                                 const char *name, const char *where) {
  reading r = {g, k, name, where, true};
  if (!k->build || k->id == LM_KIND_FUNCTIONAL || k->id == LM_KIND_SEQUENTIAL || k->id == LM_KIND_INPUT_LAYER) {
    lm_error(LOOM_EINVAL, where, "config: layer \"%s\" (%s) is not made from a layer config", name,
             k->class_name);
    return NULL;
  }
  if (!cJSON_IsObject(config)) {
    lm_error(LOOM_EINVAL, where, "config: layer \"%s\" (%s): \"config\" must be an object", name,
             k->class_name);
    return NULL;
  }
  union {
    max_align_t align_;
    unsigned char bytes[LM_OPTS_MAX];
  } o;
  memset(&o, 0, sizeof o);
  const int dims = k->dims ? k->dims : 1;
  for (const lm_opt *p = k->opts; p && p->key && r.ok; ++p) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(config, p->key);
    if (!v && p->alias) v = cJSON_GetObjectItemCaseSensitive(config, p->alias);
    if (v && (!cJSON_IsNull(v) || p->type == LM_OPT_MERGE)) read_opt(&r, p, v, dims, o.bytes);
  }
  if (!r.ok) return NULL;
  memcpy(o.bytes + k->name_offset, &name, sizeof name);
  loom_layer *l = lm_layer_make(g, k, o.bytes);
  if (!l) lm_error(g->status, where, "config: %s", g->err); /* names the kind and the layer */
  return l;
}
