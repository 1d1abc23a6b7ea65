/* random.c - the graph's generator (xoshiro256**, seeded through splitmix64) and
 * Keras' initialisers drawn from it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/graph/graph.h"

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void lm_rng_seed(lm_rng *r, uint64_t seed) {
  for (int i = 0; i < 4; ++i) r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t lm_rng_next(lm_rng *r) {
  uint64_t *s = r->s;
  const uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0], s[3] ^= s[1], s[1] ^= s[2], s[0] ^= s[3], s[2] ^= t, s[3] = rotl(s[3], 45);
  return out;
}

double lm_rng_uniform(lm_rng *r) { return (double)(lm_rng_next(r) >> 11) * 0x1.0p-53; }

double lm_rng_normal(lm_rng *r) { /* Box-Muller; one of the pair, for simplicity */
  double u;
  do u = lm_rng_uniform(r);
  while (u <= 0.0);
  return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * lm_rng_uniform(r));
}

static void uniform(lm_rng *r, loom_tensor *w, double lo, double hi) {
  float *v = w->data;
  for (int64_t i = 0; i < w->size; ++i) v[i] = (float)(lo + (hi - lo) * lm_rng_uniform(r));
}

void lm_init_uniform(loom_layer *l, loom_tensor *w, double lo, double hi) {
  if (!l->g->loading) uniform(&l->g->rng, w, lo, hi);
}

void lm_init_glorot_uniform(loom_layer *l, loom_tensor *w, double fan_in, double fan_out) {
  const double limit = sqrt(6.0 / (fan_in + fan_out));
  lm_init_uniform(l, w, -limit, limit);
}

/* Keras' Orthogonal: a normal matrix of max(rows, cols) x min(rows, cols), Q of its QR
 * with the signs of R's diagonal made positive (what Gram-Schmidt gives), transposed
 * when rows < cols. */
int lm_init_orthogonal(loom_layer *l, loom_tensor *w) {
  if (l->g->loading) return LOOM_OK;
  lm_rng *r = &l->g->rng;
  /* Keras' Orthogonal: a [prod(shape[:-1]), shape[-1]] matrix */
  const size_t cols = (size_t)w->shape[w->rank - 1], rows = (size_t)(w->size / w->shape[w->rank - 1]);
  const size_t tall = rows > cols ? rows : cols, narrow = rows > cols ? cols : rows;
  double *q = malloc(tall * narrow * sizeof *q); /* column j at q + j * tall */
  if (!q) return LOOM_ENOMEM;
  for (size_t i = 0; i < tall; ++i)
    for (size_t j = 0; j < narrow; ++j) q[j * tall + i] = lm_rng_normal(r);
  for (size_t j = 0; j < narrow; ++j) { /* modified Gram-Schmidt, twice for accuracy */
    double *cj = q + j * tall;
    for (int pass = 0; pass < 2; ++pass)
      for (size_t k = 0; k < j; ++k) {
        const double *ck = q + k * tall;
        double dot = 0.0;
        for (size_t i = 0; i < tall; ++i) dot += ck[i] * cj[i];
        for (size_t i = 0; i < tall; ++i) cj[i] -= dot * ck[i];
      }
    double norm = 0.0;
    for (size_t i = 0; i < tall; ++i) norm += cj[i] * cj[i];
    norm = sqrt(norm);
    for (size_t i = 0; i < tall; ++i) cj[i] /= norm;
  }
  float *v = w->data;
  for (size_t i = 0; i < rows; ++i)
    for (size_t j = 0; j < cols; ++j) /* Q is tall x narrow: w = Q, or Q^T when rows < cols */
      v[i * cols + j] = (float)(rows >= cols ? q[j * tall + i] : q[i * tall + j]);
  free(q);
  return LOOM_OK;
}
