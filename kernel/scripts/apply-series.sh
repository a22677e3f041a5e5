#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Apply the kvm-lazytop kernel patch series to a tree, in order.
#
# usage: apply-series.sh TREE [PATCHDIR]
#        apply-series.sh --list [PATCHDIR]     print the series, one per line
#        apply-series.sh --touched [PATCHDIR]  print every path the series
#                                              reads, writes, creates or deletes
#
# PATCHDIR defaults to kernel/patches/riscv.  The series is every
# [0-9]*.patch in it except 0000-cover-letter.patch, in name order.
# TREE must be a private copy: never point this at the pristine tree.
# Each patch is applied with `git apply`, falling back to `patch -p1`.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
default_dir=$here/../patches/riscv

list_series() {
	local dir=$1 p
	shopt -s nullglob
	for p in "$dir"/[0-9]*.patch; do
		case "$(basename "$p")" in
		0000-cover-letter.patch) continue ;;
		esac
		echo "$p"
	done | LC_ALL=C sort
}

touched_paths() {
	# a/ and b/ sides of "diff --git", "--- " and "+++ " headers.
	local p
	while read -r p; do
		sed -n -e 's|^diff --git a/\([^ ]*\) b/\([^ ]*\)$|\1\n\2|p' \
			-e 's|^--- a/\([^\t ]*\).*$|\1|p' \
			-e 's|^+++ b/\([^\t ]*\).*$|\1|p' "$p"
	done | LC_ALL=C sort -u
}

case "${1:-}" in
--list)
	list_series "${2:-$default_dir}"
	exit 0 ;;
--touched)
	list_series "${2:-$default_dir}" | touched_paths
	exit 0 ;;
""|-h|--help)
	sed -n '4,16p' "$0" | sed 's/^# \{0,1\}//'
	exit 2 ;;
esac

tree=$(cd "$1" && pwd)
dir=${2:-$default_dir}
mapfile -t series < <(list_series "$dir")
if [ ${#series[@]} -eq 0 ]; then
	echo "apply-series.sh: no patches in $dir" >&2
	exit 1
fi
case "$tree" in
*/src/linux-source-6.12|/usr/src/*)
	echo "apply-series.sh: refusing to patch pristine tree $tree" >&2
	exit 1 ;;
esac

for p in "${series[@]}"; do
	# Keep git from discovering an enclosing repository: paths must be
	# relative to TREE, not to some checkout it happens to live in.
	if (cd "$tree" && GIT_CEILING_DIRECTORIES=$(dirname "$tree") \
		git apply --whitespace=nowarn -p1 "$p") 2>/tmp/apply-series.$$; then
		continue
	fi
	if patch -d "$tree" -p1 --forward --batch --quiet <"$p" >>/tmp/apply-series.$$ 2>&1; then
		continue
	fi
	echo "apply-series.sh: $(basename "$p") does not apply:" >&2
	sed 's/^/    /' /tmp/apply-series.$$ >&2
	rm -f /tmp/apply-series.$$
	exit 1
done
rm -f /tmp/apply-series.$$
