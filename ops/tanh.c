/* tanh.c - tanh(x) elementwise; its gradient comes from y. */
#include "ops/unary.h"
#include "simd/simd.h"

static const lm_unary_op tanh_op = {"loom_tanh", lm_k_tanh, lm_k_tanh_grad, true};

loom_tensor *loom_tanh(loom_ctx *cx, loom_tensor *x) { return lm_unary(cx, &tanh_op, x); }
