/* tensors.c - files of named tensors (safetensors) for programs: what `loom predict`
 * reads as data and writes as predictions; and a model loaded from memory. */
#include <stdlib.h>
#include <string.h>

#include "lib/io/safetensors.h"
#include "simd/error.h"

loom_status loom_tensors_save(const char *path, int n, const loom_named_tensor *t) {
  static const char where[] = "loom_tensors_save";
  if (!path || n < 0 || (n && !t)) return lm_error(LOOM_EINVAL, where, "path or tensors NULL, or n < 0");
  lm_st_entry *e = calloc((size_t)n + 1, sizeof *e);
  if (!e) return lm_error(LOOM_ENOMEM, where, "out of memory");
  int st = LOOM_OK;
  for (int i = 0; i < n && !st; ++i) {
    if (!t[i].name || !*t[i].name || !t[i].tensor)
      st = lm_error(LOOM_EINVAL, where, "tensor %d has no name or is NULL", i);
    for (int k = 0; k < i && !st; ++k)
      if (!strcmp(t[k].name, t[i].name)) st = lm_error(LOOM_EINVAL, where, "two tensors are named \"%s\"", t[i].name);
    e[i] = (lm_st_entry){t[i].name, t[i].tensor};
  }
  if (!st) st = lm_st_write(path, where, n, e, 0, NULL, NULL);
  free(e);
  return st;
}

int loom_tensors_load(const char *path, loom_arena *arena, loom_named_tensor *out, int cap) {
  static const char where[] = "loom_tensors_load";
  if (!path || !arena || cap < 0 || (cap && !out)) return lm_error(LOOM_EINVAL, where, "path, arena or out NULL");
  lm_st_file f;
  int st = lm_st_open(&f, path, where);
  if (st) return st;
  for (int i = 0; i < f.n && i < cap && !st; ++i) { /* in the file's order */
    const lm_st_tensor *t = &f.t[i];
    const size_t len = strlen(t->name) + 1;
    char *name = loom_arena_alloc(arena, len);
    loom_tensor *x = name ? loom_tensor_new(arena, t->dtype, t->rank, t->shape) : NULL;
    if (!x) {
      st = lm_error(LOOM_ENOMEM, where, "%s: %s", path, loom_arena_error(arena));
      break;
    }
    memcpy(name, t->name, len);
    lm_st_read(&f, t, x->data);
    out[i] = (loom_named_tensor){name, x};
  }
  const int n = f.n;
  lm_st_close(&f);
  return st ? st : n;
}

loom_model *loom_model_load_buffer(const void *buf, size_t size) {
  static const char where[] = "loom_model_load_buffer";
  if (!buf && size) {
    lm_error(LOOM_EINVAL, where, "buffer is NULL");
    return NULL;
  }
  lm_st_file f = {0};
  if (lm_st_parse(&f, buf, size, where)) return NULL;
  loom_model *m = lm_model_from_file(&f, where, "the buffer");
  lm_st_close(&f);
  return m;
}
