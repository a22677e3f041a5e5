#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-arm64.sh - arm64 pKVM end to end: boot the patched kernel under
# QEMU TCG with kvm-arm.mode=protected, run the KVM selftests and our
# lazy_state_test, and assert on verdicts, dmesg and the
# kvm_arm_pkvm_state_sync counts (tests/e2e/arm64/check-results.py).
#
# usage: check-arm64.sh [--full] [--nvhe] OUTDIR
#
#   (default)  `make check-arm64`: the patched kernel only, with
#              selftests-quick.list; verdicts are compared with the
#              recorded base verdicts (base-verdicts.txt)
#   --full     `make check-arm64-full`: base, then patched, both with the
#              full selftests.list; verdicts are compared with this base
#              run and the base-vs-patched table is printed
#   --nvhe     `make check-arm64-nvhe` (with --full: -full-nvhe): the
#              same, with pKVM in nVHE instead of hVHE mode. QEMU's
#              -cpu max has VHE, which 6.12 uses for pKVM (hVHE); the
#              id-register override NVHE_APPEND below keeps the kernel
#              and the hypervisor off it, and the check asserts that the
#              boot says "Protected nVHE mode"
#
# env: ARM64_LAZYTOP  require (default): build `make ARCH=arm64 tool`,
#                     run it beside the +lazytop tests and assert on its
#                     snapshots; a failed build fails the check
#                     off: never (said loudly; for kernel-only work)
#                     PATH: use that static arm64 binary
#
# Kernels and selftests come from kernel/scripts/arm64-build-*.sh (cached
# under $CACHE; a cold cache builds them here). Results, console logs and
# the check output go to OUTDIR.
#
# Exit: 0 all checks passed, 1 a check failed, 2 usage, 3 a host tool is
# missing, 4 a kernel/selftests build failed, 5 the kvm-lazytop build
# failed, 6 a boot did not run its whole list.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
scripts=$top/kernel/scripts
start=$SECONDS
full=0 mode=hVHE append=
# After kvm-arm.mode=protected (boot-test.sh), whose alias sets
# arm64_sw.hvhe=1: later options win.
NVHE_APPEND="id_aa64mmfr1.vh=0 arm64_sw.hvhe=0"
while [ $# -gt 1 ]; do
	case $1 in
	--full) full=1; shift ;;
	--nvhe) mode=nVHE append=$NVHE_APPEND; shift ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || { sed -n '4,40p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
out=$1
mkdir -p "$out"
say() { printf '  %-8s %s\n' ARM64 "$*" >&2; }
die() { local rc=$1; shift; echo "check-arm64: $*" >&2; exit "$rc"; }

for t in aarch64-linux-gnu-gcc qemu-system-aarch64 python3 cpio gzip file \
	 flock rsync make; do
	command -v "$t" >/dev/null ||
		die 3 "$t missing (make deps installs gcc-aarch64-linux-gnu, qemu-system-arm, ...)"
done
[ -d /usr/aarch64-linux-gnu/lib ] ||
	die 3 "no arm64 C library for static test builds (apt-get install libc6-dev-arm64-cross)"

# ---- kernels and selftests (cached) --------------------------------
variants=patched
[ $full -eq 1 ] && variants="base patched"
declare -A kdir
for v in $variants; do
	t0=$SECONDS
	kdir[$v]=$("$scripts/arm64-build-kernel.sh" "$v") ||
		die 4 "arm64-build-kernel.sh $v failed (log: ${CACHE:-/var/cache/kvm-lazytop}/logs/arm64-kernel-$v.log)"
	say "kernel $v: ${kdir[$v]} ($((SECONDS - t0)) s)"
done
selftests=$("$scripts/arm64-build-selftests.sh") ||
	die 4 "arm64-build-selftests.sh failed (log: ${CACHE:-/var/cache/kvm-lazytop}/logs/arm64-selftests.log)"

# ---- kvm-lazytop ----------------------------------------------------
lt_mode=${ARM64_LAZYTOP:-require} lazytop= lt_check=note
build_tool() {
	say "kvm-lazytop: make ARCH=arm64 tool (log $out/tool-arm64.log)"
	make -C "$top" --no-print-directory ARCH=arm64 tool >"$out/tool-arm64.log" 2>&1
}
case $lt_mode in
off) say "kvm-lazytop: ARM64_LAZYTOP=off, +lazytop hooks not asserted" ;;
require)
	build_tool || {
		tail -n 20 "$out/tool-arm64.log" >&2
		die 5 "make ARCH=arm64 tool failed, see $out/tool-arm64.log"
	}
	lazytop=$top/build/arm64/kvm-lazytop lt_check=require ;;
*)
	[ -x "$lt_mode" ] || die 2 "ARM64_LAZYTOP=$lt_mode: not require|off or an executable"
	lazytop=$lt_mode lt_check=require ;;
esac

# ---- boots ------------------------------------------------------------
if [ $full -eq 1 ]; then list=$here/selftests.list; else list=$here/selftests-quick.list; fi
run() {	# variant [--lazytop BIN]
	local v=$1 t0=$SECONDS
	shift
	say "boot $v: $(grep -cv '^[[:space:]]*\(#\|$\)' "$list") tests from $(basename "$list")"
	"$here/run-selftests.sh" --list "$list" ${append:+--append "$append"} "$@" \
		"${kdir[$v]}" "$selftests" "$out/$v.txt" ||
		die 6 "the $v boot did not run its whole list, see $out/$v.console.log"
	say "boot $v: $((SECONDS - t0)) s"
}
rm -f "$out"/*.txt "$out"/*.console.log "$out"/*.lazytop-*
[ $full -eq 1 ] && run base
run patched ${lazytop:+--lazytop "$lazytop"}

# ---- checks -------------------------------------------------------------
if [ $full -eq 1 ]; then
	echo
	echo "base vs patched ($(basename "$list")):"
	"$here/compare-results.sh" "$out/base.txt" "$out/patched.txt" | tee "$out/compare.md"
	echo
	base_arg=(--base-results "$out/base.txt")
else
	base_arg=(--base-verdicts "$here/base-verdicts.txt")
fi
set +e
python3 "$here/check-results.py" --list "$list" --results "$out/patched.txt" \
	"${base_arg[@]}" --lazytop "$lt_check" --mode "$mode" | tee "$out/check.txt"
rc=${PIPESTATUS[0]}
set -e
echo "check-arm64: wall time $((SECONDS - start)) s (results in $out)"
exit $rc
