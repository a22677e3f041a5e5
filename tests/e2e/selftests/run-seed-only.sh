#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check-riscv-seed-only: the series' new selftests (SET "new" of
# suite.list) on a "seed-only" kernel, where each of them must FAIL; this
# shows the tests catch the hazards the series fixes.
#
# The seed-only change is taken from, in this order:
#   $SEED_PATCHES or kernel/patches/riscv-seed/  ([0-9]*.patch, git am)
#   branch seed-only of $SEED_REPO (default $CACHE/series/linux): the diff
#   from its merge base with master (read-only use of that repository)
# and built for riscv64 (riscv64.config, non-debug) in a worktree of the
# kernel-check scratch repo: $CACHE/seed-only/{linux,obj,kernel-<key>}.
# The test binaries are the series' (build-selftests.sh patched).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
ks=$top/kernel/scripts
CACHE=${CACHE:-/var/cache/kvm-lazytop}
export CACHE
OUTDIR=${SELFTESTS_OUT:-$top/build/riscv64/selftests}
JOBS=${JOBS:-2}
CROSS=riscv64-linux-gnu-
work=$CACHE/seed-only
frag=$top/kernel/configs/riscv64.config
T0=$SECONDS
say() { printf '  %-9s %s\n' "$1" "$2" >&2; }
el() { local s=$((SECONDS - $1)); printf '%dm%02ds' $((s / 60)) $((s % 60)); }
die() { echo "run-seed-only.sh: $*" >&2; exit 1; }
mkdir -p "$work" "$CACHE/logs" "$OUTDIR"
log=$CACHE/logs/seed-only-kernel.log

# ---- find the seed-only change -------------------------------------------------
seeddir=${SEED_PATCHES:-$top/kernel/patches/riscv-seed}
SEED_REPO=${SEED_REPO:-$CACHE/series/linux}
patch=$work/seed.mbox
if compgen -G "$seeddir/[0-9]*.patch" >/dev/null; then
	find "$seeddir" -maxdepth 1 -name '[0-9]*.patch' ! -name '0000-*' | LC_ALL=C sort |
		xargs cat >"$patch.tmp"
	from="patches in $seeddir"
elif git -C "$SEED_REPO" rev-parse -q --verify seed-only >/dev/null 2>&1; then
	mb=$(git -C "$SEED_REPO" merge-base master seed-only) || die "no merge base in $SEED_REPO"
	git -C "$SEED_REPO" format-patch --stdout "$mb..seed-only" >"$patch.tmp" ||
		die "format-patch of seed-only in $SEED_REPO failed"
	from="branch seed-only of $SEED_REPO ($(git -C "$SEED_REPO" rev-parse --short seed-only))"
else
	echo "seed-only: NOT AVAILABLE (no $seeddir/*.patch, no seed-only branch in $SEED_REPO)" |
		tee "$OUTDIR/seed-only.summary"
	exit 1
fi
mv "$patch.tmp" "$patch"
say SEED "$from"

# ---- build the seed-only kernel --------------------------------------------------
key=$( { cat "$patch" "$frag" "$0"; ${CROSS}gcc --version | head -1; } | sha256sum | cut -c1-16)
kdir=$work/kernel-$key
if [ -f "$kdir/.done" ]; then
	say KERNEL "$kdir (cached)"
else
	exec 9>"$work/lock"
	flock 9
	repo=$("$ks/check-series.sh" --import 2>/dev/null | tail -1) || die "kernel-check import failed"
	src=$work/linux obj=$work/obj
	t=$SECONDS
	{
		if [ ! -e "$src/.git" ]; then
			rm -rf "$src"
			git -C "$repo" worktree prune
			git -C "$repo" worktree add -f --detach "$src" pristine
		fi
		git -C "$src" am --abort 2>/dev/null
		git -C "$src" checkout -q -f --detach pristine &&
		git -C "$src" clean -q -f -d -x &&
		git -C "$src" -c gc.auto=0 -c user.name=seed -c user.email=seed@localhost am -q "$patch"
	} >"$log" 2>&1 || die "seed-only change does not apply to the pristine tree, see $log"
	kmake() { make -C "$src" O="$obj" ARCH=riscv CROSS_COMPILE=$CROSS -j"$JOBS" "$@"; }
	mkdir -p "$obj"
	sed -e 's/[[:space:]]*#.*required$//' -e 's/[[:space:]]*#optional$//' \
	    -e 's/^\(CONFIG_[A-Za-z0-9_]*\)=n$/# \1 is not set/' "$frag" >"$obj/frag.config"
	{
		kmake defconfig &&
		(cd "$obj" && "$src/scripts/kconfig/merge_config.sh" -m -O "$obj" \
			"$obj/.config" "$obj/frag.config") &&
		kmake olddefconfig && kmake Image
	} >>"$log" 2>&1 || {
		grep -E ': error: ' "$log" | head -n 5 >&2
		die "seed-only kernel build failed after $(el $t), see $log"; }
	rm -rf "$kdir.tmp" && mkdir -p "$kdir.tmp"
	cp "$obj/arch/riscv/boot/Image" "$kdir.tmp/Image"
	cp "$obj/.config" "$kdir.tmp/config"
	echo "$src" >"$kdir.tmp/source"
	rm -rf "$kdir" && mv "$kdir.tmp" "$kdir" && touch "$kdir/.done"
	say KERNEL "seed-only Image in $(el $t) -> $kdir"
fi

st=$("$ks/build-selftests.sh" patched) || die "series selftests do not build (build-selftests.sh patched)"
out=$OUTDIR/seed-only
rm -rf "$out" && mkdir -p "$out"
"$here/run-suite.sh" boot-expect-fail seed-only "$kdir" "$st" new 0 "$out"
rc=$?
echo "  total wall time: $(el $T0)" >>"$OUTDIR/seed-only.summary"
[ "$rc" = 0 ] && echo "  RESULT: PASS (every new test FAILS on seed-only)" ||
	echo "  RESULT: FAIL"
exit $rc
