/* peak.c - FMA throughput with 12 independent accumulators per thread (enough to hide
 * the latency behind two pipelines, few enough to stay in AVX2's 16 registers beside
 * the two operands), best of a few runs. */
#include "perf/peak.h"

#include <omp.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

#define ITERS 20000000L

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Each returns flops done; the result feeds a sink so nothing is optimised away. */
static volatile float sink;

#define CHAINS(V, FMA, SET, ADD, LANES)                                                  \
  V a0 = SET(1.0f), a1 = SET(1.1f), a2 = SET(1.2f), a3 = SET(1.3f), a4 = SET(1.4f),      \
    a5 = SET(1.5f), a6 = SET(1.6f), a7 = SET(1.7f), a8 = SET(1.8f), a9 = SET(1.9f),      \
    a10 = SET(2.0f), a11 = SET(2.1f);                                                    \
  const V x = SET(0.999999f), y = SET(1e-7f);                                            \
  for (long i = 0; i < ITERS; ++i) {                                                     \
    a0 = FMA(a0, x, y); a1 = FMA(a1, x, y); a2 = FMA(a2, x, y); a3 = FMA(a3, x, y);      \
    a4 = FMA(a4, x, y); a5 = FMA(a5, x, y); a6 = FMA(a6, x, y); a7 = FMA(a7, x, y);      \
    a8 = FMA(a8, x, y); a9 = FMA(a9, x, y); a10 = FMA(a10, x, y); a11 = FMA(a11, x, y);  \
  }                                                                                      \
  V s = ADD(ADD(ADD(a0, a1), ADD(a2, a3)), ADD(ADD(a4, a5), ADD(a6, a7)));              \
  s = ADD(s, ADD(ADD(a8, a9), ADD(a10, a11)));                                          \
  float out[LANES];                                                                      \
  memcpy(out, &s, sizeof out);                                                           \
  sink = out[0];                                                                         \
  return 2.0 * 12 * LANES * (double)ITERS;

#if defined(__x86_64__)
__attribute__((target("avx512f"))) static double fma512(void) {
  CHAINS(__m512, _mm512_fmadd_ps, _mm512_set1_ps, _mm512_add_ps, 16)
}
__attribute__((target("avx2,fma"))) static double fma256(void) {
  CHAINS(__m256, _mm256_fmadd_ps, _mm256_set1_ps, _mm256_add_ps, 8)
}
__attribute__((target("fma"))) static double fma128(void) {
  CHAINS(__m128, _mm_fmadd_ps, _mm_set1_ps, _mm_add_ps, 4)
}
#elif defined(__aarch64__)
static float32x4_t fma_neon(float32x4_t a, float32x4_t x, float32x4_t y) { return vfmaq_f32(y, a, x); }
static double fma128(void) { CHAINS(float32x4_t, fma_neon, vdupq_n_f32, vaddq_f32, 4) }
#endif

int peak_bits_of(const char *target) {
  if (!strcmp(target, "avx512")) return 512;
  if (!strcmp(target, "avx2")) return 256;
  return 128;
}

static double (*chains_for(int bits))(void) {
  double (*f)(void) = 0;
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (bits == 512 && __builtin_cpu_supports("avx512f")) f = fma512;
  if (bits == 256 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) f = fma256;
  if (bits == 128 && __builtin_cpu_supports("fma")) f = fma128;
#elif defined(__aarch64__)
  if (bits == 128) f = fma128;
#endif
  return f;
}

int peak_supported(int bits) { return chains_for(bits) != 0; }

double peak_fma_gflops(int bits, int threads) {
  double (*f)(void) = chains_for(bits);
  if (!f) return 0.0;
  double best = 0.0;
  for (int run = 0; run < 3; ++run) {
    double flops = 0.0;
    const double t0 = now_s();
#pragma omp parallel num_threads(threads) reduction(+ : flops)
    flops += f();
    const double g = flops / (now_s() - t0) * 1e-9;
    if (g > best) best = g;
  }
  return best;
}
