/* models.c - training and predict throughput of the notebook's models (the examples'
 * own builders), and the process's peak RSS. One model per run, so that the RSS is that
 * model's (perf/torch_models.py measures PyTorch the same way):
 *
 *   models --model NAME [--json FILE] [--reps N] [--threads N] [--torch FILE]
 *
 * NAME: mlp (batch 32), qa (batch 128, 100 steps, as the notebook), siamese (batch 32,
 * 20 steps), multi_output (batch 64, 300 words, Embedding(256, 256): the notebook's
 * layers with the word vectors it surely meant), residual (batch 32, 16x16x3).
 * A training call is one epoch of fit over 4 batches (RMSprop, Keras' constants); a
 * predict call is predict over the same samples. --torch reads torch_models.py's line
 * for the model (NAME TRAIN_SAMPLES_S PREDICT_SAMPLES_S RSS_MB). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define LOOM_EXAMPLE_NO_MAIN
#include "../examples/mlp.c"
#include "../examples/multi_output.c"
#include "../examples/qa_model.c"
#include "../examples/residual.c"
#include "../examples/siamese.c"
#include "perf/bench.h"

typedef struct model_case {
  loom_model *m;
  loom_arena *data;
  loom_tensor *x[3], *y[3];
  int nx, ny, batch;
  int64_t samples;
} model_case;

static void train(void *p) {
  model_case *c = p;
  if (!loom_fit(c->m, .x = {c->x[0], c->nx > 1 ? c->x[1] : NULL}, .y = {c->y[0], c->ny > 1 ? c->y[1] : NULL, c->ny > 2 ? c->y[2] : NULL},
                .batch_size = c->batch, .verbose = LOOM_SILENT, .shuffle = LOOM_NO)) {
    fprintf(stderr, "fit: %s\n", loom_last_error());
    exit(1);
  }
}

static void predict(void *p) {
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

static bool setup(const char *name, loom_graph *g, loom_arena *a, model_case *c) {
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

/* PyTorch's line for the model: train and predict samples/s, RSS in MB (0 if none). */
static bool torch_line(const char *path, const char *model, double v[3]) {
  FILE *f = path ? fopen(path, "r") : NULL;
  if (!f) return false;
  char name[64];
  bool found = false;
  while (fscanf(f, "%63s %lf %lf %lf", name, &v[0], &v[1], &v[2]) == 4)
    if (!strcmp(name, model)) {
      found = true;
      break;
    }
  fclose(f);
  return found;
}

int main(int argc, char **argv) {
  const char *json = NULL, *model = NULL, *torch = NULL;
  bench_opts opts = {.reps = 7};
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--json") && i + 1 < argc) json = argv[++i];
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc) opts.reps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--model") && i + 1 < argc) model = argv[++i];
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc) loom_set_num_threads(atoi(argv[++i]));
    else if (!strcmp(argv[i], "--torch") && i + 1 < argc) torch = argv[++i];
    else model = NULL, i = argc;
  }
  loom_graph *g = loom_graph_new(1);
  loom_arena *inputs = loom_arena_new(NULL);
  model_case c = {.data = loom_arena_new(NULL)};
  if (!model || !setup(model, g, inputs, &c)) {
    fprintf(stderr, "usage: %s --model mlp|qa|siamese|multi_output|residual [--json FILE] "
            "[--reps N] [--threads N] [--torch FILE]%s%s\n", argv[0], model ? "\n" : "",
            model ? loom_graph_error(g) : "");
    return 2;
  }
  bench_report report = {.suite = "models"};
  printf("loom %s model %s: SIMD %s, %d threads, %lld samples per call\n", loom_version(), model,
         loom_simd_target(), loom_get_num_threads(), (long long)c.samples);
  bench_print_header(stdout);
  double theirs[3] = {0, 0, 0};
  const bool have = torch_line(torch, model, theirs);
  char name[64];
  snprintf(name, sizeof name, "%s/train", model);
  bench_add_with_reference(&report, bench_run(name, train, &c, (double)c.samples, "samples/s", &opts),
                           "pytorch", have ? (double)c.samples / theirs[0] : 0, stdout);
  snprintf(name, sizeof name, "%s/predict", model);
  bench_add_with_reference(&report, bench_run(name, predict, &c, (double)c.samples, "samples/s", &opts),
                           "pytorch", have ? (double)c.samples / theirs[1] : 0, stdout);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  const double rss = (double)ru.ru_maxrss / 1024.0;
  if (have && theirs[2] > 0)
    printf("%s: peak RSS %.0f MB, PyTorch %.0f MB (%.1fx less)\n", model, rss, theirs[2], theirs[2] / rss);
  else
    printf("%s: peak RSS %.0f MB\n", model, rss);
  loom_graph_free(g);
  loom_arena_free(inputs), loom_arena_free(c.data);
  return bench_finish(&report, json);
}
