/* tensor.c - tensors: dtype, shape, contiguous data in an arena. */
#include <stdio.h>
#include <string.h>

#include "ops/ops.h"

static size_t dtype_size(loom_dtype dt) { return dt == LOOM_F32 ? sizeof(float) : sizeof(int32_t); }

loom_tensor *lm_tensor_alloc(loom_arena *arena, loom_dtype dtype, int rank,
                             const int64_t *shape, const char *where) {
  if (!arena) {
    lm_error(LOOM_EINVAL, where, "arena is NULL");
    return NULL;
  }
  int status = LOOM_OK;
  int64_t size = 1;
  if (dtype != LOOM_F32 && dtype != LOOM_I32) {
    status = lm_error(LOOM_EDTYPE, where, "unknown dtype %d (expected LOOM_F32 or LOOM_I32)",
                      (int)dtype);
  } else if (rank < 0 || rank > LOOM_MAX_RANK) {
    status = lm_error(LOOM_ESHAPE, where, "rank %d is out of range 0..%d", rank, LOOM_MAX_RANK);
  } else if (rank > 0 && !shape) {
    status = lm_error(LOOM_EINVAL, where, "shape is NULL for rank %d", rank);
  } else {
    const int64_t limit = (int64_t)(SIZE_MAX / 2 / dtype_size(dtype));
    for (int i = 0; i < rank && status == LOOM_OK; ++i) {
      if (shape[i] < 0)
        status = lm_error(LOOM_ESHAPE, where, "dim %d is negative (%lld)", i, (long long)shape[i]);
      else if (shape[i] > 0 && size > limit / shape[i])
        status = lm_error(LOOM_ENOMEM, where, "%d-d shape holds more than %lld elements", rank,
                          (long long)limit);
      else
        size *= shape[i];
    }
  }
  if (status != LOOM_OK) {
    lm_arena_note_error(arena);
    return NULL;
  }
  loom_tensor *t = loom_arena_alloc(arena, sizeof *t);
  void *data = t ? loom_arena_alloc(arena, (size_t)size * dtype_size(dtype)) : NULL;
  if (!data) return NULL; /* the arena holds the message */
  memset(t, 0, sizeof *t);
  t->dtype = dtype;
  t->rank = rank;
  for (int i = 0; i < rank; ++i) t->shape[i] = shape[i];
  t->size = size;
  t->data = data;
  return t;
}

loom_tensor *loom_tensor_new(loom_arena *arena, loom_dtype dtype, int rank, const int64_t *shape) {
  loom_tensor *t = lm_tensor_alloc(arena, dtype, rank, shape, "loom_tensor_new");
  if (t) memset(t->data, 0, (size_t)t->size * dtype_size(dtype));
  return t;
}

loom_tensor *loom_tensor_from(loom_arena *arena, loom_dtype dtype, int rank, const int64_t *shape,
                              const void *data) {
  if (!data) {
    lm_error(LOOM_EINVAL, "loom_tensor_from", "data is NULL");
    lm_arena_note_error(arena);
    return NULL;
  }
  loom_tensor *t = lm_tensor_alloc(arena, dtype, rank, shape, "loom_tensor_from");
  if (t) memcpy(t->data, data, (size_t)t->size * dtype_size(dtype));
  return t;
}

float *loom_tensor_f32(const loom_tensor *t) {
  return t && t->dtype == LOOM_F32 ? (float *)t->data : NULL;
}

int32_t *loom_tensor_i32(const loom_tensor *t) {
  return t && t->dtype == LOOM_I32 ? (int32_t *)t->data : NULL;
}

loom_status loom_tensor_set_requires_grad(loom_tensor *t, bool on) {
  if (!t) return lm_error(LOOM_EINVAL, "loom_tensor_set_requires_grad", "tensor is NULL");
  if (on && t->dtype != LOOM_F32)
    return lm_error(LOOM_EDTYPE, "loom_tensor_set_requires_grad",
                    "only f32 tensors take gradients (this one is i32)");
  t->requires_grad = on;
  return LOOM_OK;
}

const char *lm_shape_str(const loom_tensor *t, char *buf, size_t cap) {
  size_t len = 0;
  len += (size_t)snprintf(buf, cap, "[");
  for (int i = 0; i < t->rank && len < cap; ++i)
    len += (size_t)snprintf(buf + len, cap - len, "%s%lld", i ? ", " : "", (long long)t->shape[i]);
  if (len < cap) snprintf(buf + len, cap - len, "]");
  return buf;
}

bool lm_same_shape(const loom_tensor *a, const loom_tensor *b) {
  if (a->rank != b->rank) return false;
  for (int i = 0; i < a->rank; ++i)
    if (a->shape[i] != b->shape[i]) return false;
  return true;
}

bool lm_merge_inputs_ok(loom_ctx *cx, const char *op, int n, loom_tensor *const *xs) {
  if (cx && (n < 1 || !xs)) {
    lm_fail(cx, LOOM_EINVAL, op, "needs at least one input (n = %d)", n);
    return false;
  }
  if (!lm_inputs_ok(cx, op, n, xs)) return false;
  for (int i = 1; i < n; ++i)
    if (!lm_same_shape(xs[0], xs[i])) {
      char s0[96], si[96];
      lm_fail(cx, LOOM_ESHAPE, op, "input %d is %s but input 0 is %s (expected one shape)", i,
              lm_shape_str(xs[i], si, sizeof si), lm_shape_str(xs[0], s0, sizeof s0));
      return false;
    }
  return true;
}
