/* peak.h - the machine's FP32 FMA peak, measured in the benchmark's own run. */
#ifndef LOOM_PERF_PEAK_H
#define LOOM_PERF_PEAK_H

/* GFLOP/s of independent FMA chains of the given vector width (bits: 512, 256, 128) on
 * `threads` threads; 0 if this CPU or build has no such FMA. */
double peak_fma_gflops(int bits, int threads);

/* Whether this CPU and build run FMA at that width. */
int peak_supported(int bits);

/* The vector width of a loom SIMD target name ("avx512" -> 512, "avx2" -> 256, ...). */
int peak_bits_of(const char *target);

#endif
