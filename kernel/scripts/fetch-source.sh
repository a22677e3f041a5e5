#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unpack Debian's linux-source-6.12 into the cache (never touch /usr/src)
# and print the path of the pristine tree.  The tree is read-only by
# convention: patched trees are separate copies (see apply-series.sh).
set -euo pipefail

CACHE=${CACHE:-/var/cache/kvm-lazytop}
tarball=/usr/src/linux-source-6.12.tar.xz
dst=$CACHE/src/linux-source-6.12

if [ -f "$dst/.unpacked" ]; then
	echo "$dst"
	exit 0
fi
if [ ! -f "$tarball" ]; then
	echo "fetch-source.sh: $tarball missing; install linux-source-6.12 (make deps)" >&2
	exit 1
fi
mkdir -p "$CACHE/src"
echo "  UNPACK  $tarball" >&2
rm -rf "$dst"
tar -C "$CACHE/src" -xf "$tarball"
touch "$dst/.unpacked"
echo "$dst"
