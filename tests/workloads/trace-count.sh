#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Independent check of dirty_ring_vm's determinism, without kvm-lazytop:
# run the workload once with a private tracefs instance recording
# kvm:kvm_dirty_ring_push and syscalls:sys_enter_ioctl(cmd == KVM_RUN) with
# the tgid, then compare the kernel's counts for the workload's tgid with
# the workload's own RESULT line and with the expected N x R x V.
#
# usage: trace-count.sh WORKLOAD_BINARY [workload options...]
# Also counts kvm:kvm_userspace_exit and kvm:kvm_fpu (load), which must
# equal the KVM_RUN count for this workload (one PIO exit per KVM_RUN).
# Prints "TRACE pid=.. dirty_ring_push=.. kvm_run_ioctls=.. userspace_exits=..
# fpu_loads=.. expected_dirty=.. workload_kvm_runs=.. workload_dirty=.." and
# exits 0 only if all agree.
set -euo pipefail

bin=${1:?usage: trace-count.sh WORKLOAD_BINARY [options]}
shift
T=/sys/kernel/tracing
[ -d "$T/events" ] || T=/sys/kernel/debug/tracing
if [ ! -d "$T/events/kvm/kvm_dirty_ring_push" ]; then
	echo "trace-count.sh: tracefs event kvm/kvm_dirty_ring_push not found under $T" >&2
	exit 1
fi

inst=$T/instances/dirty_ring_vm_check.$$
tmp=$(mktemp -d)
cleanup() {
	echo 0 >"$inst/tracing_on" 2>/dev/null || true
	rmdir "$inst" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$inst"
echo 16384 >"$inst/buffer_size_kb"
echo 1 >"$inst/options/record-tgid"
echo 'cmd == 0xae80' >"$inst/events/syscalls/sys_enter_ioctl/filter"
echo 1 >"$inst/events/syscalls/sys_enter_ioctl/enable"
echo 1 >"$inst/events/kvm/kvm_dirty_ring_push/enable"
echo 1 >"$inst/events/kvm/kvm_userspace_exit/enable"
echo 1 >"$inst/events/kvm/kvm_fpu/enable"
echo 1 >"$inst/tracing_on"

"$bin" "$@" >"$tmp/out" 2>"$tmp/err" && rc=0 || rc=$?
echo 0 >"$inst/tracing_on"
if [ "$rc" != 0 ]; then
	echo "trace-count.sh: workload exited $rc:" >&2
	cat "$tmp/err" >&2
	exit 1
fi
pid=$(sed -n 's/^READY pid=\([0-9]*\).*/\1/p' "$tmp/out")
result=$(grep '^RESULT ' "$tmp/out")
field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$result"; }
w_runs=$(field kvm_runs)
w_dirty=$(field dirty_pages)
exp_dirty=$(( $(field pages) * $(field rounds) * $(field vcpus) ))

cat "$inst/trace" >"$tmp/trace"
if grep -q 'LOST' "$tmp/trace"; then
	echo "trace-count.sh: trace buffer overflowed (events lost)" >&2
	exit 1
fi
# Lines look like: "  vcpu-0-123  (    122) [001] ..... 12.3: kvm_dirty_ring_push: ..."
count() {
	awk -v pid="$pid" -v ev="$1" '
		$0 ~ ev { if (match($0, /\( *[0-9]+\)/)) {
			t = substr($0, RSTART + 1, RLENGTH - 2); gsub(/ /, "", t)
			if (t == pid) n++ } }
		END { print n + 0 }' "$tmp/trace"
}
k_dirty=$(count " kvm_dirty_ring_push:")
k_runs=$(count " sys_ioctl\\(")
k_uexit=$(count " kvm_userspace_exit:")
k_fpu=$(count " kvm_fpu: load")
echo "TRACE pid=$pid dirty_ring_push=$k_dirty kvm_run_ioctls=$k_runs userspace_exits=$k_uexit" \
	"fpu_loads=$k_fpu expected_dirty=$exp_dirty workload_kvm_runs=$w_runs workload_dirty=$w_dirty"
[ "$k_dirty" = "$exp_dirty" ] && [ "$k_dirty" = "$w_dirty" ] && [ "$k_runs" = "$w_runs" ] &&
	[ "$k_uexit" = "$w_runs" ] && [ "$k_fpu" = "$w_runs" ]
