#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Cross-build the static userspace libraries of the kvm-lazytop collector
# that Debian does not ship for the target: json-c (cmake), libcap and
# libmicrohttpd (autotools, no TLS), all from Debian's source packages.
# Prints the install prefix (include/, lib/, lib/pkgconfig/) on stdout and
# nothing else.  The prefix is cached under $CACHE keyed by the arch, the
# source versions, the cross compiler and this script; logs go to
# $CACHE/logs/cross-userlibs-ARCH.log.  ncurses is not built: the static
# cross binary has the plain-text view only (-DKL_NO_TUI).
#
# usage: build-cross-userlibs.sh riscv64|arm64
set -euo pipefail

arch=${1:?usage: build-cross-userlibs.sh riscv64|arm64}
CACHE=${CACHE:-/var/cache/kvm-lazytop}
JOBS=${JOBS:-2}
case "$arch" in
riscv64) triplet=riscv64-linux-gnu ;;
arm64)   triplet=aarch64-linux-gnu ;;
*) echo "build-cross-userlibs.sh: unsupported arch '$arch'" >&2; exit 2 ;;
esac
cc=$triplet-gcc
command -v "$cc" >/dev/null || {
	echo "build-cross-userlibs.sh: $cc missing (apt-get install gcc-$triplet)" >&2; exit 1; }
command -v cmake >/dev/null || {
	echo "build-cross-userlibs.sh: cmake missing (apt-get install cmake)" >&2; exit 1; }

mkdir -p "$CACHE/logs"
log=$CACHE/logs/cross-userlibs-$arch.log

if ! apt-cache showsrc json-c 2>/dev/null | grep -q '^Version:'; then
	if ! grep -rqs '^deb-src\|^Types:.*deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
		echo 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main' \
			>/etc/apt/sources.list.d/kvm-lazytop-src.list
	fi
	apt-get update -qq >>"$log" 2>&1 || {
		echo "build-cross-userlibs.sh: apt-get update failed, see $log" >&2; exit 1; }
fi

srcver() { apt-cache showsrc "$1" | sed -n 's/^Version: //p' | sort -V | tail -1; }
jver=$(srcver json-c)
cver=$(srcver libcap2)
mver=$(srcver libmicrohttpd)
key=$( { echo "$arch $jver $cver $mver"; $cc --version | head -1; cat "$0"; } |
	sha256sum | cut -c1-16)
prefix=$CACHE/cross-userlibs-$arch-$key
if [ -f "$prefix/.done" ]; then
	echo "$prefix"
	exit 0
fi

exec 9>"$CACHE/cross-userlibs-$arch.lock"
flock 9
if [ -f "$prefix/.done" ]; then echo "$prefix"; exit 0; fi

: >"$log"
work=$CACHE/cross-userlibs-work-$arch
rm -rf "$work" "$prefix" && mkdir -p "$work" "$prefix/lib/pkgconfig" "$prefix/include"
fail() { echo "build-cross-userlibs.sh: $1 failed, see $log" >&2; exit 1; }

echo "  XLIBS   $arch: json-c $jver, libcap $cver, libmicrohttpd $mver -> $prefix" >&2
(cd "$work" && apt-get source --download-only "json-c=$jver" "libcap2=$cver" "libmicrohttpd=$mver") \
	>>"$log" 2>&1 || fail "apt-get source"
(cd "$work" && dpkg-source -x json-c_*.dsc json-c && dpkg-source -x libcap2_*.dsc libcap2 &&
	dpkg-source -x libmicrohttpd_*.dsc libmicrohttpd) >>"$log" 2>&1 || fail "dpkg-source -x"

# json-c: cmake with a minimal cross toolchain description.
cat >"$work/toolchain.cmake" <<TC
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${arch/arm64/aarch64})
set(CMAKE_C_COMPILER $cc)
set(CMAKE_FIND_ROOT_PATH /usr/$triplet)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
TC
(mkdir -p "$work/json-c/build" && cd "$work/json-c/build" &&
	cmake .. -DCMAKE_TOOLCHAIN_FILE="$work/toolchain.cmake" -DCMAKE_BUILD_TYPE=Release \
		-DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib \
		-DBUILD_SHARED_LIBS=OFF -DBUILD_STATIC_LIBS=ON -DBUILD_TESTING=OFF \
		-DDISABLE_WERROR=ON -DBUILD_APPS=OFF &&
	make -j"$JOBS" && make install) >>"$log" 2>&1 || fail "json-c build"

# libcap: plain Makefiles; _makenames runs on the build host (BUILD_CC).
(cd "$work/libcap2/libcap" &&
	make -j"$JOBS" CC="$cc" AR="$triplet-ar" RANLIB="$triplet-ranlib" BUILD_CC=gcc \
		SHARED=no GOLANG=no PAM_CAP=no USE_GPERF=no libcap.a &&
	install -m 644 libcap.a "$prefix/lib/" &&
	mkdir -p "$prefix/include/sys" &&
	install -m 644 include/sys/capability.h "$prefix/include/sys/" &&
	if [ -f include/sys/psx_syscall.h ]; then install -m 644 include/sys/psx_syscall.h "$prefix/include/sys/"; fi) \
	>>"$log" 2>&1 || fail "libcap build"

# libmicrohttpd: HTTP only (no gnutls), static.
(cd "$work/libmicrohttpd" &&
	./configure --host="$triplet" --prefix="$prefix" --libdir="$prefix/lib" \
		--disable-shared --enable-static --disable-https --without-gnutls \
		--disable-doc --disable-examples --disable-curl --disable-nls \
		CC="$cc" CFLAGS="-O2" &&
	make -j"$JOBS" -C src/microhttpd && make -C src/microhttpd install &&
	make -C src/include install) >>"$log" 2>&1 || fail "libmicrohttpd build"

for f in include/json-c/json.h lib/libjson-c.a include/sys/capability.h lib/libcap.a \
	 include/microhttpd.h lib/libmicrohttpd.a; do
	[ -e "$prefix/$f" ] || { echo "build-cross-userlibs.sh: $prefix/$f missing after build" >&2; exit 1; }
done
rm -rf "$work"
touch "$prefix/.done"
echo "$prefix"
