/* fuzz_load.c - libFuzzer target for the model loader: any bytes, as a safetensors
 * file, must give a model or an error, never a crash, a hang, a sanitizer report or an
 * allocation beyond what the file can fill. `make fuzz FUZZ_SECONDS=60`. */
#include <stdint.h>
#include <stdio.h>

#include "loom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  loom_model *m = loom_model_load_buffer(data, size);
  if (m) {
    FILE *null = fopen("/dev/null", "w");
    if (null) loom_model_summary(m, null), fclose(null);
    loom_graph_free(loom_model_graph(m));
  }
  return 0;
}
