#!/usr/bin/env bash
# perf-check-smoke.sh BUILD -- CI's smoke run of `make perf-check` (about 30 s here, most
# of it building HEAD in a worktree): two tiny benchmarks against HEAD itself must pass,
# and must fail, naming the benchmark, when the current build slows one by 25%
# (LOOM_PERF_CHECK_SLOW through PERF_CHECK_SLOW). A shared machine's noise can widen an
# interval past either verdict, so each half gets a second try before it fails.
set -uo pipefail
build=$1
only=kernel/add-16k,kernel/sgemm-64x64x64
out=$(mktemp)
trap 'rm -f "$out"' EXIT
export PERF_CHECK_ONLY=$only PERF_CHECK_ARGS="--min-time 0.02"
fail() { cat "$out"; echo "perf-check-smoke: $*" >&2; exit 1; }

unset PERF_CHECK_SLOW
for try in 1 2; do
  mk/perf-check.sh "$build" HEAD > "$out" 2>&1
  rc=$?
  [ $rc = 0 ] && break
  echo "perf-check-smoke: HEAD against itself, try $try: exit $rc; trying again"
done
[ $rc = 0 ] || fail "HEAD against itself: exit $rc, expected 0 (no regression)"
grep -q "perf-check: passed" "$out" || fail "HEAD against itself: no 'passed' line"
json=$build/perf/perf-check.json
grep -q '"suite": "perf-check"' "$json" && grep -q '"comparisons"' "$json" ||
  fail "no JSON written to $json"
grep -q '<svg' "$build/perf/perf-check.html" || fail "no chart written to $build/perf/perf-check.html"
echo "perf-check-smoke: HEAD against itself passes"

for try in 1 2; do
  PERF_CHECK_SLOW=kernel/add-16k=0.25 mk/perf-check.sh "$build" HEAD > "$out" 2>&1
  rc=$?
  [ $rc = 1 ] && break
  echo "perf-check-smoke: kernel/add-16k slowed by 25%, try $try: exit $rc; trying again"
done
[ $rc = 1 ] || fail "with kernel/add-16k slowed by 25%: exit $rc, expected 1"
grep -q "FAILED: 1 benchmark .*kernel/add-16k" "$out" || fail "the slowed benchmark is not named"
grep -q "kernel/sgemm-64x64x64 .*REGRESSION" "$out" && fail "the benchmark that was not slowed is flagged"
echo "perf-check-smoke: a 25% slower kernel/add-16k is flagged and named"
