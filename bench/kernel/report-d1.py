#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Report of bench/kernel/run-d1-cost.sh: OUT/{patched,nod1}-B/ -> OUT/d1.md,
OUT/d1.json.  usage: report-d1.py OUT BOOTS ARGS

Per boot: mean over the iterations after the first (as bench-kernel);
per kernel: median over boots, with min..max; cost = patched / nod1 - 1.
"""
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "e2e", "demo"))
import lzdemo  # noqa: E402

LIMIT = 0.02	# the fix may cost at most 2% of dirty memory time


def main():
    out, boots, args = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    res = {"args": args, "boots": boots, "kernels": {}, "limit": LIMIT}
    for v in ("patched", "nod1"):
        rows = []
        for b in range(1, boots + 1):
            d = os.path.join(out, "%s-%d" % (v, b))
            p = lzdemo.perf(lzdemo.read(os.path.join(d, "vmm.stdout")))
            if lzdemo.job_ok(d, "vmm") and p["dirty_after_first_s"]:
                rows.append({"dirty_s": statistics.fmean(p["dirty_after_first_s"]),
                             "clear_s": statistics.fmean(p["clear_after_first_s"] or [0])})
        res["kernels"][v] = {"ok": len(rows), "boots": rows,
                             "dirty_s": [r["dirty_s"] for r in rows]}
    pd, nd = res["kernels"]["patched"]["dirty_s"], res["kernels"]["nod1"]["dirty_s"]
    md = ["## What the D1 fix costs (`dirty_log_perf_test %s`, %d interleaved boots per kernel)" % (args, boots), "",
          "patched: the series; nod1: the series with only the D1 fix taken out "
          "(kernel/mutants/riscv/08-d1-migration-flush.patch), both non-debug. "
          "Dirty memory time per iteration after the first: median [min..max] over boots.", ""]
    if pd and nd:
        mp, mn = statistics.median(pd), statistics.median(nd)
        cost = mp / mn - 1
        res.update(patched_s=mp, nod1_s=mn, cost=cost, met=cost <= LIMIT)
        md += ["| kernel | boots ok | dirty memory / iter |", "|---|---|---|",
               "| nod1 (before the fix) | %d/%d | %.3f s [%.3f..%.3f] |" % (len(nd), boots, mn, min(nd), max(nd)),
               "| patched (after) | %d/%d | %.3f s [%.3f..%.3f] |" % (len(pd), boots, mp, min(pd), max(pd)),
               "", "D1 fix cost: %+.1f%% of dirty memory time (limit +%.0f%%): %s" % (
                   100 * cost, 100 * LIMIT, "met" if cost <= LIMIT else "MISSED")]
    else:
        res["met"] = None
        md.append("no data: a kernel's boots all failed (see OUT/*.err)")
    with open(os.path.join(out, "d1.json"), "w") as f:
        json.dump(res, f, indent=1)
    with open(os.path.join(out, "d1.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))
    sys.exit(0 if pd and nd else 1)


if __name__ == "__main__":
    main()
