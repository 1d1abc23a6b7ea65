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

#include "perf/bench.h"
#include "perf/model_cases.h"

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
  if (!model || !model_case_setup(model, g, inputs, &c)) {
    fprintf(stderr, "usage: %s --model " MODEL_CASE_NAMES " [--json FILE] "
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
  bench_add_with_reference(&report, bench_run(name, model_case_train, &c, (double)c.samples, "samples/s", &opts),
                           "pytorch", have ? (double)c.samples / theirs[0] : 0, stdout);
  snprintf(name, sizeof name, "%s/predict", model);
  bench_add_with_reference(&report, bench_run(name, model_case_predict, &c, (double)c.samples, "samples/s", &opts),
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
