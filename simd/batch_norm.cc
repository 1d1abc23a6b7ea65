// batch_norm.cc - batch normalisation over the last axis of a [rows, c] array, whole
// arrays at a time: per-channel sums (in float over blocks of LM_BN_ROWS rows, each
// block's partial then added into double in block order, so the result is the same for
// any thread count), the affine map with an optional ReLU, and the backward's sums and
// input gradient with the ReLU's mask (y > 0) applied to dy on the way.
#include "simd/parallel.h"

#include <cmath>
#include <cstring>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "simd/batch_norm.cc"
#include "hwy/foreach_target.h"  // must come before highway.h
#include "hwy/highway.h"
#include "simd/map-inl.h"

HWY_BEFORE_NAMESPACE();
namespace loom {
namespace HWY_NAMESPACE {

// part[j] = sum over the rows of x[i][j] (center NULL) or of (x[i][j] - center[j])^2.
void ColSumsImpl(const float* x, const float* center, size_t rows, size_t c, float* part) {
  const DF d;
  const size_t N = hn::Lanes(d);
  memset(part, 0, c * sizeof(float));
  for (size_t i = 0; i < rows; ++i) {
    const float* xr = x + i * c;
    size_t j = 0;
    if (center) {
      for (; j + N <= c; j += N) {
        const auto t = hn::Sub(hn::LoadU(d, xr + j), hn::LoadU(d, center + j));
        hn::StoreU(hn::MulAdd(t, t, hn::LoadU(d, part + j)), d, part + j);
      }
      for (; j < c; ++j) part[j] = std::fma(xr[j] - center[j], xr[j] - center[j], part[j]);
    } else {
      for (; j + N <= c; j += N) hn::StoreU(hn::Add(hn::LoadU(d, part + j), hn::LoadU(d, xr + j)), d, part + j);
      for (; j < c; ++j) part[j] += xr[j];
    }
  }
}

// p1[j] = sum of g[i][j], p2[j] = sum of g[i][j] x[i][j], g = dy masked by y > 0 when
// y is given.
void GradSumsImpl(const float* dy, const float* x, const float* y, size_t rows, size_t c, float* p1,
                  float* p2) {
  const DF d;
  const size_t N = hn::Lanes(d);
  memset(p1, 0, c * sizeof(float));
  memset(p2, 0, c * sizeof(float));
  for (size_t i = 0; i < rows; ++i) {
    const float *gr = dy + i * c, *xr = x + i * c, *yr = y ? y + i * c : nullptr;
    size_t j = 0;
    for (; j + N <= c; j += N) {
      auto g = hn::LoadU(d, gr + j);
      if (yr) g = hn::IfThenElseZero(hn::Gt(hn::LoadU(d, yr + j), hn::Zero(d)), g);
      hn::StoreU(hn::Add(hn::LoadU(d, p1 + j), g), d, p1 + j);
      hn::StoreU(hn::MulAdd(g, hn::LoadU(d, xr + j), hn::LoadU(d, p2 + j)), d, p2 + j);
    }
    for (; j < c; ++j) {
      const float g = yr && !(yr[j] > 0.0f) ? 0.0f : gr[j];
      p1[j] += g;
      p2[j] = std::fma(g, xr[j], p2[j]);
    }
  }
}

// y = scale x + shift per channel, then max(0, .) when relu.
void ApplyImpl(const float* x, const float* scale, const float* shift, float* y, size_t rows, size_t c,
               bool relu) {
  const DF d;
  const size_t N = hn::Lanes(d);
  for (size_t i = 0; i < rows; ++i) {
    const float* xr = x + i * c;
    float* yr = y + i * c;
    size_t j = 0;
    for (; j + N <= c; j += N) {
      auto v = hn::MulAdd(hn::LoadU(d, scale + j), hn::LoadU(d, xr + j), hn::LoadU(d, shift + j));
      if (relu) v = hn::Max(v, hn::Zero(d));
      hn::StoreU(v, d, yr + j);
    }
    for (; j < c; ++j) {
      const float v = std::fma(scale[j], xr[j], shift[j]);
      yr[j] = relu && !(v > 0.0f) ? 0.0f : v;
    }
  }
}

// gx (+)= p g + q x + u per channel (q and u NULL: p g), g as in GradSumsImpl; without
// accumulate gx is written, not read.
void GradInputImpl(const float* dy, const float* x, const float* y, const float* p, const float* q,
                   const float* u, bool accumulate, float* gx, size_t rows, size_t c) {
  const DF d;
  const size_t N = hn::Lanes(d);
  for (size_t i = 0; i < rows; ++i) {
    const float *gr = dy + i * c, *xr = x + i * c, *yr = y ? y + i * c : nullptr;
    float* out = gx + i * c;
    size_t j = 0;
    for (; j + N <= c; j += N) {
      auto g = hn::LoadU(d, gr + j);
      if (yr) g = hn::IfThenElseZero(hn::Gt(hn::LoadU(d, yr + j), hn::Zero(d)), g);
      auto acc = accumulate ? hn::MulAdd(hn::LoadU(d, p + j), g, hn::LoadU(d, out + j)) : hn::Mul(hn::LoadU(d, p + j), g);
      if (q) acc = hn::Add(hn::MulAdd(hn::LoadU(d, q + j), hn::LoadU(d, xr + j), acc), hn::LoadU(d, u + j));
      hn::StoreU(acc, d, out + j);
    }
    for (; j < c; ++j) {
      const float g = yr && !(yr[j] > 0.0f) ? 0.0f : gr[j];
      float acc = accumulate ? std::fma(p[j], g, out[j]) : p[j] * g;
      if (q) acc = std::fma(q[j], xr[j], acc) + u[j];
      out[j] = acc;
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace loom
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "simd/dispatch.h"
namespace loom {
HWY_EXPORT(ColSumsImpl);
HWY_EXPORT(GradSumsImpl);
HWY_EXPORT(ApplyImpl);
HWY_EXPORT(GradInputImpl);

// Blocks of LM_BN_ROWS rows per parallel chunk: about kChunk elements.
static size_t BlocksPerChunk(size_t c) {
  const size_t per = kChunk / (LM_BN_ROWS * (c ? c : 1));
  return per ? per : 1;
}
static size_t RowsPerChunk(size_t c) {
  const size_t per = kChunk / (c ? c : 1);
  return per ? per : 1;
}
static size_t RowsOf(size_t block, size_t rows) {
  const size_t r0 = block * LM_BN_ROWS;
  return rows - r0 < LM_BN_ROWS ? rows - r0 : LM_BN_ROWS;
}
}  // namespace loom

using namespace loom;  // HWY_DYNAMIC_DISPATCH needs the unqualified name

extern "C" {
size_t lm_k_bn_parts(size_t rows, size_t c) { return (rows + LM_BN_ROWS - 1) / LM_BN_ROWS * c; }

void lm_k_bn_col_sums(const float* x, const float* center, size_t rows, size_t c, float* parts, double* tot) {
  lm_simd_init();
  auto f = LM_DISPATCH(ColSumsImpl);
  const size_t nb = (rows + LM_BN_ROWS - 1) / LM_BN_ROWS;
  ParallelChunks(nb, BlocksPerChunk(c), LM_BN_ROWS * c, [&](size_t o, size_t m) {
    for (size_t b = o; b < o + m; ++b) f(x + b * LM_BN_ROWS * c, center, RowsOf(b, rows), c, parts + b * c);
  });
  for (size_t b = 0; b < nb; ++b)
    for (size_t j = 0; j < c; ++j) tot[j] += parts[b * c + j];
}

void lm_k_bn_grad_sums(const float* dy, const float* x, const float* y, size_t rows, size_t c, float* parts,
                       double* sum_dy, double* sum_dyx) {
  lm_simd_init();
  auto f = LM_DISPATCH(GradSumsImpl);
  const size_t nb = (rows + LM_BN_ROWS - 1) / LM_BN_ROWS;
  float* p2 = parts + nb * c;
  ParallelChunks(nb, BlocksPerChunk(c), 2 * LM_BN_ROWS * c, [&](size_t o, size_t m) {
    for (size_t b = o; b < o + m; ++b) {
      const size_t off = b * LM_BN_ROWS * c;
      f(dy + off, x + off, y ? y + off : nullptr, RowsOf(b, rows), c, parts + b * c, p2 + b * c);
    }
  });
  for (size_t b = 0; b < nb; ++b)
    for (size_t j = 0; j < c; ++j) sum_dy[j] += parts[b * c + j], sum_dyx[j] += p2[b * c + j];
}

void lm_k_bn_apply(const float* x, const float* scale, const float* shift, float* y, size_t rows, size_t c,
                   bool relu) {
  lm_simd_init();
  auto f = LM_DISPATCH(ApplyImpl);
  ParallelChunks(rows, RowsPerChunk(c), c, [&](size_t o, size_t m) {
    f(x + o * c, scale, shift, y + o * c, m, c, relu);
  });
}

void lm_k_bn_grad_input(const float* dy, const float* x, const float* y, const float* p, const float* q,
                        const float* u, bool accumulate, float* gx, size_t rows, size_t c) {
  lm_simd_init();
  auto f = LM_DISPATCH(GradInputImpl);
  ParallelChunks(rows, RowsPerChunk(c), 2 * c, [&](size_t o, size_t m) {
    f(dy + o * c, x + o * c, y ? y + o * c : nullptr, p, q, u, accumulate, gx + o * c, m, c);
  });
}
}  // extern "C"
#endif  // HWY_ONCE
