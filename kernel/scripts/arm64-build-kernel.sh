#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# arm64-build-kernel.sh - build the arm64 kernel Image for kvm-lazytop.
#
# usage: arm64-build-kernel.sh base|patched
#
#   base      Debian's pristine linux-source-6.12
#   patched   base + every [0-9]*.patch of kernel/patches/arm64 (name
#             order, the cover letter excluded)
#
# ARM64_KBUILD_PATCHES=DIR takes the series of 'patched' from DIR instead
# (e.g. the series plus one mutant, kernel/mutants/README.md); the hash
# covers the patch names and contents.
#
# The config is `allnoconfig` + kernel/configs/arm64.config: only what
# the QEMU virt machine, pKVM, the KVM selftests and kvm-lazytop (BTF,
# BPF, tracing) need, so a cold build stays short on a 2-core machine.
# After olddefconfig every line of the fragment is checked against the
# resulting .config; any option Kconfig set differently (an unmet
# dependency, a renamed symbol) fails the build, naming the option.
#
# Output (printed on stdout, nothing else is):
#   $CACHE/arm64-kernel-<variant>-<hash>/{Image,config,System.map,headers/}
# <hash> covers the kernel version, the series, the fragment, the
# cross compiler and this script, so an unchanged input is a cache hit.
#
# Both variants share one source copy and one object tree under
# $CACHE/arm64/kbuild: switching variant only rewrites the files the
# series touches, so make rebuilds just what depends on them.  Builds
# run under `nice -n 19` with -j$JOBS (default 2); the machine is shared.
#
# stderr gets one line per stage; the full log is
# $CACHE/logs/arm64-kernel-<variant>.log.
set -euo pipefail

CACHE=${CACHE:-/var/cache/kvm-lazytop}
JOBS=${JOBS:-2}
CROSS=${CROSS:-aarch64-linux-gnu-}
scripts=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$scripts/../.." && pwd)
series_dir=${ARM64_KBUILD_PATCHES:-$top/kernel/patches/arm64}
fragment=$top/kernel/configs/arm64.config

usage() { echo "usage: arm64-build-kernel.sh base|patched" >&2; exit 2; }
stage() { printf '  [arm64 %-7s] %-7s %s\n' "$variant" "$1" "$2" >&2; }
fail() { echo "arm64-build-kernel.sh: $*" >&2; exit 1; }

[ $# -eq 1 ] || usage
variant=$1
case $variant in base|patched) ;; *) usage ;; esac

command -v "${CROSS}gcc" >/dev/null ||
	fail "${CROSS}gcc not found (apt-get install gcc-aarch64-linux-gnu)"

pristine=$CACHE/src/linux-source-6.12
if [ ! -f "$pristine/Makefile" ] && [ -x "$scripts/fetch-source.sh" ]; then
	pristine=$("$scripts/fetch-source.sh")
fi
[ -f "$pristine/Makefile" ] || fail "no pristine tree at $pristine"

patches=()
if [ "$variant" = patched ]; then
	for p in "$series_dir"/[0-9]*.patch; do
		[ -e "$p" ] || continue
		[ "$(basename "$p")" = 0000-cover-letter.patch ] && continue
		patches+=("$p")
	done
	[ ${#patches[@]} -gt 0 ] || fail "no patches in $series_dir"
fi

hash=$( {
	sed -n '1,6p' "$pristine/Makefile"
	echo "variant $variant"
	for p in "${patches[@]}"; do echo "patch $(basename "$p")"; cat "$p"; done
	cat "$fragment" "$0"
	"${CROSS}gcc" --version | head -n 1
	pahole --version 2>/dev/null || echo no-pahole
} | sha256sum | cut -c1-16)
out=$CACHE/arm64-kernel-$variant-$hash
if [ -f "$out/Image" ] && [ -f "$out/.complete" ]; then
	stage CACHED "$out"
	echo "$out"
	exit 0
fi

work=$CACHE/arm64/kbuild
src=$work/src
obj=$work/obj
mkdir -p "$work" "$CACHE/logs"
log=$CACHE/logs/arm64-kernel-$variant.log
: >"$log"

# One build at a time in the shared source/object trees.
exec 8>"$work/lock"
flock 8

# ---- SOURCE ---------------------------------------------------------
# $work/modified lists every path that may differ from pristine; the
# word "INCONSISTENT" in it means an earlier run died half way.
if [ ! -d "$src" ] || grep -qx INCONSISTENT "$work/modified" 2>/dev/null ||
   [ ! -f "$work/modified" ]; then
	stage SOURCE "rsync $pristine -> $src"
	echo INCONSISTENT >"$work/modified"
	mkdir -p "$src"
	# --checksum: rewrite only differing files, keeping the object
	# tree's notion of what is up to date.
	rsync -a --checksum --delete --exclude=/.unpacked \
		"$pristine/" "$src/" >>"$log" 2>&1 || fail "rsync failed, see $log"
	: >"$work/modified"
else
	stage SOURCE "reuse $src"
fi

# ---- PATCH ----------------------------------------------------------
# Build the wanted version of every touched file in a scratch tree made
# of pristine copies, then copy into $src only what differs.
scratch=$work/scratch
rm -rf "$scratch"
mkdir -p "$scratch"
touched=$work/touched.new
for p in "${patches[@]}"; do
	grep -E '^(\+\+\+|---) [ab]/' "$p" | sed -E 's@^(\+\+\+|---) [ab]/@@; s@\t.*$@@'
done | LC_ALL=C sort -u >"$touched"
while read -r f; do
	[ -e "$pristine/$f" ] || continue
	mkdir -p "$scratch/$(dirname "$f")"
	cp -p "$pristine/$f" "$scratch/$f"
done <"$touched"
for p in "${patches[@]}"; do
	(cd "$scratch" && git apply --whitespace=nowarn "$p") >>"$log" 2>&1 ||
		fail "$(basename "$p") does not apply, see $log"
done
previous=$(cat "$work/modified")
echo INCONSISTENT >"$work/modified"
rewritten=0
while read -r f; do
	[ -n "$f" ] || continue
	if [ -e "$scratch/$f" ]; then
		want=$scratch/$f
	elif grep -qxF "$f" "$touched"; then
		want=
	elif [ -e "$pristine/$f" ]; then
		want=$pristine/$f
	else
		want=
	fi
	if [ -z "$want" ]; then
		if [ -e "$src/$f" ]; then
			rm -f "$src/$f"
			rewritten=$((rewritten + 1))
		fi
	elif ! cmp -s "$want" "$src/$f"; then
		mkdir -p "$(dirname "$src/$f")"
		cp "$want" "$src/$f"
		rewritten=$((rewritten + 1))
	fi
done < <({ printf '%s\n' "$previous"; cat "$touched"; } | LC_ALL=C sort -u)
cp "$touched" "$work/modified"
stage PATCH "${#patches[@]} patches, $rewritten files rewritten"

# ---- CONFIG ---------------------------------------------------------
kmake() {
	nice -n 19 make -C "$src" O="$obj" ARCH=arm64 CROSS_COMPILE="$CROSS" "$@"
}
# The fragment as "SYM VALUE" pairs: comments (whole-line or after the
# value) and blank lines dropped.  A symbol given twice is an error:
# merge_config.sh would silently keep the last one.
wanted=$work/fragment.wanted
sed -e 's/#.*$//' -e 's/[[:space:]]*$//' -e '/^$/d' "$fragment" |
	sed -nE 's/^(CONFIG_[A-Za-z0-9_]+)=(.*)$/\1 \2/p' >"$wanted"
[ "$(sed -e 's/#.*$//' -e '/^[[:space:]]*$/d' "$fragment" | wc -l)" -eq "$(wc -l <"$wanted")" ] ||
	fail "$fragment: a line is not CONFIG_FOO=value"
dups=$(cut -d' ' -f1 "$wanted" | sort | uniq -d)
[ -z "$dups" ] || fail "$fragment sets more than once: $dups"

mkdir -p "$obj"
frag=$work/fragment.config
sed -e 's/^\(CONFIG_[A-Za-z0-9_]*\) n$/# \1 is not set/' \
    -e 's/^\(CONFIG_[A-Za-z0-9_]*\) /\1=/' "$wanted" >"$frag"
{
	kmake allnoconfig
	(cd "$obj" && "$src/scripts/kconfig/merge_config.sh" -m -O "$obj" \
		"$obj/.config" "$frag")
	kmake olddefconfig
} >>"$log" 2>&1 || fail "config failed, see $log"

# Every option of the fragment, as Kconfig left it.
wrong=()
while read -r sym val; do
	got=$(sed -nE "s/^$sym=(.*)$/\1/p" "$obj/.config")
	if [ "$val" = n ]; then
		[ -z "$got" ] || [ "$got" = n ] || wrong+=("$sym: wanted n, got $got")
	elif [ "$got" != "$val" ]; then
		wrong+=("$sym: wanted $val, got ${got:-n (unset)}")
	fi
done <"$wanted"
if [ ${#wrong[@]} -gt 0 ]; then
	echo "arm64-build-kernel.sh: olddefconfig did not keep $fragment:" >&2
	printf '    %s\n' "${wrong[@]}" >&2
	fail "${#wrong[@]} option(s) differ (unmet dependencies?); .config in $obj"
fi
stage CONFIG "allnoconfig + $(wc -l <"$wanted") options, all kept; $(grep -c '=y$' "$obj/.config") symbols =y"

# ---- BUILD ----------------------------------------------------------
start=$SECONDS
kmake -j"$JOBS" Image >>"$log" 2>&1 || {
	grep -E '(error|Error)[: ]' "$log" | tail -n 20 >&2
	fail "build failed, see $log"
}
tmp=$out.partial.$$
rm -rf "$tmp"
mkdir -p "$tmp"
kmake headers_install INSTALL_HDR_PATH="$tmp/headers" >>"$log" 2>&1 ||
	fail "headers_install failed, see $log"
took=$((SECONDS - start))
stage BUILD "Image in $((took / 60))m$((took % 60))s with -j$JOBS"

cp "$obj/arch/arm64/boot/Image" "$obj/.config" "$obj/System.map" "$tmp/"
mv "$tmp/.config" "$tmp/config"
{
	echo "variant=$variant"
	echo "source=$src"
	for p in "${patches[@]}"; do echo "patch=$(basename "$p")"; done
} >"$tmp/build-info"
rm -rf "$out"
mv "$tmp" "$out"
touch "$out/.complete"
stage DONE "$out (Image $(($(stat -c %s "$out/Image") / 1024)) KiB)"
echo "$out"
