#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""report-arm64.py OUTDIR BOOTS - tables for bench/kernel/run-bench-arm64.sh.

Reads OUTDIR/raw/<variant>-<boot>.console.log ("BENCH: <workload> n=..
median_ns=.. p10_ns=.. p90_ns=.." lines from kvm_exit_bench) and writes
OUTDIR/kernel-arm64.md and OUTDIR/kernel-arm64.json. Per workload: the
median over boots of each variant's per-boot median, and the median of
the per-boot-pair ratios patched/base (boot b of each variant ran back
to back). Exit 1 if no boot pair produced every workload.
"""
import json
import os
import re
import statistics
import sys

WORKLOADS = [
    ("hvc", "HVC trap exit handled in the host kernel, ns per round trip"),
    ("mmio", "MMIO exit to user space, ns per KVM_RUN"),
    ("ipi", "IPI to the CPU running the guest (interrupt exit), ns per membarrier()"),
    ("ipi-idle", "IPI to a CPU spinning in user space (no guest), ns per membarrier()"),
    ("ipi-exit", "ipi - ipi-idle p10 (same chunk): the guest's interrupt-exit share of an IPI, ns"),
    ("preempt", "50 us sleep-wake cycle of a thread preempting the vCPU thread (put/load while scheduled out), ns"),
]
LINE = re.compile(r"^BENCH: (\S+) n=(\d+) median_ns=(\d+) p10_ns=(\d+) p90_ns=(\d+)")


def parse(path):
    """Per workload, the median over the boot's chunks of the chunk
    medians ("median_ns") and of the chunk p10s ("p10_ns")."""
    chunks = {}
    if not os.path.isfile(path):
        return {}, False
    with open(path, errors="replace") as f:
        text = f.read()
    idle = None
    for line in text.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        w, med, p10 = m.group(1), int(m.group(3)), int(m.group(4))
        chunks.setdefault(w, []).append((med, p10))
        # ipi-idle and ipi come from the same process, back to back; the
        # idle p10 is the IPI cost without a guest (its median is at the
        # mercy of the host descheduling QEMU's vCPU threads)
        if w == "ipi-idle":
            idle = p10
        elif w == "ipi" and idle is not None:
            chunks.setdefault("ipi-exit", []).append((med - idle, p10 - idle))
            idle = None
    res = {w: {"median_ns": statistics.median(v[0] for v in c),
               "p10_ns": statistics.median(v[1] for v in c),
               "chunks": len(c)}
           for w, c in chunks.items()}
    pkvm = bool(re.search(r"Protected [hn]VHE mode initialized successfully", text))
    return res, pkvm


def main():
    out, boots = sys.argv[1], int(sys.argv[2])
    info = {}
    if os.path.isfile(f"{out}/raw/info"):
        with open(f"{out}/raw/info") as f:
            info = dict(l.rstrip("\n").split("=", 1) for l in f if "=" in l)
    runs = {v: [] for v in ("base", "patched")}
    problems = []
    for b in range(1, boots + 1):
        for v in runs:
            res, pkvm = parse(f"{out}/raw/{v}-{b}.console.log")
            if not pkvm:
                problems.append(f"boot {b} {v}: no pKVM line")
            missing = [w for w, _ in WORKLOADS if w not in res]
            if missing:
                problems.append(f"boot {b} {v}: missing {' '.join(missing)}")
            runs[v].append(res if pkvm else {})

    table = {}
    for w, what in WORKLOADS:
        t = {"what": what}
        for stat, tag in (("median_ns", ""), ("p10_ns", "p10_")):
            pairs = [(bres[w][stat], pres[w][stat])
                     for bres, pres in zip(runs["base"], runs["patched"])
                     if w in bres and w in pres and bres[w][stat] > 0]
            base = [r[w][stat] for r in runs["base"] if w in r]
            pat = [r[w][stat] for r in runs["patched"] if w in r]
            ratios = [p / b for b, p in pairs]
            t.update({
                f"base_{tag}ns_per_boot": base,
                f"patched_{tag}ns_per_boot": pat,
                f"base_{tag}median_ns": statistics.median(base) if base else None,
                f"patched_{tag}median_ns": statistics.median(pat) if pat else None,
                f"{tag}ratio_per_pair": [round(r, 4) for r in ratios],
                f"{tag}ratio_median": round(statistics.median(ratios), 4) if ratios else None,
            })
            if not tag:
                t["pairs"] = len(pairs)
        table[w] = t

    note = "TCG timing: indicative only"
    doc = {
        "benchmark": "arm64 pKVM exit round trip, base vs patched",
        "note": note,
        "tcg_indicative_only": True,
        "boots_per_variant": boots,
        "interleaved": "boot b runs base then patched for odd b, patched then base for even b",
        "info": info,
        "workloads": table,
        "problems": problems,
    }
    with open(f"{out}/kernel-arm64.json", "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")

    def ns(x):
        return "-" if x is None else f"{x:,.0f}"

    md = ["# arm64 pKVM world-switch cost: base vs patched", "",
          f"{note}: QEMU TCG ({info.get('qemu', '?')}) on a shared "
          f"{info.get('host_cpus', '?')}-core host (load average at the end "
          f"{info.get('loadavg', '?')}); emulated exits cost what TCG makes them "
          "cost, not what hardware would. Only the ratios between kernels measured "
          "back to back mean anything, and only roughly.", "",
          f"{boots} boots per variant, interleaved; no tracing in these boots. "
          f"kvm_exit_bench arguments: {info.get('args', '?')}. A boot's figure is "
          "the median over its chunks of each chunk's median; the ratio is the median "
          "over boot pairs of patched/base. The p10 column does the same with each "
          "chunk's 10th percentile: the least disturbed samples, less exposed to "
          "host load.", "",
          "| workload | what | base median ns | patched median ns | ratio patched/base (median of pairs) | per-pair ratios | p10 ratio |",
          "|---|---|---|---|---|---|---|"]

    def r3(x):
        return "-" if x is None else f"{x:.3f}"
    for w, _ in WORKLOADS:
        t = table[w]
        pairs = " ".join(f"{r:.3f}" for r in t["ratio_per_pair"])
        md.append(f"| {w} | {t['what']} | {ns(t['base_median_ns'])} | {ns(t['patched_median_ns'])} "
                  f"| {r3(t['ratio_median'])} | {pairs} | {r3(t['p10_ratio_median'])} |")
    md += ["", "Per-boot figures (ns, median of chunk medians):", ""]
    for w, _ in WORKLOADS:
        t = table[w]
        md.append(f"- {w}: base {[round(x) for x in t['base_ns_per_boot']]}, "
                  f"patched {[round(x) for x in t['patched_ns_per_boot']]}")
    if problems:
        md += ["", "Problems:", ""] + [f"- {p}" for p in problems]
    with open(f"{out}/kernel-arm64.md", "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))
    if not any(table[w]["pairs"] for w, _ in WORKLOADS):
        print("report-arm64.py: no boot pair produced results", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
