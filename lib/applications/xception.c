/* xception.c - keras.applications.Xception, layer for layer and name for name (entry
 * flow, middle flow x 8, exit flow), without pretrained weights. */
#include <stdio.h>

#include "lib/graph/graph.h"

typedef struct xb {
  loom_graph *g;
} xb;

static loom_node *act(xb *b, loom_node *x, const char *name) {
  return loom_call(loom_Activation(b->g, .activation = LOOM_RELU, .name = name), x);
}

static loom_node *bn(xb *b, loom_node *x, const char *name) {
  return loom_call(loom_BatchNormalization(b->g, .name = name), x);
}

static loom_node *sep(xb *b, loom_node *x, int filters, const char *name) {
  return loom_call(loom_SeparableConv2D(b->g, .filters = filters, .kernel_size = {3}, .padding = LOOM_SAME,
                                        .use_bias = LOOM_NO, .name = name), x);
}

/* Conv2D(filters, 1, strides 2, same, no bias) + BatchNormalization, automatic names. */
static loom_node *shortcut(xb *b, loom_node *x, int filters) {
  x = loom_call(loom_Conv2D(b->g, .filters = filters, .kernel_size = {1}, .strides = {2}, .padding = LOOM_SAME,
                            .use_bias = LOOM_NO), x);
  return loom_call(loom_BatchNormalization(b->g), x);
}

static loom_node *pool(xb *b, loom_node *x, const char *name) {
  return loom_call(loom_MaxPooling2D(b->g, .pool_size = {3}, .strides = {2}, .padding = LOOM_SAME, .name = name), x);
}

/* Entry blocks 3 and 4 and exit block 13: act, sepconv, bn, act, sepconv, bn, pool, add. */
static loom_node *down_block(xb *b, loom_node *x, int block, int f1, int f2, bool first_act) {
  char n[6][40];
  snprintf(n[0], sizeof n[0], "block%d_sepconv1_act", block);
  snprintf(n[1], sizeof n[1], "block%d_sepconv1", block);
  snprintf(n[2], sizeof n[2], "block%d_sepconv1_bn", block);
  snprintf(n[3], sizeof n[3], "block%d_sepconv2_act", block);
  snprintf(n[4], sizeof n[4], "block%d_sepconv2", block);
  snprintf(n[5], sizeof n[5], "block%d_sepconv2_bn", block);
  char pn[32];
  snprintf(pn, sizeof pn, "block%d_pool", block);
  loom_node *residual = shortcut(b, x, f2);
  if (first_act) x = act(b, x, n[0]);
  x = bn(b, sep(b, x, f1, n[1]), n[2]);
  x = act(b, x, n[3]);
  x = bn(b, sep(b, x, f2, n[4]), n[5]);
  x = pool(b, x, pn);
  return loom_call_list(loom_Add(b->g), x, residual);
}

loom_model *loom_xception(loom_graph *g, const loom_xception_opts *o) {
  if (!g || !o) {
    lm_error(LOOM_EINVAL, "loom_xception", "graph or options NULL");
    return NULL;
  }
  const bool top = o->include_top != LOOM_NO;
  int64_t shape[3] = {o->input_shape[0], o->input_shape[1], o->input_shape[2]};
  if (!shape[0] && !shape[1] && !shape[2]) {
    shape[0] = shape[1] = top ? 299 : LOOM_NONE;
    shape[2] = 3;
  }
  for (int i = 0; i < 2; ++i)
    if (shape[i] != LOOM_NONE && shape[i] < 71) {
      lm_graph_fail(g, LOOM_ESHAPE, "Xception: input sides must be at least 71, got %lldx%lld",
                    (long long)shape[0], (long long)shape[1]);
      return NULL;
    }
  if (shape[2] != 3 || (top && (shape[0] == LOOM_NONE || shape[1] == LOOM_NONE)) || o->classes < 0 ||
      (unsigned)o->pooling > LOOM_POOLING_MAX) {
    lm_graph_fail(g, LOOM_EINVAL, "Xception: input_shape (h, w, 3) with known sides when include_top, "
                  "classes >= 0, pooling none/avg/max");
    return NULL;
  }
  xb b = {g};
  loom_node *img = loom_Input(g, .shape = {shape[0], shape[1], shape[2]});
  loom_node *x = loom_call(loom_Conv2D(g, .filters = 32, .kernel_size = {3}, .strides = {2}, .use_bias = LOOM_NO,
                                       .name = "block1_conv1"), img);
  x = act(&b, bn(&b, x, "block1_conv1_bn"), "block1_conv1_act");
  x = loom_call(loom_Conv2D(g, .filters = 64, .kernel_size = {3}, .use_bias = LOOM_NO, .name = "block1_conv2"), x);
  x = act(&b, bn(&b, x, "block1_conv2_bn"), "block1_conv2_act");

  x = down_block(&b, x, 2, 128, 128, false);
  x = down_block(&b, x, 3, 256, 256, true);
  x = down_block(&b, x, 4, 728, 728, true);

  for (int i = 0; i < 8; ++i) { /* middle flow */
    loom_node *residual = x;
    for (int k = 1; k <= 3; ++k) {
      char na[40], ns[40], nb[40];
      snprintf(na, sizeof na, "block%d_sepconv%d_act", i + 5, k);
      snprintf(ns, sizeof ns, "block%d_sepconv%d", i + 5, k);
      snprintf(nb, sizeof nb, "block%d_sepconv%d_bn", i + 5, k);
      x = bn(&b, sep(&b, act(&b, x, na), 728, ns), nb);
    }
    x = loom_call_list(loom_Add(g), x, residual);
  }

  x = down_block(&b, x, 13, 728, 1024, true);
  x = act(&b, bn(&b, sep(&b, x, 1536, "block14_sepconv1"), "block14_sepconv1_bn"), "block14_sepconv1_act");
  x = act(&b, bn(&b, sep(&b, x, 2048, "block14_sepconv2"), "block14_sepconv2_bn"), "block14_sepconv2_act");

  if (top) {
    x = loom_call(loom_GlobalAveragePooling2D(g, .name = "avg_pool"), x);
    x = loom_call(loom_Dense(g, .units = o->classes ? o->classes : 1000, .activation = LOOM_SOFTMAX,
                             .name = "predictions"), x);
  } else if (o->pooling == LOOM_POOLING_AVG) {
    x = loom_call(loom_GlobalAveragePooling2D(g), x);
  } else if (o->pooling == LOOM_POOLING_MAX) {
    x = loom_call(loom_GlobalMaxPooling2D(g), x);
  }
  return loom_Model(g, .inputs = {img}, .outputs = {x}, .name = o->name ? o->name : "xception");
}
