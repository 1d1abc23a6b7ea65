/* model.h - models: their graph order, run, compile state (internal). */
#ifndef LOOM_LIB_MODEL_H
#define LOOM_LIB_MODEL_H

#include "lib/graph/graph.h"

typedef enum lm_loss_kind {
  LM_LOSS_NONE = 0,
  LM_LOSS_MSE,
  LM_LOSS_MAE,
  LM_LOSS_BCE,
  LM_LOSS_CCE,
  LM_LOSS_SPARSE_CCE
} lm_loss_kind;

typedef enum lm_metric_kind {
  LM_METRIC_BINARY_ACC = 1,
  LM_METRIC_CATEGORICAL_ACC,
  LM_METRIC_SPARSE_ACC,
  LM_METRIC_MAE
} lm_metric_kind;

#define LM_MAX_METRICS 8

typedef struct lm_output_spec {
  lm_loss_kind loss;
  float weight;
  bool logits; /* the output ends in softmax/sigmoid and the loss is a cross-entropy */
  int n_metrics;
  lm_metric_kind metric[LM_MAX_METRICS];
  char metric_name[LM_MAX_METRICS][16]; /* as the user spelled it: acc, accuracy, mae (a copy) */
} lm_output_spec;

struct loom_history {
  int epochs, cap_epochs;
  int n_keys;              /* the model's metric names, then the val_ ones */
  char (*key)[80];         /* n_keys of them, malloc'd by fit */
  float **values;          /* n_keys of cap_epochs each */
};

/* What runs fused (-1: nothing). A conv: inference folds the BatchNormalization call
 * order[bn] into it, and the ReLU Activation call order[act]. A BatchNormalization: the
 * ReLU Activation call order[relu] runs in it (when it is not folded). folded: a BN that
 * inference folds into the call before it; fused: an Activation done by an earlier call. */
typedef struct lm_fold_plan {
  int bn, act, relu;
  bool folded, fused;
  loom_tensor *kernel, *bias; /* the folded weights of this pass (in the model's fold_cache) */
} lm_fold_plan;

struct loom_model {
  loom_graph *g;
  loom_layer *layer; /* the model as a layer; its name is the model's */
  int n_in, n_out;
  loom_node *in[LOOM_MAX_IO], *out[LOOM_MAX_IO];
  int n_order;
  lm_call **order; /* the calls to run, inputs included, in a topological order */
  lm_fold_plan *fold; /* per call of order: what inference folds (fold.c) */
  loom_arena *fold_cache;   /* the folded weights, remade when g->fold_epoch moves on */
  unsigned fold_epoch;
  int n_layers;
  loom_layer **layers; /* Keras' model.layers: by depth, inputs first */
  bool sequential_like; /* summary without the Connected to column */
  signed char mask_fed; /* as a layer: 0 not called yet, 1 called without masks, 2 with */
  /* every variable of every layer, nested models included, each once: the trainable
   * weights first (n_weights of them, what the optimiser updates), then the layers'
   * own state (BatchNormalization's moving statistics), n_vars in all */
  int n_weights, n_vars;
  loom_tensor **weights;
  /* compile */
  bool compiled;
  loom_optimizer opt;
  lm_output_spec spec[LOOM_MAX_IO];
  int n_names;
  char names[1 + LOOM_MAX_IO * (1 + LM_MAX_METRICS)][80]; /* loss, out_loss..., metrics */
  loom_tensor **slot1, **slot2; /* optimiser state per weight (NULL when unused) */
  long step;
  loom_ctx *cx; /* the step context: activations, tape, gradients */
  loom_history hist;
};

void lm_model_free(loom_model *m);
/* loom_model_new with the model's kind: lm_kind_functional or lm_kind_sequential. */
loom_model *lm_model_make(loom_graph *g, const loom_model_opts *o, const lm_layer_kind *kind);
/* The model's one output moved to `out` (Sequential's add and pop): its calls, layers,
 * weights and fold plan made again; false with the graph's error. */
bool lm_model_reorder(loom_model *m, loom_node *out);
/* Run the model on input values (one per input) in run->cx: fills the output nodes'
 * values (and logits where spec asks, when want_logits is non-NULL). */
int lm_model_run(loom_model *m, const lm_run *run, loom_tensor *const *in, const bool *want_logits);
bool lm_is_input_layer(const loom_layer *l);
/* fold.c: make m->fold; the scale and shift of the BN folded into call i, in cx. */
bool lm_model_plan_folds(loom_model *m);
/* An inference pass begins (predict, evaluate, validation): weights may have changed since
 * the last one, so every model of the graph makes its folded weights again. */
void lm_fold_new_pass(loom_graph *g);
int lm_fold_prepare(loom_model *m, int i, loom_ctx *cx, lm_fold *f);
/* Parameters of a layer (a nested model counts all of its own). */
int64_t lm_layer_count_params(const loom_layer *l, bool trainable_only);

/* 1000052 -> "1,000,052" */
const char *lm_thousands(int64_t v, char *buf, size_t cap);

/* ---------------------------------------------------------------- data (data.c) */

/* fit / evaluate / predict data resolved to the model's order and checked. */
typedef struct lm_dataset {
  int64_t samples;
  bool has_y;
  loom_tensor *x[LOOM_MAX_IO], *y[LOOM_MAX_IO];
} lm_dataset;

/* Resolve d (by position or by name) against the model's inputs and, when need_y, its
 * outputs (and their losses); every mismatch is an error naming what and where. */
int lm_data_resolve(loom_model *m, const loom_data *d, bool need_y, const char *what,
                    lm_dataset *out);
/* Rows idx[0..n) of t as a new tensor in the arena; NULL on failure. */
loom_tensor *lm_take_rows(loom_arena *a, const loom_tensor *t, const int64_t *idx, int64_t n);

/* ---------------------------------------------------------------- steps (step.c) */

/* Per-step results: the total loss, each output's loss, the metrics (model order). */
typedef struct lm_step_values {
  double v[1 + LOOM_MAX_IO * (1 + LM_MAX_METRICS)];
} lm_step_values;
/* One training step (train) or evaluation step on the samples idx[0..n) of ds. */
int lm_step(loom_model *m, const lm_dataset *ds, const int64_t *idx, int64_t n, bool train,
            lm_step_values *out);

/* mask.c: Keras' masks at a call and while a model runs. lm_mask_plan: which outputs of
 * l called on `in` carry a mask (out[i]: the layer that made it, or NULL), or the error
 * refusing a masked input, before the call is built. lm_mask_run: after the call's
 * forward, each output's mask from the inputs' (in_mask, an entry NULL: none). */
int lm_mask_plan(loom_layer *l, int n, loom_node *const *in, int n_out, const loom_layer **out);
int lm_mask_run(lm_call *c, loom_ctx *cx, loom_tensor *const *in_mask);

#endif
