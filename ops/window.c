/* window.c - TensorFlow's sliding-window arithmetic, written once for shape inference
 * (lib) and the convolution and pooling ops alike, so they cannot disagree. */
#include "ops/ops.h"

int64_t lm_window_out(int64_t len, int64_t span, int64_t stride, loom_padding pad, int *lead) {
  if (pad == LOOM_SAME) {
    const int64_t out = (len + stride - 1) / stride, total = (out - 1) * stride + span - len;
    if (lead) *lead = total > 0 ? (int)(total / 2) : 0;
    return out;
  }
  if (pad == LOOM_CAUSAL) {
    if (lead) *lead = (int)(span - 1);
    return len >= 1 ? (len - 1) / stride + 1 : 0;
  }
  if (lead) *lead = 0;
  return len >= span ? (len - span) / stride + 1 : 0;
}
