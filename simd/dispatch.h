// dispatch.h - loom's own choice of SIMD target (internal, C++): every kernel file calls
// its Highway kernels through LM_DISPATCH, which indexes the kernel's Highway dispatch
// table with loom's chosen target, not Highway's process-wide one. So forcing a target
// (LOOM_SIMD, loom_simd_force) changes loom alone, never another Highway user in the
// process. Include after hwy/highway.h, in the HWY_ONCE part.
#ifndef LOOM_SIMD_DISPATCH_H
#define LOOM_SIMD_DISPATCH_H

#include "hwy/highway.h"

namespace loom {
// The target loom's kernels run on: chosen once (the best the CPU runs, or LOOM_SIMD),
// changed only by loom_simd_force. Defined in dispatch.cc.
const hwy::ChosenTarget& Chosen();
}  // namespace loom

#if HWY_IDE || ((HWY_TARGETS & (HWY_TARGETS - 1)) == 0)
#define LM_DISPATCH(FUNC_NAME) HWY_STATIC_DISPATCH(FUNC_NAME)
#else
#define LM_DISPATCH(FUNC_NAME) (*(HWY_DISPATCH_TABLE(FUNC_NAME)[::loom::Chosen().GetIndex()]))
#endif

#endif
