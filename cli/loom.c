/* loom.c - the `loom` command, for a board with a saved model and no compiler:
 *
 *   loom summary MODEL.safetensors             the model's summary
 *   loom predict MODEL.safetensors DATA.safetensors [OUT.safetensors]
 *
 * DATA holds one tensor per model input, named after the input (F32 or I32, samples on
 * the first axis). predict prints each output (name, shape, one line per sample) or,
 * given OUT, writes them there under the outputs' names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loom.h"

static int usage(void) {
  fprintf(stderr, "usage: loom summary MODEL.safetensors\n"
                  "       loom predict MODEL.safetensors DATA.safetensors [OUT.safetensors]\n");
  return 2;
}

static int fail(const char *what) {
  fprintf(stderr, "loom %s: %s\n", what, loom_last_error());
  return 1;
}

static void print_tensor(const char *name, const loom_tensor *t) {
  printf("%s [", name);
  for (int i = 0; i < t->rank; ++i) printf("%s%lld", i ? ", " : "", (long long)t->shape[i]);
  printf("]\n");
  const int64_t rows = t->rank ? t->shape[0] : 1, cols = rows ? t->size / rows : 0;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) printf("%s%.7g", c ? " " : "", (double)loom_tensor_f32(t)[r * cols + c]);
    printf("\n");
  }
}

#define MAX_DATA 64

static int predict(loom_model *m, const char *data_path, const char *out_path) {
  loom_arena *a = loom_arena_new(NULL);
  loom_named_tensor data[MAX_DATA];
  const int n = a ? loom_tensors_load(data_path, a, data, MAX_DATA) : -1;
  if (n < 0) {
    loom_arena_free(a);
    return fail("predict");
  }
  loom_eval_opts o = {0};
  int st = 0;
  for (int i = 0; i < loom_model_num_inputs(m) && !st; ++i) {
    const char *name = loom_model_input_name(m, i);
    int k = 0;
    while (k < n && k < MAX_DATA && strcmp(data[k].name, name)) ++k;
    if (k == n || k == MAX_DATA) {
      fprintf(stderr, "loom predict: %s holds no tensor named \"%s\" (the model's input %d)\n", data_path, name, i);
      st = 1;
      break;
    }
    o.x_by_name[i] = data[k];
  }
  loom_tensor *out[LOOM_MAX_IO];
  if (!st && loom_model_predict(m, &o, a, out)) st = fail("predict");
  if (!st && out_path) {
    loom_named_tensor e[LOOM_MAX_IO];
    for (int i = 0; i < loom_model_num_outputs(m); ++i) e[i] = (loom_named_tensor){loom_model_output_name(m, i), out[i]};
    if (loom_tensors_save(out_path, loom_model_num_outputs(m), e)) st = fail("predict");
  } else if (!st) {
    for (int i = 0; i < loom_model_num_outputs(m); ++i) print_tensor(loom_model_output_name(m, i), out[i]);
  }
  loom_arena_free(a);
  return st;
}

int main(int argc, char **argv) {
  if (argc < 3) return usage();
  const bool summary = !strcmp(argv[1], "summary"), pred = !strcmp(argv[1], "predict");
  if ((!summary && !pred) || (summary && argc != 3) || (pred && (argc < 4 || argc > 5))) return usage();
  loom_model *m = loom_model_load(argv[2]);
  if (!m) return fail(argv[1]);
  const int st = summary ? (loom_model_summary(m, stdout) ? fail("summary") : 0)
                         : predict(m, argv[3], argc == 5 ? argv[4] : NULL);
  loom_graph_free(loom_model_graph(m));
  return st;
}
