/* layers.c - forward and forward+backward of the notebook's heavy layers, at the sizes of
 * the targets (PyTorch runs the same through perf/torch_layers.py):
 *   Conv2D 3x3 128->128 'same' on 32x32, batch 32; Conv1D 256->256 k5 on length 100,
 *   batch 64; LSTM(64->32) and LSTM(128->32) on batch 128 x 100 steps, loss on last h.
 *
 *   layers [--json FILE] [--reps N] [--threads N] [--filter TEXT] [--torch FILE]
 *
 * --torch reads perf/torch_layers.py's output (NAME FWD_MS FWDBWD_MS per line), measured
 * just before in the same `make perf`, and prints loom's speed-up over PyTorch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loom.h"
#include "perf/bench.h"

typedef struct {
  const char *name;
  int kind; /* 0 conv2d, 1 conv1d, 2 lstm */
  int64_t b, h, w, cin, cout, k;
  bool backward;
  loom_arena *params;
  loom_ctx *cx;
  loom_tensor *x, *kernel, *rk, *bias;
  float *seed; /* d loss / d y */
} layer_case;

static void run(void *p) {
  layer_case *c = p;
  loom_ctx_reset(c->cx);
  loom_ctx_set_training(c->cx, c->backward);
  loom_tensor *y = c->kind == 0 ? loom_conv2d(c->cx, c->x, c->kernel, c->bias, 1, 1, LOOM_SAME, LOOM_RELU)
                 : c->kind == 1 ? loom_conv1d(c->cx, c->x, c->kernel, c->bias, 1, 1, LOOM_VALID, LOOM_RELU)
                                : loom_lstm(c->cx, c->x, c->kernel, c->rk, c->bias, false, false);
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

static void prepare(layer_case *c) {
  c->params = loom_arena_new(NULL);
  c->cx = loom_ctx_new(NULL);
  loom_arena *a = c->params;
  int64_t ysize;
  if (c->kind == 0) {
    const int64_t sx[4] = {c->b, c->h, c->w, c->cin}, sk[4] = {3, 3, c->cin, c->cout};
    c->x = filled(a, 4, sx, 1.0f, 1);
    c->kernel = filled(a, 4, sk, 0.05f, 2);
    ysize = c->b * c->h * c->w * c->cout;
  } else if (c->kind == 1) {
    const int64_t sx[3] = {c->b, c->w, c->cin}, sk[3] = {c->k, c->cin, c->cout};
    c->x = filled(a, 3, sx, 1.0f, 1);
    c->kernel = filled(a, 3, sk, 0.05f, 2);
    ysize = c->b * (c->w - c->k + 1) * c->cout;
  } else {
    const int64_t sx[3] = {c->b, c->w, c->cin}, sk[2] = {c->cin, 4 * c->cout}, su[2] = {c->cout, 4 * c->cout};
    c->x = filled(a, 3, sx, 1.0f, 1);
    c->kernel = filled(a, 2, sk, 0.1f, 2);
    c->rk = filled(a, 2, su, 0.1f, 3);
    ysize = c->b * c->cout;
  }
  const int64_t sb[1] = {c->kind == 2 ? 4 * c->cout : c->cout};
  c->bias = filled(a, 1, sb, 0.1f, 4);
  c->seed = malloc((size_t)ysize * sizeof(float));
  for (int64_t i = 0; i < ysize; ++i) c->seed[i] = 1e-3f;
}

/* PyTorch's median for this layer and pass from perf/torch_layers.py's output, or 0. */
static double torch_ms(const char *path, const char *layer, int backward) {
  FILE *f = path ? fopen(path, "r") : NULL;
  if (!f) return 0.0;
  char name[96];
  double fwd, both, found = 0.0;
  while (fscanf(f, "%95s %lf %lf", name, &fwd, &both) == 3)
    if (!strcmp(name, layer)) found = backward ? both : fwd;
  fclose(f);
  return found;
}

int main(int argc, char **argv) {
  const char *json = NULL, *filter = NULL, *torch = NULL;
  bench_opts opts = {.reps = 7};
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--json") && i + 1 < argc) json = argv[++i];
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc) opts.reps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--filter") && i + 1 < argc) filter = argv[++i];
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc) loom_set_num_threads(atoi(argv[++i]));
    else if (!strcmp(argv[i], "--torch") && i + 1 < argc) torch = argv[++i];
    else {
      fprintf(stderr, "usage: %s [--json FILE] [--reps N] [--threads N] [--filter TEXT]\n", argv[0]);
      return 2;
    }
  }
  layer_case cases[] = {
      {"conv2d_3x3_128_32x32_b32", 0, 32, 32, 32, 128, 128, 3, false, 0, 0, 0, 0, 0, 0, 0},
      {"conv1d_k5_256_L100_b64", 1, 64, 1, 100, 256, 256, 5, false, 0, 0, 0, 0, 0, 0, 0},
      {"lstm_64to32_T100_b128", 2, 128, 1, 100, 64, 32, 0, false, 0, 0, 0, 0, 0, 0, 0},
      {"lstm_128to32_T100_b128", 2, 128, 1, 100, 128, 32, 0, false, 0, 0, 0, 0, 0, 0, 0},
  };
  bench_report report = {.suite = "layers"};
  printf("loom %s layers: SIMD %s, %d threads\n", loom_version(), loom_simd_target(), loom_get_num_threads());
  bench_print_header(stdout);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    if (filter && !strstr(cases[i].name, filter)) continue;
    prepare(&cases[i]);
    for (int bw = 0; bw < 2; ++bw) {
      cases[i].backward = bw;
      char name[64];
      snprintf(name, sizeof name, "%s/%s", cases[i].name, bw ? "fwd+bwd" : "fwd");
      const double theirs = torch_ms(torch, cases[i].name, bw);
      bench_add_with_reference(&report, bench_run(name, run, &cases[i], 1.0, "call/s", &opts), "pytorch",
                               theirs * 1e-3, stdout);
    }
  }
  return bench_finish(&report, json);
}
