#!/usr/bin/env bash
# perf-check.sh BUILD BASE -- the current build's check-bench against BASE's, interleaved.
# Called by `make perf-check` (which has built $BUILD/perf/check-bench and perf-check).
#
# BASE is built in a temporary git worktree (its libloom.a, then its check-bench, with
# the compiler flags and libraries of the current Makefile); a base that predates the
# suite (no perf/check_suite.c) gets the current tree's benchmark sources, compiled
# against its own headers and library, so that both sides run the same benchmark code.
# A base build of its own suite is kept in $BUILD/perf-check/<commit>/ for the next run.
#
# Environment: PERF_CHECK_ARGS (more perf-check options: --pairs N, --threshold F,
# --threads N, --cpus LIST, --min-time S), PERF_CHECK_ONLY (NAME,NAME...),
# PERF_CHECK_SLOW (NAME=FRACTION, the current build only), CC, LIBS.
set -euo pipefail
build=$1
base=${2:-}
top=$(git rev-parse --show-toplevel)
cd "$top"
if [ -z "$base" ]; then
  base=$(git describe --tags --abbrev=0 2>/dev/null || echo HEAD~1)
fi
sha=$(git rev-parse --verify --quiet "$base^{commit}") || {
  echo "perf-check: BASE=$base is not a git revision here" >&2
  exit 2
}
short=$(git rev-parse --short "$sha")
current=$(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo -dirty)
cache=$build/perf-check/$sha
bench=$cache/check-bench
srcs="perf/check_bench.c perf/check_suite.c perf/layer_cases.c perf/model_cases.c perf/bench.c"

if [ -x "$bench" ]; then
  echo "perf-check: base $base ($short): its build from $cache"
else
  wt=$(mktemp -d "${TMPDIR:-/tmp}/loom-base.XXXXXX")
  trap 'git worktree remove --force "$wt" >/dev/null 2>&1 || rm -rf "$wt"; git worktree prune' EXIT
  git worktree add --detach --quiet "$wt" "$sha"
  own=1
  if [ ! -f "$wt/perf/check_suite.c" ]; then
    own=0
    echo "perf-check: base $base ($short) predates the suite: its library runs the current benchmark sources"
    for f in $srcs perf/check_suite.h perf/layer_cases.h perf/model_cases.h perf/bench.h; do cp "$f" "$wt/$f"; done
  fi
  echo "perf-check: building base $base ($short) in $wt"
  jobs=$(nproc 2>/dev/null || echo 2)
  if ! make -C "$wt" --no-print-directory -j"$jobs" build/libloom.a > "$wt/build.log" 2>&1; then
    tail -n 30 "$wt/build.log" >&2
    echo "perf-check: the base revision $base ($short) does not build" >&2
    exit 2
  fi
  mkdir -p "$cache"
  # shellcheck disable=SC2086 # lists of flags and files
  if ! (cd "$wt" && ${CC:-gcc} -Iinclude -I. -std=c11 -O2 -g -fopenmp -DLOOM_GIT_REV="\"$short\"" $srcs \
        build/libloom.a -fopenmp ${LIBS:--lhwy -lcjson -lstdc++ -lm} -o "$top/$cache/check-bench.tmp") 2> "$wt/cc.log"; then
    cat "$wt/cc.log" >&2
    echo "perf-check: the benchmarks do not compile against base $base ($short) (above)" >&2
    exit 2
  fi
  mv "$cache/check-bench.tmp" "$bench"
  [ "$own" = 1 ] || { mv "$bench" "$cache/check-bench.current-sources"; bench=$cache/check-bench.current-sources; }
  git worktree remove --force "$wt" >/dev/null 2>&1 || rm -rf "$wt"
  git worktree prune
  trap - EXIT
fi

only=()
[ -n "${PERF_CHECK_ONLY:-}" ] && only=(--only "$PERF_CHECK_ONLY")
slow=()
[ -n "${PERF_CHECK_SLOW:-}" ] && slow=(--slow "$PERF_CHECK_SLOW")
# shellcheck disable=SC2086 # PERF_CHECK_ARGS is a list of options
"$build/perf/perf-check" --base "$bench" --current "$build/perf/check-bench" \
  --base-rev "$base ($short)" --current-rev "$current" \
  --json "$build/perf/perf-check.json" --html "$build/perf/perf-check.html" \
  "${only[@]}" "${slow[@]}" ${PERF_CHECK_ARGS:-}
