// gru.cc - the fused GRU step kernels (Keras' gates z, r, hh with sigmoid and tanh) and
// their gradients, each one pass over a step's rows for the whole batch: one dispatch a
// step instead of one per sample and operation.
#include <string.h>

#include "simd/parallel.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "simd/gru.cc"
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

#define LM_GRU_TAIL (HWY_MAX_BYTES / sizeof(float))

// One array of a step: row b at p + b ld, `blocks` blocks of u floats; `out`: written;
// pf: the row pf floats away is prefetched (a hint, never read): the caller keeps each
// sample's steps side by side, so +width is the next step's row (the forward kernels)
// and -width the previous step's (the gradient kernels walking back).
struct RowArr {
  float* p;
  size_t ld;
  int blocks;
  bool out;
  ptrdiff_t pf = 0;
};

// at(d, rows, u, j) on lanes [j, j + N) of every sample's rows; a tail of r < N units
// runs on zero-padded copies of the rows (block q at q N), the outputs copied back.
template <int K, class F>
HWY_INLINE void ForRows(size_t batch, size_t u, const RowArr (&arr)[K], F at) {
  const DG d;
  const size_t N = hn::Lanes(d);
  float* rows[K];
  for (size_t b = 0; b < batch; ++b) {
    for (int k = 0; k < K; ++k) {
      rows[k] = arr[k].p ? arr[k].p + b * arr[k].ld : nullptr;
      if (rows[k] && arr[k].pf)
        for (size_t q = 0; q < (size_t)arr[k].blocks * u; q += 64 / sizeof(float)) hwy::Prefetch(rows[k] + arr[k].pf + q);
    }
    size_t j = 0;
    for (; j + N <= u; j += N) at(d, rows, u, j);
    if (j == u) continue;
    const size_t r = u - j;
    HWY_ALIGN float tmp[K][3 * LM_GRU_TAIL];
    float* trow[K];
    for (int k = 0; k < K; ++k) {
      trow[k] = rows[k] ? tmp[k] : nullptr;
      if (!rows[k]) continue;
      memset(tmp[k], 0, (size_t)arr[k].blocks * N * sizeof(float));
      for (int q = 0; q < arr[k].blocks; ++q) memcpy(tmp[k] + q * N, rows[k] + q * u + j, r * sizeof(float));
    }
    at(d, trow, N, 0);
    for (int k = 0; k < K; ++k)
      if (rows[k] && arr[k].out)
        for (int q = 0; q < arr[k].blocks; ++q) memcpy(rows[k] + q * u + j, tmp[k] + q * N, r * sizeof(float));
  }
}

void GruGatesImpl(size_t batch, size_t u, bool reset_after, float* a, size_t lda, const float* rec,
                  size_t ldrec, const float* hp, size_t ldhp, float* rh, size_t ldrh) {
  const ptrdiff_t next = (ptrdiff_t)(3 * u);
  const RowArr arr[4] = {{a, lda, 3, true, next},
                         {const_cast<float*>(rec), ldrec, 3, false},
                         {reset_after ? nullptr : const_cast<float*>(hp), ldhp, 1, false},
                         {rh, ldrh, 1, true}};
  ForRows(batch, u, arr, [reset_after](DG d, float* const* p, size_t w, size_t j) {
    float *ra = p[0], *rr = p[1];
    const auto z = FastSigmoid(d, hn::Add(hn::LoadU(d, ra + j), hn::LoadU(d, rr + j)));
    const auto r = FastSigmoid(d, hn::Add(hn::LoadU(d, ra + w + j), hn::LoadU(d, rr + w + j)));
    hn::StoreU(z, d, ra + j);
    hn::StoreU(r, d, ra + w + j);
    if (reset_after) {  // hh's pre-activation += r (h U_h + b'_h), kept for backward
      const auto uh = hn::LoadU(d, rr + 2 * w + j);
      hn::StoreU(uh, d, p[3] + j);
      hn::StoreU(hn::MulAdd(r, uh, hn::LoadU(d, ra + 2 * w + j)), d, ra + 2 * w + j);
    } else {
      hn::StoreU(hn::Mul(r, hn::LoadU(d, p[2] + j)), d, p[3] + j);
    }
  });
}

void GruUpdateImpl(size_t batch, size_t u, float* a, size_t lda, const float* hp, size_t ldhp, float* hn_,
                   size_t ldhn) {
  const RowArr arr[3] = {{a, lda, 3, true}, {const_cast<float*>(hp), ldhp, 1, false}, {hn_, ldhn, 1, true}};
  ForRows(batch, u, arr, [](DG d, float* const* p, size_t w, size_t j) {
    const auto hh = FastTanh(d, hn::LoadU(d, p[0] + 2 * w + j)), z = hn::LoadU(d, p[0] + j);
    hn::StoreU(hh, d, p[0] + 2 * w + j);
    hn::StoreU(hn::MulAdd(z, hn::Sub(hn::LoadU(d, p[1] + j), hh), hh), d, p[2] + j);
  });
}

// reset_after's gates and update in one pass over the rows: z, r, hh = tanh(a_h + r rh)
// and h_now, the same arithmetic as GruGatesImpl then GruUpdateImpl.
void GruStepImpl(size_t batch, size_t u, float* a, size_t lda, const float* rec, size_t ldrec, const float* hp,
                 size_t ldhp, float* rh, size_t ldrh, float* h_now, size_t ldhn) {
  const RowArr arr[5] = {{a, lda, 3, true, (ptrdiff_t)(3 * u)},
                         {const_cast<float*>(rec), ldrec, 3, false},
                         {const_cast<float*>(hp), ldhp, 1, false},
                         {rh, ldrh, 1, true},
                         {h_now, ldhn, 1, true}};
  ForRows(batch, u, arr, [](DG d, float* const* p, size_t w, size_t j) {
    float *ra = p[0], *rr = p[1];
    const auto z = FastSigmoid(d, hn::Add(hn::LoadU(d, ra + j), hn::LoadU(d, rr + j)));
    const auto r = FastSigmoid(d, hn::Add(hn::LoadU(d, ra + w + j), hn::LoadU(d, rr + w + j)));
    const auto uh = hn::LoadU(d, rr + 2 * w + j);
    const auto hh = FastTanh(d, hn::MulAdd(r, uh, hn::LoadU(d, ra + 2 * w + j)));
    hn::StoreU(z, d, ra + j);
    hn::StoreU(r, d, ra + w + j);
    hn::StoreU(hh, d, ra + 2 * w + j);
    hn::StoreU(uh, d, p[3] + j);
    hn::StoreU(hn::MulAdd(z, hn::Sub(hn::LoadU(d, p[2] + j), hh), hh), d, p[4] + j);
  });
}

void GruUpdateGradImpl(size_t batch, size_t u, const float* a, size_t lda, const float* hp, size_t ldhp,
                       const float* dh, float* dz, size_t lddz, float* dhn) {
  const ptrdiff_t back = -(ptrdiff_t)(3 * u);
  const RowArr arr[5] = {{const_cast<float*>(a), lda, 3, false, back},
                         {const_cast<float*>(hp), ldhp, 1, false, -(ptrdiff_t)u},
                         {const_cast<float*>(dh), u, 1, false},
                         {dz, lddz, 3, true, back},
                         {dhn, u, 1, true}};
  ForRows(batch, u, arr, [](DG d, float* const* p, size_t w, size_t j) {
    const auto one = hn::Set(d, 1.0f);
    const auto z = hn::LoadU(d, p[0] + j), hh = hn::LoadU(d, p[0] + 2 * w + j), vdh = hn::LoadU(d, p[2] + j);
    // d pre_hh = dh (1 - z)(1 - hh^2); d pre_z = dh (h_prev - hh) z (1 - z); dh_prev = dh z
    hn::StoreU(hn::Mul(hn::Mul(vdh, hn::Sub(one, z)), hn::NegMulAdd(hh, hh, one)), d, p[3] + 2 * w + j);
    hn::StoreU(hn::Mul(hn::Mul(vdh, hn::Sub(hn::LoadU(d, p[1] + j), hh)), hn::Mul(z, hn::Sub(one, z))), d,
               p[3] + j);
    hn::StoreU(hn::Mul(vdh, z), d, p[4] + j);
  });
}

void GruResetAfterGradImpl(size_t batch, size_t u, const float* a, size_t lda, const float* rh, size_t ldrh,
                           float* dz, size_t lddz, float* drec, size_t lddrec) {
  const RowArr arr[4] = {{const_cast<float*>(a), lda, 3, false},
                         {const_cast<float*>(rh), ldrh, 1, false, -(ptrdiff_t)u},
                         {dz, lddz, 3, true},
                         {drec, lddrec, 3, true, -(ptrdiff_t)(3 * u)}};
  ForRows(batch, u, arr, [](DG d, float* const* p, size_t w, size_t j) {
    const auto one = hn::Set(d, 1.0f);
    const auto r = hn::LoadU(d, p[0] + w + j), g = hn::LoadU(d, p[2] + 2 * w + j);
    const auto dr = hn::Mul(hn::Mul(g, hn::LoadU(d, p[1] + j)), hn::Mul(r, hn::Sub(one, r)));
    hn::StoreU(dr, d, p[2] + w + j);
    hn::StoreU(hn::LoadU(d, p[2] + j), d, p[3] + j);
    hn::StoreU(dr, d, p[3] + w + j);
    hn::StoreU(hn::Mul(g, r), d, p[3] + 2 * w + j);
  });
}

void GruResetGradImpl(size_t batch, size_t u, const float* a, size_t lda, const float* hp, size_t ldhp,
                      const float* drh, const float* drop, size_t lddrop, float* dz, size_t lddz, float* dhn) {
  const RowArr arr[6] = {{const_cast<float*>(a), lda, 3, false},
                         {const_cast<float*>(hp), ldhp, 1, false},
                         {const_cast<float*>(drh), u, 1, false},
                         {const_cast<float*>(drop), lddrop, 1, false},
                         {dz, lddz, 3, true},
                         {dhn, u, 1, true}};
  ForRows(batch, u, arr, [](DG d, float* const* p, size_t w, size_t j) {
    const auto one = hn::Set(d, 1.0f);
    const auto r = hn::LoadU(d, p[0] + w + j), g = hn::LoadU(d, p[2] + j);
    hn::StoreU(hn::Mul(hn::Mul(g, hn::LoadU(d, p[1] + j)), hn::Mul(r, hn::Sub(one, r))), d, p[4] + w + j);
    auto back = hn::Mul(g, r);
    if (p[3]) back = hn::Mul(back, hn::LoadU(d, p[3] + j));
    hn::StoreU(hn::Add(hn::LoadU(d, p[5] + j), back), d, p[5] + j);
  });
}

}  // namespace HWY_NAMESPACE
}  // namespace loom
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "simd/dispatch.h"
namespace loom {
HWY_EXPORT(GruGatesImpl);
HWY_EXPORT(GruUpdateImpl);
HWY_EXPORT(GruStepImpl);
HWY_EXPORT(GruUpdateGradImpl);
HWY_EXPORT(GruResetAfterGradImpl);
HWY_EXPORT(GruResetGradImpl);
}  // namespace loom

using namespace loom;  // HWY_DYNAMIC_DISPATCH needs the unqualified name

extern "C" {
void lm_k_gru_gates(size_t batch, size_t u, bool reset_after, float* a, size_t lda, const float* rec, size_t ldrec,
                    const float* hp, size_t ldhp, float* rh, size_t ldrh) {
  lm_simd_init();
  LM_DISPATCH(GruGatesImpl)(batch, u, reset_after, a, lda, rec, ldrec, hp, ldhp, rh, ldrh);
}
void lm_k_gru_update(size_t batch, size_t u, float* a, size_t lda, const float* hp, size_t ldhp, float* h_now,
                     size_t ldhn) {
  lm_simd_init();
  LM_DISPATCH(GruUpdateImpl)(batch, u, a, lda, hp, ldhp, h_now, ldhn);
}
void lm_k_gru_step(size_t batch, size_t u, float* a, size_t lda, const float* rec, size_t ldrec, const float* hp,
                   size_t ldhp, float* rh, size_t ldrh, float* h_now, size_t ldhn) {
  lm_simd_init();
  LM_DISPATCH(GruStepImpl)(batch, u, a, lda, rec, ldrec, hp, ldhp, rh, ldrh, h_now, ldhn);
}
void lm_k_gru_update_grad(size_t batch, size_t u, const float* a, size_t lda, const float* hp, size_t ldhp,
                          const float* dh, float* dz, size_t lddz, float* dh_prev) {
  lm_simd_init();
  LM_DISPATCH(GruUpdateGradImpl)(batch, u, a, lda, hp, ldhp, dh, dz, lddz, dh_prev);
}
void lm_k_gru_reset_after_grad(size_t batch, size_t u, const float* a, size_t lda, const float* rh, size_t ldrh,
                               float* dz, size_t lddz, float* drec, size_t lddrec) {
  lm_simd_init();
  LM_DISPATCH(GruResetAfterGradImpl)(batch, u, a, lda, rh, ldrh, dz, lddz, drec, lddrec);
}
void lm_k_gru_reset_grad(size_t batch, size_t u, const float* a, size_t lda, const float* hp, size_t ldhp,
                         const float* drh, const float* drop, size_t lddrop, float* dz, size_t lddz, float* dh_prev) {
  lm_simd_init();
  LM_DISPATCH(GruResetGradImpl)(batch, u, a, lda, hp, ldhp, drh, drop, lddrop, dz, lddz, dh_prev);
}
}  // extern "C"
#endif  // HWY_ONCE
