#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build a newc cpio initramfs for the riscv64 e2e guest (no root needed).
#
# usage: make-initramfs.sh -o OUT.cpio --scenario FILE [--init BINARY]
#                          [EXTRA ...]
#
# EXTRA is SRC or SRC=DEST: a file or directory copied into the image,
# by default under /bin (files) or /DIRNAME (directories); DEST is an
# absolute path inside the image.  Missing extras are an error.  /init
# defaults to tests/e2e/guest/init.c, compiled here (cached by content).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
CACHE=${CACHE:-/var/cache/kvm-lazytop}
CC=${CROSS_CC:-riscv64-linux-gnu-gcc}

out= scenario= init=
extras=()
while [ $# -gt 0 ]; do
	case "$1" in
	-o) out=$2; shift 2 ;;
	--scenario) scenario=$2; shift 2 ;;
	--init) init=$2; shift 2 ;;
	-h|--help) sed -n '4,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) extras+=("$1"); shift ;;
	esac
done
[ -n "$out" ] && [ -n "$scenario" ] || {
	echo "usage: make-initramfs.sh -o OUT.cpio --scenario FILE [--init BIN] [EXTRA...]" >&2; exit 2; }
[ -f "$scenario" ] || { echo "make-initramfs.sh: scenario $scenario missing" >&2; exit 1; }

if [ -z "$init" ]; then
	src=$top/tests/e2e/guest/init.c
	key=$(cat "$src" | sha256sum | cut -c1-16)
	init=$CACHE/guest-init/init-$key
	if [ ! -x "$init" ]; then
		mkdir -p "$CACHE/guest-init"
		$CC -static -O2 -std=c11 -Wall -Wextra -Werror -o "$init.tmp" "$src" || {
			echo "make-initramfs.sh: compiling $src failed" >&2; exit 1; }
		mv "$init.tmp" "$init"
	fi
fi

stage=$(mktemp -d "${TMPDIR:-/tmp}/initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,dev,proc,sys,tmp,etc,selftests}
install -m 755 "$init" "$stage/init"
install -m 644 "$scenario" "$stage/scenario"
for e in "${extras[@]}"; do
	s=${e%%=*}; d=
	[ "$s" != "$e" ] && d=${e#*=}
	[ -e "$s" ] || { echo "make-initramfs.sh: extra '$s' missing" >&2; exit 1; }
	if [ -z "$d" ]; then
		if [ -d "$s" ]; then d=/$(basename "$s"); else d=/bin/$(basename "$s"); fi
	fi
	if [ -d "$s" ]; then
		# merge the directory's contents into DEST (which may exist)
		mkdir -p "$stage$d"
		cp -rL "$s/." "$stage$d/"
	else
		mkdir -p "$stage$(dirname "$d")"
		cp -L "$s" "$stage$d"
	fi
done

mkdir -p "$(dirname "$out")"
# Device nodes are not needed: init mounts devtmpfs.  --owner keeps the
# image reproducible and root-owned without running as root.
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc --owner=0:0 --reproducible) >"$out.tmp"
mv "$out.tmp" "$out"
echo "$out"
