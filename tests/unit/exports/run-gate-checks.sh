#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Gate defects of issue 14 and the documented rule examples, through a
# binary that has the `gate` subcommand (kl-exports or kvm-lazytop):
#   - a misspelled reason / counter is exit 2 with the close names;
#   - a histogram given as a number is exit 2, not an empty histogram;
#   - a probe that attached but never fired (probe_events 0) fails a rule
#     unless it says optional(no_events);
#   - min_samples fails a rule below the sample count;
#   - every rule of the README gate example and of gate-rules.7 EXAMPLES
#     parses and evaluates on the demo fixtures, and the README example
#     passes on demo-patched.json against demo-base.json;
#   - the demo fixtures are what make-demo-fixtures.py writes.
# Prints "N passed, N failed"; exit 1 on any failure.
set -uo pipefail
KL=${1:?usage: run-gate-checks.sh KL-EXPORTS|KVM-LAZYTOP}
cd "$(dirname "$0")/../../.."
D=tests/unit/exports/data
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
pass=0 fail=0

ok()  { pass=$((pass+1)); echo "  PASS  $*"; }
bad() { fail=$((fail+1)); echo "  FAIL  $*"; }

# expect NAME RC REGEX RULES SNAP [BASE]: exit RC, stdout+stderr match REGEX
expect() {
	local name=$1 want=$2 re=$3 rules=$4 snap=$5 base=${6:-} rc
	if [ -n "$base" ]; then
		"$KL" gate --rules "$rules" "$snap" --baseline "$base" >"$T/out" 2>&1; rc=$?
	else
		"$KL" gate --rules "$rules" "$snap" >"$T/out" 2>&1; rc=$?
	fi
	if [ "$rc" = "$want" ] && grep -Eq -- "$re" "$T/out"; then
		ok "$name (exit $rc)"
	else
		bad "$name: exit $rc, want $want and /$re/; output:"
		sed 's/^/        /' "$T/out" | head -8
	fi
}

for f in demo-base.json demo-patched.json base.json; do
	[ -s "$D/$f" ] || { echo "run-gate-checks: missing fixture $D/$f"; exit 1; }
done
command -v python3 >/dev/null || { echo "run-gate-checks: python3 is required"; exit 1; }

# the fixtures are reproducible from their generator
mkdir -p "$T/gen"
if python3 $D/make-demo-fixtures.py "$T/gen" && cmp -s "$T/gen/demo-base.json" $D/demo-base.json &&
   cmp -s "$T/gen/demo-patched.json" $D/demo-patched.json; then
	ok "demo fixtures equal make-demo-fixtures.py output"
else
	bad "demo fixtures differ from make-demo-fixtures.py output"
fi

# --- item 2: misspelled names
echo 'reasons.userspace_exit.KVM_EXIT_IOO == 0' >"$T/r1"
expect "misspelled reason is an error with suggestions" 2 \
	"unknown userspace_exit reason 'KVM_EXIT_IOO'; did you mean KVM_EXIT_IO" "$T/r1" $D/demo-patched.json
echo 'gstage_fault_fats >= 0' >"$T/r2"
expect "misspelled counter is an error with suggestions" 2 \
	"unknown counter 'gstage_fault_fats'; did you mean gstage_fault_fast" "$T/r2" $D/demo-patched.json
echo 'kvm_run_nss.count >= 0' >"$T/r3"
expect "misspelled histogram is an error with suggestions" 2 \
	"unknown histogram 'kvm_run_nss'; did you mean kvm_run_ns" "$T/r3" $D/demo-patched.json
echo 'overhead.collector_cpu_pc <= 1' >"$T/r4"
expect "misspelled overhead key is an error with suggestions" 2 \
	"unknown overhead key 'collector_cpu_pc'; did you mean collector_cpu_pct" "$T/r4" $D/demo-patched.json
echo 'reasons.exit.EXTERNAL_INTERRUPT >= 0' >"$T/r5"
expect "an x86 exit reason on a riscv64 snapshot is an error" 2 \
	"is not a exit reason on riscv64" "$T/r5" $D/demo-patched.json

# --- item 2: types
python3 - "$D/demo-patched.json" "$T/hnum.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
s["vms"][0]["histograms"]["kvm_run_ns"] = 0
json.dump(s, open(sys.argv[2], "w"))
EOF
echo 'kvm_run_ns.count == 0' >"$T/r6"
expect "histogram given as a number is a type error" 2 \
	"hnum.json: vms\[0\]\.histograms\.kvm_run_ns: expected object, got int" "$T/r6" "$T/hnum.json"
python3 - "$D/demo-patched.json" "$T/cneg.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
s["vms"][0]["counters"]["exits"] = -5
json.dump(s, open(sys.argv[2], "w"))
EOF
echo 'exits <= 10' >"$T/r7"
expect "negative counter is a type error" 2 "vms\[0\]\.counters\.exits: expected non-negative integer" \
	"$T/r7" "$T/cneg.json"

# --- item 2: attached but no events
python3 - "$D/demo-patched.json" "$T/noexit.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
v = s["vms"][0]
v["counters"]["exits"] = 0
v["reasons"]["exit"] = {}
for h in ("exit_latency_ns", "fault_latency_ns", "fault_latency_fast_ns", "fault_latency_slow_ns"):
    v["histograms"][h] = {"unit": "ns", "count": 0, "sum": 0, "p50": None, "p90": None,
                          "p99": None, "p999": None, "buckets": []}
s["probe_events"]["kvm_exit"] = 0
json.dump(s, open(sys.argv[2], "w"))
EOF
echo 'exits / kvm_runs <= 1' >"$T/r8"
expect "kvm_exit attached but never fired: exits rule fails" 1 \
	"no events: probe kvm_exit is attached but never fired" "$T/r8" "$T/noexit.json"
echo 'exits / kvm_runs <= 1 optional' >"$T/r9"
expect "plain optional does not cover no events" 1 "FAIL .*optional" "$T/r9" "$T/noexit.json"
echo 'exits / kvm_runs <= 1 optional(no_events)' >"$T/r10"
expect "optional(no_events) skips it" 0 "0 failed, 1 skipped" "$T/r10" "$T/noexit.json"
echo 'dirty_pages == 0' >"$T/r11"
expect "dirty ring never fired on the demo (bitmap): dirty_pages rule fails" 1 \
	"no events: probe kvm_dirty_ring_push" "$T/r11" $D/demo-patched.json
python3 - "$D/demo-patched.json" "$T/novm.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
s["vms"] = []
json.dump(s, open(sys.argv[2], "w"))
EOF
echo 'kvm_runs == 0' >"$T/r12"
expect "a snapshot without any VM measured nothing" 1 "no events: the snapshot has no VM" \
	"$T/r12" "$T/novm.json"

# --- min_samples
echo 'share.vcpu_load_resident_fast >= 0.99 min_samples 100000' >"$T/r13"
expect "min_samples fails a share below its denominator" 1 \
	"insufficient samples: 1300 < min_samples 100000" "$T/r13" $D/demo-patched.json

# --- item 10: the README example, on the demo snapshots
sed -n '/cat > gate.rules <<.RULES./,/^ *RULES$/p' README.md | sed '1d;$d' | sed 's/^ *//' >"$T/readme.rules"
if [ "$(grep -c '^[a-z]' "$T/readme.rules")" -ge 3 ]; then
	ok "README gate example extracted ($(grep -c '^[a-z]' "$T/readme.rules") rules)"
else
	bad "README gate example not found"
fi
expect "README gate example passes on demo-patched.json vs demo-base.json" 0 \
	"3 rules: 3 passed, 0 failed" "$T/readme.rules" $D/demo-patched.json $D/demo-base.json

# --- every example of gate-rules.7 (EXAMPLES) and kvm-lazytop.8 (GATE RULES)
man_examples() {	# FILE SECTION: the .nf/.fi blocks of that section
	awk -v sec="$2" '$0 == ".SH " sec || $0 == ".SH \"" sec "\"" { s = 1; next } /^\.SH / { s = 0 }
	     s && /^\.nf/ { b = 1; next } s && /^\.fi/ { b = 0; next }
	     s && b && !/^\./ { print }' "$1" | sed 's/\\-/-/g; s/\\(en/-/g'
}
for ms in "tools/kvm-lazytop/gate-rules.7:EXAMPLES" "tools/kvm-lazytop/kvm-lazytop.8:GATE RULES"; do
	m=${ms%%:*}
	man_examples "$m" "${ms#*:}" >"$T/man.rules"
	nr=$(grep -c '^[a-z]' "$T/man.rules")
	[ "$nr" -ge 3 ] || { bad "$m: no rule examples found"; continue; }
	expect "$m: all $nr example rules hold on the demo snapshots" 0 "rules: .* 0 failed" \
		"$T/man.rules" $D/demo-patched.json $D/demo-base.json
	# and each one alone parses and evaluates (exit 0 or 1, never 2)
	while IFS= read -r rule; do
		case $rule in [a-z]*) ;; *) continue ;; esac
		printf '%s\n' "$rule" >"$T/one.rules"
		"$KL" gate --rules "$T/one.rules" $D/demo-patched.json --baseline $D/demo-base.json \
			>"$T/one.out" 2>&1
		rc=$?
		if [ $rc -le 1 ]; then ok "$m: '$rule' evaluates (exit $rc)"
		else bad "$m: '$rule': exit $rc: $(head -1 "$T/one.out")"; fi
	done <"$T/man.rules"
done

echo "run-gate-checks: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
