/* fixture.c - reads the PyTorch reference files. */
#include "common/fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

void fx_load(const char *name, fx_file *f) {
  const char *dir = getenv("LOOM_TEST_FIXTURES");
  char path[512];
  snprintf(path, sizeof path, "%s/%s.txt", dir && *dir ? dir : "tests/fixtures", name);
  FILE *in = fopen(path, "r");
  cr_assert(in, "cannot open %s (run the tests from the repository root)", path);
  memset(f, 0, sizeof *f);
  char word[64];
  while (fscanf(in, "%63s", word) == 1) {
    if (word[0] == '#') { /* comment line */
      int ch;
      while ((ch = fgetc(in)) != '\n' && ch != EOF) {}
      continue;
    }
    cr_assert(!strcmp(word, "tensor") && f->n < FX_MAX, "%s: bad record '%s'", path, word);
    fx_tensor *t = &f->t[f->n++];
    cr_assert(fscanf(in, "%31s %d", t->name, &t->rank) == 2 && t->rank >= 0 && t->rank <= LOOM_MAX_RANK);
    t->size = 1;
    for (int d = 0; d < t->rank; ++d) {
      cr_assert(fscanf(in, "%lld", (long long *)&t->shape[d]) == 1);
      t->size *= t->shape[d];
    }
    t->data = malloc((size_t)t->size * sizeof(float) + 1);
    for (int64_t i = 0; i < t->size; ++i) {
      double v;
      cr_assert(fscanf(in, "%lf", &v) == 1, "%s: %s is short", path, t->name);
      t->data[i] = (float)v;
    }
  }
  fclose(in);
}

void fx_free(fx_file *f) {
  for (int i = 0; i < f->n; ++i) free(f->t[i].data);
  f->n = 0;
}

const fx_tensor *fx_get(const fx_file *f, const char *name) {
  for (int i = 0; i < f->n; ++i)
    if (!strcmp(f->t[i].name, name)) return &f->t[i];
  cr_assert_fail("fixture has no tensor '%s'", name);
  return NULL;
}

loom_tensor *fx_tensor_new(loom_arena *a, const fx_tensor *t) {
  return loom_tensor_from(a, LOOM_F32, t->rank, t->shape, t->data);
}

void fx_expect(const char *what, const float *got, const fx_tensor *want) {
  cr_assert(got, "%s: nothing computed", what);
  for (int64_t i = 0; i < want->size; ++i)
    cr_assert(tu_close(got[i], want->data[i], 1e-4, 1e-4), "%s[%lld]: %.7g, PyTorch %.7g", what,
              (long long)i, got[i], want->data[i]);
}
