#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Does the collector's cost grow with the number of possible CPUs?  Boots
# the patched riscv64 kernel under QEMU with 2 and with 64 CPUs
# (CONFIG_NR_CPUS=64 in kernel/configs: every CPU QEMU creates is a
# possible CPU) and runs `kl-bench scale` in each: one collection
# interval over maps filled with VMS VMs x VCPUS vCPUs, and the kernel
# memory charged to the maps (memlock), in total and for the per-CPU
# maps alone.  Prints a table; not a test (`make bench-cpus`).
#
# usage: run-bench-cpus.sh OUTDIR
# env:   CPUS_LIST ("2 64"), CPUS_VMS (64), CPUS_VCPUS (16), CPUS_REPS (3)
set -euo pipefail
{
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
out=${1:?usage: run-bench-cpus.sh OUTDIR}
klb=$top/build/riscv64/kl-bench
vms=${CPUS_VMS:-64} vcpus=${CPUS_VCPUS:-16} reps=${CPUS_REPS:-3}
die() { echo "run-bench-cpus.sh: $*" >&2; exit 1; }
[ -x "$klb" ] || die "$klb missing (make bench-guest-build)"
mkdir -p "$out"
for n in ${CPUS_LIST:-2 64}; do
	[[ "$n" =~ ^[1-9][0-9]*$ ]] && [ "$n" -le 64 ] || die "CPU count '$n' not in 1..64 (CONFIG_NR_CPUS)"
	body=$out/cpus-$n.scn
	echo "run --name scale --timeout 900 -- kl-bench scale -r $reps -v $vcpus $vms" >"$body"
	echo "  BENCH    $n CPUs: kl-bench scale -r $reps -v $vcpus $vms" >&2
	LZ_SMP=$n "$top/tests/e2e/demo/run-scenario.sh" custom patched "$out/boot-$n" --body "$body" \
		--extra "$klb" --timeout 1200 2>"$out/boot-$n.err" ||
		die "boot with $n CPUs failed: $(tail -n 1 "$out/boot-$n.err")"
done
python3 - "$out" ${CPUS_LIST:-2 64} <<'PY'
import json, os, sys
out, ns = sys.argv[1], sys.argv[2:]
rows = []
for n in ns:
    try:
        d = json.load(open(os.path.join(out, "boot-%s" % n, "scale.stdout")))
    except (OSError, ValueError) as e:
        sys.exit("run-bench-cpus.sh: no kl-bench result for %s CPUs: %s" % (n, e))
    p = d["points"][0]
    rows.append((int(d["ncpus"]), p["vms"], d["vcpus_per_vm"], p.get("interval_ms"),
                 p.get("stages_ms", {}).get("read_maps"), p["maps_memlock_bytes"],
                 p["percpu_maps_memlock_bytes"]))
print("| possible CPUs | VMs x vCPUs | interval | read_maps | maps (memlock) | of which per-CPU maps |")
print("|---|---|---|---|---|---|")
for r in rows:
    print("| %d | %d x %d | %.1f ms | %.1f ms | %.2f MiB | %.1f KiB |" % (
        r[0], r[1], r[2], r[3], r[4] or 0, r[5] / 2**20, r[6] / 2**10))
if len(rows) > 1:
    a, b = rows[0], rows[-1]
    print("\n%dx the CPUs: interval %.2fx, map memory %.3fx (+%.1f KiB, all per-CPU maps)" % (
        b[0] / a[0], b[3] / a[3], b[5] / a[5], (b[5] - a[5]) / 2**10))
PY
}
