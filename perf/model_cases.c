/* model_cases.c - the notebook's models as benchmark cases (see model_cases.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOOM_EXAMPLE_NO_MAIN
#include "../examples/mlp.c"
#include "../examples/multi_output.c"
#include "../examples/qa_model.c"
#include "../examples/residual.c"
#include "../examples/siamese.c"
#include "perf/model_cases.h"

void model_case_train(void *p) {
  model_case *c = p;
  if (!loom_fit(c->m, .x = {c->x[0], c->nx > 1 ? c->x[1] : NULL}, .y = {c->y[0], c->ny > 1 ? c->y[1] : NULL, c->ny > 2 ? c->y[2] : NULL},
                .batch_size = c->batch, .verbose = LOOM_SILENT, .shuffle = LOOM_NO)) {
    fprintf(stderr, "fit: %s\n", loom_last_error());
    exit(1);
  }
}

void model_case_predict(void *p) {
  model_case *c = p;
  loom_tensor *out[3];
  loom_arena_reset(c->data); /* the previous call's outputs; the inputs have their own arena */
  if (loom_predict(c->m, c->data, out, .x = {c->x[0], c->nx > 1 ? c->x[1] : NULL}, .batch_size = c->batch)) {
    fprintf(stderr, "predict: %s\n", loom_last_error());
    exit(1);
  }
}

static loom_tensor *ids(loom_arena *a, int64_t n, int64_t steps, int hi, unsigned seed) {
  const int64_t s[2] = {n, steps};
  loom_tensor *t = loom_tensor_new(a, LOOM_I32, 2, s);
  for (int64_t i = 0; i < t->size; ++i) loom_tensor_i32(t)[i] = (int32_t)((i * 2654435761u + seed) % (unsigned)hi);
  return t;
}

bool model_case_setup(const char *name, loom_graph *g, loom_arena *a, model_case *c) {
  if (!strcmp(name, "mlp")) {
    c->m = build_mlp_model(g), c->batch = 32, c->samples = 4 * 32, c->nx = c->ny = 1;
    make_blobs(a, c->samples, 1, &c->x[0], &c->y[0]);
  } else if (!strcmp(name, "qa")) {
    c->m = build_qa_model(g), c->batch = 128, c->samples = 4 * 128, c->nx = 2, c->ny = 1;
    c->x[0] = ids(a, c->samples, 100, TEXT_VOCAB, 1), c->x[1] = ids(a, c->samples, 100, QUESTION_VOCAB, 2);
    const int64_t s[1] = {c->samples};
    loom_tensor *ans = loom_tensor_new(a, LOOM_I32, 1, s);
    for (int64_t i = 0; i < c->samples; ++i) loom_tensor_i32(ans)[i] = (int32_t)(i * 7 % ANSWER_VOCAB);
    c->y[0] = loom_to_categorical(a, ans, ANSWER_VOCAB);
  } else if (!strcmp(name, "siamese")) {
    c->m = build_siamese_model(g), c->batch = 32, c->samples = 4 * 32, c->nx = 2, c->ny = 1;
    make_pairs(a, c->samples, 20, 3, &c->x[0], &c->x[1], &c->y[0]);
  } else if (!strcmp(name, "multi_output")) {
    c->m = build_multi_output_model(g, 256), c->batch = 64, c->samples = 4 * 64, c->nx = 1, c->ny = 3;
    const posts_data d = make_posts(a, c->samples, 300, 5);
    c->x[0] = d.posts, c->y[0] = d.age, c->y[1] = d.income, c->y[2] = d.gender;
    return c->m && compile_multi_output_model(c->m) == LOOM_OK;
  } else if (!strcmp(name, "residual")) {
    c->m = build_residual_model(g), c->batch = 32, c->samples = 4 * 32, c->nx = c->ny = 1;
    make_images(a, c->samples, 9, &c->x[0], &c->y[0]);
    return c->m && loom_compile(c->m, .loss = "binary_crossentropy") == LOOM_OK;
  } else {
    return false;
  }
  const char *loss = !strcmp(name, "siamese") ? "binary_crossentropy" : "categorical_crossentropy";
  return c->m && loom_compile(c->m, .loss = loss) == LOOM_OK;
}

