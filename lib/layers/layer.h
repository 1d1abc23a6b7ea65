/* layer.h - what the layer files share (internal): the kind descriptor, input checks,
 * activations, the folded weights. A layer file includes this header alone. */
#ifndef LOOM_LIB_LAYERS_LAYER_H
#define LOOM_LIB_LAYERS_LAYER_H

#include "lib/layers/kind.h"

/* Input i must have rank in [lo, hi] and the dtype; false with the error set. */
bool lm_check_input(loom_layer *l, loom_node *const *in, int i, int lo, int hi, loom_dtype dtype);
/* The last dim of x must be known; false with the error set. */
bool lm_check_known_last(loom_layer *l, const loom_node *x, const char *what);
/* A later call must see the dim the weights were built for. */
bool lm_check_built_dim(loom_layer *l, const loom_node *x, int axis, int64_t want);
/* build for layers whose one f32 output has their input's shape. */
int lm_same_shape_build(loom_layer *l, int n, loom_node *const *in, int *n_out, lm_shape *out,
                        loom_dtype *dt);
/* *act made concrete (LOOM_ACTIVATION_DEFAULT becomes keras_default) and known, else an
 * error naming the kind (and the layer). */
bool lm_check_activation(loom_graph *g, const lm_layer_kind *k, const void *opts, loom_activation *act,
                         loom_activation keras_default);
/* A recurrent cell's settings (LSTM, GRU, SimpleRNN, ConvLSTM2D): activation (tanh) and
 * recurrent_activation (sigmoid) completed and elementwise, dropout and recurrent_dropout
 * in [0, 1); else an error naming the kind and the layer. */
int lm_check_cell(loom_graph *g, const lm_layer_kind *k, const void *opts, loom_activation *act,
                  loom_activation *rec, float dropout, float recurrent_dropout);
/* The activation applied by a layer forward, with logits kept when asked for and the
 * activation is softmax or sigmoid: f(cx, x, act) computes the layer's pre-activation
 * and activation fused; this splits them when logits are wanted. */
loom_tensor *lm_activate(const lm_run *run, loom_tensor *z, loom_activation act);
bool lm_wants_split(const lm_run *run, loom_activation act);
/* Keras' dropout mask of the given shape in the run's arena, drawn from the graph's
 * generator: each value 0 with probability rate, else 1 / (1 - rate). NULL with the
 * layer's error. */
loom_tensor *lm_dropout_mask(loom_layer *l, loom_ctx *cx, int rank, const int64_t *shape, float rate);
/* The states a recurrent layer starts from and returns: h, and c for LSTM (recurrent.c). */
int lm_rnn_states(const loom_layer *l);
/* Keras' name of an activation ("relu"); NULL for none of loom's. */
const char *lm_activation_name(loom_activation act);
/* The kernel ([..., cout] flattened) and bias a layer runs with: its own, or with
 * run->fold, new ones in the run's arena with the BatchNormalization after it folded in
 * (bias made when the layer has none). False with the ctx's error on failure. */
bool lm_fold_weights(const lm_run *run, int64_t cout, loom_tensor **kernel, loom_tensor **bias);

#endif
