#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the kernel's KVM selftest library (tools/testing/selftests/kvm/lib,
# x86_64) out of tree, cached under $CACHE keyed by the kernel tree version,
# the compiler and this script.  The pristine source tree is only read:
# uapi headers are installed with "make O=<cache dir> headers_install" and
# every object is written into the cache directory.
#
# Prints the prefix on stdout.  Layout of the prefix:
#   usr/include/          installed x86 uapi headers
#   obj/*.o               the LIBKVM objects (same list and flags as the
#                         selftests Makefile)
#   cflags                compiler flags a test program must use (one line)
#   objs                  the object list to link (one line)
#
# usage: build-kvmlib.sh [x86_64]
set -euo pipefail

arch=${1:-x86_64}
if [ "$arch" != x86_64 ]; then
	echo "build-kvmlib.sh: only x86_64 is supported (got '$arch')" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
CACHE=${CACHE:-/var/cache/kvm-lazytop}
CC=${CC:-gcc}
src=$("$here/../../kernel/scripts/fetch-source.sh")
kdir=$src/tools/testing/selftests/kvm

key=$( (head -5 "$src/Makefile"; echo "$arch"; "$CC" --version | head -1; cat "$0") |
	sha256sum | cut -c1-16)
prefix=$CACHE/kvmlib-$arch-$key
if [ -f "$prefix/.done" ]; then
	echo "$prefix"
	exit 0
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/kvmlib-$arch.lock"
flock 9
if [ -f "$prefix/.done" ]; then
	echo "$prefix"
	exit 0
fi

log=$CACHE/logs/kvmlib-$arch-$key.log
mkdir -p "$CACHE/logs"
rm -rf "$prefix" "$prefix.tmp"
mkdir -p "$prefix.tmp/obj" "$prefix.tmp/kbuild"
: >"$log"

echo "  HDRINST x86 uapi headers -> $prefix" >&2
if ! make -s -C "$src" O="$prefix.tmp/kbuild" ARCH=x86 \
	INSTALL_HDR_PATH="$prefix.tmp/usr" headers_install >>"$log" 2>&1; then
	echo "build-kvmlib.sh: headers_install failed, see $log" >&2
	exit 1
fi
rm -rf "$prefix.tmp/kbuild"

# Same flags as tools/testing/selftests/kvm/Makefile (6.12) for x86_64.
cflags="-Wall -Wstrict-prototypes -Wuninitialized -O2 -g -std=gnu99"
cflags+=" -D_GNU_SOURCE= -DCONFIG_64BIT -U_FORTIFY_SOURCE"
cflags+=" -fno-builtin-memcmp -fno-builtin-memcpy -fno-builtin-memset -fno-builtin-strnlen"
cflags+=" -fno-stack-protector -fno-PIE -fno-strict-aliasing"
if echo 'void foo(void) { }' | "$CC" -march=x86-64-v2 -x c - -c -o /dev/null 2>/dev/null; then
	cflags+=" -march=x86-64-v2"
fi
incs="-I$src/tools/include -I$src/tools/arch/x86/include -I$kdir/include"
incs+=" -I$kdir/include/x86_64 -I$src/tools/testing/selftests/rseq"
incs+=" -I$src/tools/testing/selftests -isystem $prefix.tmp/usr/include"

libsrc="assert.c elf.c guest_modes.c io.c kvm_util.c memstress.c guest_sprintf.c
	rbtree.c sparsebit.c test_util.c ucall_common.c userfaultfd_util.c
	x86_64/apic.c x86_64/handlers.S x86_64/hyperv.c x86_64/memstress.c
	x86_64/pmu.c x86_64/processor.c x86_64/sev.c x86_64/svm.c x86_64/ucall.c
	x86_64/vmx.c"
objs=
for f in $libsrc string_override.c; do
	o=$prefix.tmp/obj/$(echo "${f%.*}" | tr / _).o
	extra=
	# string overrides are freestanding (see the selftests Makefile)
	[ "$f" = string_override.c ] && extra=-ffreestanding
	echo "  CC      kvmlib/$f" >&2
	# shellcheck disable=SC2086
	if ! (cd "$kdir" && "$CC" $cflags $incs -I"$kdir/lib/$(dirname "$f")" $extra \
		-c "lib/$f" -o "$o") >>"$log" 2>&1; then
		echo "build-kvmlib.sh: compiling lib/$f failed, see $log" >&2
		exit 1
	fi
	objs+=" ${o/$prefix.tmp/$prefix}"
done

# Flags for users: the selftest headers are -isystem so that a program can
# build with -Wall -Wextra -Werror without warnings from the library headers.
ucflags="-D_GNU_SOURCE= -DCONFIG_64BIT -U_FORTIFY_SOURCE"
ucflags+=" -fno-builtin-memcmp -fno-builtin-memcpy -fno-builtin-memset -fno-builtin-strnlen"
ucflags+=" -fno-stack-protector -fno-PIE -fno-strict-aliasing"
[[ $cflags == *x86-64-v2* ]] && ucflags+=" -march=x86-64-v2"
ucflags+=" -isystem $src/tools/include -isystem $src/tools/arch/x86/include"
ucflags+=" -isystem $kdir/include -isystem $kdir/include/x86_64"
ucflags+=" -isystem $src/tools/testing/selftests -isystem $prefix/usr/include"
echo "$ucflags" >"$prefix.tmp/cflags"
echo "$objs" >"$prefix.tmp/objs"
mv "$prefix.tmp" "$prefix"
touch "$prefix/.done"
echo "$prefix"
