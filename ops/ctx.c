/* ctx.c - the execution context: step arena, training flag, first error of a step. */
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"

loom_ctx *loom_ctx_new(loom_arena *scratch) {
  loom_ctx *cx = calloc(1, sizeof *cx);
  if (!cx) {
    lm_error(LOOM_ENOMEM, "loom_ctx_new", "out of memory");
    return NULL;
  }
  cx->arena = scratch;
  if (!scratch) {
    cx->arena = loom_arena_new(NULL);
    cx->own_arena = true;
    if (!cx->arena) {
      free(cx);
      return NULL;
    }
  }
  return cx;
}

void loom_ctx_free(loom_ctx *cx) {
  if (!cx) return;
  lm_tape_forget(cx);
  if (cx->own_arena) loom_arena_free(cx->arena);
  free(cx->free_grads);
  free(cx);
}

loom_status loom_ctx_set_training(loom_ctx *cx, bool training) {
  if (!cx) return lm_error(LOOM_EINVAL, "loom_ctx_set_training", "ctx is NULL");
  cx->training = training;
  return LOOM_OK;
}

bool loom_ctx_training(const loom_ctx *cx) { return cx && cx->training; }

loom_status loom_ctx_reset(loom_ctx *cx) {
  if (!cx) return lm_error(LOOM_EINVAL, "loom_ctx_reset", "ctx is NULL");
  lm_tape_forget(cx);
  loom_arena_reset(cx->arena);
  cx->status = LOOM_OK;
  cx->err[0] = '\0';
  return LOOM_OK;
}

size_t loom_ctx_tape_length(const loom_ctx *cx) { return cx ? cx->tape_len : 0; }
loom_arena *loom_ctx_arena(loom_ctx *cx) { return cx ? cx->arena : NULL; }
const char *loom_ctx_error(const loom_ctx *cx) { return cx ? cx->err : "ctx is NULL"; }
loom_status loom_ctx_status(const loom_ctx *cx) { return cx ? cx->status : LOOM_EINVAL; }

int lm_fail(loom_ctx *cx, int status, const char *op, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  lm_verror(status, op, fmt, ap);
  va_end(ap);
  if (cx && cx->status == LOOM_OK) {
    cx->status = status;
    lm_error_copy(cx->err, sizeof cx->err);
  }
  return status;
}

bool lm_inputs_ok(loom_ctx *cx, const char *op, int n, loom_tensor *const *in) {
  return lm_inputs_typed(cx, op, n, in, NULL);
}

bool lm_inputs_typed(loom_ctx *cx, const char *op, int n, loom_tensor *const *in,
                     const loom_dtype *dtypes) {
  if (!cx) {
    lm_error(LOOM_EINVAL, op, "ctx is NULL");
    return false;
  }
  for (int i = 0; i < n; ++i) {
    if (!in[i]) {
      /* After an earlier error this is its echo: keep the first message. */
      if (cx->status == LOOM_OK) lm_fail(cx, LOOM_EINVAL, op, "input %d is NULL", i);
      return false;
    }
    const loom_dtype want = dtypes ? dtypes[i] : LOOM_F32;
    if (in[i]->dtype != want) {
      lm_fail(cx, LOOM_EDTYPE, op, "input %d is %s; this op takes %s there", i,
              in[i]->dtype == LOOM_I32 ? "i32" : "f32", want == LOOM_I32 ? "i32" : "f32");
      return false;
    }
  }
  return true;
}

loom_tensor *lm_out(loom_ctx *cx, const char *op, int rank, const int64_t *shape) {
  loom_tensor *t = lm_tensor_alloc(cx->arena, LOOM_F32, rank, shape, op);
  if (!t) lm_fail(cx, LOOM_ENOMEM, op, "cannot allocate the output: %s", loom_arena_error(cx->arena));
  return t;
}

void *lm_scratch(loom_ctx *cx, const char *op, size_t bytes) {
  void *p = loom_arena_alloc(cx->arena, bytes);
  if (!p) lm_fail(cx, LOOM_ENOMEM, op, "%s", loom_arena_error(cx->arena));
  return p;
}

void *lm_scratch_n(loom_ctx *cx, const char *op, size_t elem, int64_t a, int64_t b) {
  int64_t n;
  size_t bytes;
  if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &n) || __builtin_mul_overflow((size_t)n, elem, &bytes)) {
    lm_fail(cx, LOOM_ENOMEM, op, "scratch of %lld x %lld elements of %zu bytes overflows", (long long)a,
            (long long)b, elem);
    return NULL;
  }
  return lm_scratch(cx, op, bytes ? bytes : 1);
}

void lm_ctx_reuse_grads(loom_ctx *cx, bool on) { cx->reuse_grads = on; }

/* The smallest handed-on buffer that holds n floats, taken off the list; or NULL. */
static float *reused(loom_ctx *cx, size_t n) {
  size_t best = cx->n_free;
  for (size_t i = 0; i < cx->n_free; ++i)
    if (cx->free_grads[i].n >= n && (best == cx->n_free || cx->free_grads[i].n < cx->free_grads[best].n))
      best = i;
  if (best == cx->n_free) return NULL;
  float *p = cx->free_grads[best].p;
  cx->free_grads[best] = cx->free_grads[--cx->n_free];
  return p;
}

float *lm_grad_fresh(loom_ctx *cx, loom_tensor *t, bool *fresh) {
  *fresh = false;
  if (!t->requires_grad || t->dtype != LOOM_F32) return NULL;
  if (t->grad) return t->grad;
  const size_t n = (size_t)t->size;
  float *g = cx->reuse_grads ? reused(cx, n) : NULL;
  if (!g) g = loom_arena_alloc(cx->arena, n * sizeof(float));
  if (!g) {
    lm_fail(cx, LOOM_ENOMEM, "loom_backward", "cannot allocate a gradient: %s", loom_arena_error(cx->arena));
    return NULL;
  }
  t->grad = g;
  *fresh = true;
  return g;
}

float *lm_grad(loom_ctx *cx, loom_tensor *t) {
  bool fresh;
  float *g = lm_grad_fresh(cx, t, &fresh);
  if (fresh) memset(g, 0, (size_t)t->size * sizeof(float));
  return g;
}
