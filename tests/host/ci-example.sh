#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the CI example (tools/kvm-lazytop/examples/ci/kvm-lazytop-gate.yml)
# locally with the real host workload: its "run" and "gate" steps are taken
# verbatim from the workflow file and run with bash as GitHub runs them
# (bash --noprofile --norc -eo pipefail), in a scratch workspace, with the
# workflow's env: the tool and the workload are this tree's builds, RULES
# and BASELINE the workflow's paths in this tree, and `sudo` is the
# identity (the test runs as root).  The install step is `make install`
# into the system and is covered by install.sh instead; the upload steps
# are GitHub actions, so the test checks the files they upload: every
# artifact path exists, gate.xml is JUnit with one testcase per rule,
# bench.json is github-action-benchmark customSmallerIsBetter JSON
# ([{"name","unit","value"}]) with one entry per < or <= rule.
#
#   pass: the workflow's workload          -> gate exit 0, no JUnit failure
#   fail: the same with twice the rounds   -> gate exit 1, the count and
#         (a regression against baseline)     baseline rules fail in JUnit
#
# usage: ci-example.sh --top DIR --tool PATH --workload PATH --out DIR
#                      [--workflow FILE]
# Ends with "N passed, N failed"; exit 1 on any failure.
set -euo pipefail

TOP= TOOL= WL= OUT= WF=
usage() {
	echo "usage: ci-example.sh --top DIR --tool PATH --workload PATH --out DIR [--workflow FILE]" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case "$1" in
	--top) TOP=${2:?}; shift 2 ;;
	--tool) TOOL=${2:?}; shift 2 ;;
	--workload) WL=${2:?}; shift 2 ;;
	--out) OUT=${2:?}; shift 2 ;;
	--workflow) WF=${2:?}; shift 2 ;;
	*) usage ;;
	esac
done
[ -n "$TOP" ] && [ -n "$TOOL" ] && [ -n "$WL" ] && [ -n "$OUT" ] || usage
TOP=$(cd "$TOP" && pwd)
WF=${WF:-$TOP/tools/kvm-lazytop/examples/ci/kvm-lazytop-gate.yml}
[[ $TOOL == /* ]] || TOOL=$PWD/$TOOL
[[ $WL == /* ]] || WL=$PWD/$WL

npass=0 nfail=0
pass() { echo "  PASS  $*"; npass=$((npass + 1)); }
fail() { echo "  FAIL  $*"; nfail=$((nfail + 1)); }
finish() { echo "ci-example: $npass passed, $nfail failed"; [ "$nfail" = 0 ] && exit 0 || exit 1; }

[ "$(id -u)" = 0 ] || { fail "must run as root (the run step loads BPF)"; finish; }
for p in python3 "$TOOL" "$WL"; do
	command -v "$p" >/dev/null || { fail "prerequisite '$p' missing"; finish; }
done
python3 -c 'import yaml' 2>/dev/null || { fail "python3-yaml missing (make deps)"; finish; }

rm -rf "$OUT"
mkdir -p "$OUT/wf" "$OUT/bin"
OUT=$(cd "$OUT" && pwd)

# The workflow's pieces: env, the run/gate scripts, what step 3 consumes.
if ! python3 - "$WF" "$OUT/wf" <<'EOF'
import sys, yaml

wf = yaml.safe_load(open(sys.argv[1]))
out = sys.argv[2]
steps = wf["jobs"]["gate"]["steps"]
byid = {s["id"]: s for s in steps if "id" in s}
for sid in ("run", "gate"):
    open(f"{out}/{sid}.sh", "w").write(byid[sid]["run"])
with open(f"{out}/env", "w") as f:
    for k, v in wf["env"].items():
        f.write(f"{k}={v}\n")
uses = {s["uses"].split("@")[0]: s.get("with", {}) for s in steps if "uses" in s}
art = uses["actions/upload-artifact"]["path"].split()
open(f"{out}/artifacts", "w").write("\n".join(art) + "\n")
junit = uses["mikepenz/action-junit-report"]["report_paths"]
bench = uses["benchmark-action/github-action-benchmark"]
open(f"{out}/consumers", "w").write(f"{junit} {bench['output-file-path']} {bench['tool']}\n")
EOF
then
	fail "cannot read the run/gate steps, env and upload steps of $WF"
	finish
fi
wf_env() { sed -n "s/^$1=//p" "$OUT/wf/env"; }
read -r JUNIT BENCH BENCH_TOOL <"$OUT/wf/consumers"
[ "$BENCH_TOOL" = customSmallerIsBetter ] && pass "workflow: benchmark tool $BENCH_TOOL" ||
	fail "workflow: benchmark tool '$BENCH_TOOL', expected customSmallerIsBetter"

RULES=$TOP/$(wf_env RULES)
BASELINE=$TOP/$(wf_env BASELINE)
WL_WORDS=$(wf_env WORKLOAD)
WL_ARGS=${WL_WORDS#* }		# the workflow's arguments, this tree's binary
[ -f "$RULES" ] && [ -f "$BASELINE" ] ||
	{ fail "workflow RULES/BASELINE not in this tree: $RULES $BASELINE"; finish; }
nrules=$(grep -cvE '^[[:space:]]*(#|$)' "$RULES")
nbench=$(grep -vE '^[[:space:]]*(#|$)' "$RULES" | sed 's/#.*//' | grep -cE '[^<>!=](<|<=)[^=]' || true)

# sudo as the runner has it, for root: run the command
printf '#!/bin/sh\nexec "$@"\n' >"$OUT/bin/sudo"
chmod +x "$OUT/bin/sudo"

# run_step CASE STEP WORKLOAD_ARGS -> RC
run_step() {
	local dir=$OUT/$1
	mkdir -p "$dir"
	(
		cd "$dir"
		export PATH=$OUT/bin:$PATH KVM_LAZYTOP=$TOOL RULES BASELINE
		export WORKLOAD="$WL $3"
		exec bash --noprofile --norc -eo pipefail "$OUT/wf/$2.sh"
	) >"$dir/$2.stdout" 2>"$dir/$2.stderr" && RC=0 || RC=$?
}

# check_outputs CASE WANT_FAILED_RULES...: artifacts, JUnit, bench JSON
check_outputs() {
	local case=$1 dir=$OUT/$1 f missing=
	shift
	while read -r f; do [ -f "$dir/$f" ] || missing="$missing $f"; done <"$OUT/wf/artifacts"
	[ -z "$missing" ] && pass "$case: every uploaded file exists ($(tr '\n' ' ' <"$OUT/wf/artifacts"))" ||
		fail "$case: upload-artifact would miss:$missing"
	if python3 - "$dir/$JUNIT" "$dir/$BENCH" "$nrules" "$nbench" "$@" >"$dir/check.log" 2>&1 <<'EOF'
import json, sys
import xml.etree.ElementTree as ET

junit, bench, nrules, nbench = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
want_failed = set(sys.argv[5:])
root = ET.parse(junit).getroot()
cases = root.findall(".//testcase")
assert len(cases) == nrules, f"JUnit has {len(cases)} testcases, the rules file {nrules} rules"
failed = {c.get("name").split(": ", 1)[1] for c in cases if c.find("failure") is not None}
assert failed == want_failed, f"JUnit failures {sorted(failed)}, expected {sorted(want_failed)}"
assert int(root.get("failures")) == len(want_failed), f"testsuites failures={root.get('failures')}"
data = json.load(open(bench))
assert isinstance(data, list) and len(data) == nbench, \
    f"bench JSON: {len(data) if isinstance(data, list) else type(data).__name__} entries, {nbench} < or <= rules"
for e in data:
    assert isinstance(e.get("name"), str) and e["name"], f"bench entry without name: {e}"
    assert isinstance(e.get("unit"), str), f"bench entry without unit: {e}"
    assert isinstance(e.get("value"), (int, float)) and not isinstance(e["value"], bool), \
        f"bench entry with a non-numeric value: {e}"
print(f"JUnit: {len(cases)} testcases, failed {sorted(failed)}; bench: {len(data)} entries")
EOF
	then
		pass "$case: $(tail -1 "$dir/check.log")"
	else
		fail "$case: $(tail -1 "$dir/check.log")"
	fi
}

# bench_value CASE RULE_TEXT: the value github-action-benchmark would record
bench_value() {
	python3 -c 'import json, sys
print(next((e["value"] for e in json.load(open(sys.argv[1])) if e["name"] == sys.argv[2]), "none"))' \
		"$OUT/$1/$BENCH" "$2" 2>/dev/null || echo none
}

# workload_result CASE KEY: KEY=value of the workload's RESULT line
workload_result() {
	sed -n "s/^RESULT .*[ ]$2=\([0-9]*\).*/\1/p; s/^RESULT $2=\([0-9]*\).*/\1/p" \
		"$OUT/$1/workload.log" 2>/dev/null | head -1 || true
}

# ---- pass: the workflow as written
echo "== pass: WORKLOAD=$WL $WL_ARGS"
run_step pass run "$WL_ARGS"
if [ "$RC" = 0 ]; then
	pass "pass: run step exit 0"
else
	fail "pass: run step exit $RC: $(tail -2 "$OUT/pass/run.stderr" | tr '\n' ' ')"
fi
grep -q '^RESULT .*status=ok' "$OUT/pass/workload.log" 2>/dev/null &&
	pass "pass: workload: $(grep '^RESULT' "$OUT/pass/workload.log")" ||
	fail "pass: workload.log has no RESULT status=ok"
run_step pass gate "$WL_ARGS"
[ "$RC" = 0 ] && pass "pass: gate exit 0 ($(tail -1 "$OUT/pass/gate.stdout"))" ||
	fail "pass: gate exit $RC: $(grep -E 'FAIL|gate:' "$OUT/pass/gate.stdout" "$OUT/pass/gate.stderr" | head -3 | tr '\n' ' ')"
check_outputs pass
runs=$(workload_result pass kvm_runs)
v=$(bench_value pass "kvm_runs <= 1.0 * baseline")
[ -n "$runs" ] && python3 -c "import sys; sys.exit(float('$v') != float('$runs'))" 2>/dev/null &&
	pass "pass: benchmark kvm_runs $v == workload's $runs" ||
	fail "pass: benchmark kvm_runs '$v', workload's '$runs'"

# ---- fail: twice the rounds, a regression against the baseline
FAIL_ARGS=$(sed -E 's/(^| )-r [0-9]+/\1-r 20/' <<<"$WL_ARGS")
echo "== fail: WORKLOAD=$WL $FAIL_ARGS"
[ "$FAIL_ARGS" != "$WL_ARGS" ] || { fail "fail: workflow WORKLOAD has no '-r N' to double"; finish; }
run_step fail run "$FAIL_ARGS"
[ "$RC" = 0 ] && pass "fail: run step exit 0 (the workload itself succeeds)" ||
	fail "fail: run step exit $RC: $(tail -2 "$OUT/fail/run.stderr" | tr '\n' ' ')"
run_step fail gate "$FAIL_ARGS"
[ "$RC" = 1 ] && pass "fail: gate exit 1 ($(tail -1 "$OUT/fail/gate.stdout"))" ||
	fail "fail: gate exit $RC, expected 1: $(tail -2 "$OUT/fail/gate.stderr" | tr '\n' ' ')"
check_outputs fail "dirty_pages == 1280" "reasons.userspace_exit.KVM_EXIT_IO == 22" \
	"kvm_runs <= 1.0 * baseline" "userspace_exits <= 1.0 * baseline"
runs=$(workload_result fail kvm_runs)
v=$(bench_value fail "kvm_runs <= 1.0 * baseline")
[ -n "$runs" ] && python3 -c "import sys; sys.exit(float('$v') != float('$runs'))" 2>/dev/null &&
	pass "fail: benchmark kvm_runs $v == workload's $runs (baseline 22)" ||
	fail "fail: benchmark kvm_runs '$v', workload's '$runs'"
finish
