/* sigmoid.c - 1 / (1 + exp(-x)) elementwise; its gradient comes from y. */
#include "ops/unary.h"
#include "simd/simd.h"

static const lm_unary_op sigmoid_op = {"loom_sigmoid", lm_k_sigmoid, lm_k_sigmoid_grad, true};

loom_tensor *loom_sigmoid(loom_ctx *cx, loom_tensor *x) { return lm_unary(cx, &sigmoid_op, x); }
