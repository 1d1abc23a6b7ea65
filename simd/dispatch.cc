// dispatch.cc - which Highway target loom's kernels run on, and forcing one by name: loom's
// own choice (simd/dispatch.h), so that forcing a target changes loom alone.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simd/error.h"
#include "simd/parallel.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "simd/dispatch.cc"
#include "hwy/foreach_target.h"  // must come before highway.h
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace loom {
namespace HWY_NAMESPACE {
int64_t TargetImpl() { return HWY_TARGET; }
}  // namespace HWY_NAMESPACE
}  // namespace loom
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "simd/dispatch.h"
namespace loom {
HWY_EXPORT(TargetImpl);

namespace {

struct NamedTarget {
  const char* name;
  int64_t mask;
};

// Best first on each architecture; a name covers the Highway variants of one ISA.
const NamedTarget kTargets[] = {
    {"avx512", HWY_AVX3 | HWY_AVX3_DL},
    {"avx2", HWY_AVX2},
    {"sse4", HWY_SSE4},
    {"ssse3", HWY_SSSE3},
    {"sve2", HWY_SVE2 | HWY_SVE2_128},
    {"sve", HWY_SVE | HWY_SVE_256},
    {"neon", HWY_NEON},
    {"scalar", HWY_SCALAR | HWY_EMU128},
};

// What this CPU runs among the targets compiled in (Highway's own choice is never
// touched: loom keeps its own).
int64_t Runnable() {
  static const int64_t runnable = hwy::SupportedTargets() & HWY_TARGETS;
  return runnable;
}

hwy::ChosenTarget& Mutable() {
  static hwy::ChosenTarget chosen;  // mask 1 until chosen: InitOnce runs before any use
  return chosen;
}

void Choose(int64_t mask) { Mutable().Update(mask ? mask : Runnable()); }

int Force(const char* name) {
  if (name == nullptr || name[0] == '\0' || strcmp(name, "auto") == 0) {
    Choose(0);
    return LOOM_OK;
  }
  for (const NamedTarget& t : kTargets) {
    if (strcmp(name, t.name) != 0) continue;
    const int64_t mask = t.mask & Runnable();
    if (mask == 0) {
      char avail[128];
      loom_simd_available(avail, sizeof avail);
      return lm_error(LOOM_EUNSUPPORTED, "loom_simd_force",
                      "target '%s' is not supported by this CPU or build (available: %s)",
                      name, avail);
    }
    Choose(mask);
    return LOOM_OK;
  }
  return lm_error(LOOM_EINVAL, "loom_simd_force",
                  "unknown target '%s' (known: avx512 avx2 sse4 ssse3 sve2 sve neon scalar)",
                  name);
}

bool InitOnce() {
  Choose(0);
  const char* env = getenv("LOOM_SIMD");
  if (Force(env) != LOOM_OK) {
    // The only way a misspelt environment variable gets noticed: say it once.
    fprintf(stderr, "loom: LOOM_SIMD=%s ignored: %s\n", env, loom_last_error());
    Choose(0);
  }
  return true;
}

}  // namespace

const hwy::ChosenTarget& Chosen() {
  static const bool done = InitOnce();  // thread-safe once, before the first dispatch
  (void)done;
  return Mutable();
}

}  // namespace loom

using namespace loom;  // HWY_DYNAMIC_DISPATCH needs the unqualified name

extern "C" {

void lm_simd_init(void) { (void)Chosen(); }

const char* loom_simd_target(void) {
  lm_simd_init();
  const int64_t t = LM_DISPATCH(TargetImpl)();
  for (const NamedTarget& n : kTargets)
    if (n.mask & t) return n.name;
  return "unknown";
}

loom_status loom_simd_force(const char* name) {
  lm_simd_init();
  return static_cast<loom_status>(Force(name));
}

int loom_simd_available(char* buf, size_t cap) {
  size_t len = 0;
  int count = 0;
  if (buf && cap) buf[0] = '\0';
  for (const NamedTarget& t : kTargets) {
    if ((t.mask & Runnable()) == 0) continue;
    if (buf && len < cap) {
      const int w = snprintf(buf + len, cap - len, "%s%s", count ? " " : "", t.name);
      if (w > 0) len += (size_t)w;
    }
    ++count;
  }
  return count;
}

}  // extern "C"
#endif  // HWY_ONCE
