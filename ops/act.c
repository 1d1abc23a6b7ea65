/* act.c - activation forward/backward steps shared by Dense and the convolutions. */
#include <string.h>

#include "ops/act.h"
#include "simd/simd.h"

lm_act lm_fused_act(loom_activation act) {
  switch (act) {
    case LOOM_RELU: return LM_ACT_RELU;
    case LOOM_SIGMOID: return LM_ACT_SIGMOID;
    case LOOM_TANH: return LM_ACT_TANH;
    default: return LM_ACT_NONE;
  }
}

void lm_activation_finish(loom_activation act, float *y, size_t rows, size_t cols) {
  if (act == LOOM_SOFTMAX) lm_k_softmax(y, y, rows, cols);
}

const float *lm_activation_grad(loom_ctx *cx, const char *op, loom_activation act, const float *y,
                                const float *dy, size_t rows, size_t cols) {
  if (act == LOOM_LINEAR) return dy;
  const size_t n = rows * cols;
  float *dz = lm_scratch_f32(cx, op, (int64_t)n, 1);
  if (!dz) return NULL;
  memset(dz, 0, n * sizeof(float));
  switch (act) {
    case LOOM_RELU: lm_k_relu_grad(y, dy, dz, n); break;
    case LOOM_SIGMOID: lm_k_sigmoid_grad(y, dy, dz, n); break;
    case LOOM_TANH: lm_k_tanh_grad(y, dy, dz, n); break;
    default: lm_k_softmax_grad(y, dy, dz, rows, cols); break;
  }
  return dz;
}

void lm_bias_grad(const float *dz, size_t rows, size_t cols, float *gb) {
  for (size_t i = 0; i < rows; ++i) lm_k_axpy(1.0f, dz + i * cols, gb, cols);
}

loom_tensor *lm_apply_activation(loom_ctx *cx, loom_tensor *z, loom_activation act) {
  switch (act) {
    case LOOM_RELU: return loom_relu(cx, z);
    case LOOM_SIGMOID: return loom_sigmoid(cx, z);
    case LOOM_TANH: return loom_tanh(cx, z);
    case LOOM_SOFTMAX: return loom_softmax(cx, z);
    default: return z;
  }
}
