/* layer_cases.c - layers as benchmark cases (see layer_cases.h). */
#include <stdio.h>
#include <stdlib.h>

#include "perf/layer_cases.h"

void layer_case_run(void *p) {
  layer_case *c = p;
  loom_ctx_reset(c->cx);
  loom_ctx_set_training(c->cx, c->backward);
  loom_tensor *y = c->kind == LAYER_CONV2D ? loom_conv2d(c->cx, c->x, c->kernel, c->bias, 1, 1, 1, 1, LOOM_SAME, LOOM_RELU)
                 : c->kind == LAYER_CONV1D ? loom_conv1d(c->cx, c->x, c->kernel, c->bias, 1, 1, LOOM_VALID, LOOM_RELU)
                 : c->kind == LAYER_GRU ? loom_gru(c->cx, c->x, NULL, c->kernel, c->rk, c->bias,
                                                   &(loom_rnn_cfg){.reset_after = true})
                 : loom_lstm(c->cx, c->x, NULL, NULL, c->kernel, c->rk, c->bias, &(loom_rnn_cfg){0}, NULL);
  if (y && c->kind == LAYER_BILSTM) {
    loom_tensor *both[2] = {y, loom_lstm(c->cx, c->x, NULL, NULL, c->kernel2, c->rk2, c->bias2,
                                         &(loom_rnn_cfg){.go_backwards = true}, NULL)};
    y = both[1] ? loom_concatenate(c->cx, 2, both, -1) : NULL;
  }
  if (!y) {
    fprintf(stderr, "%s: %s\n", c->name, loom_ctx_error(c->cx));
    exit(1);
  }
  if (c->backward && loom_backward_from(c->cx, y, c->seed) != LOOM_OK) {
    fprintf(stderr, "%s: %s\n", c->name, loom_ctx_error(c->cx));
    exit(1);
  }
}

static loom_tensor *filled(loom_arena *a, int rank, const int64_t *shape, float scale, unsigned seed) {
  loom_tensor *t = loom_tensor_new(a, LOOM_F32, rank, shape);
  float *v = loom_tensor_f32(t);
  for (int64_t i = 0; i < t->size; ++i) v[i] = scale * ((float)((i * 2654435761u + seed) % 2001) / 1000.0f - 1.0f);
  loom_tensor_set_requires_grad(t, true);
  return t;
}

void layer_case_prepare(layer_case *c) {
  c->params = loom_arena_new(NULL);
  c->cx = loom_ctx_new(NULL);
  loom_arena *a = c->params;
  int64_t ysize;
  if (c->kind == LAYER_CONV2D) {
    const int64_t sx[4] = {c->b, c->h, c->w, c->cin}, sk[4] = {3, 3, c->cin, c->cout};
    c->x = filled(a, 4, sx, 1.0f, 1);
    c->kernel = filled(a, 4, sk, 0.05f, 2);
    ysize = c->b * c->h * c->w * c->cout;
  } else if (c->kind == LAYER_CONV1D) {
    const int64_t sx[3] = {c->b, c->w, c->cin}, sk[3] = {c->k, c->cin, c->cout};
    c->x = filled(a, 3, sx, 1.0f, 1);
    c->kernel = filled(a, 3, sk, 0.05f, 2);
    ysize = c->b * (c->w - c->k + 1) * c->cout;
  } else {
    const int64_t g = c->kind == LAYER_GRU ? 3 : 4;
    const int64_t sx[3] = {c->b, c->w, c->cin}, sk[2] = {c->cin, g * c->cout}, su[2] = {c->cout, g * c->cout};
    c->x = filled(a, 3, sx, 1.0f, 1);
    c->kernel = filled(a, 2, sk, 0.1f, 2);
    c->rk = filled(a, 2, su, 0.1f, 3);
    ysize = c->b * c->cout;
    if (c->kind == LAYER_BILSTM) {
      c->kernel2 = filled(a, 2, sk, 0.1f, 5);
      c->rk2 = filled(a, 2, su, 0.1f, 6);
      const int64_t sb2 = 4 * c->cout;
      c->bias2 = filled(a, 1, &sb2, 0.1f, 7);
      ysize *= 2;
    }
  }
  const int64_t sb[2] = {c->kind == LAYER_LSTM || c->kind == LAYER_BILSTM ? 4 * c->cout : c->kind == LAYER_GRU ? 2 : c->cout, 3 * c->cout};
  c->bias = filled(a, c->kind == LAYER_GRU ? 2 : 1, sb, 0.1f, 4);
  c->seed = malloc((size_t)ysize * sizeof(float));
  for (int64_t i = 0; i < ysize; ++i) c->seed[i] = 1e-3f;
}

void layer_case_free(layer_case *c) {
  loom_ctx_free(c->cx), loom_arena_free(c->params), free(c->seed);
  c->cx = NULL, c->params = NULL, c->seed = NULL;
}
