#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What the D1 fix (patch "Flush the entry CPU's G-stage TLB after VCPU
# migration") costs in dirty-logging time: the patched riscv64 kernel
# against the same series with only that fix taken out again (the
# mutant kernel/mutants/riscv/08-d1-migration-flush.patch, built
# non-debug like bench-kernel's kernels), dirty_log_perf_test alone in
# interleaved boots (part of `make bench-kernel`, alone: `make bench-d1`).
#
# usage: run-d1-cost.sh OUTDIR   (writes OUTDIR/d1.md, d1.json)
# env:   D1_BOOTS (3) boots per kernel, D1_ARGS (-v 4 -b 64M -i 5 -m 0),
#        D1_SERIES / D1_MUTANT another series dir / D1 mutant (trying a
#        new form of the fix before it goes into kernel/patches/riscv)
set -euo pipefail
{
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${1:?usage: run-d1-cost.sh OUTDIR}
boots=${D1_BOOTS:-3}
dargs=${D1_ARGS:--v 4 -b 64M -i 5 -m 0}
series=${D1_SERIES:-$top/kernel/patches/riscv}
mutant=${D1_MUTANT:-$top/kernel/mutants/riscv/08-d1-migration-flush.patch}
die() { echo "run-d1-cost.sh: $*" >&2; exit 1; }
say() { printf '  %-8s %s\n' BENCH "$*" >&2; }
[[ "$boots" =~ ^[1-9][0-9]*$ ]] || die "D1_BOOTS wants a positive count, not '$boots'"
[ -f "$mutant" ] || die "$mutant missing"
rm -rf "$out"
mkdir -p "$out/series"
cp "$series"/[0-9]*.patch "$out/series/"
cp "$mutant" "$out/series/9999-mutant-d1-migration-flush.patch"
say "kernels: the series, and the series without the D1 fix (non-debug)"
patched=$(KBUILD_PATCHES=$series "$top/kernel/scripts/build-kernel.sh" patched 2>"$out/build.err") ||
	die "patched kernel does not build: $(tail -n 1 "$out/build.err")"
nod1=$(KBUILD_PATCHES=$out/series "$top/kernel/scripts/build-kernel.sh" patched 2>"$out/build.err") ||
	die "kernel without the D1 fix does not build: $(tail -n 1 "$out/build.err")"
for b in $(seq 1 "$boots"); do
	order="patched nod1"
	[ $((b % 2)) -eq 0 ] && order="nod1 patched"
	for v in $order; do
		say "d1 cost: boot $b/$boots $v"
		k=$patched
		[ "$v" = nod1 ] && k=$nod1
		LZ_KERNEL_patched=$k "$top/tests/e2e/demo/run-scenario.sh" plain patched \
			"$out/$v-$b" --dirty-args "$dargs" --timeout 1800 2>"$out/$v-$b.err" ||
			say "boot failed: $(tail -n 1 "$out/$v-$b.err")"
	done
done
python3 "$here/report-d1.py" "$out" "$boots" "$dargs"
}
