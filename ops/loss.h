/* loss.h - what the losses share: checks, the scalar output, the record (internal). */
#ifndef LOOM_OPS_LOSS_H
#define LOOM_OPS_LOSS_H

#include "ops/ops.h"

#define LM_KERAS_EPSILON 1e-7f

/* Per element of y_pred: the loss term (returned, in double) and d term / d pred. */
typedef double (*lm_pointwise_loss)(float t, float p, float *grad);

/* A loss whose per-sample value is the mean over the last axis of a term of (t, p):
 * mse, mae, binary cross-entropy. Overall: the mean of all terms; with row weights w
 * (see below) sum over rows of w_r mean_r, divided by the rows. */
loom_tensor *lm_pointwise(loom_ctx *cx, const char *op, loom_tensor *y_true, loom_tensor *y_pred,
                          lm_pointwise_loss term, const float *w);

/* The losses and metrics with a weight per row of y_pred (a row: its last axis; w holds
 * y_pred's size / its last dim floats; NULL: every weight 1), as Keras' sample weights
 * and masks weigh them: a loss is sum(w_r loss_r) / rows (sum_over_batch_size; a mask
 * makes w_r = mask_r rows / valid rows), a metric sum(w_r value_r) / sum(w_r). */
loom_tensor *lm_loss_mse_w(loom_ctx *cx, loom_tensor *y_true, loom_tensor *y_pred, const float *w);
loom_tensor *lm_loss_mae_w(loom_ctx *cx, loom_tensor *y_true, loom_tensor *y_pred, const float *w);
loom_tensor *lm_loss_bce_w(loom_ctx *cx, loom_tensor *y_true, loom_tensor *y_pred, const float *w);
loom_tensor *lm_loss_bce_logits_w(loom_ctx *cx, loom_tensor *y_true, loom_tensor *logits, const float *w);
loom_tensor *lm_loss_cce_w(loom_ctx *cx, loom_tensor *y_true, loom_tensor *y_pred, const float *w);
loom_tensor *lm_loss_cce_logits_w(loom_ctx *cx, loom_tensor *y_true, loom_tensor *logits, const float *w);
loom_tensor *lm_loss_scce_w(loom_ctx *cx, loom_tensor *y_true, loom_tensor *y_pred, const float *w);
loom_tensor *lm_loss_scce_logits_w(loom_ctx *cx, loom_tensor *y_true, loom_tensor *logits, const float *w);
loom_tensor *lm_metric_binary_accuracy_w(loom_ctx *cx, loom_tensor *y_true, loom_tensor *y_pred, const float *w);
loom_tensor *lm_metric_categorical_accuracy_w(loom_ctx *cx, loom_tensor *y_true, loom_tensor *y_pred, const float *w);
loom_tensor *lm_metric_sparse_categorical_accuracy_w(loom_ctx *cx, loom_tensor *y_true, loom_tensor *y_pred,
                                                     const float *w);

/* y_true and y_pred f32 of one shape (rank >= 1); false with the ctx's error set. */
bool lm_loss_shapes(loom_ctx *cx, const char *op, loom_tensor *y_true, loom_tensor *y_pred);

/* i32 class ids (y_pred's shape without its last axis) in [0, classes) and f32 y_pred;
 * false with the ctx's error set. */
bool lm_class_ids_ok(loom_ctx *cx, const char *op, loom_tensor *y_true, loom_tensor *y_pred);

/* The rank-0 output holding `value`, recorded with d loss / d y_pred in `grad` (saved for
 * backward: dpred += dloss * grad). */
loom_tensor *lm_loss_out(loom_ctx *cx, const char *op, loom_tensor *y_true, loom_tensor *y_pred,
                         double value, float *grad);

#endif
