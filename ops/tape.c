/* tape.c - the autograd tape: records appended by ops, walked in reverse by backward. */
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"
#include "simd/simd.h"

loom_tensor *lm_record(loom_ctx *cx, const char *op, lm_backward_fn backward, loom_tensor *out,
                       int n_in, loom_tensor *const *in, const void *saved) {
  bool wants = false;
  for (int i = 0; i < n_in; ++i) wants = wants || (in[i] && in[i]->requires_grad); /* NULL: an absent optional input */
  out->requires_grad = cx->training && wants;
  if (!out->requires_grad) return out;

  lm_tape_chunk *c = cx->tape;
  if (!c || c->n == LM_TAPE_CHUNK) {
    c = loom_arena_alloc(cx->arena, sizeof *c);
    if (!c) {
      lm_fail(cx, LOOM_ENOMEM, op, "cannot grow the tape: %s", loom_arena_error(cx->arena));
      return NULL;
    }
    c->prev = cx->tape;
    c->n = 0;
    cx->tape = c;
  }
  loom_tensor **ins = loom_arena_alloc(cx->arena, (size_t)n_in * sizeof *ins);
  if (!ins) {
    lm_fail(cx, LOOM_ENOMEM, op, "cannot grow the tape: %s", loom_arena_error(cx->arena));
    return NULL;
  }
  memcpy(ins, in, (size_t)n_in * sizeof *ins);
  c->rec[c->n++] = (lm_rec){.op = op, .backward = backward, .in = ins, .n_in = n_in, .out = out, .saved = saved};
  cx->tape_len++;
  return out;
}

/* Drop every gradient the tape reached (weights keep no pointer into a reset arena)
 * and the tape itself. */
void lm_tape_forget(loom_ctx *cx) {
  for (lm_tape_chunk *c = cx->tape; c; c = c->prev)
    for (int i = 0; i < c->n; ++i) {
      c->rec[i].out->grad = NULL;
      for (int j = 0; j < c->rec[i].n_in; ++j)
        if (c->rec[i].in[j]) c->rec[i].in[j]->grad = NULL;
    }
  if (cx->seed) cx->seed->grad = NULL;
  cx->seed = NULL;
  cx->n_free = 0; /* the buffers go with the arena's reset */
  cx->tape = NULL;
  cx->tape_len = 0;
  cx->backward_done = false;
}

/* An op's output gradient, read by nothing once its backward has run (its consumers
 * ran before it), goes on the list lm_grad takes buffers from. */
static bool hand_on(loom_ctx *cx, loom_tensor *t) {
  if (cx->n_free == cx->cap_free) {
    const size_t cap = cx->cap_free ? 2 * cx->cap_free : 64;
    struct lm_free_grad *p = realloc(cx->free_grads, cap * sizeof *p);
    if (!p) {
      lm_fail(cx, LOOM_ENOMEM, "loom_backward", "out of memory");
      return false;
    }
    cx->free_grads = p, cx->cap_free = cap;
  }
  cx->free_grads[cx->n_free++] = (struct lm_free_grad){t->grad, (size_t)t->size};
  t->grad = NULL;
  return true;
}

loom_status loom_backward_from(loom_ctx *cx, loom_tensor *out, const float *out_grad) {
  static const char op[] = "loom_backward";
  if (!cx) return lm_error(LOOM_EINVAL, op, "ctx is NULL");
  if (cx->status != LOOM_OK) return lm_error(cx->status, op, "the step failed earlier: %s", cx->err);
  if (!out) return lm_fail(cx, LOOM_EINVAL, op, "output tensor is NULL");
  if (!out_grad) return lm_fail(cx, LOOM_EINVAL, op, "output gradient is NULL");
  if (!cx->training) return lm_fail(cx, LOOM_ESTATE, op, "the ctx is not in training mode");
  if (cx->backward_done)
    return lm_fail(cx, LOOM_ESTATE, op, "backward already ran in this step; call loom_ctx_reset");
  if (out->dtype != LOOM_F32 || !out->requires_grad)
    return lm_fail(cx, LOOM_ESTATE, op,
                   "the output depends on no tensor that requires a gradient");
  float *g = lm_grad(cx, out);
  if (!g) return cx->status;
  cx->seed = out;
  lm_k_axpy(1.0f, out_grad, g, (size_t)out->size);
  /* Tape order is creation order, so every consumer of a tensor comes after it: by the
   * time a record is reached its output's gradient is complete. */
  for (lm_tape_chunk *c = cx->tape; c; c = c->prev)
    for (int i = c->n - 1; i >= 0; --i) {
      const lm_rec *r = &c->rec[i];
      if (!r->out->grad) continue; /* the output does not reach `out` */
      const int st = r->backward(cx, r);
      if (st != LOOM_OK) return st;
      if (cx->reuse_grads && r->out != out && !hand_on(cx, r->out)) return cx->status;
    }
  cx->backward_done = true;
  return LOOM_OK;
}

loom_status loom_backward(loom_ctx *cx, loom_tensor *loss) {
  if (cx && loss && loss->size != 1) {
    char s[64];
    return lm_fail(cx, LOOM_ESHAPE, "loom_backward",
                   "the loss must hold one element; its shape is %s (use loom_backward_from)",
                   lm_shape_str(loss, s, sizeof s));
  }
  const float one = 1.0f;
  return loom_backward_from(cx, loss, &one);
}
