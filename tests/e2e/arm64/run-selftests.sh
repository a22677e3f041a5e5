#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-selftests.sh - boot one arm64 kernel under QEMU with pKVM and run
# the KVM selftests of a list (default tests/e2e/arm64/selftests.list)
# inside it (tests with a NAME.c next to this script, such as
# lazy_state_test, are built from it).
#
# usage: run-selftests.sh [--list FILE] [--lazytop BIN] [--append ARGS]
#                         KERNEL_DIR SELFTESTS_DIR RESULTS_FILE
#
#   --list FILE    test list (format: selftests.list, options: init.c)
#   --lazytop BIN  a static arm64 kvm-lazytop, run beside the +lazytop lines
#   --append ARGS  extra kernel command line (e.g. the nVHE override)
#   KERNEL_DIR     output of kernel/scripts/arm64-build-kernel.sh
#   SELFTESTS_DIR  output of kernel/scripts/arm64-build-selftests.sh
#   RESULTS_FILE   written here, one block per test:
#                    test <name> <rc> <seconds>
#                    sync <name> <dir> <reason> <count>   (patched kernels)
#                    lazytop <name> <rc>                  (+lazytop lines;
#                        snapshot in RESULTS.lazytop-<name>.json)
#                    out  <name> <line>                   (failures only:
#                                                          last lines of
#                                                          the test output)
#
# The serial log is kept next to RESULTS_FILE (.console.log). Exits 0 if
# the machine booted and ran the whole list, whatever the test verdicts;
# 1 if the list did not complete, 2 usage, 3 a test binary is missing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
usage() { sed -n '4,28p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
list=$here/selftests.list lazytop= append=
while [ $# -gt 0 ]; do
	case $1 in
	--list) list=$2; shift 2 ;;
	--lazytop) lazytop=$2; shift 2 ;;
	--append) append=$2; shift 2 ;;
	--*) usage ;;
	*) break ;;
	esac
done
[ $# -eq 3 ] || usage
kernel=$1 selftests=$2 results=$3
console=${results%.txt}.console.log
[ -f "$list" ] || { echo "run-selftests.sh: no test list $list" >&2; exit 2; }
if [ -n "$lazytop" ]; then
	[ -x "$lazytop" ] || { echo "run-selftests.sh: kvm-lazytop $lazytop not executable" >&2; exit 3; }
	file "$lazytop" | grep -q 'ARM aarch64.*statically linked' ||
		{ echo "run-selftests.sh: $lazytop is not a static aarch64 binary" >&2; exit 3; }
fi

stage=$(mktemp -d /tmp/arm64-st.XXXXXX)
trap 'rm -rf "$stage"' EXIT
total=0
while read -r secs rest; do
	case $secs in ''|'#'*) continue ;; esac
	path=
	for w in $rest; do
		case $w in +*) ;; *) path=$w; break ;; esac
	done
	name=$(basename "$path")
	if [ -f "$here/$name.c" ]; then
		# one of ours, e.g. lazy_state_test.c
		[ -x "$stage/$name" ] || aarch64-linux-gnu-gcc -static -O2 -Wall -Wextra \
			-o "$stage/$name" "$here/$name.c"
	elif [ -x "$selftests/$name" ]; then
		cp "$selftests/$name" "$stage/"
	else
		echo "run-selftests.sh: $name not built" >&2
		exit 3
	fi
	echo "$secs $rest" >>"$stage/selftests.list"
	total=$((total + secs))
done <"$list"
[ -z "$lazytop" ] || cp "$lazytop" "$stage/kvm-lazytop"

# Budget: the per-test limits plus five minutes for boot and power off.
"$here/boot-test.sh" --selftests "$stage" --log "$console" \
	--timeout $((total + 300)) ${append:+--append "$append"} "$kernel" || true

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
/^LAZYTOP: / { rc = $3; sub(/^rc=/, "", rc); printf "lazytop %s %s\n", $2, rc; next }
/^LAZYTOP/ { next }
cur != "" && !/^(DMESG|INIT):/ { buf[n++] = $0 }
' "$console" >"$results"
# the collector snapshots, one file per test
rm -f "${results%.txt}".lazytop-*
for name in $(awk '$1 == "lazytop" { print $2 }' "$results"); do
	for kind in OUT:json ERR:err; do
		grep -q "^LAZYTOP-${kind%%:*}: $name " "$console" || continue
		sed -n "s/^LAZYTOP-${kind%%:*}: $name //p" "$console" \
			>"${results%.txt}.lazytop-$name.${kind#*:}"
	done
done
echo "  TESTS   $(grep -c '^test ' "$results") run, results in $results" >&2
