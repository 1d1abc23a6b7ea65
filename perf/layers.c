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
#include "perf/layer_cases.h"

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
      {"conv2d_3x3_128_32x32_b32", LAYER_CONV2D, 32, 32, 32, 128, 128, 3, false, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {"conv1d_k5_256_L100_b64", LAYER_CONV1D, 64, 1, 100, 256, 256, 5, false, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {"lstm_64to32_T100_b128", LAYER_LSTM, 128, 1, 100, 64, 32, 0, false, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {"lstm_128to32_T100_b128", LAYER_LSTM, 128, 1, 100, 128, 32, 0, false, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {"gru_64to32_T100_b128", LAYER_GRU, 128, 1, 100, 64, 32, 0, false, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {"bilstm_64to2x32_T100_b128", LAYER_BILSTM, 128, 1, 100, 64, 32, 0, false, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
  };
  bench_report report = {.suite = "layers"};
  printf("loom %s layers: SIMD %s, %d threads\n", loom_version(), loom_simd_target(), loom_get_num_threads());
  bench_print_header(stdout);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    if (filter && !strstr(cases[i].name, filter)) continue;
    layer_case_prepare(&cases[i]);
    for (int bw = 0; bw < 2; ++bw) {
      cases[i].backward = bw;
      char name[64];
      snprintf(name, sizeof name, "%s/%s", cases[i].name, bw ? "fwd+bwd" : "fwd");
      const double theirs = torch_ms(torch, cases[i].name, bw);
      bench_add_with_reference(&report, bench_run(name, layer_case_run, &cases[i], 1.0, "call/s", &opts), "pytorch",
                               theirs * 1e-3, stdout);
    }
  }
  return bench_finish(&report, json);
}
