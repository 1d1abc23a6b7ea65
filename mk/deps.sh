#!/bin/sh
# deps.sh ARCH [SYSROOT] [perf] - makes sure the Debian packages loom builds and tests
# with are here (with `perf`: also the libraries the benchmarks compare against). As root it installs what is missing (apt-get); otherwise it prints the command
# and fails. For ARCH=aarch64 it also needs the arm64 multiarch libraries, Criterion for
# arm64 unpacked into SYSROOT (libcriterion-dev:arm64 cannot be installed beside the
# amd64 one), and qemu-user registered with binfmt_misc (Criterion re-executes itself).
set -u
arch=${1:-$(uname -m)}
sysroot=${2:-}
what=${3:-}
root=no
[ "$(id -u)" = 0 ] && root=yes

missing=""
need() {
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
  done
}
need make gcc g++ pkg-config libhwy-dev libcjson-dev libcriterion-dev
# The benchmarks load these at run time (dlopen); libloom never links them.
[ "$what" = perf ] && need libopenblas-dev libblis-dev libdnnl-dev
# The loader's fuzz target: clang with libFuzzer and LLVM's OpenMP.
[ "$what" = fuzz ] && need clang libclang-rt-dev libomp-dev
if [ "$arch" = aarch64 ]; then
  need gcc-aarch64-linux-gnu g++-aarch64-linux-gnu qemu-user qemu-user-static \
    libhwy-dev:arm64 libcjson-dev:arm64 libgomp1:arm64 libgit2-1.5:arm64 libffi8:arm64
fi

if [ -n "$missing" ]; then
  if [ $root = no ]; then
    echo "loom needs these Debian packages:$missing"
    [ "$arch" = aarch64 ] && echo "  run as root: dpkg --add-architecture arm64"
    echo "  run as root: apt-get update && apt-get install -y$missing"
    exit 1
  fi
  echo "deps: installing$missing"
  [ "$arch" = aarch64 ] && dpkg --add-architecture arm64
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null && apt-get install -y -q $missing >/dev/null || {
    echo "deps: apt-get install$missing failed"; exit 1; }
fi

[ "$arch" = aarch64 ] || exit 0

lib="$sysroot/usr/lib/aarch64-linux-gnu"
if [ ! -e "$lib/libcriterion.so.3" ] || [ ! -e "$sysroot/usr/include/criterion/criterion.h" ]; then
  tmp=$(mktemp -d)
  chmod 755 "$tmp" # apt-get download runs as _apt when it can
  (cd "$tmp" && apt-get download -q libcriterion-dev:arm64 libcriterion3:arm64 libnanomsg5:arm64 \
    >/dev/null) || { echo "deps: apt-get download of Criterion for arm64 failed"; exit 1; }
  mkdir -p "$sysroot"
  for d in "$tmp"/*.deb; do dpkg -x "$d" "$sysroot"; done
  rm -rf "$tmp"
  echo "deps: Criterion for arm64 unpacked into $sysroot"
fi

if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  if [ $root = no ]; then
    echo "run as root: mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc;" \
      "cat /usr/lib/binfmt.d/qemu-aarch64.conf > /proc/sys/fs/binfmt_misc/register"
    exit 1
  fi
  [ -e /proc/sys/fs/binfmt_misc/register ] ||
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  cat /usr/lib/binfmt.d/qemu-aarch64.conf > /proc/sys/fs/binfmt_misc/register ||
    { echo "deps: could not register qemu-aarch64 with binfmt_misc"; exit 1; }
  echo "deps: qemu-aarch64 registered with binfmt_misc"
fi
