// optim.cc - fused optimiser updates: one pass over weights, gradients and slots.
#include <math.h>
#include <string.h>

#include "simd/optim.h"
#include "simd/parallel.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "simd/optim.cc"
#include "hwy/foreach_target.h"  // must come before highway.h
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace loom {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using DO = hn::ScalableTag<float>;

// Runs step(d, w, g, a, b) on whole vectors, then on the tail through zero-padded
// buffers (so no load or store passes the end). a and b are slots, possibly null.
template <class Step>
HWY_INLINE void Update(float* w, const float* g, float* a, float* b, size_t n, Step step) {
  const DO d;
  const size_t N = hn::Lanes(d);
  size_t i = 0;
  for (; i + N <= n; i += N) step(d, w + i, g + i, a ? a + i : nullptr, b ? b + i : nullptr);
  if (i == n) return;
  HWY_ALIGN float bw[HWY_MAX_BYTES / sizeof(float)] = {0}, bg[HWY_MAX_BYTES / sizeof(float)] = {0};
  HWY_ALIGN float ba[HWY_MAX_BYTES / sizeof(float)] = {0}, bb[HWY_MAX_BYTES / sizeof(float)] = {0};
  const size_t r = n - i;
  memcpy(bw, w + i, r * sizeof(float));
  memcpy(bg, g + i, r * sizeof(float));
  if (a) memcpy(ba, a + i, r * sizeof(float));
  if (b) memcpy(bb, b + i, r * sizeof(float));
  step(d, bw, bg, a ? ba : nullptr, b ? bb : nullptr);
  memcpy(w + i, bw, r * sizeof(float));
  if (a) memcpy(a + i, ba, r * sizeof(float));
  if (b) memcpy(b + i, bb, r * sizeof(float));
}

void SgdImpl(float* w, const float* g, float* v, size_t n, float lr, float mom, bool nesterov) {
  Update(w, g, mom == 0.0f ? nullptr : v, nullptr, n,
         [=](DO d, float* pw, const float* pg, float* pv, float*) HWY_ATTR {
           const auto vg = hn::LoadU(d, pg), vlr = hn::Set(d, lr);
           if (!pv) {
             hn::StoreU(hn::NegMulAdd(vlr, vg, hn::LoadU(d, pw)), d, pw);
             return;
           }
           const auto vm = hn::Set(d, mom);
           const auto vv = hn::NegMulAdd(vlr, vg, hn::Mul(vm, hn::LoadU(d, pv)));
           hn::StoreU(vv, d, pv);
           const auto step = nesterov ? hn::NegMulAdd(vlr, vg, hn::Mul(vm, vv)) : vv;
           hn::StoreU(hn::Add(hn::LoadU(d, pw), step), d, pw);
         });
}

void RmspropImpl(float* w, const float* g, float* ms, size_t n, float lr, float rho, float eps) {
  Update(w, g, ms, nullptr, n, [=](DO d, float* pw, const float* pg, float* pms, float*) HWY_ATTR {
    const auto vg = hn::LoadU(d, pg);
    const auto vms = hn::MulAdd(hn::Set(d, 1.0f - rho), hn::Mul(vg, vg),
                                hn::Mul(hn::Set(d, rho), hn::LoadU(d, pms)));
    hn::StoreU(vms, d, pms);
    const auto den = hn::Add(hn::Sqrt(vms), hn::Set(d, eps));
    hn::StoreU(hn::Sub(hn::LoadU(d, pw), hn::Div(hn::Mul(hn::Set(d, lr), vg), den)), d, pw);
  });
}

void AdamImpl(float* w, const float* g, float* m, float* v, size_t n, float lr_t, float b1,
              float b2, float eps) {
  Update(w, g, m, v, n, [=](DO d, float* pw, const float* pg, float* pm, float* pv) HWY_ATTR {
    const auto vg = hn::LoadU(d, pg);
    const auto vm = hn::MulAdd(hn::Set(d, 1.0f - b1), vg, hn::Mul(hn::Set(d, b1), hn::LoadU(d, pm)));
    const auto vv = hn::MulAdd(hn::Set(d, 1.0f - b2), hn::Mul(vg, vg),
                               hn::Mul(hn::Set(d, b2), hn::LoadU(d, pv)));
    hn::StoreU(vm, d, pm);
    hn::StoreU(vv, d, pv);
    const auto den = hn::Add(hn::Sqrt(vv), hn::Set(d, eps));
    hn::StoreU(hn::Sub(hn::LoadU(d, pw), hn::Div(hn::Mul(hn::Set(d, lr_t), vm), den)), d, pw);
  });
}

}  // namespace HWY_NAMESPACE
}  // namespace loom
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "simd/dispatch.h"
namespace loom {
HWY_EXPORT(SgdImpl);
HWY_EXPORT(RmspropImpl);
HWY_EXPORT(AdamImpl);
}  // namespace loom

using namespace loom;  // HWY_DYNAMIC_DISPATCH needs the unqualified name

extern "C" {

void lm_k_sgd(float* w, const float* g, float* v, size_t n, float lr, float momentum, bool nesterov) {
  lm_simd_init();
  auto f = LM_DISPATCH(SgdImpl);
  ParallelChunks(n, kChunk, 2, [&](size_t o, size_t m) {
    f(w + o, g + o, v ? v + o : nullptr, m, lr, momentum, nesterov);
  });
}

void lm_k_rmsprop(float* w, const float* g, float* ms, size_t n, float lr, float rho, float eps) {
  lm_simd_init();
  auto f = LM_DISPATCH(RmspropImpl);
  ParallelChunks(n, kChunk, 4, [&](size_t o, size_t m) { f(w + o, g + o, ms + o, m, lr, rho, eps); });
}

void lm_k_adam(float* w, const float* g, float* m, float* v, size_t n, float lr, float b1,
               float b2, float eps, long t) {
  lm_simd_init();
  auto f = LM_DISPATCH(AdamImpl);
  const float lr_t = (float)(lr * sqrt(1.0 - pow(b2, (double)t)) / (1.0 - pow(b1, (double)t)));
  ParallelChunks(n, kChunk, 4, [&](size_t o, size_t k) {
    f(w + o, g + o, m + o, v + o, k, lr_t, b1, b2, eps);
  });
}

}  // extern "C"
#endif  // HWY_ONCE
