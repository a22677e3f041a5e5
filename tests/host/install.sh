#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make install` / `make uninstall` into a temporary DESTDIR, for
# PREFIX=/usr/local and PREFIX=/usr: the exact file list and modes, the
# installed binary's --version, both man pages through `man -l`, the bash
# completion, the unit (ExecStart names the installed binary;
# `systemd-analyze verify` and `systemd-analyze security` on it), and that
# uninstall leaves no file behind.
#
# usage: install.sh --top DIR --tool PATH --out DIR
# Ends with "N passed, N failed"; exit 1 on any failure.  A missing
# prerequisite (man, systemd-analyze) is a failure, never a skip.
set -euo pipefail

TOP= TOOL= OUT=
# systemd-analyze security exposure above this fails the check (0 best, 10 worst)
MAX_EXPOSURE=${KL_TEST_MAX_EXPOSURE:-3.0}

while [ $# -gt 0 ]; do
	case "$1" in
	--top) TOP=${2:?}; shift 2 ;;
	--tool) TOOL=${2:?}; shift 2 ;;
	--out) OUT=${2:?}; shift 2 ;;
	*) echo "usage: install.sh --top DIR --tool PATH --out DIR" >&2; exit 2 ;;
	esac
done
[ -n "$TOP" ] && [ -n "$TOOL" ] && [ -n "$OUT" ] ||
	{ echo "usage: install.sh --top DIR --tool PATH --out DIR" >&2; exit 2; }

npass=0 nfail=0
pass() { echo "  PASS  $*"; npass=$((npass + 1)); }
fail() { echo "  FAIL  $*"; nfail=$((nfail + 1)); }
check() {	# check NAME CMD...: PASS if CMD succeeds
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name"; fi
}

for p in man systemd-analyze bash find stat; do
	command -v "$p" >/dev/null || { fail "prerequisite '$p' not installed"; }
done
[ "$nfail" = 0 ] || { echo "install: $npass passed, $nfail failed"; exit 1; }

rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
want_version=$("$TOOL" --version | head -1)

# list_tree DIR: "MODE TYPE PATH" of everything below DIR, sorted
list_tree() {
	(cd "$1" && find . -mindepth 1 \( -type f -o -type l \) -printf '%m %y %P\n' | sort)
}

# one_prefix PREFIX UNITDIR
one_prefix() {
	local prefix=$1 unitdir=$2 d=$OUT/destdir${1//\//_} log
	local sbin=$prefix/sbin man=$prefix/share/man
	local comp=$prefix/share/bash-completion/completions
	local unit=$d$unitdir/kvm-lazytop.service

	echo "== PREFIX=$prefix DESTDIR=$d"
	log=$OUT/install${prefix//\//_}.log
	if ! (umask 077 && make -C "$TOP" --no-print-directory install \
		PREFIX="$prefix" DESTDIR="$d") >"$log" 2>&1; then
		fail "make install PREFIX=$prefix: $(tail -2 "$log" | tr '\n' ' ')"
		return
	fi
	pass "make install PREFIX=$prefix (umask 077)"

	# exact file list and modes, whatever the umask of the installer
	diff -u <(printf '%s\n' \
		"644 f ${comp#/}/kvm-lazytop" \
		"644 f ${unitdir#/}/kvm-lazytop.service" \
		"644 f ${man#/}/man7/gate-rules.7" \
		"644 f ${man#/}/man8/kvm-lazytop.8" \
		"755 f ${sbin#/}/kvm-lazytop" | sort) <(list_tree "$d") >"$OUT/files.diff" &&
		pass "exact file list and modes" ||
		fail "file list/modes differ: $(tr '\n' ' ' <"$OUT/files.diff")"
	local dir bad=
	for dir in "$sbin" "$man/man8" "$man/man7" "$comp" "$unitdir"; do
		[ "$(stat -c %a "$d$dir" 2>/dev/null)" = 755 ] || bad="$bad $dir"
	done
	[ -z "$bad" ] && pass "install directories are 0755" ||
		fail "directories not 0755:$bad"
	cmp -s "$TOOL" "$d$sbin/kvm-lazytop" && pass "installed binary is the built one" ||
		fail "installed binary differs from $TOOL"

	# the installed binary runs
	local v
	v=$("$d$sbin/kvm-lazytop" --version 2>&1 | head -1) || true
	[ -n "$v" ] && [ "$v" = "$want_version" ] &&
		pass "installed --version: $v" || fail "installed --version: '$v', want '$want_version'"

	# man pages render (errors fail; groff layout warnings are shown)
	local page name sec out
	for page in "$d$man/man8/kvm-lazytop.8" "$d$man/man7/gate-rules.7"; do
		name=$(basename "$page")
		sec=${name##*.}
		name=${name%.*}
		out=$(MANWIDTH=80 man --warnings -l "$page" 2>"$OUT/man.err") || {
			fail "man -l $page: exit $?: $(head -2 "$OUT/man.err")"; continue; }
		if grep -qi 'error' "$OUT/man.err"; then
			fail "man -l $page: $(grep -i error "$OUT/man.err" | head -1)"
		elif grep -q "^${name^^}($sec)" <<<"$out" &&
			grep -A1 '^NAME' <<<"$out" | grep -q "^ *$name "; then
			pass "man -l $name.$sec renders, $(wc -l <<<"$out") lines"
			[ -s "$OUT/man.err" ] &&
				echo "        groff warning: $(tr -s '\n ' ' ' <"$OUT/man.err")"
		else
			fail "man -l $page: no '${name^^}($sec)' header or NAME section"
		fi
	done

	# bash completion registers for the command
	out=$(bash --norc -c "source '$d$comp/kvm-lazytop' && complete -p kvm-lazytop" 2>&1) &&
		[[ $out == complete\ *kvm-lazytop ]] && pass "bash completion: $out" ||
		fail "bash completion not registered: $out"

	# the unit: substituted, verified, hardened
	if grep -q '@[A-Z]*@' "$unit"; then
		fail "unit has unsubstituted @VAR@: $(grep -m1 '@[A-Z]*@' "$unit")"
	else
		pass "unit fully substituted"
	fi
	grep -qx "ExecStart=$sbin/kvm-lazytop --listen \${KVM_LAZYTOP_LISTEN}" "$unit" &&
		pass "unit ExecStart=$sbin/kvm-lazytop" ||
		fail "unit ExecStart: $(grep '^ExecStart=' "$unit")"
	# verify the installed unit with ExecStart's binary and the man: links
	# resolved inside DESTDIR (--root=DESTDIR would need every system unit)
	mkdir -p "$OUT/verify"
	sed "s|^ExecStart=$sbin/|ExecStart=$d$sbin/|" "$unit" >"$OUT/verify/kvm-lazytop.service"
	if MANPATH=$d$man systemd-analyze verify "$OUT/verify/kvm-lazytop.service" \
		>"$OUT/verify.log" 2>&1 && ! [ -s "$OUT/verify.log" ]; then
		pass "systemd-analyze verify: no warning"
	else
		fail "systemd-analyze verify: $(tr '\n' ' ' <"$OUT/verify.log")"
	fi
	systemd-analyze security --offline=yes "$OUT/verify/kvm-lazytop.service" \
		>"$OUT/security.log" 2>&1 || true
	local score
	score=$(sed -n 's/.*Overall exposure level for kvm-lazytop.service: \([0-9.]*\).*/\1/p' \
		"$OUT/security.log")
	if [ -z "$score" ]; then
		fail "systemd-analyze security printed no score: $(tail -2 "$OUT/security.log")"
	elif awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s <= m) }'; then
		pass "systemd-analyze security: exposure $score (<= $MAX_EXPOSURE)"
	else
		fail "systemd-analyze security: exposure $score > $MAX_EXPOSURE"
	fi

	# uninstall removes every file it installed
	log=$OUT/uninstall${prefix//\//_}.log
	if make -C "$TOP" --no-print-directory uninstall PREFIX="$prefix" DESTDIR="$d" \
		>"$log" 2>&1; then
		out=$(list_tree "$d")
		[ -z "$out" ] && pass "make uninstall leaves no file" ||
			fail "make uninstall left: $(tr '\n' ' ' <<<"$out")"
	else
		fail "make uninstall: $(tail -2 "$log" | tr '\n' ' ')"
	fi
}

one_prefix /usr/local /usr/local/lib/systemd/system
one_prefix /usr /usr/lib/systemd/system

echo "install: $npass passed, $nfail failed"
[ "$nfail" = 0 ]
