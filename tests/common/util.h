/* util.h - helpers shared by the test suites. */
#ifndef LOOM_TESTS_UTIL_H
#define LOOM_TESTS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loom.h"

/* Deterministic uniform floats in [lo, hi) from a seed. */
void tu_fill(float *x, size_t n, float lo, float hi, uint64_t seed);
/* The same, but |value| >= gap: keeps finite differences away from kinks (relu, max). */
void tu_fill_away(float *x, size_t n, float lo, float hi, float gap, uint64_t seed);
/* |got - want| <= atol + rtol * |want| */
bool tu_close(double got, double want, double atol, double rtol);
/* An f32 tensor of the given shape filled by tu_fill. */
loom_tensor *tu_tensor(loom_arena *a, int rank, const int64_t *shape, float lo, float hi,
                       uint64_t seed);
/* A suite's arena for its inputs and weights, and a ctx, made by tu_suite_open and freed by
 * tu_suite_close (TestSuite(name, .init = tu_suite_open, .fini = tu_suite_close)). */
extern loom_arena *tu_params;
extern loom_ctx *tu_cx;
void tu_suite_open(void);
void tu_suite_close(void);

/* LOOM_SIMD from the environment, or NULL. */
const char *tu_forced_target(void);

#endif
