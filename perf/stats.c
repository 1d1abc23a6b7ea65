/* stats.c - median, sign-test interval, bootstrap, verdict (see stats.h). */
#include "perf/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define STATS_MAX_PAIRS 1024
#define STATS_BOOTSTRAP 4000

static int by_value(const void *x, const void *y) {
  const double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

static double median_sorted(const double *s, int n) {
  return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

double stats_median(const double *x, int n) {
  if (n <= 0 || n > STATS_MAX_PAIRS) return NAN;
  double s[STATS_MAX_PAIRS];
  memcpy(s, x, sizeof(double) * (size_t)n);
  qsort(s, (size_t)n, sizeof(double), by_value);
  return median_sorted(s, n);
}

double stats_binom_half_cdf(int n, int k) {
  if (k < 0) return 0.0;
  if (k >= n) return 1.0;
  double term = ldexp(1.0, -n), sum = 0.0; /* C(n, 0) / 2^n */
  for (int i = 0; i <= k; ++i) {
    sum += term;
    term = term * (n - i) / (i + 1);
  }
  return sum;
}

static uint64_t next(uint64_t *s) { /* splitmix64 */
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

stats_result stats_compare(const double *a, const double *b, int n, double threshold, double conf,
                           uint64_t seed) {
  stats_result r = {.n = n, .median = NAN, .lo = NAN, .hi = NAN, .boot_lo = NAN, .boot_hi = NAN};
  if (n <= 0 || n > STATS_MAX_PAIRS) return r;
  double s[STATS_MAX_PAIRS];
  for (int i = 0; i < n; ++i) s[i] = b[i] / a[i];
  qsort(s, (size_t)n, sizeof(double), by_value);
  r.median = median_sorted(s, n);
  int k = 1;
  while (k + 1 <= (n + 1) / 2 && 1.0 - 2.0 * stats_binom_half_cdf(n, k) >= conf) ++k;
  r.lo = s[k - 1], r.hi = s[n - k];
  r.coverage = 1.0 - 2.0 * stats_binom_half_cdf(n, k - 1);
  /* bootstrap: medians of n ratios drawn with replacement */
  double meds[STATS_BOOTSTRAP];
  double draw[STATS_MAX_PAIRS];
  uint64_t st = seed;
  for (int t = 0; t < STATS_BOOTSTRAP; ++t) {
    for (int i = 0; i < n; ++i) draw[i] = s[next(&st) % (uint64_t)n];
    qsort(draw, (size_t)n, sizeof(double), by_value);
    meds[t] = median_sorted(draw, n);
  }
  qsort(meds, STATS_BOOTSTRAP, sizeof(double), by_value);
  const double tail = (1.0 - conf) / 2.0;
  r.boot_lo = meds[(int)floor(tail * (STATS_BOOTSTRAP - 1))];
  r.boot_hi = meds[(int)ceil((1.0 - tail) * (STATS_BOOTSTRAP - 1))];
  if (r.lo > 1.0 + threshold) r.verdict = STATS_REGRESSION;
  else if (r.lo > 1.0) r.verdict = STATS_SLOWER;
  else if (r.hi < 1.0) r.verdict = STATS_FASTER;
  else r.verdict = STATS_SAME;
  return r;
}

const char *stats_verdict_name(stats_verdict v) {
  switch (v) {
    case STATS_REGRESSION: return "REGRESSION";
    case STATS_SLOWER: return "slower (within threshold)";
    case STATS_FASTER: return "faster";
    default: return "same";
  }
}
