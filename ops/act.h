/* act.h - the activations (internal): one table entry per loom_activation, the op that
 * applies any of them, and the steps shared by layers that end in one (Dense, Conv):
 * relu/sigmoid/tanh applied in the GEMM epilogue and undone in backward from the output
 * alone; the others applied as their own op after a linear GEMM. */
#ifndef LOOM_OPS_ACT_H
#define LOOM_OPS_ACT_H

#include "ops/ops.h"
#include "simd/gemm.h"
#include "simd/simd.h"

typedef struct lm_activation_info {
  const char *name; /* Keras' name */
  lm_actfn fn;      /* the kernel (softmax: none, row-wise) */
  lm_act_param p;
  bool epilogue;    /* fused into a GEMM (or softmax after it), gradient from the output */
} lm_activation_info;

/* The entry of act, or NULL for a value outside the enum. */
const lm_activation_info *lm_activation_get(loom_activation act);
/* The activation Keras calls `name` (with Keras 3's aliases: "silu"), or -1. */
int lm_activation_find(const char *name);

/* f(x) elementwise with parameters p, recorded as op `name` (layers ReLU, ELU, ...). */
loom_tensor *lm_act_op(loom_ctx *cx, const char *name, loom_tensor *x, lm_actfn f, const lm_act_param *p);

/* The epilogue activation for act (softmax is row-wise: none, applied after). */
lm_act lm_fused_act(loom_activation act);
/* A layer op's activation stage: where act is an epilogue one, the op fuses it; else
 * the op runs linear and lm_activation_tail applies act to its output. */
loom_activation lm_epilogue_part(loom_activation act);
loom_tensor *lm_activation_tail(loom_ctx *cx, loom_tensor *y, loom_activation act);
/* After the GEMM: softmax over rows of `cols`, in place; nothing for the others. */
void lm_activation_finish(loom_activation act, float *y, size_t rows, size_t cols);
/* d loss / d pre-activation from y = act(z) and dy, for an epilogue act: dy itself for
 * linear, else a buffer in the step arena. NULL (ctx error set) when the arena is
 * exhausted. */
const float *lm_activation_grad(loom_ctx *cx, const char *op, loom_activation act, const float *y,
                                const float *dy, size_t rows, size_t cols);
/* act(z) as its own op (z itself for linear), for ops and layers whose activation is not
 * fused into a GEMM. */
loom_tensor *lm_apply_activation(loom_ctx *cx, loom_tensor *z, loom_activation act);
/* gb += the column sums of dz [rows, cols], row after row. */
void lm_bias_grad(const float *dz, size_t rows, size_t cols, float *gb);

#endif
