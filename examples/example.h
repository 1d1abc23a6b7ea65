/* example.h - what the notebook examples share: stop on an error with loom's message,
 * a small seeded generator for synthetic data, and the --quick switch that `make test`
 * uses to run each example in a second or two (also under qemu). */
#ifndef LOOM_EXAMPLE_H
#define LOOM_EXAMPLE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loom.h"

/* p must not be NULL (nor st negative): otherwise print what loom says and exit. */
static inline void *ex_ok(loom_graph *g, const void *p, const char *what) {
  if (!p) {
    fprintf(stderr, "%s failed: %s\n", what, g ? loom_graph_error(g) : loom_last_error());
    exit(1);
  }
  return (void *)p;
}
static inline void ex_st(loom_graph *g, int st, const char *what) {
  if (st < 0) ex_ok(g, NULL, what);
}

static inline bool ex_quick(int argc, char **argv) {
  for (int i = 1; i < argc; ++i)
    if (!strcmp(argv[i], "--quick")) return true;
  return false;
}

typedef struct ex_rng {
  uint64_t s;
} ex_rng;
static inline uint32_t ex_next(ex_rng *r) {
  r->s = r->s * 6364136223846793005ull + 1442695040888963407ull;
  return (uint32_t)(r->s >> 33);
}
static inline float ex_uniform(ex_rng *r) { return (float)ex_next(r) / 2147483648.0f; } /* [0, 1) */
static inline int32_t ex_randint(ex_rng *r, int32_t lo, int32_t hi) { /* [lo, hi) */
  return lo + (int32_t)(ex_next(r) % (uint32_t)(hi - lo));
}

/* A tensor of the shape in the arena, or exit. */
static inline loom_tensor *ex_tensor(loom_arena *a, loom_dtype dt, int rank, const int64_t *shape) {
  return ex_ok(NULL, loom_tensor_new(a, dt, rank, shape), "loom_tensor_new");
}

/* "loss 2.31 -> 0.12" from the history's first and last epoch. */
static inline void ex_show(const loom_history *h, const char *key) {
  const float *v = loom_history_get(h, key);
  const int n = loom_history_epochs(h);
  if (v && n) printf("%s: %.4f -> %.4f over %d epochs\n", key, v[0], v[n - 1], n);
}

#endif
