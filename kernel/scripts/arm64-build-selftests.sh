#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# arm64-build-selftests.sh - build the arm64 KVM selftests that the
# kvm-lazytop boot test runs, statically linked, and print the output dir.
#
# usage: arm64-build-selftests.sh
#
# The selftests and the UAPI headers come from the pristine 6.12 tree,
# copied so that the generated sysreg header is written outside it, plus
# the selftest parts (tools/testing/selftests/) of kernel/patches/arm64;
# the tests those add to the Makefile (TEST_GEN_PROGS_aarch64) are built
# too. Result:
#   $CACHE/arm64-selftests-<hash>/<test>   (flat: one binary per test)
# stderr: one line per stage; log in $CACHE/logs/arm64-selftests.log.
set -euo pipefail

CACHE=${CACHE:-/var/cache/kvm-lazytop}
CROSS=${CROSS:-aarch64-linux-gnu-}
JOBS=${JOBS:-2}
scripts=$(cd "$(dirname "$0")" && pwd)
pristine=$CACHE/src/linux-source-6.12
tests="aarch64/aarch32_id_regs aarch64/debug-exceptions aarch64/hypercalls
aarch64/page_fault_test aarch64/psci_test aarch64/set_id_regs
aarch64/smccc_filter aarch64/vcpu_width_config aarch64/vgic_irq
aarch64/vpmu_counter_access arch_timer dirty_log_test get-reg-list
steal_time"

stage() { printf '  [arm64 selftests] %-7s %s\n' "$1" "$2" >&2; }
fail() { echo "arm64-build-selftests.sh: $*" >&2; exit 1; }

[ -f "$pristine/Makefile" ] || fail "no pristine tree at $pristine"
command -v "${CROSS}gcc" >/dev/null || fail "${CROSS}gcc missing"
# The series' selftest patches, and the tests they add.
st_patches=()
for p in "$scripts/../patches/arm64"/[0-9]*.patch; do
	[ -e "$p" ] || continue
	[ "$(basename "$p")" = 0000-cover-letter.patch ] && continue
	grep -q '^+++ b/tools/testing/selftests/' "$p" && st_patches+=("$p")
done
for p in "${st_patches[@]}"; do
	tests="$tests $(sed -n 's@^+TEST_GEN_PROGS_aarch64 += @@p' "$p")"
done

hash=$( { sed -n '1,6p' "$pristine/Makefile"; echo $tests; cat "$0";
	  for p in "${st_patches[@]}"; do cat "$p"; done
	  "${CROSS}gcc" --version | head -n 1; } | sha256sum | cut -c1-16)
out=$CACHE/arm64-selftests-$hash
if [ -f "$out/.complete" ]; then
	stage CACHED "$out"
	echo "$out"
	exit 0
fi
mkdir -p "$CACHE/logs" "$CACHE/locks"
# One build at a time: make test's background prefetch and check-arm64 (or
# two clones on one machine) share the work tree below, which a second
# build would delete under the first.
exec 9>"$CACHE/locks/arm64-selftests.lock"
flock 9
if [ -f "$out/.complete" ]; then	# built while we waited for the lock
	stage CACHED "$out"
	echo "$out"
	exit 0
fi
log=$CACHE/logs/arm64-selftests.log
: >"$log"
work=$CACHE/arm64/selftests-work
rm -rf "$work"
mkdir -p "$work/src"

# Only what the selftests build reads: tools/, the UAPI sources, the
# sysreg description, and the top-level build glue.
stage COPY "tools, include, arch/arm64 from $pristine"
(cd "$pristine" && tar cf - Makefile scripts tools include arch/arm64 \
	arch/Kconfig usr Kbuild Kconfig) | (cd "$work/src" && tar xf -)

for p in "${st_patches[@]}"; do
	stage PATCH "$(basename "$p") (tools/testing/selftests only)"
	(cd "$work/src" && git apply --include='tools/testing/selftests/*' "$p") \
		>>"$log" 2>&1 || fail "$(basename "$p") does not apply, see $log"
done

stage HEADERS "headers_install"
nice -n 19 make -C "$work/src" O="$work/hdrobj" ARCH=arm64 \
	CROSS_COMPILE="$CROSS" headers_install \
	INSTALL_HDR_PATH="$work/headers" >>"$log" 2>&1 ||
	fail "headers_install failed, see $log"

stage BUILD "$(echo $tests | wc -w) tests, static"
targets=()
for t in $tests; do targets+=("$work/build/$t"); done
nice -n 19 make -C "$work/src/tools/testing/selftests/kvm" -j"$JOBS" \
	ARCH=arm64 CROSS_COMPILE="$CROSS" OUTPUT="$work/build" \
	KHDR_INCLUDES="-isystem $work/headers/include" \
	LDFLAGS="-static -pthread" "${targets[@]}" >>"$log" 2>&1 ||
	fail "selftests build failed, see $log"

tmp=$out.partial.$$
rm -rf "$tmp"
mkdir -p "$tmp"
for t in $tests; do
	cp "$work/build/$t" "$tmp/$(basename "$t")"
	file "$tmp/$(basename "$t")" | grep -q 'statically linked' ||
		fail "$t is not static"
done
rm -rf "$out"
mv "$tmp" "$out"
touch "$out/.complete"
rm -rf "$work"
stage DONE "$out"
echo "$out"
