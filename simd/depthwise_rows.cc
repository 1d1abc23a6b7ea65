// depthwise_rows.cc - the 3x3 depthwise kernels (depth multiplier 1) along a run of
// output pixels whose taps all lie inside the input: per channel vector, the nine taps'
// filter vectors (forward, input gradient) or the nine filter-gradient sums (filter
// gradient) stay in registers for the whole run, so each multiply-add loads one vector
// instead of two, and one call covers a row instead of one pixel.
#include "simd/parallel.h"

#include <cmath>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "simd/depthwise_rows.cc"
#include "hwy/foreach_target.h"  // must come before highway.h
#include "hwy/highway.h"
#include "simd/map-inl.h"

HWY_BEFORE_NAMESPACE();
namespace loom {
namespace HWY_NAMESPACE {

// For p < n: y[p] (+)= sum over r, q < 3 of x[p * px + r * row + q * col] * k[(r * 3 + q) * c]
// per channel, in that tap order, starting from y[p] (accumulate), bias or 0.
void Dw3x3RunImpl(const float* x, ptrdiff_t row, ptrdiff_t col, size_t px, const float* k, const float* bias, bool accumulate,
                  float* y, size_t n, size_t c) {
  const DF d;
  const size_t N = hn::Lanes(d);
  size_t j = 0;
  for (; j + N <= c; j += N) {
    const auto k0 = hn::LoadU(d, k + j), k1 = hn::LoadU(d, k + c + j), k2 = hn::LoadU(d, k + 2 * c + j);
    const auto k3 = hn::LoadU(d, k + 3 * c + j), k4 = hn::LoadU(d, k + 4 * c + j), k5 = hn::LoadU(d, k + 5 * c + j);
    const auto k6 = hn::LoadU(d, k + 6 * c + j), k7 = hn::LoadU(d, k + 7 * c + j), k8 = hn::LoadU(d, k + 8 * c + j);
    const auto b = bias ? hn::LoadU(d, bias + j) : hn::Zero(d);
    for (size_t p = 0; p < n; ++p) {
      const float* r0 = x + p * px + j;
      const float *r1 = r0 + row, *r2 = r1 + row;
      auto acc = accumulate ? hn::LoadU(d, y + p * c + j) : b;
      acc = hn::MulAdd(hn::LoadU(d, r0), k0, acc);
      acc = hn::MulAdd(hn::LoadU(d, r0 + col), k1, acc);
      acc = hn::MulAdd(hn::LoadU(d, r0 + 2 * col), k2, acc);
      acc = hn::MulAdd(hn::LoadU(d, r1), k3, acc);
      acc = hn::MulAdd(hn::LoadU(d, r1 + col), k4, acc);
      acc = hn::MulAdd(hn::LoadU(d, r1 + 2 * col), k5, acc);
      acc = hn::MulAdd(hn::LoadU(d, r2), k6, acc);
      acc = hn::MulAdd(hn::LoadU(d, r2 + col), k7, acc);
      acc = hn::MulAdd(hn::LoadU(d, r2 + 2 * col), k8, acc);
      hn::StoreU(acc, d, y + p * c + j);
    }
  }
  for (; j < c; ++j)  // the channels past the last whole vector, the taps in the same order
    for (size_t p = 0; p < n; ++p) {
      float acc = accumulate ? y[p * c + j] : bias ? bias[j] : 0.0f;
      for (size_t t = 0; t < 9; ++t) acc = std::fma(x[(ptrdiff_t)(p * px + j) + (ptrdiff_t)(t / 3) * row + (ptrdiff_t)(t % 3) * col], k[t * c + j], acc);
      y[p * c + j] = acc;
    }
}

// dk[(r * 3 + q) * c] += sum over p < n of x[p * px + r * row + q * col] * dy[p * c] per
// channel: each tap's sum over the run in a register, added to dk at the end.
void Dw3x3FilterRunImpl(const float* x, ptrdiff_t row, ptrdiff_t col, size_t px, const float* dy, float* dk, size_t n, size_t c) {
  const DF d;
  const size_t N = hn::Lanes(d);
  size_t j = 0;
  for (; j + N <= c; j += N) {
    auto a0 = hn::Zero(d), a1 = hn::Zero(d), a2 = hn::Zero(d), a3 = hn::Zero(d), a4 = hn::Zero(d);
    auto a5 = hn::Zero(d), a6 = hn::Zero(d), a7 = hn::Zero(d), a8 = hn::Zero(d);
    for (size_t p = 0; p < n; ++p) {
      const float* r0 = x + p * px + j;
      const float *r1 = r0 + row, *r2 = r1 + row;
      const auto g = hn::LoadU(d, dy + p * c + j);
      a0 = hn::MulAdd(hn::LoadU(d, r0), g, a0);
      a1 = hn::MulAdd(hn::LoadU(d, r0 + col), g, a1);
      a2 = hn::MulAdd(hn::LoadU(d, r0 + 2 * col), g, a2);
      a3 = hn::MulAdd(hn::LoadU(d, r1), g, a3);
      a4 = hn::MulAdd(hn::LoadU(d, r1 + col), g, a4);
      a5 = hn::MulAdd(hn::LoadU(d, r1 + 2 * col), g, a5);
      a6 = hn::MulAdd(hn::LoadU(d, r2), g, a6);
      a7 = hn::MulAdd(hn::LoadU(d, r2 + col), g, a7);
      a8 = hn::MulAdd(hn::LoadU(d, r2 + 2 * col), g, a8);
    }
    float* t = dk + j;
    hn::StoreU(hn::Add(hn::LoadU(d, t), a0), d, t);
    hn::StoreU(hn::Add(hn::LoadU(d, t + c), a1), d, t + c);
    hn::StoreU(hn::Add(hn::LoadU(d, t + 2 * c), a2), d, t + 2 * c);
    hn::StoreU(hn::Add(hn::LoadU(d, t + 3 * c), a3), d, t + 3 * c);
    hn::StoreU(hn::Add(hn::LoadU(d, t + 4 * c), a4), d, t + 4 * c);
    hn::StoreU(hn::Add(hn::LoadU(d, t + 5 * c), a5), d, t + 5 * c);
    hn::StoreU(hn::Add(hn::LoadU(d, t + 6 * c), a6), d, t + 6 * c);
    hn::StoreU(hn::Add(hn::LoadU(d, t + 7 * c), a7), d, t + 7 * c);
    hn::StoreU(hn::Add(hn::LoadU(d, t + 8 * c), a8), d, t + 8 * c);
  }
  for (; j < c; ++j)
    for (size_t t = 0; t < 9; ++t) {
      float acc = 0.0f;
      for (size_t p = 0; p < n; ++p) acc = std::fma(x[(ptrdiff_t)(p * px + j) + (ptrdiff_t)(t / 3) * row + (ptrdiff_t)(t % 3) * col], dy[p * c + j], acc);
      dk[t * c + j] += acc;
    }
}

}  // namespace HWY_NAMESPACE
}  // namespace loom
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "simd/dispatch.h"
namespace loom {
HWY_EXPORT(Dw3x3RunImpl);
HWY_EXPORT(Dw3x3FilterRunImpl);
}  // namespace loom

using namespace loom;  // HWY_DYNAMIC_DISPATCH needs the unqualified name

extern "C" {
// Called from inside the depthwise drivers' parallel loops: never threaded here.
void lm_k_dw3x3_run(const float* x, ptrdiff_t row, ptrdiff_t col, size_t px, const float* k, const float* bias,
                    bool accumulate, float* y, size_t n, size_t c) {
  lm_simd_init();
  LM_DISPATCH(Dw3x3RunImpl)(x, row, col, px, k, bias, accumulate, y, n, c);
}
void lm_k_dw3x3_filter_run(const float* x, ptrdiff_t row, ptrdiff_t col, size_t px, const float* dy, float* dk,
                           size_t n, size_t c) {
  lm_simd_init();
  LM_DISPATCH(Dw3x3FilterRunImpl)(x, row, col, px, dy, dk, n, c);
}
}  // extern "C"
#endif  // HWY_ONCE
