#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build a riscv64 kernel Image for kvm-lazytop and print the result dir.
#
# usage: build-kernel.sh base|patched [--debug]
#        build-kernel.sh base|patched --prepare-source
#
#   base     pristine Debian linux-source-6.12
#   patched  pristine + kernel/patches/riscv series (apply-series.sh)
#   --debug  also merge kernel/configs/riscv64-debug.config
# KBUILD_PATCHES=DIR uses another series dir for 'patched' (e.g. the first
# N patches, for bisect builds); the result key covers the patch contents.
# KBUILD_CONFIG_ONLY=1 stops after CONFIG and prints the .config path.
#   --prepare-source  only bring the shared source copy to the variant's
#            state and print its path (for build-selftests.sh; set
#            KBUILD_SRC_LOCKED=1 when the caller already holds
#            $CACHE/kbuild/src.lock)
#
# Result: $CACHE/kernel-<variant>[-debug]-<key>/{Image,config,headers/,
#         trace.h (arch/riscv/kvm/trace.h of the variant)}
# where <key> hashes the tree version, the series, the config fragments,
# the toolchain and these scripts.  A hit costs nothing.
#
# Incremental: all variants share one persistent source copy
# ($CACHE/kbuild/src) and each configuration has its object tree
# ($CACHE/kbuild/obj-riscv64[-debug]).  Switching variant rewrites only
# the files whose content differs from the wanted tree (they get a fresh
# mtime), so make rebuilds only what depends on the series: on a cold
# cache, 'patched' after 'base' is an incremental build, not a second
# full one.
#
# stdout: the result dir only.  stderr: one line per stage.  Full logs in
# $CACHE/logs/kernel-<variant>[-debug].log.
set -euo pipefail
# The whole body is one compound command: bash parses it before running,
# so editing this file during a (long) build cannot derail that build.
{

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
CACHE=${CACHE:-/var/cache/kvm-lazytop}
JOBS=${JOBS:-2}
CROSS=riscv64-linux-gnu-

variant=${1:-}
debug= prepare=
case "${2:-}" in
--debug) debug=-debug ;;
--prepare-source) prepare=1 ;;
"") ;;
*) echo "usage: build-kernel.sh base|patched [--debug]" >&2; exit 2 ;;
esac
case "$variant" in
base|patched) ;;
*) echo "usage: build-kernel.sh base|patched [--debug]" >&2; exit 2 ;;
esac
name=$variant$debug

say() { printf '  %-8s %s\n' "$1" "$2" >&2; }
die() { echo "build-kernel.sh: $*" >&2; exit 1; }

pristine=$("$here/fetch-source.sh")
patchdir=${KBUILD_PATCHES:-$top/kernel/patches/riscv}
frags=("$top/kernel/configs/riscv64.config")
[ -n "$debug" ] && frags+=("$top/kernel/configs/riscv64-debug.config")

series=()
if [ "$variant" = patched ]; then
	mapfile -t series < <("$here/apply-series.sh" --list "$patchdir")
	[ ${#series[@]} -gt 0 ] ||
		die "variant 'patched' but no patches in $patchdir (need [0-9]*.patch besides 0000-cover-letter.patch)"
fi

key=$( {
	head -6 "$pristine/Makefile"
	echo "variant=$name"
	for f in "${series[@]}" "${frags[@]}"; do echo "== $(basename "$f")"; cat "$f"; done
	cat "$0" "$here/apply-series.sh"
	${CROSS}gcc --version | head -1
	pahole --version
} | sha256sum | cut -c1-16)
result=$CACHE/kernel-$name-$key
if [ -z "$prepare" ] && [ -f "$result/.done" ]; then
	say DONE "$result (cached)"
	echo "$result"
	exit 0
fi

mkdir -p "$CACHE/logs" "$CACHE/kbuild"
log=$CACHE/logs/kernel-$name.log
src=$CACHE/kbuild/src
obj=$CACHE/kbuild/obj-riscv64$debug

# One builder at a time: every variant uses the one source copy.
if [ -z "${KBUILD_SRC_LOCKED:-}" ]; then
	exec 9>"$CACHE/kbuild/src.lock"
	flock 9
fi
# whoever held the lock may just have built this very result
if [ -z "$prepare" ] && [ -f "$result/.done" ]; then
	say DONE "$result (cached, built meanwhile)"
	echo "$result"
	exit 0
fi
: >"$log"

# ---- UNPACK: persistent copy of the pristine tree -------------------
state=$src.state          # paths that may differ from pristine, or DIRTY
t0=$SECONDS
if [ ! -d "$src" ] || [ ! -f "$state" ]; then
	say UNPACK "full copy of $pristine -> $src"
	mkdir -p "$src"
	echo DIRTY >"$state"
	# -c (not -t): only files whose content differs get rewritten, with
	# a fresh mtime, so objects from an older state stay valid or rebuild.
	rsync -rlc --delete --exclude=/.unpacked "$pristine/" "$src/" >>"$log" 2>&1 ||
		die "copying the source tree failed, see $log"
	: >"$state"
elif grep -qx DIRTY "$state" ||
     ! cmp -s <(head -6 "$pristine/Makefile") "$src.base" 2>/dev/null; then
	say UNPACK "resync $src (interrupted earlier, or new pristine version)"
	rsync -rlc --delete --exclude=/.unpacked "$pristine/" "$src/" >>"$log" 2>&1 ||
		die "resyncing the source tree failed, see $log"
	: >"$state"
else
	say UNPACK "reuse $src"
fi

# ---- PATCH: bring every touched path to its wanted content ----------
scratch=$CACHE/kbuild/scratch
rm -rf "$scratch" && mkdir -p "$scratch"
newtouched=$scratch.touched
: >"$newtouched"
if [ ${#series[@]} -gt 0 ]; then
	"$here/apply-series.sh" --touched "$patchdir" >"$newtouched"
	(cd "$pristine" && while read -r p; do
		[ -e "$p" ] && cp --parents -p "$p" "$scratch/"; done <"$newtouched") || true
	"$here/apply-series.sh" "$scratch" "$patchdir" 2>>"$log" || {
		tail -n 20 "$log" >&2; die "patch series does not apply, see $log"; }
fi
oldtouched=$(cat "$state")
echo DIRTY >"$state"
changed=0
while read -r p; do
	[ -n "$p" ] || continue
	if [ -e "$scratch/$p" ]; then want=$scratch/$p
	elif grep -qxF "$p" "$newtouched"; then want=   # deleted by the series
	elif [ -e "$pristine/$p" ]; then want=$pristine/$p
	else want=; fi
	if [ -z "$want" ]; then
		[ -e "$src/$p" ] && { rm -f "$src/$p"; changed=$((changed + 1)); }
	elif ! cmp -s "$want" "$src/$p"; then
		mkdir -p "$(dirname "$src/$p")"
		cp "$want" "$src/$p"
		chmod --reference="$want" "$src/$p"
		changed=$((changed + 1))
	fi
done < <(printf '%s\n' "$oldtouched" | cat - "$newtouched" | LC_ALL=C sort -u)
cp "$newtouched" "$state"
head -6 "$pristine/Makefile" >"$src.base"
say PATCH "${#series[@]} patches, $changed files changed"
if [ -n "$prepare" ]; then
	echo "$src"
	exit 0
fi

# ---- CONFIG: defconfig + fragments, then check what survived --------
mkdir -p "$obj"
kmake() { make -C "$src" O="$obj" ARCH=riscv CROSS_COMPILE=$CROSS "$@"; }
clean_frags=()
for f in "${frags[@]}"; do
	c=$obj/frag-$(basename "$f")
	sed -e 's/[[:space:]]*#.*required$//' -e 's/[[:space:]]*#optional$//' \
	    -e 's/^\(CONFIG_[A-Za-z0-9_]*\)=n$/# \1 is not set/' "$f" >"$c"
	clean_frags+=("$c")
done
{
	kmake defconfig &&
	(cd "$obj" && "$src/scripts/kconfig/merge_config.sh" -m -O "$obj" \
		"$obj/.config" "${clean_frags[@]}") &&
	kmake olddefconfig
} >>"$log" 2>&1 || die "configuration failed, see $log"
missing=() optmissing=()
for f in "${frags[@]}"; do
	while read -r line; do
		sym=${line%%=*} val=${line#*=}; val=${val%%[[:space:]]*}
		case "$line" in *'#optional') opt=1 ;; *) opt= ;; esac
		if [ "$val" = n ]; then
			grep -q "^$sym=" "$obj/.config" || continue
		else
			grep -qx "$sym=$val" "$obj/.config" && continue
		fi
		if [ -n "$opt" ]; then optmissing+=("$sym=$val"); else missing+=("$sym=$val"); fi
	done < <(grep -E '^CONFIG_[A-Za-z0-9_]+=[^ ]+[[:space:]]*#(required|optional)$' "$f")
done
[ ${#optmissing[@]} -eq 0 ] || echo "  (optional, not available: ${optmissing[*]})" >&2
if [ ${#missing[@]} -gt 0 ]; then
	echo "build-kernel.sh: required options dropped by olddefconfig:" >&2
	printf '    %s\n' "${missing[@]}" >&2
	die "fix kernel/configs/*.config (dependencies?)"
fi
say CONFIG "$(grep -c '=y' "$obj/.config") options =y, all required present"
if [ -n "${KBUILD_CONFIG_ONLY:-}" ]; then
	echo "$obj/.config"
	exit 0
fi

# ---- BUILD ----------------------------------------------------------
t0=$SECONDS
kmake -j"$JOBS" Image >>"$log" 2>&1 || {
	grep -E 'error|Error' "$log" | tail -n 15 >&2
	die "kernel build failed after $((SECONDS - t0))s, see $log"; }
tmp=$result.tmp.$$
rm -rf "$tmp" && mkdir -p "$tmp"
kmake headers_install INSTALL_HDR_PATH="$tmp/headers" >>"$log" 2>&1 ||
	die "headers_install failed, see $log"
el=$((SECONDS - t0))
say BUILD "Image in $((el / 60))m$((el % 60))s (-j$JOBS)"

cp "$obj/arch/riscv/boot/Image" "$tmp/Image"
cp "$obj/.config" "$tmp/config"
# the source copy moves on to other variants: keep what readers need
cp "$src/arch/riscv/kvm/trace.h" "$tmp/trace.h"
echo "$src" >"$tmp/source"
rm -rf "$result" && mv "$tmp" "$result"
touch "$result/.done"
say DONE "$result"
echo "$result"
exit 0
}
