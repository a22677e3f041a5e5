#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Cross-build the riscv64 demo workloads (static) and print their directory.
#
#   lz_reload  VMM on the KVM selftest library (tools/testing/selftests/kvm/lib
#              of the pristine linux-source-6.12 tree, compiled here out of
#              tree with the selftests Makefile's own rules and flags)
#   lz_util    gate / live / tracecount helpers (plain C11)
#   dirty_log_perf_test  the selftest, built from the same library
#
# Result: $CACHE/lz-workloads-<key>/ keyed by these sources, the kernel
# headers (base variant's headers_install) and the toolchain.  A hit costs
# a hash.  Log: $CACHE/logs/lz-workloads.log
set -euo pipefail
{
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
CACHE=${CACHE:-/var/cache/kvm-lazytop}
CROSS=riscv64-linux-gnu-
src=$("$top/kernel/scripts/fetch-source.sh")
kdir=$("$top/kernel/scripts/build-kernel.sh" base 2>/dev/null)
ksel=$src/tools/testing/selftests/kvm
key=$( { cat "$0" "$here"/*.c; basename "$kdir"; head -6 "$src/Makefile"; ${CROSS}gcc --version | head -1; } |
	sha256sum | cut -c1-16)
out=$CACHE/lz-workloads-$key
if [ -f "$out/.done" ]; then echo "$out"; exit 0; fi

mkdir -p "$CACHE/logs" "$CACHE/locks"
# one build at a time (make test's prefetch may run beside a check)
exec 9>"$CACHE/locks/lz-workloads.lock"
flock 9
if [ -f "$out/.done" ]; then echo "$out"; exit 0; fi
log=$CACHE/logs/lz-workloads.log
: >"$log"
obj=$CACHE/lz-workloads-obj-$key
rm -rf "$obj" && mkdir -p "$obj"
t0=$SECONDS
# Ask the selftests Makefile for its library objects and flags, then let
# it build exactly those objects (OUTPUT out of tree; the source tree is
# only read).
printf 'lz-print:\n\t@echo "OBJS=$(LIBKVM_OBJS)"\n' >"$obj/print.mk"
smake() {
	make -C "$ksel" -f Makefile -f "$obj/print.mk" ARCH=riscv CROSS_COMPILE=$CROSS \
		OUTPUT="$obj" INSTALL_HDR_PATH="$kdir/headers" \
		LINUX_HDR_PATH="$kdir/headers/include/" \
		KHDR_INCLUDES="-isystem $kdir/headers/include" "$@"
}
objs=$(smake -s lz-print 2>>"$log" | sed -n 's/^OBJS=//p')
[ -n "$objs" ] || { echo "build.sh: could not list libkvm objects, see $log" >&2; exit 1; }
# shellcheck disable=SC2086
smake -j"${JOBS:-2}" $objs >>"$log" 2>&1 || {
	grep -E 'error' "$log" | tail -n 10 >&2; echo "build.sh: libkvm build failed, see $log" >&2; exit 1; }

inc=(-isystem "$ksel/include" -isystem "$ksel/include/riscv" -isystem "$ksel/.."
     -isystem "$src/tools/include" -isystem "$src/tools/arch/riscv/include"
     -isystem "$kdir/headers/include")
# shellcheck disable=SC2086
${CROSS}gcc -static -O2 -std=gnu11 -Wall -Wextra -Werror -DCONFIG_64BIT -fno-stack-protector \
	-fno-PIE -no-pie -pthread "${inc[@]}" -o "$obj/lz_reload" "$here/lz_reload.c" $objs -ldl \
	>>"$log" 2>&1 || { tail -n 20 "$log" >&2; echo "build.sh: lz_reload failed, see $log" >&2; exit 1; }
${CROSS}gcc -static -O2 -std=c11 -Wall -Wextra -Werror -o "$obj/lz_util" "$here/lz_util.c" \
	>>"$log" 2>&1 || { tail -n 20 "$log" >&2; echo "build.sh: lz_util failed, see $log" >&2; exit 1; }
# dirty_log_perf_test from the pristine tree, with the selftests' own flags:
# Debian's 6.12 selftests Makefile only lists it for riscv once the series'
# patch 0016 is applied, and the demo runs the same binary on base and
# patched kernels.
# shellcheck disable=SC2086
${CROSS}gcc -static -D_GNU_SOURCE= -O2 -std=gnu99 -DCONFIG_64BIT -U_FORTIFY_SOURCE \
	-fno-builtin-memcmp -fno-builtin-memcpy -fno-builtin-memset -fno-builtin-strnlen \
	-fno-stack-protector -fno-PIE -no-pie -fno-strict-aliasing -pthread \
	-I"$src/tools/include" -I"$src/tools/arch/riscv/include" -I"$kdir/headers/include" \
	-I"$ksel/include" -I"$ksel/include/riscv" -I"$ksel/.." -I"$ksel" \
	-o "$obj/dirty_log_perf_test" "$ksel/dirty_log_perf_test.c" $objs -ldl \
	>>"$log" 2>&1 || { tail -n 20 "$log" >&2; echo "build.sh: dirty_log_perf_test failed, see $log" >&2; exit 1; }
rm -rf "$out.tmp" && mkdir -p "$out.tmp"
cp "$obj/lz_reload" "$obj/lz_util" "$obj/dirty_log_perf_test" "$out.tmp/"
rm -rf "$out" && mv "$out.tmp" "$out" && touch "$out/.done"
rm -rf "$obj"
printf '  %-8s %s\n' WORKLOAD "lz_reload lz_util in $((SECONDS - t0))s -> $out" >&2
echo "$out"
exit 0
}
