/* test_arena.c - alignment, block chaining, reset reuse, stats, limits. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "loom.h"
#include "ops/ops.h"

Test(arena, allocations_are_aligned_and_disjoint) {
  loom_arena *a = loom_arena_create(.block_size = 1024);
  cr_assert(a);
  unsigned char *prev = NULL;
  for (size_t n = 0; n < 3000; n += 97) {
    unsigned char *p = loom_arena_alloc(a, n);
    cr_assert(p, "%s", loom_arena_error(a));
    cr_assert_eq((uintptr_t)p % 64, 0, "alignment of a %zu-byte request", n);
    memset(p, 0xAB, n); /* ASan checks we own it */
    cr_assert(p != prev);
    prev = p;
  }
  loom_arena_free(a);
}

Test(arena, stats_and_reset_reuse) {
  loom_arena *a = loom_arena_create(.block_size = 4096);
  for (int i = 0; i < 10; ++i) cr_assert(loom_arena_alloc(a, 1000));
  loom_arena_stats s = loom_arena_get_stats(a);
  cr_assert_eq(s.in_use, 10 * 1024);
  cr_assert_eq(s.peak, 10 * 1024);
  cr_assert_eq(s.blocks, 3, "3 blocks of 4096 hold 10 x 1024 (got %zu)", s.blocks);
  cr_assert_eq(s.sys_allocs, 3);
  cr_assert_eq(s.reserved, 3 * 4096);
  loom_arena_reset(a);
  s = loom_arena_get_stats(a);
  cr_assert_eq(s.in_use, 0);
  cr_assert_eq(s.peak, 10 * 1024);
  /* the same step again asks the system for nothing */
  for (int step = 0; step < 3; ++step) {
    for (int i = 0; i < 10; ++i) cr_assert(loom_arena_alloc(a, 1000));
    loom_arena_reset(a);
  }
  cr_assert_eq(loom_arena_get_stats(a).sys_allocs, 3);
  loom_arena_free(a);
}

Test(arena, big_requests_get_their_own_block) {
  loom_arena *a = loom_arena_create(.block_size = 4096);
  float *p = loom_arena_alloc(a, 3u << 20); /* 3 MiB: huge-page path */
  cr_assert(p);
  memset(p, 0, 3u << 20);
  cr_assert(loom_arena_alloc(a, 64));
  const loom_arena_stats s = loom_arena_get_stats(a);
  cr_assert_geq(s.reserved, 3u << 20);
  loom_arena_free(a);
}

Test(arena, limit_gives_a_clear_error_and_the_arena_stays_usable) {
  loom_arena *a = loom_arena_create(.block_size = 1024, .max_bytes = 4096);
  cr_assert(loom_arena_alloc(a, 2048));
  cr_assert_null(loom_arena_alloc(a, 8192));
  cr_assert(strstr(loom_arena_error(a), "limit of 4096") != NULL, "%s", loom_arena_error(a));
  cr_assert(strstr(loom_last_error(), "loom_arena_alloc") != NULL);
  cr_assert(loom_arena_alloc(a, 1024), "a request within the limit still works");
  loom_arena_free(a);
}

Test(arena, absurd_requests_fail_cleanly) {
  loom_arena *a = loom_arena_new(NULL);
  cr_assert_null(loom_arena_alloc(a, SIZE_MAX));
  cr_assert(strstr(loom_arena_error(a), "too large") != NULL, "%s", loom_arena_error(a));
  cr_assert_null(loom_arena_alloc(a, SIZE_MAX / 2 - 10), "the system cannot give this");
  cr_assert(strstr(loom_arena_error(a), "could not get") != NULL, "%s", loom_arena_error(a));
  loom_arena_free(a);
}

Test(arena, null_arguments) {
  cr_assert_null(loom_arena_alloc(NULL, 16));
  cr_assert(strstr(loom_last_error(), "arena is NULL") != NULL);
  loom_arena_reset(NULL);
  loom_arena_free(NULL);
  cr_assert_eq(loom_arena_get_stats(NULL).reserved, 0);
  cr_assert_str_eq(loom_arena_error(NULL), "arena is NULL");
  cr_assert_null(loom_arena_create(.block_size = SIZE_MAX));
  cr_assert(strstr(loom_last_error(), "block_size") != NULL);
}

/* A step that once took a big block, then one whose first request does not fit the
 * blocks it passes: the passed (empty) blocks stay in reach and the system is not asked
 * again, whatever the order of the sizes from step to step. */
Test(arena, empty_blocks_passed_over_stay_usable_in_the_same_step) {
  loom_arena *a = loom_arena_create(.block_size = 1024);
  cr_assert(loom_arena_alloc(a, 512));     /* block A (1024) */
  cr_assert(loom_arena_alloc(a, 900));     /* does not fit A's rest: block B (1024) */
  cr_assert(loom_arena_alloc(a, 5000));    /* block C, its own size */
  const loom_arena_stats before = loom_arena_get_stats(a);
  cr_assert_eq(before.sys_allocs, 3);
  loom_arena_reset(a);
  /* the same bytes in another order: the big one first passes B (too small) to reach C;
   * B must still serve the next request */
  cr_assert(loom_arena_alloc(a, 512));  /* A */
  cr_assert(loom_arena_alloc(a, 5000)); /* C, passing B */
  cr_assert(loom_arena_alloc(a, 900));  /* B, though it now lies behind C in the chain */
  cr_assert_eq(loom_arena_get_stats(a).sys_allocs, 3, "asked the system again: %zu",
               (size_t)loom_arena_get_stats(a).sys_allocs);
  /* and a rewind to a mark gives back what came after it, here B */
  loom_arena_reset(a);
  cr_assert(loom_arena_alloc(a, 512));
  const lm_arena_mark m = lm_arena_mark_here(a);
  cr_assert(loom_arena_alloc(a, 5000));
  cr_assert(loom_arena_alloc(a, 900));
  lm_arena_rewind(a, m);
  cr_assert(loom_arena_alloc(a, 900));
  cr_assert(loom_arena_alloc(a, 5000));
  cr_assert_eq(loom_arena_get_stats(a).sys_allocs, 3);
  loom_arena_free(a);
}
