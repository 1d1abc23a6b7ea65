/* unary.h - elementwise activations described by their two kernels (internal). */
#ifndef LOOM_OPS_UNARY_H
#define LOOM_OPS_UNARY_H

#include "ops/ops.h"

typedef struct lm_unary_op {
  const char *name;
  void (*forward)(const float *x, float *y, size_t n);
  /* dx += dy * f'(.), from x or from y = f(x) as grad_from_output says */
  void (*grad)(const float *src, const float *dy, float *dx, size_t n);
  bool grad_from_output;
} lm_unary_op;

loom_tensor *lm_unary(loom_ctx *cx, const lm_unary_op *op, loom_tensor *x);

#endif
