// parallel.h - OpenMP helpers for the C++ kernel wrappers (internal, not per target).
// Work is cut into chunks whose size depends on n only, so which elements one call of
// the kernel sees never depends on the thread count.
#ifndef LOOM_SIMD_PARALLEL_H
#define LOOM_SIMD_PARALLEL_H

#include <stddef.h>

#include "simd/simd.h"

extern "C" void lm_simd_init(void);

namespace loom {

// Elements per chunk: a multiple of every vector length, big enough to amortise the
// call, small enough that two threads share the work of a few-hundred-KiB array.
constexpr size_t kChunk = 16384;

// Calls f(offset, length) over [0, n) in chunks of `chunk`, in parallel when the work
// (n * cost elements) is worth it.
template <class F>
void ParallelChunks(size_t n, size_t chunk, size_t cost, F f) {
  const int nt = n > chunk ? lm_threads_for(n * cost) : 1;
  if (nt <= 1) {
    for (size_t o = 0; o < n; o += chunk) f(o, n - o < chunk ? n - o : chunk);
    return;
  }
  const long nc = (long)((n + chunk - 1) / chunk);
#pragma omp parallel for num_threads(nt) schedule(static)
  for (long c = 0; c < nc; ++c) {
    const size_t o = (size_t)c * chunk;
    f(o, n - o < chunk ? n - o : chunk);
  }
}

}  // namespace loom
#endif
