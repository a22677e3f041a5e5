#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Statically cross-build the KVM selftests (tools/testing/selftests/kvm,
# ARCH=riscv) from a kernel variant's tree against that variant's
# headers_install, and print the directory holding the test binaries.
#
# usage: build-selftests.sh base|patched [TEST...]
#
# With TEST names only those are built (e.g. kvm_create_max_vcpus).
# Result: $CACHE/selftests-<kernel result name>-<key>/ with the binaries
# flattened (riscv/ebreak_test -> ebreak_test).  Log:
# $CACHE/logs/selftests-<variant>.log.
set -euo pipefail
{
here=$(cd "$(dirname "$0")" && pwd)
CACHE=${CACHE:-/var/cache/kvm-lazytop}
JOBS=${JOBS:-2}
variant=${1:-}
case "$variant" in
base|patched) shift ;;
*) echo "usage: build-selftests.sh base|patched [TEST...]" >&2; exit 2 ;;
esac
tests=("$@")

kdir=$("$here/build-kernel.sh" "$variant")
key=$( { basename "$kdir"; echo "${tests[*]}"; cat "$0"; } | sha256sum | cut -c1-16)
out=$CACHE/selftests-$(basename "$kdir")-$key
if [ -f "$out/.done" ]; then
	echo "$out"
	exit 0
fi

mkdir -p "$CACHE/logs" "$CACHE/kbuild"
log=$CACHE/logs/selftests-$variant.log
: >"$log"
# Hold the source lock while the shared tree is in the state we need.
exec 9>"$CACHE/kbuild/src.lock"
flock 9
if [ -f "$out/.done" ]; then	# built while we waited for the lock
	echo "$out"
	exit 0
fi
src=$(KBUILD_SRC_LOCKED=1 "$here/build-kernel.sh" "$variant" --prepare-source 2>>"$log")

obj=$CACHE/kbuild/selftests-obj-$variant
mkdir -p "$obj"
targets=()
for t in "${tests[@]}"; do targets+=("$obj/$t"); done
t0=$SECONDS
make -C "$src/tools/testing/selftests/kvm" -j"$JOBS" \
	ARCH=riscv CROSS_COMPILE=riscv64-linux-gnu- \
	OUTPUT="$obj" INSTALL_HDR_PATH="$kdir/headers" \
	LINUX_HDR_PATH="$kdir/headers/include/" \
	KHDR_INCLUDES="-isystem $kdir/headers/include" \
	LDFLAGS="-static -pthread -no-pie" \
	"${targets[@]}" >>"$log" 2>&1 || {
	grep -E 'error' "$log" | tail -n 10 >&2
	echo "build-selftests.sh: selftests build failed, see $log" >&2; exit 1; }

rm -rf "$out.tmp" && mkdir -p "$out.tmp"
n=0
while read -r f; do
	file -b "$f" | grep -q 'statically linked' || {
		echo "build-selftests.sh: $f is not static" >&2; exit 1; }
	cp "$f" "$out.tmp/$(basename "$f")"
	n=$((n + 1))
done < <(find "$obj" -maxdepth 2 -type f -perm -u+x ! -name '*.o' ! -name '*.d' | sort)
[ "$n" -gt 0 ] || { echo "build-selftests.sh: no test binaries produced, see $log" >&2; exit 1; }
rm -rf "$out" && mv "$out.tmp" "$out"
touch "$out/.done"
printf '  %-8s %s\n' SELFTEST "$n binaries in $((SECONDS - t0))s -> $out" >&2
echo "$out"
exit 0
}
