/* safetensors.c - the safetensors format, read with every field checked, and written. */
#define _POSIX_C_SOURCE 200809L
#include "lib/io/safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "simd/error.h"

static int fail(const char *where, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(const char *where, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  lm_verror(LOOM_EINVAL, where, fmt, ap);
  va_end(ap);
  return LOOM_EINVAL;
}

static uint64_t le64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

static bool is_int(const cJSON *v, double lo, double hi) {
  if (!cJSON_IsNumber(v)) return false;
  const double d = cJSON_GetNumberValue(v);
  return d >= lo && d <= hi && d == (double)(int64_t)d;
}

static int by_name(const void *a, const void *b) {
  return strcmp((*(const lm_st_tensor *const *)a)->name, (*(const lm_st_tensor *const *)b)->name);
}

static int by_range(const void *a, const void *b) {
  const lm_st_tensor *x = a, *y = b;
  if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
  return x->end < y->end ? -1 : x->end > y->end;
}

static int check_tensor(lm_st_file *f, const cJSON *e, lm_st_tensor *t, const char *where) {
  const char *name = e->string;
  t->name = name;
  if (strlen(name) >= LM_ST_MAX_NAME) return fail(where, "a tensor name is %zu characters long (at most %d)", strlen(name), LM_ST_MAX_NAME - 1);
  if (!cJSON_IsObject(e)) return fail(where, "tensor \"%s\": its entry is not an object", name);
  const char *dt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "dtype"));
  if (!dt) return fail(where, "tensor \"%s\": no \"dtype\" string", name);
  if (!strcmp(dt, "F32")) t->dtype = LOOM_F32;
  else if (!strcmp(dt, "I32")) t->dtype = LOOM_I32;
  else return fail(where, "tensor \"%s\": dtype %s is not supported (F32 or I32)", name, dt);
  const cJSON *shape = cJSON_GetObjectItemCaseSensitive(e, "shape");
  const int rank = cJSON_IsArray(shape) ? cJSON_GetArraySize(shape) : -1;
  if (rank < 0 || rank > LOOM_MAX_RANK)
    return fail(where, "tensor \"%s\": \"shape\" must be an array of at most %d sizes", name, LOOM_MAX_RANK);
  t->rank = rank;
  uint64_t elems = 1;
  for (int i = 0; i < rank; ++i) {
    const cJSON *d = cJSON_GetArrayItem(shape, i);
    if (!is_int(d, 0, (double)((int64_t)1 << 40)))
      return fail(where, "tensor \"%s\": dim %d is not a size in [0, 2^40]", name, i);
    t->shape[i] = (int64_t)cJSON_GetNumberValue(d);
    if (t->shape[i] && elems > (UINT64_C(1) << 60) / (uint64_t)t->shape[i])
      return fail(where, "tensor \"%s\": its shape holds more elements than any file", name);
    elems *= (uint64_t)t->shape[i];
  }
  t->size = (int64_t)elems;
  const cJSON *off = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
  if (!cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2 ||
      !is_int(cJSON_GetArrayItem(off, 0), 0, (double)f->data_len) ||
      !is_int(cJSON_GetArrayItem(off, 1), 0, (double)f->data_len))
    return fail(where, "tensor \"%s\": \"data_offsets\" must be [begin, end] within the %zu data bytes",
                name, f->data_len);
  t->begin = (size_t)cJSON_GetNumberValue(cJSON_GetArrayItem(off, 0));
  t->end = (size_t)cJSON_GetNumberValue(cJSON_GetArrayItem(off, 1));
  if (t->end < t->begin || (uint64_t)(t->end - t->begin) != elems * 4)
    return fail(where, "tensor \"%s\": data_offsets [%zu, %zu] do not hold %llu elements of 4 bytes",
                name, t->begin, t->end, (unsigned long long)elems);
  return LOOM_OK;
}

static int parse(lm_st_file *f, const void *buf, size_t size, const char *where) {
  const unsigned char *p = buf;
  if (size < 8) return fail(where, "%zu bytes: too short for a safetensors file (8-byte header length)", size);
  const uint64_t n = le64(p);
  if (n > size - 8 || n > LM_ST_MAX_HEADER)
    return fail(where, "header length %llu does not fit the file's %zu bytes (or exceeds %zu)",
                (unsigned long long)n, size, LM_ST_MAX_HEADER);
  f->data = p + 8 + n;
  f->data_len = size - 8 - (size_t)n;
  const char *end = NULL;
  f->header = cJSON_ParseWithLengthOpts((const char *)p + 8, (size_t)n, &end, false);
  if (!f->header) return fail(where, "the header is not valid JSON");
  for (const char *q = end; q < (const char *)p + 8 + n; ++q)
    if (*q != ' ' && *q != '\n' && *q != '\r' && *q != '\t' && *q != '\0')
      return fail(where, "the header has bytes after its JSON object");
  if (!cJSON_IsObject(f->header)) return fail(where, "the header is not a JSON object");
  int count = 0;
  for (const cJSON *e = f->header->child; e; e = e->next) count++;
  f->t = calloc((size_t)count + 1, sizeof *f->t);
  if (!f->t) return fail(where, "out of memory");
  for (const cJSON *e = f->header->child; e; e = e->next) {
    if (!strcmp(e->string, "__metadata__")) {
      if (!cJSON_IsObject(e) || f->metadata) return fail(where, "__metadata__ must be one object of strings");
      for (const cJSON *m = e->child; m; m = m->next)
        if (!cJSON_IsString(m)) return fail(where, "__metadata__ \"%s\" is not a string", m->string);
      f->metadata = e;
      continue;
    }
    const int st = check_tensor(f, e, &f->t[f->n], where);
    if (st) return st;
    f->n++;
  }
  lm_st_tensor *sorted = malloc(sizeof *sorted * (size_t)(f->n + 1));
  if (!sorted) return fail(where, "out of memory");
  memcpy(sorted, f->t, sizeof *sorted * (size_t)f->n);
  qsort(sorted, (size_t)f->n, sizeof *sorted, by_range);
  size_t at = 0;
  int st = LOOM_OK;
  for (int i = 0; i < f->n && !st; ++i) {
    if (sorted[i].begin != at)
      st = fail(where, "tensor \"%s\" starts at byte %zu of the data, where %s", sorted[i].name,
                sorted[i].begin, sorted[i].begin < at ? "another tensor lies (overlap)" : "a hole begins");
    at = sorted[i].end;
  }
  if (!st && at != f->data_len)
    st = fail(where, "the tensors cover %zu of the %zu data bytes (the rest is a hole)", at, f->data_len);
  free(sorted);
  f->by_name = malloc(sizeof *f->by_name * (size_t)(f->n + 1));
  if (!st && !f->by_name) st = fail(where, "out of memory");
  for (int i = 0; !st && i < f->n; ++i) f->by_name[i] = &f->t[i];
  if (!st) qsort(f->by_name, (size_t)f->n, sizeof *f->by_name, by_name);
  for (int i = 1; i < f->n && !st; ++i)
    if (!strcmp(f->by_name[i]->name, f->by_name[i - 1]->name))
      st = fail(where, "tensor \"%s\" appears twice", f->by_name[i]->name);
  return st;
}

/* On failure nothing parse allocated is left behind (the mapping, if any, stays: the
 * caller made it). */
int lm_st_parse(lm_st_file *f, const void *buf, size_t size, const char *where) {
  const int st = parse(f, buf, size, where);
  if (st) {
    cJSON_Delete(f->header);
    free(f->t), free(f->by_name);
    f->header = NULL, f->metadata = NULL, f->t = NULL, f->by_name = NULL, f->n = 0;
  }
  return st;
}

int lm_st_open(lm_st_file *f, const char *path, const char *where) {
  memset(f, 0, sizeof *f);
  if (!path) return fail(where, "path is NULL");
  const int fd = open(path, O_RDONLY);
  if (fd < 0) return fail(where, "cannot open %s: %s", path, strerror(errno));
  struct stat sb;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    close(fd);
    return fail(where, "%s is not a regular file", path);
  }
  f->map_size = (size_t)sb.st_size;
  if (f->map_size == 0) {
    close(fd);
    return fail(where, "%s is empty", path);
  }
  f->map = mmap(NULL, f->map_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (f->map == MAP_FAILED) {
    f->map = NULL;
    return fail(where, "cannot map %s: %s", path, strerror(errno));
  }
  const int st = lm_st_parse(f, f->map, f->map_size, where);
  if (st) lm_st_close(f);
  return st;
}

void lm_st_close(lm_st_file *f) {
  if (f->map) munmap(f->map, f->map_size);
  cJSON_Delete(f->header);
  free(f->t), free(f->by_name);
  memset(f, 0, sizeof *f);
}

const lm_st_tensor *lm_st_find(const lm_st_file *f, const char *name) {
  int lo = 0, hi = f->n - 1;
  while (lo <= hi) { /* by_name is sorted */
    const int mid = lo + (hi - lo) / 2, c = strcmp(f->by_name[mid]->name, name);
    if (!c) return f->by_name[mid];
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return NULL;
}

const char *lm_st_meta(const lm_st_file *f, const char *key) {
  return f->metadata ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f->metadata, key)) : NULL;
}

void lm_st_read(const lm_st_file *f, const lm_st_tensor *t, void *dst) {
  const unsigned char *src = f->data + t->begin;
  unsigned char *d = dst;
  const size_t bytes = t->end - t->begin;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  memcpy(d, src, bytes);
#else
  for (size_t i = 0; i < bytes; i += 4) d[i] = src[i + 3], d[i + 1] = src[i + 2], d[i + 2] = src[i + 1], d[i + 3] = src[i];
#endif
}

/* ---------------------------------------------------------------- writing */

static bool write_all(FILE *out, const void *p, size_t n) { return fwrite(p, 1, n, out) == n; }

int lm_st_write(const char *path, const char *where, int n, const lm_st_entry *e, int n_meta,
                const char *const *keys, const char *const *values) {
  if (!path) return fail(where, "path is NULL");
  cJSON *h = cJSON_CreateObject(), *meta = cJSON_CreateObject();
  for (int i = 0; i < n_meta; ++i) cJSON_AddStringToObject(meta, keys[i], values[i]);
  cJSON_AddItemToObject(h, "__metadata__", meta);
  size_t at = 0;
  for (int i = 0; i < n; ++i) {
    const loom_tensor *t = e[i].tensor;
    cJSON *te = cJSON_CreateObject(), *shape = cJSON_CreateArray(), *off = cJSON_CreateArray();
    cJSON_AddStringToObject(te, "dtype", t->dtype == LOOM_I32 ? "I32" : "F32");
    for (int k = 0; k < t->rank; ++k) cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t->shape[k]));
    cJSON_AddItemToObject(te, "shape", shape);
    cJSON_AddItemToArray(off, cJSON_CreateNumber((double)at));
    at += (size_t)t->size * 4;
    cJSON_AddItemToArray(off, cJSON_CreateNumber((double)at));
    cJSON_AddItemToObject(te, "data_offsets", off);
    cJSON_AddItemToObject(h, e[i].name, te);
  }
  char *text = cJSON_PrintUnformatted(h);
  cJSON_Delete(h);
  if (!text) return fail(where, "out of memory");
  size_t len = strlen(text);
  const size_t padded = (len + 8 + 63) / 64 * 64 - 8; /* the data starts 64-byte aligned */
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *out = fopen(tmp, "wb");
  if (!out) {
    cJSON_free(text);
    return fail(where, "cannot write %s: %s", tmp, strerror(errno));
  }
  unsigned char hl[8];
  for (int i = 0; i < 8; ++i) hl[i] = (unsigned char)((uint64_t)padded >> (8 * i));
  bool ok = write_all(out, hl, 8) && write_all(out, text, len);
  for (size_t i = len; ok && i < padded; ++i) ok = fputc(' ', out) != EOF;
  cJSON_free(text);
  for (int i = 0; ok && i < n; ++i) {
    const loom_tensor *t = e[i].tensor;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    ok = write_all(out, t->data, (size_t)t->size * 4);
#else
    for (int64_t k = 0; ok && k < t->size; ++k) {
      const unsigned char *b = (const unsigned char *)t->data + 4 * k, le[4] = {b[3], b[2], b[1], b[0]};
      ok = write_all(out, le, 4);
    }
#endif
  }
  ok = fclose(out) == 0 && ok;
  if (!ok || rename(tmp, path) != 0) {
    const int err = errno;
    remove(tmp);
    return fail(where, "cannot write %s: %s", path, strerror(err));
  }
  return LOOM_OK;
}
