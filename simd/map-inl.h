// map-inl.h - per-target elementwise loops with safe tails (internal).
// Included by kernel files after hwy/highway.h, once per target (Highway's toggle guard).
// Tails go through an aligned, zero-padded buffer: in Highway 1.0.3 MaskedLoad is a full
// aligned load on NEON/SSE4 and must not touch the end of an array.
#if defined(LOOM_SIMD_MAP_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef LOOM_SIMD_MAP_INL_H_
#undef LOOM_SIMD_MAP_INL_H_
#else
#define LOOM_SIMD_MAP_INL_H_
#endif

#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace loom {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
#define LM_TAIL_LANES (HWY_MAX_BYTES / sizeof(float))

// y[i] = f(d, x[i])
template <class F>
HWY_INLINE void Map1(const float* x, float* y, size_t n, F f) {
  const DF d;
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  for (; i + N <= n; i += N) hn::StoreU(f(d, hn::LoadU(d, x + i)), d, y + i);
  if (i == n) return;
  HWY_ALIGN float bx[LM_TAIL_LANES] = {0};
  const size_t r = n - i;
  for (size_t j = 0; j < r; ++j) bx[j] = x[i + j];
  hn::Store(f(d, hn::Load(d, bx)), d, bx);
  for (size_t j = 0; j < r; ++j) y[i + j] = bx[j];
}

// y[i] = f(d, a[i], b[i], y[i]): covers binary maps (ignore y) and accumulations.
template <class F>
HWY_INLINE void Map3(const float* a, const float* b, float* y, size_t n, F f) {
  const DF d;
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  for (; i + N <= n; i += N)
    hn::StoreU(f(d, hn::LoadU(d, a + i), hn::LoadU(d, b + i), hn::LoadU(d, y + i)), d, y + i);
  if (i == n) return;
  HWY_ALIGN float ba[LM_TAIL_LANES] = {0};
  HWY_ALIGN float bb[LM_TAIL_LANES] = {0};
  HWY_ALIGN float by[LM_TAIL_LANES] = {0};
  const size_t r = n - i;
  for (size_t j = 0; j < r; ++j) {
    ba[j] = a[i + j];
    bb[j] = b[i + j];
    by[j] = y[i + j];
  }
  hn::Store(f(d, hn::Load(d, ba), hn::Load(d, bb), hn::Load(d, by)), d, by);
  for (size_t j = 0; j < r; ++j) y[i + j] = by[j];
}

// Fold f(d, acc, x[i]) over x with one accumulator per lane; the tail is folded
// by the scalar g(acc_scalar, x[i]) after the lanes are combined by `lanes`.
template <class F, class L, class G>
HWY_INLINE float Fold(const float* x, size_t n, float init, F f, L lanes, G g) {
  const DF d;
  const size_t N = hn::Lanes(d);
  auto acc0 = hn::Set(d, init), acc1 = hn::Set(d, init);
  size_t i = 0;
  for (; i + 2 * N <= n; i += 2 * N) {
    acc0 = f(d, acc0, hn::LoadU(d, x + i));
    acc1 = f(d, acc1, hn::LoadU(d, x + i + N));
  }
  for (; i + N <= n; i += N) acc0 = f(d, acc0, hn::LoadU(d, x + i));
  float s = hn::GetLane(lanes(d, f(d, acc0, acc1)));
  for (; i < n; ++i) s = g(s, x[i]);
  return s;
}

}  // namespace HWY_NAMESPACE
}  // namespace loom
HWY_AFTER_NAMESPACE();

#endif  // toggle guard
