/* test_max_update.c - max pooling's step kernel against its reference: lengths around
 * the vector widths, ties (the first maximum stays), -inf starts and NaN inputs. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "common/util.h"
#include "simd/ref.h"
#include "simd/simd.h"

Test(max_update, against_the_reference) {
  const size_t lens[] = {1, 3, 7, 8, 15, 16, 17, 33, 64, 100, 1000};
  for (size_t l = 0; l < sizeof lens / sizeof lens[0]; ++l) {
    const size_t n = lens[l];
    float x[1000], best[2][1000];
    int32_t where[2][1000];
    for (int k = 0; k < 2; ++k) {
      tu_fill(best[k], n, -1, 1, 5);
      for (size_t i = 0; i < n; ++i) where[k][i] = -1;
    }
    for (int step = 0; step < 4; ++step) {
      tu_fill(x, n, -1, 1, 10 + (uint64_t)step);
      if (step == 1) memcpy(x, best[0], n * sizeof(float)); /* ties: nothing moves */
      if (step == 2 && n > 2) x[1] = NAN;                   /* never taken */
      lm_k_max_update(x, best[0], where[0], 100 * step, n);
      lm_ref_max_update(x, best[1], where[1], 100 * step, n);
      cr_assert_eq(memcmp(best[0], best[1], n * sizeof(float)), 0, "n %zu step %d: values", n, step);
      cr_assert_eq(memcmp(where[0], where[1], n * sizeof(int32_t)), 0, "n %zu step %d: indices", n, step);
    }
    size_t moved = 0;
    for (size_t i = 0; i < n; ++i) moved += where[0][i] >= 0;
    cr_assert(n < 8 || moved > 0, "nothing was ever larger: the test tests nothing");
  }
}
