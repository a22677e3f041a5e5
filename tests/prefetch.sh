#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/prefetch.sh - build, or find in the cache, what the QEMU checks of
# `make test` need, while the host checks run in the foreground.
#
# On a cold cache the kernel builds dominate `make test`; the host checks
# spend most of their wall time waiting on workloads, so overlapping the two
# saves their length.  Every step here is one the QEMU checks run again
# themselves: the build scripts serialise on their cache locks and return the
# cached result, so a step that fails here is retried, and reported, by the
# check that needs it.  Nothing is skipped because of this script.
#
# usage: prefetch.sh LOG     one line per step in LOG
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
ks=$top/kernel/scripts
log=${1:?usage: prefetch.sh LOG}
: >"$log"

step() {
	local t=$SECONDS rc=0
	nice -n 5 "$@" >/dev/null 2>&1 || rc=$?
	printf 'prefetch: %-48s rc=%d %4ds\n' "${*#"$top"/}" "$rc" $((SECONDS - t)) >>"$log"
}

# The static kvm-lazytop of ARCH: only its cached, lock-protected libraries
# (the checks run `make ARCH=... tool` themselves; two makes must not share
# build/ARCH at once).
crosslibs() {
	step "$top/tools/deps/build-libbpf.sh" "$1"
	step "$top/tools/deps/build-cross-libs.sh" "$1"
	step "$top/tools/deps/build-cross-userlibs.sh" "$1"
}

# In the order check-riscv and check-arm64 need them.
step "$ks/build-kernel.sh" patched --debug
step "$ks/build-kernel.sh" base
step "$ks/build-selftests.sh" patched
crosslibs riscv64
step "$top/tests/workloads/riscv/build.sh"
step "$ks/build-kernel.sh" patched
step "$ks/arm64-build-kernel.sh" patched
step "$ks/arm64-build-selftests.sh"
crosslibs arm64
exit 0
