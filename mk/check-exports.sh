#!/bin/sh
# check-exports.sh NM LIB - fails if the shared library exports a name without loom_.
nm=$1 lib=$2
bad=$($nm -D --defined-only "$lib" | awk '{print $3}' |
      grep -vE '^(loom_|_init$|_fini$|_edata$|_end$|__bss_start$)')
count=$($nm -D --defined-only "$lib" | grep -c ' loom_')
if [ -n "$bad" ]; then
  echo "FAIL exports: $lib exports names without the loom_ prefix:"; echo "$bad"; exit 1
fi
[ "$count" -gt 0 ] || { echo "FAIL exports: $lib exports no loom_ symbol"; exit 1; }
echo "ok   exports: $lib exports $count symbols, all loom_*"
