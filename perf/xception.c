/* xception.c - Keras' Xception (include_top=False) on 299x299x3, batch 8: forward
 * (predict) and a training step (fit on one batch: forward, mse against zeros, backward,
 * RMSprop), images/s, and the process's peak RSS; against perf/torch_xception.py's line
 * (the same network in PyTorch 1.13) when --torch FILE gives it.
 *
 *   xception [--json FILE] [--reps N] [--threads N] [--torch FILE] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "loom.h"
#include "perf/bench.h"

typedef struct {
  loom_model *m;
  loom_arena *out;
  loom_tensor *x, *y;
} xcase;

static void forward(void *p) {
  xcase *c = p;
  loom_tensor *o[1];
  loom_arena_reset(c->out);
  if (loom_predict(c->m, c->out, o, .x = {c->x}, .batch_size = 8)) {
    fprintf(stderr, "predict: %s\n", loom_last_error());
    exit(1);
  }
}

static void train(void *p) {
  xcase *c = p;
  if (!loom_fit(c->m, .x = {c->x}, .y = {c->y}, .batch_size = 8, .verbose = LOOM_SILENT)) {
    fprintf(stderr, "fit: %s\n", loom_last_error());
    exit(1);
  }
}

int main(int argc, char **argv) {
  const char *json = NULL, *torch = NULL;
  bench_opts opts = {.reps = 5, .warmup = 1};
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--json") && i + 1 < argc) json = argv[++i];
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc) opts.reps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc) loom_set_num_threads(atoi(argv[++i]));
    else if (!strcmp(argv[i], "--torch") && i + 1 < argc) torch = argv[++i];
    else {
      fprintf(stderr, "usage: %s [--json FILE] [--reps N] [--threads N] [--torch FILE]\n", argv[0]);
      return 2;
    }
  }
  loom_graph *g = loom_graph_new(1);
  xcase c = {loom_Xception(g, .include_top = LOOM_NO, .input_shape = {299, 299, 3}), loom_arena_new(NULL), 0, 0};
  if (!c.m || loom_compile(c.m, .optimizer = {LOOM_RMSPROP}, .loss = "mse")) {
    fprintf(stderr, "%s\n", loom_graph_error(g));
    return 1;
  }
  loom_arena *data = loom_arena_new(NULL);
  const int64_t sx[4] = {8, 299, 299, 3}, sy[4] = {8, 10, 10, 2048};
  c.x = loom_tensor_new(data, LOOM_F32, 4, sx), c.y = loom_tensor_new(data, LOOM_F32, 4, sy);
  for (int64_t i = 0; i < c.x->size; ++i) loom_tensor_f32(c.x)[i] = (float)(i % 251) / 251.0f;
  double theirs[3] = {0, 0, 0};
  FILE *f = torch ? fopen(torch, "r") : NULL;
  char name[32];
  const bool have = f && fscanf(f, "%31s %lf %lf %lf", name, &theirs[0], &theirs[1], &theirs[2]) == 4;
  if (f) fclose(f);
  bench_report rep = {.suite = "xception"};
  printf("loom %s Xception 299x299x3 batch 8: SIMD %s, %d threads\n", loom_version(), loom_simd_target(),
         loom_get_num_threads());
  bench_print_header(stdout);
  bench_add_with_reference(&rep, bench_run("xception/forward", forward, &c, 8.0, "img/s", &opts), "pytorch",
                           have ? 8.0 / theirs[0] : 0, stdout);
  bench_add_with_reference(&rep, bench_run("xception/train", train, &c, 8.0, "img/s", &opts), "pytorch",
                           have ? 8.0 / theirs[1] : 0, stdout);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  const double rss = (double)ru.ru_maxrss / 1024.0;
  if (have) printf("xception: peak RSS %.0f MB, PyTorch %.0f MB (%.1fx less)\n", rss, theirs[2], theirs[2] / rss);
  else printf("xception: peak RSS %.0f MB\n", rss);
  loom_graph_free(g);
  loom_arena_free(data), loom_arena_free(c.out);
  return bench_finish(&rep, json);
}
