/* model_cases.h - the notebook's models as benchmark cases (the examples' own builders):
 * one epoch of fit over 4 batches, or predict over the same samples. Shared by models.c
 * and the perf-check suite. */
#ifndef LOOM_PERF_MODEL_CASES_H
#define LOOM_PERF_MODEL_CASES_H

#include <stdbool.h>
#include <stdint.h>

#include "loom.h"

typedef struct model_case {
  loom_model *m;
  loom_arena *data; /* predict's outputs */
  loom_tensor *x[3], *y[3];
  int nx, ny, batch;
  int64_t samples;
} model_case;

#define MODEL_CASE_NAMES "mlp|qa|siamese|multi_output|residual"

/* Build model `name` in g, its inputs in a; false for an unknown name or a failure. */
bool model_case_setup(const char *name, loom_graph *g, loom_arena *a, model_case *c);
/* One epoch of fit / one predict over the case's samples; exit(1) with the error. */
void model_case_train(void *c);
void model_case_predict(void *c);

#endif
