#!/bin/sh
# install-check.sh STAGE CXX - the install commands of README.md, exactly as written there
# (the block between the install-commands markers), run with HOME=STAGE and a small
# small app.c; then the C++ link test against the installed files through pkg-config, shared and
# static.
set -eu
stage=$1 cxx=$2
top=$(pwd)
rm -rf "$stage"
mkdir -p "$stage"
block=$(sed -n '/<!-- install-commands/,/<!-- end install-commands/p' README.md | sed -e '/^```/d' -e '/^<!--/d')
[ -n "$block" ] || { echo "FAIL install: README.md has no install-commands block"; exit 1; }
[ ! -e app.c ] && [ ! -e app ] && [ ! -e app_static ] || { echo "FAIL install: app.c, app or app_static in the way"; exit 1; }
trap 'rm -f "$top/app.c" "$top/app" "$top/app_static"' EXIT
cat > app.c <<'APP'
#include <stdio.h>
#include "loom.h"
int main(void) {
  loom_graph *g = loom_graph_new(1);
  loom_node *x = loom_Input(g, .shape = {3});
  loom_model *m = loom_Model(g, .inputs = {x}, .outputs = {loom_call(loom_Dense(g, .units = 2), x)});
  const int ok = m && loom_model_count_params(m, false) == 8;
  loom_graph_free(g);
  return ok ? 0 : 1;
}
APP
# the block runs in the tree's root, as a user would after cloning it, with app.c there
(HOME=$stage MAKEFLAGS= sh -eu -c "$block" >"$stage/block.log" 2>&1) || {
  echo "FAIL install: README's install commands:"; cat "$stage/block.log"; exit 1; }
prefix=$stage/.local
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
for f in include/loom.h lib/libloom.a lib/libloom.so.0 lib/libloom.so lib/pkgconfig/loom.pc bin/loom; do
  [ -e "$prefix/$f" ] || { echo "FAIL install: $prefix/$f missing"; exit 1; }
done
# shellcheck disable=SC2046
$cxx tests/link/link_test.cpp $(pkg-config --cflags --libs loom) -Wl,-rpath,"$prefix/lib" -o "$stage/link_shared"
# shellcheck disable=SC2046
$cxx tests/link/link_test.cpp $(pkg-config --cflags loom) $(pkg-config --variable=static_libs loom) -o "$stage/link_static"
"$stage/link_shared" >/dev/null
"$stage/link_static" >/dev/null
echo "ok   install: README's commands (make install PREFIX=\$HOME/.local, shared and static links); headers, libloom.a, libloom.so, loom.pc (version $(pkg-config --modversion loom)); C++ link test"
