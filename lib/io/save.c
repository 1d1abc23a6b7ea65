/* save.c - a whole model in one safetensors file, and back: the architecture (JSON in
 * __metadata__.loom_config), the weights under Keras' names (dense_1/kernel,
 * lstm/recurrent_kernel, ...) and layouts, and optionally the optimiser state
 * (optimizer/<weight>/<slot>), its step count and the graph's generator, so that
 * training resumes exactly where it stopped. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/io/config.h"
#include "lib/io/safetensors.h"
#include "lib/train/optimizer.h"

typedef struct named_weight {
  char name[LM_ST_MAX_NAME];
  loom_tensor *t;
} named_weight;

static int weight_index(const loom_model *m, const loom_tensor *t) {
  for (int i = 0; i < m->n_vars; ++i)
    if (m->weights[i] == t) return i;
  return -1;
}

/* Every weight of m once, named layer/weight, in m->weights order. */
static void gather(const loom_model *top, const loom_model *m, named_weight *out, int *n) {
  for (int i = 0; i < m->n_layers; ++i) {
    const loom_layer *l = m->layers[i];
    if (l->model) gather(top, l->model, out, n);
    for (int k = 0; k < l->n_weights; ++k) {
      const int at = weight_index(top, l->w[k]);
      if (at < 0 || out[at].t) continue;
      snprintf(out[at].name, sizeof out[at].name, "%s/%s", l->name, l->w_name[k]);
      out[at].t = l->w[k];
      ++*n;
    }
  }
}

static named_weight *weights_of(const loom_model *m) {
  named_weight *w = calloc((size_t)m->n_vars + 1, sizeof *w);
  int n = 0;
  if (w) gather(m, m, w, &n);
  return w;
}

static const char *slot_name(const loom_model *m, int which) {
  return lm_optimizer_slot(m->opt.kind, which);
}

static int save(loom_model *m, const char *path, bool optimizer, bool config, const char *where) {
  if (!m || !path) return lm_error(LOOM_EINVAL, where, "model or path is NULL");
  named_weight *w = weights_of(m);
  lm_st_entry *e = calloc((size_t)m->n_vars * 3 + 1, sizeof *e);
  char (*slot_names)[LM_ST_MAX_NAME + 32] = calloc((size_t)m->n_weights * 2 + 1, sizeof *slot_names);
  char *text = config ? lm_config_write(m) : NULL;
  int st = (!w || !e || !slot_names || (config && !text)) ? lm_error(LOOM_ENOMEM, where, "out of memory") : LOOM_OK;
  int n = 0;
  for (int i = 0; !st && i < m->n_vars; ++i) e[n++] = (lm_st_entry){w[i].name, w[i].t};
  optimizer = optimizer && m->compiled;
  for (int i = 0; !st && optimizer && i < m->n_weights; ++i)
    for (int s = 0; s < 2; ++s) {
      const loom_tensor *slot = s ? m->slot2[i] : m->slot1[i];
      if (!slot) continue;
      snprintf(slot_names[2 * i + s], sizeof slot_names[0], "optimizer/%s/%s", w[i].name, slot_name(m, s));
      e[n++] = (lm_st_entry){slot_names[2 * i + s], slot};
    }
  char step[32], rng[80];
  snprintf(step, sizeof step, "%ld", m->step);
  const uint64_t *r = m->g->rng.s;
  snprintf(rng, sizeof rng, "%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "%016" PRIx64, r[0], r[1], r[2], r[3]);
  const char *keys[4] = {"format", "loom_config", "optimizer_step", "rng"};
  const char *values[4] = {"loom", text ? text : "", step, rng};
  if (!st) st = lm_st_write(path, where, n, e, config ? (optimizer ? 4 : 2) : 1, keys, values);
  free(w), free(e), free(slot_names);
  cJSON_free(text);
  if (st && m->g->status == LOOM_OK) lm_graph_fail(m->g, st, "%s", loom_last_error());
  return st;
}

loom_status loom_model_save(loom_model *m, const char *path, const loom_save_opts *o) {
  return save(m, path, !o || o->include_optimizer != LOOM_NO, true, "loom_model_save");
}

loom_status loom_save_weights(loom_model *m, const char *path) {
  return save(m, path, false, false, "loom_save_weights");
}

/* Check that the file's weights are exactly the model's (names, shapes, count; optimiser
 * tensors aside) and only then copy them, so that a mismatch changes nothing. */
static int load_weights(loom_model *m, const lm_st_file *f, const char *where, const char *path) {
  named_weight *w = weights_of(m);
  if (!w) return lm_error(LOOM_ENOMEM, where, "out of memory");
  int st = LOOM_OK, matched = 0;
  for (int i = 0; !st && i < m->n_vars; ++i) {
    const lm_st_tensor *t = lm_st_find(f, w[i].name);
    if (!t) {
      st = lm_error(LOOM_EINVAL, where, "%s holds no weight %s", path, w[i].name);
      break;
    }
    bool same = t->dtype == LOOM_F32 && t->rank == w[i].t->rank;
    for (int k = 0; same && k < t->rank; ++k) same = t->shape[k] == w[i].t->shape[k];
    if (!same) {
      char want[96] = "[", got[96] = "[";
      for (int k = 0; k < w[i].t->rank; ++k)
        snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", k ? ", " : "", (long long)w[i].t->shape[k]);
      for (int k = 0; k < t->rank; ++k)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", k ? ", " : "", (long long)t->shape[k]);
      st = lm_error(LOOM_ESHAPE, where, "%s: weight %s is %s %s] in the file, the model's is F32 %s]",
                    path, w[i].name, t->dtype == LOOM_F32 ? "F32" : "I32", got, want);
    }
    ++matched;
  }
  int file_weights = 0;
  for (int i = 0; !st && i < f->n; ++i) file_weights += strncmp(f->t[i].name, "optimizer/", 10) != 0;
  if (!st && file_weights != matched) {
    for (int i = 0; i < f->n; ++i) {
      bool known = !strncmp(f->t[i].name, "optimizer/", 10);
      for (int k = 0; !known && k < m->n_vars; ++k) known = !strcmp(w[k].name, f->t[i].name);
      if (!known) {
        st = lm_error(LOOM_EINVAL, where, "%s holds %s, which is no weight of model \"%s\" (%d weights "
                      "in the file, %d in the model)", path, f->t[i].name, m->layer->name, file_weights, matched);
        break;
      }
    }
  }
  for (int i = 0; !st && i < m->n_vars; ++i) lm_st_read(f, lm_st_find(f, w[i].name), w[i].t->data);
  free(w);
  return st;
}

loom_status loom_load_weights(loom_model *m, const char *path) {
  static const char where[] = "loom_load_weights";
  if (!m || !path) return lm_error(LOOM_EINVAL, where, "model or path is NULL");
  lm_st_file f;
  int st = lm_st_open(&f, path, where);
  if (!st) {
    st = load_weights(m, &f, where, path);
    lm_st_close(&f);
  }
  if (st && m->g->status == LOOM_OK) lm_graph_fail(m->g, st, "%s", loom_last_error());
  return st;
}

static int load_optimizer(loom_model *m, const lm_st_file *f, const char *where, const char *path) {
  named_weight *w = weights_of(m);
  if (!w) return lm_error(LOOM_ENOMEM, where, "out of memory");
  int st = LOOM_OK;
  for (int i = 0; !st && i < m->n_weights; ++i)
    for (int s = 0; !st && s < 2; ++s) {
      loom_tensor *slot = s ? m->slot2[i] : m->slot1[i];
      if (!slot) continue;
      char name[LM_ST_MAX_NAME + 32];
      snprintf(name, sizeof name, "optimizer/%s/%s", w[i].name, slot_name(m, s));
      const lm_st_tensor *t = lm_st_find(f, name);
      if (!t || t->dtype != LOOM_F32 || t->size != slot->size)
        st = lm_error(LOOM_EINVAL, where, "%s: optimiser state %s is missing or of the wrong size", path, name);
      else lm_st_read(f, t, slot->data);
    }
  const char *step = lm_st_meta(f, "optimizer_step"), *rng = lm_st_meta(f, "rng");
  char *end = NULL;
  const long v = step ? strtol(step, &end, 10) : -1;
  if (!st && (!step || *end || v < 0)) st = lm_error(LOOM_EINVAL, where, "%s: optimizer_step is not a count", path);
  if (!st) m->step = v;
  if (!st && rng && strlen(rng) == 64) {
    uint64_t s[4];
    for (int k = 0; k < 4 && !st; ++k) {
      char part[17];
      memcpy(part, rng + 16 * k, 16);
      part[16] = '\0';
      s[k] = strtoull(part, &end, 16);
      if (*end) st = lm_error(LOOM_EINVAL, where, "%s: rng is not hexadecimal", path);
    }
    if (!st) memcpy(m->g->rng.s, s, sizeof s);
  }
  free(w);
  return st;
}

loom_model *lm_model_from_file(const lm_st_file *f, const char *where, const char *path) {
  const char *text = lm_st_meta(f, "loom_config");
  cJSON *config = text ? cJSON_Parse(text) : NULL;
  loom_model *m = NULL;
  if (!text) lm_error(LOOM_EINVAL, where, "%s holds no loom_config in its __metadata__ (weights only? use loom_load_weights)", path);
  else if (!config) lm_error(LOOM_EINVAL, where, "%s: loom_config is not valid JSON", path);
  else {
    /* the weights fill at most the file's data; the arena's blocks may leave up to as
     * much again unused at their ends, plus alignment: twice the data bounds them */
    const size_t limit = 2 * f->data_len + (size_t)(f->n + 1) * 128 + ((size_t)8 << 20);
    m = lm_config_read(config, where, limit);
  }
  cJSON_Delete(config);
  int st = m ? load_weights(m, f, where, path) : LOOM_EINVAL;
  /* saved with its optimiser: the step count and generator are there even when the
   * optimiser keeps no tensors (plain SGD) */
  const bool has_opt = lm_st_meta(f, "optimizer_step") != NULL;
  if (!st && m->compiled && has_opt) st = load_optimizer(m, f, where, path);
  if (st && m) {
    loom_graph_free(m->g);
    m = NULL;
  }
  return m;
}

loom_model *loom_model_load(const char *path) {
  static const char where[] = "loom_model_load";
  lm_st_file f;
  if (lm_st_open(&f, path, where)) return NULL;
  loom_model *m = lm_model_from_file(&f, where, path);
  lm_st_close(&f); /* the weights are copied: the mapping goes */
  return m;
}

loom_graph *loom_model_graph(loom_model *m) { return m ? m->g : NULL; }
