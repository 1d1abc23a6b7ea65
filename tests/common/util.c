/* util.c - helpers shared by the test suites. */
#include "common/util.h"

#include <math.h>
#include <stdlib.h>

static uint64_t next(uint64_t *s) { /* splitmix64 */
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void tu_fill(float *x, size_t n, float lo, float hi, uint64_t seed) {
  uint64_t s = seed;
  for (size_t i = 0; i < n; ++i) x[i] = lo + (hi - lo) * (float)((next(&s) >> 40) * 0x1.0p-24);
}

void tu_fill_away(float *x, size_t n, float lo, float hi, float gap, uint64_t seed) {
  tu_fill(x, n, lo, hi, seed);
  for (size_t i = 0; i < n; ++i)
    if (fabsf(x[i]) < gap) x[i] = x[i] < 0 ? -gap - fabsf(x[i]) : gap + x[i];
}

bool tu_close(double got, double want, double atol, double rtol) {
  if (isnan(want)) return isnan(got);
  if (isinf(want)) return got == want;
  return fabs(got - want) <= atol + rtol * fabs(want);
}

loom_tensor *tu_tensor(loom_arena *a, int rank, const int64_t *shape, float lo, float hi,
                       uint64_t seed) {
  loom_tensor *t = loom_tensor_new(a, LOOM_F32, rank, shape);
  if (t) tu_fill(loom_tensor_f32(t), (size_t)t->size, lo, hi, seed);
  return t;
}

const char *tu_forced_target(void) {
  const char *e = getenv("LOOM_SIMD");
  return e && *e ? e : NULL;
}

loom_arena *tu_params;
loom_ctx *tu_cx;

void tu_suite_open(void) {
  tu_params = loom_arena_new(NULL);
  tu_cx = loom_ctx_new(NULL);
}

void tu_suite_close(void) {
  loom_ctx_free(tu_cx);
  loom_arena_free(tu_params);
}
