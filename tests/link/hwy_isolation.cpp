// hwy_isolation.cpp - forcing loom's SIMD target changes loom alone: another Highway user
// in the same process (this program) still sees the CPU's targets and its own choice.
// (loom once forced targets through Highway's test mock, which changed them process-wide.)
#include <cstdio>
#include <cstring>

#include "hwy/targets.h"
#include "loom.h"

int main() {
  const int64_t supported = hwy::SupportedTargets();
  hwy::GetChosenTarget().Update(supported);
  const size_t index = hwy::GetChosenTarget().GetIndex();
  char avail[128];
  loom_simd_available(avail, sizeof avail);
  const char *worst = std::strrchr(avail, ' ') ? std::strrchr(avail, ' ') + 1 : avail;
  if (loom_simd_force(worst) != LOOM_OK || std::strcmp(loom_simd_target(), worst) != 0) {
    std::fprintf(stderr, "hwy_isolation: cannot force %s: %s\n", worst, loom_last_error());
    return 1;
  }
  const bool ok = hwy::SupportedTargets() == supported && hwy::GetChosenTarget().GetIndex() == index;
  std::printf("hwy_isolation: loom forced to %s, Highway's own targets %s\n", worst,
              ok ? "unchanged: ok" : "CHANGED");
  return ok ? 0 : 1;
}
