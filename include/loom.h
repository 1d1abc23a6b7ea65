/* loom.h - the public API of loom, a Keras-style deep-learning library in C.
 *
 * C11, usable from C++ (everything is extern "C"). Every exported name starts with
 * loom_ / LOOM_. Nothing here aborts on bad input: constructors return NULL, calls return
 * a negative loom_status, and the message (what, where, expected vs got) is readable from
 * the object that failed (loom_arena_error, loom_ctx_error) and, for the calling thread,
 * from loom_last_error().
 *
 * Three floors: SIMD dispatch, threads and SGEMM; the arena, the tensor, the autograd
 * tape and the differentiable ops; and over them the Keras-style model API (graph,
 * Input, layers, Model, summary, compile, fit, evaluate, predict).
 *
 * What loom keeps of what it is given (and what the caller may free when a call returns):
 * - Strings are copied wherever loom keeps them: a layer's, input's or model's `name`,
 *   compile's loss and metric names (by position or by output name), the names given in
 *   x_by_name / y_by_name, file paths. Any string may be freed after the call.
 * - Option structs are read during the call and copied into the object they make; the
 *   pointers inside them are what the call keeps: a wrapped layer (TimeDistributed,
 *   Bidirectional's layer and backward_layer) becomes the wrapper's, and the tensors of
 *   loom_fit / loom_evaluate / loom_predict (x, y, validation_data) are read during the
 *   call alone. fit's `out` stream, on_epoch_end and `user` are used until fit returns.
 * - The graph owns every layer, node, model and weight made in it, and loom_graph_free
 *   frees them all; a model loaded from a file comes with its own graph
 *   (loom_graph_free(loom_model_graph(m))). Weights live in the graph, a step's tensors
 *   in the ctx's arena (until loom_ctx_reset), predictions in the arena the caller passes.
 * - loom_tensor_new / loom_tensor_from allocate in the arena given (loom_tensor_from
 *   copies the data); an arena's tensors live until loom_arena_free.
 * - A loom_history belongs to the model and is replaced by its next fit; loom_last_error()
 *   and the *_error strings hold until the next failing call on that thread or object.
 */
#ifndef LOOM_H
#define LOOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#if defined(_WIN32)
#define LOOM_API
#else
#define LOOM_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define LOOM_VERSION_MAJOR 0
#define LOOM_VERSION_MINOR 1
#define LOOM_VERSION_PATCH 0
LOOM_API const char *loom_version(void);

/* ---------------------------------------------------------------- errors */

typedef enum loom_status {
  LOOM_OK = 0,
  LOOM_EINVAL = -1,      /* a bad argument: NULL, negative size, unknown name */
  LOOM_ENOMEM = -2,      /* memory could not be had, or an arena limit was reached */
  LOOM_ESHAPE = -3,      /* shapes that do not fit together */
  LOOM_EDTYPE = -4,      /* f32 where i32 is needed, or the reverse */
  LOOM_ESTATE = -5,      /* a call that is not valid now (backward twice, not training) */
  LOOM_EUNSUPPORTED = -6 /* valid, but not available here (a SIMD target this CPU lacks) */
} loom_status;

/* Message of the most recent error raised on the calling thread ("" if none). */
LOOM_API const char *loom_last_error(void);
/* Short name of a status code ("LOOM_ESHAPE"). */
LOOM_API const char *loom_status_name(int status);

/* ---------------------------------------------------------------- SIMD and threads */

/* The SIMD target the kernels dispatch to: "avx512", "avx2", "sse4", "ssse3", "neon",
 * "sve", "sve2" or "scalar". Chosen at first use: the best one the CPU runs, or the one
 * named by the environment variable LOOM_SIMD. */
LOOM_API const char *loom_simd_target(void);
/* Force a target by name (as above; NULL, "" or "auto" restores the best one). Returns
 * LOOM_EUNSUPPORTED if this CPU or build lacks it. loom keeps its own choice: other
 * users of Highway in the process are not affected. Not thread-safe: call it while no
 * other thread runs loom code. */
LOOM_API loom_status loom_simd_force(const char *name);
/* Space-separated names of the targets this CPU and build can run, best first.
 * Returns the number of targets; writes at most cap bytes (always NUL-terminated). */
LOOM_API int loom_simd_available(char *buf, size_t cap);

/* Threads used by the kernels (OpenMP). Default: omp_get_max_threads(), which honours
 * OMP_NUM_THREADS. Results never depend on this number: no reduction is split in a way
 * that depends on the thread count. */
LOOM_API loom_status loom_set_num_threads(int n);
LOOM_API int loom_get_num_threads(void);

/* ---------------------------------------------------------------- matrix multiply */

/* C (m x n) = alpha * op(A) . op(B) + beta * C, row-major, as BLAS sgemm.
 * op(A) is m x k: A stored m x k with lda >= k, or k x m with lda >= m when trans_a.
 * op(B) is k x n: B stored k x n with ldb >= n, or n x k with ldb >= k when trans_b.
 * ldc >= n. beta == 0 means C is not read (NaN in C does not reach the result); m, n or
 * k == 0 is valid. Bad arguments return LOOM_EINVAL and touch nothing. Threaded; the
 * result is bitwise the same for any thread count. */
LOOM_API loom_status loom_sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                                const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                                float *c, int64_t ldc);

/* ---------------------------------------------------------------- arena */

/* A bump allocator over big aligned blocks (64-byte alignment). Reset keeps the blocks,
 * so a step that repeats the allocations of the previous one asks the system for
 * nothing. */
typedef struct loom_arena loom_arena;

typedef struct loom_arena_opts {
  size_t block_size; /* bytes per system allocation; 0 = 4 MiB */
  size_t max_bytes;  /* limit on the bytes the arena may reserve; 0 = no limit */
} loom_arena_opts;

typedef struct loom_arena_stats {
  size_t in_use;      /* bytes handed out since the last reset (alignment included) */
  size_t peak;        /* largest in_use ever seen */
  size_t reserved;    /* bytes held in blocks */
  size_t blocks;      /* blocks held */
  size_t sys_allocs;  /* system allocations made over the arena's life */
} loom_arena_stats;

LOOM_API loom_arena *loom_arena_new(const loom_arena_opts *opts); /* opts may be NULL */
LOOM_API void *loom_arena_alloc(loom_arena *arena, size_t bytes); /* NULL on failure */
LOOM_API void loom_arena_reset(loom_arena *arena);
LOOM_API void loom_arena_free(loom_arena *arena);
LOOM_API loom_arena_stats loom_arena_get_stats(const loom_arena *arena);
LOOM_API const char *loom_arena_error(const loom_arena *arena);

/* ---------------------------------------------------------------- tensor */

#define LOOM_MAX_RANK 6

typedef enum loom_dtype { LOOM_F32 = 1, LOOM_I32 = 2 } loom_dtype;

/* Contiguous row-major data; batch is the first dim. The fields are for reading; change
 * a tensor only through the functions below. grad is set by loom_backward. */
typedef struct loom_tensor {
  loom_dtype dtype;
  int rank;
  int64_t shape[LOOM_MAX_RANK];
  int64_t size; /* number of elements (1 for rank 0) */
  void *data;
  float *grad;  /* NULL until a backward pass reaches this tensor */
  bool requires_grad;
} loom_tensor;

/* A zero-filled tensor in the arena. NULL (and the arena's error) on bad input. */
LOOM_API loom_tensor *loom_tensor_new(loom_arena *arena, loom_dtype dtype, int rank,
                                      const int64_t *shape);
/* The same, filled from data (size elements of the dtype). */
LOOM_API loom_tensor *loom_tensor_from(loom_arena *arena, loom_dtype dtype, int rank,
                                       const int64_t *shape, const void *data);
/* Typed views of the data: NULL if t is NULL or of the other dtype. */
LOOM_API float *loom_tensor_f32(const loom_tensor *t);
LOOM_API int32_t *loom_tensor_i32(const loom_tensor *t);
/* Mark a tensor (a weight, an input) as one whose gradient backward must compute. */
LOOM_API loom_status loom_tensor_set_requires_grad(loom_tensor *t, bool on);

/* ---------------------------------------------------------------- context and tape */

/* An execution context: the step arena that op outputs, the tape and activation
 * gradients live in, the training flag, and the first error of the step. In training
 * mode every op on a tensor that requires a gradient appends a record to the tape;
 * inference records nothing. A ctx, like an arena, is used by one thread at a time
 * (the kernels thread inside each op); give each thread its own. */
typedef struct loom_ctx loom_ctx;

LOOM_API loom_ctx *loom_ctx_new(loom_arena *scratch); /* NULL: the ctx makes its own */
LOOM_API void loom_ctx_free(loom_ctx *cx);
LOOM_API loom_status loom_ctx_set_training(loom_ctx *cx, bool training);
LOOM_API bool loom_ctx_training(const loom_ctx *cx);
/* Start a new step: forget the tape and every gradient it reached, reset the step arena
 * (tensors made by ops in this ctx become invalid) and clear the error. */
LOOM_API loom_status loom_ctx_reset(loom_ctx *cx);
LOOM_API size_t loom_ctx_tape_length(const loom_ctx *cx);
LOOM_API loom_arena *loom_ctx_arena(loom_ctx *cx);
/* The first error of this step ("" if none) and its status. */
LOOM_API const char *loom_ctx_error(const loom_ctx *cx);
LOOM_API loom_status loom_ctx_status(const loom_ctx *cx);

/* Reverse pass from a scalar loss (size 1): fills grad of every tensor that requires a
 * gradient and that the loss depends on; a tensor used several times gets the sum. */
LOOM_API loom_status loom_backward(loom_ctx *cx, loom_tensor *loss);
/* The same from any tensor, with its gradient given (out->size floats). */
LOOM_API loom_status loom_backward_from(loom_ctx *cx, loom_tensor *out, const float *out_grad);

/* ---------------------------------------------------------------- ops
 * Outputs live in the ctx's step arena. A NULL input gives a NULL output, so an error
 * propagates through a chain of calls; loom_ctx_error names the op that failed first.
 * add/sub/mul take equal shapes, or one shape a suffix of the other (a bias [n] with
 * [m, n]); the smaller operand is repeated over the leading dims. */
LOOM_API loom_tensor *loom_add(loom_ctx *cx, loom_tensor *a, loom_tensor *b);
LOOM_API loom_tensor *loom_sub(loom_ctx *cx, loom_tensor *a, loom_tensor *b);
LOOM_API loom_tensor *loom_mul(loom_ctx *cx, loom_tensor *a, loom_tensor *b);
/* [m, k] x [k, n] -> [m, n] */
LOOM_API loom_tensor *loom_matmul(loom_ctx *cx, loom_tensor *a, loom_tensor *b);
/* [batch, m, k] x [batch, k, n] -> [batch, m, n], sample by sample (Keras' batch_dot) */
LOOM_API loom_tensor *loom_batch_matmul(loom_ctx *cx, loom_tensor *a, loom_tensor *b);
/* x / sqrt(max(sum of x^2 along axis, 1e-12)), Keras' l2_normalize (axis < 0 from the end) */
LOOM_API loom_tensor *loom_l2_normalize(loom_ctx *cx, loom_tensor *x, int axis);
LOOM_API loom_tensor *loom_relu(loom_ctx *cx, loom_tensor *x);
LOOM_API loom_tensor *loom_sigmoid(loom_ctx *cx, loom_tensor *x);
LOOM_API loom_tensor *loom_tanh(loom_ctx *cx, loom_tensor *x);
/* Along the last axis, numerically stable. */
LOOM_API loom_tensor *loom_softmax(loom_ctx *cx, loom_tensor *x);
/* Along `axis` (negative: from the end). */
LOOM_API loom_tensor *loom_softmax_axis(loom_ctx *cx, loom_tensor *x, int axis);
/* x > 0 ? x : alpha x, alpha [the dims of x after the batch], 1 along an axis that shares
 * one alpha (Keras' PReLU shared_axes). */
LOOM_API loom_tensor *loom_prelu(loom_ctx *cx, loom_tensor *x, loom_tensor *alpha);
/* Activations a layer can apply to its output, as Keras names them in a config's
 * "activation" (the comment gives the name where the enum's differs). */
typedef enum loom_activation {
  LOOM_ACTIVATION_DEFAULT = 0, /* the layer's Keras default: linear for Dense and the
                                * convolutions, tanh for a recurrent cell, sigmoid for its
                                * gates; the ops take it as linear, the recurrent ops as
                                * their Keras defaults */
  LOOM_LINEAR,
  LOOM_RELU,
  LOOM_SIGMOID,
  LOOM_TANH,
  LOOM_SOFTMAX,      /* along the last axis */
  LOOM_ELU,          /* x > 0 ? x : e^x - 1 */
  LOOM_SELU,         /* 1.0507 elu(x, alpha 1.6733) */
  LOOM_GELU,         /* x Phi(x), exact (erf), Keras' default approximate=False */
  LOOM_GELU_TANH,    /* "gelu_tanh": Keras' gelu(approximate=True) */
  LOOM_SWISH,        /* x sigmoid(x) ("swish"; "silu" is read as well) */
  LOOM_SOFTPLUS,
  LOOM_SOFTSIGN,
  LOOM_HARD_SIGMOID, /* clip(0.2 x + 0.5, 0, 1), Keras 2's (Keras 3 uses x/6 + 1/2) */
  LOOM_RELU6,        /* min(max(x, 0), 6) */
  LOOM_EXPONENTIAL,  /* e^x */
  LOOM_LEAKY_RELU,   /* x > 0 ? x : 0.2 x, Keras' leaky_relu default */
  LOOM_ACTIVATION_COUNT
} loom_activation;
/* act(x) elementwise (softmax along the last axis), with its gradient. */
LOOM_API loom_tensor *loom_activate(loom_ctx *cx, loom_tensor *x, loom_activation act);

/* A Dense layer's computation: act(x . kernel + bias) over the last axis of x
 * ([..., in] with kernel [in, units] -> [..., units]); bias [units] or NULL. The bias and
 * relu/sigmoid/tanh are applied inside the matrix multiply while the tile is in
 * registers. */
LOOM_API loom_tensor *loom_dense(loom_ctx *cx, loom_tensor *x, loom_tensor *kernel,
                                 loom_tensor *bias, loom_activation act);

/* Merges (Keras add and concatenate): the sum of n tensors of one shape; the joining of
 * n tensors along `axis` (negative counts from the end: -1 is the last), their other
 * dims equal. */
LOOM_API loom_tensor *loom_add_n(loom_ctx *cx, int n, loom_tensor *const *xs);
LOOM_API loom_tensor *loom_concatenate(loom_ctx *cx, int n, loom_tensor *const *xs, int axis);
/* Keras average, maximum and minimum of n tensors of one shape, elementwise; the gradient
 * of maximum / minimum goes to the first input holding the extreme. */
LOOM_API loom_tensor *loom_average_n(loom_ctx *cx, int n, loom_tensor *const *xs);
LOOM_API loom_tensor *loom_maximum_n(loom_ctx *cx, int n, loom_tensor *const *xs);
LOOM_API loom_tensor *loom_minimum_n(loom_ctx *cx, int n, loom_tensor *const *xs);

/* Rows of table [vocab, dim] picked by i32 ids of any shape -> [ids..., dim]. An id
 * outside [0, vocab) is an error, not a read past the table. */
LOOM_API loom_tensor *loom_embedding(loom_ctx *cx, loom_tensor *ids, loom_tensor *table);

/* Pooling, channels-last as Keras: 1-D on [batch, steps, channels], 2-D on
 * [batch, height, width, channels]. stride 0 means the pool size (Keras' default).
 * 'same' pads as TensorFlow does (more on the right/bottom); padded positions never win
 * a max and do not count in an average. The global forms reduce every spatial dim:
 * [batch, ..., channels] -> [batch, channels]. */
/* LOOM_CAUSAL (Conv1D only): all the padding before the steps, so that output t sees
 * inputs up to t alone. */
typedef enum loom_padding { LOOM_VALID = 0, LOOM_SAME = 1, LOOM_CAUSAL = 2 } loom_padding;
LOOM_API loom_tensor *loom_max_pool1d(loom_ctx *cx, loom_tensor *x, int pool, int stride,
                                      loom_padding padding);
LOOM_API loom_tensor *loom_avg_pool1d(loom_ctx *cx, loom_tensor *x, int pool, int stride,
                                      loom_padding padding);
LOOM_API loom_tensor *loom_max_pool2d(loom_ctx *cx, loom_tensor *x, int pool_h, int pool_w,
                                      int stride_h, int stride_w, loom_padding padding);
LOOM_API loom_tensor *loom_avg_pool2d(loom_ctx *cx, loom_tensor *x, int pool_h, int pool_w,
                                      int stride_h, int stride_w, loom_padding padding);
LOOM_API loom_tensor *loom_global_max_pool(loom_ctx *cx, loom_tensor *x);
LOOM_API loom_tensor *loom_global_avg_pool(loom_ctx *cx, loom_tensor *x);

/* Keras' masks over steps: [batch, steps] f32, 1 where a step is valid, 0 where it is
 * masked; they take no gradient. From i32 ids [batch, steps, ...] (Embedding's
 * mask_zero: some id != 0), from values [batch, steps, ...] (Masking: some value !=
 * mask_value); the OR of two (Keras' merges); x [batch, steps, ...] with its masked
 * steps zeroed (Masking's output); the average of x [batch, steps, channels] over the
 * valid steps (GlobalAveragePooling1D with a mask; a sample with none averages to 0,
 * where Keras divides 0 by 0). */
LOOM_API loom_tensor *loom_mask_from_ids(loom_ctx *cx, loom_tensor *ids);
LOOM_API loom_tensor *loom_mask_from_values(loom_ctx *cx, loom_tensor *x, float mask_value);
LOOM_API loom_tensor *loom_mask_or(loom_ctx *cx, loom_tensor *a, loom_tensor *b);
LOOM_API loom_tensor *loom_mask_steps(loom_ctx *cx, loom_tensor *x, loom_tensor *mask);
LOOM_API loom_tensor *loom_global_avg_pool_masked(loom_ctx *cx, loom_tensor *x, loom_tensor *mask);

/* Convolutions, channels-last with Keras' kernel layout: 1-D x [batch, steps, in] with
 * kernel [k, in, out]; 2-D x [batch, height, width, in] with kernel [kh, kw, in, out];
 * bias [out] or NULL; strides and dilation >= 1 (0 means 1); padding as for pooling
 * (zeros). The output's activation is applied as for loom_dense. */
LOOM_API loom_tensor *loom_conv1d(loom_ctx *cx, loom_tensor *x, loom_tensor *kernel,
                                  loom_tensor *bias, int stride, int dilation,
                                  loom_padding padding, loom_activation act);
LOOM_API loom_tensor *loom_conv2d(loom_ctx *cx, loom_tensor *x, loom_tensor *kernel,
                                  loom_tensor *bias, int stride_h, int stride_w, int dilation_h,
                                  int dilation_w, loom_padding padding, loom_activation act);
/* Transposed convolutions (Keras' Conv1DTranspose, Conv2DTranspose): the adjoint of the
 * convolution with the same window, strides and padding, Keras' kernel [k, out, in] or
 * [kh, kw, out, in], bias [out] or NULL, no activation (apply one after). An axis of
 * length n gives n * stride with 'same', n * stride + max(span - stride, 0) with 'valid'
 * (span = dilation * (k - 1) + 1), as Keras computes it when output_padding is None
 * (LOOM_NONE); an output_padding p (0 <= p < stride) gives (n - 1) * stride + span -
 * 2 * pad + p, pad being span / 2 with 'same' and 0 with 'valid', TensorFlow putting the
 * odd padding after the data. */
LOOM_API loom_tensor *loom_conv1d_transpose(loom_ctx *cx, loom_tensor *x, loom_tensor *kernel,
                                            loom_tensor *bias, int stride, int dilation,
                                            loom_padding padding, int output_padding);
LOOM_API loom_tensor *loom_conv2d_transpose(loom_ctx *cx, loom_tensor *x, loom_tensor *kernel,
                                            loom_tensor *bias, int stride_h, int stride_w,
                                            int dilation_h, int dilation_w, loom_padding padding,
                                            int output_padding_h, int output_padding_w);

/* Depthwise convolution (Keras' DepthwiseConv2D): x [batch, h, w, c], kernel [kh, kw, c,
 * dm] (dm filters per channel, the output's channel ci * dm + m), bias [c * dm] or NULL;
 * strides, padding and the activation as loom_conv2d. */
LOOM_API loom_tensor *loom_depthwise_conv2d(loom_ctx *cx, loom_tensor *x, loom_tensor *kernel,
                                            loom_tensor *bias, int stride_h, int stride_w,
                                            loom_padding padding, loom_activation act);

/* Batch normalisation over the last axis, as Keras' BatchNormalization(axis=-1): a
 * training ctx (loom_ctx_set_training) normalises with the batch's mean and biased
 * variance and moves the moving statistics in place (moving -= (moving - batch) * (1 -
 * momentum)); otherwise the moving statistics normalise and nothing changes. gamma and
 * beta may be NULL (scale / center off). */
LOOM_API loom_tensor *loom_batch_norm(loom_ctx *cx, loom_tensor *x, loom_tensor *gamma,
                                      loom_tensor *beta, loom_tensor *moving_mean,
                                      loom_tensor *moving_variance, float momentum, float epsilon);

/* The recurrent layers' settings (Keras' names): the cell activation (tanh) and the gates'
 * (sigmoid), any elementwise loom_activation (LOOM_ACTIVATION_DEFAULT: those defaults); return_sequences and go_backwards as
 * loom_lstm's; reset_after picks GRU's variant. */
typedef struct loom_rnn_cfg {
  loom_activation activation, recurrent_activation;
  bool return_sequences, go_backwards;
  bool reset_after; /* GRU: Keras 2.x/3's default true; false is Keras 1 and early 2 */
  /* Keras' mask: [batch, steps] f32 in time order, nonzero where a step is valid, or
   * NULL. A masked step leaves the state(s) as they were (go_backwards reads the mask
   * backwards with the input); its output is the carried state, or zeros with
   * zero_output_for_mask (what Bidirectional asks of its layers). Takes no gradient. */
  const loom_tensor *mask;
  bool zero_output_for_mask;
  /* Keras' recurrent_dropout: [batch, units] f32 multiplying h_{t-1} wherever the cell
   * reads it (already scaled: 0 or 1 / (1 - rate)), the same at every step; NULL: none.
   * The carried state of a masked step is h_{t-1} itself. Takes no gradient. */
  const loom_tensor *recurrent_mask;
  /* Keras' dropout with one mask per gate (what Keras draws when recurrent_dropout is
   * set too): [batch, gates * in] f32, gate g's input projection reading x_t * mask_g at
   * every step; NULL: none (one mask for every gate is x itself multiplied first). */
  const loom_tensor *input_mask;
} loom_rnn_cfg;

/* LSTM as Keras defines it: x [batch, steps, in], kernel [in, 4 units], recurrent_kernel
 * [units, 4 units], bias [4 units] (or NULL), gates in the order i, f, c, o; cfg's
 * recurrent_activation (sigmoid) on i, f, o and activation (tanh) on the cell input and
 * the cell state: c = f c_prev + i act(x W_c + h U_c + b_c), h = o act(c). h0 and c0
 * [batch, units] are the initial states (NULL: zeros). Returns the last h [batch, units],
 * or every h [batch, steps, units] with return_sequences; go_backwards reads the
 * sequence from its end (and, as Keras, returns the sequence in that order). c_last, when
 * not NULL, receives the last cell state [batch, units] (Keras' return_state), an output
 * that takes gradients like the first. */
LOOM_API loom_tensor *loom_lstm(loom_ctx *cx, loom_tensor *x, loom_tensor *h0, loom_tensor *c0,
                                loom_tensor *kernel, loom_tensor *recurrent_kernel, loom_tensor *bias,
                                const loom_rnn_cfg *cfg, loom_tensor **c_last);

/* GRU as Keras defines it, gates in the order z, r, h: x [batch, steps, in], kernel
 * [in, 3 units], recurrent_kernel [units, 3 units]. reset_after: bias [2, 3 units] (input
 * then recurrent bias), hh = act(x W_h + b_h + r (h U_h + b'_h)); else bias [3 units],
 * hh = act(x W_h + b_h + (r h) U_h). h = z h_prev + (1 - z) hh. bias may be NULL; h0
 * [batch, units] is the initial state (NULL: zeros). */
LOOM_API loom_tensor *loom_gru(loom_ctx *cx, loom_tensor *x, loom_tensor *h0, loom_tensor *kernel,
                               loom_tensor *recurrent_kernel, loom_tensor *bias, const loom_rnn_cfg *cfg);
/* SimpleRNN: h = act(x W + b + h_prev U), kernel [in, units], recurrent_kernel [units,
 * units], bias [units] or NULL, h0 as loom_gru. */
LOOM_API loom_tensor *loom_simple_rnn(loom_ctx *cx, loom_tensor *x, loom_tensor *h0, loom_tensor *kernel,
                                      loom_tensor *recurrent_kernel, loom_tensor *bias,
                                      const loom_rnn_cfg *cfg);
/* ConvLSTM2D as Keras defines it: x [batch, steps, rows, cols, in], kernel [kh, kw, in,
 * 4 filters], recurrent_kernel [kh, kw, filters, 4 filters], bias [4 filters] or NULL,
 * gates i, f, c, o as loom_lstm's. Each step's gates are conv(x_t, kernel) + bias, the
 * convolution with cfg's strides, dilation and padding ('valid' or 'same'), plus conv(h,
 * recurrent_kernel) with 'same' padding and stride 1; h and c are [batch, rows', cols',
 * filters], rows' and cols' the input convolution's output. cfg->rnn as for loom_lstm
 * (reset_after and zero_output_for_mask unused), except the dropout masks, which are
 * Keras' four per gate, the same at every step: input_mask [batch, rows, cols, 4 in],
 * gate g's input convolution reading x_t times channels [g in, (g + 1) in) of it, and
 * recurrent_mask [batch, rows', cols', 4 filters] likewise for h_{t-1} in the recurrent
 * convolution (NULL: none). h0 and c0 NULL: zeros. Returns the last h, or every h [batch,
 * steps, rows', cols', filters] with return_sequences; c_last as loom_lstm's. */
typedef struct loom_conv_lstm_cfg {
  loom_rnn_cfg rnn;
  int strides[2], dilation[2]; /* >= 1 */
  loom_padding padding;
} loom_conv_lstm_cfg;
LOOM_API loom_tensor *loom_conv_lstm2d(loom_ctx *cx, loom_tensor *x, loom_tensor *h0, loom_tensor *c0,
                                       loom_tensor *kernel, loom_tensor *recurrent_kernel, loom_tensor *bias,
                                       const loom_conv_lstm_cfg *cfg, loom_tensor **c_last);
/* The last step of a sequence: x [batch, steps, ...] -> [batch, ...] (a recurrent layer's
 * state when it returns sequences). */
LOOM_API loom_tensor *loom_last_step(loom_ctx *cx, loom_tensor *x);
/* The steps of x [batch, steps, ...] in reverse order (a backward layer's sequence put
 * back in time order). */
LOOM_API loom_tensor *loom_reverse_steps(loom_ctx *cx, loom_tensor *x);

/* Losses, as Keras defines them, to a rank-0 tensor: the per-sample loss over the last
 * axis, averaged over all samples. y_true has y_pred's shape, except for the sparse
 * one: i32 class ids, y_pred's shape without its last axis. y_pred holds probabilities
 * for the cross-entropies, clipped to [1e-7, 1 - 1e-7] as Keras clips them (the
 * categorical one first normalises each row to sum 1). y_true takes no gradient. */
LOOM_API loom_tensor *loom_loss_mse(loom_ctx *cx, loom_tensor *y_true, loom_tensor *y_pred);
LOOM_API loom_tensor *loom_loss_mae(loom_ctx *cx, loom_tensor *y_true, loom_tensor *y_pred);
LOOM_API loom_tensor *loom_loss_binary_crossentropy(loom_ctx *cx, loom_tensor *y_true,
                                                    loom_tensor *y_pred);
LOOM_API loom_tensor *loom_loss_categorical_crossentropy(loom_ctx *cx, loom_tensor *y_true,
                                                         loom_tensor *y_pred);
LOOM_API loom_tensor *loom_loss_sparse_categorical_crossentropy(loom_ctx *cx, loom_tensor *y_true,
                                                                loom_tensor *y_pred);
/* The cross-entropies on logits (Keras' from_logits=True; the model uses them itself,
 * as Keras does, when an output ends in softmax or sigmoid): -sum t log softmax(z) and
 * max(z, 0) - z t + log(1 + exp(-|z|)), unclipped and numerically stable, with gradients
 * softmax(z) sum(t) - t and sigmoid(z) - t. */
LOOM_API loom_tensor *loom_loss_categorical_crossentropy_logits(loom_ctx *cx, loom_tensor *y_true,
                                                                loom_tensor *logits);
LOOM_API loom_tensor *loom_loss_sparse_categorical_crossentropy_logits(loom_ctx *cx,
                                                                       loom_tensor *y_true,
                                                                       loom_tensor *logits);
LOOM_API loom_tensor *loom_loss_binary_crossentropy_logits(loom_ctx *cx, loom_tensor *y_true,
                                                           loom_tensor *logits);

/* Keras' accuracies, to a rank-0 tensor (never recorded on the tape): the share of
 * samples whose arg-max class matches the one-hot row / the i32 id (the first maximum
 * wins ties), and the share of elements where (y_pred > 0.5) equals y_true. */
LOOM_API loom_tensor *loom_metric_categorical_accuracy(loom_ctx *cx, loom_tensor *y_true,
                                                       loom_tensor *y_pred);
LOOM_API loom_tensor *loom_metric_sparse_categorical_accuracy(loom_ctx *cx, loom_tensor *y_true,
                                                              loom_tensor *y_pred);
LOOM_API loom_tensor *loom_metric_binary_accuracy(loom_ctx *cx, loom_tensor *y_true,
                                                  loom_tensor *y_pred);

/* The same elements (f32) under a shape of the same size. */
LOOM_API loom_tensor *loom_reshape(loom_ctx *cx, loom_tensor *x, int rank, const int64_t *shape);
/* The axes in another order: y's axis i is x's axis perm[i] (Keras' Permute). */
LOOM_API loom_tensor *loom_transpose(loom_ctx *cx, loom_tensor *x, const int *perm);
/* before[a] zeros added before axis a and after[a] after it (NULL: none); a negative
 * count cuts that many elements instead (Keras' ZeroPadding and Cropping). */
LOOM_API loom_tensor *loom_pad(loom_ctx *cx, loom_tensor *x, const int64_t *before, const int64_t *after);
/* Each slice along `axis` repeated `times` times in place, as numpy.repeat: [a, b] with
 * axis 1, times 2 gives [a, a, b, b] (UpSampling 'nearest'; RepeatVector on a new axis). */
LOOM_API loom_tensor *loom_repeat(loom_ctx *cx, loom_tensor *x, int axis, int times);
/* Images [batch, h, w, c] resized to [batch, height, width, c] by bilinear interpolation
 * with half-pixel centres (TensorFlow 2's tf.image.resize, PyTorch's align_corners=False). */
LOOM_API loom_tensor *loom_resize_bilinear(loom_ctx *cx, loom_tensor *x, int64_t height, int64_t width);

/* Over all elements, to a rank-0 tensor. */
LOOM_API loom_tensor *loom_sum(loom_ctx *cx, loom_tensor *x);
LOOM_API loom_tensor *loom_mean(loom_ctx *cx, loom_tensor *x);


/* ================================================================ the model API
 *
 * Keras' functional API in C. A graph owns everything built in it: layers, symbolic
 * nodes, models, their weights and optimiser state; loom_graph_free releases it all.
 * Options are structs whose zero value is Keras' default, passed with designated
 * initialisers through the macros (loom_Dense(g, .units = 32, .activation = LOOM_RELU));
 * the plain functions taking a pointer to the struct are there for C++.
 *
 * Errors: a constructor returns NULL and a call a negative loom_status; the message
 * names the layer and what was expected (loom_graph_error, loom_last_error). A NULL node
 * or layer passed on yields NULL again, so a chain of calls reports its first error.
 * A graph is used by one thread at a time (the kernels thread inside each op).
 */
typedef struct loom_graph loom_graph;
typedef struct loom_layer loom_layer;
typedef struct loom_node loom_node;
typedef struct loom_model loom_model;
typedef struct loom_history loom_history;

#define LOOM_NONE (-1) /* a dim known only at run time: Keras' None */
/* An explicit 0 in an option whose 0 (what a zeroed option holds) means Keras' None:
 * `.output_padding = {LOOM_ZERO}` is Keras' output_padding=0, `{0}` its None. */
#define LOOM_ZERO (-2)
#define LOOM_MAX_IO 16 /* inputs or outputs of one model or call */

/* Booleans whose Keras default is true: zero keeps the default. */
typedef enum loom_flag { LOOM_DEFAULT = 0, LOOM_YES = 1, LOOM_NO = 2 } loom_flag;

/* seed drives every initialiser, Dropout mask and shuffle of this graph: the same seed
 * and thread count give bitwise the same training. */
LOOM_API loom_graph *loom_graph_new(uint64_t seed);
LOOM_API void loom_graph_free(loom_graph *g);
LOOM_API const char *loom_graph_error(const loom_graph *g);
LOOM_API loom_status loom_graph_status(const loom_graph *g);
/* Forget the graph's error so that building can go on. */
LOOM_API void loom_graph_clear_error(loom_graph *g);

/* Every options struct starts with this field, so that an empty option list compiles. */
#define LOOM_OPTS_HEAD int struct_tag_
#if defined(__cplusplus)
/* C++20: the same macros, with the designated initialisers of C++20 (fields in their
 * declaration order, as C++ requires): loom_Dense(g, .units = 32, .activation = LOOM_RELU).
 * The options live until the end of the full expression, which is the call. */
extern "C++" {
namespace loom_detail {
template <class T> const T *opts_ptr(const T &o) { return &o; }
}
}
/* Leaving fields out is the point (zero is Keras' default): g++ 12's -Wextra would warn,
 * so the struct is made in a lambda that silences that one warning. */
#define LOOM_OPTS_(T, ...)                                                            \
  (::loom_detail::opts_ptr([&]() {                                                    \
    _Pragma("GCC diagnostic push")                                                    \
    _Pragma("GCC diagnostic ignored \"-Wmissing-field-initializers\"")                \
    return T{.struct_tag_ = 0, __VA_ARGS__};                                          \
    _Pragma("GCC diagnostic pop")                                                     \
  }()))
#else
#define LOOM_OPTS_(T, ...) (&(T){.struct_tag_ = 0, __VA_ARGS__})
#endif

/* Input(shape=(None, 128), dtype='int32', name='text'): shape without the batch dim; its
 * rank is the number of leading non-zero entries (LOOM_NONE for None). */
typedef struct loom_input_opts {
  LOOM_OPTS_HEAD;
  int64_t shape[LOOM_MAX_RANK - 1];
  loom_dtype dtype; /* 0: f32 */
  const char *name; /* NULL: input_1, input_2, ... */
} loom_input_opts;
LOOM_API loom_node *loom_input(loom_graph *g, const loom_input_opts *o);
#define loom_Input(g, ...) loom_input(g, LOOM_OPTS_(loom_input_opts, __VA_ARGS__))

/* Layers. name NULL gives Keras' automatic names (dense, dense_1, ...). */
typedef struct loom_dense_opts {
  LOOM_OPTS_HEAD;
  int units;
  loom_activation activation;
  loom_flag use_bias;
  const char *name;
} loom_dense_opts;
/* Embedding(input_dim, output_dim): mask_zero makes Keras' mask of the steps whose id
 * is 0 (ids [batch, steps]): recurrent layers skip them, GlobalAveragePooling1D leaves
 * them out, the loss and metrics of an output still carrying the mask ignore them, and a
 * layer that cannot take a mask refuses the call. */
typedef struct loom_embedding_opts {
  LOOM_OPTS_HEAD;
  int input_dim, output_dim; /* vocabulary size, vector size */
  bool mask_zero;
  const char *name;
} loom_embedding_opts;
/* LSTM, GRU and SimpleRNN (Keras' names and defaults): activation tanh and
 * recurrent_activation sigmoid when left LOOM_ACTIVATION_DEFAULT; unit_forget_bias
 * (LSTM) and reset_after (GRU) on by default, as Keras 2.x/3. Called on [x] or [x,
 * initial_state] (loom_call_list; LSTM's initial state is [x, h, c]); with return_state
 * the call has the last state(s) as further outputs (loom_call_outputs): [output, h] for
 * GRU and SimpleRNN, [output, h, c] for LSTM. dropout and recurrent_dropout act in
 * training alone, as Keras draws them: one mask per sample for the whole sequence (the
 * graph's seed), shared by the gates, or one per gate once recurrent_dropout is set; a
 * mask from Embedding(mask_zero) or Masking makes the masked steps carry the states.
 * Not yet: stateful, unroll. */
typedef struct loom_rnn_opts {
  LOOM_OPTS_HEAD;
  int units;
  loom_activation activation, recurrent_activation;
  bool return_sequences, return_state, go_backwards;
  float dropout, recurrent_dropout; /* the share of inputs / of h_{t-1} zeroed, in [0, 1) */
  loom_flag use_bias, unit_forget_bias, reset_after;
  const char *name;
} loom_rnn_opts;
typedef loom_rnn_opts loom_lstm_opts;
/* ConvLSTM2D (channels-last): [batch, steps, rows, cols, channels] -> the last h [batch,
 * rows', cols', filters], or every h with return_sequences; rows' and cols' are the input
 * convolution's (kernel_size, strides, dilation_rate, padding 'valid' or 'same' as
 * Conv2D), the recurrent convolution being 'same' with stride 1. Weights kernel [kh, kw,
 * channels, 4 filters], recurrent_kernel [kh, kw, filters, 4 filters], bias [4 filters],
 * gates i, f, c, o; the rest as LSTM (activation tanh, recurrent_activation sigmoid,
 * unit_forget_bias, return_state's h and c, go_backwards, initial states [x, h, c], a
 * step mask; dropout and recurrent_dropout with Keras' four masks per gate). */
typedef struct loom_conv_lstm_opts {
  LOOM_OPTS_HEAD;
  int filters;
  int kernel_size[2], strides[2], dilation_rate[2];
  loom_padding padding;
  loom_activation activation, recurrent_activation;
  bool return_sequences, return_state, go_backwards;
  float dropout, recurrent_dropout;
  loom_flag use_bias, unit_forget_bias;
  const char *name;
} loom_conv_lstm_opts;
/* TimeDistributed(layer): `layer` applied to every step of [batch, steps, ...] (Keras
 * keeps the layer itself: its weights are the wrapper's, under their own names). The
 * layer must not have been called, and cannot be called on its own afterwards. */
typedef struct loom_time_distributed_opts {
  LOOM_OPTS_HEAD;
  loom_layer *layer;
  const char *name;
} loom_time_distributed_opts;
/* How Bidirectional joins its two outputs (Keras' merge_mode): concat on the last axis
 * (the default), sum, mul, ave, or none (merge_mode=None: both outputs, forward first). */
typedef enum loom_merge_mode {
  LOOM_MERGE_DEFAULT = 0, LOOM_MERGE_CONCAT, LOOM_MERGE_SUM, LOOM_MERGE_MUL, LOOM_MERGE_AVE, LOOM_MERGE_NONE
} loom_merge_mode;
/* Bidirectional(layer, merge_mode, backward_layer), as Keras 3: an LSTM, GRU or SimpleRNN
 * `layer` is made again as "forward_<name>" (a layer already so named is used as it
 * is), and backward_layer (NULL: `layer` again, with go_backwards, as "backward_<name>")
 * must differ from it in go_backwards only in what it returns; the backward output of a
 * sequence is put back in time order. Called on [x] or [x, forward states..., backward
 * states...]; outputs: the merged one (two with LOOM_MERGE_NONE), then with return_state
 * the forward layer's states and the backward layer's. Weights: forward_<name>/kernel, ... */
typedef struct loom_bidirectional_opts {
  LOOM_OPTS_HEAD;
  loom_layer *layer;
  loom_merge_mode merge_mode;
  loom_layer *backward_layer;
  const char *name;
} loom_bidirectional_opts;
/* Conv1D(filters, kernel_size, strides=1, padding='valid', dilation_rate=1) and
 * Conv2D(filters, (kh, kw), strides=(sh, sw), dilation_rate=(dh, dw)): a second entry left
 * 0 repeats the first, as Keras does with an int. output_padding (Conv1DTranspose and
 * Conv2DTranspose alone; each entry below its stride): 0 is Keras' None, LOOM_ZERO an
 * explicit 0. */
typedef struct loom_conv_opts {
  LOOM_OPTS_HEAD;
  int filters;
  int kernel_size[2], strides[2], dilation_rate[2], output_padding[2];
  loom_padding padding;
  loom_activation activation;
  loom_flag use_bias;
  const char *name;
} loom_conv_opts;
/* DepthwiseConv2D and SeparableConv2D (a depthwise convolution, then a 1x1 one to
 * `filters` channels): kernel_size and strides as Conv2D, depth_multiplier 0 means 1. */
typedef struct loom_separable_opts {
  LOOM_OPTS_HEAD;
  int filters; /* SeparableConv2D */
  int kernel_size[2], strides[2], depth_multiplier;
  loom_padding padding;
  loom_activation activation;
  loom_flag use_bias;
  const char *name;
} loom_separable_opts;
/* BatchNormalization(axis=-1): momentum 0 means 0.99, epsilon 0 means 1e-3; center and
 * scale (beta and gamma) on by default. */
typedef struct loom_batch_norm_opts {
  LOOM_OPTS_HEAD;
  float momentum, epsilon;
  loom_flag center, scale;
  const char *name;
} loom_batch_norm_opts;
/* MaxPooling / AveragePooling: pool_size 0 means 2; strides 0 means pool_size. */
typedef struct loom_pool_opts {
  LOOM_OPTS_HEAD;
  int pool_size[2], strides[2];
  loom_padding padding;
  const char *name;
} loom_pool_opts;
/* Activation, Flatten, Dropout, the global poolings, Add, Concatenate (axis 0 means -1,
 * the last: the batch axis cannot be joined). */
typedef struct loom_layer_opts {
  LOOM_OPTS_HEAD;
  loom_activation activation; /* Activation */
  float rate;                 /* Dropout: the share of inputs zeroed in training */
  float mask_value;           /* Masking: a step all of whose values equal it is masked (0) */
  int axis;                   /* Concatenate */
  const char *name;
} loom_layer_opts;

/* The activation layers: ReLU(max_value, negative_slope, threshold) computes
 * x > threshold ? min(x, max_value) : negative_slope (x - threshold), max_value 0 meaning
 * none (Keras' None); LeakyReLU(negative_slope, 0 meaning Keras' 0.3); ELU(alpha, 0
 * meaning 1); Softmax(axis, 0 meaning -1); PReLU(shared_axes): x > 0 ? x : alpha x with a
 * learned alpha (zeros first) per element of a sample, one shared along each axis listed
 * (1 the first after the batch, a 0-ended list). */
typedef struct loom_activation_layer_opts {
  LOOM_OPTS_HEAD;
  float max_value, negative_slope, threshold; /* ReLU; LeakyReLU's negative_slope */
  float alpha;                                /* ELU */
  int axis;                                   /* Softmax */
  int shared_axes[LOOM_MAX_RANK - 1];         /* PReLU */
  const char *name;
} loom_activation_layer_opts;

/* The reshaping layers, channels-last:
 * - Reshape(target_shape): a sample's new shape, 0-ended, one entry -1 at most (inferred);
 * - Permute(dims): the sample axes' new order, 1-based as Keras' (dims {2, 1} swaps them);
 * - RepeatVector(n): [batch, d] -> [batch, n, d];
 * - ZeroPadding1D/2D(padding), Cropping1D/2D(cropping): {before, after} per spatial dim
 *   (1-D: the first pair alone); ZeroPadding's all zeros mean Keras' default, 1 everywhere;
 * - UpSampling1D(size, 0: 2), UpSampling2D(size, 0: 2 each; interpolation nearest or
 *   bilinear, as tf.image.resize with half-pixel centres). */
typedef enum loom_interpolation { LOOM_NEAREST = 0, LOOM_BILINEAR = 1 } loom_interpolation;
typedef struct loom_reshaping_opts {
  LOOM_OPTS_HEAD;
  int target_shape[LOOM_MAX_RANK - 1]; /* Reshape */
  int dims[LOOM_MAX_RANK - 1];         /* Permute */
  int n;                               /* RepeatVector */
  int padding[2][2];                   /* ZeroPadding */
  int cropping[2][2];                  /* Cropping */
  int size[2];                         /* UpSampling */
  loom_interpolation interpolation;    /* UpSampling2D */
  const char *name;
} loom_reshaping_opts;

LOOM_API loom_layer *loom_layer_dense(loom_graph *g, const loom_dense_opts *o);
LOOM_API loom_layer *loom_layer_embedding(loom_graph *g, const loom_embedding_opts *o);
LOOM_API loom_layer *loom_layer_lstm(loom_graph *g, const loom_lstm_opts *o);
LOOM_API loom_layer *loom_layer_gru(loom_graph *g, const loom_rnn_opts *o);
LOOM_API loom_layer *loom_layer_simple_rnn(loom_graph *g, const loom_rnn_opts *o);
LOOM_API loom_layer *loom_layer_conv_lstm2d(loom_graph *g, const loom_conv_lstm_opts *o);
LOOM_API loom_layer *loom_layer_time_distributed(loom_graph *g, const loom_time_distributed_opts *o);
LOOM_API loom_layer *loom_layer_bidirectional(loom_graph *g, const loom_bidirectional_opts *o);
LOOM_API loom_layer *loom_layer_conv1d(loom_graph *g, const loom_conv_opts *o);
LOOM_API loom_layer *loom_layer_conv2d(loom_graph *g, const loom_conv_opts *o);
/* Conv1DTranspose, Conv2DTranspose: loom_conv_opts as Conv1D/2D (padding 'valid' or
 * 'same'; Keras' output_padding is not supported), kernel [k..., filters, in]. */
LOOM_API loom_layer *loom_layer_conv1d_transpose(loom_graph *g, const loom_conv_opts *o);
LOOM_API loom_layer *loom_layer_conv2d_transpose(loom_graph *g, const loom_conv_opts *o);
LOOM_API loom_layer *loom_layer_depthwise_conv2d(loom_graph *g, const loom_separable_opts *o);
LOOM_API loom_layer *loom_layer_separable_conv2d(loom_graph *g, const loom_separable_opts *o);
LOOM_API loom_layer *loom_layer_batch_normalization(loom_graph *g, const loom_batch_norm_opts *o);
LOOM_API loom_layer *loom_layer_max_pooling1d(loom_graph *g, const loom_pool_opts *o);
LOOM_API loom_layer *loom_layer_max_pooling2d(loom_graph *g, const loom_pool_opts *o);
LOOM_API loom_layer *loom_layer_average_pooling1d(loom_graph *g, const loom_pool_opts *o);
LOOM_API loom_layer *loom_layer_average_pooling2d(loom_graph *g, const loom_pool_opts *o);
LOOM_API loom_layer *loom_layer_reshape(loom_graph *g, const loom_reshaping_opts *o);
LOOM_API loom_layer *loom_layer_permute(loom_graph *g, const loom_reshaping_opts *o);
LOOM_API loom_layer *loom_layer_repeat_vector(loom_graph *g, const loom_reshaping_opts *o);
LOOM_API loom_layer *loom_layer_zero_padding1d(loom_graph *g, const loom_reshaping_opts *o);
LOOM_API loom_layer *loom_layer_zero_padding2d(loom_graph *g, const loom_reshaping_opts *o);
LOOM_API loom_layer *loom_layer_cropping1d(loom_graph *g, const loom_reshaping_opts *o);
LOOM_API loom_layer *loom_layer_cropping2d(loom_graph *g, const loom_reshaping_opts *o);
LOOM_API loom_layer *loom_layer_up_sampling1d(loom_graph *g, const loom_reshaping_opts *o);
LOOM_API loom_layer *loom_layer_up_sampling2d(loom_graph *g, const loom_reshaping_opts *o);
LOOM_API loom_layer *loom_layer_global_max_pooling1d(loom_graph *g, const loom_layer_opts *o);
LOOM_API loom_layer *loom_layer_global_max_pooling2d(loom_graph *g, const loom_layer_opts *o);
LOOM_API loom_layer *loom_layer_global_average_pooling1d(loom_graph *g, const loom_layer_opts *o);
LOOM_API loom_layer *loom_layer_global_average_pooling2d(loom_graph *g, const loom_layer_opts *o);
LOOM_API loom_layer *loom_layer_activation(loom_graph *g, const loom_layer_opts *o);
LOOM_API loom_layer *loom_layer_relu(loom_graph *g, const loom_activation_layer_opts *o);
LOOM_API loom_layer *loom_layer_leaky_relu(loom_graph *g, const loom_activation_layer_opts *o);
LOOM_API loom_layer *loom_layer_prelu(loom_graph *g, const loom_activation_layer_opts *o);
LOOM_API loom_layer *loom_layer_elu(loom_graph *g, const loom_activation_layer_opts *o);
LOOM_API loom_layer *loom_layer_softmax(loom_graph *g, const loom_activation_layer_opts *o);
LOOM_API loom_layer *loom_layer_flatten(loom_graph *g, const loom_layer_opts *o);
LOOM_API loom_layer *loom_layer_dropout(loom_graph *g, const loom_layer_opts *o);
/* Masking(mask_value): Keras' mask of the steps of [batch, steps, ...] whose every value
 * is mask_value; those steps come out zeroed (see loom_embedding_opts' mask_zero). */
LOOM_API loom_layer *loom_layer_masking(loom_graph *g, const loom_layer_opts *o);
LOOM_API loom_layer *loom_layer_add(loom_graph *g, const loom_layer_opts *o);
/* Subtract (two inputs), Multiply, Average, Maximum, Minimum: inputs of one shape. */
LOOM_API loom_layer *loom_layer_subtract(loom_graph *g, const loom_layer_opts *o);
LOOM_API loom_layer *loom_layer_multiply(loom_graph *g, const loom_layer_opts *o);
LOOM_API loom_layer *loom_layer_average(loom_graph *g, const loom_layer_opts *o);
LOOM_API loom_layer *loom_layer_maximum(loom_graph *g, const loom_layer_opts *o);
LOOM_API loom_layer *loom_layer_minimum(loom_graph *g, const loom_layer_opts *o);
/* Dot(axes, normalize): Keras' batch_dot of two inputs of rank 2 or 3 (batch included)
 * over axis axes[0] of the first and axes[1] of the second ({2} alone: the same for
 * both; negative: from the end); the output holds the first's other dims, then the
 * second's ([batch, 1] when none is left); normalize takes the cosine (each input
 * L2-normalised along its axis first). */
typedef struct loom_dot_opts {
  LOOM_OPTS_HEAD;
  int axes[LOOM_MAX_RANK - 1]; /* two used */
  bool normalize;
  const char *name;
} loom_dot_opts;
LOOM_API loom_layer *loom_layer_dot(loom_graph *g, const loom_dot_opts *o);
LOOM_API loom_layer *loom_layer_concatenate(loom_graph *g, const loom_layer_opts *o);

#define loom_Dense(g, ...) loom_layer_dense(g, LOOM_OPTS_(loom_dense_opts, __VA_ARGS__))
#define loom_Embedding(g, ...) loom_layer_embedding(g, LOOM_OPTS_(loom_embedding_opts, __VA_ARGS__))
#define loom_LSTM(g, ...) loom_layer_lstm(g, LOOM_OPTS_(loom_lstm_opts, __VA_ARGS__))
#define loom_Conv1D(g, ...) loom_layer_conv1d(g, LOOM_OPTS_(loom_conv_opts, __VA_ARGS__))
#define loom_Conv2D(g, ...) loom_layer_conv2d(g, LOOM_OPTS_(loom_conv_opts, __VA_ARGS__))
#define loom_Conv1DTranspose(g, ...) loom_layer_conv1d_transpose(g, LOOM_OPTS_(loom_conv_opts, __VA_ARGS__))
#define loom_Conv2DTranspose(g, ...) loom_layer_conv2d_transpose(g, LOOM_OPTS_(loom_conv_opts, __VA_ARGS__))
#define loom_DepthwiseConv2D(g, ...) \
  loom_layer_depthwise_conv2d(g, LOOM_OPTS_(loom_separable_opts, __VA_ARGS__))
#define loom_SeparableConv2D(g, ...) \
  loom_layer_separable_conv2d(g, LOOM_OPTS_(loom_separable_opts, __VA_ARGS__))
#define loom_BatchNormalization(g, ...) \
  loom_layer_batch_normalization(g, LOOM_OPTS_(loom_batch_norm_opts, __VA_ARGS__))
#define loom_MaxPooling1D(g, ...) loom_layer_max_pooling1d(g, LOOM_OPTS_(loom_pool_opts, __VA_ARGS__))
#define loom_MaxPooling2D(g, ...) loom_layer_max_pooling2d(g, LOOM_OPTS_(loom_pool_opts, __VA_ARGS__))
#define loom_AveragePooling1D(g, ...) \
  loom_layer_average_pooling1d(g, LOOM_OPTS_(loom_pool_opts, __VA_ARGS__))
#define loom_AveragePooling2D(g, ...) \
  loom_layer_average_pooling2d(g, LOOM_OPTS_(loom_pool_opts, __VA_ARGS__))
#define loom_GlobalMaxPooling1D(g, ...) \
  loom_layer_global_max_pooling1d(g, LOOM_OPTS_(loom_layer_opts, __VA_ARGS__))
#define loom_GlobalMaxPooling2D(g, ...) \
  loom_layer_global_max_pooling2d(g, LOOM_OPTS_(loom_layer_opts, __VA_ARGS__))
#define loom_GlobalAveragePooling1D(g, ...) \
  loom_layer_global_average_pooling1d(g, LOOM_OPTS_(loom_layer_opts, __VA_ARGS__))
#define loom_GlobalAveragePooling2D(g, ...) \
  loom_layer_global_average_pooling2d(g, LOOM_OPTS_(loom_layer_opts, __VA_ARGS__))
#define loom_Activation(g, ...) loom_layer_activation(g, LOOM_OPTS_(loom_layer_opts, __VA_ARGS__))
#define loom_GRU(g, ...) loom_layer_gru(g, LOOM_OPTS_(loom_rnn_opts, __VA_ARGS__))
#define loom_SimpleRNN(g, ...) loom_layer_simple_rnn(g, LOOM_OPTS_(loom_rnn_opts, __VA_ARGS__))
#define loom_ConvLSTM2D(g, ...) loom_layer_conv_lstm2d(g, LOOM_OPTS_(loom_conv_lstm_opts, __VA_ARGS__))
#define loom_TimeDistributed(g, ...) \
  loom_layer_time_distributed(g, LOOM_OPTS_(loom_time_distributed_opts, __VA_ARGS__))
#define loom_Bidirectional(g, ...) loom_layer_bidirectional(g, LOOM_OPTS_(loom_bidirectional_opts, __VA_ARGS__))
#define loom_ReLU(g, ...) loom_layer_relu(g, LOOM_OPTS_(loom_activation_layer_opts, __VA_ARGS__))
#define loom_LeakyReLU(g, ...) loom_layer_leaky_relu(g, LOOM_OPTS_(loom_activation_layer_opts, __VA_ARGS__))
#define loom_PReLU(g, ...) loom_layer_prelu(g, LOOM_OPTS_(loom_activation_layer_opts, __VA_ARGS__))
#define loom_ELU(g, ...) loom_layer_elu(g, LOOM_OPTS_(loom_activation_layer_opts, __VA_ARGS__))
#define loom_Softmax(g, ...) loom_layer_softmax(g, LOOM_OPTS_(loom_activation_layer_opts, __VA_ARGS__))
#define loom_Flatten(g, ...) loom_layer_flatten(g, LOOM_OPTS_(loom_layer_opts, __VA_ARGS__))
#define loom_Reshape(g, ...) loom_layer_reshape(g, LOOM_OPTS_(loom_reshaping_opts, __VA_ARGS__))
#define loom_Permute(g, ...) loom_layer_permute(g, LOOM_OPTS_(loom_reshaping_opts, __VA_ARGS__))
#define loom_RepeatVector(g, ...) loom_layer_repeat_vector(g, LOOM_OPTS_(loom_reshaping_opts, __VA_ARGS__))
#define loom_ZeroPadding1D(g, ...) loom_layer_zero_padding1d(g, LOOM_OPTS_(loom_reshaping_opts, __VA_ARGS__))
#define loom_ZeroPadding2D(g, ...) loom_layer_zero_padding2d(g, LOOM_OPTS_(loom_reshaping_opts, __VA_ARGS__))
#define loom_Cropping1D(g, ...) loom_layer_cropping1d(g, LOOM_OPTS_(loom_reshaping_opts, __VA_ARGS__))
#define loom_Cropping2D(g, ...) loom_layer_cropping2d(g, LOOM_OPTS_(loom_reshaping_opts, __VA_ARGS__))
#define loom_UpSampling1D(g, ...) loom_layer_up_sampling1d(g, LOOM_OPTS_(loom_reshaping_opts, __VA_ARGS__))
#define loom_UpSampling2D(g, ...) loom_layer_up_sampling2d(g, LOOM_OPTS_(loom_reshaping_opts, __VA_ARGS__))
#define loom_Dropout(g, ...) loom_layer_dropout(g, LOOM_OPTS_(loom_layer_opts, __VA_ARGS__))
#define loom_Masking(g, ...) loom_layer_masking(g, LOOM_OPTS_(loom_layer_opts, __VA_ARGS__))
#define loom_Add(g, ...) loom_layer_add(g, LOOM_OPTS_(loom_layer_opts, __VA_ARGS__))
#define loom_Subtract(g, ...) loom_layer_subtract(g, LOOM_OPTS_(loom_layer_opts, __VA_ARGS__))
#define loom_Multiply(g, ...) loom_layer_multiply(g, LOOM_OPTS_(loom_layer_opts, __VA_ARGS__))
#define loom_Average(g, ...) loom_layer_average(g, LOOM_OPTS_(loom_layer_opts, __VA_ARGS__))
#define loom_Maximum(g, ...) loom_layer_maximum(g, LOOM_OPTS_(loom_layer_opts, __VA_ARGS__))
#define loom_Minimum(g, ...) loom_layer_minimum(g, LOOM_OPTS_(loom_layer_opts, __VA_ARGS__))
#define loom_Dot(g, ...) loom_layer_dot(g, LOOM_OPTS_(loom_dot_opts, __VA_ARGS__))
#define loom_Concatenate(g, ...) loom_layer_concatenate(g, LOOM_OPTS_(loom_layer_opts, __VA_ARGS__))

/* Apply a layer (or a model, through loom_model_layer) to nodes: layer(x), layer([a, b]).
 * The first call builds the weights from the input shape; later calls share them and
 * must fit them. The output's shape is inferred here; a mismatch is an error naming the
 * layer and both shapes. For a model with several outputs, loom_call_outputs gives them
 * all (returns their count, or a negative status). */
LOOM_API loom_node *loom_call(loom_layer *layer, loom_node *x);
LOOM_API loom_node *loom_call_n(loom_layer *layer, int n, loom_node *const *xs);
LOOM_API int loom_call_outputs(loom_layer *layer, int n, loom_node *const *xs, int cap,
                               loom_node **out);
#if defined(__cplusplus)
}
#include <initializer_list>
namespace loom_detail {
inline loom_node *call_list(loom_layer *layer, std::initializer_list<loom_node *> xs) {
  return loom_call_n(layer, (int)xs.size(), xs.begin());
}
}  // namespace loom_detail
extern "C" {
#define loom_call_list(layer, ...) (::loom_detail::call_list(layer, {__VA_ARGS__}))
#else
#define loom_call_list(layer, ...)                                                          \
  loom_call_n(layer, (int)(sizeof((loom_node *const[]){__VA_ARGS__}) / sizeof(loom_node *)), \
              (loom_node *const[]){__VA_ARGS__})
#endif

/* Whether x carries Keras' mask over its steps (made by an Embedding with mask_zero or a
 * Masking layer, kept by the layers after it). */
LOOM_API bool loom_node_has_mask(const loom_node *x);
/* Shape of a node, batch dim first (LOOM_NONE where unknown); returns the rank. */
LOOM_API int loom_node_shape(const loom_node *x, int64_t shape[LOOM_MAX_RANK]);
LOOM_API const char *loom_layer_name(const loom_layer *l);
/* A weight by Keras' name ("kernel", "bias", "recurrent_kernel", "embeddings"); NULL if
 * the layer has none of that name (or is not built yet). */
LOOM_API loom_tensor *loom_layer_weight(loom_layer *l, const char *name);

/* keras.applications.Xception(weights=None, ...): Keras' layers and names (block1_conv1,
 * block2_sepconv1_bn, ...; the residual branches' conv2d, batch_normalization and add
 * get automatic names), 132 layers without the top. include_top (default yes) ends in
 * avg_pool and a softmax Dense `predictions` of `classes` (0: 1000) on 299x299x3 inputs
 * (input_shape zero); without it the input is (None, None, 3) unless given (each side
 * >= 71) and `pooling` may add global average or max pooling. */
typedef enum loom_pooling { LOOM_POOLING_NONE = 0, LOOM_POOLING_AVG, LOOM_POOLING_MAX } loom_pooling;
typedef struct loom_xception_opts {
  LOOM_OPTS_HEAD;
  loom_flag include_top;
  int64_t input_shape[3];
  loom_pooling pooling;
  int classes;
  const char *name; /* NULL: xception */
} loom_xception_opts;

/* Model(inputs, outputs): the NULL-terminated lists given by designated initialisers,
 * loom_Model(g, .inputs = {text, question}, .outputs = {answer}). name NULL: model,
 * model_1, ... */
typedef struct loom_model_opts {
  LOOM_OPTS_HEAD;
  loom_node *inputs[LOOM_MAX_IO];
  loom_node *outputs[LOOM_MAX_IO];
  const char *name;
} loom_model_opts;
LOOM_API loom_model *loom_model_new(loom_graph *g, const loom_model_opts *o);
#define loom_Model(g, ...) loom_model_new(g, LOOM_OPTS_(loom_model_opts, __VA_ARGS__))
/* Sequential([Input(shape), layer, ...]): each layer called on the one before, from an
 * Input made of `input`; layers NULL-ended (an earlier error shows here), at most
 * LOOM_MAX_SEQUENTIAL (add more with loom_sequential_add). A layer may be a model. name
 * NULL: sequential, sequential_1, ... The model is a loom_model like any other. */
#define LOOM_MAX_SEQUENTIAL 128
typedef struct loom_sequential_opts {
  LOOM_OPTS_HEAD;
  loom_input_opts input;
  loom_layer *layers[LOOM_MAX_SEQUENTIAL];
  const char *name;
} loom_sequential_opts;
LOOM_API loom_model *loom_sequential(loom_graph *g, const loom_sequential_opts *o);
#define loom_Sequential(g, ...) loom_sequential(g, LOOM_OPTS_(loom_sequential_opts, __VA_ARGS__))
/* Keras' model.add(layer) and model.pop() on a Sequential model not yet compiled nor used
 * as a layer; LOOM_OK, or an error naming the model (and the layer) that leaves it as it
 * was. pop removes the last layer (not the Input). */
LOOM_API loom_status loom_sequential_add(loom_model *m, loom_layer *layer);
LOOM_API loom_status loom_sequential_pop(loom_model *m);
LOOM_API loom_model *loom_xception(loom_graph *g, const loom_xception_opts *o);
#define loom_Xception(g, ...) loom_xception(g, LOOM_OPTS_(loom_xception_opts, __VA_ARGS__))
/* The model as a layer: calling it on new nodes shares its weights. */
LOOM_API loom_layer *loom_model_layer(loom_model *m);
LOOM_API loom_layer *loom_model_get_layer(loom_model *m, const char *name);
LOOM_API int loom_model_num_inputs(const loom_model *m);
LOOM_API int loom_model_num_outputs(const loom_model *m);
LOOM_API const char *loom_model_input_name(const loom_model *m, int i);
LOOM_API const char *loom_model_output_name(const loom_model *m, int i);
/* Parameters: all, or the trainable ones only. */
LOOM_API int64_t loom_model_count_params(const loom_model *m, bool trainable_only);
/* model.summary() as tf.keras 2 prints it. */
LOOM_API loom_status loom_model_summary(const loom_model *m, FILE *out);

/* compile(). The optimiser's zero fields take Keras' defaults: RMSprop lr 1e-3, rho 0.9,
 * eps 1e-7; SGD lr 0.01, momentum 0; Adam lr 1e-3, beta_1 0.9, beta_2 0.999, eps 1e-7. */
typedef enum loom_optimizer_kind { LOOM_RMSPROP = 0, LOOM_SGD, LOOM_ADAM } loom_optimizer_kind;
typedef struct loom_optimizer {
  loom_optimizer_kind kind;
  float learning_rate, momentum, rho, beta_1, beta_2, epsilon;
  bool nesterov;
} loom_optimizer;
typedef struct loom_named_str {
  const char *name, *value;
} loom_named_str;
typedef struct loom_named_float {
  const char *name;
  float value;
} loom_named_float;
/* Losses: "mse" (mean_squared_error), "mae" (mean_absolute_error),
 * "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy".
 * Metrics: "acc"/"accuracy" (binary, categorical or sparse as Keras picks it from the
 * loss and the output), "mae". As Keras, an output ending in softmax or sigmoid trained
 * with a cross-entropy uses the stable loss on its logits. */
typedef struct loom_compile_opts {
  LOOM_OPTS_HEAD;
  loom_optimizer optimizer;
  const char *loss;                           /* one loss for every output */
  const char *losses[LOOM_MAX_IO];            /* by position */
  loom_named_str loss_by_name[LOOM_MAX_IO];   /* {output name, loss} */
  const float *loss_weights;                  /* by position, one per output; NULL: 1 */
  loom_named_float loss_weight_by_name[LOOM_MAX_IO];
  const char *metrics[8];                     /* for every output */
  loom_named_str metric_by_name[LOOM_MAX_IO]; /* {output name, metric} */
} loom_compile_opts;
LOOM_API loom_status loom_model_compile(loom_model *m, const loom_compile_opts *o);
#define loom_compile(m, ...) loom_model_compile(m, LOOM_OPTS_(loom_compile_opts, __VA_ARGS__))

/* Data for fit / evaluate / predict: x and y by position (Keras' lists) or by the name of
 * the input / output (Keras' dicts), given as fields of the options:
 * loom_fit(m, .x = {text, question}, .y = {answers}, .epochs = 10) or
 * .x_by_name = {{"text", text}, {"question", question}}. Every tensor has the samples on
 * its first axis. */
typedef struct loom_named_tensor {
  const char *name;
  loom_tensor *tensor;
} loom_named_tensor;
#define LOOM_DATA_FIELDS                      \
  loom_tensor *x[LOOM_MAX_IO];                \
  loom_named_tensor x_by_name[LOOM_MAX_IO];   \
  loom_tensor *y[LOOM_MAX_IO];                \
  loom_named_tensor y_by_name[LOOM_MAX_IO]
typedef struct loom_data {
  LOOM_DATA_FIELDS;
} loom_data;

/* verbose: Keras' 1 (a progress bar, redrawn in place on a terminal, one line per epoch
 * otherwise) is the default; LOOM_SILENT is Keras' 0, LOOM_EPOCH_LINES its 2. */
typedef enum loom_verbosity { LOOM_VERBOSE_DEFAULT = 0, LOOM_SILENT, LOOM_PROGRESS_BAR,
                              LOOM_EPOCH_LINES } loom_verbosity;
/* Called after every epoch with the history so far; return false to stop training. */
typedef bool (*loom_epoch_fn)(loom_model *m, int epoch, const loom_history *h, void *user);
typedef struct loom_fit_opts {
  LOOM_OPTS_HEAD;
  LOOM_DATA_FIELDS;
  int epochs;                      /* 0: 1 */
  int batch_size;                  /* 0: 32 */
  loom_flag shuffle;               /* default: shuffle every epoch (seeded by the graph) */
  float validation_split;          /* the last share of the samples, before shuffling */
  const loom_data *validation_data;
  loom_verbosity verbose;
  FILE *out;                       /* NULL: stdout */
  loom_epoch_fn on_epoch_end;
  void *user;
} loom_fit_opts;
/* Trains; returns the history (owned by the model, replaced by the next fit), or NULL
 * with the error. Bad data is reported before any training happens. */
LOOM_API const loom_history *loom_model_fit(loom_model *m, const loom_fit_opts *o);
#define loom_fit(m, ...) loom_model_fit(m, LOOM_OPTS_(loom_fit_opts, __VA_ARGS__))

/* History: one value per epoch for each key ("loss", "acc", "income_loss", "val_loss",
 * ...). NULL for a key it does not hold. */
LOOM_API int loom_history_epochs(const loom_history *h);
LOOM_API int loom_history_num_keys(const loom_history *h);
LOOM_API const char *loom_history_key(const loom_history *h, int i);
LOOM_API const float *loom_history_get(const loom_history *h, const char *key);

typedef struct loom_eval_opts {
  LOOM_OPTS_HEAD;
  LOOM_DATA_FIELDS;
  int batch_size; /* 0: 32 */
} loom_eval_opts;
/* evaluate(): the loss, then each output's loss (several outputs), then the metrics, in
 * the order of loom_model_metric_name; returns how many (at most cap written). */
LOOM_API int loom_model_evaluate(loom_model *m, const loom_eval_opts *o, float *values, int cap);
#define loom_evaluate(m, values, cap, ...) \
  loom_model_evaluate(m, LOOM_OPTS_(loom_eval_opts, __VA_ARGS__), values, cap)
LOOM_API int loom_model_num_metrics(const loom_model *m);
LOOM_API const char *loom_model_metric_name(const loom_model *m, int i);
/* predict(): one tensor per output in `arena`, samples on the first axis; records no
 * tape; y is not needed. */
LOOM_API loom_status loom_model_predict(loom_model *m, const loom_eval_opts *o, loom_arena *arena,
                                        loom_tensor **outputs);
#define loom_predict(m, arena, outputs, ...) \
  loom_model_predict(m, LOOM_OPTS_(loom_eval_opts, __VA_ARGS__), arena, outputs)

/* ---------------------------------------------------------------- saving and loading
 *
 * One safetensors file (any safetensors reader can list and read the weights): the
 * weights under Keras' names and layouts (dense_1/kernel [in, units], lstm/bias, ...),
 * the architecture and compile settings as JSON in __metadata__ ("loom_config"), and,
 * unless include_optimizer is LOOM_NO, the optimiser's state, step count and the graph's
 * generator, so that fit after load continues bitwise as an uninterrupted run would.
 * Files are little-endian whatever the machine: written on x86, loaded on ARM. */
typedef struct loom_save_opts {
  LOOM_OPTS_HEAD;
  loom_flag include_optimizer;
} loom_save_opts;
LOOM_API loom_status loom_model_save(loom_model *m, const char *path, const loom_save_opts *o);
#define loom_save(m, path, ...) loom_model_save(m, path, LOOM_OPTS_(loom_save_opts, __VA_ARGS__))
/* A new graph holding the saved model (free it with loom_graph_free(loom_model_graph(m)));
 * NULL and loom_last_error() for a missing, truncated, corrupt or hostile file: every
 * size and offset is checked before anything is read or allocated. The file is mapped,
 * not read whole, and unmapped once the weights are copied. */
LOOM_API loom_model *loom_model_load(const char *path);
/* The same from a file's bytes in memory (read from a flash partition, received, fuzzed):
 * the same checks; the buffer is only read during the call. */
LOOM_API loom_model *loom_model_load_buffer(const void *buf, size_t size);
LOOM_API loom_graph *loom_model_graph(loom_model *m);
/* Weights alone, matched by layer/weight name; any name, shape or count that differs is
 * an error and nothing is changed. */
LOOM_API loom_status loom_save_weights(loom_model *m, const char *path);
LOOM_API loom_status loom_load_weights(loom_model *m, const char *path);

/* Files of named tensors (safetensors; what `loom predict` takes as data and writes as
 * predictions). save: n tensors under their names (unique, non-empty), written through a
 * temporary file renamed at the end; nothing is retained. load: every tensor of the file,
 * in its order, copied into `arena` with its name (both live as long as the arena's
 * contents); at most cap written to out; returns the number the file holds, or a
 * negative status (a bad file is refused as loom_model_load refuses one). */
LOOM_API loom_status loom_tensors_save(const char *path, int n, const loom_named_tensor *tensors);
LOOM_API int loom_tensors_load(const char *path, loom_arena *arena, loom_named_tensor *out, int cap);

/* keras.utils.to_categorical: i32 ids of any shape -> f32 one-hot [..., classes]. */
LOOM_API loom_tensor *loom_to_categorical(loom_arena *arena, const loom_tensor *ids, int classes);

#ifdef __cplusplus
}
#endif

#if !defined(__cplusplus)
/* Designated-initialiser helper for C: loom_arena_create(.max_bytes = 1 << 20). */
#define loom_arena_create(...) loom_arena_new(&(loom_arena_opts){__VA_ARGS__})
#endif

#endif /* LOOM_H */
