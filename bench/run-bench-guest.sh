#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-bench-guest.sh - the riscv64 guest half of `make bench-tool`
# (parts 1b and 2b, bench/README.md): ONE boot of the patched riscv64
# kernel under QEMU (tests/e2e/demo/run-scenario.sh custom), in which
# dirty_log_perf_test runs once per arm, arms interleaved per repetition:
#
#   none   dirty_log_perf_test alone                          (part 2b)
#   kl     + kvm-lazytop -p PID --until-exit -o json          (parts 1b, 2b)
#   floor  + kl-bench floor: empty raw_tp programs on the same hooks (1b, 2b)
#   hooks  the same empty programs with kernel.bpf_stats_enabled=0 (2b:
#          splits the floor's slowdown into hook dispatch and run-time stats)
#   kl0, floor0   the same two with net.core.bpf_jit_enable=0 (first
#                 JIT0_REPS repetitions only; the interpreter is riscv's
#                 default, JIT on is production)
#
# kernel.bpf_stats_enabled=1 for the whole boot but the hooks arm; for kl/floor a
# `kl-bench progs --hold` takes a reference to the arm's programs before
# the workload starts (the workload is gated on it) and reads run_cnt/
# run_time_ns after the arm has exited.
#
# usage: run-bench-guest.sh --full|--quick --top DIR --raw DIR --run DIR
#                           --tool PATH --kl-bench PATH
#   (riscv64 static binaries).  Output: RAW/guest/ (per-job stdout/stderr,
#   status, arms.jsonl manifest, env.json); the boot itself in RUN/guest/.
# env: BENCH_GUEST_REPS, BENCH_GUEST_JIT0_REPS, BENCH_GUEST_ARGS (dirty_log_perf_test)
set -euo pipefail
# One compound command: bash parses it whole, so editing this file while a
# (long) run goes on cannot derail that run.
{

MODE='' TOP='' RAW='' RUN='' TOOL='' KLB=''
while [ $# -gt 0 ]; do
	case "$1" in
	--full) MODE=full; shift ;;
	--quick) MODE=quick; shift ;;
	--top) TOP=${2:?}; shift 2 ;;
	--raw) RAW=${2:?}; shift 2 ;;
	--run) RUN=${2:?}; shift 2 ;;
	--tool) TOOL=${2:?}; shift 2 ;;
	--kl-bench) KLB=${2:?}; shift 2 ;;
	*) echo "run-bench-guest.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
die() { echo "run-bench-guest.sh: $*" >&2; exit 1; }
if [ -z "$MODE" ] || [ -z "$TOP" ] || [ -z "$RAW" ] || [ -z "$RUN" ]; then
	die "usage: --full|--quick --top DIR --raw DIR --run DIR --tool PATH --kl-bench PATH"
fi
for f in "$TOOL" "$KLB"; do
	[ -x "$f" ] || die "$f missing (make ARCH=riscv64 tool bench-guest-tools)"
	if ! readelf -h "$f" 2>/dev/null | grep -q 'Machine: *RISC-V' || readelf -l "$f" | grep -q INTERP; then
		die "$f is not a static riscv64 binary"
	fi
done
command -v qemu-system-riscv64 >/dev/null || die "qemu-system-riscv64 not found (make deps)"
# run-scenario.sh boots these very paths
[ "$(realpath "$TOOL")" = "$(realpath "$TOP/build/riscv64/kvm-lazytop")" ] ||
	die "the guest kvm-lazytop must be $TOP/build/riscv64/kvm-lazytop (run-scenario.sh uses it)"
KDIR=$("$TOP/kernel/scripts/build-kernel.sh" patched 2>/dev/null) ||
	die "patched riscv64 kernel does not build (kernel/scripts/build-kernel.sh patched)"

if [ "$MODE" = full ]; then
	REPS=${BENCH_GUEST_REPS:-5}
	JIT0_REPS=${BENCH_GUEST_JIT0_REPS:-2}
	ARGS=${BENCH_GUEST_ARGS:--v 1 -b 64M -i 4 -m 0}
	BOOT_TIMEOUT=900
else
	REPS=${BENCH_GUEST_REPS:-1}
	JIT0_REPS=${BENCH_GUEST_JIT0_REPS:-1}
	ARGS=${BENCH_GUEST_ARGS:--v 1 -b 8M -i 2 -m 0}
	BOOT_TIMEOUT=420
fi
JOB_TIMEOUT=300
# raw_tp hooks of kvm-lazytop on riscv64 that have an empty twin in
# bpf/empty.bpf.c (the series' tracepoints and the generic KVM ones)
HOOKS=(kvm_riscv_gstage_fault kvm_riscv_vcpu_load kvm_exit kvm_entry
	kvm_riscv_vcpu_put kvm_riscv_gstage_pte_update kvm_userspace_exit)

G=$RAW/guest
BOOT=$RUN/guest
rm -rf "$G" "$BOOT"
mkdir -p "$G" "$RUN"
BODY=$RUN/guest-body.scn	# outside $BOOT: run-scenario.sh empties that
: >"$G/arms.jsonl"

# ------------------------------------------------------------ scenario body

# arm NAME REP JIT: scenario lines of one dirty_log_perf_test run under NAME
arm() {
	local a=$1 r=$2 jit=$3 t=$1-$2 w
	w="/bin/dirty_log_perf_test $ARGS"
	echo "# ---- $a, repetition $r, bpf_jit_enable=$jit"
	echo "echo $jit > /proc/sys/net/core/bpf_jit_enable"
	case $a in
	none)
		# same process shape as the gated arms: an idle VM fd, then exec
		echo "run --name $t-vmm --timeout $JOB_TIMEOUT -- lz_util gate --vm -- $w" ;;
	kl | kl0)
		echo "run --bg $t-vmm --timeout $JOB_TIMEOUT -- lz_util gate --vm --wait %results%/$t-hold.stdout holding --timeout $JOB_TIMEOUT -- $w"
		echo "sleep 1000"	# the VM fd exists: kvm-lazytop -p accepts the pid
		echo "run --bg $t-arm --timeout $JOB_TIMEOUT -- kvm-lazytop -v -p %pid:$t-vmm% --until-exit -o json"
		echo "run --bg $t-hold --timeout $JOB_TIMEOUT -- lz_util gate --wait %results%/$t-arm.stderr 'signal(s), ' --timeout $JOB_TIMEOUT -- kl-bench progs --hold %pid:$t-arm%"
		echo "wait $t-vmm"
		echo "wait $t-arm" ;;
	floor | floor0)
		echo "run --bg $t-vmm --timeout $JOB_TIMEOUT -- lz_util gate --vm --wait %results%/$t-hold.stdout holding --timeout $JOB_TIMEOUT -- $w"
		echo "run --bg $t-arm --timeout $JOB_TIMEOUT -- kl-bench floor ${HOOKS[*]}"
		echo "run --bg $t-hold --timeout $JOB_TIMEOUT -- lz_util gate --wait %results%/$t-arm.stdout attached --timeout $JOB_TIMEOUT -- kl-bench progs --hold %pid:$t-arm%"
		echo "wait $t-vmm"
		echo "kill $t-arm"
		echo "wait $t-arm" ;;
	hooks)
		echo "echo 0 > /proc/sys/kernel/bpf_stats_enabled"
		echo "run --bg $t-vmm --timeout $JOB_TIMEOUT -- lz_util gate --vm --wait %results%/$t-arm.stdout attached --timeout $JOB_TIMEOUT -- $w"
		echo "run --bg $t-arm --timeout $JOB_TIMEOUT -- kl-bench floor ${HOOKS[*]}"
		echo "wait $t-vmm"
		echo "kill $t-arm"
		echo "wait $t-arm"
		echo "echo 1 > /proc/sys/kernel/bpf_stats_enabled" ;;
	esac
	if [ "$a" != none ] && [ "$a" != hooks ]; then
		echo "kill $t-hold"
		echo "wait $t-hold"
	fi
	printf '{"arm": "%s", "rep": %d, "jit": %d, "stats": %d, "tag": "%s"}\n' "$a" "$r" "$jit" \
		"$([ "$a" = hooks ] && echo 0 || echo 1)" "$t" >>"$G/arms.jsonl"
}

{
	echo "# generated by bench/run-bench-guest.sh --$MODE"
	echo "copy /proc/version kernel_version"
	echo "copy /proc/cpuinfo cpuinfo"
	echo "echo 1 > /proc/sys/kernel/bpf_stats_enabled"
	echo "copy /proc/sys/kernel/bpf_stats_enabled bpf_stats_enabled"
	for r in $(seq "$REPS"); do
		# back to back: none/kl is the slowdown pair, kl/floor the BPF cost pair
		arm none "$r" 1
		arm kl "$r" 1
		arm floor "$r" 1
		arm hooks "$r" 1
		if ((r <= JIT0_REPS)); then
			arm kl0 "$r" 0
			arm floor0 "$r" 0
		fi
	done
	echo "echo 1 > /proc/sys/net/core/bpf_jit_enable"
	echo "copy /proc/sys/net/core/bpf_jit_enable bpf_jit_enable.end"
} >"$BODY"

python3 - "$G/env.json" "$MODE" "$KDIR" "$ARGS" "$REPS" "$JIT0_REPS" "${HOOKS[@]}" <<'EOF'
import json, os, subprocess, sys
out, mode, kdir, args, reps, jit0, *hooks = sys.argv[1:]
qv = subprocess.run(["qemu-system-riscv64", "--version"], capture_output=True, text=True).stdout.splitlines()
json.dump({"mode": mode, "kernel_dir": os.path.basename(kdir), "variant": "patched",
           "qemu": qv[0] if qv else None, "qemu_machine": "virt, rv64 h=true, TCG, -smp 2 -m 2G",
           "dirty_log_perf_test_args": args, "reps": int(reps), "jit0_reps": int(jit0),
           "floor_hooks": hooks}, open(out, "w"))
EOF

# ------------------------------------------------------------ boot

narms=$(wc -l <"$G/arms.jsonl")
echo "  BENCH   guest: one riscv64 boot (patched kernel, QEMU TCG), $narms dirty_log_perf_test runs ($ARGS)"
# progress: one line per finished workload run, from the serial console
mkdir -p "$BOOT"
touch "$BOOT/console.log"
(tail -n 0 -F "$BOOT/console.log" 2>/dev/null | grep --line-buffered -aE '^lazytop-init: [a-z0-9]+-[0-9]+-vmm: (exit|signal|timeout)' |
	sed -u 's/^lazytop-init: /  BENCH   guest: /') 2>/dev/null &
TAILPID=$!
stop_tail() {
	[ -n "${TAILPID:-}" ] || return 0
	sleep 0.3
	pkill -P "$TAILPID" 2>/dev/null || true
	kill "$TAILPID" 2>/dev/null || true
	wait "$TAILPID" 2>/dev/null || true
	TAILPID=
}
trap stop_tail EXIT
t0=$SECONDS
rc=0
"$TOP/tests/e2e/demo/run-scenario.sh" custom patched "$BOOT" --body "$BODY" --extra "$KLB" \
	--timeout "$BOOT_TIMEOUT" --jit 1 2>"$RUN/guest-boot.err" || rc=$?
stop_tail
[ "$rc" = 0 ] || die "guest boot failed ($(tail -n 2 "$RUN/guest-boot.err" | tr '\n' ' ')); console: $BOOT/console.log"
echo "  BENCH   guest: boot done in $((SECONDS - t0)) s"

# ------------------------------------------------------------ checks (fail loudly)

# every job exited 0 (probe included), the scenario finished
bad=$(awk -F'\t' '$1 != "init" && $2 != "exit=0"' "$BOOT/status")
[ -z "$bad" ] || die "guest jobs failed: $(echo "$bad" | tr '\n' ';') (see $BOOT)"
grep -q $'^init\tdone' "$BOOT/status" || die "guest scenario did not finish (see $BOOT/status)"
while read -r line; do
	tag=$(printf '%s' "$line" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tag"])')
	grep -q 'dirty memory time' "$BOOT/$tag-vmm.stdout" ||
		die "$tag: no 'dirty memory time' in dirty_log_perf_test output"
	case $tag in none-* | hooks-*) continue ;; esac
	tail -n 1 "$BOOT/$tag-hold.stdout" | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin) else 1)' \
		2>/dev/null || die "$tag: no program counters from kl-bench progs --hold ($BOOT/$tag-hold.stdout)"
done <"$G/arms.jsonl"
for f in status kernel_version bpf_stats_enabled bpf_jit_enable bpf_jit_enable.boot bpf_jit_enable.end \
	probe.stderr init.log; do
	cp "$BOOT/$f" "$G/"
done
for f in "$BOOT"/*-vmm.stdout "$BOOT"/*-vmm.stderr "$BOOT"/*-hold.stdout "$BOOT"/*-arm.stdout \
	"$BOOT"/*-arm.stderr; do
	cp "$f" "$G/"
done
grep -m1 '^model name\|^isa' "$BOOT/cpuinfo" >"$G/cpuinfo" 2>/dev/null || true
exit
}
