#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Start the installed kvm-lazytop.service the way systemd would and check
# that /metrics answers with the exact counts of the host workload
# (tests/workloads/dirty_ring_vm) started after it.
#
# Where systemd is PID 1, the installed unit itself is started (copied to
# /run/systemd/system with ExecStart in DESTDIR and the address in a
# drop-in), so every directive of the unit applies.  Where it is not (a
# container), systemd cannot start units, and the test says so and runs
# the unit's ExecStart with the restrictions that apply without systemd,
# all read from the installed unit: its AmbientCapabilities and
# CapabilityBoundingSet (setpriv), a non-root uid from systemd's
# DynamicUser range, NoNewPrivileges, LimitMEMLOCK, UMask and an empty
# environment plus the unit's Environment=.  The namespace, seccomp and
# IP-filter directives are then only checked by systemd-analyze (install.sh).
#
# usage: service.sh --top DIR --workload PATH --out DIR
# Ends with "N passed, N failed"; exit 1 on any failure.
set -euo pipefail

TOP= WORKLOAD= OUT=
DYN_UID=61234		# inside systemd's DynamicUser range 61184..65519
TMO=${KL_TEST_ATTACH_TIMEOUT:-60}

while [ $# -gt 0 ]; do
	case "$1" in
	--top) TOP=${2:?}; shift 2 ;;
	--workload) WORKLOAD=${2:?}; shift 2 ;;
	--out) OUT=${2:?}; shift 2 ;;
	*) echo "usage: service.sh --top DIR --workload PATH --out DIR" >&2; exit 2 ;;
	esac
done
[ -n "$TOP" ] && [ -n "$WORKLOAD" ] && [ -n "$OUT" ] ||
	{ echo "usage: service.sh --top DIR --workload PATH --out DIR" >&2; exit 2; }

npass=0 nfail=0 SVC_PID= WL_PID= UNIT_NAME=
pass() { echo "  PASS  $*"; npass=$((npass + 1)); }
fail() { echo "  FAIL  $*"; nfail=$((nfail + 1)); }
# fatal: this and every later step cannot run
fatal() { fail "$*"; finish; }
finish() {
	cleanup
	echo "service: $npass passed, $nfail failed"
	[ "$nfail" = 0 ] && exit 0 || exit 1
}
cleanup() {
	local p
	if [ -n "$UNIT_NAME" ]; then
		systemctl stop "$UNIT_NAME" 2>/dev/null || true
		rm -rf "/run/systemd/system/$UNIT_NAME" "/run/systemd/system/$UNIT_NAME.d"
		systemctl daemon-reload 2>/dev/null || true
		UNIT_NAME=
	fi
	for p in $SVC_PID $WL_PID; do
		kill -TERM "$p" 2>/dev/null || true
		for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	SVC_PID= WL_PID=
}
trap 'cleanup' EXIT

[ "$(id -u)" = 0 ] || fatal "must run as root (it installs and starts a service)"
for p in setpriv curl python3; do
	command -v "$p" >/dev/null || fatal "prerequisite '$p' not installed"
done
[ -x "$WORKLOAD" ] || fatal "workload $WORKLOAD not built (make workloads)"

rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
# DESTDIR below the build tree: the unit's PrivateTmp would hide /tmp
D=$OUT/destdir
make -C "$TOP" --no-print-directory install PREFIX=/usr/local DESTDIR="$D" \
	>"$OUT/install.log" 2>&1 || fatal "make install: $(tail -2 "$OUT/install.log")"
UNIT=$D/usr/local/lib/systemd/system/kvm-lazytop.service
[ -f "$UNIT" ] || fatal "make install did not install $UNIT"

# unit_get KEY: the value(s) of KEY= in [Service], space-joined
unit_get() {
	awk -v k="$1" -F= '/^\[/ { s = $0 } s == "[Service]" && $1 == k {
		sub(/^[^=]*=/, ""); printf "%s%s", sep, $0; sep = " " }' "$UNIT"
}
EXEC=$(unit_get ExecStart)
AMBIENT=$(unit_get AmbientCapabilities)
BOUND=$(unit_get CapabilityBoundingSet)
ENVLINE=$(unit_get Environment)
[ -n "$EXEC" ] && [ -n "$AMBIENT" ] && [ -n "$ENVLINE" ] ||
	fatal "unit lacks ExecStart/AmbientCapabilities/Environment"
[ "$(unit_get DynamicUser)" = yes ] || fail "unit is not DynamicUser=yes"
[ "$(unit_get NoNewPrivileges)" = yes ] || fail "unit lacks NoNewPrivileges=yes"
[ "$AMBIENT" = "$BOUND" ] && pass "unit capabilities: $AMBIENT" ||
	fail "AmbientCapabilities ($AMBIENT) != CapabilityBoundingSet ($BOUND)"

# a free loopback port for this run (the unit's own default may be taken)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ADDR=127.0.0.1:$PORT
URL=http://$ADDR/metrics

# the workload: VM created, no KVM_RUN until SIGUSR1
"$WORKLOAD" --wait-signal -n 37 -r 7 -v 2 --hold-ms 5000 >"$OUT/workload.out" 2>"$OUT/workload.err" &
WL_PID=$!
t0=$SECONDS
until grep -q '^READY ' "$OUT/workload.out" 2>/dev/null; do
	kill -0 "$WL_PID" 2>/dev/null || fatal "workload died: $(tail -2 "$OUT/workload.err")"
	((SECONDS - t0 < 30)) || fatal "workload not READY after 30 s"
	sleep 0.05
done

if [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ] && [ -d /run/systemd/system ]; then
	MODE=systemd
	echo "  systemd is PID 1: starting the installed unit"
	UNIT_NAME=kvm-lazytop-test-$$.service
	sed "s|^ExecStart=/usr/local/sbin/|ExecStart=$D/usr/local/sbin/|" "$UNIT" \
		>"/run/systemd/system/$UNIT_NAME"
	mkdir -p "/run/systemd/system/$UNIT_NAME.d"
	printf '[Service]\nEnvironment=KVM_LAZYTOP_LISTEN=%s\n' "$ADDR" \
		>"/run/systemd/system/$UNIT_NAME.d/test.conf"
	systemctl daemon-reload
	systemctl start "$UNIT_NAME" || fatal "systemctl start: $(systemctl status "$UNIT_NAME" 2>&1 | tail -3)"
	SVC_MAIN=$(systemctl show -p MainPID --value "$UNIT_NAME")
else
	MODE=setpriv
	echo "  *** systemd is NOT PID 1 here (PID 1 is '$(cat /proc/1/comm 2>/dev/null)'): systemd"
	echo "  *** cannot start the unit.  Running its ExecStart under setpriv with the"
	echo "  *** unit's capabilities, uid $DYN_UID, no_new_privs, LimitMEMLOCK, UMask and"
	echo "  *** Environment; its namespace/seccomp/IP directives are checked only by"
	echo "  *** systemd-analyze (make check-install)."
	caps=$(for c in $AMBIENT; do c=${c#CAP_}; printf ',+%s' "${c,,}"; done)
	# Environment= words (the unit quotes none), with the test's address
	# shellcheck disable=SC2086
	env=$(printf '%s\n' $ENVLINE | sed "s|^KVM_LAZYTOP_LISTEN=.*|KVM_LAZYTOP_LISTEN=$ADDR|")
	[[ $env == *KVM_LAZYTOP_LISTEN=$ADDR* ]] || fatal "unit Environment has no KVM_LAZYTOP_LISTEN"
	cmd=${EXEC//\$\{KVM_LAZYTOP_LISTEN\}/$ADDR}
	cmd=${cmd/#\/usr\/local\/sbin\//$D/usr/local/sbin/}
	memlock=$(unit_get LimitMEMLOCK)
	[ "$memlock" = infinity ] && memlock=unlimited
	# systemd raises it as root; a container may forbid that: the run then
	# keeps the lower limit, i.e. it is stricter than the unit, not looser
	if [ -n "$memlock" ] && ! prlimit --memlock="$memlock" true 2>/dev/null; then
		echo "  note: cannot raise RLIMIT_MEMLOCK to $memlock here; running with $(ulimit -l) KiB"
		memlock=$(ulimit -Hl)
	fi
	umask_v=$(unit_get UMask)
	# shellcheck disable=SC2086 # ExecStart and Environment are word lists
	(
		umask "${umask_v:-0022}"
		exec prlimit --memlock="${memlock:-unlimited}" -- \
			env -i $env setpriv --reuid="$DYN_UID" --regid="$DYN_UID" --clear-groups \
			--inh-caps=-all"$caps" --ambient-caps=-all"$caps" \
			--bounding-set=-all"$caps" --no-new-privs -- $cmd
	) >"$OUT/service.out" 2>"$OUT/service.err" &
	SVC_PID=$!
	SVC_MAIN=$SVC_PID
fi
echo "  mode: $MODE, listening on $ADDR, workload pid $WL_PID"

# attached = /metrics answers
t0=$SECONDS
until curl -sf -o /dev/null "$URL"; do
	if [ "$MODE" = setpriv ] && ! kill -0 "$SVC_PID" 2>/dev/null; then
		wait "$SVC_PID" && rc=0 || rc=$?
		SVC_PID=
		fatal "service exited $rc before serving: $(tail -2 "$OUT/service.err")"
	fi
	((SECONDS - t0 < TMO)) || fatal "no /metrics on $ADDR after $TMO s"
	sleep 0.2
done
pass "service ($MODE) serves $URL"

st=/proc/$SVC_MAIN/status
uid=$(awk '/^Uid:/ { print $2 }' "$st")
[ -n "$uid" ] && [ "$uid" != 0 ] && pass "service runs as uid $uid, not root" ||
	fail "service uid '$uid'"
# once attached the tool drops every capability it holds (kvm-lazytop(8));
# without CAP_SETPCAP the bounding set stays the unit's, which no_new_privs
# makes unreachable again
capset() { awk -v k="$1:" '$1 == k { print $2 }' "$st"; }
capeff=$(capset CapEff) capprm=$(capset CapPrm) capamb=$(capset CapAmb)
nnp=$(capset NoNewPrivs)
[ "$capeff$capprm$capamb" = 000000000000000000000000000000000000000000000000 ] &&
	[ "$nnp" = 1 ] &&
	pass "capabilities dropped after attach (CapEff/CapPrm/CapAmb 0, NoNewPrivs 1)" ||
	fail "after attach CapEff=$capeff CapPrm=$capprm CapAmb=$capamb NoNewPrivs=$nnp"

kill -USR1 "$WL_PID"
t0=$SECONDS
until grep -q '^RESULT ' "$OUT/workload.out" 2>/dev/null; do
	kill -0 "$WL_PID" 2>/dev/null || fatal "workload exited without RESULT: $(tail -2 "$OUT/workload.err")"
	((SECONDS - t0 < 120)) || fatal "workload: no RESULT after 120 s"
	sleep 0.1
done
RESULT=$(grep '^RESULT ' "$OUT/workload.out")
[[ $RESULT == *status=ok* ]] || fatal "workload: $RESULT"
want_dirty=$(sed -n 's/.* dirty_pages=\([0-9]*\).*/\1/p' <<<"$RESULT")
want_runs=$(sed -n 's/.*RESULT kvm_runs=\([0-9]*\).*/\1/p' <<<"$RESULT")
echo "  workload: $RESULT"

# metric_value NAME_RE: the value of the unlabelled-by-reason sample NAME_RE{..vm_pid=".."..}
metric_value() {
	sed -n -E "s/^kvm_lazytop_($1)\{([^}]*,)?vm_pid=\"$WL_PID\"(,[^}]*)?\} ([0-9.e+]+)\$/\4/p" \
		"$OUT/metrics.txt" | head -1
}
# the exporter republishes every interval: poll until the counts settle
t0=$SECONDS
while :; do
	curl -sf "$URL" >"$OUT/metrics.txt" || true
	dirty=$(metric_value 'dirty_pages[a-z_]*')
	uexits=$(metric_value 'userspace_exits[a-z_]*')
	runs=$(metric_value 'kvm_runs[a-z_]*')
	[ "$dirty" = "$want_dirty" ] && [ "$uexits" = "$want_runs" ] &&
		[ "$runs" = "$want_runs" ] && break
	((SECONDS - t0 < 15)) || break
	sleep 0.5
done
[ "$dirty" = "$want_dirty" ] &&
	pass "/metrics dirty pages of VM $WL_PID: $dirty == workload's $want_dirty" ||
	fail "/metrics dirty pages of VM $WL_PID: '$dirty', workload says $want_dirty"
[ "$uexits" = "$want_runs" ] &&
	pass "/metrics userspace exits of VM $WL_PID: $uexits == workload's KVM_RUNs $want_runs" ||
	fail "/metrics userspace exits of VM $WL_PID: '$uexits', workload says $want_runs"

# KVM_RUN counts come from the syscall tracepoints, whose ids are in
# tracefs (root-only): this is what the unit's CAP_DAC_READ_SEARCH is for
[ "$runs" = "$want_runs" ] &&
	pass "/metrics KVM_RUNs of VM $WL_PID: $runs == workload's $want_runs" ||
	fail "/metrics KVM_RUNs of VM $WL_PID: '$runs', workload says $want_runs ($(
		grep -o 'signal="sys_enter_ioctl"[^}]*} 1' "$OUT/metrics.txt" || echo no sys_enter_ioctl probe line))"

# stop like systemd does: SIGTERM, clean exit
if [ "$MODE" = systemd ]; then
	systemctl stop "$UNIT_NAME"
	res=$(systemctl show -p Result --value "$UNIT_NAME")
	[ "$res" = success ] && pass "systemctl stop: Result=success" || fail "systemctl stop: Result=$res"
else
	kill -TERM "$SVC_PID"
	rc=124
	for _ in $(seq 100); do kill -0 "$SVC_PID" 2>/dev/null || { wait "$SVC_PID" && rc=0 || rc=$?; break; }; sleep 0.1; done
	SVC_PID=
	[ "$rc" = 0 ] && pass "SIGTERM: exit 0" ||
		fail "SIGTERM: exit $rc: $(tail -2 "$OUT/service.err")"
fi
finish
