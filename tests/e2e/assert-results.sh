#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Assert on results extracted by run-qemu.sh.
#
# usage: assert-results.sh OUTDIR [--ok NAME]... [--count-min NAME N]...
#                          [--clean-dmesg]
#
#   --ok NAME          job NAME exited 0 (status file)
#   --count-min NAME N "count NAME ..." recorded at least N
#   --clean-dmesg      dmesg has no WARNING:/BUG:/Oops/lockdep splat
#
# Every failed assertion prints one line; exit 1 if any failed.
set -euo pipefail
out=${1:?usage: assert-results.sh OUTDIR [--ok NAME]... [--clean-dmesg]}
shift
fails=0
bad() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
[ -f "$out/status" ] || { echo "FAIL: $out/status missing" >&2; exit 1; }
grep -q "^init	done" "$out/status" || bad "guest init did not finish the scenario"
while [ $# -gt 0 ]; do
	case "$1" in
	--ok)
		st=$(awk -F'\t' -v n="$2" '$1 == n { print $2 }' "$out/status")
		if [ "$st" != exit=0 ]; then
			bad "$2: ${st:-never ran} (see $out/$2.stdout, $out/$2.stderr)"
			[ -f "$out/$2.stderr" ] && tail -n 5 "$out/$2.stderr" | sed 's/^/    /' >&2
		fi
		shift 2 ;;
	--count-min)
		c=$(awk -F'\t' -v n="$2" '$1 == n { print $2 }' "$out/counts" 2>/dev/null)
		[ -n "$c" ] && [ "$c" -ge "$3" ] || bad "count $2 = ${c:-missing}, want >= $3"
		shift 3 ;;
	--clean-dmesg)
		if grep -nE 'WARNING:|BUG:|Oops|Unable to handle|possible recursive locking|circular locking|lockdep|Call Trace:' \
			"$out/dmesg" >"$out/dmesg.bad" 2>/dev/null; then
			bad "dmesg has splats: $(head -n 1 "$out/dmesg.bad")"
		fi
		shift ;;
	*) echo "assert-results.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
awk -F'\t' '$2 == "error" { print "note: scenario " $1 " failed (see init.log)" }' \
	"$out/status" >&2
[ "$fails" -eq 0 ] || exit 1
echo "  PASS     $(grep -c 'exit=0' "$out/status") jobs ok, results in $out" >&2
