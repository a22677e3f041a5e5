#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-selftests.sh - boot one arm64 kernel under QEMU with pKVM and run
# the KVM selftests of tests/e2e/arm64/selftests.list inside it (tests
# with a NAME.c next to this script, such as lazy_state_test, are built
# from it).
#
# usage: run-selftests.sh KERNEL_DIR SELFTESTS_DIR RESULTS_FILE
#
#   KERNEL_DIR     output of kernel/scripts/arm64-build-kernel.sh
#   SELFTESTS_DIR  output of kernel/scripts/arm64-build-selftests.sh
#   RESULTS_FILE   written here, one block per test:
#                    test <name> <rc> <seconds>
#                    sync <name> <dir> <reason> <count>   (patched kernels)
#                    out  <name> <line>                   (failures only:
#                                                          last lines of
#                                                          the test output)
#
# The serial log is kept next to RESULTS_FILE (.console.log). Exits 0 if
# the machine booted and ran the whole list, whatever the test verdicts.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
[ $# -eq 3 ] || { sed -n '4,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
kernel=$1 selftests=$2 results=$3
console=${results%.txt}.console.log

stage=$(mktemp -d /tmp/arm64-st.XXXXXX)
trap 'rm -rf "$stage"' EXIT
total=0
while read -r secs path args; do
	case $secs in ''|'#'*) continue ;; esac
	name=$(basename "$path")
	if [ -f "$here/$name.c" ]; then
		# one of ours, e.g. lazy_state_test.c
		aarch64-linux-gnu-gcc -static -O2 -Wall -Wextra \
			-o "$stage/$name" "$here/$name.c"
	elif [ -x "$selftests/$name" ]; then
		cp "$selftests/$name" "$stage/"
	else
		echo "run-selftests.sh: $name not built" >&2
		exit 2
	fi
	echo "$secs $path $args" >>"$stage/selftests.list"
	total=$((total + secs))
done <"$here/selftests.list"

# Budget: the per-test limits plus five minutes for boot and power off.
"$here/boot-test.sh" --selftests "$stage" --log "$console" \
	--timeout $((total + 300)) "$kernel" || true

grep -q SELFTEST-DONE "$console" ||
	{ echo "run-selftests.sh: the test list did not complete, see $console" >&2; exit 1; }

awk '
/^SELFTEST-START: / { cur = $2; n = 0; next }
/^SELFTEST: / {
	name = $2; rc = $3; sub(/^rc=/, "", rc)
	t = $0; sub(/.*time=/, "", t); sub(/s.*/, "", t)
	printf "test %s %s %s\n", name, rc, t
	if (rc != "0" && rc != "4")
		for (i = (n > 12 ? n - 12 : 0); i < n; i++)
			printf "out  %s %s\n", name, buf[i]
	cur = ""; n = 0; next
}
/^PKVM-SYNC: / { printf "sync %s %s %s %s\n", $2, $3, $4, $5; next }
cur != "" && !/^(DMESG|INIT):/ { buf[n++] = $0 }
' "$console" >"$results"
echo "  TESTS   $(grep -c '^test ' "$results") run, results in $results" >&2
