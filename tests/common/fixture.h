/* fixture.h - the PyTorch reference files of tests/fixtures (see make_fixtures.py). */
#ifndef LOOM_TESTS_FIXTURE_H
#define LOOM_TESTS_FIXTURE_H

#include "loom.h"

#define FX_MAX 40

typedef struct {
  char name[32];
  int rank;
  int64_t shape[LOOM_MAX_RANK];
  int64_t size;
  float *data;
} fx_tensor;

typedef struct {
  fx_tensor t[FX_MAX];
  int n;
} fx_file;

/* Loads tests/fixtures/NAME.txt (or $LOOM_TEST_FIXTURES/NAME.txt); fails the test if it
 * cannot. */
void fx_load(const char *name, fx_file *f);
void fx_free(fx_file *f);
/* The tensor called `name`; fails the test if there is none. */
const fx_tensor *fx_get(const fx_file *f, const char *name);
/* A copy in the arena, as a loom tensor. */
loom_tensor *fx_tensor_new(loom_arena *a, const fx_tensor *t);
/* Fails the test unless got (size floats) matches the reference within 1e-4 + 1e-4 |ref|. */
void fx_expect(const char *what, const float *got, const fx_tensor *want);

#endif
