/* stats.h - the statistics of an A/B comparison over interleaved pairs.
 *
 * Pair i ran A then B (or B then A) back to back, so that whatever the machine was doing
 * then weighs on both; r_i = b_i / a_i is B's time as a multiple of A's (> 1: B slower).
 * The verdict uses the sign-test interval for the median of r: the distribution-free
 * interval [r_(k), r_(n+1-k)] of the sorted ratios, with k the largest for which its
 * exact coverage 1 - 2 P(Binomial(n, 1/2) <= k - 1) is at least `conf` (k = 1 when no k
 * reaches it: then the coverage is what it is, and is reported). A percentile bootstrap
 * interval of the median (seeded, so reproducible) is reported beside it. */
#ifndef LOOM_PERF_STATS_H
#define LOOM_PERF_STATS_H

#include <stdint.h>

typedef enum stats_verdict {
  STATS_SAME,        /* the interval holds 1, or lies within the threshold */
  STATS_SLOWER,      /* wholly above 1, but not wholly above 1 + threshold */
  STATS_REGRESSION,  /* wholly above 1 + threshold: fails the check */
  STATS_FASTER       /* wholly below 1 */
} stats_verdict;

typedef struct stats_result {
  int n;
  double median;           /* median of the ratios */
  double lo, hi;           /* sign-test interval of the median */
  double coverage;         /* its exact coverage */
  double boot_lo, boot_hi; /* bootstrap percentile interval at the same nominal level */
  stats_verdict verdict;
} stats_result;

/* Median of x[0..n) (mean of the middle two for even n); x is not changed. */
double stats_median(const double *x, int n);
/* P(Binomial(n, 1/2) <= k). */
double stats_binom_half_cdf(int n, int k);
/* Compare times a[i] (base) and b[i] (candidate) of n >= 1 pairs. threshold: 0.05 for
 * 5%; conf: 0.95; seed: the bootstrap's. */
stats_result stats_compare(const double *a, const double *b, int n, double threshold, double conf,
                           uint64_t seed);
const char *stats_verdict_name(stats_verdict v);

#endif
