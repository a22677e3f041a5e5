#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run every command example of the documentation, so that the docs cannot
# drift from the tool:
#   - every ```sh (bash, shell, console) block of README.md;
#   - every .nf (or .EX) block of tools/kvm-lazytop/kvm-lazytop.8 and
#     gate-rules.7, except the rule blocks (kvm-lazytop.8 GATE RULES,
#     gate-rules.7 EXAMPLES), whose rules tests/unit/exports/
#     run-gate-checks.sh evaluates (make check-exports).
# The commands are extracted here (comments dropped, backslash
# continuations joined, a heredoc kept with its body as one unit).  The
# TABLE below maps each of them, verbatim, to how it runs on this host;
# the text that runs is the documented one after the substitutions of
# subst() (sudo dropped, the built tool and workload, the PID and name of
# a real VM, a free port).  A documented command with no TABLE entry, or a
# TABLE entry no longer in the docs, is a failure.  The only commands not
# run here are the "not-run" entries, each naming the check that runs it;
# they are listed in the summary.
#
# The VMs are the deterministic host workload tests/workloads/dirty_ring_vm
# (exact counts: dirty_pages = V*N*R, kvm_runs = V*(R+1)):
#   loop VM   one looping VM (-r 0) started through a symlink named
#             kldoc-<pid>, so that -n NAME finds exactly it; the PID of
#             live views, -i intervals and --listen examples;
#   fixed VM  a fresh --wait-signal VM for each "-p PID --until-exit"
#             example: the command is started, once it is attached the VM
#             is released, and the snapshot must hold its exact counts.
# Snapshots that a block uses but does not make itself are fixtures:
# the demo's (tests/unit/exports/data/demo-*.json) for the gate example
# that documents them, the CI example's recorded x86 run of the same
# workload (tools/kvm-lazytop/examples/ci/baseline.json) otherwise.
#
# usage: doc-examples.sh --top DIR --tool PATH --workload PATH --out DIR
#                        [--docs-dir DIR] [--coverage-only]
#   --docs-dir       read README.md and tools/kvm-lazytop/*.[78] from DIR
#                    instead of --top (e.g. a copy with an edited example)
#   --coverage-only  only extract and match against the TABLE (no root)
# Prints PASS/FAIL per example with its file:line and ends with
# "N passed, N failed"; exit 1 on any failure.  A missing prerequisite is
# a failure, never a skip.
set -uo pipefail

TOP= TOOL= WORKLOAD= OUT= DOCS= COVERAGE_ONLY=0
ATTACH_TIMEOUT=${KL_TEST_ATTACH_TIMEOUT:-60}
usage() {
	echo "usage: doc-examples.sh --top DIR --tool PATH --workload PATH --out DIR" \
		"[--docs-dir DIR] [--coverage-only]" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case "$1" in
	--top) TOP=${2:?}; shift 2 ;;
	--tool) TOOL=${2:?}; shift 2 ;;
	--workload) WORKLOAD=${2:?}; shift 2 ;;
	--out) OUT=${2:?}; shift 2 ;;
	--docs-dir) DOCS=${2:?}; shift 2 ;;
	--coverage-only) COVERAGE_ONLY=1; shift ;;
	*) usage ;;
	esac
done
[ -n "$TOP" ] || usage
((COVERAGE_ONLY)) || { [ -n "$TOOL" ] && [ -n "$WORKLOAD" ] && [ -n "$OUT" ]; } || usage
TOP=$(cd "$TOP" && pwd)
DOCS=$(cd "${DOCS:-$TOP}" && pwd)
DOC_FILES=(README.md tools/kvm-lazytop/kvm-lazytop.8 tools/kvm-lazytop/gate-rules.7)

# ------------------------------------------------------------------ TABLE
# One entry per documented command:
#   FILE[#N]: COMMAND         verbatim, as extracted (comments dropped,
#                             continuations joined; a heredoc by its first
#                             line).  #N: only the Nth occurrence in FILE.
#       run: WORD...          how it runs (default: fg)
#       expect: CHECK; ...    what must hold
#                             (run: and expect: lines may repeat: they add)
#   or
#       not-run: CHECK - why  the make target that runs it instead
#
# run words:
#   fg            foreground in the block's directory (300 s limit)
#   tty=S         in a pseudo-terminal (script(1)); after S s a Ctrl-C
#                 (ETX) is typed into it, as a user ends the live view
#   int=S         without a terminal for S s, then SIGINT
#   listen        in the background until the block's last example ran,
#                 then SIGINT; ready once /metrics shows the loop VM
#   vm=fixed      PID is a fresh --wait-signal VM (-n 64 -r 25 -v 1),
#                 released once the command is attached
#   stage=F:PATH  copy PATH (relative to the tree) to F first
# checks:
#   rc N          exit status N
#   out ERE       stdout matches ERE (grep -E)
#   file F [ERE]  file F exists, is not empty [and matches ERE]
#   exact F SRC   snapshot F holds the VM of SRC's READY line with the
#                 exact dirty_pages and kvm_runs of its RESULT line (SRC:
#                 vm = the fixed VM's output, out = stdout, or a file)
#   ndjson F      F: one snapshot per line, at least one, the loop VM in it
#                 with kvm_runs > 0
#   scrape ERE    the first /metrics scrape of a listen example matches ERE
#   loopback      the listen example's port was bound to 127.0.0.1 only
#                 (/proc/net/tcp* once /metrics answered)
# In checks @PID@ is the example's VM pid, @NAME@ the loop VM's name.
read -r -d '' TABLE <<'EOF'
README.md: make demo
	not-run: check-riscv - riscv64 kernels in QEMU; check-riscv-e2e runs its scenarios
README.md: make test
	not-run: CI - make test is the whole CI run; it runs check-host, which runs this test
README.md: make tool
	expect: rc 0
README.md: sudo build/x86_64/kvm-lazytop --probe
	expect: rc 0; out ^SIGNAL +HOOK +STATUS; out ^kvm_userspace_exit +[a-z_]+ +attached
README.md: sudo build/x86_64/kvm-lazytop -p $(pgrep -f qemu-system | head -1)
	run: tty=4
	expect: rc 0; out @PID@ +@NAME@ +1[^0-9.]
README.md: sudo build/x86_64/kvm-lazytop -p PID --until-exit -o json > run.json
	run: vm=fixed
	expect: rc 0; exact run.json vm
README.md: build/x86_64/kvm-lazytop report run.json
	expect: rc 0; out ^ +[0-9]+ dirty_ring_vm\*? +1[^0-9.]; out KVM_EXIT_IO 100%
README.md: build/x86_64/kvm-lazytop diff base.json run.json
	run: stage=base.json:tools/kvm-lazytop/examples/ci/baseline.json
	expect: rc 0; out ^kvm-lazytop diff: BASE base.json -> NEW run.json; out ^COUNTERS
README.md: build/x86_64/kvm-lazytop report --html out.html base.json run.json
	expect: rc 0; file out.html <h1>kvm-lazytop report; file out.html <h3>kvm_run_ns
README.md: sudo build/x86_64/kvm-lazytop -o json -O run.json -- build/x86_64/dirty_ring_vm -n 64 -r 25
	expect: rc 0; exact run.json out
README.md: sudo build/x86_64/kvm-lazytop -p PID -i 5s -o ndjson > intervals.ndjson
	run: int=12
	expect: rc 0; ndjson intervals.ndjson
README.md: sudo build/x86_64/kvm-lazytop --listen :11940
	run: listen
	expect: rc 0; loopback; scrape ^kvm_lazytop_vm_info\{vm_pid="@PID@",vm_name="@NAME@"
README.md: curl -s 127.0.0.1:11940/metrics | head
	expect: rc 0; out ^# (HELP|TYPE) 
README.md#2: curl -s 127.0.0.1:11940/metrics | head
	not-run: check-service - scrapes the service this block starts; service.sh scrapes it
README.md: curl -s -H 'Accept: application/openmetrics-text; version=1.0.0' 127.0.0.1:11940/metrics | tail -1
	expect: rc 0; out ^# EOF$
README.md: cat > gate.rules <<'RULES'
	expect: rc 0; file gate.rules ^share\.gstage_logged_write_fast >= 0\.99
README.md: kvm-lazytop gate --rules gate.rules run.json --baseline base.json --junit gate.xml --bench-json bench.json
	run: stage=run.json:tests/unit/exports/data/demo-patched.json
	run: stage=base.json:tests/unit/exports/data/demo-base.json
	expect: rc 0; out 3 rules: 3 passed, 0 failed; file gate.xml <testcase; file bench.json "value"
README.md: sudo make install
	not-run: check-install - into the system; install.sh runs make install/uninstall in a DESTDIR
README.md: make install PREFIX=/usr DESTDIR=$PWD/pkg
	expect: rc 0; file pkg/usr/sbin/kvm-lazytop; file pkg/usr/share/man/man8/kvm-lazytop.8
	expect: file pkg/usr/lib/systemd/system/kvm-lazytop.service ExecStart=/usr/sbin/kvm-lazytop
README.md: sudo make uninstall
	not-run: check-install - removes the system's install; install.sh runs it into a DESTDIR
README.md: sudo systemctl daemon-reload
	not-run: check-service - service.sh starts the installed unit (by systemd where it is PID 1)
README.md: sudo systemctl enable --now kvm-lazytop
	not-run: check-service - service.sh starts the installed unit (by systemd where it is PID 1)
README.md: sudo systemctl edit kvm-lazytop
	not-run: check-service - interactive; service.sh sets the address in a drop-in
README.md: sudo kvm-lazytop -o json -- sh -c 'exec "$@" > workload.log' sh ./my-vmm ARGS > run.json
	expect: rc 0; exact run.json workload.log
README.md: kvm-lazytop gate --rules gate.rules --baseline baseline.json --junit gate.xml --bench-json bench.json run.json
	run: stage=gate.rules:tools/kvm-lazytop/examples/ci/gate.rules
	run: stage=baseline.json:tools/kvm-lazytop/examples/ci/baseline.json
	expect: rc 0; out [0-9]+ rules: [0-9]+ passed, 0 failed
	expect: file gate.xml <testcase; file bench.json "value"
tools/kvm-lazytop/kvm-lazytop.8: setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all,+bpf,+perfmon,+dac_read_search --ambient-caps=+bpf,+perfmon,+dac_read_search -- kvm-lazytop -p PID
	run: tty=5
	expect: rc 0; out @PID@ +@NAME@ +1[^0-9.]
tools/kvm-lazytop/kvm-lazytop.8: kvm-lazytop --probe
	expect: rc 0; out ^kvm_userspace_exit +[a-z_]+ +attached
tools/kvm-lazytop/kvm-lazytop.8: kvm-lazytop -n guest1 --vcpu -d 10s > guest1.txt
	expect: rc 0; file guest1.txt ^ +@PID@ +@NAME@ +1[^0-9.]; file guest1.txt ^ +[0-9]+ +vcpu 0
tools/kvm-lazytop/kvm-lazytop.8: kvm-lazytop -p 4242 --until-exit -o json > run.json
	run: vm=fixed
	expect: rc 0; exact run.json vm
tools/kvm-lazytop/kvm-lazytop.8: kvm-lazytop report run.json
	expect: rc 0; out ^ +[0-9]+ dirty_ring_vm\*? +1[^0-9.]
tools/kvm-lazytop/kvm-lazytop.8: kvm-lazytop -o json -O run.json -- qemu-system-x86_64 -accel kvm -name vm1,debug-threads=on ...
	expect: rc 0; exact run.json out
tools/kvm-lazytop/kvm-lazytop.8: kvm-lazytop -o ndjson -i 5s -O intervals.ndjson -n vm1
	run: int=12
	expect: rc 0; ndjson intervals.ndjson
tools/kvm-lazytop/kvm-lazytop.8: kvm-lazytop -v report --vcpu run.json
	expect: rc 0; out ^ +[0-9]+ dirty_ring_vm\*? +1[^0-9.]; out ^ +[0-9]+ +vcpu 0
tools/kvm-lazytop/kvm-lazytop.8: kvm-lazytop --listen :11940 -i 5s
	run: listen
	expect: rc 0; loopback; scrape ^kvm_lazytop_vm_info\{vm_pid="@PID@",vm_name="@NAME@"
tools/kvm-lazytop/gate-rules.7: unknown userspace_exit reason 'KVM_EXIT_IOO'; did you mean KVM_EXIT_IO, ...?
	not-run: check-exports - sample output, not a command; run-gate-checks.sh checks this message
tools/kvm-lazytop/kvm-lazytop.8: kvm-lazytop: run.json: vms[0].reasons.userspace_exit: expected object, got array
	not-run: check-exports - sample output, not a command; run-bad-snapshots.sh checks this message
EOF

# subst TEXT: the documented command made concrete on this host.  The
# variables are exported to the shell that runs it (hence single quotes).
# shellcheck disable=SC2016
subst() {
	local s=$1
	s=${s#sudo }
	s=${s//'$(pgrep -f qemu-system | head -1)'/'$VM_PID'}
	s=${s//'qemu-system-x86_64 -accel kvm -name vm1,debug-threads=on ...'/'$WORKLOAD -n 64 -r 25'}
	# the CI example's workload: examples/ci/gate.rules holds its counts
	s=${s//'./my-vmm ARGS'/'$WORKLOAD -n 64 -r 10 -v 2'}
	s=${s//build\/x86_64\/kvm-lazytop/'$TOOL'}
	s=${s//build\/x86_64\/dirty_ring_vm/'$WORKLOAD'}
	s=$(sed -E 's/(^|-- )kvm-lazytop( |$)/\1$TOOL\2/g
		s/(^|[ =])(PID|4242)( |$)/\1$VM_PID\3/g
		s/(^|[ =])(guest1|vm1)( |$)/\1$VM_NAME\3/g
		s/11940/$PORT/g
		s/^make /make -C "$TOP" --no-print-directory /' <<<"$s")
	printf '%s' "$s"
}

# ------------------------------------------------------------- extraction
# Units: U_FILE U_LINE U_KEY (the command) U_TEXT (what runs: the command,
# plus a heredoc's body) U_BLOCK (file-line of the block).
U_FILE=() U_LINE=() U_KEY=() U_TEXT=() U_BLOCK=()
HEREDOC_RE="<<-?['\"]?([A-Za-z_][A-Za-z0-9_]*)"
FENCE_RE='^( *)```(sh|bash|shell|console)[[:space:]]*$'
EXTRACT_ERRS=()
RAW=() RAWN=()

trim() { local s=$1; s=${s#"${s%%[![:space:]]*}"}; s=${s%"${s##*[![:space:]]}"}; printf '%s' "$s"; }

# strip_comment TEXT: TEXT without a shell comment (a # after a blank,
# outside quotes), trimmed
strip_comment() {
	local s=$1 out= c q= prev=' ' k
	for ((k = 0; k < ${#s}; k++)); do
		c=${s:k:1}
		if [ -n "$q" ]; then
			[ "$c" = "$q" ] && q=
		else
			case $c in
			"'" | '"') q=$c ;;
			'#') [[ $prev == [[:space:]] ]] && break ;;
			'\') out+=$c; k=$((k + 1)); c=${s:k:1} ;;
			esac
		fi
		out+=$c
		prev=$c
	done
	trim "$out"
}

# units_from_raw FILE BLOCK_LINE: commands of the block in RAW/RAWN
units_from_raw() {
	local f=$1 blk=$2 i=0 n=${#RAW[@]} t ln key text word body
	while ((i < n)); do
		t=$(trim "${RAW[i]}")
		ln=${RAWN[i]}
		i=$((i + 1))
		[ -z "$t" ] || [[ $t == '#'* ]] && continue
		while [[ $t == *'\' ]] && ((i < n)); do
			t="$(trim "${t%'\'}") $(trim "${RAW[i]}")"
			i=$((i + 1))
		done
		key=$(strip_comment "$t")
		text=$key
		if [[ $key =~ $HEREDOC_RE ]]; then
			word=${BASH_REMATCH[1]}
			body=
			while ((i < n)) && [ "$(trim "${RAW[i]}")" != "$word" ]; do
				body+=${RAW[i]}$'\n'
				i=$((i + 1))
			done
			if ((i >= n)); then
				EXTRACT_ERRS+=("$f:$ln: heredoc '$word' not terminated in its block")
				continue
			fi
			i=$((i + 1))
			text=$key$'\n'$body$word
		fi
		U_FILE+=("$f") U_LINE+=("$ln") U_KEY+=("$key") U_TEXT+=("$text")
		U_BLOCK+=("${f##*/}-$blk")
	done
}

# README.md: ```sh blocks (also bash, shell, console; indented ones lose
# the fence's indentation)
extract_md() {
	local f=$1 path=$DOCS/$1 line n=0 infence=0 ind=0 blk=0 k
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		if ((!infence)); then
			if [[ $line =~ $FENCE_RE ]]; then
				infence=1 ind=${#BASH_REMATCH[1]} blk=$n RAW=() RAWN=()
			fi
			continue
		fi
		if [[ $line =~ ^\ *\`\`\` ]]; then
			infence=0
			units_from_raw "$f" "$blk"
			continue
		fi
		for ((k = 0; k < ind; k++)); do [[ $line == ' '* ]] && line=${line:1}; done
		RAW+=("$line") RAWN+=("$n")
	done <"$path"
	((!infence)) || EXTRACT_ERRS+=("$f:$blk: unterminated \`\`\`sh block")
}

# man pages: .nf/.fi blocks, roff escapes undone, requests dropped; the
# rule blocks belong to run-gate-checks.sh
extract_man() {
	local f=$1 path=$DOCS/$1 line n=0 innf=0 blk=0 sec= rules=0
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		if [[ $line =~ ^\.SH\ +\"?([^\"]*)\"?$ ]]; then sec=${BASH_REMATCH[1]}; fi
		if ((!innf)); then
			if [[ $line == .nf* || $line == .EX* ]]; then
				innf=1 blk=$n RAW=() RAWN=() rules=0
				[[ $f == */kvm-lazytop.8 && $sec == "GATE RULES" ]] && rules=1
				[[ $f == */gate-rules.7 && $sec == EXAMPLES ]] && rules=1
			fi
			continue
		fi
		if [[ $line == .fi* || $line == .EE* ]]; then
			innf=0
			((rules)) || units_from_raw "$f" "$blk"
			continue
		fi
		[[ $line == .* || $line == "'"* ]] && continue
		line=$(sed -e 's/\\(en/-/g' -e "s/\\\\(aq/'/g" -e 's/\\&//g' \
			-e 's/\\-/-/g' -e 's/\\e/\\/g' <<<"$line")
		RAW+=("$line") RAWN+=("$n")
	done <"$path"
	((!innf)) || EXTRACT_ERRS+=("$f:$blk: unterminated .nf block")
}

# ------------------------------------------------------------ TABLE parse
T_FILE=() T_OCC=() T_KEY=() T_RUN=() T_EXPECT=() T_NOTRUN=() T_USED=()
parse_table() {
	local line head i=-1
	while IFS= read -r line; do
		[ -z "$(trim "$line")" ] && continue
		if [[ $line != [[:space:]]* ]]; then
			i=$((i + 1))
			head=${line%%: *}
			T_FILE[i]=${head%%#*}
			T_OCC[i]=
			[[ $head == *'#'* ]] && T_OCC[i]=${head#*#}
			T_KEY[i]=${line#*: }
			T_RUN[i]= T_EXPECT[i]= T_NOTRUN[i]= T_USED[i]=0
			continue
		fi
		line=$(trim "$line")
		case $line in
		run:*) T_RUN[i]+=" $(trim "${line#run:}")" ;;
		expect:*) T_EXPECT[i]+="; $(trim "${line#expect:}")" ;;
		not-run:*) T_NOTRUN[i]=$(trim "${line#not-run:}") ;;
		*) echo "doc-examples.sh: bad TABLE line: $line" >&2; exit 2 ;;
		esac
	done <<<"$TABLE"
}

# ------------------------------------------------------------ reporting
npass=0 nfail=0 NOTRUN_LIST=()
pass() { echo "PASS  $*"; npass=$((npass + 1)); }
fail() { echo "FAIL  $*"; nfail=$((nfail + 1)); }
finish() {
	cleanup
	if ((${#NOTRUN_LIST[@]})); then
		echo "not run here (run by the check named):"
		printf '  %s\n' "${NOTRUN_LIST[@]}"
	fi
	echo "doc-examples: $npass passed, $nfail failed"
	((nfail == 0))
	exit
}

# ------------------------------------------------------- process helpers
LOOP_PID= LOOP_NAME= BG_PIDS=()
cleanup() {
	local p
	for p in "${BG_PIDS[@]}" $LOOP_PID; do
		[ -n "$p" ] || continue
		for q in $(tree_pids "$p"); do kill -TERM "$q" 2>/dev/null; done
		for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	BG_PIDS=() LOOP_PID=
}
trap cleanup EXIT

drop_bg() {
	local p keep=()
	for p in "${BG_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	BG_PIDS=("${keep[@]}")
}

# listeners PORT: local addresses (hex, as /proc/net/tcp*) listening on PORT
listeners() {
	local hex
	hex=$(printf '%04X' "$1")
	awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { print $2 }' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null | sort -u | tr '\n' ' '
}

# tree_pids PID: PID and its descendants
tree_pids() {
	local p=$1 c
	echo "$p"
	for c in $(pgrep -P "$p" 2>/dev/null); do tree_pids "$c"; done
}
nlinks_tree() {
	local p n=0
	for p in $(tree_pids "$1"); do
		n=$((n + $(find "/proc/$p/fd" -lname 'anon_inode:bpf_link' 2>/dev/null | wc -l)))
	done
	echo "$n"
}

# wait_ready FILE PID: the workload printed READY
wait_ready() {
	local t0=$SECONDS
	until grep -q '^READY ' "$1" 2>/dev/null; do
		kill -0 "$2" 2>/dev/null || return 1
		((SECONDS - t0 < 30)) || return 1
		sleep 0.05
	done
}

# wait_attached PID: the tree's bpf_link count is non-zero and unchanged
# for 1.5 s (as run-host-tests.sh does without -v)
wait_attached() {
	local t0=$SECONDS n last=-1 stable=0
	while :; do
		kill -0 "$1" 2>/dev/null || return 1
		n=$(nlinks_tree "$1")
		if ((n > 0 && n == last)); then stable=$((stable + 1)); else stable=0; fi
		last=$n
		((stable >= 15)) && return 0
		((SECONDS - t0 < ATTACH_TIMEOUT)) || return 1
		sleep 0.1
	done
}

# wait_pid PID TMO -> RC (124: still running)
wait_pid() {
	local t0=$SECONDS
	while kill -0 "$1" 2>/dev/null; do
		[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ] && break
		((SECONDS - t0 < $2)) || { RC=124; return; }
		sleep 0.1
	done
	wait "$1" && RC=0 || RC=$?
}

# ---------------------------------------------------------------- checks
# run_check E BD CHECK...: one check of example E (log prefix) in BD;
# prints the reason and returns 1 when it does not hold
run_check() {
	local e=$1 bd=$2 name=$3 a b src res pid runs dirty got
	shift 3
	local arg="$*"
	arg=${arg//@PID@/$VM_PID}
	arg=${arg//@NAME@/$LOOP_NAME}
	case $name in
	rc)
		[ "$RC" = "$arg" ] || { echo "exit status $RC, expected $arg"; return 1; } ;;
	out)
		grep -Eq -- "$arg" "$e.out" ||
			{ echo "stdout does not match /$arg/: $(head -c 300 "$e.out" | tr -d '\033')"; return 1; } ;;
	file)
		a=${arg%% *}
		b=; [[ $arg == *' '* ]] && b=${arg#* }
		[ -s "$bd/$a" ] || { echo "$a missing or empty"; return 1; }
		[ -z "$b" ] || grep -Eq -- "$b" "$bd/$a" ||
			{ echo "$a does not match /$b/"; return 1; } ;;
	exact)
		a=${arg%% *} src=${arg#* }
		case $src in vm) src=$e.vm ;; out) src=$e.out ;; *) src=$bd/$src ;; esac
		res=$(grep '^RESULT ' "$src" 2>/dev/null)
		[[ $res == *status=ok* ]] ||
			{ echo "workload: no RESULT status=ok in ${src##*/}: $res"; return 1; }
		pid=$(sed -n 's/^READY pid=\([0-9]*\).*/\1/p' "$src")
		runs=$(sed -n 's/.* kvm_runs=\([0-9]*\).*/\1/p' <<<"$res")
		dirty=$(sed -n 's/.* dirty_pages=\([0-9]*\).*/\1/p' <<<"$res")
		got=$(jq -r ".vms[] | select(.pid == $pid) | \"\(.counters.dirty_pages) \(.counters.kvm_runs)\"" \
			"$bd/$a" 2>/dev/null)
		[ "$got" = "$dirty $runs" ] ||
			{ echo "$a: pid $pid dirty_pages kvm_runs = '$got', workload: $dirty $runs"; return 1; }
		echo "    ok: $a: pid $pid dirty_pages=$dirty kvm_runs=$runs (exact)" ;;
	ndjson)
		[ -s "$bd/$arg" ] || { echo "$arg missing or empty"; return 1; }
		jq -e -s 'length >= 1 and all(.[]; type == "object" and has("vms") and has("probes"))' \
			"$bd/$arg" >/dev/null 2>&1 || { echo "$arg: not one snapshot per line"; return 1; }
		got=$(jq -s "[.[] | .vms[] | select(.pid == $LOOP_PID) | .counters.kvm_runs] | add // 0" \
			"$bd/$arg")
		((got > 0)) || { echo "$arg: loop VM $LOOP_PID absent or idle"; return 1; }
		echo "    ok: $arg: $(wc -l <"$bd/$arg") lines, loop VM kvm_runs $got" ;;
	scrape)
		grep -Eq -- "$arg" "$e.scrape" 2>/dev/null ||
			{ echo "first scrape does not match /$arg/"; return 1; } ;;
	loopback)
		got=$(cat "$e.ss")
		[ "$got" = "$(printf '0100007F:%04X ' "$PORT")" ] ||
			{ echo "port $PORT bound on '$got' (/proc/net/tcp*), expected 127.0.0.1 only"; return 1; } ;;
	*)
		echo "unknown check '$name'"; return 1 ;;
	esac
	return 0
}

# check_all E BD EXPECT: every check of EXPECT; RC is the exit status
check_all() {
	local e=$1 bd=$2 c why bad=0
	local IFS=';'
	local -a cs
	read -r -a cs <<<"$3"
	unset IFS
	for c in "${cs[@]}"; do
		c=$(trim "$c")
		[ -n "$c" ] || continue
		# shellcheck disable=SC2086 # a check is words
		why=$(run_check "$e" "$bd" ${c%% *} "$( [[ $c == *' '* ]] && printf '%s' "${c#* }")") || {
			echo "    $why"
			bad=1
			continue
		}
		[ -z "$why" ] || echo "$why"
	done
	return $bad
}

# ------------------------------------------------------------ one example
# Listen examples of the current block: "PID|E|where|expect|cmd"
LISTENERS=()

stop_listeners() {
	local l pid e where exp
	for l in "${LISTENERS[@]}"; do
		IFS='|' read -r pid e where exp <<<"$l"
		kill -INT "$pid" 2>/dev/null
		wait_pid "$pid" 30
		if [ "$RC" = 124 ]; then
			kill -KILL "$pid" 2>/dev/null
			fail "$where: still running 30 s after SIGINT"
		elif check_all "$e" "$(dirname "$e")" "$exp"; then
			pass "$where"
		else
			fail "$where (log: $e.*)"
		fi
		drop_bg "$pid"
	done
	LISTENERS=()
}

run_example() {
	local idx=$1 ti=$2 bd=$3 where cmd w mode=fg secs= fixed=0 e vm_pid= p t0 ok
	where="${U_FILE[idx]}:${U_LINE[idx]}: ${U_KEY[idx]}"
	e=$bd/L${U_LINE[idx]}
	VM_PID=$LOOP_PID
	for w in ${T_RUN[ti]}; do
		case $w in
		fg) ;;
		tty=* | int=*) mode=${w%%=*} secs=${w#*=} ;;
		listen) mode=listen ;;
		vm=fixed) fixed=1 ;;
		stage=*)
			w=${w#stage=}
			cp "$TOP/${w#*:}" "$bd/${w%%:*}" || { fail "$where: cannot stage ${w#*:}"; return; } ;;
		*) fail "$where: unknown run word '$w' in the TABLE"; return ;;
		esac
	done
	if ((fixed)); then
		"$WORKLOAD" --wait-signal -n 64 -r 25 -v 1 >"$e.vm" 2>"$e.vm.err" &
		vm_pid=$!
		BG_PIDS+=("$vm_pid")
		wait_ready "$e.vm" "$vm_pid" ||
			{ fail "$where: fixed VM not READY: $(tail -2 "$e.vm.err")"; return; }
		VM_PID=$vm_pid
	fi
	export VM_PID VM_NAME=$LOOP_NAME TOOL WORKLOAD PORT TOP SHELL=/bin/bash
	cmd=$(subst "${U_TEXT[idx]}")
	echo "  run: (cd ${bd#"$OUT"/} && $(head -1 <<<"$cmd"))" \
		"$( [[ $cmd == *$'\n'* ]] && echo '<<heredoc>>')"
	case $mode in
	fg)
		if ((fixed)); then
			(cd "$bd" && exec bash -c "$cmd") >"$e.out" 2>"$e.err" &
			p=$!
			BG_PIDS+=("$p")
			if ! wait_attached "$p"; then
				fail "$where: not attached within $ATTACH_TIMEOUT s: $(head -3 "$e.err")"
				return
			fi
			kill -USR1 "$vm_pid"
			wait_pid "$p" 120
			local tool_rc=$RC
			wait_pid "$vm_pid" 120
			[ "$RC" = 0 ] || { fail "$where: fixed VM exited $RC: $(tail -2 "$e.vm.err")"; return; }
			RC=$tool_rc
		else
			(cd "$bd" && timeout -s KILL 300 bash -c "$cmd") >"$e.out" 2>"$e.err" && RC=0 || RC=$?
		fi ;;
	tty)
		# a user's Ctrl-C: ETX through the terminal after S seconds
		rm -f "$e.in"
		mkfifo "$e.in"
		bash -c 'sleep "$1"; printf "\003"; exec sleep 60' feeder "$secs" >"$e.in" &
		p=$!
		(cd "$bd" && TERM=xterm timeout -s KILL $((secs + 60)) \
			script -qfec "$cmd" /dev/null) <"$e.in" >"$e.out" 2>"$e.err" && RC=0 || RC=$?
		for w in $(tree_pids "$p"); do kill -TERM "$w" 2>/dev/null; done
		wait "$p" 2>/dev/null ;;
	int)
		(cd "$bd" && timeout --preserve-status -s INT "$secs" bash -c "$cmd") \
			</dev/null >"$e.out" 2>"$e.err" && RC=0 || RC=$? ;;
	listen)
		(cd "$bd" && exec bash -c "exec $cmd") >"$e.out" 2>"$e.err" &
		p=$!
		BG_PIDS+=("$p")
		t0=$SECONDS ok=0
		while ((SECONDS - t0 < ATTACH_TIMEOUT)); do
			kill -0 "$p" 2>/dev/null || break
			if curl -sf "127.0.0.1:$PORT/metrics" >"$e.scrape" 2>/dev/null &&
				grep -q "vm_pid=\"$LOOP_PID\"" "$e.scrape"; then
				ok=1
				break
			fi
			sleep 0.3
		done
		if ((!ok)); then
			fail "$where: /metrics on port $PORT did not show the loop VM" \
				"within $ATTACH_TIMEOUT s: $(head -3 "$e.err")"
			return
		fi
		listeners "$PORT" >"$e.ss"
		echo "    ok: listening, /metrics shows the loop VM after $((SECONDS - t0)) s"
		LISTENERS+=("$p|$e|$where|${T_EXPECT[ti]}")
		return ;;
	esac
	if check_all "$e" "$bd" "${T_EXPECT[ti]}"; then
		pass "$where"
	else
		fail "$where (log: $e.*)"
	fi
}

# ------------------------------------------------------------------- main
parse_table
for f in "${DOC_FILES[@]}"; do
	[ -f "$DOCS/$f" ] || { fail "$f: missing in $DOCS"; continue; }
	case $f in
	*.md) extract_md "$f" ;;
	*) extract_man "$f" ;;
	esac
done
for m in "${EXTRACT_ERRS[@]}"; do fail "$m"; done

# match every unit with its TABLE entry (U_ENTRY), count occurrences
declare -A OCC
U_ENTRY=()
for i in "${!U_KEY[@]}"; do
	k="${U_FILE[i]}: ${U_KEY[i]}"
	OCC[$k]=$((${OCC[$k]:-0} + 1))
	U_ENTRY[i]=-1
	for t in "${!T_KEY[@]}"; do
		[ "${T_FILE[t]}" = "${U_FILE[i]}" ] && [ "${T_KEY[t]}" = "${U_KEY[i]}" ] || continue
		[ -z "${T_OCC[t]}" ] || [ "${T_OCC[t]}" = "${OCC[$k]}" ] || continue
		# an entry for this very occurrence wins over one for all
		if [ "${U_ENTRY[i]}" = -1 ] || [ -n "${T_OCC[t]}" ]; then U_ENTRY[i]=$t; fi
	done
	if [ "${U_ENTRY[i]}" = -1 ]; then
		fail "${U_FILE[i]}:${U_LINE[i]}: command not covered by doc-examples.sh: ${U_KEY[i]}"
	else
		T_USED[U_ENTRY[i]]=1
	fi
done
for t in "${!T_KEY[@]}"; do
	((T_USED[t])) ||
		fail "doc-examples.sh TABLE: no longer in" \
			"${T_FILE[t]}${T_OCC[t]:+ (occurrence ${T_OCC[t]})}: ${T_KEY[t]}"
done
echo "doc-examples: ${#U_KEY[@]} documented commands in ${DOC_FILES[*]} (from $DOCS)"

if ((COVERAGE_ONLY)); then
	for i in "${!U_KEY[@]}"; do
		t=${U_ENTRY[i]}
		((t >= 0)) || continue
		if [ -n "${T_NOTRUN[t]}" ]; then
			NOTRUN_LIST+=("${U_FILE[i]}:${U_LINE[i]}: ${U_KEY[i]} -> ${T_NOTRUN[t]}")
		else
			pass "${U_FILE[i]}:${U_LINE[i]}: ${U_KEY[i]} (covered: $(trim "${T_RUN[t]:- fg}"))"
		fi
	done
	finish
fi

# ------------------------------------------------------------ prerequisites
[[ $TOOL == /* ]] || TOOL=$PWD/$TOOL
[[ $WORKLOAD == /* ]] || WORKLOAD=$PWD/$WORKLOAD
[ "$(id -u)" = 0 ] || { fail "must run as root (the examples load BPF)"; finish; }
for p in jq curl script setpriv timeout pgrep python3; do
	command -v "$p" >/dev/null || { fail "prerequisite '$p' not installed"; finish; }
done
[ -x "$TOOL" ] || { fail "tool $TOOL not built (make tool)"; finish; }
[ -x "$WORKLOAD" ] || { fail "workload $WORKLOAD not built (make workloads)"; finish; }
setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "$TOOL" ||
	{ fail "nobody cannot execute $TOOL (directory permissions)"; finish; }
rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# the documented port unless something already listens there
PORT=11940
if [ -n "$(listeners "$PORT")" ]; then
	PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
	echo "doc-examples: port 11940 in use, the examples use $PORT"
fi

# the loop VM, named so that -n finds it and nothing else
LOOP_NAME=kldoc-$$
mkdir -p "$OUT/loopvm"
ln -s "$WORKLOAD" "$OUT/loopvm/$LOOP_NAME"
"$OUT/loopvm/$LOOP_NAME" --wait-signal -n 256 -r 0 -t 1800 -v 1 \
	>"$OUT/loopvm/out" 2>"$OUT/loopvm/err" &
LOOP_PID=$!
wait_ready "$OUT/loopvm/out" "$LOOP_PID" ||
	{ fail "loop VM not READY: $(tail -3 "$OUT/loopvm/err")"; finish; }
kill -USR1 "$LOOP_PID"
echo "doc-examples: TOOL=$TOOL WORKLOAD=$WORKLOAD PORT=$PORT"
echo "doc-examples: loop VM $LOOP_NAME pid $LOOP_PID (VM_PID, VM_NAME unless vm=fixed)"

cur_block=
for i in "${!U_KEY[@]}"; do
	t=${U_ENTRY[i]}
	((t >= 0)) || continue
	if [ "${U_BLOCK[i]}" != "$cur_block" ]; then
		stop_listeners
		cur_block=${U_BLOCK[i]}
		mkdir -p "$OUT/${cur_block}"
	fi
	if [ -n "${T_NOTRUN[t]}" ]; then
		NOTRUN_LIST+=("${U_FILE[i]}:${U_LINE[i]}: ${U_KEY[i]} -> ${T_NOTRUN[t]}")
		continue
	fi
	run_example "$i" "$t" "$OUT/$cur_block"
done
stop_listeners
kill -0 "$LOOP_PID" 2>/dev/null ||
	fail "loop VM $LOOP_PID died during the examples: $(tail -3 "$OUT/loopvm/err")"
finish
