#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make LIBBPF=system` keeps building: the tool and the BPF tests are built
# against the distribution's libbpf (Debian 12: libbpf-dev 1.1) into a
# separate build directory; the tool must be linked to the system
# libbpf.so, print --version, load and attach its programs (--probe), and
# the production-load and BPF_PROG_TEST_RUN tests (check-bpf) must pass.
#
# usage: libbpf-system.sh --top DIR --out DIR
# Ends with "N passed, N failed"; exit 1 on any failure.
set -euo pipefail

TOP= OUT=
while [ $# -gt 0 ]; do
	case "$1" in
	--top) TOP=${2:?}; shift 2 ;;
	--out) OUT=${2:?}; shift 2 ;;
	*) echo "usage: libbpf-system.sh --top DIR --out DIR" >&2; exit 2 ;;
	esac
done
[ -n "$TOP" ] && [ -n "$OUT" ] || { echo "usage: libbpf-system.sh --top DIR --out DIR" >&2; exit 2; }

npass=0 nfail=0
pass() { echo "  PASS  $*"; npass=$((npass + 1)); }
fail() { echo "  FAIL  $*"; nfail=$((nfail + 1)); }
finish() { echo "libbpf-system: $npass passed, $nfail failed"; [ "$nfail" = 0 ] && exit 0 || exit 1; }

sysver=$(pkg-config --modversion libbpf 2>/dev/null) ||
	{ fail "pkg-config finds no libbpf (install libbpf-dev: make deps)"; finish; }
libdir=$(pkg-config --variable=libdir libbpf)
echo "  system libbpf $sysver ($libdir)"

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
B=$OUT/build
arch=$(uname -m)
bin=$B/$arch/kvm-lazytop
make_sys() { make -C "$TOP" --no-print-directory LIBBPF=system BUILD="$B" "$@"; }

if make_sys -j2 tool bpf-tests >"$OUT/build.log" 2>&1; then
	pass "make LIBBPF=system tool bpf-tests (BUILD=$B)"
else
	fail "make LIBBPF=system: $(grep -m1 -E 'error|Error' "$OUT/build.log" || tail -1 "$OUT/build.log")"
	finish
fi

# linked to the system's shared libbpf, not the static kernel-tree one
linked_to_system() {
	local f=$1 so
	readelf -d "$f" 2>/dev/null | grep -q 'NEEDED.*\[libbpf\.so\.' || return 1
	so=$(ldd "$f" | awk '$1 ~ /^libbpf\.so/ { print $3 }')
	[ -n "$so" ] && [ "$(readlink -f "$so")" = "$(readlink -f "$libdir/libbpf.so")" ]
}
for f in "$bin" "$B/$arch/tests/bpf/test_kl_load"; do
	linked_to_system "$f" && pass "$(basename "$f") uses $(readlink -f "$libdir/libbpf.so")" ||
		fail "$(basename "$f") is not linked to the system libbpf: $(ldd "$f" | grep -i bpf || echo 'no libbpf.so')"
done

v=$("$bin" --version 2>&1) && [ -n "$v" ] && pass "--version: $(head -1 <<<"$v")" ||
	fail "--version: exit $?: $v"
# a --version that names libbpf must name the system's
if grep -qi libbpf <<<"$v"; then
	grep -qE "libbpf[^0-9]*${sysver%.*}\b" <<<"$v" && pass "--version names libbpf ${sysver%.*}" ||
		fail "--version names another libbpf than ${sysver%.*}: $(grep -i libbpf <<<"$v")"
fi

# the tool loads and attaches with the old libbpf
if "$bin" --probe >"$OUT/probe.txt" 2>&1 &&
	grep -qE '^kvm_dirty_ring_push +raw_tp +attached' "$OUT/probe.txt"; then
	pass "--probe: $(grep -c ' attached' "$OUT/probe.txt") signals attached"
else
	fail "--probe: $(tail -2 "$OUT/probe.txt" | tr '\n' ' ')"
fi

if make_sys check-bpf >"$OUT/check-bpf.log" 2>&1; then
	pass "make LIBBPF=system check-bpf: $(grep -c 'OK' "$OUT/check-bpf.log") OK lines"
else
	fail "make LIBBPF=system check-bpf: $(grep -m2 -E 'FAIL|rror' "$OUT/check-bpf.log" | tr '\n' ' ')"
fi
finish
