/* graph.h - the symbolic graph under the model API (internal): layers, calls, nodes.
 *
 * A layer call (Keras' Node) joins input nodes to output nodes through one layer; a
 * node is one symbolic tensor (Keras' KerasTensor). Calls are numbered in creation
 * order, which is a topological order. Layers hold their weights in the graph's
 * parameter arena; everything else is malloc'd once at construction and freed with
 * the graph. */
#ifndef LOOM_LIB_GRAPH_H
#define LOOM_LIB_GRAPH_H

#include <stdarg.h>
#include <stddef.h>

#include "loom.h"
#include "simd/error.h"

#define LM_MAX_WEIGHTS 6
#define LM_OPTS_MAX 192 /* bytes of a kind's options struct */

typedef struct lm_shape {
  int rank;
  int64_t d[LOOM_MAX_RANK]; /* d[0] is the batch (LOOM_NONE) */
} lm_shape;

typedef struct lm_call lm_call;
typedef struct lm_layer_kind lm_layer_kind; /* lib/layers/kind.h */

struct loom_node {
  lm_call *call;
  int index; /* which output of the call */
  lm_shape shape;
  loom_dtype dtype;
  /* Keras' mask over the steps: the layer that made it (Embedding with mask_zero,
   * Masking), carried along by the layers that keep it; NULL: none. */
  const loom_layer *mask_from;
  /* While a model runs: this node's value, its logits when asked for, its mask [batch,
   * steps] (f32, 1 valid) when mask_from is set. */
  loom_tensor *value, *logits, *mask;
};

struct lm_call {
  loom_layer *layer;
  int index; /* the call's number among the layer's calls (Keras' node_index) */
  int id;    /* creation order in the graph */
  int n_in, n_out;
  loom_node *in[LOOM_MAX_IO];
  loom_node *out[LOOM_MAX_IO];
};

/* Inference with a BatchNormalization folded into the layer before it: the layer scales
 * its kernel's output columns and its bias by `scale` and adds `shift` (per output
 * channel), then applies `act` (an Activation after the BN, fused; LINEAR when none).
 * The folded kernel and bias are made once per inference pass into `cache` and kept in
 * *kernel and *bias (NULL: not made yet), so the batches of one predict share them. */
typedef struct lm_fold {
  const float *scale, *shift;
  loom_activation act;
  loom_arena *cache;
  loom_tensor **kernel, **bias;
} lm_fold;

/* What a run asks of a layer. */
typedef struct lm_run {
  loom_ctx *cx;
  bool training;
  /* Set for a call whose output feeds a cross-entropy: also produce the logits. */
  bool want_logits;
  const lm_fold *fold; /* only for a LM_FOLD_PRODUCER kind ending in a linear activation */
  bool relu_after;      /* BatchNormalization: apply the ReLU Activation after it too */
  /* The inputs' masks (an entry NULL: none), or NULL when no input has one. */
  loom_tensor *const *mask;
  bool zero_output_for_mask; /* Bidirectional's layers: a masked step outputs zeros */
} lm_run;



struct loom_layer {
  loom_graph *g;
  const lm_layer_kind *kind;
  char name[64];
  bool built;
  int n_weights;
  loom_tensor *w[LM_MAX_WEIGHTS];
  const char *w_name[LM_MAX_WEIGHTS];
  bool w_trainable[LM_MAX_WEIGHTS]; /* false: state such as BatchNormalization's moving mean */
  int n_calls, cap_calls;
  lm_call **calls; /* the layer's calls, in order */
  loom_model *model; /* set when this layer is a model */
  /* A wrapper's layers (TimeDistributed: 1, Bidirectional: forward and backward), which
   * run only inside it; their weights are the wrapper's too. */
  int n_sub;
  loom_layer *sub[2];
  loom_layer *wrapper; /* set on a wrapped layer: it cannot be called on its own */
  union { /* the options of its kind, completed with Keras' defaults (kind->check) */
    loom_dense_opts dense;
    loom_embedding_opts embedding;
    loom_conv_opts conv;
    loom_pool_opts pool;
    loom_layer_opts misc;
    loom_separable_opts sep;
    loom_batch_norm_opts bn;
    loom_activation_layer_opts act;
    loom_rnn_opts rnn;
    loom_conv_lstm_opts conv_lstm;
    loom_time_distributed_opts td;
    loom_bidirectional_opts bidir;
    loom_reshaping_opts reshaping;
    loom_dot_opts dot;
    max_align_t align_;
    unsigned char bytes[LM_OPTS_MAX]; /* a kind registered from outside */
  } o;
};

typedef struct lm_rng {
  uint64_t s[4];
} lm_rng;

struct loom_graph {
  int status;
  char err[LM_ERRMSG_CAP];
  loom_arena *params; /* weights and optimiser state: the graph's lifetime */
  lm_rng rng;
  uint64_t seed;
  bool loading; /* building from a file: the weights are read, not drawn */
  bool no_bn_fold; /* no BN folding or BN+ReLU fusion: every layer on its own (tests compare) */
  unsigned fold_epoch; /* bumped by each inference pass: folded weights made before are stale */
  /* Everything made here, for naming and freeing. */
  int n_layers, cap_layers;
  loom_layer **layers;
  int n_calls, cap_calls;
  lm_call **calls;
  int n_models, cap_models;
  loom_model **models;
  int n_inputs; /* for input_1, input_2, ... */
};

/* Record an error on the graph (the first one is kept until cleared) and as the
 * thread's last error; returns status. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
int lm_graph_fail(loom_graph *g, int status, const char *fmt, ...);
/* The same, prefixed with the layer's name. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
int lm_layer_fail(loom_layer *l, int status, const char *fmt, ...);

/* A new layer of kind k, named `name` or automatically; NULL on failure. */
loom_layer *lm_layer_new(loom_graph *g, const lm_layer_kind *k, const char *name);
/* A weight of the layer, f32, in the graph's parameter arena, requiring a gradient; or,
 * with trainable false, state that the layer updates itself (no gradient, no
 * optimiser), counted as Keras' non-trainable params and saved with the model. */
loom_tensor *lm_layer_add_weight(loom_layer *l, const char *name, int rank, const int64_t *shape);
loom_tensor *lm_layer_add_state(loom_layer *l, const char *name, int rank, const int64_t *shape);
/* Record a call of l on inputs with the given outputs (shapes, dtypes); NULL on failure. */
lm_call *lm_call_new(loom_layer *l, int n_in, loom_node *const *in, int n_out,
                     const lm_shape *shape, const loom_dtype *dtype);
/* Append p to a growing array; false when memory runs out (the graph's error set). */
bool lm_push(loom_graph *g, void ***arr, int *n, int *cap, void *p);

/* "(None, 32)" as Python prints the tuple; "[(None, 64)]" with list. */
const char *lm_shape_py(const lm_shape *s, bool list, char *buf, size_t cap);
/* "[None, 32]", for messages. */
const char *lm_shape_msg(const lm_shape *s, char *buf, size_t cap);
/* Number of elements of the shape without its batch dim (-1 if a dim is unknown). */
int64_t lm_shape_sample_size(const lm_shape *s);

/* The generator behind initialisers, masks and shuffles (xoshiro256**). */
void lm_rng_seed(lm_rng *r, uint64_t seed);
uint64_t lm_rng_next(lm_rng *r);
double lm_rng_uniform(lm_rng *r); /* [0, 1) */
double lm_rng_normal(lm_rng *r);

/* Keras' initialisers into w, a weight of layer l, from the graph's generator (nothing
 * while the graph is being loaded). fan_in/fan_out as Keras counts them. */
void lm_init_glorot_uniform(loom_layer *l, loom_tensor *w, double fan_in, double fan_out);
void lm_init_uniform(loom_layer *l, loom_tensor *w, double lo, double hi);
/* Orthogonal(gain 1) for a [rows, cols] matrix, as Keras draws it (QR of a normal). */
int lm_init_orthogonal(loom_layer *l, loom_tensor *w);

#endif
