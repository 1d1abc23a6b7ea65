/* kind.h - what a layer kind is (internal): the descriptor each layer file fills in, the
 * table of the kinds loom ships, and the registry that finds a kind by Keras' class name.
 *
 * A kind holds everything its layers mean: Keras' class name (the config's class_name and
 * summary's type column) and automatic-name prefix, its options struct with the Keras
 * config key of each option, the check that completes options with Keras' defaults, build
 * (shapes, weights with their Keras names and initialisers, trainable or not), forward,
 * and what BatchNormalization folding may do with it. Graph, model, compile, fold, summary,
 * save and load ask the descriptor; nothing else compares class names.
 *
 * Adding a kind: write its file in lib/layers/ (copy lib/layers/dense.c), add one line
 * to LM_LAYER_KINDS below, declare its constructor in loom.h. A kind defined outside the
 * library (a test, a user's program linking libloom.a) is added with lm_kind_register. */
#ifndef LOOM_LIB_LAYERS_KIND_H
#define LOOM_LIB_LAYERS_KIND_H

#include <stddef.h>

#include "lib/graph/graph.h"

/* Every kind of the table: X(ENUM_SUFFIX, descriptor symbol suffix). One line per kind. */
#define LM_LAYER_KINDS(X)                                              \
  X(INPUT_LAYER, input_layer)                                          \
  X(FUNCTIONAL, functional)                                            \
  X(SEQUENTIAL, sequential)                                            \
  X(DENSE, dense)                                                      \
  X(ACTIVATION, activation)                                            \
  X(RELU, relu)                                                        \
  X(LEAKY_RELU, leaky_relu)                                            \
  X(PRELU, prelu)                                                      \
  X(ELU, elu)                                                          \
  X(SOFTMAX, softmax)                                                  \
  X(FLATTEN, flatten)                                                  \
  X(DROPOUT, dropout)                                                  \
  X(MASKING, masking)                                                  \
  X(EMBEDDING, embedding)                                              \
  X(LSTM, lstm)                                                        \
  X(GRU, gru)                                                          \
  X(SIMPLE_RNN, simple_rnn)                                            \
  X(CONV_LSTM2D, conv_lstm2d)                                          \
  X(CONV1D, conv1d)                                                    \
  X(CONV2D, conv2d)                                                    \
  X(CONV1D_TRANSPOSE, conv1d_transpose)                                \
  X(CONV2D_TRANSPOSE, conv2d_transpose)                                \
  X(DEPTHWISE_CONV2D, depthwise_conv2d)                                \
  X(SEPARABLE_CONV2D, separable_conv2d)                                \
  X(BATCH_NORMALIZATION, batch_normalization)                          \
  X(MAX_POOLING1D, max_pooling1d)                                      \
  X(MAX_POOLING2D, max_pooling2d)                                      \
  X(AVERAGE_POOLING1D, average_pooling1d)                              \
  X(AVERAGE_POOLING2D, average_pooling2d)                              \
  X(RESHAPE, reshape)                                                  \
  X(PERMUTE, permute)                                                  \
  X(REPEAT_VECTOR, repeat_vector)                                      \
  X(ZERO_PADDING1D, zero_padding1d)                                    \
  X(ZERO_PADDING2D, zero_padding2d)                                    \
  X(CROPPING1D, cropping1d)                                            \
  X(CROPPING2D, cropping2d)                                            \
  X(UP_SAMPLING1D, up_sampling1d)                                      \
  X(UP_SAMPLING2D, up_sampling2d)                                      \
  X(GLOBAL_MAX_POOLING1D, global_max_pooling1d)                        \
  X(GLOBAL_MAX_POOLING2D, global_max_pooling2d)                        \
  X(GLOBAL_AVERAGE_POOLING1D, global_average_pooling1d)                \
  X(GLOBAL_AVERAGE_POOLING2D, global_average_pooling2d)                \
  X(ADD, add)                                                          \
  X(SUBTRACT, subtract)                                                \
  X(MULTIPLY, multiply)                                                \
  X(AVERAGE, average)                                                  \
  X(MAXIMUM, maximum)                                                  \
  X(MINIMUM, minimum)                                                  \
  X(CONCATENATE, concatenate)                                          \
  X(DOT, dot)                                                          \
  X(TIME_DISTRIBUTED, time_distributed)                                \
  X(BIDIRECTIONAL, bidirectional)

typedef enum lm_kind_id {
#define LM_KIND_ENUM_(id, sym) LM_KIND_##id,
  LM_LAYER_KINDS(LM_KIND_ENUM_)
#undef LM_KIND_ENUM_
  LM_KIND_COUNT,
  LM_KIND_EXTERNAL = LM_KIND_COUNT /* a kind added with lm_kind_register */
} lm_kind_id;

/* How an option is stored in its struct and spelled in Keras' config. */
typedef enum lm_opt_type {
  LM_OPT_INT,        /* int; "units": 32 */
  LM_OPT_FLOAT,      /* float; "rate": 0.5 */
  LM_OPT_BOOL,       /* bool, default false; "return_sequences": false */
  LM_OPT_FLAG,       /* loom_flag, default true; "use_bias": true */
  LM_OPT_ACTIVATION, /* loom_activation; "activation": "relu" */
  LM_OPT_PADDING,    /* loom_padding; "padding": "same" */
  LM_OPT_TUPLE,      /* int[2], one entry per spatial dim; "kernel_size": [3, 3] (an int: all) */
  LM_OPT_TUPLE_NONE, /* int[2] as LM_OPT_TUPLE, 0 for Keras' None, LOOM_ZERO for an explicit 0;
                        "output_padding": null or [1, 1] */
  LM_OPT_FLOAT_NONE, /* float, 0 for Keras' None; "max_value": null */
  LM_OPT_AXES,       /* int[LOOM_MAX_RANK - 1], 0-ended; "shared_axes": [1, 2] (null: none) */
  LM_OPT_LAYER,      /* loom_layer *, a wrapped layer; "layer": {"class_name": ..., "config": ...} */
  LM_OPT_MERGE,      /* loom_merge_mode; "merge_mode": "concat" (null: LOOM_MERGE_NONE) */
  LM_OPT_PAIRS,      /* int[2][2], {before, after} per spatial dim; "padding": [[1, 1], [2, 2]]
                      * (1-D: [1, 1]; an int: all; 2-D [1, 2]: {1, 1}, {2, 2}) */
  LM_OPT_NAMED       /* an enum, by the names in `names` (index = value); "interpolation": "nearest" */
} lm_opt_type;

typedef struct lm_opt {
  const char *key; /* Keras' config key */
  lm_opt_type type;
  size_t offset;   /* in the kind's options struct */
  double lo, hi;   /* what a config may hold (numbers, tuple entries) */
  const char *alias; /* another key read when `key` is absent (Keras 2's name), or NULL */
  const char *const *names; /* LM_OPT_NAMED: NULL-ended */
} lm_opt;
#define LM_OPT(T, field, key, type, lo, hi) {key, type, offsetof(T, field), lo, hi, NULL, NULL}
#define LM_OPT_ALIAS(T, field, key, alias, type, lo, hi) {key, type, offsetof(T, field), lo, hi, alias, NULL}
#define LM_OPT_ENUM(T, field, key, names) {key, LM_OPT_NAMED, offsetof(T, field), 0, 0, NULL, names}
#define LM_OPTS_END {NULL, LM_OPT_INT, 0, 0, 0, NULL, NULL}

/* What inference's BatchNormalization folding may do with a kind (lib/graph/fold.c). */
typedef enum lm_fold_role {
  LM_FOLD_NONE = 0,
  LM_FOLD_PRODUCER,   /* a BN after it folds into its kernel and bias when its activation
                       * is linear; its forward takes run->fold (lm_fold_weights) */
  LM_FOLD_BN,         /* BatchNormalization: folds into a producer; runs a ReLU after it */
  LM_FOLD_ACTIVATION  /* only applies its activation: a ReLU may fuse into the BN before it */
} lm_fold_role;

/* What a kind does with Keras' mask over steps (a node's mask: graph.h). Keras 3 drops a
 * mask reaching a layer that cannot use it (with a warning); loom refuses it at the
 * call, naming the layer and where the mask came from. */
typedef enum lm_mask_role {
  LM_MASK_REFUSE = 0, /* a masked input is an error */
  LM_MASK_KEEP,       /* steps stay steps (Dense, Dropout, activations, TimeDistributed):
                       * the first input's mask passes through */
  LM_MASK_MERGE,      /* Add, Multiply, ...: the OR of the inputs' masks */
  LM_MASK_CONCAT,     /* Concatenate: the same, an unmasked input counting as all valid */
  LM_MASK_CONSUME,    /* uses the mask (run->mask) and its output has none */
  LM_MASK_SEQUENCE,   /* uses it; the first masked_outputs outputs keep it */
  LM_MASK_MAKE,       /* makes its output's mask from its input (make_mask) when
                       * masked_outputs says so */
  LM_MASK_MODEL       /* a model used as a layer: its outputs' masks are its own */
} lm_mask_role;

struct lm_layer_kind {
  lm_kind_id id;
  const char *class_name; /* Keras' class name */
  const char *prefix;     /* automatic names: dense, dense_1, ... */
  int min_in, max_in;     /* inputs a call takes */
  int dims;               /* spatial dims of a convolution or pooling (1, 2); else 0 */
  size_t opts_size;       /* its options struct (at most LM_OPTS_MAX bytes) */
  size_t name_offset;     /* of the struct's `const char *name` */
  const lm_opt *opts;     /* its config keys, ended by LM_OPTS_END; NULL: none */
  /* Complete a copy of the options with Keras' defaults and check them; LOOM_OK, or an
   * error through lm_opts_fail. NULL: nothing to check. */
  int (*check)(loom_graph *g, const lm_layer_kind *k, void *opts);
  /* Complete a layer just made from checked options (a wrapper makes or takes the layers
   * it wraps: l->sub); LOOM_OK or an error through lm_layer_fail. NULL: nothing. */
  int (*made)(loom_layer *l);
  /* Infer the outputs' shapes from the inputs' and, on the first call, make the
   * weights; a later call must fit them. Errors through lm_layer_fail. */
  int (*build)(loom_layer *l, int n, loom_node *const *in, int *n_out, lm_shape *out,
               loom_dtype *out_dtype);
  /* Compute the outputs from the inputs' values (in the run's ctx). With
   * run->want_logits, out_logits[0] receives the pre-activation (or stays NULL). */
  int (*forward)(loom_layer *l, const lm_run *run, int n, loom_tensor **in, loom_tensor **out,
                 loom_tensor **out_logits);
  /* The activation the layer ends in (compile's logits rule, folding); NULL: none. */
  loom_activation (*activation)(const loom_layer *l);
  lm_fold_role fold;
  /* LM_FOLD_BN: the per-channel affine map inference applies, y = x * scale + shift, into
   * scale_shift[0, c) and [c, 2c) (NULL: nothing written); returns c. */
  int64_t (*fold_affine)(const loom_layer *l, float *scale_shift);
  /* A kind reading int32 ids (Embedding): they must lie in [0, ids_below(l)); fit,
   * evaluate and predict check the data against it before any step. NULL: no limit. */
  int64_t (*ids_below)(const loom_layer *l);
  lm_mask_role mask;
  /* LM_MASK_SEQUENCE, LM_MASK_MAKE: how many outputs, from the first, carry the mask
   * (RNN: 1 with return_sequences, else 0; Embedding: 1 with mask_zero). NULL: 1. */
  int (*masked_outputs)(const loom_layer *l);
  /* LM_MASK_MAKE: the output's mask [batch, steps] from the first input's value. */
  loom_tensor *(*make_mask)(const loom_layer *l, loom_ctx *cx, loom_tensor *x);
};

/* The kinds of the table, each defined in its layer file. */
#define LM_KIND_DECL_(id, sym) extern const lm_layer_kind lm_kind_##sym;
LM_LAYER_KINDS(LM_KIND_DECL_)
#undef LM_KIND_DECL_

/* The kind with Keras' class name `class_name` (the table's, then the registered ones), or
 * NULL. */
const lm_layer_kind *lm_kind_find(const char *class_name);
/* The table's kind `id` (id < LM_KIND_COUNT). */
const lm_layer_kind *lm_kind_get(lm_kind_id id);
/* Add a kind defined outside the table (its id LM_KIND_EXTERNAL); it is then made, saved,
 * loaded and summarised like any other. The descriptor must outlive every graph using it.
 * LOOM_EINVAL for an incomplete descriptor or a class name already known. Thread-safe. */
int lm_kind_register(const lm_layer_kind *k);

/* A layer of kind k from options (a struct of k->opts_size bytes): checked and completed
 * by k->check, copied into the layer (its name pointing at the layer's own copy). NULL
 * with the graph's error on failure. */
loom_layer *lm_layer_make(loom_graph *g, const lm_layer_kind *k, const void *opts);
/* A construction error naming the kind and, when the options name it, the layer:
 * "Dense: units must be > 0" or "Dense \"head\": ...". Returns LOOM_EINVAL-like status. */
#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
int lm_opts_fail(loom_graph *g, const lm_layer_kind *k, const void *opts, int status, const char *fmt, ...);

/* options.c: a layer's config as Keras writes it ({"name": ..., "units": 32, ...}), every
 * option of its kind under its Keras key; NULL when memory runs out. */
struct cJSON *lm_layer_config(const loom_layer *l);
/* A layer of kind k named `name` from a Keras config: each option read from its key
 * (absent: Keras' default), type and range checked, then made as lm_layer_make makes it.
 * NULL with the thread's error ("where: layer \"conv\" (Conv2D): \"strides\" must be ...")
 * and the graph's. */
loom_layer *lm_layer_from_config(loom_graph *g, const lm_layer_kind *k, const struct cJSON *config,
                                 const char *name, const char *where);

#endif
