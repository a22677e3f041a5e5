#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a riscv64 kernel + e2e initramfs under QEMU (with the H extension so
# KVM works in the guest) and extract the results the guest's /init wrote.
#
# usage: run-qemu.sh --kernel DIR|Image --initramfs FILE --results OUTDIR
#                    [--smp N] [--mem SIZE] [--timeout S] [--append ARGS]
#                    [--disk-mb N] [--live]
#
#   --results  OUTDIR gets console.log, results.disk and the extracted files
#   --live     echo the guest's "lazytop-init:" lines while it runs
#              (everything else goes to OUTDIR/console.log only)
#
# Exit: 0 results extracted; 1 guest timed out, results missing or
# truncated (one-line reason on stderr); 2 usage.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
kernel= initrd= outdir= smp=2 mem=2G timeout=600 append= disk_mb=256 live=
usage() { sed -n '4,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=$2; shift 2 ;;
	--initramfs) initrd=$2; shift 2 ;;
	--results) outdir=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--append) append=$2; shift 2 ;;
	--disk-mb) disk_mb=$2; shift 2 ;;
	--live) live=1; shift ;;
	*) usage ;;
	esac
done
[ -n "$kernel" ] && [ -n "$initrd" ] && [ -n "$outdir" ] || usage
[ -d "$kernel" ] && kernel=$kernel/Image
for f in "$kernel" "$initrd"; do
	[ -f "$f" ] || { echo "run-qemu.sh: $f missing" >&2; exit 1; }
done

mkdir -p "$outdir"
disk=$outdir/results.disk
console=$outdir/console.log
rm -f "$disk" "$console"
truncate -s "${disk_mb}M" "$disk"
printf 'LZTRDISK' | dd of="$disk" conv=notrunc status=none

cmd=(qemu-system-riscv64 -machine virt -cpu rv64,h=true -smp "$smp" -m "$mem"
	-nographic -monitor none -bios default -no-reboot
	-kernel "$kernel" -initrd "$initrd"
	-append "console=ttyS0 earlycon=sbi panic=-1 rdinit=/init $append"
	-drive "file=$disk,format=raw,if=none,id=results,cache=writeback"
	-device virtio-blk-device,drive=results)

t0=$(date +%s.%N)
set +e
if [ -n "$live" ]; then
	timeout -k 5 "$timeout" "${cmd[@]}" </dev/null 2>&1 | tee "$console" |
		grep --line-buffered -a '^lazytop-init:'
	rc=${PIPESTATUS[0]}
else
	timeout -k 5 "$timeout" "${cmd[@]}" </dev/null >"$console" 2>&1
	rc=$?
fi
set -e
el=$(echo "$(date +%s.%N) - $t0" | bc)
el=$(printf '%.1f' "$el")

if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
	echo "run-qemu.sh: guest timed out after ${timeout}s (see $console)" >&2
	exit 1
fi
if [ "$rc" != 0 ]; then
	echo "run-qemu.sh: qemu exited with status $rc after ${el}s (see $console)" >&2
	exit 1
fi
if ! msg=$(python3 "$top/tests/e2e/extract-results.py" "$disk" "$outdir" 2>&1); then
	why=
	grep -q 'Kernel panic' "$console" && why=" (kernel panic, see $console)"
	echo "run-qemu.sh: $msg$why" >&2
	exit 1
fi
echo "run-qemu.sh: guest done in ${el}s, $msg in $outdir" >&2
