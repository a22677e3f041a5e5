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
