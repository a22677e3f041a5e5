#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-only check of the results channel: guest/init.c's archive writer
# (built for the host, "--pack" hook) against extract-results.py, for a
# good archive, an overfull disk, a corrupted byte, a cut-off image and a
# blank disk.  usage: test-archive.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
gcc -O2 -std=c11 -Wall -Wextra -Werror -o "$t/init" "$here/guest/init.c"
mkdir -p "$t/in/sub"
echo hello >"$t/in/status"
: >"$t/in/empty"
head -c 200000 /dev/urandom >"$t/in/sub/blob"
x() { python3 "$here/extract-results.py" "$@"; }
expect_fail() { # KIND DISK
	local msg
	if msg=$(x "$2" "$t/o" 2>&1); then echo "FAIL: $2 extracted"; exit 1; fi
	case "$msg" in "$1"*) ;; *) echo "FAIL: want '$1', got '$msg'"; exit 1 ;; esac
}
truncate -s 1M "$t/good"
"$t/init" --pack "$t/in" "$t/good" 0 2>/dev/null
x "$t/good" "$t/out" >/dev/null
diff -r "$t/in" "$t/out"
truncate -s 1M "$t/full"
! "$t/init" --pack "$t/in" "$t/full" 100000 2>/dev/null
expect_fail truncated "$t/full"
cp "$t/good" "$t/flip"
printf 'X' | dd of="$t/flip" bs=1 seek=5000 conv=notrunc status=none
expect_fail "truncated: checksum" "$t/flip"
head -c 150000 "$t/good" >"$t/cut"
expect_fail truncated "$t/cut"
truncate -s 1M "$t/blank"
printf LZTRDISK | dd of="$t/blank" conv=notrunc status=none
expect_fail "result missing" "$t/blank"
expect_fail "result missing" "$t/nonexistent"
echo "  PASS     results archive framing (5 cases)"
