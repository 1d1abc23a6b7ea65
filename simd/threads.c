/* threads.c - how many OpenMP threads the kernels use. */
#include <omp.h>
#include <stdatomic.h>

#include "simd/error.h"
#include "simd/simd.h"

/* Below this many elements a parallel region costs more than it saves. */
#define LM_PARALLEL_MIN_WORK ((size_t)1 << 15)

static atomic_int num_threads; /* 0 = not set: use omp_get_max_threads() */

loom_status loom_set_num_threads(int n) {
  if (n < 1)
    return lm_error(LOOM_EINVAL, "loom_set_num_threads", "n must be >= 1, got %d", n);
  atomic_store(&num_threads, n);
  return LOOM_OK;
}

int loom_get_num_threads(void) {
  const int n = atomic_load(&num_threads);
  return n > 0 ? n : omp_get_max_threads();
}

int lm_threads_for(size_t work) {
  if (work < LM_PARALLEL_MIN_WORK || omp_in_parallel()) return 1;
  return loom_get_num_threads();
}
