// fastmath-inl.h - the sigmoid and tanh every loom kernel uses (internal), written once:
// the elementwise maps, the activation layers, the GEMM epilogue and the fused recurrent
// cells. Included by kernel files after hwy/highway.h, once per target (Highway's toggle
// guard).
//
// Highway's Exp keeps subnormal results (two 2^n scalings) and its Tanh goes through
// Expm1; neither is needed here. Exp below clamps its argument to [-87.3, 88.3], where
// 2^n is a normal float, and scales once: a sigmoid or tanh of a clamped argument is the
// true value to within 1e-38. Error (tests/simd/test_kernels.c, against double):
// sigmoid below 2e-7 relative, tanh below 2e-7 absolute and relative (an odd
// polynomial for |x| < 0.3, where (1 - e) / (1 + e) would cancel). NaN stays NaN.
#if defined(LOOM_SIMD_FASTMATH_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef LOOM_SIMD_FASTMATH_INL_H_
#undef LOOM_SIMD_FASTMATH_INL_H_
#else
#define LOOM_SIMD_FASTMATH_INL_H_
#endif

#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace loom {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// e^x for x clamped to [-87.3, 88.3]: x = n ln2 + r (ln2 in two parts), e^r by the
// degree-6 polynomial Highway's Exp uses, times 2^n built in the exponent bits.
template <class D, class V>
HWY_INLINE V ExpClamped(D d, V x) {
  const hn::RebindToSigned<D> di;
  x = hn::Max(hn::Set(d, -87.3f), hn::Min(hn::Set(d, 88.3f), x));
  const auto n = hn::Round(hn::Mul(x, hn::Set(d, 1.44269504088896341f)));
  auto r = hn::MulAdd(n, hn::Set(d, -0.693145751953125f), x);
  r = hn::MulAdd(n, hn::Set(d, -1.428606765330187045e-6f), r);
  auto p = hn::Set(d, 0.000198527617612853646278381f);
  p = hn::MulAdd(p, r, hn::Set(d, 0.00139304355252534151077271f));
  p = hn::MulAdd(p, r, hn::Set(d, 0.00833336077630519866943359f));
  p = hn::MulAdd(p, r, hn::Set(d, 0.0416664853692054748535156f));
  p = hn::MulAdd(p, r, hn::Set(d, 0.166666671633720397949219f));
  p = hn::MulAdd(p, r, hn::Set(d, 0.5f));
  p = hn::MulAdd(p, hn::Mul(r, r), hn::Add(r, hn::Set(d, 1.0f)));
  const auto e = hn::BitCast(d, hn::ShiftLeft<23>(hn::Add(hn::ConvertTo(di, n), hn::Set(di, 127))));
  return hn::Mul(p, e);
}

// NaN in, NaN out (the clamps' Min and Max need not keep it on every target).
template <class V>
HWY_INLINE V KeepNaN(V x, V y) {
  return hn::IfThenElse(hn::Eq(x, x), y, x);
}

template <class D, class V>
HWY_INLINE V FastSigmoid(D d, V x) {
  const auto one = hn::Set(d, 1.0f);
  return KeepNaN(x, hn::Div(one, hn::Add(one, ExpClamped(d, hn::Neg(x)))));
}

template <class D, class V>
HWY_INLINE V FastTanh(D d, V x) {
  const auto one = hn::Set(d, 1.0f), ax = hn::Abs(x);
  const auto e = ExpClamped(d, hn::Mul(hn::Set(d, -2.0f), ax));
  const auto big = hn::CopySign(hn::Div(hn::Sub(one, e), hn::Add(one, e)), x);
  // tanh x = x - x^3/3 + 2x^5/15 - 17x^7/315 + 62x^9/2835 - ...: below 2e-8 at |x| = 0.3
  const auto x2 = hn::Mul(x, x);
  auto p = hn::Set(d, 62.0f / 2835.0f);
  p = hn::MulAdd(p, x2, hn::Set(d, -17.0f / 315.0f));
  p = hn::MulAdd(p, x2, hn::Set(d, 2.0f / 15.0f));
  p = hn::MulAdd(p, x2, hn::Set(d, -1.0f / 3.0f));
  const auto small = hn::MulAdd(hn::Mul(p, x2), x, x);
  return KeepNaN(x, hn::IfThenElse(hn::Lt(ax, hn::Set(d, 0.3f)), small, big));
}

}  // namespace HWY_NAMESPACE
}  // namespace loom
HWY_AFTER_NAMESPACE();

#endif  // LOOM_SIMD_FASTMATH_INL_H_
