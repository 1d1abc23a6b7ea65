/* test_dispatch.c - SIMD target selection, forcing and thread settings. */
#include <criterion/criterion.h>
#include <string.h>

#include "common/util.h"

Test(dispatch, forced_target_is_the_one_running) {
  const char *want = tu_forced_target();
  if (!want) cr_skip_test("LOOM_SIMD not set: the best target runs");
  cr_assert_str_eq(loom_simd_target(), want, "LOOM_SIMD=%s but %s runs", want, loom_simd_target());
}

Test(dispatch, available_targets_can_each_be_forced) {
  char buf[128];
  const int n = loom_simd_available(buf, sizeof buf);
  cr_assert(n >= 1, "at least one target: %s", buf);
#if defined(__x86_64__)
  cr_assert(strstr(buf, "scalar") != NULL, "x86 builds carry Highway's scalar target: %s", buf);
#else
  cr_assert(strstr(buf, "neon") != NULL, "NEON is the aarch64 baseline: %s", buf);
#endif
  char *save = NULL;
  for (char *name = strtok_r(buf, " ", &save); name; name = strtok_r(NULL, " ", &save)) {
    cr_assert_eq(loom_simd_force(name), LOOM_OK, "%s: %s", name, loom_last_error());
    cr_assert_str_eq(loom_simd_target(), name);
  }
  cr_assert_eq(loom_simd_force(NULL), LOOM_OK);
  char best[128];
  loom_simd_available(best, sizeof best);
  cr_assert(strncmp(best, loom_simd_target(), strlen(loom_simd_target())) == 0,
            "auto picks the best: %s from %s", loom_simd_target(), best);
}

Test(dispatch, available_truncates_safely) {
  char tiny[4];
  const int n = loom_simd_available(tiny, sizeof tiny);
  cr_assert(n >= 1);
  cr_assert(strlen(tiny) < sizeof tiny);
  cr_assert_eq(loom_simd_available(NULL, 0), n);
}

Test(dispatch, bad_names_are_errors) {
  const char *before = loom_simd_target();
  cr_assert_eq(loom_simd_force("avx9000"), LOOM_EINVAL);
  cr_assert(strstr(loom_last_error(), "avx9000") != NULL, "%s", loom_last_error());
#if defined(__x86_64__) || defined(__i386__)
  const char *foreign = "neon";
#else
  const char *foreign = "avx2";
#endif
  cr_assert_eq(loom_simd_force(foreign), LOOM_EUNSUPPORTED);
  cr_assert(strstr(loom_last_error(), "not supported") != NULL, "%s", loom_last_error());
  cr_assert_str_eq(loom_simd_target(), before, "a failed force changes nothing");
}

Test(dispatch, thread_count) {
  cr_assert(loom_get_num_threads() >= 1);
  cr_assert_eq(loom_set_num_threads(0), LOOM_EINVAL);
  cr_assert(strstr(loom_last_error(), "loom_set_num_threads") != NULL);
  cr_assert_eq(loom_set_num_threads(-3), LOOM_EINVAL);
  cr_assert_eq(loom_set_num_threads(3), LOOM_OK);
  cr_assert_eq(loom_get_num_threads(), 3);
}

Test(dispatch, status_names_and_version) {
  cr_assert_str_eq(loom_status_name(LOOM_OK), "LOOM_OK");
  cr_assert_str_eq(loom_status_name(LOOM_ESHAPE), "LOOM_ESHAPE");
  cr_assert_str_eq(loom_status_name(12345), "LOOM_E?");
  cr_assert_str_eq(loom_version(), "0.1.0");
}
