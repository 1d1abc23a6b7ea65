/* act.h - the activation step shared by layers that end in one (Dense, Conv): applied in
 * the GEMM epilogue where it can be, undone in backward from the output alone. */
#ifndef LOOM_OPS_ACT_H
#define LOOM_OPS_ACT_H

#include "ops/ops.h"
#include "simd/gemm.h"

/* The epilogue activation for act (softmax is row-wise: none, applied after). */
lm_act lm_fused_act(loom_activation act);
/* After the GEMM: softmax over rows of `cols`, in place; nothing for the others. */
void lm_activation_finish(loom_activation act, float *y, size_t rows, size_t cols);
/* d loss / d pre-activation from y = act(z) and dy: dy itself for linear, else a buffer in
 * the step arena. NULL (ctx error set) when the arena is exhausted. */
const float *lm_activation_grad(loom_ctx *cx, const char *op, loom_activation act, const float *y,
                                const float *dy, size_t rows, size_t cols);
/* act(z) as its own op (relu, sigmoid, tanh, softmax; z itself for linear), for ops and
 * layers whose activation is not fused into a GEMM. */
loom_tensor *lm_apply_activation(loom_ctx *cx, loom_tensor *z, loom_activation act);
/* gb += the column sums of dz [rows, cols], row after row. */
void lm_bias_grad(const float *dz, size_t rows, size_t cols, float *gb);

#endif
