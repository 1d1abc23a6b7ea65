/* models.c - compiles the examples' model builders (without their main) for the tests. */
#define _POSIX_C_SOURCE 200809L /* open_memstream */
#define LOOM_EXAMPLE_NO_MAIN
#include "../../examples/mlp.c"
#include "../../examples/multi_output.c"
#include "../../examples/qa_model.c"
#include "../../examples/residual.c"
#include "../../examples/siamese.c"

/* (not models.h: the examples define posts_data themselves) */
char *summary_text(const loom_model *m);
loom_model *saved_and_loaded(loom_model *m);

#include <unistd.h>

loom_model *saved_and_loaded(loom_model *m) {
  char path[] = "/tmp/loom_test_model_XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return NULL;
  close(fd);
  loom_model *back = loom_save(m, path) == LOOM_OK ? loom_model_load(path) : NULL;
  unlink(path);
  return back;
}

char *summary_text(const loom_model *m) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  loom_model_summary(m, f);
  fclose(f);
  return buf;
}
