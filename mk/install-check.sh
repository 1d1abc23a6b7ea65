#!/bin/sh
# install-check.sh STAGE CXX - `make install` into STAGE, then build and run the C++
# link test against the installed files through pkg-config, shared and static.
set -eu
stage=$1 cxx=$2
rm -rf "$stage"
MAKEFLAGS= make --no-print-directory install PREFIX="$stage" DESTDIR= >/dev/null
export PKG_CONFIG_PATH="$stage/lib/pkgconfig"
for f in include/loom.h lib/libloom.a lib/libloom.so.0 lib/libloom.so lib/pkgconfig/loom.pc; do
  [ -e "$stage/$f" ] || { echo "FAIL install: $stage/$f missing"; exit 1; }
done
# shellcheck disable=SC2046
$cxx tests/link/link_test.cpp $(pkg-config --cflags --libs loom) -Wl,-rpath,"$stage/lib" \
  -o "$stage/link_shared"
# shellcheck disable=SC2046
$cxx tests/link/link_test.cpp $(pkg-config --cflags loom) -L"$stage/lib" -Wl,-Bstatic -lloom \
  -Wl,-Bdynamic $(pkg-config --static --libs-only-l loom | sed 's/-lloom//') -o "$stage/link_static"
"$stage/link_shared" >/dev/null
"$stage/link_static" >/dev/null
echo "ok   install: headers, libloom.a, libloom.so, loom.pc (version $(pkg-config --modversion loom)); pkg-config builds link and run"
