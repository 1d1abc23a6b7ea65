/* scatter.c - rows added into a table at given indices (the embedding's backward).
 * Threads split the columns, never the rows: every element of the table receives its
 * additions in index order whatever the thread count, so repeated indices sum the same
 * way (bitwise) with 1 or many threads, and no two threads touch one cache line. */
#include <stdint.h>

#include "simd/simd.h"

/* Columns per thread are a multiple of this: 16 floats, one 64-byte line. */
#define LM_SCATTER_ALIGN 16

static void scatter_cols(const float *src, const int32_t *idx, size_t n, float *dst, size_t dim,
                         size_t c0, size_t len) {
  for (size_t i = 0; i < n; ++i) {
    float *row = dst + (size_t)idx[i] * dim + c0;
    lm_k_add(row, src + i * dim + c0, row, len);
  }
}

void lm_k_scatter_add_rows(const float *src, const int32_t *idx, size_t n, float *dst, size_t dim) {
  int nt = lm_threads_for(n * dim);
  const size_t max_parts = (dim + LM_SCATTER_ALIGN - 1) / LM_SCATTER_ALIGN;
  if ((size_t)nt > max_parts) nt = (int)max_parts;
  if (nt <= 1) {
    scatter_cols(src, idx, n, dst, dim, 0, dim);
    return;
  }
  size_t part = (dim + (size_t)nt - 1) / (size_t)nt;
  part = (part + LM_SCATTER_ALIGN - 1) / LM_SCATTER_ALIGN * LM_SCATTER_ALIGN;
#pragma omp parallel for num_threads(nt) schedule(static)
  for (int t = 0; t < nt; ++t) {
    const size_t c0 = (size_t)t * part;
    if (c0 < dim) scatter_cols(src, idx, n, dst, dim, c0, dim - c0 < part ? dim - c0 : part);
  }
}
