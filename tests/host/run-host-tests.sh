#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host (x86_64) integration tests of kvm-lazytop, driven by the deterministic
# dirty-ring VMM tests/workloads/dirty_ring_vm (see its header comment for
# the exact counts it produces: per vCPU, dirty pages = N*R and
# KVM_RUN ioctls = R+1, all exits KVM_EXIT_IO).
#
# usage: run-host-tests.sh --tool PATH --workload PATH --out DIR
#                          int|cost|all [TEST...]
#   int   exact counts, isolation, live view, bad input, probe
#   cost  60 s collector CPU/RSS measurement (<= 1% of one core)
#   TEST  run only these tests of the group (names: see --list)
#
# Every test prints PASS/FAIL with the reason; the run ends with
# "N passed, N failed" and exits non-zero on any failure.  A missing
# prerequisite is a failure, never a skip.
set -euo pipefail

TOOL=
WORKLOAD=
OUT=
ATTACH_TIMEOUT=${KL_TEST_ATTACH_TIMEOUT:-60}
COST_SECONDS=${KL_TEST_COST_SECONDS:-60}
COST_MAX_PCT=${KL_TEST_COST_MAX_PCT:-1.0}

INT_TESTS=(exact exact_smp identity isolation_pid isolation_all live_view
	bad_no_such_pid bad_not_a_vm bad_target_exited bad_no_privilege
	bad_no_privilege_pid bad_unknown_option bad_interval bad_interval_zero probe
	least_privilege least_privilege_name least_privilege_uid0 bad_no_privilege_name
	bad_no_privilege_caps bad_no_privilege_tracepoint)
COST_TESTS=(cost)
# command line tests (-- COMMAND, ndjson, escaping, ...): they add to INT_TESTS
# shellcheck source=tests/host/cli-tests.sh
. "$(dirname "${BASH_SOURCE[0]}")/cli-tests.sh"
# shellcheck source=tests/host/datapath-tests.sh
. "$(dirname "${BASH_SOURCE[0]}")/datapath-tests.sh"
# shellcheck source=tests/host/kvmstats-tests.sh
. "$(dirname "${BASH_SOURCE[0]}")/kvmstats-tests.sh"

die_usage() {
	echo "usage: run-host-tests.sh --tool PATH --workload PATH --out DIR int|cost|all [TEST...]" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case "$1" in
	--tool) TOOL=${2:?}; shift 2 ;;
	--workload) WORKLOAD=${2:?}; shift 2 ;;
	--out) OUT=${2:?}; shift 2 ;;
	--list) echo "int: ${INT_TESTS[*]}"; echo "cost: ${COST_TESTS[*]}"; exit 0 ;;
	-*) die_usage ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] && [ -n "$TOOL" ] && [ -n "$WORKLOAD" ] && [ -n "$OUT" ] || die_usage
group=$1
shift
case "$group" in
int) tests=("${INT_TESTS[@]}") ;;
cost) tests=("${COST_TESTS[@]}") ;;
all) tests=("${INT_TESTS[@]}" "${COST_TESTS[@]}") ;;
*) die_usage ;;
esac
if [ $# -gt 0 ]; then
	for t in "$@"; do
		[[ " ${INT_TESTS[*]} ${COST_TESTS[*]} " == *" $t "* ]] ||
			{ echo "run-host-tests.sh: unknown test '$t' (see --list)" >&2; exit 2; }
	done
	tests=("$@")
fi
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
# absolute: some tests run the tool from their own directory
[[ $TOOL == /* ]] || TOOL=$PWD/$TOOL
[[ $WORKLOAD == /* ]] || WORKLOAD=$PWD/$WORKLOAD

# ---------------------------------------------------------------- helpers
# Every helper runs inside the per-test subshell: fail() ends the test.

BG=()		# processes this test started (killed by pid at test end)
ERRS=0		# soft assertion failures in this test
D=		# this test's output directory

log() { echo "    $*"; }
fail() { echo "    FAIL: $*"; exit 1; }
bad() { echo "    FAIL: $*"; ERRS=$((ERRS + 1)); }

cleanup_bg() {
	local p
	for p in "${BG[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${BG[@]}"; do
		for _ in $(seq 20); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [ -n "${TMUX_SOCK:-}" ]; then
		tmux -L "$TMUX_SOCK" kill-server 2>/dev/null || true
	fi
}

# wait_exit PID TIMEOUT_S -> sets RC (124 = still running at the timeout)
wait_exit() {
	local pid=$1 tmo=$2 t0=$SECONDS
	while kill -0 "$pid" 2>/dev/null; do
		# a zombie child still answers kill -0; check its state
		[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && break
		if ((SECONDS - t0 >= tmo)); then RC=124; return 0; fi
		sleep 0.1
	done
	wait "$pid" && RC=0 || RC=$?
}

# start_workload TAG ARGS... -> WL_PID; the VM exists, no KVM_RUN yet.
start_workload() {
	local tag=$1 t0=$SECONDS
	shift
	"$WORKLOAD" --wait-signal "$@" >"$D/$tag.out" 2>"$D/$tag.err" &
	WL_PID=$!
	BG+=("$WL_PID")
	until grep -q '^READY ' "$D/$tag.out" 2>/dev/null; do
		kill -0 "$WL_PID" 2>/dev/null ||
			fail "workload $tag ($*) died before READY: $(tail -3 "$D/$tag.err")"
		((SECONDS - t0 < 30)) || fail "workload $tag not READY after 30 s"
		sleep 0.05
	done
	[ -n "$(find "/proc/$WL_PID/fd" -lname 'anon_inode:kvm-vm' 2>/dev/null || true)" ] ||
		fail "workload $tag (pid $WL_PID) holds no anon_inode:kvm-vm fd"
	log "workload $tag: pid $WL_PID, $*"
}

# wait_workload TAG PID -> checks exit 0 and status=ok; sets RESULT line
wait_workload() {
	local tag=$1 pid=$2
	wait_exit "$pid" 300
	[ "$RC" = 0 ] || fail "workload $tag exited $RC: $(tail -3 "$D/$tag.err")"
	RESULT=$(grep '^RESULT ' "$D/$tag.out") || fail "workload $tag printed no RESULT line"
	[[ $RESULT == *status=ok* ]] || fail "workload $tag: $RESULT"
	log "workload $tag: $RESULT"
}

# wait_result TAG PID: the workload finished its run (it may still hold)
wait_result() {
	local tag=$1 pid=$2 t0=$SECONDS
	until grep -q '^RESULT ' "$D/$tag.out" 2>/dev/null; do
		kill -0 "$pid" 2>/dev/null || fail "workload $tag exited without RESULT: $(tail -3 "$D/$tag.err")"
		((SECONDS - t0 < 300)) || fail "workload $tag: no RESULT after 300 s"
		sleep 0.1
	done
	RESULT=$(grep '^RESULT ' "$D/$tag.out")
	[[ $RESULT == *status=ok* ]] || fail "workload $tag: $RESULT"
	log "workload $tag: $RESULT"
}

field() { sed -n "s/.* $2=\([0-9]*\).*/\1/p" <<<"$1"; }
# vcpu_field WORKLOAD_OUT VCPU_ID KEY: KEY=value of the "VCPU id=.." line
vcpu_field() {
	awk -v id="$2" -v k="$3" '$1 == "VCPU" && $2 == "id=" id {
		for (i = 3; i <= NF; i++) if (index($i, k "=") == 1) print substr($i, length(k) + 2) }' "$1"
}

# start_tool TAG ARGS... -> LT_PID (stdout $D/TAG.out, stderr $D/TAG.err)
start_tool() {
	local tag=$1
	shift
	"$TOOL" "$@" >"$D/$tag.out" 2>"$D/$tag.err" &
	LT_PID=$!
	LT_ARGS="$*"
	BG+=("$LT_PID")
	log "kvm-lazytop $*: pid $LT_PID"
}

nlinks() { find "/proc/$1/fd" -lname 'anon_inode:bpf_link' 2>/dev/null | wc -l || true; }

# wait_attached PID TAG: the collector's programs are attached.  With -v
# the collector prints "attached N signal(s)" once its final BPF object is
# attached (before that, --probe style per-signal load/attach/detach cycles
# make the bpf_link count go up and down); then its bpf_link fd count must
# be non-zero.  Without -v: the bpf_link count is non-zero and unchanged
# for 1.5 s.
wait_attached() {
	local pid=$1 tag=$2 t0=$SECONDS n last=-1 stable=0 verbose=0
	grep -q -- ' -v' <<<" ${LT_ARGS:-}" && verbose=1
	while :; do
		kill -0 "$pid" 2>/dev/null ||
			fail "kvm-lazytop exited before attaching: $(head -3 "$D/$tag.err")"
		n=$(nlinks "$pid")
		if ((verbose)); then
			grep -Eq 'attached [0-9]+ signal' "$D/$tag.err" && ((n > 0)) && break
		else
			if ((n > 0 && n == last)); then stable=$((stable + 1)); else stable=0; fi
			last=$n
			((stable >= 15)) && break
		fi
		((SECONDS - t0 < ATTACH_TIMEOUT)) ||
			fail "kvm-lazytop not attached within ${ATTACH_TIMEOUT} s (bpf_link fds: $n)"
		sleep 0.1
	done
	log "kvm-lazytop attached: $n bpf_link fds after $((SECONDS - t0)) s" \
		"$( ((verbose)) && grep -Eo 'attached [0-9]+ signal.*' "$D/$tag.err" | head -1)"
}

# check EXPR_DESCRIPTION GOT EXPECTED
check() {
	if [ "$2" = "$3" ]; then log "ok: $1 = $2"; else bad "$1 = '$2', expected '$3'"; fi
}

# jqv FILE FILTER [jq args...]: one value ("missing" if null/absent)
jqv() {
	local f=$1 q=$2
	shift 2
	jq -r "$@" "[$q] | if length == 0 or .[0] == null then \"missing\" else .[0] end" \
		"$f" 2>/dev/null || echo "unparsable"
}

json_valid() {
	[ -s "$1" ] || fail "$2: no JSON written ($1 is empty)"
	jq -e 'type == "object" and has("vms") and has("probes")' "$1" >/dev/null 2>&1 ||
		fail "$2: not a snapshot object: $(head -c 300 "$1")"
}

probe_attached() { [ "$(jqv "$1" ".probes[\"$2\"]")" = attached ]; }

# check_vm JSON PID WORKLOAD_OUT: the VM's counters equal the workload's
# own exact numbers (total and per vCPU).  Identity (comm, tid): t_identity.
check_vm() {
	local j=$1 pid=$2 wout=$3 res n r v runs dirty i vq
	res=$(grep '^RESULT ' "$wout")
	n=$(field "$res" pages); r=$(field "$res" rounds); v=$(field "$res" vcpus)
	runs=$(field "$res" kvm_runs); dirty=$(field "$res" dirty_pages)
	check "workload dirty_pages (N*R*V = $n*$r*$v)" "$dirty" $((n * r * v))
	vq=".vms[] | select(.pid == $pid)"
	check "pid $pid: number of vms[] entries" "$(jq "[.vms[] | select(.pid == $pid)] | length" "$j")" 1
	check "pid $pid: counters.dirty_pages" "$(jqv "$j" "$vq | .counters.dirty_pages")" "$dirty"
	check "pid $pid: counters.kvm_runs" "$(jqv "$j" "$vq | .counters.kvm_runs")" "$runs"
	if probe_attached "$j" kvm_userspace_exit; then
		check "pid $pid: counters.userspace_exits" "$(jqv "$j" "$vq | .counters.userspace_exits")" "$runs"
	fi
	if probe_attached "$j" kvm_fpu; then
		check "pid $pid: counters.fpu_loads" "$(jqv "$j" "$vq | .counters.fpu_loads")" "$runs"
	fi
	check "pid $pid: vcpus[] entries" "$(jqv "$j" "[$vq | .vcpus[]] | length")" "$v"
	for ((i = 0; i < v; i++)); do
		local cq="$vq | .vcpus[] | select(.vcpu_id == $i)"
		check "pid $pid vcpu $i: dirty_pages" "$(jqv "$j" "$cq | .counters.dirty_pages")" $((n * r))
		check "pid $pid vcpu $i: kvm_runs" "$(jqv "$j" "$cq | .counters.kvm_runs")" \
			"$(vcpu_field "$wout" "$i" kvm_runs)"
	done
}

# ---------------------------------------------------------------- tests

# One workload, one vCPU, kvm-lazytop -p PID --until-exit -o json.
exact_run() {
	local n=$1 r=$2 v=$3 wpid
	start_workload wl -n "$n" -r "$r" -v "$v"
	wpid=$WL_PID
	start_tool lt -v -p "$wpid" --until-exit -o json
	wait_attached "$LT_PID" lt
	kill -USR1 "$wpid"
	wait_workload wl "$wpid"
	wait_exit "$LT_PID" 30
	check "kvm-lazytop --until-exit exit code" "$RC" 0
	[ "$RC" != 124 ] || fail "kvm-lazytop did not exit within 30 s of the VM's exit"
	json_valid "$D/lt.out" "kvm-lazytop -o json"
	check_vm "$D/lt.out" "$wpid" "$D/wl.out"
}
t_exact() { exact_run 64 25 1; }
t_exact_smp() { exact_run 300 12 2; }

# Identity of a short-lived VM in the final --until-exit snapshot: comm,
# name, exited, and each vCPU's thread id (the VM and its vCPU threads are
# gone when the snapshot is made; the collector saw them while attached).
t_identity() {
	local p i vq
	start_workload wl -n 64 -r 10 -v 2
	p=$WL_PID
	start_tool lt -v -p "$p" --until-exit -o json
	wait_attached "$LT_PID" lt
	kill -USR1 "$p"
	wait_workload wl "$p"
	wait_exit "$LT_PID" 30
	check "kvm-lazytop --until-exit exit code" "$RC" 0
	json_valid "$D/lt.out" "kvm-lazytop -o json"
	vq=".vms[] | select(.pid == $p)"
	check "pid $p: comm" "$(jqv "$D/lt.out" "$vq | .comm")" dirty_ring_vm
	check "pid $p: name" "$(jqv "$D/lt.out" "$vq | .name")" dirty_ring_vm
	check "pid $p: exited" "$(jqv "$D/lt.out" "$vq | .exited")" true
	for i in 0 1; do
		check "pid $p vcpu $i: tid" \
			"$(jqv "$D/lt.out" "$vq | .vcpus[] | select(.vcpu_id == $i) | .tid")" \
			"$(vcpu_field "$D/wl.out" "$i" tid)"
	done
}

# Two VMs at once, -p A: A's numbers are exactly those of A alone and B is
# absent.
t_isolation_pid() {
	local a b
	start_workload A -n 64 -r 30 -v 1; a=$WL_PID
	start_workload B -n 500 -r 40 -v 2; b=$WL_PID
	start_tool lt -v -p "$a" --until-exit -o json
	wait_attached "$LT_PID" lt
	kill -USR1 "$b"
	kill -USR1 "$a"
	wait_workload A "$a"
	wait_workload B "$b"
	wait_exit "$LT_PID" 30
	check "kvm-lazytop exit code" "$RC" 0
	json_valid "$D/lt.out" "kvm-lazytop -p A"
	check "vms[] entries with -p A" "$(jq '.vms | length' "$D/lt.out")" 1
	check "B (pid $b) absent" "$(jq "[.vms[] | select(.pid == $b)] | length" "$D/lt.out")" 0
	check_vm "$D/lt.out" "$a" "$D/A.out"
}

# Two VMs at once, no -p: both appear, each with its own exact numbers.
t_isolation_all() {
	local a b
	start_workload A -n 64 -r 30 -v 1 --hold-ms 600000; a=$WL_PID
	start_workload B -n 500 -r 40 -v 2 --hold-ms 600000; b=$WL_PID
	start_tool lt -v -o json
	wait_attached "$LT_PID" lt
	kill -USR1 "$a"
	kill -USR1 "$b"
	wait_result A "$a"
	wait_result B "$b"
	kill -INT "$LT_PID"
	wait_exit "$LT_PID" 30
	check "kvm-lazytop (all VMs) exit code after SIGINT" "$RC" 0
	json_valid "$D/lt.out" "kvm-lazytop (all VMs)"
	check_vm "$D/lt.out" "$a" "$D/A.out"
	check_vm "$D/lt.out" "$b" "$D/B.out"
}

# Live ncurses view in a detached 160x40 tmux: the VM row shows up, 'q'
# quits with exit 0.
t_live_view() {
	local p t0 cap=
	command -v tmux >/dev/null || fail "tmux not installed"
	start_workload wl -n 256 -r 0 -t 120 -v 1
	p=$WL_PID
	kill -USR1 "$p"
	TMUX_SOCK=kltest-$$-$RANDOM
	tmux -L "$TMUX_SOCK" -f /dev/null new-session -d -s live -x 160 -y 40 \
		"TERM=screen '$TOOL' -p $p 2>'$D/lt.err'; echo \$? >'$D/lt.rc'"
	t0=$SECONDS
	while ((SECONDS - t0 < 15)); do
		cap=$(tmux -L "$TMUX_SOCK" capture-pane -p -t live 2>/dev/null || true)
		grep -Eq "(^|[^0-9])$p([^0-9]|$).*dirty_ring" <<<"$cap" && break
		[ ! -e "$D/lt.rc" ] || break
		sleep 0.2
	done
	printf '%s\n' "$cap" >"$D/capture.txt"
	if ! grep -Eq "(^|[^0-9])$p([^0-9]|$).*dirty_ring" <<<"$cap"; then
		fail "no row with pid $p and comm dirty_ring_vm within 15 s; pane:
$(head -15 "$D/capture.txt")
stderr: $(cat "$D/lt.err" 2>/dev/null)"
	fi
	log "ok: VM row after $((SECONDS - t0)) s: $(grep -E "(^|[^0-9])$p([^0-9]|$)" <<<"$cap" | head -1)"
	tmux -L "$TMUX_SOCK" send-keys -t live q
	t0=$SECONDS
	until [ -s "$D/lt.rc" ]; do
		((SECONDS - t0 < 10)) || fail "kvm-lazytop still running 10 s after 'q'"
		sleep 0.1
	done
	check "exit code after 'q'" "$(cat "$D/lt.rc")" 0
	check "stderr lines" "$(wc -l <"$D/lt.err")" 0
}

# bad_input EXPECTED_RC DESCRIPTION [setpriv...] -- ARGS...: exactly one
# stderr line, the documented exit code, no crash.
bad_input() {
	local want=$1 what=$2 rc lines
	shift 2
	local pre=()
	while [ "$1" != -- ]; do pre+=("$1"); shift; done
	shift
	(cd "$D" && "${pre[@]}" "$TOOL" "$@" >"$D/lt.out" 2>"$D/lt.err") && rc=0 || rc=$?
	log "kvm-lazytop $* ($what): exit $rc, stderr: $(head -c 300 "$D/lt.err")"
	((rc < 128)) || bad "crashed: exit code $rc (signal $((rc - 128)))"
	compgen -G "$D/core*" >/dev/null && bad "core file left in $D"
	check "exit code ($what)" "$rc" "$want"
	lines=$(wc -l <"$D/lt.err")
	check "stderr lines" "$lines" 1
	[ -s "$D/lt.err" ] || bad "stderr is empty"
}

t_bad_no_such_pid() {
	local p
	p=$(( $(cat /proc/sys/kernel/pid_max) - 1 ))
	while [ -e "/proc/$p" ]; do p=$((p - 1)); done
	bad_input 3 "no such process" -- -p "$p" -d 2s -o json
}

t_bad_not_a_vm() {
	sleep 30 &
	local p=$!
	BG+=("$p")
	bad_input 4 "sleep is not a VM" -- -p "$p" -d 2s -o json
}

# The VM exits ~2 s after the start while kvm-lazytop -d 30s (no
# --until-exit) is attached: snapshot written, exit code 6, well before 30 s.
t_bad_target_exited() {
	local p t0
	start_workload wl -n 64 -r 20 -v 1 --hold-ms 2000
	p=$WL_PID
	start_tool lt -p "$p" -d 30s -o json
	wait_attached "$LT_PID" lt
	t0=$SECONDS
	kill -USR1 "$p"
	wait_workload wl "$p"
	wait_exit "$LT_PID" 25
	[ "$RC" != 124 ] || fail "kvm-lazytop still running 25 s after the VM exited"
	log "kvm-lazytop exited $RC, $((SECONDS - t0)) s after the start; stderr: $(head -c 300 "$D/lt.err")"
	((RC < 128)) || bad "crashed: exit code $RC"
	compgen -G "$D/core*" >/dev/null && bad "core file left in $D"
	check "exit code (target exited)" "$RC" 6
	check "stderr lines" "$(wc -l <"$D/lt.err")" 1
	json_valid "$D/lt.out" "snapshot after target exit"
	check_vm "$D/lt.out" "$p" "$D/wl.out"
	check "pid $p: exited" "$(jqv "$D/lt.out" ".vms[] | select(.pid == $p) | .exited")" true
}

NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
t_bad_no_privilege() {
	"${NOBODY[@]}" test -x "$TOOL" || fail "nobody cannot execute $TOOL (directory permissions)"
	bad_input 5 "as nobody, all VMs" "${NOBODY[@]}" -- -d 2s -o json
}
t_bad_no_privilege_pid() {
	local p
	"${NOBODY[@]}" test -x "$TOOL" || fail "nobody cannot execute $TOOL (directory permissions)"
	start_workload wl -n 16 -r 1 -v 1
	p=$WL_PID
	bad_input 5 "as nobody, -p of root's VM" "${NOBODY[@]}" -- -p "$p" -d 2s -o json
}

# Least privilege (kvm-lazytop.8, PRIVILEGES): a non-root uid with
# CAP_BPF, CAP_PERFMON and CAP_DAC_READ_SEARCH only, or uid 0 with
# CAP_BPF and CAP_PERFMON only.  Exact counts of root's VM; after attach
# the collector holds no capability and has no_new_privs.
LP_USER=(setpriv --reuid=nobody --regid=nogroup --clear-groups
	--inh-caps=-all,+bpf,+perfmon,+dac_read_search
	--ambient-caps=+bpf,+perfmon,+dac_read_search)
LP_ROOT=(setpriv --inh-caps=-all,+bpf,+perfmon --ambient-caps=+bpf,+perfmon
	--bounding-set=-all,+bpf,+perfmon)
# tracefs mounted (systemd does it at boot); unprivileged, the tool cannot
need_tracefs() {
	[ -d /sys/kernel/tracing/events ] || mount -t tracefs tracefs /sys/kernel/tracing ||
		fail "cannot mount tracefs on /sys/kernel/tracing"
}
# lp_run pid|name SETPRIV...
lp_run() {
	local how=$1 wpid t0 eff nnp want=0000000000000000 kv
	shift
	"${NOBODY[@]}" test -x "$TOOL" || fail "nobody cannot execute $TOOL (directory permissions)"
	need_tracefs
	local target=(-p) name
	if [ "$how" = name ]; then
		# a name no other VM on this host has (comm = the link's name)
		name=lpvm$$_$RANDOM
		ln -s "$WORKLOAD" "$D/$name"
		WORKLOAD=$D/$name
		target=(-n "$name")
	fi
	start_workload wl -n 64 -r 25 -v 1
	wpid=$WL_PID
	[ "$how" = name ] || target+=("$wpid")
	"$@" "$TOOL" -v "${target[@]}" --until-exit -o json >"$D/lt.out" 2>"$D/lt.err" &
	LT_PID=$!
	LT_ARGS="-v ${target[*]}"
	BG+=("$LT_PID")
	log "$* kvm-lazytop -v ${target[*]}: pid $LT_PID"
	wait_attached "$LT_PID" lt
	# Linux < 6.5 keeps CAP_BPF for map reads (prom_caps.c)
	kv=$(uname -r | awk -F. '{ print $1 * 1000 + $2 }')
	((kv >= 6005)) || [ "$(cat /proc/sys/kernel/unprivileged_bpf_disabled)" = 0 ] ||
		want=0000008000000000
	t0=$SECONDS
	while :; do
		eff=$(awk '/^CapEff:/ { print $2 }' "/proc/$LT_PID/status")
		nnp=$(awk '/^NoNewPrivs:/ { print $2 }' "/proc/$LT_PID/status")
		[ "$eff" = "$want" ] && [ "$nnp" = 1 ] && break
		((SECONDS - t0 < 10)) || break
		sleep 0.1
	done
	check "CapEff after attach" "$eff" "$want"
	check "CapPrm after attach" "$(awk '/^CapPrm:/ { print $2 }' "/proc/$LT_PID/status")" "$want"
	check "CapAmb after attach" "$(awk '/^CapAmb:/ { print $2 }' "/proc/$LT_PID/status")" 0000000000000000
	check "NoNewPrivs after attach" "$nnp" 1
	kill -USR1 "$wpid"
	wait_workload wl "$wpid"
	wait_exit "$LT_PID" 30
	check "kvm-lazytop exit code" "$RC" 0
	grep -v '^kvm-lazytop: \(probe\|bpf() usable\|attached\|BPF_ENABLE_STATS\|cannot inspect\|1 process\|target [0-9]* exited$\)' \
		"$D/lt.err" | grep . && bad "unexpected stderr (above)"
	json_valid "$D/lt.out" "kvm-lazytop -o json"
	for s in sys_enter_ioctl kvm_userspace_exit kvm_dirty_ring_push; do
		probe_attached "$D/lt.out" "$s" || bad "probe $s: $(jqv "$D/lt.out" ".probes[\"$s\"]")"
	done
	check_vm "$D/lt.out" "$wpid" "$D/wl.out"
}
t_least_privilege() { lp_run pid "${LP_USER[@]}" --; }
t_least_privilege_name() { lp_run name "${LP_USER[@]}" --; }
t_least_privilege_uid0() { lp_run pid "${LP_ROOT[@]}" --; }

# bad_privilege WANT_TEXT DESCRIPTION SETPRIV... -- ARGS...: exit 5, one
# line naming the missing capability.
bad_privilege() {
	local text=$1
	shift
	"${NOBODY[@]}" test -x "$TOOL" || fail "nobody cannot execute $TOOL (directory permissions)"
	bad_input 5 "$@"
	grep -qF -- "$text" "$D/lt.err" && log "ok: stderr names '$text'" ||
		bad "stderr does not say '$text': $(cat "$D/lt.err")"
}
t_bad_no_privilege_name() {
	start_workload wl -n 16 -r 1 -v 1
	bad_privilege "need CAP_BPF and CAP_PERFMON to load BPF programs (have: none)" \
		"as nobody, -n of root's VM" "${NOBODY[@]}" -- -n dirty_ring_vm -d 2s -o json
}
t_bad_no_privilege_caps() {
	start_workload wl -n 16 -r 1 -v 1
	bad_privilege "need CAP_BPF and CAP_PERFMON to load BPF programs (have: CAP_PERFMON)" \
		"as nobody with CAP_PERFMON only" "${NOBODY[@]}" --inh-caps=-all,+perfmon \
		--ambient-caps=+perfmon -- -p "$WL_PID" -d 2s -o json
}
t_bad_no_privilege_tracepoint() {
	need_tracefs
	start_workload wl -n 16 -r 1 -v 1
	bad_privilege "need CAP_DAC_READ_SEARCH (or uid 0) to read tracepoint ids under /sys/kernel/tracing" \
		"as nobody with CAP_BPF+CAP_PERFMON, tracefs unreadable" "${NOBODY[@]}" \
		--inh-caps=-all,+bpf,+perfmon --ambient-caps=+bpf,+perfmon -- -p "$WL_PID" -d 2s -o json
}

t_bad_unknown_option() { bad_input 2 "unknown option" -- --no-such-option; }
t_bad_interval() { bad_input 2 "malformed interval" -- -i 12parsecs -d 2s; }
t_bad_interval_zero() { bad_input 2 "zero interval" -- -i 0 -d 2s; }

# --probe: the signals this host must attach, and fentry_vcpu_load refused
# (PVM host: no fentry on kvm_arch_vcpu_load).
t_probe() {
	local rc s st line
	"$TOOL" --probe -o json >"$D/probe.json" 2>"$D/probe.err" && rc=0 || rc=$?
	check "kvm-lazytop --probe -o json exit code" "$rc" 0
	jq -e '.probes | type == "object"' "$D/probe.json" >/dev/null 2>&1 ||
		fail "--probe -o json: no probes object: $(head -c 300 "$D/probe.json")"
	"$TOOL" --probe >"$D/probe.txt" 2>>"$D/probe.err" && rc=0 || rc=$?
	check "kvm-lazytop --probe exit code" "$rc" 0
	sed 's/^/      | /' "$D/probe.txt"
	for s in kvm_dirty_ring_push kvm_fpu sched_switch kvm_userspace_exit fentry_vcpu_load; do
		st=$(jq -r --arg s "$s" '.probes[$s] // "not listed"' "$D/probe.json")
		line=$(grep -E "^${s}[[:space:]]" "$D/probe.txt" || true)
		if [ "$s" = fentry_vcpu_load ]; then
			[[ $st == refused* ]] && log "ok: json $s: $st" || bad "json $s: '$st', expected refused"
			[[ $line =~ [[:space:]]refused ]] || bad "text: '$line' does not say refused"
		else
			[ "$st" = attached ] && log "ok: json $s: $st" || bad "json $s: '$st', expected attached"
			[[ $line =~ [[:space:]]attached ]] || bad "text: '$line' does not say attached"
		fi
	done
}

# Collector cost: a COST_SECONDS live text-mode run (-i 1) against a busy
# VM.  CPU = utime+stime from /proc/PID/stat, over the whole process life
# (BPF load included) and over the measurement window; RSS = VmHWM.
t_cost() {
	local p hz t_start up0 c0 c1 up1 life hwm rss lines stat
	hz=$(getconf CLK_TCK)
	start_workload wl -n 512 -r 0 -t $((COST_SECONDS + 60)) -v 2
	p=$WL_PID
	start_tool lt -v -p "$p" -i 1
	wait_attached "$LT_PID" lt
	kill -USR1 "$p"
	cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
	read -r up0 _ </proc/uptime
	c0=$(cpu_ticks "$LT_PID")
	read -r ns0 _ <"/proc/$LT_PID/schedstat"
	for ((i = 0; i < COST_SECONDS; i++)); do
		sleep 1
		kill -0 "$LT_PID" 2>/dev/null || fail "kvm-lazytop died during the run: $(head -3 "$D/lt.err")"
		kill -0 "$p" 2>/dev/null || fail "workload died during the run: $(tail -3 "$D/wl.err")"
	done
	c1=$(cpu_ticks "$LT_PID")
	read -r ns1 _ <"/proc/$LT_PID/schedstat"
	read -r up1 _ </proc/uptime
	stat=$(sed 's/.*) //' "/proc/$LT_PID/stat")
	t_start=$(awk '{ print $20 }' <<<"$stat")	# starttime (field 22), ticks
	hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$LT_PID/status")
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$LT_PID/status")
	kill -INT "$LT_PID"
	wait_exit "$LT_PID" 15
	check "kvm-lazytop exit code after SIGINT" "$RC" 0
	kill -TERM "$p"
	wait_workload wl "$p"
	life=$(awk -v u="$up1" -v s="$t_start" -v hz="$hz" 'BEGIN { printf "%.2f", u - s / hz }')
	lines=$(grep -Ec "(^|[^0-9])$p([^0-9]|$)" "$D/lt.out" || true)
	awk -v c0="$c0" -v c1="$c1" -v hz="$hz" -v w="$(awk -v a="$up0" -v b="$up1" 'BEGIN{print b-a}')" \
	    -v life="$life" -v hwm="$hwm" -v rss="$rss" -v max="$COST_MAX_PCT" -v lines="$lines" \
	    -v ns0="$ns0" -v ns1="$ns1" 'BEGIN {
		tot = 100 * c1 / hz / life; win = 100 * (c1 - c0) / hz / w
		printf "    COST collector_cpu_pct_total=%.3f (%.2f s CPU over %.1f s life, BPF load included)\n", tot, c1 / hz, life
		printf "    COST collector_cpu_pct_window=%.3f (%.2f s CPU over the %.1f s window)\n", win, (c1 - c0) / hz, w
		printf "    COST collector_cpu_pct_window_schedstat=%.4f (%.1f ms on-CPU, ns resolution)\n", 100 * (ns1 - ns0) / 1e9 / w, (ns1 - ns0) / 1e6
		printf "    COST collector_peak_rss_kb=%d collector_rss_kb=%d rows_with_pid=%d\n", hwm, rss, lines
		exit !(tot <= max && win <= max) }' ||
		bad "collector CPU above ${COST_MAX_PCT}% of one core"
	((lines >= COST_SECONDS / 2)) || bad "only $lines text refreshes show pid $p over ${COST_SECONDS} s"
	# the slot arrays are mmap()ed: only their used part may count in RSS
	((rss <= 16384)) || bad "collector RSS ${rss} kB during the run, above 16 MiB"
}

# ---------------------------------------------------------------- runner

prereqs() {
	local miss=()
	[ "$(id -u)" = 0 ] || miss+=("root (run as root)")
	[ -x "$TOOL" ] || miss+=("$TOOL (make tool)")
	[ -x "$WORKLOAD" ] || miss+=("$WORKLOAD (make workloads)")
	[ -c /dev/kvm ] || miss+=("/dev/kvm")
	local c
	for c in jq tmux setpriv awk find getconf; do
		command -v "$c" >/dev/null || miss+=("$c")
	done
	if [ ${#miss[@]} -gt 0 ]; then
		echo "run-host-tests.sh: missing prerequisites: ${miss[*]}" >&2
		return 1
	fi
}

passed=0
failed=0
failed_names=()
if ! prereqs; then
	for t in "${tests[@]}"; do echo "FAIL $t (prerequisite missing)"; done
	failed=${#tests[@]}
	echo "host tests: $passed passed, $failed failed"
	exit 1
fi

for t in "${tests[@]}"; do
	echo "--- $t"
	rm -rf "${OUT:?}/$t"
	mkdir -p "$OUT/$t"
	t0=$SECONDS
	set +e
	(
		set -euo pipefail
		D=$OUT/$t
		cd "$D"		# a core dump would land here
		ulimit -c unlimited 2>/dev/null || true
		trap cleanup_bg EXIT
		"t_$t"
		((ERRS == 0)) || exit 1
	)
	rc=$?
	set -e
	if [ "$rc" = 0 ]; then
		echo "PASS $t ($((SECONDS - t0)) s)"
		passed=$((passed + 1))
	else
		echo "FAIL $t ($((SECONDS - t0)) s; logs in $OUT/$t)"
		failed=$((failed + 1))
		failed_names+=("$t")
	fi
done
echo "host tests: $passed passed, $failed failed${failed_names:+ (${failed_names[*]})}"
[ "$failed" = 0 ]
