# SPDX-License-Identifier: GPL-2.0
#
# tests/host/datapath-tests.sh - host integration tests of the BPF data
# path's identity rules (issue 11: only real vCPUs, -p of a thread id).
# Sourced by run-host-tests.sh, whose helpers (start_workload, check_vm,
# jqv, check, bad, fail, NOBODY, ...) they use; run them with e.g.
# make check-host-int HOST_TESTS="fake_kvm_run pid_is_thread".

INT_TESTS+=(fake_kvm_run pid_is_thread)

# An unprivileged process that calls ioctl(fd, KVM_RUN) on a pipe, a
# socket and /dev/null, ARGV[1] times each.
FAKE_KVM_RUN_PY='
import fcntl, os, socket, sys
r, w = os.pipe()
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
n = os.open("/dev/null", os.O_RDWR)
calls = 0
for i in range(int(sys.argv[1])):
    for fd in (r, s.fileno(), n):
        try:
            fcntl.ioctl(fd, 0xAE80)
        except OSError:
            pass
        calls += 1
print("FAKE pid=%d uid=%d ioctls=%d" % (os.getpid(), os.getuid(), calls))
'

# kvm-lazytop (all VMs) while the fake runs next to a real VM: the real VM
# has its exact counts, the fake never shows up as a VM.
t_fake_kvm_run() {
	local a f
	# the system python: nobody cannot run a per-user install (pyenv shims)
	[ -x /usr/bin/python3 ] || fail "/usr/bin/python3 not installed"
	start_workload A -n 64 -r 30 -v 1 --hold-ms 600000
	a=$WL_PID
	start_tool lt -v -o json
	wait_attached "$LT_PID" lt
	"${NOBODY[@]}" /usr/bin/python3 -c "$FAKE_KVM_RUN_PY" 5000 >"$D/fake.out" 2>"$D/fake.err" &
	f=$!
	BG+=("$f")
	kill -USR1 "$a"
	wait_result A "$a"
	wait_exit "$f" 120
	check "fake KVM_RUN process exit code" "$RC" 0
	grep -q '^FAKE .*ioctls=15000' "$D/fake.out" ||
		fail "fake KVM_RUN process: $(cat "$D/fake.out" "$D/fake.err" | head -3)"
	log "$(cat "$D/fake.out")"
	kill -INT "$LT_PID"
	wait_exit "$LT_PID" 30
	check "kvm-lazytop (all VMs) exit code after SIGINT" "$RC" 0
	json_valid "$D/lt.out" "kvm-lazytop (all VMs)"
	check_vm "$D/lt.out" "$a" "$D/A.out"
	check "fake KVM_RUN process (pid $f) in vms[]" \
		"$(jq "[.vms[] | select(.pid == $f)] | length" "$D/lt.out")" 0
}

# -p with the id of a vCPU thread watches its process, with exact counts.
t_pid_is_thread() {
	local p tid
	start_workload wl -n 64 -r 20 -v 2
	p=$WL_PID
	tid=$(ls "/proc/$p/task" | grep -vx "$p" | head -1)
	[ -n "$tid" ] || fail "workload $p has no thread besides its leader"
	start_tool lt -v -p "$tid" --until-exit -o json
	wait_attached "$LT_PID" lt
	kill -USR1 "$p"
	wait_workload wl "$p"
	wait_exit "$LT_PID" 30
	check "kvm-lazytop -p <thread id> exit code" "$RC" 0
	grep -q "$tid is a thread of process $p" "$D/lt.err" ||
		bad "no 'thread of process' line on stderr: $(head -3 "$D/lt.err")"
	json_valid "$D/lt.out" "kvm-lazytop -p <thread id>"
	check "target.pid" "$(jqv "$D/lt.out" .target.pid)" "$p"
	check_vm "$D/lt.out" "$p" "$D/wl.out"
}

INT_TESTS+=(vm_release)

# scrape PORT PATH: the body (empty if the server did not answer 200)
scrape() {
	curl -sf --max-time 5 "http://127.0.0.1:$1$2" || true
}

# Lifetime (all VMs, --listen): a VM that exited leaves /metrics and
# /snapshot.json after its final interval, and a new VM that reuses its
# PID (forced with /proc/sys/kernel/ns_last_pid) starts from zero.
t_vm_release() {
	local a b port t0 m
	command -v curl >/dev/null || fail "curl not installed"
	port=$((20000 + RANDOM % 20000))
	start_workload A -n 64 -r 30 -v 1
	a=$WL_PID
	start_tool lt -v -o json -i 200ms --listen "127.0.0.1:$port"
	wait_attached "$LT_PID" lt
	kill -USR1 "$a"
	wait_workload A "$a"
	t0=$SECONDS
	while :; do
		m=$(scrape "$port" /metrics)
		[ -n "$m" ] && ! grep -q "vm_pid=\"$a\"" <<<"$m" && break
		((SECONDS - t0 < 10)) ||
			fail "exited VM $a still in /metrics 10 s after its exit (or no answer: '${m:0:200}')"
		sleep 0.2
	done
	log "ok: exited VM $a left /metrics after $((SECONDS - t0)) s"
	check "exited VM $a in /snapshot.json" \
		"$(scrape "$port" /snapshot.json | jq "[.vms[] | select(.pid == $a)] | length")" 0
	# a new VM with the same PID
	for _ in 1 2 3 4 5; do
		echo $((a - 1)) >/proc/sys/kernel/ns_last_pid
		start_workload B -n 128 -r 10 -v 2 --hold-ms 600000
		b=$WL_PID
		[ "$b" = "$a" ] && break
		log "PID $a not reused (got $b): retrying"
		kill -KILL "$b"
		wait "$b" 2>/dev/null || true
	done
	[ "$b" = "$a" ] || fail "could not make a new VM reuse PID $a"
	log "ok: VM B reuses PID $a"
	kill -USR1 "$b"
	wait_result B "$b"
	sleep 0.5
	kill -INT "$LT_PID"
	wait_exit "$LT_PID" 30
	check "kvm-lazytop exit code after SIGINT" "$RC" 0
	json_valid "$D/lt.out" "kvm-lazytop (all VMs)"
	check "vms[] entries with pid $a" "$(jq "[.vms[] | select(.pid == $a)] | length" "$D/lt.out")" 1
	check "pid $a exited (B still holds)" "$(jqv "$D/lt.out" ".vms[] | select(.pid == $a) | .exited")" false
	check_vm "$D/lt.out" "$b" "$D/B.out"
}

INT_TESTS+=(stats_window)

nstats() { find "/proc/$1/fd" -lname 'anon_inode:bpf-stats' 2>/dev/null | wc -l || true; }

# The run-time stats are held for the --stats-window only: the collector's
# bpf-stats fd is open after attach, closed after the window; the
# snapshot says so and keeps the window's ns/event.
t_stats_window() {
	local p
	start_workload wl -n 256 -r 0 -t 30 -v 1
	p=$WL_PID
	kill -USR1 "$p"
	start_tool lt -v -p "$p" -i 200ms --stats-window 2s -d 5s -o json
	wait_attached "$LT_PID" lt
	check "bpf-stats fds during the window" "$(nstats "$LT_PID")" 1
	sleep 3
	check "bpf-stats fds after the window" "$(nstats "$LT_PID")" 0
	wait_exit "$LT_PID" 30
	check "kvm-lazytop exit code" "$RC" 0
	json_valid "$D/lt.out" "kvm-lazytop --stats-window 2s"
	check "overhead.bpf_stats" "$(jqv "$D/lt.out" .overhead.bpf_stats)" enabled
	check "overhead.bpf_stats_window_ns" "$(jqv "$D/lt.out" .overhead.bpf_stats_window_ns)" 2000000000
	check "overhead.bpf_stats_window_open" "$(jqv "$D/lt.out" .overhead.bpf_stats_window_open)" false
	check "window's events > 0" "$(jqv "$D/lt.out" '.overhead.bpf_events > 0')" true
}

INT_TESTS+=(bad_max_vcpus bad_stats_window)
t_bad_max_vcpus() { bad_input 2 "zero --max-vcpus" -- --max-vcpus 0 -d 2s; }
t_bad_stats_window() { bad_input 2 "malformed --stats-window" -- --stats-window soon -d 2s; }

INT_TESTS+=(slots_full bad_max_reasons bad_max_hists)

# The map-full path: one reason and one histogram slot for two VMs that
# need several (each its KVM_EXIT_IO reason; kvm_run, exit and off-CPU
# histograms).  What does not fit is dropped and counted, named for the
# option to raise, in the snapshot and the table footer; the counters
# stay exact (their slots are not full).
t_slots_full() {
	local a b t
	start_workload A -n 64 -r 20 -v 2 --hold-ms 600000
	a=$WL_PID
	start_workload B -n 64 -r 20 -v 1 --hold-ms 600000
	b=$WL_PID
	start_tool lt -v --max-reasons 1 --max-hists 1 -o json
	wait_attached "$LT_PID" lt
	"$TOOL" -v -i 200ms --max-reasons 1 --max-hists 1 >"$D/lt2.out" 2>"$D/lt2.err" &
	t=$!
	BG+=("$t")
	wait_attached "$t" lt2
	kill -USR1 "$a"
	wait_result A "$a"
	kill -USR1 "$b"
	wait_result B "$b"
	sleep 0.5
	kill -INT "$LT_PID" "$t"
	wait_exit "$LT_PID" 30
	check "kvm-lazytop exit code" "$RC" 0
	wait_exit "$t" 30
	check "kvm-lazytop (table) exit code" "$RC" 0
	json_valid "$D/lt.out" "kvm-lazytop --max-reasons 1 --max-hists 1"
	check_vm "$D/lt.out" "$a" "$D/A.out"
	check_vm "$D/lt.out" "$b" "$D/B.out"
	check "drops.reason_slots_full > 0" "$(jqv "$D/lt.out" '.overhead.drops.reason_slots_full > 0')" true
	check "drops.hist_slots_full > 0" "$(jqv "$D/lt.out" '.overhead.drops.hist_slots_full > 0')" true
	check "drops.vcpu_slots_full" "$(jqv "$D/lt.out" .overhead.drops.vcpu_slots_full)" 0
	# one slot: at most one code (two CPUs racing on the first key may leave it unowned)
	check "at most one reason counter (one slot)" \
		"$(jqv "$D/lt.out" "[.vms[] | .reasons[]?[]?] | length <= 1")" true
	grep -q 'drops.hist_slots_full [0-9]*: raise --max-hists' "$D/lt2.out" ||
		bad "table footer does not name --max-hists: $(grep drops "$D/lt2.out" | tail -2)"
	grep -q 'drops.reason_slots_full [0-9]*: raise --max-reasons' "$D/lt2.out" ||
		bad "table footer does not name --max-reasons: $(grep drops "$D/lt2.out" | tail -2)"
}

t_bad_max_reasons() { bad_input 2 "zero --max-reasons" -- --max-reasons 0 -d 2s; }
t_bad_max_hists() { bad_input 2 "huge --max-hists" -- --max-hists 99999999 -d 2s; }
