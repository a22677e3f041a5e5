#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# boot-test.sh - boot an arm64 kvm-lazytop kernel under QEMU with KVM in
# protected mode and check that pKVM came up.
#
# usage: boot-test.sh [options] KERNEL_DIR_OR_IMAGE
#   --selftests DIR   put DIR's files in /selftests and run the tests
#                     listed in DIR/selftests.list (see init.c)
#   --log FILE        keep the serial console log there
#                     (default: $CACHE/logs/arm64-boot-<name>.log)
#   --timeout SEC     QEMU wall-clock limit (default 900)
#   --append ARGS     extra kernel command line
#
# The machine is the one the project targets:
#   qemu-system-aarch64 -M virt,virtualization=on,gic-version=3
#     -cpu max,sme=off,pauth-impdef=on -smp 2 -m 2G -nographic
#     -append "console=ttyAMA0 kvm-arm.mode=protected"
# with a static initramfs whose /init is tests/e2e/arm64/init.c.
#
# One arm64 QEMU at a time: boots queue on $CACHE/locks/arm64-qemu.lock
# (TCG on a 2-core machine; two guests would each run at half speed and
# time out).
#
# Exit status 0 when the log shows pKVM initialised, /dev/kvm exists and
# the kernel printed no BUG/WARNING/Oops/panic/lockdep report; 1 otherwise.
set -euo pipefail

CACHE=${CACHE:-/var/cache/kvm-lazytop}
here=$(cd "$(dirname "$0")" && pwd)
selftests= log= timeout=900 append=
while [ $# -gt 1 ]; do
	case $1 in
	--selftests) selftests=$(cd "$2" && pwd); shift 2 ;;
	--log) log=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--append) append=$2; shift 2 ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || { sed -n '4,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
image=$1
[ -d "$image" ] && image=$image/Image
[ -f "$image" ] || { echo "boot-test.sh: no kernel image $image" >&2; exit 2; }
name=$(basename "$(dirname "$(readlink -f "$image")")")
log=${log:-$CACHE/logs/arm64-boot-$name.log}
mkdir -p "$(dirname "$log")"

for tool in aarch64-linux-gnu-gcc qemu-system-aarch64 cpio gzip; do
	command -v $tool >/dev/null || {
		echo "boot-test.sh: $tool missing (apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-system-arm cpio)" >&2
		exit 2
	}
done

work=$(mktemp -d /tmp/arm64-boot.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{dev,proc,sys,tmp,etc,selftests}
mknod -m 600 "$root/dev/console" c 5 1
mknod -m 666 "$root/dev/null" c 1 3
aarch64-linux-gnu-gcc -static -O2 -Wall -Wextra -o "$root/init" "$here/init.c"
if [ -n "$selftests" ]; then
	cp -a "$selftests"/. "$root/selftests/"
	[ -f "$selftests/selftests.list" ] && cp "$selftests/selftests.list" "$root/etc/"
fi
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initramfs.gz"
echo "  BOOT    $image ($(du -h "$work/initramfs.gz" | cut -f1) initramfs), log $log" >&2

mkdir -p "$CACHE/locks"
exec 9>"$CACHE/locks/arm64-qemu.lock"
if ! flock -n 9; then
	echo "  BOOT    waiting for another arm64 QEMU boot to finish" >&2
	flock 9
fi
status=0
timeout --foreground -k 10 "$timeout" \
	qemu-system-aarch64 -M virt,virtualization=on,gic-version=3 \
	-cpu max,sme=off,pauth-impdef=on -smp 2 -m 2G -nographic \
	-no-reboot -kernel "$image" -initrd "$work/initramfs.gz" \
	-append "console=ttyAMA0 kvm-arm.mode=protected panic=-1 $append" \
	</dev/null >"$log" 2>&1 || status=$?
tr -d '\r' <"$log" >"$log.tmp" && mv "$log.tmp" "$log"
[ $status -eq 124 ] && echo "  BOOT    QEMU timed out after ${timeout}s" >&2

ok=1
if line=$(grep -m1 -E 'Protected [nh]VHE mode initialized' "$log"); then
	echo "  BOOT    ok: ${line#*] }" >&2
else
	echo "  BOOT    FAIL: no 'Protected nVHE mode initialized' line" >&2
	ok=0
fi
grep -q 'INIT: /dev/kvm present' "$log" ||
	{ echo "  BOOT    FAIL: /dev/kvm missing or init did not run" >&2; ok=0; }
if grep -E '(^|\] )(BUG:|WARNING:|Oops|Kernel panic|Unable to handle|possible (recursive|circular) locking|inconsistent lock state|suspicious RCU usage)' "$log" | grep -v '^DMESG' | head -5 >&2; then
	echo "  BOOT    FAIL: kernel reported problems (above)" >&2
	ok=0
fi
exec 9>&-
grep -q 'INIT: powering off' "$log" ||
	{ echo "  BOOT    FAIL: init did not reach power off" >&2; ok=0; }
[ $ok -eq 1 ]
