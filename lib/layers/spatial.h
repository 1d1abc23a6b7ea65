/* spatial.h - output sizes of windows sliding over steps or pixels (internal). */
#ifndef LOOM_LIB_SPATIAL_H
#define LOOM_LIB_SPATIAL_H

#include "lib/graph/graph.h"

/* Output length of `len` under a window (dilation included) and stride: TensorFlow's
 * rule; LOOM_NONE stays LOOM_NONE, -2 when a 'valid' window does not fit. */
int64_t lm_out_len(int64_t len, int64_t window, int64_t stride, loom_padding padding);
/* out = x's shape with its `dims` spatial dims slid over; false (error set) if one does
 * not fit. */
bool lm_spatial_out(loom_layer *l, const loom_node *x, int dims, const int *window,
                    const int *stride, loom_padding padding, lm_shape *out);
/* Keras' int-or-tuple: v[1] = v[0] when 0; v[0] = dflt when 0. */
void lm_pair(int v[2], int dflt);

#endif
