#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Kernel benchmark: base vs patched riscv64 kernels (non-debug) under QEMU,
# dirty_log_perf_test alone (no kvm-lazytop, no tracing) in interleaved
# boots, plus one patched boot of run-reload.sh for the vcpu_load cost per
# reason (no program inside the timed window).  Writes OUT/kernel.md and
# OUT/kernel.json (the reload part also OUT/reload/reload.{md,json}).
#
# usage: run-bench.sh OUTDIR
# env:   BENCH_BOOTS (3)  boots per variant and configuration
#        BENCH_CONFIGS    ';'-separated dirty_log_perf_test argument sets
#                         (default "-v 4 -b 64M -i 5 -m 0;-v 4 -b 256M -i 3 -m 0")
#        BENCH_TIMEOUT (1800) per boot
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${1:?usage: run-bench.sh OUTDIR}
boots=${BENCH_BOOTS:-3}
IFS=';' read -r -a configs <<<"${BENCH_CONFIGS:--v 4 -b 64M -i 5 -m 0;-v 4 -b 256M -i 3 -m 0}"
tmo=${BENCH_TIMEOUT:-1800}
run=$top/tests/e2e/demo/run-scenario.sh
mkdir -p "$out/raw"
say() { printf '  %-8s %s\n' BENCH "$*" >&2; }

ci=0
for cfg in "${configs[@]}"; do
	ci=$((ci + 1))
	for b in $(seq 1 "$boots"); do
		# interleave, alternating which variant goes first
		if [ $((b % 2)) -eq 1 ]; then order="base patched"; else order="patched base"; fi
		for v in $order; do
			d=$out/raw/c$ci-$v-$b
			say "config $ci ($cfg) boot $b/$boots $v"
			if "$run" plain "$v" "$d" --dirty-args "$cfg" --timeout "$tmo" 2>"$d.err"; then :; else
				say "boot failed: $(tail -n 1 "$d.err")"; fi
			echo "$cfg" >"$d.cfg" 2>/dev/null || true
		done
	done
done
say "vcpu_load cost per reason (patched, bench/kernel/run-reload.sh)"
"$here/run-reload.sh" "$out/reload" >"$out/reload.log" 2>&1 ||
	say "reload boot failed: $(tail -n 1 "$out/reload.log")"
say "D1 fix cost (patched vs the series without it, bench/kernel/run-d1-cost.sh)"
"$here/run-d1-cost.sh" "$out/d1" >"$out/d1.log" 2>&1 ||
	say "D1 cost run failed: $(tail -n 1 "$out/d1.log")"
python3 "$here/report.py" "$out" "${configs[@]}"
