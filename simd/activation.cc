// activation.cc - the activation functions of lm_k_act (elu, selu, gelu, swish, softplus,
// softsign, hard_sigmoid, exponential, the general relu, ...) and their derivatives, one
// vector loop per function; the function is chosen once per call, outside the loop.
// Gradients are computed from x (the op keeps its input), dx += dy * f'(x).
#include "simd/parallel.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "simd/activation.cc"
#include "hwy/foreach_target.h"  // must come before highway.h
#include "hwy/highway.h"
#include "hwy/contrib/math/math-inl.h"
#include "simd/fastmath-inl.h"
#include "simd/map-inl.h"

HWY_BEFORE_NAMESPACE();
namespace loom {
namespace HWY_NAMESPACE {

constexpr float kSqrt2OverPi = 0.7978845608f, kGeluC = 0.044715f;
constexpr float kInvSqrt2 = 0.70710678118f, kInvSqrt2Pi = 0.39894228040f;

// The normal CDF Phi(x) = erfc(-x / sqrt 2) / 2, with erfc(z) for z >= 0 by Abramowitz and
// Stegun 7.1.26 (absolute error below 1.5e-7): no cancellation for large |x|.
template <class V>
HWY_INLINE V Phi(DF d, V x) {
  const auto z = hn::Mul(hn::Abs(x), hn::Set(d, kInvSqrt2));
  const auto one = hn::Set(d, 1.0f);
  const auto t = hn::Div(one, hn::MulAdd(hn::Set(d, 0.3275911f), z, one));
  auto poly = hn::Set(d, 1.061405429f);
  poly = hn::MulAdd(poly, t, hn::Set(d, -1.453152027f));
  poly = hn::MulAdd(poly, t, hn::Set(d, 1.421413741f));
  poly = hn::MulAdd(poly, t, hn::Set(d, -0.284496736f));
  poly = hn::MulAdd(poly, t, hn::Set(d, 0.254829592f));
  poly = hn::Mul(poly, t);
  // q = erfc(|x| / sqrt 2) / 2 = Phi(-|x|)
  const auto q = hn::Mul(hn::Mul(hn::Set(d, 0.5f), poly), hn::Exp(d, hn::Neg(hn::Mul(z, z))));
  return hn::IfThenElse(hn::Gt(x, hn::Zero(d)), hn::Sub(one, q), q);
}

template <class V>
HWY_INLINE V GeluTanhArg(DF d, V x) {
  const auto x3 = hn::Mul(hn::Mul(x, x), x);
  return hn::Mul(hn::Set(d, kSqrt2OverPi), hn::MulAdd(hn::Set(d, kGeluC), x3, x));
}

// f(x) for one vector.
template <class V>
HWY_INLINE V Value(DF d, lm_actfn f, const lm_act_param& p, V x) {
  const auto zero = hn::Zero(d), one = hn::Set(d, 1.0f), half = hn::Set(d, 0.5f);
  switch (f) {
    case LM_F_RELU: {
      const auto t = hn::Set(d, p.b);
      const auto neg = hn::Mul(hn::Set(d, p.a), hn::Sub(x, t));
      return hn::IfThenElse(hn::Gt(x, t), hn::Min(x, hn::Set(d, p.c)), neg);
    }
    case LM_F_ELU: {
      const auto neg = hn::Mul(hn::Set(d, p.a), hn::Expm1(d, hn::Min(x, zero)));
      return hn::Mul(hn::Set(d, p.b), hn::IfThenElse(hn::Gt(x, zero), x, neg));
    }
    case LM_F_GELU: return hn::Mul(x, Phi(d, x));
    case LM_F_GELU_TANH:
      return hn::Mul(hn::Mul(half, x), hn::Add(one, FastTanh(d, GeluTanhArg(d, x))));
    case LM_F_SWISH: return hn::Mul(x, FastSigmoid(d, x));
    case LM_F_SOFTPLUS:
      return hn::Add(hn::Max(x, zero), hn::Log1p(d, hn::Exp(d, hn::Neg(hn::Abs(x)))));
    case LM_F_SOFTSIGN: return hn::Div(x, hn::Add(one, hn::Abs(x)));
    case LM_F_HARD_SIGMOID:
      return hn::Min(hn::Max(hn::MulAdd(hn::Set(d, p.a), x, hn::Set(d, p.b)), zero), one);
    case LM_F_EXP: return hn::Exp(d, x);
    case LM_F_SIGMOID: return FastSigmoid(d, x);
    case LM_F_TANH: return FastTanh(d, x);
    default: return x;
  }
}

// f'(x) for one vector.
template <class V>
HWY_INLINE V Slope(DF d, lm_actfn f, const lm_act_param& p, V x) {
  const auto zero = hn::Zero(d), one = hn::Set(d, 1.0f), half = hn::Set(d, 0.5f);
  switch (f) {
    case LM_F_RELU: {
      const auto inside = hn::IfThenElseZero(hn::Lt(x, hn::Set(d, p.c)), one);
      return hn::IfThenElse(hn::Gt(x, hn::Set(d, p.b)), inside, hn::Set(d, p.a));
    }
    case LM_F_ELU: {
      const auto neg = hn::Mul(hn::Set(d, p.a), hn::Exp(d, hn::Min(x, zero)));
      return hn::Mul(hn::Set(d, p.b), hn::IfThenElse(hn::Gt(x, zero), one, neg));
    }
    case LM_F_GELU: {
      const auto pdf = hn::Mul(hn::Set(d, kInvSqrt2Pi), hn::Exp(d, hn::Mul(hn::Set(d, -0.5f), hn::Mul(x, x))));
      return hn::MulAdd(x, pdf, Phi(d, x));
    }
    case LM_F_GELU_TANH: {
      const auto t = FastTanh(d, GeluTanhArg(d, x));
      const auto du = hn::Mul(hn::Set(d, kSqrt2OverPi), hn::MulAdd(hn::Set(d, 3.0f * kGeluC), hn::Mul(x, x), one));
      const auto sech2 = hn::NegMulAdd(t, t, one);
      return hn::MulAdd(hn::Mul(hn::Mul(half, x), sech2), du, hn::Mul(half, hn::Add(one, t)));
    }
    case LM_F_SWISH: {
      const auto s = FastSigmoid(d, x);
      return hn::Mul(s, hn::MulAdd(x, hn::Sub(one, s), one));
    }
    case LM_F_SOFTPLUS: return FastSigmoid(d, x);
    case LM_F_SOFTSIGN: {
      const auto q = hn::Add(one, hn::Abs(x));
      return hn::Div(one, hn::Mul(q, q));
    }
    case LM_F_HARD_SIGMOID: {
      const auto z = hn::MulAdd(hn::Set(d, p.a), x, hn::Set(d, p.b));
      return hn::IfThenElseZero(hn::And(hn::Gt(z, zero), hn::Lt(z, one)), hn::Set(d, p.a));
    }
    case LM_F_EXP: return hn::Exp(d, x);
    case LM_F_SIGMOID: {
      const auto s = FastSigmoid(d, x);
      return hn::Mul(s, hn::Sub(one, s));
    }
    case LM_F_TANH: {
      const auto t = FastTanh(d, x);
      return hn::NegMulAdd(t, t, one);
    }
    default: return one;
  }
}

// One loop per function: the switch in Value/Slope folds away for a constant F.
template <int F>
HWY_NOINLINE void ActLoop(const lm_act_param& p, const float* x, float* y, size_t n) {
  Map1(x, y, n, [&p](DF d, auto v) HWY_ATTR { return Value(d, (lm_actfn)F, p, v); });
}
template <int F>
HWY_NOINLINE void ActGradLoop(const lm_act_param& p, const float* x, const float* dy, float* dx, size_t n) {
  Map3(x, dy, dx, n, [&p](DF d, auto vx, auto vdy, auto vdx) HWY_ATTR {
    return hn::MulAdd(vdy, Slope(d, (lm_actfn)F, p, vx), vdx);
  });
}

#define LM_ACT_CASES(X)                                                                  \
  X(LM_F_LINEAR) X(LM_F_RELU) X(LM_F_ELU) X(LM_F_GELU) X(LM_F_GELU_TANH) X(LM_F_SWISH)   \
  X(LM_F_SOFTPLUS) X(LM_F_SOFTSIGN) X(LM_F_HARD_SIGMOID) X(LM_F_EXP) X(LM_F_SIGMOID)     \
  X(LM_F_TANH)

void ActImpl(int f, const lm_act_param* p, const float* x, float* y, size_t n) {
  switch (f) {
#define LM_CASE_(F) case F: ActLoop<F>(*p, x, y, n); break;
    LM_ACT_CASES(LM_CASE_)
#undef LM_CASE_
    default: break;
  }
}
void ActGradImpl(int f, const lm_act_param* p, const float* x, const float* dy, float* dx, size_t n) {
  switch (f) {
#define LM_CASE_(F) case F: ActGradLoop<F>(*p, x, dy, dx, n); break;
    LM_ACT_CASES(LM_CASE_)
#undef LM_CASE_
    default: break;
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace loom
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "simd/dispatch.h"
namespace loom {
HWY_EXPORT(ActImpl);
HWY_EXPORT(ActGradImpl);
}  // namespace loom

using namespace loom;  // HWY_DYNAMIC_DISPATCH needs the unqualified name

static_assert(LM_F_COUNT == 12, "every lm_actfn has a case in LM_ACT_CASES");

extern "C" {
void lm_k_act(lm_actfn f, const lm_act_param* p, const float* x, float* y, size_t n) {
  lm_simd_init();
  auto k = LM_DISPATCH(ActImpl);
  ParallelChunks(n, kChunk, 8, [&](size_t o, size_t m) { k((int)f, p, x + o, y + o, m); });
}
void lm_k_act_grad(lm_actfn f, const lm_act_param* p, const float* x, const float* dy, float* dx, size_t n) {
  lm_simd_init();
  auto k = LM_DISPATCH(ActGradImpl);
  ParallelChunks(n, kChunk, 8, [&](size_t o, size_t m) { k((int)f, p, x + o, dy + o, dx + o, m); });
}
}  // extern "C"
#endif  // HWY_ONCE
