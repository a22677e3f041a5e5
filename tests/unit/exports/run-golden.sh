#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Golden tests of the exporter subcommands through the test driver
# (kl-exports = the real cmd_gate/cmd_diff/cmd_report/prom_write):
#   gate: pass (0), fail (1), bad input (2) with exact stdout, JUnit and
#         github-action-benchmark JSON; diff: exact stdout;
#   prom: promtool check metrics on every exposition variant.
# UPDATE_GOLDEN=1 rewrites the golden files.
set -uo pipefail
KL=${1:?usage: run-golden.sh KL-EXPORTS}
cd "$(dirname "$0")/../../.."           # paths in outputs are relative to the top
G=tests/unit/exports/golden
D=tests/unit/exports/data
R=tests/unit/exports/rules
OUT=$(mktemp -d); trap 'rm -rf "$OUT"' EXIT
fails=0 n=0

check() {       # check NAME EXPECTED_RC CMD...
	local name=$1 want=$2; shift 2
	local rc
	n=$((n+1))
	"$@" >"$OUT/$name.out" 2>"$OUT/$name.err"; rc=$?
	if [ "$rc" != "$want" ]; then
		echo "FAIL golden $name: exit $rc, want $want"; sed 's/^/    /' "$OUT/$name.err" | head -5
		fails=$((fails+1)); return
	fi
	cmp_golden "$name.out"
}

cmp_golden() {
	local f=$1
	if [ -n "${UPDATE_GOLDEN:-}" ]; then cp "$OUT/$f" "$G/$f"; fi
	if ! diff -u "$G/$f" "$OUT/$f" >"$OUT/$f.diff"; then
		echo "FAIL golden $f differs:"; head -30 "$OUT/$f.diff"; fails=$((fails+1))
	fi
}

must_stderr() { # must_stderr NAME REGEX: the one-line error of a bad input
	n=$((n+1))
	if ! grep -Eq "$2" "$OUT/$1.err" || [ "$(wc -l <"$OUT/$1.err")" -gt 2 ]; then
		echo "FAIL $1: stderr does not match /$2/:"; cat "$OUT/$1.err"; fails=$((fails+1))
	fi
}

# --- gate
check gate-pass 0 "$KL" gate --rules $R/pass.rules --baseline $D/base.json $D/base.json \
	--junit "$OUT/gate-pass.junit.xml" --bench-json "$OUT/gate-pass.bench.json" \
	--bench-json-bigger "$OUT/gate-pass.bench-bigger.json"
cmp_golden gate-pass.junit.xml; cmp_golden gate-pass.bench.json; cmp_golden gate-pass.bench-bigger.json
check gate-fail 1 "$KL" gate --rules $R/fail.rules --baseline $D/base.json $D/regressed.json \
	--junit "$OUT/gate-fail.junit.xml"
cmp_golden gate-fail.junit.xml
check gate-regressed 1 "$KL" gate -q --rules $R/pass.rules --baseline $D/base.json $D/regressed.json
check gate-noise 0 "$KL" gate --rules $R/noise.rules --baseline $D/noise-base.json $D/noise-new.json
check gate-bad-syntax 2 "$KL" gate --rules $R/bad-syntax.rules $D/base.json
must_stderr gate-bad-syntax 'bad-syntax.rules:1: expected'
check gate-bad-name 2 "$KL" gate --rules $R/bad-name.rules $D/base.json
must_stderr gate-bad-name "unknown counter 'no_such_counter'"
check gate-no-baseline 2 "$KL" gate --rules $R/pass.rules $D/base.json
must_stderr gate-no-baseline 'no --baseline'
check gate-bad-snapshot 2 "$KL" gate --rules $R/fail.rules $D/bad-version.json
must_stderr gate-bad-snapshot 'unsupported schema_version 2.1'
check gate-missing-file 2 "$KL" gate --rules $R/pass.rules /nonexistent.json
check gate-bad-json 2 "$KL" gate --rules $R/fail.rules $R/pass.rules
must_stderr gate-bad-json 'invalid JSON'
check gate-usage 2 "$KL" gate $D/base.json

# --- diff
check diff-regressed 0 "$KL" diff $D/base.json $D/regressed.json
check diff-same 0 "$KL" diff $D/base.json $D/base.json
check diff-arm64 0 "$KL" diff $D/golden.json $D/arm64.json
check diff-bad 2 "$KL" diff $D/base.json $D/bad-version.json
must_stderr diff-bad 'unsupported schema_version'

# --- report (text view = the collector's render_text; checked, not golden)
n=$((n+1))
if ! "$KL" report $D/golden.json >"$OUT/report.txt" 2>&1 || ! grep -q '4242' "$OUT/report.txt"; then
	echo "FAIL report golden.json"; cat "$OUT/report.txt"; fails=$((fails+1))
fi
check report-bad 2 "$KL" report $D/bad-version.json
n=$((n+1))
if ! "$KL" report --html "$OUT/r.html" $D/base.json $D/regressed.json || \
   grep -Eiq '<script|<link|<img|<iframe|(src|href)=|url\(|@import' "$OUT/r.html"; then
	echo "FAIL report --html (or the page references external resources)"; fails=$((fails+1))
fi

# --- prom exposition: promtool lint on every variant (x86 and arm64 pKVM snapshots)
for snap in golden arm64; do
for v in "" --vcpu --om --vm-buckets; do
	n=$((n+1))
	"$KL" prom $v $D/$snap.json >"$OUT/p.prom" || { echo "FAIL prom $v $snap"; fails=$((fails+1)); continue; }
	if [ "$v" = --om ]; then
		# promtool 2.42 lints the 0.0.4 text format only: om_check.py
		# checks the OpenMetrics 1.0.0 structure
		python3 tests/unit/exports/om_check.py "$OUT/p.prom" >"$OUT/lint" 2>&1 ||
			{ echo "FAIL OpenMetrics structure ($snap):"; cat "$OUT/lint"; fails=$((fails+1)); }
		continue
	fi
	if ! promtool check metrics <"$OUT/p.prom" >"$OUT/lint" 2>&1; then
		echo "FAIL promtool check metrics ($v $snap):"; cat "$OUT/lint"; fails=$((fails+1))
	fi
done
done

# --- om_check.py itself rejects what it must (a checker that passes
# everything would make the OpenMetrics checks above meaningless)
om_bad() {	# om_bad NAME: a broken variant of golden.json's OpenMetrics
	n=$((n+1))
	"$KL" prom --om $D/golden.json | "$@" >"$OUT/bad.om"
	if python3 tests/unit/exports/om_check.py "$OUT/bad.om" >"$OUT/lint" 2>&1; then
		echo "FAIL om_check.py accepted a broken exposition ($*)"; fails=$((fails+1))
	fi
}
om_bad sed '$d'						# no # EOF
om_bad sed 's/^# TYPE kvm_lazytop_kvm_runs counter/# TYPE kvm_lazytop_kvm_runs_total counter/'
om_bad sed 's/le="0.000002047"} 12/le="0.000002047"} 5/'	# not cumulative
om_bad sed 's/vm_name="vm \\"one/vm_name="vm \x01one/'	# raw control character
om_bad sed '0,/^kvm_lazytop_kvm_runs_total/s//kvm_lazytop_kvm_runs/'	# counter sample without _total
om_bad awk '{print} /^# EOF/{print "x 1"}'		# data after # EOF

# --- arm64 pKVM snapshot: the text view has the state sync table
n=$((n+1))
if ! "$KL" report $D/arm64.json >"$OUT/arm64.txt" 2>&1 || ! grep -q 'pKVM state sync' "$OUT/arm64.txt" ||
   ! grep -Eq '^ +to_host +2138 +skip 88\.3%$' "$OUT/arm64.txt"; then
	echo "FAIL report arm64.json"; cat "$OUT/arm64.txt"; fails=$((fails+1))
fi

echo "golden: $n checks, $fails failed"
[ "$fails" -eq 0 ]
