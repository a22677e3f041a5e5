#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build libbpf (static) and bpftool from the kernel tree's tools/ for one
# target architecture, cached under $CACHE keyed by the tree version, the
# target and this script.  Prints the install prefix on stdout.
#
# usage: build-libbpf.sh x86_64|riscv64|arm64
set -euo pipefail

arch=${1:?usage: build-libbpf.sh x86_64|riscv64|arm64}
here=$(cd "$(dirname "$0")" && pwd)
CACHE=${CACHE:-/var/cache/kvm-lazytop}
src=$("$here/../../kernel/scripts/fetch-source.sh")

case "$arch" in
x86_64)  cross= ;;
riscv64) cross=riscv64-linux-gnu- ;;
arm64)   cross=aarch64-linux-gnu- ;;
*) echo "build-libbpf.sh: unknown arch '$arch'" >&2; exit 2 ;;
esac

key=$( (cat "$src/Makefile" | head -5; echo "$arch";
	cat "$0"; [ "$arch" = x86_64 ] || cat "$here/build-cross-libs.sh") |
	sha256sum | cut -c1-16)
prefix=$CACHE/libbpf-$arch-$key
# Several make targets may ask for the same prefix at once: serialise.
mkdir -p "$CACHE/locks"
exec 9>"$CACHE/locks/libbpf-$arch.lock"
flock 9
if [ -f "$prefix/.done" ]; then
	echo "$prefix"
	exit 0
fi

log=$CACHE/logs/libbpf-$arch.log
mkdir -p "$CACHE/logs"
rm -rf "$prefix" && mkdir -p "$prefix"
echo "  LIBBPF  $arch -> $prefix" >&2

extra_cflags=
extra_ldflags=
if [ "$arch" != x86_64 ]; then
	libs=$("$here/build-cross-libs.sh" "$arch")
	extra_cflags="-I$libs/include"
	# libbpf.so is always linked too; find the static cross libelf/zlib.
	extra_ldflags="-L$libs/lib"
	export PKG_CONFIG_PATH=$libs/lib/pkgconfig
	export PKG_CONFIG_LIBDIR=$libs/lib/pkgconfig
fi
if [ "$arch" = riscv64 ]; then
	# tools/arch/riscv/include/asm/barrier.h includes <asm/fence.h>, but
	# tools/arch/riscv/include is not on libbpf's include path; expose
	# just that header so the target's other <asm/*> stay the sysroot's.
	mkdir -p "$prefix/obj/shim/asm"
	cp "$src/tools/arch/riscv/include/asm/fence.h" "$prefix/obj/shim/asm/"
	extra_cflags="$extra_cflags -I$prefix/obj/shim"
fi

obj=$prefix/obj
mkdir -p "$obj/libbpf"
make -C "$src/tools/lib/bpf" -j"$(nproc)" \
	CROSS_COMPILE="$cross" CC="${cross}gcc" AR="${cross}ar" \
	EXTRA_CFLAGS="-O2 -g $extra_cflags" LDFLAGS="$extra_ldflags" \
	OUTPUT="$obj/libbpf/" DESTDIR="$prefix" prefix= LIBDIR=/lib \
	BUILD_STATIC_ONLY=1 install >"$log" 2>&1 || {
	echo "build-libbpf.sh: libbpf build failed, see $log" >&2; exit 1; }

# bpftool runs on the build host; only the host flavour is needed to
# generate skeletons, but a target bpftool is useful inside guests.
mkdir -p "$obj/bpftool"
if [ "$arch" = x86_64 ]; then
	make -C "$src/tools/bpf/bpftool" -j"$(nproc)" \
		OUTPUT="$obj/bpftool/" >>"$log" 2>&1 || {
		echo "build-libbpf.sh: bpftool build failed, see $log" >&2; exit 1; }
else
	make -C "$src/tools/bpf/bpftool" -j"$(nproc)" \
		ARCH="${arch/riscv64/riscv}" CROSS_COMPILE="$cross" \
		EXTRA_CFLAGS="-static $extra_cflags" \
		EXTRA_LDFLAGS="-static -L$libs/lib" \
		OUTPUT="$obj/bpftool/" >>"$log" 2>&1 || {
		echo "build-libbpf.sh: bpftool cross build failed, see $log" >&2; exit 1; }
fi
mkdir -p "$prefix/bin"
cp "$obj/bpftool/bpftool" "$prefix/bin/"
touch "$prefix/.done"
echo "$prefix"
