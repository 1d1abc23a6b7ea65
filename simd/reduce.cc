// reduce.cc - reductions (sum, max) and row-wise softmax with its gradient.
#include <math.h>

#include "simd/parallel.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "simd/reduce.cc"
#include "hwy/foreach_target.h"  // must come before highway.h
#include "hwy/highway.h"
#include "hwy/contrib/math/math-inl.h"
#include "simd/map-inl.h"

HWY_BEFORE_NAMESPACE();
namespace loom {
namespace HWY_NAMESPACE {

float SumImpl(const float* x, size_t n) {
  return Fold(
      x, n, 0.0f, [](DF, auto a, auto v) HWY_ATTR { return hn::Add(a, v); },
      [](DF d, auto v) HWY_ATTR { return hn::SumOfLanes(d, v); },
      [](float s, float v) { return s + v; });
}

float MaxImpl(const float* x, size_t n) {
  return Fold(
      x, n, -INFINITY, [](DF, auto a, auto v) HWY_ATTR { return hn::Max(a, v); },
      [](DF d, auto v) HWY_ATTR { return hn::MaxOfLanes(d, v); },
      [](float s, float v) { return v > s ? v : s; });
}

// y = exp(x - max(x)) / sum, row by row.
void SoftmaxImpl(const float* x, float* y, size_t rows, size_t cols) {
  const DF d;
  const size_t N = hn::Lanes(d);
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    const auto vmax = hn::Set(d, MaxImpl(xr, cols));
    auto acc = hn::Zero(d);
    size_t i = 0;
    for (; i + N <= cols; i += N) {
      const auto e = hn::Exp(d, hn::Sub(hn::LoadU(d, xr + i), vmax));
      hn::StoreU(e, d, yr + i);
      acc = hn::Add(acc, e);
    }
    float sum = hn::GetLane(hn::SumOfLanes(d, acc));
    if (i < cols) {
      HWY_ALIGN float buf[LM_TAIL_LANES] = {0};
      const size_t rem = cols - i;
      for (size_t j = 0; j < rem; ++j) buf[j] = xr[i + j];
      hn::Store(hn::Exp(d, hn::Sub(hn::Load(d, buf), vmax)), d, buf);
      for (size_t j = 0; j < rem; ++j) sum += (yr[i + j] = buf[j]);
    }
    const float inv = 1.0f / sum;
    Map1(yr, yr, cols, [inv](DF dd, auto v) HWY_ATTR { return hn::Mul(v, hn::Set(dd, inv)); });
  }
}

// dx += y * (dy - <dy, y>), row by row.
void SoftmaxGradImpl(const float* y, const float* dy, float* dx, size_t rows, size_t cols) {
  const DF d;
  const size_t N = hn::Lanes(d);
  for (size_t r = 0; r < rows; ++r) {
    const float *yr = y + r * cols, *gr = dy + r * cols;
    auto acc = hn::Zero(d);
    size_t i = 0;
    for (; i + N <= cols; i += N) acc = hn::MulAdd(hn::LoadU(d, yr + i), hn::LoadU(d, gr + i), acc);
    float dot = hn::GetLane(hn::SumOfLanes(d, acc));
    for (; i < cols; ++i) dot += yr[i] * gr[i];
    Map3(yr, gr, dx + r * cols, cols, [dot](DF dd, auto vy, auto vg, auto vdx) HWY_ATTR {
      return hn::MulAdd(vy, hn::Sub(vg, hn::Set(dd, dot)), vdx);
    });
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace loom
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "simd/dispatch.h"
namespace loom {
HWY_EXPORT(SumImpl);
HWY_EXPORT(MaxImpl);
HWY_EXPORT(SoftmaxImpl);
HWY_EXPORT(SoftmaxGradImpl);

namespace {

// At most this many partial results; a block is at least kChunk elements. Both depend
// on n alone, so the same partials are combined in the same order for any thread count.
constexpr size_t kMaxBlocks = 256;

template <class F, class C>
float BlockedReduce(const float* x, size_t n, F impl, C combine) {
  if (n <= kChunk) return impl(x, n);
  size_t block = (n + kMaxBlocks - 1) / kMaxBlocks;
  block = block < kChunk ? kChunk : (block + 63) / 64 * 64;
  float part[kMaxBlocks];
  ParallelChunks(n, block, 1, [&](size_t o, size_t m) { part[o / block] = impl(x + o, m); });
  const size_t nb = (n + block - 1) / block;
  float r = part[0];
  for (size_t b = 1; b < nb; ++b) r = combine(r, part[b]);
  return r;
}

// Rows per chunk so that a chunk holds about kChunk elements.
size_t RowChunk(size_t cols) { return cols >= kChunk ? 1 : kChunk / (cols ? cols : 1); }

}  // namespace
}  // namespace loom

using namespace loom;  // HWY_DYNAMIC_DISPATCH needs the unqualified name

extern "C" {

float lm_k_sum(const float* x, size_t n) {
  lm_simd_init();
  return BlockedReduce(x, n, LM_DISPATCH(SumImpl), [](float a, float b) { return a + b; });
}

float lm_k_max(const float* x, size_t n) {
  lm_simd_init();
  return BlockedReduce(x, n, LM_DISPATCH(MaxImpl),
                       [](float a, float b) { return b > a ? b : a; });
}

void lm_k_softmax(const float* x, float* y, size_t rows, size_t cols) {
  lm_simd_init();
  auto f = LM_DISPATCH(SoftmaxImpl);
  ParallelChunks(rows, RowChunk(cols), cols * 8,
                 [&](size_t r, size_t m) { f(x + r * cols, y + r * cols, m, cols); });
}

void lm_k_softmax_grad(const float* y, const float* dy, float* dx, size_t rows, size_t cols) {
  lm_simd_init();
  auto f = LM_DISPATCH(SoftmaxGradImpl);
  ParallelChunks(rows, RowChunk(cols), cols * 2, [&](size_t r, size_t m) {
    f(y + r * cols, dy + r * cols, dx + r * cols, m, cols);
  });
}

}  // extern "C"
#endif  // HWY_ONCE
