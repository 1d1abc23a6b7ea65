/* safetensors.h - reading and writing the safetensors format (internal): an 8-byte
 * little-endian header length, a JSON header naming each tensor's dtype, shape and byte
 * range, then the tensors' bytes, back to back, little-endian.
 *
 * Reading trusts nothing: the header length, the JSON, every dtype, shape and offset are
 * checked against the file size and against each other before any tensor is read; the
 * ranges must tile the data exactly (no overlap, no hole), as the format requires. A bad
 * file gives a message naming the file and the field, never a crash. */
#ifndef LOOM_LIB_SAFETENSORS_H
#define LOOM_LIB_SAFETENSORS_H

#include <cjson/cJSON.h>

#include "loom.h"

#define LM_ST_MAX_HEADER ((size_t)16 << 20)
#define LM_ST_MAX_NAME 200

typedef struct lm_st_tensor {
  const char *name; /* in the parsed header */
  loom_dtype dtype;
  int rank;
  int64_t shape[LOOM_MAX_RANK];
  int64_t size; /* elements */
  size_t begin, end; /* byte range within the data */
} lm_st_tensor;

typedef struct lm_st_file {
  void *map; /* the mapping (NULL for a buffer read in memory) */
  size_t map_size;
  const unsigned char *data; /* the tensors' bytes */
  size_t data_len;
  cJSON *header;
  const cJSON *metadata; /* the "__metadata__" object, or NULL */
  int n;
  lm_st_tensor *t;
  lm_st_tensor **by_name; /* sorted by name, for lookups */
} lm_st_file;

/* Map and check a file (or check a buffer that stays alive while f is used); `where`
 * prefixes the messages. LOOM_OK, or an error status with the thread's error set and
 * nothing left to close. */
int lm_st_open(lm_st_file *f, const char *path, const char *where);
int lm_st_parse(lm_st_file *f, const void *buf, size_t size, const char *where);
void lm_st_close(lm_st_file *f);
const lm_st_tensor *lm_st_find(const lm_st_file *f, const char *name);
/* A string of __metadata__, or NULL. */
const char *lm_st_meta(const lm_st_file *f, const char *key);
/* Copy a tensor's elements (4 bytes each, little-endian in the file) to dst. */
void lm_st_read(const lm_st_file *f, const lm_st_tensor *t, void *dst);

typedef struct lm_st_entry {
  const char *name;
  const loom_tensor *tensor;
} lm_st_entry;
/* Write n tensors and the metadata pairs (keys[i], values[i]) to path, through a
 * temporary file renamed at the end (a failed save leaves the old file). */
int lm_st_write(const char *path, const char *where, int n, const lm_st_entry *e, int n_meta,
                const char *const *keys, const char *const *values);

/* The model a checked file holds (save.c), in a new graph; NULL with the thread's error. */
typedef struct loom_model loom_model;
loom_model *lm_model_from_file(const lm_st_file *f, const char *where, const char *path);

#endif
