#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-bench-tool.sh - kvm-lazytop overhead benchmark driver (bench/README.md).
#
# usage: run-bench-tool.sh --full|--quick --top DIR --out DIR --tool PATH
#                          --workload PATH --kl-bench PATH
#                          --guest-tool PATH --guest-kl-bench PATH
#
# Parts 1-5 run on this (x86_64) host; parts 1b/2b in one riscv64 QEMU
# boot (bench/run-bench-guest.sh, riscv64 static kvm-lazytop and kl-bench).
#
# Raw per-run records go to OUT/raw/*.jsonl|json; bench/report.py turns them
# into OUT/tool.json, OUT/tool.md and the terminal table.  Arms that hook
# the same events run one after the other, never concurrently, in the
# order A B C A B C ...; every figure reported is a ratio or a median
# between arms of this one invocation.
set -Eeuo pipefail
# One compound command: bash parses it whole, so editing this file while a
# (long) run goes on cannot derail that run.
{

MODE=
TOP=
OUT=
TOOL=
WL=
KLB=
GTOOL=
GKLB=
while [ $# -gt 0 ]; do
	case "$1" in
	--full) MODE=full; shift ;;
	--quick) MODE=quick; shift ;;
	--top) TOP=${2:?}; shift 2 ;;
	--out) OUT=${2:?}; shift 2 ;;
	--tool) TOOL=${2:?}; shift 2 ;;
	--workload) WL=${2:?}; shift 2 ;;
	--kl-bench) KLB=${2:?}; shift 2 ;;
	--guest-tool) GTOOL=${2:?}; shift 2 ;;
	--guest-kl-bench) GKLB=${2:?}; shift 2 ;;
	*) echo "run-bench-tool.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
[ -n "$MODE" ] && [ -x "$TOOL" ] && [ -x "$WL" ] && [ -x "$KLB" ] && [ -n "$OUT" ] && [ -n "$GTOOL" ] && [ -n "$GKLB" ] || {
	echo "usage: run-bench-tool.sh --full|--quick --top DIR --out DIR --tool PATH --workload PATH --kl-bench PATH --guest-tool PATH --guest-kl-bench PATH" >&2
	exit 2
}
# the guest half's prerequisites, before the host parts spend their ten minutes
for f in "$GTOOL" "$GKLB"; do
	[ -x "$f" ] || { echo "run-bench-tool.sh: $f missing (make ARCH=riscv64 tool bench-guest-tools)" >&2; exit 1; }
done
command -v qemu-system-riscv64 >/dev/null || { echo "run-bench-tool.sh: qemu-system-riscv64 missing (make deps)" >&2; exit 1; }
"$TOP/kernel/scripts/build-kernel.sh" patched >/dev/null 2>&1 ||
	{ echo "run-bench-tool.sh: patched riscv64 kernel missing (kernel/scripts/build-kernel.sh patched)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "run-bench-tool.sh: must run as root (BPF, perf, /proc of other tasks)" >&2; exit 1; }

if [ "$MODE" = full ]; then
	P1_REPS=5		# part 1: BPF ns/event, arms floor/kvm-lazytop/bpftrace
	P2_REPS=6		# part 2: slowdown, 4 arms
	WL_PAGES=512 WL_ROUNDS=80	# 2 vCPUs x 512 pages x 80 rounds = 81920 page writes
	COST_S=60		# part 3
	SCALE_ARGS=(-v 64 -r 5 -b 150 1 4 16 64 256 1024 2048 4096)
	SCALE_T_ARGS=(-T -v 64 -r 3 -b 60 1 16 64 256 1024 2048 4096)
	PREC_ROUNDS=1500	# part 5: KVM_RUNs per vCPU = rounds + 1
else
	P1_REPS=1
	P2_REPS=1
	WL_PAGES=256 WL_ROUNDS=20
	COST_S=8
	SCALE_ARGS=(-v 64 -r 1 -b 20 1 16 64)
	SCALE_T_ARGS=(-T -v 64 -r 1 -b 10 1 64)
	PREC_ROUNDS=300
fi
WL_VCPUS=2
RAW=$OUT/raw
RUN=$OUT/run
rm -rf "$RAW" "$RUN"
mkdir -p "$RAW" "$RUN"
T_START=$SECONDS
TICK=$(getconf CLK_TCK)

BG=()
TMUX_SOCK=
cleanup() {
	local p
	for p in "${BG[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${BG[@]}"; do
		for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	BG=()
	if [ -n "$TMUX_SOCK" ]; then tmux -L "$TMUX_SOCK" kill-server 2>/dev/null || true; TMUX_SOCK=; fi
}
trap cleanup EXIT

say() { echo "  BENCH   [$((SECONDS - T_START))s] $*"; }
die() { echo "run-bench-tool.sh: $*" >&2; exit 1; }
# Every stop says why: a command that fails outside a condition names
# itself (set -E: also inside functions and subshells).
ERR_TRAP='echo "run-bench-tool.sh: line $LINENO: \"$BASH_COMMAND\" failed (exit $?)" >&2'
trap "$ERR_TRAP" ERR

mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
ulimit -l unlimited 2>/dev/null || true

# ------------------------------------------------------------ helpers

# start_wl TAG ARGS... -> WPID (VM created, waiting for SIGUSR1)
start_wl() {
	local tag=$1 t0=$SECONDS
	shift
	"$WL" --wait-signal "$@" >"$RUN/$tag.wl.out" 2>"$RUN/$tag.wl.err" &
	WPID=$!
	BG+=("$WPID")
	until grep -q '^READY ' "$RUN/$tag.wl.out" 2>/dev/null; do
		kill -0 "$WPID" 2>/dev/null || die "workload $tag died: $(tail -3 "$RUN/$tag.wl.err")"
		((SECONDS - t0 < 60)) || die "workload $tag not READY after 60 s"
		sleep 0.05
	done
}

# wait_result TAG PID
wait_result() {
	local tag=$1 pid=$2 t0=$SECONDS
	until grep -q '^RESULT ' "$RUN/$tag.wl.out" 2>/dev/null; do
		kill -0 "$pid" 2>/dev/null || die "workload $tag exited without RESULT: $(tail -3 "$RUN/$tag.wl.err")"
		((SECONDS - t0 < 600)) || die "workload $tag: no RESULT after 600 s"
		sleep 0.02
	done
	grep -q 'status=ok' "$RUN/$tag.wl.out" || die "workload $tag: $(grep '^RESULT' "$RUN/$tag.wl.out")"
}

# stop PID [SIG]: signal and reap
stop() {
	local pid=$1 sig=${2:-TERM}
	kill -"$sig" "$pid" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	local n=() p
	for p in "${BG[@]}"; do [ "$p" = "$pid" ] || n+=("$p"); done
	BG=("${n[@]}")
}

# cpu_ticks PID [TID]: utime+stime (clock ticks) of the process or one thread
cpu_ticks() {
	local f=/proc/$1/stat
	[ -n "${2:-}" ] && f=/proc/$1/task/$2/stat
	awk '{ sub(/.*\) /, ""); print $12 + $13 }' "$f"
}

nprogs() { "$KLB" progs "$1" 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo 0; }

# wait_progs PID MIN TAG: PID has >= MIN BPF programs attached through its fds
wait_progs() {
	local pid=$1 min=$2 tag=$3 t0=$SECONDS n=0
	while :; do
		kill -0 "$pid" 2>/dev/null || die "$tag exited before attaching: $(tail -3 "$RUN/$tag.err" 2>/dev/null)"
		n=$(nprogs "$pid")
		((n >= min)) && return 0
		((SECONDS - t0 < 90)) || die "$tag: only $n BPF programs attached after 90 s"
		sleep 0.2
	done
}

# fetch URL FILE: HTTP GET with python3 (no curl dependency)
fetch() {
	python3 -c 'import sys, urllib.request
open(sys.argv[2], "wb").write(urllib.request.urlopen(sys.argv[1], timeout=5).read())' "$1" "$2" 2>/dev/null
}

perf_fds() { find "/proc/$1/fd" -lname 'anon_inode:\[perf_event\]' 2>/dev/null | wc -l; }

# ARM start functions: start_<arm> TAG WPID -> APID (ready), or return 1
start_none() { APID=; }
start_floor() {
	"$KLB" floor kvm_dirty_ring_push kvm_fpu sched_switch kvm_userspace_exit >"$RUN/$1.out" 2>"$RUN/$1.err" &
	APID=$!
	BG+=("$APID")
	wait_progs "$APID" 3 "$1"
}
start_kl() {
	"$TOOL" -v -p "$2" --until-exit -o json >"$RUN/$1.out" 2>"$RUN/$1.err" &
	APID=$!
	BG+=("$APID")
	local t0=$SECONDS
	until grep -Eq 'attached [0-9]+ signal' "$RUN/$1.err" 2>/dev/null; do
		kill -0 "$APID" 2>/dev/null || die "kvm-lazytop exited before attaching: $(tail -3 "$RUN/$1.err")"
		((SECONDS - t0 < 120)) || die "kvm-lazytop not attached after 120 s"
		sleep 0.1
	done
	wait_progs "$APID" 3 "$1"
}
# kvm-lazytop without -p: every event of every VM takes the full path
start_kl_all() {
	"$TOOL" -v -o json >"$RUN/$1.out" 2>"$RUN/$1.err" &
	APID=$!
	BG+=("$APID")
	local t0=$SECONDS
	until grep -Eq 'attached [0-9]+ signal' "$RUN/$1.err" 2>/dev/null; do
		kill -0 "$APID" 2>/dev/null || die "kvm-lazytop exited before attaching: $(tail -3 "$RUN/$1.err")"
		((SECONDS - t0 < 120)) || die "kvm-lazytop not attached after 120 s"
		sleep 0.1
	done
	wait_progs "$APID" 3 "$1"
}
start_bt() {
	bpftrace "$TOP/bench/kvm-lazytop.bt" "$2" >"$RUN/$1.out" 2>"$RUN/$1.err" &
	APID=$!
	BG+=("$APID")
	# one program per probe of the script (it is the only probe kind there)
	wait_progs "$APID" "$(grep -c '^tracepoint:' "$TOP/bench/kvm-lazytop.bt")" "$1"
}
start_perf() {
	perf stat -a -e 'kvm:*' -o "$RUN/$1.perf" >"$RUN/$1.out" 2>"$RUN/$1.err" &
	APID=$!
	BG+=("$APID")
	local t0=$SECONDS last=-1 n stable=0
	while :; do
		kill -0 "$APID" 2>/dev/null || die "perf stat exited: $(tail -3 "$RUN/$1.err")"
		n=$(perf_fds "$APID")
		if ((n > 0 && n == last)); then stable=$((stable + 1)); else stable=0; fi
		last=$n
		((stable >= 5)) && break
		((SECONDS - t0 < 60)) || die "perf stat: no stable perf_event fds after 60 s"
		sleep 0.1
	done
}
stop_arm() {
	local arm=$1 tag=$2
	[ -n "$APID" ] || return 0
	case $arm in
	kl) # --until-exit: it leaves when the workload does; INT if not
		for _ in $(seq 100); do kill -0 "$APID" 2>/dev/null || break; sleep 0.05; done
		stop "$APID" INT ;;
	kl_all | bt | perf) stop "$APID" INT ;;
	*) stop "$APID" TERM ;;
	esac
	APID=
}

# one_run PART ARM REP: workload under ARM; appends a JSON record to raw/PART.jsonl
one_run() {
	local part=$1 arm=$2 rep=$3 tag="$1-$2-$3" wpid main_ticks tot_ticks progs='[]' t0 t1 res vc
	start_wl "$tag" -n "$WL_PAGES" -r "$WL_ROUNDS" -v "$WL_VCPUS" --hold-ms 30000
	wpid=$WPID
	"start_$arm" "$tag" "$wpid"
	"$KLB" vcpu-cpu "$wpid" >"$RUN/$tag.vcpu-cpu" &
	vc=$!
	t0=$(date +%s.%N)
	kill -USR1 "$wpid"
	wait_result "$tag" "$wpid"
	t1=$(date +%s.%N)
	# vCPU threads have been joined: process total (live + exited threads) - main thread
	tot_ticks=$(cpu_ticks "$wpid")
	main_ticks=$(cpu_ticks "$wpid" "$wpid")
	[ -n "$APID" ] && progs=$("$KLB" progs "$APID")
	for _ in $(seq 100); do kill -0 "$vc" 2>/dev/null || break; sleep 0.02; done
	kill -TERM "$vc" 2>/dev/null || true
	wait "$vc" || true
	res=$(grep '^RESULT ' "$RUN/$tag.wl.out")
	stop "$wpid" TERM
	stop_arm "$arm" "$tag"
	python3 - "$part" "$arm" "$rep" "$t0" "$t1" "$tot_ticks" "$main_ticks" "$TICK" "$res" "$progs" \
		"$(cat "$RUN/$tag.vcpu-cpu")" >>"$RAW/$part.jsonl" <<'EOF'
import json, sys
part, arm, rep, t0, t1, tot, main, tick, res, progs, vc = sys.argv[1:]
kv = dict(x.split('=', 1) for x in res.split()[1:])
vc = json.loads(vc)
rec = {"part": part, "arm": arm, "rep": int(rep), "wall_s": float(t1) - float(t0),
       "vcpu_cpu_s": vc["cpu_ns"] / 1e9, "vcpu_threads": vc["threads"],
       "vcpu_cpu_s_ticks": (int(tot) - int(main)) / int(tick), "dirty_pages": int(kv["dirty_pages"]),
       "kvm_runs": int(kv["kvm_runs"]), "progs": json.loads(progs)}
print(json.dumps(rec))
EOF
	say "$part $arm #$rep: $(tail -1 "$RAW/$part.jsonl" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("%d pages, vCPU CPU %.3f s (%d threads), wall %.2f s, %d progs" % (r["dirty_pages"], r["vcpu_cpu_s"], r["vcpu_threads"], r["wall_s"], len(r["progs"])))')"
}

# run_arm PART ARM REP: one_run in a subshell, so a failed run cannot take
# the benchmark down: it is retried once, then recorded in raw/failed.jsonl
# (report.py lists it under the tables) and the benchmark goes on.
run_arm() {
	local try rc why log="$RUN/$1-$2-$3.fail"
	for try in 1 2; do
		# the ERR trap is re-armed inside: a failed try is reported below
		set +e
		trap - ERR
		(
			set -e
			trap "$ERR_TRAP" ERR
			BG=()
			trap cleanup EXIT
			one_run "$@"
		) 2>"$log"
		rc=$?
		set -e
		trap "$ERR_TRAP" ERR
		[ $rc -eq 0 ] && return 0
		why=$(grep -v '^[[:space:]]*$' "$log" | tail -1 || true)
		why=${why:-exit $rc, no message}
		say "$1 $2 #$3 FAILED (try $try of 2): $why"
		# drop a record a failed try may have written
		[ -f "$RAW/$1.jsonl" ] && python3 "$TOP/bench/report.py" --drop-run "$RAW/$1.jsonl" "$2" "$3"
	done
	python3 -c 'import json, sys; print(json.dumps({"part": sys.argv[1], "arm": sys.argv[2],
		"rep": int(sys.argv[3]), "error": sys.argv[4]}))' "$1" "$2" "$3" "$why" >>"$RAW/failed.jsonl"
}

# ------------------------------------------------------------ environment

BT_OK=1
BT_ERR=
if ! command -v bpftrace >/dev/null; then
	BT_OK=0; BT_ERR="bpftrace: command not found (apt-get install bpftrace)"
elif ! out=$(timeout 60 bpftrace -e 'tracepoint:kvm:kvm_dirty_ring_push { @c = count(); } interval:ms:100 { exit(); }' 2>&1); then
	BT_OK=0; BT_ERR=$(printf '%s' "$out" | grep -v RLIMIT_MEMLOCK | head -5)
fi
PERF_OK=1
PERF_ERR=
if ! out=$(timeout 60 perf stat -a -e 'kvm:kvm_dirty_ring_push' -- sleep 0.1 2>&1); then
	PERF_OK=0; PERF_ERR=$(printf '%s' "$out" | head -5)
fi
python3 - "$MODE" "$BT_OK" "$BT_ERR" "$PERF_OK" "$PERF_ERR" >"$RAW/env.json" <<EOF
import json, os, subprocess, sys
mode, bt_ok, bt_err, perf_ok, perf_err = sys.argv[1:]
def cmd(c):
    try: return subprocess.run(c, shell=True, capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception as e: return str(e)
print(json.dumps({"mode": mode, "kernel": os.uname().release, "arch": os.uname().machine,
  "ncpus": os.cpu_count(), "loadavg_start": open("/proc/loadavg").read().split()[:3],
  "bpftrace": {"ok": bt_ok == "1", "version": cmd("bpftrace --version"), "error": bt_err or None},
  "perf": {"ok": perf_ok == "1", "version": cmd("perf version"), "error": perf_err or None},
  "tool_version": cmd("$TOOL --version"),
  "workload": {"vcpus": $WL_VCPUS, "pages": $WL_PAGES, "rounds": $WL_ROUNDS},
  "reps": {"part1": $P1_REPS, "part2": $P2_REPS}, "cost_seconds": $COST_S}))
EOF
((BT_OK)) || say "bpftrace unusable: $BT_ERR"
((PERF_OK)) || say "perf unusable: $PERF_ERR"

# ------------------------------------------------------------ part 1: BPF ns/event

ARMS1=(floor kl kl_all)
((BT_OK)) && ARMS1+=(bt)
say "part 1: BPF run time per event, arms ${ARMS1[*]} x $P1_REPS (stats held for the run)"
"$KLB" stats-hold >"$RUN/stats-hold.out" 2>&1 &
SH=$!
BG+=("$SH")
for _ in $(seq 50); do grep -q enabled "$RUN/stats-hold.out" && break; sleep 0.1; done
grep -q enabled "$RUN/stats-hold.out" || die "BPF_ENABLE_STATS failed: $(cat "$RUN/stats-hold.out")"
: >"$RAW/p1.jsonl"
for rep in $(seq "$P1_REPS"); do
	for arm in "${ARMS1[@]}"; do run_arm p1 "$arm" "$rep"; done
done
stop "$SH" TERM

# ------------------------------------------------------------ part 2: slowdown

ARMS2=(none kl)
((BT_OK)) && ARMS2+=(bt)
((PERF_OK)) && ARMS2+=(perf)
say "part 2: workload slowdown, arms ${ARMS2[*]} x $P2_REPS, interleaved"
: >"$RAW/p2.jsonl"
for rep in $(seq "$P2_REPS"); do
	for arm in "${ARMS2[@]}"; do run_arm p2 "$arm" "$rep"; done
done

# ------------------------------------------------------------ part 3: collector cost

say "part 3: collector CPU/RSS over ${COST_S} s at -i 1: ncurses view (tmux) and --listen, side by side"
start_wl cost -n 256 -r 0 -t $((COST_S + 120)) -v "$WL_VCPUS"
CWPID=$WPID
kill -USR1 "$CWPID"
PORT=$((20000 + RANDOM % 20000))
TMUX_SOCK=klbench-$$
tmux -L "$TMUX_SOCK" -f /dev/null new-session -d -s live -x 160 -y 40 \
	"TERM=screen '$TOOL' -v -p $CWPID -i 1 2>'$RUN/cost-tui.err'"
TUI_PID=
for _ in $(seq 100); do
	TUI_PID=$(pgrep -P "$(tmux -L "$TMUX_SOCK" display -p -t live '#{pane_pid}')" -x kvm-lazytop || true)
	[ -n "$TUI_PID" ] && break
	TUI_PID=$(tmux -L "$TMUX_SOCK" display -p -t live '#{pane_pid}')
	[ "$(cat "/proc/$TUI_PID/comm" 2>/dev/null)" = kvm-lazytop ] && break
	TUI_PID=
	sleep 0.1
done
[ -n "$TUI_PID" ] || die "ncurses kvm-lazytop did not start in tmux"
LISTEN_OK=1
LISTEN_ERR=
"$TOOL" -v -p "$CWPID" -i 1 --listen "127.0.0.1:$PORT" -o json >"$RUN/cost-listen.out" 2>"$RUN/cost-listen.err" &
LST_PID=$!
BG+=("$LST_PID")
: >"$RAW/p3-rss-startup.txt"
for tag in tui listen; do
	pid=$TUI_PID; [ $tag = listen ] && pid=$LST_PID
	t0=$SECONDS
	until grep -Eq 'attached [0-9]+ signal' "$RUN/cost-$tag.err" 2>/dev/null; do
		[ $tag = listen ] && awk -v t="$(date +%s.%N)" '/^VmRSS/ {print t, $2}' "/proc/$pid/status" \
			>>"$RAW/p3-rss-startup.txt" 2>/dev/null
		if ! kill -0 "$pid" 2>/dev/null; then
			[ $tag = listen ] || die "ncurses kvm-lazytop exited: $(tail -3 "$RUN/cost-$tag.err")"
			LISTEN_OK=0; LISTEN_ERR=$(head -3 "$RUN/cost-listen.err"); break
		fi
		((SECONDS - t0 < 120)) || die "kvm-lazytop ($tag) not attached after 120 s"
		sleep 0.1
	done
done
[ $LISTEN_OK = 1 ] && awk '/^VmHWM/ {print "hwm_after_attach", $2}' "/proc/$LST_PID/status" >>"$RAW/p3-rss-startup.txt"
sleep 2	# first interval done
c0_tui=$(cpu_ticks "$TUI_PID")
((LISTEN_OK)) && c0_lst=$(cpu_ticks "$LST_PID")
t0=$(date +%s.%N)
scrapes=0 scrape_fail=0
for _ in $(seq $((COST_S / 5))); do
	sleep 5
	if ((LISTEN_OK)); then
		# a Prometheus-style scrape every 5 s
		if fetch "http://127.0.0.1:$PORT/metrics" "$RUN/cost-metrics.txt"; then
			scrapes=$((scrapes + 1))
		else
			scrape_fail=$((scrape_fail + 1))
		fi
	fi
done
t1=$(date +%s.%N)
c1_tui=$(cpu_ticks "$TUI_PID")
hwm_tui=$(awk '/^VmHWM/ {print $2}' "/proc/$TUI_PID/status")
rss_tui=$(awk '/^VmRSS/ {print $2}' "/proc/$TUI_PID/status")
tmux -L "$TMUX_SOCK" capture-pane -p -t live >"$RUN/cost-tui.capture" 2>/dev/null || true
if ((LISTEN_OK)); then
	c1_lst=$(cpu_ticks "$LST_PID")
	hwm_lst=$(awk '/^VmHWM/ {print $2}' "/proc/$LST_PID/status")
	rss_lst=$(awk '/^VmRSS/ {print $2}' "/proc/$LST_PID/status")
	fetch "http://127.0.0.1:$PORT/snapshot.json" "$RAW/cost-listen-snapshot.json" || true
fi
tmux -L "$TMUX_SOCK" send-keys -t live q
sleep 1
tmux -L "$TMUX_SOCK" kill-server 2>/dev/null || true
TMUX_SOCK=
((LISTEN_OK)) && stop "$LST_PID" INT
stop "$CWPID" TERM
python3 - <<EOF >"$RAW/p3.json"
import json
el = $t1 - $t0
tick = $TICK
r = {"seconds": el, "tui": {"cpu_pct": 100.0 * ($c1_tui - $c0_tui) / tick / el,
      "cpu_ticks": $c1_tui - $c0_tui, "peak_rss_kb": $hwm_tui, "rss_kb": $rss_tui}}
if $LISTEN_OK:
    r["listen"] = {"cpu_pct": 100.0 * (${c1_lst:-0} - ${c0_lst:-0}) / tick / el,
        "cpu_ticks": ${c1_lst:-0} - ${c0_lst:-0}, "peak_rss_kb": ${hwm_lst:-0}, "rss_kb": ${rss_lst:-0},
        "scrapes": $scrapes, "scrape_failures": $scrape_fail}
else:
    r["listen"] = {"error": """$LISTEN_ERR"""}
print(json.dumps(r))
EOF
say "part 3: $(cat "$RAW/p3.json")"

# ------------------------------------------------------------ part 4: scale

say "part 4: scale, one collection interval of the collector's code over synthetic maps"
"$KLB" scale "${SCALE_ARGS[@]}" >"$RAW/scale.json" 2>"$RUN/scale.err" ||
	die "kl-bench scale failed: $(tail -3 "$RUN/scale.err")"
sed 's/^/          /' "$RUN/scale.err"
say "part 4b: the same with the vcpus map left empty (isolates the collector's tid bookkeeping)"
"$KLB" scale "${SCALE_T_ARGS[@]}" >"$RAW/scale-notids.json" 2>"$RUN/scale-notids.err" ||
	die "kl-bench scale -T failed: $(tail -3 "$RUN/scale-notids.err")"
sed 's/^/          /' "$RUN/scale-notids.err"

# ------------------------------------------------------------ part 5: precision

say "part 5: percentile precision, kvm-lazytop histograms vs a per-event trace of the same run"
start_wl prec -n 16 -r "$PREC_ROUNDS" -v "$WL_VCPUS" --hold-ms 30000
PWPID=$WPID
start_kl prec-kl "$PWPID"
KLPID=$APID
"$KLB" trace "$PWPID" "$RUN/prec.trace" >"$RUN/prec-trace.out" 2>"$RUN/prec-trace.err" &
TRPID=$!
BG+=("$TRPID")
for _ in $(seq 100); do grep -q attached "$RUN/prec-trace.out" && break; sleep 0.1; done
grep -q attached "$RUN/prec-trace.out" || die "kl-bench trace: $(cat "$RUN/prec-trace.err")"
kill -USR1 "$PWPID"
wait_result prec "$PWPID"
stop "$TRPID" TERM
stop "$PWPID" TERM
for _ in $(seq 100); do kill -0 "$KLPID" 2>/dev/null || break; sleep 0.1; done
stop "$KLPID" INT
cp "$RUN/prec-kl.out" "$RAW/prec-kl.json"
"$KLB" precision "$RUN/prec.trace" >"$RAW/prec-trace.json"
grep '^RESULT' "$RUN/prec.wl.out" >"$RAW/prec-result.txt"

# ------------------------------------------------------------ parts 1b, 2b: riscv64 guest

say "parts 1b/2b: riscv64 guest (QEMU TCG, patched kernel): BPF ns/event vs floor and dirty_log_perf_test slowdown"
"$TOP/bench/run-bench-guest.sh" "--$MODE" --top "$TOP" --raw "$RAW" --run "$RUN" \
	--tool "$GTOOL" --kl-bench "$GKLB" || die "guest half failed"

python3 -c 'import json; print(json.dumps({"loadavg_end": open("/proc/loadavg").read().split()[:3]}))' \
	>"$RAW/env-end.json"
say "done in $((SECONDS - T_START)) s; building the report"
python3 "$TOP/bench/report.py" --raw "$RAW" --out "$OUT" $([ "$MODE" = quick ] && echo --check-only-wellformed)
exit
}
