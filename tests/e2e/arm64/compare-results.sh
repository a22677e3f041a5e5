#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# compare-results.sh - side by side view of two run-selftests.sh results.
#
# usage: compare-results.sh BASE_RESULTS PATCHED_RESULTS
#
# Prints a Markdown table: verdict and time per test on each kernel,
# whether the verdict changed, and for the patched kernel the number of
# exits that skipped the context copy (to_host skip_irq) against the
# number that copied it (to_host sync_*), from kvm_arm_pkvm_state_sync.
# rc 0 is a pass, 4 a kselftest skip, anything else a failure.
set -euo pipefail
[ $# -eq 2 ] || { sed -n '4,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

awk '
function verdict(rc) { return rc == "0" ? "pass" : rc == "4" ? "skip" : "FAIL(" rc ")" }
FNR == 1 { file++ }
$1 == "test" {
	if (!($2 in seen)) { order[++n] = $2; seen[$2] = 1 }
	rc[file, $2] = $3; t[file, $2] = $4
}
$1 == "sync" && file == 2 {
	if ($3 == "to_host" && $4 == "skip_irq") lazy[$2] += $5
	else if ($3 == "to_host" && $4 ~ /^sync_/) full[$2] += $5
	else if ($3 == "to_hyp" && $4 == "flush_dirty") flush[$2] += $5
	else if ($3 == "to_hyp" && $4 == "skip_hyp_current") noflush[$2] += $5
}
END {
	print "| test | base | patched | same | base s | patched s | exits lazy/synced | entries no-flush/flush |"
	print "|---|---|---|---|---|---|---|---|"
	for (i = 1; i <= n; i++) {
		k = order[i]
		b = (1, k) in rc ? verdict(rc[1, k]) : "-"
		p = (2, k) in rc ? verdict(rc[2, k]) : "-"
		printf "| %s | %s | %s | %s | %s | %s | %d/%d | %d/%d |\n", k, b, p,
		       b == p ? "yes" : "**no**", t[1, k], t[2, k],
		       lazy[k], full[k], noflush[k], flush[k]
	}
}' "$1" "$2"
