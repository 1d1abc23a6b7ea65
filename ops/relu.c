/* relu.c - max(x, 0) elementwise; its gradient comes from x. */
#include "ops/unary.h"
#include "simd/simd.h"

static const lm_unary_op relu_op = {"loom_relu", lm_k_relu, lm_k_relu_grad, false};

loom_tensor *loom_relu(loom_ctx *cx, loom_tensor *x) { return lm_unary(cx, &relu_op, x); }
