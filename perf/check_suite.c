/* check_suite.c - the perf-check benchmarks (see check_suite.h): the table at the end,
 * and the setups it names. Sizes are small enough that a repetition is a few ms to a
 * few tens of ms, so that the whole suite runs in minutes. */
#include "perf/check_suite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loom.h"
#include "perf/layer_cases.h"
#include "perf/model_cases.h"
#include "simd/simd.h"

static float *filled(size_t n, unsigned seed) {
  float *v = malloc(n * sizeof(float));
  if (!v) return NULL;
  for (size_t i = 0; i < n; ++i) v[i] = (float)((i * 2654435761u + seed) % 2001) / 1000.0f - 1.0f;
  return v;
}

/* ---------------------------------------------------------------- kernels */

typedef struct sgemm_arg {
  int m, n, k;
} sgemm_arg;

typedef struct sgemm_state {
  sgemm_arg s;
  float *a, *b, *c;
} sgemm_state;

static void *sgemm_setup(const void *arg) {
  sgemm_state *st = calloc(1, sizeof *st);
  if (!st) return NULL;
  st->s = *(const sgemm_arg *)arg;
  st->a = filled((size_t)st->s.m * st->s.k, 1), st->b = filled((size_t)st->s.k * st->s.n, 2);
  st->c = filled((size_t)st->s.m * st->s.n, 3);
  return st;
}

static void sgemm_run(void *p) {
  sgemm_state *st = p;
  loom_sgemm(false, false, st->s.m, st->s.n, st->s.k, 1.0f, st->a, st->s.k, st->b, st->s.n, 0.0f, st->c, st->s.n);
}

static void sgemm_free(void *p) {
  sgemm_state *st = p;
  free(st->a), free(st->b), free(st->c), free(st);
}

typedef struct vec_arg {
  int kind; /* 0 add, 1 tanh, 2 softmax rows of 1000, 3 sum */
  size_t n;
} vec_arg;

typedef struct vec_state {
  vec_arg v;
  float *x, *y, *out;
  volatile float sink;
} vec_state;

static void *vec_setup(const void *arg) {
  vec_state *st = calloc(1, sizeof *st);
  if (!st) return NULL;
  st->v = *(const vec_arg *)arg;
  st->x = filled(st->v.n, 1), st->y = filled(st->v.n, 2), st->out = filled(st->v.n, 3);
  return st;
}

static void vec_run(void *p) {
  vec_state *st = p;
  switch (st->v.kind) {
    case 0: lm_k_add(st->x, st->y, st->out, st->v.n); break;
    case 1: lm_k_tanh(st->x, st->out, st->v.n); break;
    case 2: lm_k_softmax(st->x, st->out, st->v.n / 1000, 1000); break;
    default: st->sink = lm_k_sum(st->x, st->v.n); break;
  }
}

static void vec_free(void *p) {
  vec_state *st = p;
  free(st->x), free(st->y), free(st->out), free(st);
}

/* ---------------------------------------------------------------- ops */

static void *layer_setup(const void *arg) {
  layer_case *c = malloc(sizeof *c);
  if (!c) return NULL;
  *c = *(const layer_case *)arg;
  layer_case_prepare(c);
  return c;
}

static void layer_free(void *p) {
  layer_case_free(p);
  free(p);
}

/* ---------------------------------------------------------------- models */

typedef struct model_state {
  loom_graph *g;
  loom_arena *inputs;
  model_case c;
} model_state;

static void model_free(void *p) {
  model_state *st = p;
  loom_graph_free(st->g), loom_arena_free(st->inputs), loom_arena_free(st->c.data), free(st);
}

static void *model_setup(const void *arg) {
  model_state *st = calloc(1, sizeof *st);
  if (!st) return NULL;
  st->g = loom_graph_new(1), st->inputs = loom_arena_new(NULL), st->c.data = loom_arena_new(NULL);
  if (!model_case_setup(arg, st->g, st->inputs, &st->c)) {
    fprintf(stderr, "model %s: %s\n", (const char *)arg, loom_graph_error(st->g));
    model_free(st);
    return NULL;
  }
  return st;
}

static void model_train(void *p) { model_case_train(&((model_state *)p)->c); }
static void model_predict(void *p) { model_case_predict(&((model_state *)p)->c); }

/* ---------------------------------------------------------------- the suite */

#define SGEMM(M, N, K) \
  {"kernel/sgemm-" #M "x" #N "x" #K, sgemm_setup, sgemm_run, sgemm_free, &(const sgemm_arg){M, N, K}}
#define VEC(NAME, KIND, N) {"kernel/" NAME, vec_setup, vec_run, vec_free, &(const vec_arg){KIND, N}}
#define LAYER(NAME, ...) {"op/" NAME, layer_setup, layer_case_run, layer_free, &(const layer_case){.name = NAME, __VA_ARGS__}}
#define MODEL(NAME)                                                   \
  {"model/" NAME "-train", model_setup, model_train, model_free, NAME}, \
  {"model/" NAME "-predict", model_setup, model_predict, model_free, NAME}

const check_bench check_suite[] = {
    SGEMM(64, 64, 64),
    SGEMM(256, 256, 256),
    SGEMM(1024, 128, 64), /* an LSTM's input projection: batch x steps by 4 units */
    SGEMM(32, 128, 32),   /* one LSTM step */
    VEC("add-16k", 0, 16384),
    VEC("tanh-64k", 1, 65536),
    VEC("softmax-64x1000", 2, 64000),
    VEC("sum-1M", 3, 1 << 20),
    /* kind, batch, h, w (steps), cin, cout, k, backward */
    LAYER("lstm-64to32-T20-b32-fwd", LAYER_LSTM, 32, 1, 20, 64, 32, 0, false),
    LAYER("lstm-64to32-T20-b32-fwd+bwd", LAYER_LSTM, 32, 1, 20, 64, 32, 0, true),
    LAYER("conv1d-k5-64-L100-b16-fwd", LAYER_CONV1D, 16, 1, 100, 64, 64, 5, false),
    LAYER("conv1d-k5-64-L100-b16-fwd+bwd", LAYER_CONV1D, 16, 1, 100, 64, 64, 5, true),
    LAYER("conv2d-3x3-32-16x16-b8-fwd", LAYER_CONV2D, 8, 16, 16, 32, 32, 3, false),
    LAYER("conv2d-3x3-32-16x16-b8-fwd+bwd", LAYER_CONV2D, 8, 16, 16, 32, 32, 3, true),
    MODEL("mlp"),
    MODEL("qa"),
    MODEL("siamese"),
    MODEL("multi_output"),
    MODEL("residual"),
};
const int check_suite_count = (int)(sizeof check_suite / sizeof check_suite[0]);
