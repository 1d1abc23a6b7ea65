// example.hpp - what the C++ examples share: stop on an error with loom's message, owners
// that free a graph and an arena when they go out of scope, and the --quick switch that
// `make test` uses (examples/example.h is the same for the C examples).
#ifndef LOOM_EXAMPLE_HPP
#define LOOM_EXAMPLE_HPP

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "loom.h"

// p must not be NULL (nor status negative): otherwise print what loom says and exit.
template <class T> static T *ok(T *p, const char *what) {
  if (!p) {
    std::fprintf(stderr, "%s: %s\n", what, loom_last_error());
    std::exit(1);
  }
  return p;
}
static inline void ok(int status, const char *what) {
  if (status < 0) ok<void>(nullptr, what);
}

struct graph_free { void operator()(loom_graph *g) const { loom_graph_free(g); } };
struct arena_free { void operator()(loom_arena *a) const { loom_arena_free(a); } };
using graph_ptr = std::unique_ptr<loom_graph, graph_free>;
using arena_ptr = std::unique_ptr<loom_arena, arena_free>;

static inline bool quick_run(int argc, char **argv) { return argc > 1 && !std::strcmp(argv[1], "--quick"); }

#endif
