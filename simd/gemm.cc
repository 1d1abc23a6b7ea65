// gemm.cc - BLIS-style SGEMM: packed panels, cache blocking, one register-blocked
// micro-kernel per vector width (Highway), OpenMP over the macro-kernel loops.
//
// Loops, outer to inner: jc (NC columns of C), pc (KC deep; the epilogue runs on the
// last one), ic (MC rows; the A block lives in L2), jr (NR columns: one B micro-panel,
// reused while ir walks the A block), ir (MR rows), and the micro-kernel's k loop.
// Operands are packed only where it pays: small or skinny ones are read in place (see
// DirectA/DirectB). Threads split ic blocks and/or jr panels, never k.
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <utility>

#include "simd/gemm.h"
#include "simd/error.h"
#include "simd/parallel.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "simd/gemm.cc"
#include "hwy/foreach_target.h"  // must come before highway.h
#include "hwy/highway.h"
#include "hwy/cache_control.h"
#include "hwy/contrib/math/math-inl.h"
#include "simd/fastmath-inl.h"

HWY_BEFORE_NAMESPACE();
namespace loom {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using DG = hn::ScalableTag<float>;

// The register tile is kMR rows by two vectors: as many accumulators as the register
// file holds beside the two B vectors and the broadcast A value.
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
constexpr size_t kMR = 14;  // 28 of 32 zmm
#elif HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_SSE4 || HWY_TARGET == HWY_SSSE3
constexpr size_t kMR = 6;  // 12 of 16 ymm/xmm
#elif HWY_TARGET == HWY_NEON || (HWY_TARGET & (HWY_SVE | HWY_SVE2 | HWY_SVE_256 | HWY_SVE2_128))
constexpr size_t kMR = 12;  // 24 of 32 v/z registers
#else
constexpr size_t kMR = 4;
#endif

// A micro-panel is stored row by row, kc values per row, rows kAStride floats apart: a
// constant stride, so the kernel's broadcasts use fixed displacements and packing a
// plain A is a copy of rows. The stride is kKcMax plus one cache line, so the rows of a
// panel do not all fall into the same L1 set.
constexpr size_t kKcMax = 1024;
constexpr size_t kAStride = kKcMax + 16;

size_t TileRowsImpl() { return kMR; }
size_t TileColsImpl() { return 2 * hn::Lanes(DG()); }
size_t KcMaxImpl() { return kKcMax; }
size_t AStrideImpl() { return kAStride; }

template <class V>
HWY_INLINE V Activate(DG d, V v, int act) {
  switch (act) {
    case LM_ACT_RELU:
      return hn::Max(v, hn::Zero(d));
    case LM_ACT_SIGMOID:
      return FastSigmoid(d, v);
    case LM_ACT_TANH:
      return FastTanh(d, v);
    default:
      return v;
  }
}

struct Epi {
  float alpha, beta;
  const float* bias;  // at this tile's first column, padded to the tile width, or null
  int act;
};

// c[0..N) = act(alpha * acc + beta * c + bias); e is a copy, so stores to c cannot
// alias its fields and the tests are hoisted.
template <class V>
HWY_INLINE void Finish(DG d, V acc, float* HWY_RESTRICT c, const Epi e, size_t col) {
  V r = e.alpha == 1.0f ? acc : hn::Mul(hn::Set(d, e.alpha), acc);
  if (e.beta != 0.0f) r = hn::MulAdd(hn::Set(d, e.beta), hn::LoadU(d, c), r);
  if (e.bias) r = hn::Add(r, hn::LoadU(d, e.bias + col));
  if (e.act != LM_ACT_NONE) r = Activate(d, r, e.act);
  hn::StoreU(r, d, c);
}

#define LM_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13)
static_assert(kMR <= 14, "LM_ROWS names 14 rows");

// One R x 2N tile (R <= kMR): A rows `as` floats apart, each row's k steps `ps` apart
// (packed: kAStride and 1, constants, so every broadcast is a fixed displacement; in
// place: lda and 1 for a plain A, 1 and lda for a transposed one, reached from five row
// pointers with scaled-index addressing, so the 14 row offsets need not live in
// registers), B rows `bs` apart (packed: 2N; in place: ldb), c the tile in C.
// Accumulators are named variables, not an array: SVE vectors are sizeless and cannot
// live in arrays.
template <size_t R, bool kPacked>
HWY_NOINLINE void Tile(size_t kc, const float* HWY_RESTRICT pa, size_t as_rt, size_t ps_rt,
                       const float* HWY_RESTRICT pb, size_t bs, float* HWY_RESTRICT c, size_t ldc,
                       const Epi& e) {
  const DG d;
  const size_t N = hn::Lanes(d);
  const size_t as = kPacked ? kAStride : as_rt;
  const size_t ps = kPacked ? 1 : ps_rt;  // A's step along k
  const float* HWY_RESTRICT a0 = pa;
  const float* HWY_RESTRICT a3 = pa + (R > 3 ? 3 * as : 0);
  const float* HWY_RESTRICT a6 = pa + (R > 6 ? 6 * as : 0);
  const float* HWY_RESTRICT a9 = pa + (R > 9 ? 9 * as : 0);
  const float* HWY_RESTRICT a12 = pa + (R > 12 ? 12 * as : 0);
  // The tile of C is read or written only at the end: ask for it now, so a C that has
  // left the caches between two K blocks arrives while the k loop runs.
  for (size_t i = 0; i < R; ++i) {
    hwy::Prefetch(c + i * ldc);
    hwy::Prefetch(c + i * ldc + 2 * N - 1);
  }
#define LM_DECL(i)                             \
  [[maybe_unused]] auto c##i##a = hn::Zero(d); \
  [[maybe_unused]] auto c##i##b = hn::Zero(d);
  LM_ROWS(LM_DECL)
#undef LM_DECL
#pragma GCC unroll 2
  for (size_t p = 0; p < kc; ++p) {
    const auto b0 = hn::LoadU(d, pb);  // B may be read in place, unaligned
    const auto b1 = hn::LoadU(d, pb + N);
#define LM_AROW(i) \
  (kPacked ? pa[(i) * kAStride] \
           : ((i) < 3 ? a0 : (i) < 6 ? a3 : (i) < 9 ? a6 : (i) < 12 ? a9 : a12)[((i) % 3) * as])
#define LM_FMA(i)                            \
  if constexpr (i < R) {                     \
    const auto ai = hn::Set(d, LM_AROW(i));  \
    c##i##a = hn::MulAdd(ai, b0, c##i##a);   \
    c##i##b = hn::MulAdd(ai, b1, c##i##b);   \
  }
    LM_ROWS(LM_FMA)
#undef LM_FMA
#undef LM_AROW
    if (kPacked) {
      pa += 1;
    } else {
      a0 += ps;
      a3 += ps;
      a6 += ps;
      a9 += ps;
      a12 += ps;
    }
    pb += bs;
  }
  const Epi ep = e;
  if (ep.alpha == 1.0f && ep.beta == 0.0f && !ep.bias && ep.act == LM_ACT_NONE) {
#define LM_STORE(i)                                \
  if constexpr (i < R) {                           \
    hn::StoreU(c##i##a, d, c + i * ldc);           \
    hn::StoreU(c##i##b, d, c + i * ldc + N);       \
  }
    LM_ROWS(LM_STORE)  // the plain product: nothing to combine
#undef LM_STORE
    return;
  }
#define LM_STORE(i)                                \
  if constexpr (i < R) {                           \
    Finish(d, c##i##a, c + i * ldc, ep, 0);        \
    Finish(d, c##i##b, c + i * ldc + N, ep, N);    \
  }
  LM_ROWS(LM_STORE)
#undef LM_STORE
}

using TileFn = void (*)(size_t, const float*, size_t, size_t, const float*, size_t, float*,
                       size_t, const Epi&);
template <bool kPacked, size_t... I>
constexpr std::array<TileFn, sizeof...(I)> MakeTiles(std::index_sequence<I...>) {
  return {&Tile<I + 1, kPacked>...};
}
// kTiles[packed][r - 1] computes r rows: a partial row tile costs only its own rows.
constexpr std::array<TileFn, kMR> kTiles[2] = {
    MakeTiles<false>(std::make_index_sequence<kMR>()),
    MakeTiles<true>(std::make_index_sequence<kMR>())};

// The macro-kernel: B micro-panels [jp0, jp1) of a kc x nc block (packed from pb, which
// holds panel jp0 first, or in place at bd) against every
// micro-panel of a packed mc x kc A block; c is C at the blocks' corner. Partial rows
// run a shorter tile; partial columns go through a local tile, so nothing outside C (or
// the bias) is read or written.
void MacroImpl(size_t mc, size_t nc, size_t kc, const float* ad, size_t ars, size_t aps, float* pa,
               const float* bd, size_t ldb, const float* pb, size_t jp0, size_t jp1, float* c,
               size_t ldc, float alpha, float beta, const float* bias, int act, float* tmp) {
  const DG d;
  const size_t NR = 2 * hn::Lanes(d);
  // Edge tile and padded bias live in heap scratch (kMR * NR + NR floats), not on the
  // stack: AddressSanitizer checks them there even with its stack checks off.
  float* tile = tmp;
  float* tbias = tmp + kMR * NR;
  for (size_t jp = jp0; jp < jp1; ++jp) {
    const size_t j = jp * NR, nr = nc - j < NR ? nc - j : NR;
    Epi e{alpha, beta, bias ? bias + j : nullptr, act};
    if (bias && nr < NR) {
      for (size_t x = 0; x < NR; ++x) tbias[x] = x < nr ? bias[j + x] : 0.0f;
      e.bias = tbias;
    }
    // B read in place (bd) for whole micro-panels; the packed copy otherwise.
    const float* pbj = bd && nr == NR ? bd + j : pb + (jp - jp0) * NR * kc;
    const size_t bs = bd && nr == NR ? ldb : NR;
    for (size_t i = 0; i < mc; i += kMR) {
      const size_t mr = mc - i < kMR ? mc - i : kMR;
      float* cij = c + i * ldc + j;
      const float* ai = ad ? ad + i * ars : pa + i * kAStride;  // A in place, or packed
      const size_t as = ad ? ars : kAStride, ps = ad ? aps : 1;
      const TileFn* tiles = kTiles[ad ? 0 : 1].data();
      if (nr == NR) {
        tiles[mr - 1](kc, ai, as, ps, pbj, bs, cij, ldc, e);
        continue;
      }
      if (beta != 0.0f)
        for (size_t r = 0; r < mr; ++r) memcpy(tile + r * NR, cij + r * ldc, nr * sizeof(float));
      tiles[mr - 1](kc, ai, as, ps, pbj, bs, tile, NR, e);
      for (size_t r = 0; r < mr; ++r) memcpy(cij + r * ldc, tile + r * NR, nr * sizeof(float));
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace loom
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "simd/dispatch.h"
namespace loom {
HWY_EXPORT(TileRowsImpl);
HWY_EXPORT(TileColsImpl);
HWY_EXPORT(MacroImpl);
HWY_EXPORT(KcMaxImpl);
HWY_EXPORT(AStrideImpl);

namespace {

size_t Min(size_t a, size_t b) { return a < b ? a : b; }
size_t CeilDiv(size_t a, size_t b) { return (a + b - 1) / b; }

// sysconf may run CPUID, which traps in a VM: ask once.
long L1Bytes() {
  static const long v = [] {
    const long r = sysconf(_SC_LEVEL1_DCACHE_SIZE);
    return r > 0 ? r : 32l << 10;
  }();
  return v;
}
long L2Bytes() {
  static const long v = [] {
    const long r = sysconf(_SC_LEVEL2_CACHE_SIZE);
    return r > 0 ? r : 512l << 10;
  }();
  return v;
}

lm_gemm_blocking Blocking() {
  lm_gemm_blocking g;
  g.mr = LM_DISPATCH(TileRowsImpl)();
  g.nr = LM_DISPATCH(TileColsImpl)();
  // From this CPU's caches: a B micro-panel (kc x nr) takes half of L1, an A block
  // (mc x kc) half of L2; the B block (kc x nc) is left to L3.
  const long l1 = L1Bytes(), l2 = L2Bytes();
  // Measured on Zen 5 (48 KiB L1, 1 MiB L2): a deep kc (B micro-panel a third larger
  // than L1, streamed from L2) and a small A block (a quarter of L2) beat the textbook
  // halves by 5-30%, mostly by touching C less often.
  size_t kc = (size_t)l1 / (g.nr * sizeof(float)) * 4 / 3;
  const size_t kc_max = LM_DISPATCH(KcMaxImpl)();
  kc = kc < 128 ? 128 : kc > kc_max ? kc_max : kc / 8 * 8;
  size_t mc = (size_t)l2 / 4 / (kc * sizeof(float));
  mc = CeilDiv(mc, g.mr) * g.mr;  // a whole number of tiles (128 rows: one block, not two)
  g.kc = kc;
  g.mc = mc;
  g.nc = 4096 / g.nr * g.nr;
  return g;
}

// Grow-only, 64-byte aligned scratch kept per calling thread, so packing allocates
// only when a call needs more than any call before it on that thread.
struct Scratch {
  float* p = nullptr;
  size_t cap = 0;
  ~Scratch() { free(p); }
  float* Get(size_t floats) {
    if (floats <= cap) return p;
    free(p);
    const size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
    p = static_cast<float*>(aligned_alloc(64, bytes));
    cap = p ? floats : 0;
#ifdef MADV_HUGEPAGE
    if (p && bytes >= (2u << 20)) madvise(p, bytes, MADV_HUGEPAGE);
#endif
    return p;
  }
};
thread_local Scratch tls_a, tls_b;

// d[i * ld + j] = s_j[i] for i, j < 4: a 4 x 4 transpose in registers (GCC/Clang vector
// extensions: SSE on x86, NEON on ARM, whatever the Highway target).
typedef float V4 __attribute__((vector_size(16)));
#if defined(__clang__)
#define LM_SHUF(x, y, a, b, c, d) __builtin_shufflevector(x, y, a, b, c, d)
#else
#define LM_SHUF(x, y, a, b, c, d) __builtin_shuffle(x, y, (V4i){a, b, c, d})
typedef int V4i __attribute__((vector_size(16)));
#endif
inline void Transpose4(const float* s0, const float* s1, const float* s2, const float* s3, float* d,
                       size_t ld) {
  V4 a, b, c, e;
  memcpy(&a, s0, 16), memcpy(&b, s1, 16), memcpy(&c, s2, 16), memcpy(&e, s3, 16);
  const V4 t0 = LM_SHUF(a, b, 0, 4, 1, 5), t1 = LM_SHUF(a, b, 2, 6, 3, 7);
  const V4 t2 = LM_SHUF(c, e, 0, 4, 1, 5), t3 = LM_SHUF(c, e, 2, 6, 3, 7);
  const V4 r0 = LM_SHUF(t0, t2, 0, 1, 4, 5), r1 = LM_SHUF(t0, t2, 2, 3, 6, 7);
  const V4 r2 = LM_SHUF(t1, t3, 0, 1, 4, 5), r3 = LM_SHUF(t1, t3, 2, 3, 6, 7);
  memcpy(d, &r0, 16), memcpy(d + ld, &r1, 16), memcpy(d + 2 * ld, &r2, 16), memcpy(d + 3 * ld, &r3, 16);
}
#undef LM_SHUF

// op(A) rows [ic, ic + mc), depth [pc, pc + kc) -> micro-panels of mr rows; row r of
// the block is at pa + r * stride (see kAStride), rows past mc are zero.
void PackA(bool ta, const float* a, size_t lda, size_t ic, size_t pc, size_t mc, size_t kc,
           size_t mr, size_t stride, float* pa) {
  const size_t padded = CeilDiv(mc, mr) * mr;
  if (!ta) {
    for (size_t r = 0; r < mc; ++r) memcpy(pa + r * stride, a + (ic + r) * lda + pc, kc * sizeof(float));
  } else {
    // A transposed copy, in 16 x 16 blocks so that both the reads (along r) and the
    // writes (along p) run over whole cache lines; four source rows at a time, so that
    // each write is four neighbouring floats.
    for (size_t p0 = 0; p0 < kc; p0 += 16)
      for (size_t r0 = 0; r0 < mc; r0 += 16) {
        const size_t pe = Min(p0 + 16, kc), re = Min(r0 + 16, mc);
        size_t p = p0;
        for (; p + 4 <= pe; p += 4) {
          const float* s0 = a + (pc + p) * lda + ic;
          const float *s1 = s0 + lda, *s2 = s1 + lda, *s3 = s2 + lda;
          size_t r = r0;
          for (; r + 4 <= re; r += 4) Transpose4(s0 + r, s1 + r, s2 + r, s3 + r, pa + r * stride + p, stride);
          for (; r < re; ++r) {
            float* d = pa + r * stride + p;
            d[0] = s0[r], d[1] = s1[r], d[2] = s2[r], d[3] = s3[r];
          }
        }
        for (; p < pe; ++p) {
          const float* src = a + (pc + p) * lda + ic;
          for (size_t r = r0; r < re; ++r) pa[r * stride + p] = src[r];
        }
      }
  }
  for (size_t r = mc; r < padded; ++r) memset(pa + r * stride, 0, kc * sizeof(float));
}

// op(B) depth [pc, pc + kc), micro-panels [jp0, jp1) of the block at jc -> dst, each
// kc x nr, zero-padded to the panel width. A plain B is copied a row at a time across
// all the panels, so memory is read in long runs rather than nr floats per row.
void PackB(bool tb, const float* b, size_t ldb, size_t pc, size_t jc, size_t nc, size_t kc,
           size_t nr, size_t jp0, size_t jp1, float* dst) {
  for (size_t jp = jp0; jp < jp1; ++jp) {
    const size_t j = jp * nr, cols = Min(nr, nc - j);
    float* panel = dst + (jp - jp0) * nr * kc;
    if (tb) {  // a transposed copy, in blocks of 16 k steps: whole lines read and written
      for (size_t p0 = 0; p0 < kc; p0 += 16) {
        const size_t pe = Min(p0 + 16, kc);
        size_t x = 0;
        for (; x + 4 <= cols; x += 4) {  // four rows of B at once: four floats per store
          const float* s0 = b + (jc + j + x) * ldb + pc;
          const float *s1 = s0 + ldb, *s2 = s1 + ldb, *s3 = s2 + ldb;
          for (size_t p = p0; p < pe; ++p) {
            float* d = panel + p * nr + x;
            d[0] = s0[p];
            d[1] = s1[p];
            d[2] = s2[p];
            d[3] = s3[p];
          }
        }
        for (; x < cols; ++x) {
          const float* src = b + (jc + j + x) * ldb + pc;
          for (size_t p = p0; p < pe; ++p) panel[p * nr + x] = src[p];
        }
      }
    }
    if (cols < nr)
      for (size_t p = 0; p < kc; ++p)
        for (size_t x = cols; x < nr; ++x) panel[p * nr + x] = 0.0f;
  }
  if (tb) return;
  for (size_t p = 0; p < kc; ++p) {
    const float* src = b + (pc + p) * ldb + jc;
    for (size_t jp = jp0; jp < jp1; ++jp) {
      const size_t j = jp * nr, cols = Min(nr, nc - j);
      memcpy(dst + (jp - jp0) * nr * kc + p * nr, src + j, cols * sizeof(float));
    }
  }
}

// C = act(beta * C + bias) when there is no product to add (k == 0 or alpha == 0).
void ScaleOnly(size_t m, size_t n, float beta, float* c, size_t ldc, const lm_gemm_epilogue* ep) {
  for (size_t i = 0; i < m; ++i) {
    float* row = c + i * ldc;
    if (beta == 0.0f) lm_k_fill(0.0f, row, n);
    else if (beta != 1.0f) lm_k_scale(beta, row, row, n);
    if (!ep) continue;
    if (ep->bias) lm_k_add(row, ep->bias, row, n);
    if (ep->act == LM_ACT_RELU) lm_k_relu(row, row, n);
    if (ep->act == LM_ACT_SIGMOID) lm_k_sigmoid(row, row, n);
    if (ep->act == LM_ACT_TANH) lm_k_tanh(row, row, n);
  }
}

// Packing pays when the packed copy is reused often and the original's rows would fight
// over L1/L2 sets. A micro-panel of A is reused once per B micro-panel (n / nr times); a
// B micro-panel once per A micro-panel of every M block: with one or two M blocks, the
// copy would be read too few times to pay for itself. Rows a multiple of 4 KiB apart alias in the caches: pack.
bool Aliases(size_t ld) { return (ld * sizeof(float)) % 4096 == 0; }
// Read in place, a micro-panel whose k steps are rows of the matrix (B; a transposed
// A) touches a page per step once rows pass 4 KiB: deep panels of wide rows would miss
// the first-level TLB on every step. Allow what it holds comfortably.
bool FewPages(size_t k, size_t ld, const lm_gemm_blocking& g) {
  const size_t steps = Min(k, g.kc), row = ld * sizeof(float);
  const size_t pages = row >= 4096 ? steps : CeilDiv(steps * row, 4096);
  return pages <= 64;
}
// A plain A with short rows is as compact as its packed copy: read it in place whatever n.
bool DirectA(bool ta, size_t n, size_t k, size_t lda, const lm_gemm_blocking& g) {
  if (!ta && lda <= 256) return true;
  if (n > 4 * g.nr) return false;
  return ta ? FewPages(k, lda, g) : !Aliases(lda);
}
bool DirectB(bool tb, size_t m, size_t k, size_t ldb, const lm_gemm_blocking& g) {
  return !tb && m <= 2 * g.mc && !Aliases(ldb) && FewPages(k, ldb, g);
}

// Largest divisor of t that is <= limit: threads along M; the rest go along N.
int ThreadsAlongM(int t, size_t limit) {
  for (int d = t; d > 1; --d)
    if (t % d == 0 && (size_t)d <= limit) return d;
  return 1;
}

using MacroFn = void (*)(size_t, size_t, size_t, const float*, size_t, size_t, float*, const float*,
                         size_t, const float*, size_t, size_t, float*, size_t, float, float,
                         const float*, int, float*);

struct Job {
  bool ta, tb;
  size_t m, n, k;
  float alpha;
  const float* a;
  size_t lda;
  const float* b;
  size_t ldb;
  float beta;
  float* c;
  size_t ldc;
  const float* bias;
  int act;
  lm_gemm_blocking g;
  MacroFn macro;
  float* pb;          // the shared packed B block
  size_t kc_max;      // deepest K block: the B panels a thread packs alone start at
                      // jp0 * nr * kc_max, so no K block's panels reach another thread's
  float* pa;          // per thread, a_floats: its packed A block, then the edge tile
  size_t a_floats;
  size_t tile_at;     // where in it the edge tile starts
  size_t a_stride;
  int nt, tm;         // threads asked for; of them, along M
  bool direct_a;      // whole A micro-panels read in place, not packed
  bool direct_b;      // whole B micro-panels read in place, not packed
};

// One thread's share (also runs alone, outside any parallel region: the barriers then
// bind to a team of one). Threads form a tm x (nt / tm) grid: ic blocks
// go round-robin along M, B micro-panels are split in contiguous ranges along N.
void Work(Job& j) {
  const lm_gemm_blocking& g = j.g;
  const int tid = omp_get_thread_num(), team = omp_get_num_threads();
  const bool full = team == j.nt;  // a smaller team than asked: thread 0 does it all
  const int tm = full ? j.tm : 1, tn = full ? j.nt / j.tm : 1;
  const int ti = full ? tid / tn : 0, tj = full ? tid % tn : 0;
  const bool works = full || tid == 0;
  const size_t n_ic = CeilDiv(j.m, g.mc);
  float* pa = j.pa + (size_t)tid * j.a_floats;
  // With threads only along N, each packs the B panels it alone reads: no barrier.
  // Otherwise they pack the block together and wait for each other around it.
  const bool private_b = tm == 1;
  for (size_t jc = 0; jc < j.n; jc += g.nc) {
    const size_t nc = Min(g.nc, j.n - jc), np = CeilDiv(nc, g.nr);
    const size_t jp0 = np * (size_t)tj / (size_t)tn, jp1 = np * (size_t)(tj + 1) / (size_t)tn;
    // In place, only the last, partial micro-panel of B needs a padded copy.
    const size_t jp_first = j.direct_b ? nc / g.nr : 0;
    const bool packs_b = jp_first < np;
    for (size_t pc = 0; pc < j.k; pc += g.kc) {
      const size_t kc = Min(g.kc, j.k - pc);
      // The panels this thread reads: its own region when it packs them alone (a thread
      // ahead by a K block must not write where another still reads: panels of a
      // shallower last block would start at other offsets), shared ones otherwise.
      const float* panels = private_b ? j.pb + jp0 * g.nr * j.kc_max : j.pb + jp0 * g.nr * kc;
      if (packs_b && private_b) {
        const size_t p0 = std::max(jp0, jp_first);
        if (works && p0 < jp1)
          PackB(j.tb, j.b, j.ldb, pc, jc, nc, kc, g.nr, p0, jp1,
                const_cast<float*>(panels) + (p0 - jp0) * g.nr * kc);
      } else if (packs_b) {
        const size_t cnt = np - jp_first;
        const size_t q0 = jp_first + cnt * (size_t)tid / (size_t)team;
        const size_t q1 = jp_first + cnt * (size_t)(tid + 1) / (size_t)team;
        if (q0 < q1) PackB(j.tb, j.b, j.ldb, pc, jc, nc, kc, g.nr, q0, q1, j.pb + q0 * g.nr * kc);
#pragma omp barrier
      }
      const float* bd = j.direct_b ? j.b + pc * j.ldb + jc : nullptr;
      const bool last = pc + kc == j.k;
      const float beta_k = pc == 0 ? j.beta : 1.0f;
      for (size_t ib = (size_t)ti; works && ib < n_ic && jp0 < jp1; ib += (size_t)tm) {
        const size_t ic = ib * g.mc, mc = Min(g.mc, j.m - ic);
        // In place: op(A)[i][p] is a[i * ars + p * aps].
        const size_t ars = j.ta ? 1 : j.lda, aps = j.ta ? j.lda : 1;
        const float* ad = j.direct_a ? j.a + ic * ars + pc * aps : nullptr;
        if (!ad) PackA(j.ta, j.a, j.lda, ic, pc, mc, kc, g.mr, j.a_stride, pa);
        j.macro(mc, nc, kc, ad, ars, aps, pa, bd, j.ldb, panels, jp0, jp1,
                j.c + ic * j.ldc + jc, j.ldc, j.alpha, beta_k,
                last && j.bias ? j.bias + jc : nullptr, last ? j.act : (int)LM_ACT_NONE,
                pa + j.tile_at);
      }
      if (packs_b && !private_b && (!last || jc + nc < j.n)) {
#pragma omp barrier
      }
    }
  }
}

}  // namespace
}  // namespace loom

using namespace loom;  // HWY_DYNAMIC_DISPATCH needs the unqualified name

extern "C" {

lm_gemm_blocking lm_gemm_get_blocking(void) {
  lm_simd_init();
  return Blocking();
}

int lm_sgemm(bool ta, bool tb, size_t m, size_t n, size_t k, float alpha, const float* a,
             size_t lda, const float* b, size_t ldb, float beta, float* c, size_t ldc,
             const lm_gemm_epilogue* ep) {
  lm_simd_init();
  if (m == 0 || n == 0) return LOOM_OK;
  if (k == 0 || alpha == 0.0f) {
    ScaleOnly(m, n, beta, c, ldc, ep);
    return LOOM_OK;
  }
  lm_gemm_blocking g = Blocking();
  const bool direct_a = DirectA(ta, n, k, lda, g), direct_b = DirectB(tb, m, k, ldb, g);
  // Blocks of equal height (a whole number of tiles each), so that M blocks shared out
  // among threads carry the same work: 128 rows in blocks of 126 would leave one thread 2.
  g.mc = CeilDiv(CeilDiv(m, CeilDiv(m, g.mc)), g.mr) * g.mr;
  const int nt = lm_threads_for(m * n * k / 8);
  // Threads go along M as far as there are M blocks, the rest along N's micro-panels;
  // when N has too few panels for them (n = 32: one), cut M finer instead.
  int tm = ThreadsAlongM(nt, CeilDiv(m, g.mc));
  if (tm < nt && CeilDiv(Min(n, g.nc), g.nr) < 2 * (size_t)(nt / tm)) {
    g.mc = CeilDiv(CeilDiv(m, (size_t)nt), g.mr) * g.mr;
    tm = ThreadsAlongM(nt, CeilDiv(m, g.mc));
  }
  const size_t kc_max = Min(g.kc, k), nc_max = Min(g.nc, CeilDiv(n, g.nr) * g.nr);
  const size_t mc_max = Min(g.mc, CeilDiv(m, g.mr) * g.mr);
  const size_t a_stride = LM_DISPATCH(AStrideImpl)();
  // Both packing buffers come from the calling thread's scratch, so that the workers
  // need no allocation and a failure is known before any work starts.
  float* pb = tls_b.Get(kc_max * nc_max);
  const size_t a_floats = mc_max * a_stride + (g.mr + 1) * g.nr;
  float* pa = tls_a.Get((size_t)nt * a_floats);
  if (!pb || !pa)
    return lm_error(LOOM_ENOMEM, "loom_sgemm", "no memory for %zu floats of packing buffers",
                    kc_max * nc_max + (size_t)nt * a_floats);
  // Field by field, by name (C++17 has no designated initialisers): two fields of one
  // type swapped in a positional list would compile and compute nonsense.
  Job job{};
  job.ta = ta, job.tb = tb, job.m = m, job.n = n, job.k = k, job.alpha = alpha;
  job.a = a, job.lda = lda, job.b = b, job.ldb = ldb, job.beta = beta, job.c = c, job.ldc = ldc;
  job.bias = ep ? ep->bias : nullptr, job.act = ep ? (int)ep->act : (int)LM_ACT_NONE;
  job.g = g, job.macro = LM_DISPATCH(MacroImpl);
  job.pb = pb, job.kc_max = kc_max, job.pa = pa, job.a_floats = a_floats;
  job.tile_at = mc_max * a_stride, job.a_stride = a_stride;
  job.nt = nt, job.tm = tm, job.direct_a = direct_a, job.direct_b = direct_b;
  if (nt == 1) {
    Work(job);  // no parallel region: its start-up costs as much as a small product
  } else {
#pragma omp parallel num_threads(nt)
    Work(job);
  }
  return LOOM_OK;
}

}  // extern "C"
#endif  // HWY_ONCE
