/* registry.c - the table of layer kinds, kinds added from outside it, and making a layer
 * of a kind from its options. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/layers/layer.h"

static const lm_layer_kind *const table[] = {
#define LM_KIND_ENTRY_(id, sym) [LM_KIND_##id] = &lm_kind_##sym,
    LM_LAYER_KINDS(LM_KIND_ENTRY_)
#undef LM_KIND_ENTRY_
};
_Static_assert(sizeof table / sizeof table[0] == LM_KIND_COUNT, "one descriptor per layer kind");

#define LM_MAX_REGISTERED 64
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static const lm_layer_kind *registered[LM_MAX_REGISTERED];
static int n_registered;

const lm_layer_kind *lm_kind_get(lm_kind_id id) {
  return (unsigned)id < LM_KIND_COUNT ? table[id] : NULL;
}

static const lm_layer_kind *find_locked(const char *class_name) {
  for (int i = 0; i < LM_KIND_COUNT; ++i)
    if (!strcmp(table[i]->class_name, class_name)) return table[i];
  for (int i = 0; i < n_registered; ++i)
    if (!strcmp(registered[i]->class_name, class_name)) return registered[i];
  return NULL;
}

const lm_layer_kind *lm_kind_find(const char *class_name) {
  if (!class_name) return NULL;
  pthread_mutex_lock(&reg_lock);
  const lm_layer_kind *k = find_locked(class_name);
  pthread_mutex_unlock(&reg_lock);
  return k;
}

int lm_kind_register(const lm_layer_kind *k) {
  static const char where[] = "lm_kind_register";
  if (!k || !k->class_name || !*k->class_name || !k->prefix || !*k->prefix || !k->build ||
      !k->forward || k->min_in < 1 || k->max_in < k->min_in || k->max_in > LOOM_MAX_IO ||
      k->opts_size > LM_OPTS_MAX || k->name_offset + sizeof(const char *) > k->opts_size ||
      k->id != LM_KIND_EXTERNAL)
    return lm_error(LOOM_EINVAL, where, "kind \"%s\": needs a class name, a prefix, build, forward, "
                    "1 to %d inputs, options of at most %d bytes holding its name, id LM_KIND_EXTERNAL",
                    k && k->class_name ? k->class_name : "(null)", LOOM_MAX_IO, LM_OPTS_MAX);
  pthread_mutex_lock(&reg_lock);
  int st = LOOM_OK;
  if (find_locked(k->class_name))
    st = lm_error(LOOM_EINVAL, where, "a layer kind \"%s\" exists already", k->class_name);
  else if (n_registered == LM_MAX_REGISTERED)
    st = lm_error(LOOM_ENOMEM, where, "at most %d kinds can be registered", LM_MAX_REGISTERED);
  else
    registered[n_registered++] = k;
  pthread_mutex_unlock(&reg_lock);
  return st;
}

static const char *opts_name(const lm_layer_kind *k, const void *opts) {
  const char *name;
  memcpy(&name, (const char *)opts + k->name_offset, sizeof name);
  return name;
}

int lm_opts_fail(loom_graph *g, const lm_layer_kind *k, const void *opts, int status, const char *fmt, ...) {
  char msg[LM_ERRMSG_CAP];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  const char *name = opts ? opts_name(k, opts) : NULL;
  if (name) return lm_graph_fail(g, status, "%s \"%.63s\": %s", k->class_name, name, msg);
  return lm_graph_fail(g, status, "%s: %s", k->class_name, msg);
}

loom_layer *lm_layer_make(loom_graph *g, const lm_layer_kind *k, const void *opts) {
  if (!g) {
    lm_error(LOOM_EINVAL, k->prefix, "graph is NULL");
    return NULL;
  }
  if (!opts) {
    lm_opts_fail(g, k, NULL, LOOM_EINVAL, "options are NULL");
    return NULL;
  }
  union {
    max_align_t align_;
    unsigned char bytes[LM_OPTS_MAX];
  } o;
  memcpy(o.bytes, opts, k->opts_size);
  if (k->check && k->check(g, k, o.bytes)) return NULL;
  loom_layer *l = lm_layer_new(g, k, opts_name(k, o.bytes));
  if (!l) return NULL;
  memcpy(&l->o, o.bytes, k->opts_size);
  const char *own = l->name; /* the caller's string may go: the layer keeps its own */
  memcpy((char *)&l->o + k->name_offset, &own, sizeof own);
  if (k->made && k->made(l)) return NULL;
  return l;
}
