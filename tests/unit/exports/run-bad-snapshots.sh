#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Snapshots that parse as JSON but have a wrong type or value (issue 14,
# items 1 and 3): each is data/golden.json (or data/arm64.json) with one
# member replaced, and goes through every reader of a snapshot file:
#   report, report --vcpu, report --html, diff (as BASE and as NEW),
#   gate (as SNAPSHOT and as --baseline).
# Each must exit 2 with exactly one stderr line naming the file and the
# JSON path: "kvm-lazytop: FILE: path.to.field: expected X, got Y".
# gate's own prefix belongs to gate.c, so for gate only the text after
# the prefix is compared exactly.  Never a crash, never partial output.
#
#   run-bad-snapshots.sh KL-EXPORTS      (make check-exports-bad)
set -uo pipefail
KL=${1:?usage: run-bad-snapshots.sh KL-EXPORTS}
cd "$(dirname "$0")/../../.."
D=tests/unit/exports/data
OUT=$(mktemp -d); trap 'rm -rf "$OUT"' EXIT
fails=0 n=0
command -v python3 >/dev/null || { echo "FAIL: python3 is needed to build the fixtures"; exit 1; }
printf 'kvm_runs >= 0\n' >"$OUT/any.rules"

# mk NAME BASE PATH VALUE: BASE.json with the member at PATH (a.b[0].c)
# set to the JSON text VALUE (kept verbatim: NaN, 1e400, escapes), or
# removed when VALUE is @DELETE.  PATH "." replaces the whole document.
mk() {
	python3 - "$D/$2.json" "$OUT/$1.json" "$3" "$4" <<'EOF' || { echo "FAIL: cannot build $1"; exit 1; }
import json, re, sys
src, dst, path, raw = sys.argv[1:5]
doc = json.load(open(src))
if path == ".":
    open(dst, "w").write(raw + "\n")
    sys.exit(0)
keys = [int(i) if i else k for k, i in re.findall(r"\.?([^.\[\]]+)|\[(\d+)\]", path)]
o = doc
for k in keys[:-1]:
    o = o[k]
if raw == "@DELETE":
    del o[keys[-1]]
    raw = None
else:
    o[keys[-1]] = "@@RAW@@"
text = json.dumps(doc, indent=1)
if raw is not None:
    text = text.replace('"@@RAW@@"', raw, 1)
open(dst, "w").write(text + "\n")
EOF
}

# matches MODE ERR WANT: exact text, or gate's prefix then the exact text
matches() {
	case $1 in
	exact) [ "$2" = "$3" ] ;;
	gate) [[ "$2" =~ ^(kvm-lazytop|gate|kvm-lazytop:\ gate):\ (.*)$ ]] &&
		[ "${BASH_REMATCH[2]}" = "$3" ] ;;
	*) true ;;
	esac
}

# run NAME WANT_LINE_REGEX_OR_TEXT MODE CMD...: exit 2, one stderr line, no stdout
run() {
	local name=$1 want=$2 mode=$3; shift 3
	local rc err lines
	n=$((n+1))
	"$@" >"$OUT/out" 2>"$OUT/err"; rc=$?
	err=$(cat "$OUT/err"); lines=$(wc -l <"$OUT/err")
	if [ "$rc" != 2 ]; then
		echo "FAIL $name: exit $rc, want 2: $*"; head -c 300 "$OUT/err" | cat -v | sed 's/^/    /'
		fails=$((fails+1)); return
	fi
	if [ "$lines" != 1 ]; then
		echo "FAIL $name: $lines stderr lines, want 1: $*"; head -5 "$OUT/err" | cat -v | sed 's/^/    /'
		fails=$((fails+1)); return
	fi
	if ! matches "$mode" "$err" "$want"; then
		echo "FAIL $name: $*"; echo "    got:  $(cat -v "$OUT/err")"; echo "    want: $want"
		fails=$((fails+1)); return
	fi
	if [ -s "$OUT/out" ]; then
		echo "FAIL $name: printed output before the error: $*"; head -3 "$OUT/out" | sed 's/^/    /'
		fails=$((fails+1))
	fi
}

# bad NAME BASE PATH VALUE MESSAGE: every reader rejects the snapshot
bad() {
	local name=$1 base=$2 f="$OUT/$1.json" msg
	mk "$1" "$2" "$3" "$4"
	msg="$f: $5"
	run "$name/report" "kvm-lazytop: $msg" exact "$KL" report "$f"
	run "$name/report-vcpu" "kvm-lazytop: $msg" exact "$KL" report --vcpu "$f"
	run "$name/report-html" "kvm-lazytop: $msg" exact "$KL" report --html "$OUT/r.html" "$D/$base.json" "$f"
	run "$name/diff-new" "kvm-lazytop: $msg" exact "$KL" diff "$D/$base.json" "$f"
	run "$name/diff-base" "kvm-lazytop: $msg" exact "$KL" diff "$f" "$D/$base.json"
	run "$name/gate" "$msg" gate "$KL" gate --rules "$OUT/any.rules" "$f"
	run "$name/gate-baseline" "$msg" gate "$KL" gate --rules "$OUT/any.rules" --baseline "$f" "$D/$base.json"
}

G=golden
# --- issue 14 item 1: the reported crashes (segfault, json-c assertion, garbage error text)
bad ue-array $G vms[0].reasons.userspace_exit '[1]' 'vms[0].reasons.userspace_exit: expected object, got array'
bad drops-int $G overhead.drops 5 'overhead.drops: expected object, got integer'
bad unavailable-str $G unavailable '"x"' 'unavailable: expected array, got string'
bad vcpus-int $G vms[0].vcpus 7 'vms[0].vcpus: expected array, got integer'
bad null-doc $G . null 'top level: expected object, got null'
bad array-doc $G . '[1]' 'top level: expected object, got array'
bad string-doc $G . '"snapshot"' 'top level: expected object, got string'

# --- item 3: negative counters and durations are errors, not negative rates / "covering nans"
bad neg-counter $G vms[0].counters.kvm_runs -5 'vms[0].counters.kvm_runs: expected non-negative integer, got -5'
bad neg-vcpu-counter $G 'vms[0].vcpus[1].counters.dirty_pages' -1 \
	'vms[0].vcpus[1].counters.dirty_pages: expected non-negative integer, got -1'
bad neg-reason $G vms[0].reasons.exit.IRQ_VS_TIMER -1000 \
	'vms[0].reasons.exit.IRQ_VS_TIMER: expected non-negative integer, got -1000'
bad neg-drop $G overhead.drops.clock_skew -1 'overhead.drops.clock_skew: expected non-negative integer, got -1'
bad neg-duration $G duration_ns -10000000000 'duration_ns: expected non-negative integer, got -10000000000'
bad nan-duration $G duration_ns NaN 'duration_ns: expected non-negative integer, got nan'
bad inf-duration $G duration_ns 1e400 'duration_ns: expected non-negative integer, got inf'
bad frac-duration $G duration_ns 1.5 'duration_ns: expected non-negative integer, got 1.5'
bad huge-duration $G duration_ns 1e20 'duration_ns: expected non-negative integer, got 1e+20'
bad frac-counter $G vms[0].counters.exits 0.5 'vms[0].counters.exits: expected non-negative integer, got 0.5'

# --- every top-level member with a wrong type
bad t-schema_version $G schema_version 1 'schema_version: expected string, got integer'
bad t-tool $G tool '[]' 'tool: expected object, got array'
bad t-host $G host '"h"' 'host: expected object, got string'
bad t-start_time_ns $G start_time_ns '"0"' 'start_time_ns: expected non-negative integer, got string'
bad t-duration_ns $G duration_ns '{}' 'duration_ns: expected non-negative integer, got object'
bad t-interval_ns $G interval_ns true 'interval_ns: expected non-negative integer, got boolean'
bad t-target $G target 5 'target: expected object, got integer'
bad t-probes $G probes '[]' 'probes: expected object, got array'
bad t-unavailable $G unavailable '{}' 'unavailable: expected array, got object'
bad t-probe-events $G probe_events '[]' 'probe_events: expected object, got array'
bad probe-events-neg $G probe_events '{"kvm_exit": -1}' 'probe_events.kvm_exit: expected non-negative integer, got -1'
bad probe-events-str $G probe_events '{"kvm_exit": "0"}' 'probe_events.kvm_exit: expected non-negative integer, got string'
bad t-overhead $G overhead null 'overhead: expected object, got null'
bad t-vms $G vms '{}' 'vms: expected array, got object'
bad t-vms-missing $G vms @DELETE 'vms: expected array, got nothing'
bad t-schema-missing $G schema_version @DELETE 'schema_version: expected string, got nothing'
bad t-schema-escape $G schema_version '"\u001b[2J1.0"' \
	'snapshot: malformed schema_version "\x1b[2J1.0" (want MAJOR.MINOR)'

# --- nested members: types and ranges
bad tool-name $G tool.version 1 'tool.version: expected string, got integer'
bad host-ncpus $G host.ncpus 0 'host.ncpus: expected integer in [1, 2147483647], got 0'
bad target-pid $G target '{"pid": -3}' 'target.pid: expected integer in [1, 4294967295], got -3'
bad target-all $G target.all false 'target.all: expected true, got false'
bad probe-int $G probes.kvm_exit 1 'probes.kvm_exit: expected string, got integer'
bad unavailable-item $G 'unavailable[1]' 3 'unavailable[1]: expected string, got integer'
bad cpu-pct $G overhead.collector_cpu_pct -0.5 'overhead.collector_cpu_pct: expected number >= 0, got -0.5'
bad cpu-pct-nan $G overhead.collector_cpu_pct NaN 'overhead.collector_cpu_pct: expected number >= 0, got nan'
bad prog-run-cnt $G 'overhead.programs[0].run_cnt' '"x"' 'overhead.programs[0].run_cnt: expected non-negative integer, got string'
bad programs-obj $G overhead.programs '{}' 'overhead.programs: expected array, got object'
bad vm-array $G 'vms[0]' '[]' 'vms[0]: expected object, got array'
bad vm-pid $G 'vms[0].pid' 0 'vms[0].pid: expected integer in [1, 4294967295], got 0'
bad vm-pid-big $G 'vms[0].pid' 4294967296 'vms[0].pid: expected integer in [1, 4294967295], got 4294967296'
bad vm-name $G 'vms[0].name' 5 'vms[0].name: expected string, got integer'
bad vm-exited $G 'vms[0].exited' '"no"' 'vms[0].exited: expected boolean, got string'
bad vcpu-id $G 'vms[0].vcpus[0].vcpu_id' 4294967296 \
	'vms[0].vcpus[0].vcpu_id: expected integer in [-1, 2147483647], got 4294967296'
bad vcpu-id-neg $G 'vms[0].vcpus[0].vcpu_id' -2 'vms[0].vcpus[0].vcpu_id: expected integer in [-1, 2147483647], got -2'
bad vcpu-tid $G 'vms[0].vcpus[0].tid' '"4243"' 'vms[0].vcpus[0].tid: expected integer in [1, 4294967295], got string'
bad vcpu-elem $G 'vms[0].vcpus[1]' 1 'vms[0].vcpus[1]: expected object, got integer'
bad counters-arr $G 'vms[0].counters' '[]' 'vms[0].counters: expected object, got array'
bad counter-str $G 'vms[0].counters.exits' '"2500"' 'vms[0].counters.exits: expected non-negative integer, got string'
bad counter-null $G 'vms[0].counters.exits' null 'vms[0].counters.exits: expected non-negative integer, got null'
bad reasons-arr $G 'vms[0].reasons' '[]' 'vms[0].reasons: expected object, got array'
bad reason-exit-str $G 'vms[0].reasons.exit' '"x"' 'vms[0].reasons.exit: expected object, got string'
# a key from the file is shown escaped: no terminal control sequence reaches stderr
bad reason-esc-key $G 'vms[0].reasons.exit' '{"\u001b]0;pwn\u0007\u001b[2J": "x"}' \
	'vms[0].reasons.exit.\x1b]0;pwn\x07\x1b[2J: expected non-negative integer, got string'
# a long hostile key is cut to 40 characters: the message keeps its "got" part
bad long-key $G 'vms[0].reasons.exit' "{\"gstage_fault_not_hos$(printf '\\u00ff%.0s' $(seq 50))\": \"x\"}" \
	'vms[0].reasons.exit.gstage_fault_not_hos\xc3\xbf\xc3\xbf\xc3...: expected non-negative integer, got string'
bad agreement $G 'vms[0].prediction.agreement' 1.5 'vms[0].prediction.agreement: expected number in [0, 1] or null, got 1.5'
bad matrix-row $G 'vms[0].prediction.matrix.same_cpu' 80 'vms[0].prediction.matrix.same_cpu: expected object, got integer'
bad hists-arr $G 'vms[0].histograms' '[]' 'vms[0].histograms: expected object, got array'
bad hist-num $G 'vms[0].histograms.kvm_run_ns' 13 'vms[0].histograms.kvm_run_ns: expected object, got integer'
bad hist-count-neg $G 'vms[0].histograms.kvm_run_ns.count' -13 \
	'vms[0].histograms.kvm_run_ns.count: expected non-negative integer, got -13'
bad hist-count-sum $G 'vms[0].histograms.kvm_run_ns.count' 14 \
	'vms[0].histograms.kvm_run_ns.count: expected 13 (the sum of the bucket counts), got 14'
bad hist-no-buckets $G 'vms[0].histograms.kvm_run_ns.buckets' @DELETE \
	'vms[0].histograms.kvm_run_ns.buckets: expected array, got nothing'
bad hist-buckets-obj $G 'vms[0].histograms.kvm_run_ns.buckets' '{}' \
	'vms[0].histograms.kvm_run_ns.buckets: expected array, got object'
bad hist-order $G 'vms[0].histograms.kvm_run_ns.buckets[2].le' 7 \
	'vms[0].histograms.kvm_run_ns.buckets[2].le: expected integer > 1023 (buckets ascending), got 7'
bad hist-le-neg $G 'vms[0].histograms.kvm_run_ns.buckets[0].le' -7 \
	'vms[0].histograms.kvm_run_ns.buckets[0].le: expected non-negative integer, got -7'
bad hist-bucket-zero $G 'vms[0].histograms.kvm_run_ns.buckets[0].count' 0 \
	'vms[0].histograms.kvm_run_ns.buckets[0].count: expected positive integer, got 0'
bad hist-p99 $G 'vms[0].histograms.kvm_run_ns.p99' -1 \
	'vms[0].histograms.kvm_run_ns.p99: expected number >= 0 or null, got -1'
bad hist-unit $G 'vms[0].histograms.kvm_run_ns.unit' '"us"' \
	'vms[0].histograms.kvm_run_ns.unit: expected "ns", got "us"'
bad hist-by $G 'vms[0].histograms_by.exit_latency_ns.STORE_GUEST_PAGE_FAULT' '[]' \
	'vms[0].histograms_by.exit_latency_ns.STORE_GUEST_PAGE_FAULT: expected object, got array'
bad pkvm-share arm64 'vms[0].pkvm_state_sync.to_host.reasons.skip_irq.share' 2 \
	'vms[0].pkvm_state_sync.to_host.reasons.skip_irq.share: expected number in [0, 1] or null, got 2'
bad pkvm-events arm64 'vms[0].pkvm_state_sync.to_hyp.events' -4 \
	'vms[0].pkvm_state_sync.to_hyp.events: expected non-negative integer, got -4'
bad pkvm-reasons arm64 'vms[0].pkvm_state_sync.to_hyp.reasons' '[]' \
	'vms[0].pkvm_state_sync.to_hyp.reasons: expected object, got array'

# --- nesting deeper than the parser allows: one line, exit 2
deep=$(printf '[%.0s' $(seq 100))1$(printf ']%.0s' $(seq 100))
mk deep $G 'vms[0].counters.exits' "$deep"
for cmd in "report" "diff $D/$G.json" "gate --rules $OUT/any.rules"; do
	# shellcheck disable=SC2086
	run "deep/${cmd%% *}" "" any "$KL" $cmd "$OUT/deep.json"
	grep -q "$OUT/deep.json: snapshot: invalid JSON at offset [0-9]*: nesting too deep" "$OUT/err" ||
		{ echo "FAIL deep/${cmd%% *}: $(cat -v "$OUT/err")"; fails=$((fails+1)); }
done

# --- still valid: integral doubles are integers (jq 1.6 writes 1.7e+18), a
# zero duration covers 0.00s, null percentiles and shares are fine
mk jq16 $G start_time_ns 1.7e+18
mk zero-dur $G duration_ns 0
mk null-p99 $G 'vms[0].histograms.kvm_run_ns.p99' null
for f in jq16 zero-dur null-p99; do
	n=$((n+1))
	if ! "$KL" report "$OUT/$f.json" >"$OUT/ok.txt" 2>"$OUT/err" || [ -s "$OUT/err" ]; then
		echo "FAIL valid $f: $(cat -v "$OUT/err")"; fails=$((fails+1))
	fi
done
n=$((n+1))
"$KL" report "$OUT/zero-dur.json" | grep -q '  covering 0.00s  ' ||
	{ echo "FAIL zero-dur: no 'covering 0.00s'"; fails=$((fails+1)); }

echo "bad-snapshots: $n checks, $fails failed"
[ "$fails" -eq 0 ]
