// lstm.cc - the fused LSTM step kernels: gate activations and cell update, and their
// gradient, one pass over a sample's 4u pre-activations (Keras gate order i, f, c, o).
#include <string.h>

#include "simd/parallel.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "simd/lstm.cc"
#include "hwy/foreach_target.h"  // must come before highway.h
#include "hwy/highway.h"
#include "hwy/contrib/math/math-inl.h"
#include "simd/fastmath-inl.h"

HWY_BEFORE_NAMESPACE();
namespace loom {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using DL = hn::ScalableTag<float>;

// Lanes [j, j + N) of one step; the arrays are those of the whole row (u apart).
HWY_INLINE void CellAt(DL d, float* g, const float* cp, float* cn, float* hn_, size_t u, size_t j) {
  const auto i = FastSigmoid(d, hn::LoadU(d, g + j)), f = FastSigmoid(d, hn::LoadU(d, g + u + j));
  const auto gg = FastTanh(d, hn::LoadU(d, g + 2 * u + j)), o = FastSigmoid(d, hn::LoadU(d, g + 3 * u + j));
  hn::StoreU(i, d, g + j);
  hn::StoreU(f, d, g + u + j);
  hn::StoreU(gg, d, g + 2 * u + j);
  hn::StoreU(o, d, g + 3 * u + j);
  const auto c = hn::MulAdd(f, hn::LoadU(d, cp + j), hn::Mul(i, gg));
  hn::StoreU(c, d, cn + j);
  hn::StoreU(hn::Mul(o, FastTanh(d, c)), d, hn_ + j);
}

HWY_INLINE void GradAt(DL d, const float* g, const float* cp, const float* cn, const float* dh,
                       float* dc, float* dz, size_t u, size_t j) {
  const auto one = hn::Set(d, 1.0f);
  const auto i = hn::LoadU(d, g + j), f = hn::LoadU(d, g + u + j);
  const auto gg = hn::LoadU(d, g + 2 * u + j), o = hn::LoadU(d, g + 3 * u + j);
  const auto th = FastTanh(d, hn::LoadU(d, cn + j)), vdh = hn::LoadU(d, dh + j);
  const auto dcj = hn::MulAdd(hn::Mul(vdh, o), hn::NegMulAdd(th, th, one), hn::LoadU(d, dc + j));
  hn::StoreU(hn::Mul(hn::Mul(dcj, gg), hn::Mul(i, hn::Sub(one, i))), d, dz + j);
  hn::StoreU(hn::Mul(hn::Mul(dcj, hn::LoadU(d, cp + j)), hn::Mul(f, hn::Sub(one, f))), d, dz + u + j);
  hn::StoreU(hn::Mul(hn::Mul(dcj, i), hn::NegMulAdd(gg, gg, one)), d, dz + 2 * u + j);
  hn::StoreU(hn::Mul(hn::Mul(vdh, th), hn::Mul(o, hn::Sub(one, o))), d, dz + 3 * u + j);
  hn::StoreU(hn::Mul(dcj, f), d, dc + j);
}

// Whole vectors in place; a tail of r < N units goes through padded copies of the row.
#define LM_TAIL_FLOATS (HWY_MAX_BYTES / sizeof(float))

void LstmCellImpl(float* g, const float* cp, float* cn, float* h, size_t u) {
  const DL d;
  const size_t N = hn::Lanes(d);
  size_t j = 0;
  for (; j + N <= u; j += N) CellAt(d, g, cp, cn, h, u, j);
  if (j == u) return;
  const size_t r = u - j;
  HWY_ALIGN float tg[4 * LM_TAIL_FLOATS] = {0}, tc[LM_TAIL_FLOATS] = {0};
  HWY_ALIGN float tn[LM_TAIL_FLOATS], th[LM_TAIL_FLOATS];
  for (int q = 0; q < 4; ++q) memcpy(tg + q * N, g + q * u + j, r * sizeof(float));
  memcpy(tc, cp + j, r * sizeof(float));
  CellAt(d, tg, tc, tn, th, N, 0);
  for (int q = 0; q < 4; ++q) memcpy(g + q * u + j, tg + q * N, r * sizeof(float));
  memcpy(cn + j, tn, r * sizeof(float));
  memcpy(h + j, th, r * sizeof(float));
}

void LstmCellGradImpl(const float* g, const float* cp, const float* cn, const float* dh, float* dc,
                      float* dz, size_t u) {
  const DL d;
  const size_t N = hn::Lanes(d);
  size_t j = 0;
  for (; j + N <= u; j += N) GradAt(d, g, cp, cn, dh, dc, dz, u, j);
  if (j == u) return;
  const size_t r = u - j;
  HWY_ALIGN float tg[4 * LM_TAIL_FLOATS] = {0}, tz[4 * LM_TAIL_FLOATS];
  HWY_ALIGN float tp[LM_TAIL_FLOATS] = {0}, tn[LM_TAIL_FLOATS] = {0};
  HWY_ALIGN float th[LM_TAIL_FLOATS] = {0}, tc[LM_TAIL_FLOATS] = {0};
  for (int q = 0; q < 4; ++q) memcpy(tg + q * N, g + q * u + j, r * sizeof(float));
  memcpy(tp, cp + j, r * sizeof(float));
  memcpy(tn, cn + j, r * sizeof(float));
  memcpy(th, dh + j, r * sizeof(float));
  memcpy(tc, dc + j, r * sizeof(float));
  GradAt(d, tg, tp, tn, th, tc, tz, N, 0);
  for (int q = 0; q < 4; ++q) memcpy(dz + q * u + j, tz + q * N, r * sizeof(float));
  memcpy(dc + j, tc, r * sizeof(float));
}

}  // namespace HWY_NAMESPACE
}  // namespace loom
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "simd/dispatch.h"
namespace loom {
HWY_EXPORT(LstmCellImpl);
HWY_EXPORT(LstmCellGradImpl);
}  // namespace loom

using namespace loom;  // HWY_DYNAMIC_DISPATCH needs the unqualified name

extern "C" {
void lm_k_lstm_cell(float* gates, const float* c_prev, float* c_now, float* h_now, size_t u) {
  lm_simd_init();
  LM_DISPATCH(LstmCellImpl)(gates, c_prev, c_now, h_now, u);
}
void lm_k_lstm_cell_grad(const float* gates, const float* c_prev, const float* c_now,
                         const float* dh, float* dc, float* dz, size_t u) {
  lm_simd_init();
  LM_DISPATCH(LstmCellGradImpl)(gates, c_prev, c_now, dh, dc, dz, u);
}
}  // extern "C"
#endif  // HWY_ONCE
