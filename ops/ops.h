/* ops.h - what ops share: the context, the tape record, helpers (internal).
 *
 * An op checks its inputs (lm_inputs_ok), allocates its output in the ctx's step arena
 * (lm_out), computes it with simd kernels, and records itself (lm_record) so that
 * loom_backward can call its backward function. A backward function reads r->out->grad
 * and adds into lm_grad(cx, input) for each input that wants a gradient. */
#ifndef LOOM_OPS_H
#define LOOM_OPS_H

#include <stdarg.h>

#include "loom.h"
#include "simd/error.h"

typedef struct lm_rec lm_rec;
typedef int (*lm_backward_fn)(loom_ctx *cx, const lm_rec *r);

struct lm_rec {
  const char *op;
  lm_backward_fn backward;
  loom_tensor **in;
  int n_in;
  loom_tensor *out;
  const void *saved; /* op-specific, in the step arena or static */
};

#define LM_TAPE_CHUNK 64
typedef struct lm_tape_chunk {
  struct lm_tape_chunk *prev;
  int n;
  lm_rec rec[LM_TAPE_CHUNK];
} lm_tape_chunk;

struct loom_ctx {
  loom_arena *arena;
  bool own_arena;
  bool training;
  bool backward_done;
  int status;
  char err[LM_ERRMSG_CAP];
  lm_tape_chunk *tape; /* newest chunk; chunks live in the arena */
  loom_tensor *seed;   /* where backward started: its grad is in the arena too */
  size_t tape_len;
  /* With reuse_grads (models set it), backward hands an op output's gradient buffer on
   * once that op's backward has run (nothing reads it after), and lm_grad takes buffers
   * from here before the arena: a step holds far fewer gradients at once. */
  bool reuse_grads;
  struct lm_free_grad {
    float *p;
    size_t n;
  } *free_grads;
  size_t n_free, cap_free;
};

/* Models' steps: reuse activation gradients within backward (see reuse_grads). */
void lm_ctx_reuse_grads(loom_ctx *cx, bool on);

/* Record an error on the ctx (the first one of a step is kept) and as the thread's
 * last error; returns status. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
int lm_fail(loom_ctx *cx, int status, const char *op, const char *fmt, ...);

/* Keep the thread's last error on the arena as its own. */
void lm_arena_note_error(loom_arena *arena);

/* Checks shared by every op: ctx present, no NULL input (an earlier error propagates
 * silently), f32 inputs. */
bool lm_inputs_ok(loom_ctx *cx, const char *op, int n, loom_tensor *const *in);

/* The same with the dtype each input must have (dtypes[i]; NULL: all f32). */
bool lm_inputs_typed(loom_ctx *cx, const char *op, int n, loom_tensor *const *in,
                     const loom_dtype *dtypes);

/* An uninitialised tensor in the arena; errors go to the thread and the arena. */
loom_tensor *lm_tensor_alloc(loom_arena *arena, loom_dtype dtype, int rank,
                             const int64_t *shape, const char *where);
/* An uninitialised f32 op output in the ctx's step arena; errors go to the ctx. */
loom_tensor *lm_out(loom_ctx *cx, const char *op, int rank, const int64_t *shape);

/* Append a tape record when training and an input requires a gradient; sets
 * out->requires_grad accordingly. Returns out, or NULL on failure. */
loom_tensor *lm_record(loom_ctx *cx, const char *op, lm_backward_fn backward, loom_tensor *out,
                       int n_in, loom_tensor *const *in, const void *saved);
/* Forget the tape and the gradients it reached (loom_ctx_reset). */
void lm_tape_forget(loom_ctx *cx);

/* loom_batch_norm with the mode given rather than the ctx's: a BatchNormalization in
 * inference mode inside a training step (a frozen one) records its gradient too. */
loom_tensor *lm_batch_norm(loom_ctx *cx, loom_tensor *x, loom_tensor *gamma, loom_tensor *beta,
                           loom_tensor *moving_mean, loom_tensor *moving_variance, float momentum, float epsilon,
                           bool training);
/* relu(loom_batch_norm(...)) in one pass and one tensor (a BatchNormalization whose
 * output only a ReLU reads; lib runs it so in training and where it cannot fold). */
loom_tensor *lm_batch_norm_relu(loom_ctx *cx, loom_tensor *x, loom_tensor *gamma, loom_tensor *beta,
                                loom_tensor *moving_mean, loom_tensor *moving_variance, float momentum,
                                float epsilon, bool training);

/* TensorFlow's sliding-window rule (window.c): the output length of an axis of `len`
 * under a window spanning `span` inputs (dilation included) and a stride; 'valid' gives 0
 * when the window does not fit; *lead (may be NULL) is the padding before the axis,
 * 'same' putting the larger half after it, 'causal' all of it before. */
int64_t lm_window_out(int64_t len, int64_t span, int64_t stride, loom_padding pad, int *lead);
/* The output length of a transposed convolution's axis of `len` (Keras'
 * deconv_output_length): without output_padding (LOOM_NONE) the length whose convolution
 * by the same window gives `len` back; with it, (len - 1) * stride + span - 2 * pad +
 * output_padding, pad being span / 2 for 'same' and 0 for 'valid'. */
int64_t lm_conv_transpose_len(int64_t len, int64_t span, int64_t stride, loom_padding pad,
                              int output_padding);

/* bytes of step-arena scratch for an op; NULL with the ctx's error set (naming op) when
 * the arena cannot give them. */
void *lm_scratch(loom_ctx *cx, const char *op, size_t bytes);
/* a * b elements of `elem` bytes of step scratch: the count and the bytes checked for
 * overflow here, once (a count that overflows, or a negative factor, is the ctx's
 * LOOM_ENOMEM naming op); never a zero-byte request. The typed forms below. */
void *lm_scratch_n(loom_ctx *cx, const char *op, size_t elem, int64_t a, int64_t b);
#define lm_scratch_f32(cx, op, a, b) ((float *)lm_scratch_n(cx, op, sizeof(float), a, b))
#define lm_scratch_i32(cx, op, a, b) ((int32_t *)lm_scratch_n(cx, op, sizeof(int32_t), a, b))

/* A point in an arena to come back to: what is allocated after it is given back by
 * lm_arena_rewind (an op's temporary buffers, so that the next op reuses the memory). */
typedef struct lm_arena_mark {
  void *block;
  size_t used, in_use;
} lm_arena_mark;
lm_arena_mark lm_arena_mark_here(loom_arena *a);
void lm_arena_rewind(loom_arena *a, lm_arena_mark m);

/* Change an arena's limit on reserved bytes (0: none); blocks held stay. */
void lm_arena_set_limit(loom_arena *a, size_t max_bytes);

/* The gradient buffer of t (zero-filled on first use), or NULL if t takes none. */
float *lm_grad(loom_ctx *cx, loom_tensor *t);
/* The same, but a first use is not zero-filled: *fresh says so, and then the caller must
 * write every element (instead of adding into them). Saves a pass over big gradients. */
float *lm_grad_fresh(loom_ctx *cx, loom_tensor *t, bool *fresh);

/* "[2, 3]" */
const char *lm_shape_str(const loom_tensor *t, char *buf, size_t cap);
bool lm_same_shape(const loom_tensor *a, const loom_tensor *b);
/* The n-ary merges' input check: n >= 1 inputs that pass lm_inputs_ok and share one
 * shape; false with the ctx's error naming op and the first input that differs. */
bool lm_merge_inputs_ok(loom_ctx *cx, const char *op, int n, loom_tensor *const *xs);

#endif
