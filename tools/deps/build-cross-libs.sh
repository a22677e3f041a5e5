#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Cross-build static zlib and libelf (elfutils) for a target architecture
# from Debian's own source packages, so libbpf/bpftool/kvm-lazytop can be
# linked statically for the guest.  Prints the install prefix (which has
# include/, lib/ and lib/pkgconfig/) on stdout and nothing else.
#
# usage: build-cross-libs.sh riscv64|arm64
#
# Sources come from `apt-get source` (a deb-src line for bookworm main is
# added under /etc/apt/sources.list.d/ when none exists).  The prefix is
# cached under $CACHE keyed by the arch, the source versions, the cross
# compiler and this script; logs go to $CACHE/logs/cross-libs-ARCH.log.
set -euo pipefail

arch=${1:?usage: build-cross-libs.sh riscv64|arm64}
CACHE=${CACHE:-/var/cache/kvm-lazytop}
JOBS=${JOBS:-2}
case "$arch" in
riscv64) triplet=riscv64-linux-gnu ;;
arm64)   triplet=aarch64-linux-gnu ;;
*) echo "build-cross-libs.sh: unsupported arch '$arch'" >&2; exit 2 ;;
esac
cc=$triplet-gcc
command -v "$cc" >/dev/null || {
	echo "build-cross-libs.sh: $cc missing (apt-get install gcc-$triplet libc6-dev-${arch/arm64/arm64}-cross)" >&2
	exit 1; }

mkdir -p "$CACHE/logs"
log=$CACHE/logs/cross-libs-$arch.log

ensure_deb_src() {
	local list=/etc/apt/sources.list.d/kvm-lazytop-src.list
	if apt-cache showsrc zlib 2>/dev/null | grep -q '^Version:' &&
	   apt-cache showsrc elfutils 2>/dev/null | grep -q '^Version:'; then
		return 0
	fi
	if ! grep -rqs '^deb-src\|^Types:.*deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
		echo "  APT     adding $list" >&2
		# signed-by must match debian.sources, or apt rejects both.
		echo 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main' >"$list"
	fi
	apt-get update -qq >>"$log" 2>&1 || {
		echo "build-cross-libs.sh: apt-get update failed, see $log" >&2; exit 1; }
}
ensure_deb_src

srcver() { apt-cache showsrc "$1" | sed -n 's/^Version: //p' | sort -V | tail -1; }
zver=$(srcver zlib)
ever=$(srcver elfutils)
key=$( { echo "$arch $zver $ever"; $cc --version | head -1; cat "$0"; } |
	sha256sum | cut -c1-16)
prefix=$CACHE/cross-libs-$arch-$key
if [ -f "$prefix/.done" ]; then
	echo "$prefix"
	exit 0
fi

exec 9>"$CACHE/cross-libs-$arch.lock"
flock 9
if [ -f "$prefix/.done" ]; then echo "$prefix"; exit 0; fi

: >"$log"
work=$CACHE/cross-libs-work-$arch
rm -rf "$work" "$prefix" && mkdir -p "$work" "$prefix"
fail() { echo "build-cross-libs.sh: $1 failed, see $log" >&2; exit 1; }

echo "  XLIBS   $arch: zlib $zver, elfutils $ever -> $prefix" >&2
(cd "$work" && apt-get source --download-only "zlib=$zver" "elfutils=$ever") >>"$log" 2>&1 ||
	fail "apt-get source"
(cd "$work" && dpkg-source -x zlib_*.dsc zlib && dpkg-source -x elfutils_*.dsc elfutils) >>"$log" 2>&1 ||
	fail "dpkg-source -x"

# zlib: its configure takes CC/AR from the environment.
(cd "$work/zlib" &&
	CC=$cc AR=$triplet-ar RANLIB=$triplet-ranlib CFLAGS="-O2 -fPIC" \
		./configure --static --prefix="$prefix" --libdir="$prefix/lib" &&
	make -j"$JOBS" libz.a && make install) >>"$log" 2>&1 || fail "zlib build"

# elfutils: only lib/ and libelf/ are needed (libbpf uses libelf only).
(cd "$work/elfutils" &&
	./configure --host="$triplet" --prefix="$prefix" --libdir="$prefix/lib" \
		--disable-debuginfod --disable-libdebuginfod --disable-nls \
		--disable-demangler --without-bzlib --without-lzma --without-zstd \
		--disable-symbol-versioning --disable-textrelcheck \
		CC="$cc" CFLAGS="-O2 -fPIC -Wno-error" \
		CPPFLAGS="-I$prefix/include" LDFLAGS="-L$prefix/lib" &&
	make -j"$JOBS" -C lib &&
	make -j"$JOBS" -C libelf libelf.a &&
	make -C libelf install-includeHEADERS install-pkgincludeHEADERS &&
	install -m 644 libelf/libelf.a "$prefix/lib/" &&
	install -m 644 config/libelf.pc "$prefix/lib/pkgconfig/") >>"$log" 2>&1 ||
	fail "elfutils (libelf) build"

# Static linking needs zlib after libelf.
sed -i 's/^Libs.private:.*/Libs.private: -lz/' "$prefix/lib/pkgconfig/libelf.pc"
for f in include/zlib.h include/libelf.h include/gelf.h lib/libz.a lib/libelf.a; do
	[ -e "$prefix/$f" ] || { echo "build-cross-libs.sh: $prefix/$f missing after build" >&2; exit 1; }
done
rm -rf "$work"
touch "$prefix/.done"
echo "$prefix"
