/* gradcheck.h - finite-difference check of an op's backward pass. */
#ifndef LOOM_TESTS_GRADCHECK_H
#define LOOM_TESTS_GRADCHECK_H

#include "loom.h"

/* Builds the graph under test from its inputs; returns its output (any shape). */
typedef loom_tensor *(*gc_fn)(loom_ctx *cx, loom_tensor **in, void *user);

/* For L = sum(w * f(in)) with fixed random w: compares the gradient backward gives
 * for every element of every f32 input (a sample of at most 64 per input) with the
 * central difference (L(x + eps) - L(x - eps)) / 2 eps, within atol + rtol * |ref|.
 * Fails the calling Criterion test, naming the input and element. */
void gc_check(const char *name, gc_fn f, loom_tensor **in, int n_in, void *user);

#endif
