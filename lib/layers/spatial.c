/* spatial.c - output sizes of windows sliding over steps or pixels, for convolutions and
 * poolings. */
#include "lib/layers/layer.h"
#include "lib/layers/spatial.h"
#include "ops/ops.h"

int64_t lm_out_len(int64_t len, int64_t window, int64_t stride, loom_padding padding) {
  if (len == LOOM_NONE) return LOOM_NONE;
  if (padding == LOOM_VALID && len < window) return -2;
  return lm_window_out(len, window, stride, padding, NULL);
}

bool lm_spatial_out(loom_layer *l, const loom_node *x, int dims, const int *window,
                    const int *stride, loom_padding padding, lm_shape *out) {
  *out = x->shape;
  for (int k = 0; k < dims; ++k) {
    out->d[1 + k] = lm_out_len(x->shape.d[1 + k], window[k], stride[k], padding);
    if (out->d[1 + k] == -2) {
      char s[96];
      lm_layer_fail(l, LOOM_ESHAPE, "input %s is smaller than the window (%d) in dim %d with "
                    "'valid' padding", lm_shape_msg(&x->shape, s, sizeof s), window[k], 1 + k);
      return false;
    }
  }
  return true;
}

void lm_pair(int v[2], int dflt) {
  if (!v[0]) v[0] = dflt;
  if (!v[1]) v[1] = v[0];
}
