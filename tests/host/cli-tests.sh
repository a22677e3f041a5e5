# SPDX-License-Identifier: GPL-2.0
#
# tests/host/cli-tests.sh - host integration tests of kvm-lazytop's command
# line (issue 14, items 4, 8 and 9).  Sourced by run-host-tests.sh, whose
# helpers (start_workload, check_vm, jqv, check, bad, fail, ...) they use;
# run them with e.g. make check-host-int HOST_TESTS="cmd_wrapper_exact".

INT_TESTS+=(cmd_wrapper_exact cmd_wrapper_status cmd_wrapper_signal ndjson escape_names
	stdout_full name_qemu_form cli_usage)

# wrap TAG ARGS... -- CMD...: kvm-lazytop ARGS -- CMD, foreground; RC, and
# the READY pid of a dirty_ring_vm COMMAND in WPID (stdout $D/TAG.wl).
wrap() {
	local tag=$1
	shift
	"$TOOL" "$@" >"$D/$tag.wl" 2>"$D/$tag.err" && RC=0 || RC=$?
	WPID=$(sed -n 's/^READY pid=\([0-9]*\).*/\1/p' "$D/$tag.wl")
	log "kvm-lazytop $*: exit $RC; stderr: $(head -c 300 "$D/$tag.err")"
}

# kvm-lazytop -o json -- dirty_ring_vm: attached before the first KVM_RUN
# without any handshake, so the counts are the workload's exact ones.
t_cmd_wrapper_exact() {
	wrap lt -v -o json -O "$D/lt.json" -- "$WORKLOAD" -n 64 -r 25 -v 2
	check "exit status (COMMAND's)" "$RC" 0
	grep -q '^RESULT .*status=ok' "$D/lt.wl" || fail "workload: no RESULT status=ok: $(tail -3 "$D/lt.err")"
	[ -n "$WPID" ] || fail "workload printed no READY line"
	json_valid "$D/lt.json" "kvm-lazytop -o json -- COMMAND"
	check "target.pid" "$(jqv "$D/lt.json" .target.pid)" "$WPID"
	check "vms[] entries" "$(jq '.vms | length' "$D/lt.json")" 1
	check "comm (read after exec)" "$(jqv "$D/lt.json" ".vms[0].comm")" dirty_ring_vm
	check "exited" "$(jqv "$D/lt.json" ".vms[0].exited")" true
	check_vm "$D/lt.json" "$WPID" "$D/lt.wl"
	check "stderr: no 'exited while attached'" "$(grep -c 'exited while' "$D/lt.err" || true)" 0
}

# COMMAND's exit status is kvm-lazytop's: exit code, 128+signal, 127/126
# when it cannot be run (one stderr line), and the snapshot is written.
t_cmd_wrapper_status() {
	wrap usage -o json -O "$D/usage.json" -- "$WORKLOAD" -r 0
	check "COMMAND exits 2 (dirty_ring_vm usage error)" "$RC" 2
	json_valid "$D/usage.json" "snapshot of a failed COMMAND"
	wrap killed -o json -O "$D/killed.json" -- sh -c 'kill -TERM $$'
	check "COMMAND killed by SIGTERM" "$RC" $((128 + 15))
	json_valid "$D/killed.json" "snapshot of a killed COMMAND"
	wrap enoent -o json -- "$D/no-such-command" --flag
	check "COMMAND not found" "$RC" 127
	check "stderr lines (not found)" "$(wc -l <"$D/enoent.err")" 1
	grep -q "^kvm-lazytop: cannot run '.*no-such-command': No such file or directory" "$D/enoent.err" ||
		bad "stderr: $(cat "$D/enoent.err")"
	printf '#!/bin/sh\n' >"$D/not-executable"
	chmod 644 "$D/not-executable"
	wrap eacces -o json -- "$D/not-executable"
	check "COMMAND not executable" "$RC" 126
	check "stderr lines (not executable)" "$(wc -l <"$D/eacces.err")" 1
}

# SIGTERM to kvm-lazytop goes to COMMAND (a looping dirty_ring_vm stops
# at its next round); the run ends when COMMAND does, with its exact counts.
t_cmd_wrapper_signal() {
	local t0=$SECONDS runs
	"$TOOL" -o json -O "$D/lt.json" -- "$WORKLOAD" -n 64 -r 0 -t 120 >"$D/wl.out" 2>"$D/lt.err" &
	LT_PID=$!
	BG+=("$LT_PID")
	until grep -q '^READY ' "$D/wl.out" 2>/dev/null; do
		kill -0 "$LT_PID" 2>/dev/null || fail "kvm-lazytop exited: $(head -3 "$D/lt.err")"
		((SECONDS - t0 < 60)) || fail "no READY from COMMAND after 60 s"
		sleep 0.1
	done
	sleep 1
	kill -TERM "$LT_PID"
	wait_exit "$LT_PID" 30
	[ "$RC" != 124 ] || fail "kvm-lazytop still running 30 s after SIGTERM"
	check "exit status after SIGTERM (COMMAND exits 0 on SIGTERM)" "$RC" 0
	RESULT=$(grep '^RESULT ' "$D/wl.out") || fail "COMMAND got no SIGTERM (no RESULT line)"
	[[ $RESULT == *status=ok* ]] || fail "workload: $RESULT"
	runs=$(field "$RESULT" kvm_runs)
	((runs > 0)) || bad "workload ran no KVM_RUN: $RESULT"
	json_valid "$D/lt.json" "snapshot after SIGTERM"
	check "kvm_runs (exact)" "$(jqv "$D/lt.json" '.vms[0].counters.kvm_runs')" "$runs"
	check "dirty_pages (exact)" "$(jqv "$D/lt.json" '.vms[0].counters.dirty_pages')" \
		"$(field "$RESULT" dirty_pages)"
}

# -o ndjson: one JSON object per line per interval, flushed each interval;
# -d 3s -i 500ms is exactly 6 lines; over a whole COMMAND the lines add
# up to the workload's exact counts.
t_ndjson() {
	local p n sum
	start_workload wl -n 64 -r 0 -t 120 -v 1
	p=$WL_PID
	kill -USR1 "$p"
	start_tool lt -v -p "$p" -d 3s -i 500ms -o ndjson
	wait_attached "$LT_PID" lt
	sleep 1.3
	n=$(wc -l <"$D/lt.out")
	((n >= 2)) && log "ok: $n lines 1.3 s after the attach (flushed per interval)" ||
		bad "$n lines 1.3 s after the attach: the intervals are not flushed"
	wait_exit "$LT_PID" 30
	check "exit code" "$RC" 0
	check "lines for -d 3s -i 500ms" "$(wc -l <"$D/lt.out")" 6
	jq -e -s 'length == 6 and all(.[]; type == "object" and has("vms") and has("probes"))' \
		"$D/lt.out" >/dev/null || bad "not 6 snapshot objects: $(head -c 300 "$D/lt.out")"
	jq -e -s 'all(.[]; .duration_ns > 300000000 and .duration_ns < 900000000)' "$D/lt.out" \
		>/dev/null || bad "interval durations: $(jq -s -c 'map(.duration_ns)' "$D/lt.out")"
	check "every line is one JSON value" "$(while read -r l; do jq -c . <<<"$l" | wc -l; done \
		<"$D/lt.out" | sort -u)" 1
	wrap cmd -o ndjson -i 100ms -O "$D/cmd.ndjson" -- "$WORKLOAD" -n 64 -r 200 -v 1
	check "exit status" "$RC" 0
	RESULT=$(grep '^RESULT ' "$D/cmd.wl") || fail "no RESULT line"
	sum=$(jq -s "map(.vms[] | select(.pid == $WPID) | .counters.kvm_runs) | add" "$D/cmd.ndjson")
	check "kvm_runs summed over $(wc -l <"$D/cmd.ndjson") lines" "$sum" "$(field "$RESULT" kvm_runs)"
	sum=$(jq -s "map(.vms[] | select(.pid == $WPID) | .counters.dirty_pages) | add" "$D/cmd.ndjson")
	check "dirty_pages summed over the lines" "$sum" "$(field "$RESULT" dirty_pages)"
}

# A VMM started through a symlink whose name sets the terminal title and
# clears the screen: text mode, report and diff print \x1b, never ESC.
t_escape_names() {
	local evil=$'\e]0;pwned\a\e[2J' p t0 f
	ln -sf "$WORKLOAD" "$D/$evil"
	"$D/$evil" --wait-signal -n 64 -r 5 -v 1 >"$D/wl.out" 2>"$D/wl.err" &
	p=$!
	BG+=("$p")
	t0=$SECONDS
	until grep -q '^READY ' "$D/wl.out" 2>/dev/null; do
		kill -0 "$p" 2>/dev/null || fail "workload died: $(tail -3 "$D/wl.err")"
		((SECONDS - t0 < 30)) || fail "workload not READY after 30 s"
		sleep 0.05
	done
	[ "$(cat "/proc/$p/comm")" = "$evil" ] || fail "comm is not the symlink's name: $(od -c "/proc/$p/comm")"
	start_tool txt -v -p "$p" --until-exit -i 200ms
	local txt_pid=$LT_PID
	wait_attached "$txt_pid" txt
	start_tool json -v -p "$p" --until-exit -o json
	wait_attached "$LT_PID" json
	kill -USR1 "$p"
	wait_workload wl "$p"
	wait_exit "$txt_pid" 30
	check "text mode exit code" "$RC" 0
	wait_exit "$LT_PID" 30
	check "json mode exit code" "$RC" 0
	json_valid "$D/json.out" "kvm-lazytop -o json"
	check "json keeps the real name" "$(jqv "$D/json.out" '.vms[0].comm')" "$evil"
	"$TOOL" report "$D/json.out" >"$D/report.out" 2>"$D/report.err" || bad "report failed: $(cat "$D/report.err")"
	"$TOOL" diff "$D/json.out" "$D/json.out" >"$D/diff.out" 2>"$D/diff.err" ||
		bad "diff failed: $(cat "$D/diff.err")"
	for f in txt.out report.out diff.out; do
		if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$D/$f"; then
			bad "$f holds raw control bytes: $(LC_ALL=C grep -a -m1 $'[\x01-\x08\x0b-\x1f\x7f]' "$D/$f" | od -c | head -3)"
		else
			log "ok: $f holds no control byte"
		fi
	done
	for f in txt.out report.out; do
		grep -qF '\x1b]0;pwned\x07' "$D/$f" && log "ok: $f shows the name escaped" ||
			bad "$f does not show '\\x1b]0;pwned\\x07'"
	done
}

# A write error on stdout is one stderr line and exit 1, in every mode.
t_stdout_full() {
	local args snap=$D/snap.json rc
	[ -w /dev/full ] || fail "/dev/full missing"
	"$TOOL" -d 1s -o json >"$snap" 2>"$D/snap.err" || fail "kvm-lazytop -d 1s -o json: $(cat "$D/snap.err")"
	for args in "-d 1s -o json" "-d 1s" "-d 1s -o prom" "-d 1s -i 300ms -o ndjson" "--probe" \
		"report $snap" "diff $snap $snap" "-o json -- true"; do
		# shellcheck disable=SC2086 # word splitting wanted
		"$TOOL" $args >/dev/full 2>"$D/err" && rc=0 || rc=$?
		check "kvm-lazytop $args >/dev/full: exit code" "$rc" 1
		grep -q 'write error on standard output' "$D/err" ||
			bad "kvm-lazytop $args >/dev/full: stderr: $(head -c 300 "$D/err")"
		check "stderr lines" "$(grep -vc 'warning: COMMAND' "$D/err")" 1
	done
	"$TOOL" -d 1s -o json -O /dev/full 2>"$D/err" && rc=0 || rc=$?
	check "-O /dev/full: exit code" "$rc" 1
	grep -q 'write error on /dev/full' "$D/err" || bad "-O /dev/full: stderr: $(cat "$D/err")"
}

# -n NAME finds a VM started as qemu -name NAME,debug-threads=on (its comm
# is the binary's, not NAME): a python process holding a KVM VM fd whose
# command line has that form.
t_name_qemu_form() {
	local name=clivm-$$ p t0
	command -v python3 >/dev/null || fail "python3 not installed"
	python3 -c 'import fcntl, os, sys, time
kvm = os.open("/dev/kvm", os.O_RDWR)
vm = fcntl.ioctl(kvm, 0xAE01, 0)	# KVM_CREATE_VM
print("READY", flush=True)
time.sleep(120)' -name "$name,debug-threads=on" -m 64 >"$D/fake.out" 2>"$D/fake.err" &
	p=$!
	BG+=("$p")
	t0=$SECONDS
	until grep -q READY "$D/fake.out" 2>/dev/null; do
		kill -0 "$p" 2>/dev/null || fail "fake VM died: $(cat "$D/fake.err")"
		((SECONDS - t0 < 20)) || fail "fake VM not ready after 20 s"
		sleep 0.05
	done
	"$TOOL" -n "$name" -d 1s -o json >"$D/lt.json" 2>"$D/lt.err" && RC=0 || RC=$?
	check "kvm-lazytop -n $name exit code" "$RC" 0
	[ "$RC" = 0 ] || fail "stderr: $(cat "$D/lt.err")"
	check "target.name" "$(jqv "$D/lt.json" .target.name)" "$name"
	check "vms[] entries" "$(jq ".vms | length" "$D/lt.json")" 1
	check "vms[0].pid" "$(jqv "$D/lt.json" '.vms[0].pid')" "$p"
	check "vms[0].name" "$(jqv "$D/lt.json" '.vms[0].name')" "$name"
	"$TOOL" -n "$name-x" -d 1s -o json >/dev/null 2>"$D/none.err" && RC=0 || RC=$?
	check "kvm-lazytop -n $name-x (no such VM) exit code" "$RC" 3
}

# -h, -V everywhere, usage names the subcommand, -v before a subcommand.
t_cli_usage() {
	local rc snap=$D/snap.json
	"$TOOL" -h >"$D/h.out" 2>&1 && rc=0 || rc=$?
	check "kvm-lazytop -h exit code" "$rc" 0
	grep -q '^Usage: kvm-lazytop' "$D/h.out" || bad "-h: $(head -2 "$D/h.out")"
	grep -q 'Report bugs to kvm-lazytop <kvm-lazytop@localhost>' "$D/h.out" ||
		bad "-h: bug address: $(grep -i 'report bugs' "$D/h.out")"
	"$TOOL" --version >"$D/v.out" 2>&1 && rc=0 || rc=$?
	check "--version exit code" "$rc" 0
	grep -Eq '^libbpf [0-9]+\.[0-9]+$' "$D/v.out" || bad "--version has no libbpf line: $(cat "$D/v.out")"
	"$TOOL" report -V >"$D/rv.out" 2>&1 && rc=0 || rc=$?
	check "report -V exit code" "$rc" 0
	check "report -V prints the version" "$(head -1 "$D/rv.out")" "$(head -1 "$D/v.out")"
	local sub
	for sub in report diff gate; do
		"$TOOL" $sub -h >"$D/rh.out" 2>&1 && rc=0 || rc=$?
		check "$sub -h exit code" "$rc" 0
		grep -q "^Usage: kvm-lazytop $sub" "$D/rh.out" ||
			bad "$sub -h: $(head -1 "$D/rh.out")"
		"$TOOL" $sub -V >"$D/rv.out" 2>&1 && rc=0 || rc=$?
		check "$sub -V exit code" "$rc" 0
	done
	"$TOOL" report >"$D/ru.out" 2>&1 && rc=0 || rc=$?
	check "report without a file: exit code" "$rc" 2
	grep -q "kvm-lazytop report --help" "$D/ru.out" || bad "report usage: $(cat "$D/ru.out")"
	grep -q "Try \`report" "$D/ru.out" && bad "usage still says 'report' alone"
	"$TOOL" -d 1s -o json >"$snap" 2>"$D/snap.err" || fail "kvm-lazytop -d 1s -o json: $(cat "$D/snap.err")"
	"$TOOL" -v report "$snap" >"$D/vr.out" 2>"$D/vr.err" && rc=0 || rc=$?
	check "kvm-lazytop -v report FILE exit code" "$rc" 0
	grep -q '^kvm-lazytop ' "$D/vr.out" || bad "-v report printed: $(head -c 200 "$D/vr.out")"
	"$TOOL" -p 1 report "$snap" >/dev/null 2>"$D/pr.err" && rc=0 || rc=$?
	check "kvm-lazytop -p 1 report FILE exit code" "$rc" 2
	check "stderr lines" "$(wc -l <"$D/pr.err")" 1
}
