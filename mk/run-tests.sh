#!/bin/sh
# run-tests.sh BUILD TARGET... - runs every test binary in BUILD/tests once per SIMD
# target (through LOOM_SIMD), prints Criterion's summary line of each run, and fails if
# any run fails (its log is shown). QEMU_CPU, when set, is passed on to qemu-user;
# SKIP_TESTS names binaries to leave out ("test_lib").
build=$1
shift
status=0
for target in "$@"; do
  for bin in "$build"/tests/test_*; do
    case " ${SKIP_TESTS:-} " in *" ${bin##*/} "*) continue ;; esac
    # test_lib trains whole models that thread inside: one test at a time, so that two
    # tests' OpenMP teams do not fight over the cores (6x slower here when they do)
    jobs=
    [ "${bin##*/}" = test_lib ] && jobs=-j1
    t0=$(date +%s)
    log=$(LOOM_SIMD=$target timeout -s KILL 900 "$bin" --color=never $jobs 2>&1)
    rc=$?
    took=$(($(date +%s) - t0))
    summary=$(printf '%s\n' "$log" | grep 'Synthesis' | sed 's/^\[====\] //')
    printf '%-7s %-10s %s %4ss%s\n' "$target" "${bin##*/}" "${summary:-no summary (rc $rc)}" "$took" \
      "${QEMU_CPU:+  [qemu -cpu $QEMU_CPU]}"
    if [ "$rc" -ne 0 ]; then
      printf '%s\n' "$log" | tail -n 60
      status=1
    fi
  done
done
exit $status
