// elementwise.cc - elementwise kernels: arithmetic, activations and their gradients.
#include "simd/parallel.h"

#include <cmath>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "simd/elementwise.cc"
#include "hwy/foreach_target.h"  // must come before highway.h
#include "hwy/highway.h"
#include "hwy/contrib/math/math-inl.h"
#include "simd/fastmath-inl.h"
#include "simd/map-inl.h"

HWY_BEFORE_NAMESPACE();
namespace loom {
namespace HWY_NAMESPACE {

void AddImpl(const float* a, const float* b, float* y, size_t n) {
  Map3(a, b, y, n, [](DF, auto va, auto vb, auto) HWY_ATTR { return hn::Add(va, vb); });
}
void SubImpl(const float* a, const float* b, float* y, size_t n) {
  Map3(a, b, y, n, [](DF, auto va, auto vb, auto) HWY_ATTR { return hn::Sub(va, vb); });
}
void MulImpl(const float* a, const float* b, float* y, size_t n) {
  Map3(a, b, y, n, [](DF, auto va, auto vb, auto) HWY_ATTR { return hn::Mul(va, vb); });
}
void MulAccImpl(const float* a, const float* b, float* y, size_t n) {
  Map3(a, b, y, n, [](DF, auto va, auto vb, auto vy) HWY_ATTR { return hn::MulAdd(va, vb, vy); });
}
void AxpyImpl(float alpha, const float* x, float* y, size_t n) {
  Map3(x, x, y, n, [alpha](DF d, auto vx, auto, auto vy) HWY_ATTR {
    return hn::MulAdd(hn::Set(d, alpha), vx, vy);
  });
}
void ScaleImpl(float alpha, const float* x, float* y, size_t n) {
  Map1(x, y, n, [alpha](DF d, auto v) HWY_ATTR { return hn::Mul(hn::Set(d, alpha), v); });
}
void AddScalarImpl(float c, const float* x, float* y, size_t n) {
  Map1(x, y, n, [c](DF d, auto v) HWY_ATTR { return hn::Add(v, hn::Set(d, c)); });
}
void FillImpl(float c, float* y, size_t n) {
  const DF d;
  const size_t N = hn::Lanes(d);
  const auto vc = hn::Set(d, c);
  size_t i = 0;
  for (; i + N <= n; i += N) hn::StoreU(vc, d, y + i);
  for (; i < n; ++i) y[i] = c;
}

void ReluImpl(const float* x, float* y, size_t n) {
  Map1(x, y, n, [](DF d, auto v) HWY_ATTR { return hn::Max(v, hn::Zero(d)); });
}
// sigmoid and tanh: simd/fastmath-inl.h, shared with the layers' kernels.
void SigmoidImpl(const float* x, float* y, size_t n) {
  Map1(x, y, n, [](DF d, auto v) HWY_ATTR { return FastSigmoid(d, v); });
}
void TanhImpl(const float* x, float* y, size_t n) {
  Map1(x, y, n, [](DF d, auto v) HWY_ATTR { return FastTanh(d, v); });
}
void ExpImpl(const float* x, float* y, size_t n) {
  Map1(x, y, n, [](DF d, auto v) HWY_ATTR { return hn::Exp(d, v); });
}
void LogImpl(const float* x, float* y, size_t n) {
  Map1(x, y, n, [](DF d, auto v) HWY_ATTR { return hn::Log(d, v); });
}

void ReluGradImpl(const float* x, const float* dy, float* dx, size_t n) {
  Map3(x, dy, dx, n, [](DF d, auto vx, auto vdy, auto vdx) HWY_ATTR {
    return hn::Add(vdx, hn::IfThenElseZero(hn::Gt(vx, hn::Zero(d)), vdy));
  });
}
void SigmoidGradImpl(const float* y, const float* dy, float* dx, size_t n) {
  Map3(y, dy, dx, n, [](DF d, auto vy, auto vdy, auto vdx) HWY_ATTR {
    return hn::MulAdd(hn::Mul(vdy, vy), hn::Sub(hn::Set(d, 1.0f), vy), vdx);
  });
}
void TanhGradImpl(const float* y, const float* dy, float* dx, size_t n) {
  Map3(y, dy, dx, n, [](DF d, auto vy, auto vdy, auto vdx) HWY_ATTR {
    return hn::MulAdd(vdy, hn::NegMulAdd(vy, vy, hn::Set(d, 1.0f)), vdx);
  });
}

// y = init + sum over t of xs[t] * ks[t]: the taps of one depthwise-convolution pixel
// summed in registers, y written once (init may be y itself, or NULL for zero).
void TapsImpl(const float* const* xs, const float* const* ks, size_t taps, const float* init, float* y,
              size_t n) {
  const DF d;
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  for (; i + N <= n; i += N) {
    auto acc = init ? hn::LoadU(d, init + i) : hn::Zero(d);
    for (size_t t = 0; t < taps; ++t) acc = hn::MulAdd(hn::LoadU(d, xs[t] + i), hn::LoadU(d, ks[t] + i), acc);
    hn::StoreU(acc, d, y + i);
  }
  for (; i < n; ++i) {  // scalar tail, the taps in the same order
    float acc = init ? init[i] : 0.0f;
    for (size_t t = 0; t < taps; ++t) acc = std::fma(xs[t][i], ks[t][i], acc);
    y[i] = acc;
  }
}

// Max pooling's step: where x[i] > best[i], best[i] = x[i] and where[i] = base + i.
void MaxUpdateImpl(const float* x, float* best, int32_t* where, int32_t base, size_t n) {
  const DF d;
  const hn::RebindToSigned<DF> di;
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  for (; i + N <= n; i += N) {
    const auto v = hn::LoadU(d, x + i), b = hn::LoadU(d, best + i);
    const auto gt = hn::Gt(v, b);
    hn::StoreU(hn::IfThenElse(gt, v, b), d, best + i);
    const auto idx = hn::Add(hn::Set(di, base + (int32_t)i), hn::Iota(di, 0));
    hn::StoreU(hn::IfThenElse(hn::RebindMask(di, gt), idx, hn::LoadU(di, where + i)), di, where + i);
  }
  for (; i < n; ++i)
    if (x[i] > best[i]) best[i] = x[i], where[i] = base + (int32_t)i;
}

}  // namespace HWY_NAMESPACE
}  // namespace loom
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "simd/dispatch.h"
namespace loom {
HWY_EXPORT(AddImpl);
HWY_EXPORT(SubImpl);
HWY_EXPORT(MulImpl);
HWY_EXPORT(MulAccImpl);
HWY_EXPORT(AxpyImpl);
HWY_EXPORT(ScaleImpl);
HWY_EXPORT(AddScalarImpl);
HWY_EXPORT(FillImpl);
HWY_EXPORT(ReluImpl);
HWY_EXPORT(SigmoidImpl);
HWY_EXPORT(TanhImpl);
HWY_EXPORT(ExpImpl);
HWY_EXPORT(LogImpl);
HWY_EXPORT(ReluGradImpl);
HWY_EXPORT(SigmoidGradImpl);
HWY_EXPORT(TanhGradImpl);
HWY_EXPORT(TapsImpl);
HWY_EXPORT(MaxUpdateImpl);
}  // namespace loom

using namespace loom;  // HWY_DYNAMIC_DISPATCH needs the unqualified name

// Relative cost per element, so cheap maps only thread on big arrays.
#define LM_COST_ARITH 1
#define LM_COST_MATH 8

// One wrapper shape for every kernel: make sure the target is chosen, resolve the
// dispatched function once, and run it over chunks. PARAMS is the C signature, CHUNK
// the call on the chunk [o, o + m).
#define LM_DEF(name, Impl, cost, PARAMS, CHUNK)                                       \
  void name PARAMS {                                                                  \
    lm_simd_init();                                                                   \
    auto f = LM_DISPATCH(Impl);                                              \
    ParallelChunks(n, kChunk, cost, [&](size_t o, size_t m) { f CHUNK; });            \
  }
#define LM_MAP1 (const float* x, float* y, size_t n), (x + o, y + o, m)
#define LM_MAP3 (const float* a, const float* b, float* y, size_t n), (a + o, b + o, y + o, m)
#define LM_SCALAR (float c, const float* x, float* y, size_t n), (c, x + o, y + o, m)
#define LM_EXPAND(x) x
#define LM_DEF_(...) LM_EXPAND(LM_DEF(__VA_ARGS__))

extern "C" {
LM_DEF_(lm_k_add, AddImpl, LM_COST_ARITH, LM_MAP3)
LM_DEF_(lm_k_sub, SubImpl, LM_COST_ARITH, LM_MAP3)
LM_DEF_(lm_k_mul, MulImpl, LM_COST_ARITH, LM_MAP3)
LM_DEF_(lm_k_mul_acc, MulAccImpl, LM_COST_ARITH, LM_MAP3)
LM_DEF_(lm_k_relu_grad, ReluGradImpl, LM_COST_ARITH, LM_MAP3)
LM_DEF_(lm_k_sigmoid_grad, SigmoidGradImpl, LM_COST_ARITH, LM_MAP3)
LM_DEF_(lm_k_tanh_grad, TanhGradImpl, LM_COST_ARITH, LM_MAP3)
LM_DEF_(lm_k_relu, ReluImpl, LM_COST_ARITH, LM_MAP1)
LM_DEF_(lm_k_sigmoid, SigmoidImpl, LM_COST_MATH, LM_MAP1)
LM_DEF_(lm_k_tanh, TanhImpl, LM_COST_MATH, LM_MAP1)
LM_DEF_(lm_k_exp, ExpImpl, LM_COST_MATH, LM_MAP1)
LM_DEF_(lm_k_log, LogImpl, LM_COST_MATH, LM_MAP1)
LM_DEF_(lm_k_axpy, AxpyImpl, LM_COST_ARITH, LM_SCALAR)
LM_DEF_(lm_k_scale, ScaleImpl, LM_COST_ARITH, LM_SCALAR)
LM_DEF_(lm_k_add_scalar, AddScalarImpl, LM_COST_ARITH, LM_SCALAR)
LM_DEF_(lm_k_fill, FillImpl, LM_COST_ARITH, (float c, float* y, size_t n), (c, y + o, m))
// One pixel's taps: small (a few thousand floats), never threaded.
void lm_k_taps(const float* const* xs, const float* const* ks, size_t taps, const float* init, float* y,
               size_t n) {
  lm_simd_init();
  LM_DISPATCH(TapsImpl)(xs, ks, taps, init, y, n);
}
// One window position of max pooling over a pixel's channels: small, never threaded.
void lm_k_max_update(const float* x, float* best, int32_t* where, int32_t base, size_t n) {
  lm_simd_init();
  LM_DISPATCH(MaxUpdateImpl)(x, best, where, base, n);
}
}  // extern "C"
#endif  // HWY_ONCE
