/* test_stats.c - the A/B statistics of perf-check on synthetic pairs: a known 10%
 * slowdown is caught (also under large drift common to both sides of a pair), pure noise
 * is not flagged, a faster build is reported as faster, and intervals match values
 * computed by hand. */
#include <criterion/criterion.h>
#include <math.h>

#include "perf/stats.h"

/* uniform in [-1, 1) from a counter */
static double noise(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return (double)(z >> 11) / (double)(1ull << 52) - 1.0;
}

/* n pairs: a machine drift common to the pair (+-drift), each run's own noise
 * (+-jitter), and B `factor` times A's true time. */
static void pairs(int n, double factor, double drift, double jitter, uint64_t seed, double *a, double *b) {
  uint64_t s = seed;
  for (int i = 0; i < n; ++i) {
    const double d = 1.0 + drift * noise(&s);
    a[i] = 0.010 * d * (1.0 + jitter * noise(&s));
    b[i] = 0.010 * factor * d * (1.0 + jitter * noise(&s));
  }
}

Test(stats, hand_computed_median_and_sign_interval_for_7_pairs) {
  const double a[7] = {1, 1, 1, 1, 1, 1, 1};
  const double b[7] = {1.02, 0.97, 1.10, 1.05, 1.01, 0.99, 1.08};
  /* sorted: .97 .99 1.01 1.02 1.05 1.08 1.10; for n = 7 only k = 1 reaches 95%:
   * 1 - 2/128 = 0.984375 (k = 2 would give 1 - 2 * 8/128 = 0.875) */
  const stats_result r = stats_compare(a, b, 7, 0.05, 0.95, 1);
  cr_assert_float_eq(r.median, 1.02, 1e-12);
  cr_assert_float_eq(r.lo, 0.97, 1e-12);
  cr_assert_float_eq(r.hi, 1.10, 1e-12);
  cr_assert_float_eq(r.coverage, 0.984375, 1e-12);
  cr_assert_eq(r.verdict, STATS_SAME);
  cr_assert(r.boot_lo >= 0.97 && r.boot_lo <= r.median && r.boot_hi >= r.median && r.boot_hi <= 1.10,
            "bootstrap [%g, %g]", r.boot_lo, r.boot_hi);
}

Test(stats, hand_computed_interval_for_10_pairs_and_even_median) {
  /* ratios 0.90 .. 1.35 by 0.05, given out of order; k = 2: 1 - 2 (1 + 10)/1024 = 0.978515625
   * (k = 3: 1 - 2 * 56/1024 = 0.890625 < 0.95), so [r(2), r(9)] = [0.95, 1.30]; the median
   * is (1.10 + 1.15) / 2 */
  const double r10[10] = {1.35, 0.90, 1.20, 1.00, 1.25, 0.95, 1.15, 1.05, 1.30, 1.10};
  double a[10], b[10];
  for (int i = 0; i < 10; ++i) a[i] = 2.0, b[i] = 2.0 * r10[i];
  const stats_result r = stats_compare(a, b, 10, 0.05, 0.95, 7);
  cr_assert_float_eq(r.median, 1.125, 1e-12);
  cr_assert_float_eq(r.lo, 0.95, 1e-12);
  cr_assert_float_eq(r.hi, 1.30, 1e-12);
  cr_assert_float_eq(r.coverage, 0.978515625, 1e-12);
  cr_assert_float_eq(stats_binom_half_cdf(10, 2), 56.0 / 1024.0, 1e-15);
}

Test(stats, a_10_percent_slowdown_is_caught_even_under_50_percent_drift) {
  double a[7], b[7];
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    pairs(7, 1.10, 0.5, 0.015, seed, a, b);
    const stats_result r = stats_compare(a, b, 7, 0.05, 0.95, seed);
    cr_assert_eq(r.verdict, STATS_REGRESSION, "seed %llu: median %g [%g, %g]", (unsigned long long)seed,
                 r.median, r.lo, r.hi);
    cr_assert(fabs(r.median - 1.10) < 0.03, "median %g", r.median);
  }
}

Test(stats, pure_noise_is_not_flagged) {
  /* the same build on both sides: +-50% drift and +-5% jitter per run */
  double a[7], b[7];
  int flagged = 0, slower = 0, faster = 0;
  for (uint64_t seed = 1; seed <= 2000; ++seed) {
    pairs(7, 1.0, 0.5, 0.05, seed, a, b);
    const stats_result r = stats_compare(a, b, 7, 0.05, 0.95, seed);
    flagged += r.verdict == STATS_REGRESSION, slower += r.verdict == STATS_SLOWER, faster += r.verdict == STATS_FASTER;
  }
  cr_assert_eq(flagged, 0, "%d of 2000 noise-only comparisons flagged", flagged);
  /* a one-sided miss of the interval happens with probability (1 - 0.984375) / 2 */
  cr_assert_lt(slower, 40);
  cr_assert_lt(faster, 40);
}

Test(stats, a_faster_build_is_reported_faster) {
  double a[9], b[9];
  pairs(9, 0.8, 0.3, 0.02, 3, a, b);
  const stats_result r = stats_compare(a, b, 9, 0.05, 0.95, 3);
  cr_assert_eq(r.verdict, STATS_FASTER, "median %g [%g, %g]", r.median, r.lo, r.hi);
  cr_assert_str_eq(stats_verdict_name(r.verdict), "faster");
}

Test(stats, a_small_real_slowdown_is_slower_but_not_a_regression) {
  double a[15], b[15];
  pairs(15, 1.02, 0.5, 0.002, 5, a, b);
  const stats_result r = stats_compare(a, b, 15, 0.05, 0.95, 5);
  cr_assert_eq(r.verdict, STATS_SLOWER, "median %g [%g, %g]", r.median, r.lo, r.hi);
}

Test(stats, the_bootstrap_is_reproducible) {
  double a[7], b[7];
  pairs(7, 1.0, 0.2, 0.05, 9, a, b);
  const stats_result r1 = stats_compare(a, b, 7, 0.05, 0.95, 42), r2 = stats_compare(a, b, 7, 0.05, 0.95, 42);
  cr_assert_eq(r1.boot_lo, r2.boot_lo);
  cr_assert_eq(r1.boot_hi, r2.boot_hi);
}
