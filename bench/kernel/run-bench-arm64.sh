#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Kernel benchmark, arm64: world-switch cost under pKVM, base vs patched
# kernel, in interleaved QEMU TCG boots (`make bench-kernel ARCH=arm64`).
# Inside each boot, bench/kernel/kvm_exit_bench (static, raw KVM API)
# times three exit kinds, in BENCH_REPS rounds of short chunks
# (hvc, mmio, ipi, hvc, ...) so that a burst of host load hits one chunk
# rather than a whole workload:
#   hvc   HVC trap exits handled in the host kernel (ns per round trip)
#   mmio  MMIO exits to user space (ns per KVM_RUN)
#   ipi   interrupt exits: membarrier() IPIs to the CPU running the guest
#         (ns per IPI), against the same IPIs to a CPU spinning in user
#         space (ipi-idle); "ipi - idle" estimates the exit part
#   preempt  a thread sharing the guest's CPU sleeps 50 us at a time and
#         preempts the vCPU thread at each wake-up: vcpu put/load while
#         scheduled out (ns per sleep-wake cycle)
# No tracing in the benchmark boots (init.notrace): the tracepoint exists
# on the patched kernel only. Writes OUTDIR/kernel-arm64.md and .json.
#
# usage: run-bench-arm64.sh OUTDIR
# env:   BENCH_BOOTS (3)        boots per variant, alternating which goes first
#        BENCH_REPS (5)         chunks of each workload per boot
#        BENCH_HVC ("40 100")   per chunk: KVM_RUNs and HVCs per KVM_RUN
#        BENCH_MMIO (600)       per chunk: MMIO exits
#        BENCH_IPI (400)        per chunk: IPIs (each, idle and guest)
#        BENCH_PREEMPT (2000)   per chunk: sleep-wake cycles
#        BENCH_TIMEOUT (900)    per boot
# Exit: 0 ok, 1 no usable boot pair, 2 usage, 3 host tool missing,
#       4 kernel build failed, 5 benchmark program build failed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
[ $# -eq 1 ] || { sed -n '4,25p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
out=$1
boots=${BENCH_BOOTS:-3}
reps=${BENCH_REPS:-5}
hvc=${BENCH_HVC:-40 100}
mmio=${BENCH_MMIO:-600}
ipi=${BENCH_IPI:-400}
preempt=${BENCH_PREEMPT:-2000}
tmo=${BENCH_TIMEOUT:-900}
say() { printf '  %-8s %s\n' BENCH "$*" >&2; }
die() { local rc=$1; shift; echo "run-bench-arm64.sh: $*" >&2; exit "$rc"; }
for n in "$boots" "$reps"; do
	case $n in ''|*[!0-9]*|0) die 2 "BENCH_BOOTS and BENCH_REPS must be positive integers" ;; esac
done

for t in aarch64-linux-gnu-gcc qemu-system-aarch64 python3 cpio gzip flock; do
	command -v "$t" >/dev/null || die 3 "$t missing (make deps)"
done

declare -A kdir
for v in base patched; do
	kdir[$v]=$("$top/kernel/scripts/arm64-build-kernel.sh" "$v") ||
		die 4 "arm64-build-kernel.sh $v failed"
done

rm -rf "$out"
mkdir -p "$out/raw" "$out/stage"
aarch64-linux-gnu-gcc -static -O2 -Wall -Wextra -pthread \
	-o "$out/stage/kvm_exit_bench" "$here/kvm_exit_bench.c" ||
	die 5 "kvm_exit_bench.c does not build"
for r in $(seq 1 "$reps"); do
	echo "300 +as=bench-hvc /selftests/kvm_exit_bench hvc $hvc"
	echo "300 +as=bench-mmio /selftests/kvm_exit_bench mmio $mmio"
	echo "300 +as=bench-ipi /selftests/kvm_exit_bench ipi $ipi"
	echo "300 +as=bench-preempt /selftests/kvm_exit_bench preempt $preempt"
done >"$out/stage/selftests.list"

for b in $(seq 1 "$boots"); do
	if [ $((b % 2)) -eq 1 ]; then order="base patched"; else order="patched base"; fi
	for v in $order; do
		say "boot $b/$boots $v"
		log=$out/raw/$v-$b.console.log
		if ! "$top/tests/e2e/arm64/boot-test.sh" --selftests "$out/stage" \
			--log "$log" --timeout "$tmo" --append init.notrace \
			"${kdir[$v]}" 2>"$out/raw/$v-$b.err"; then
			say "boot $b $v: $(grep -v '^  BOOT    /' "$out/raw/$v-$b.err" | tail -n 1)"
		fi
		grep -q '^BENCH: ' "$log" || say "boot $b $v: no BENCH lines"
	done
done

{
	echo "base=${kdir[base]}"
	echo "patched=${kdir[patched]}"
	echo "qemu=$(qemu-system-aarch64 --version | head -n 1)"
	echo "host_cpus=$(nproc)"
	echo "loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "args=$reps chunks of: hvc $hvc; mmio $mmio; ipi $ipi; preempt $preempt"
} >"$out/raw/info"
python3 "$here/report-arm64.py" "$out" "$boots"
