/* layer_cases.h - one layer's forward or forward+backward as a benchmark case (raw ops on
 * a ctx, a constant gradient seed): Conv2D 3x3 'same' + ReLU, Conv1D 'valid' + ReLU, LSTM
 * (last state), GRU (reset_after, last state), Bidirectional LSTM (two LSTMs, the second
 * backwards, last states concatenated: Keras' Bidirectional(LSTM)). Shared by layers.c and the perf-check suite. */
#ifndef LOOM_PERF_LAYER_CASES_H
#define LOOM_PERF_LAYER_CASES_H

#include <stdbool.h>
#include <stdint.h>

#include "loom.h"

typedef enum { LAYER_CONV2D, LAYER_CONV1D, LAYER_LSTM, LAYER_GRU, LAYER_BILSTM } layer_kind;

typedef struct layer_case {
  const char *name;
  layer_kind kind;
  int64_t b, h, w, cin, cout, k; /* batch, height, width (steps), channels in/out, kernel */
  bool backward;
  loom_arena *params;
  loom_ctx *cx;
  loom_tensor *x, *kernel, *rk, *bias;
  float *seed; /* d loss / d y */
  loom_tensor *kernel2, *rk2, *bias2; /* the backward LSTM's (LAYER_BILSTM) */
} layer_case;

/* Make the inputs and weights (deterministic values) and the ctx. */
void layer_case_prepare(layer_case *c);
/* One forward (and backward when c->backward); exit(1) with the error. */
void layer_case_run(void *c);
void layer_case_free(layer_case *c);

#endif
