# SPDX-License-Identifier: GPL-2.0
#
# tests/host/kvmstats-tests.sh - host integration test of KVM's own vCPU
# stats (kl_kvmstats.c: debugfs /sys/kernel/debug/kvm/PID-FD/NAME).
# Sourced by run-host-tests.sh, whose helpers (start_workload, check_vm,
# jqv, check, bad, fail, ...) it uses; run it with
# make check-host-int HOST_TESTS=kvm_stats_x86.

INT_TESTS+=(kvm_stats_x86)

# An x86 host has KVM binary stats but none of the riscv series' names:
# kvm-lazytop finds the VM's debugfs directory, reads none of them, and
# the VM has NO "kvm_stats" member (SNAPSHOT.md: only names found, the
# member only when one is); counts and exit code are unaffected.  debugfs
# is mounted in a private mount namespace of the tool when the host has
# it unmounted (nothing outside the test sees the mount).
t_kvm_stats_x86() {
	local a dir tool=$TOOL
	[ "$(uname -m)" = x86_64 ] || fail "kvm_stats_x86 needs an x86_64 host (uname -m: $(uname -m))"
	if [ ! -d /sys/kernel/debug/kvm ]; then
		command -v unshare >/dev/null || fail "unshare (util-linux) not installed"
		cat >"$D/debugfs-tool.sh" <<-EOS
			#!/bin/sh
			mount -t debugfs none /sys/kernel/debug || exit 70
			exec "$TOOL" "\$@"
		EOS
		chmod +x "$D/debugfs-tool.sh"
		unshare -m --propagation private -- "$D/debugfs-tool.sh" --version >/dev/null 2>&1 ||
			fail "cannot mount debugfs in a private mount namespace (unshare -m)"
		TOOL="unshare -m --propagation private -- $D/debugfs-tool.sh"
	fi
	start_workload A -n 64 -r 30 -v 2
	a=$WL_PID
	# shellcheck disable=SC2086 # TOOL holds the unshare command line
	$TOOL -v -p "$a" --until-exit -o json >"$D/lt.out" 2>"$D/lt.err" &
	LT_PID=$!
	LT_ARGS="-v -p $a --until-exit -o json"
	BG+=("$LT_PID")
	TOOL=$tool
	wait_attached "$LT_PID" lt
	kill -USR1 "$a"
	wait_workload A "$a"
	wait_exit "$LT_PID" 30
	check "kvm-lazytop exit code" "$RC" 0
	dir=$(sed -n "s|^kvm-lazytop: kvm stats: \(/sys/kernel/debug/kvm/$a-[0-9]*\): 0 of 5 stats\$|\1|p" "$D/lt.err")
	[ -n "$dir" ] || bad "no 'kvm stats: /sys/kernel/debug/kvm/$a-FD: 0 of 5 stats' line: $(grep 'kvm stats' "$D/lt.err" | head -3)"
	log "VM debugfs directory found: ${dir:-none}"
	json_valid "$D/lt.out" "kvm-lazytop -p"
	check "vms[pid $a] has kvm_stats" "$(jq "[.vms[] | select(.pid == $a) | has(\"kvm_stats\")] | .[0]" "$D/lt.out")" false
	# kvm_stats exist since 1.3
	check "schema_version >= 1.3" \
		"$(jqv "$D/lt.out" '.schema_version | split(".") | map(tonumber) | (.[0] > 1 or .[1] >= 3)')" true
	check_vm "$D/lt.out" "$a" "$D/A.out"
	"$TOOL" report "$D/lt.out" >"$D/report.txt" 2>"$D/report.err"
	check "kvm-lazytop report exit code" "$?" 0
	check "report 'kvm stats:' lines" "$(grep -c 'kvm stats:' "$D/report.txt")" 0
}
