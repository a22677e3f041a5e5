#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-only check of analyze.py's expect-fail mode (make check-e2e-analyze):
# a test expected to fail is accepted only when it exits with a failure
# status AND prints the expected text; a pass, a skip (exit 4), a timeout,
# a signal, a test that never ran or another failure is rejected.
# Prints "N passed, N failed"; exit 1 on any failure.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
analyze=${ANALYZE:-$here/analyze.py}
work=$(mktemp -d /tmp/test-analyze.XXXXXX)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
expect_text='sscratch 0x3 after reload on A, expected 0x4'
printf 'csr_reload_test\tnew\t180\tcsr_reload_test\n' >"$work/list"
: >"$work/reasons"

# case NAME WANT_RC STATUS STDERR
case_() {
	local name=$1 want=$2 status=$3 stderr=$4 o=$work/$1/out rc
	mkdir -p "$o"
	printf 'init\texit=0\t1\n' >"$o/status"
	[ -n "$status" ] && printf 'csr_reload_test\t%s\t1000\n' "$status" >>"$o/status"
	printf '%s\n' "$stderr" >"$o/csr_reload_test.stderr"
	: >"$o/csr_reload_test.stdout"
	python3 "$analyze" --variant "$name" --set new --list "$work/list" \
		--reasons "$work/reasons" --out "$o" \
		--expect-fail "csr_reload_test=$expect_text" >"$work/$name.log" 2>&1
	rc=$?
	if [ "$rc" = "$want" ]; then
		pass=$((pass + 1)); echo "ok   $name (exit $rc)"
	else
		fail=$((fail + 1)); echo "FAIL $name: analyze.py exit $rc, want $want"
		sed 's/^/    /' "$work/$name.log"
	fi
}

case_ expected-failure 0 exit=1 "==== Test Assertion Failure ==== $expect_text"
case_ passed           1 exit=0 ""
case_ skipped          1 exit=4 "$expect_text"
case_ timeout          1 timeout "$expect_text"
case_ signal           1 signal=11 "$expect_text"
case_ never-ran        1 "" ""
case_ other-failure    1 exit=1 "==== Test Assertion Failure ==== KVM_RUN failed"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
