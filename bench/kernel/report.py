#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""bench-kernel report: OUT/raw/c<N>-<variant>-<boot>/ (run-scenario.sh
plain), OUT/d1/ (run-d1-cost.sh) and OUT/reload/ (run-reload.sh) ->
OUT/kernel.md, OUT/kernel.json.

usage: report.py OUT CONFIG...
Per boot: mean over guest iterations after the first (dirty memory, clear
dirty log) and the populate time; per variant: median over boots;
ratio = patched median / base median.
"""
import glob
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "e2e", "demo"))
import lzdemo  # noqa: E402

TARGETS = {"dirty_s": ("<=", 0.45), "clear_s": ("<=", 0.5), "populate_s": ("~", 1.0)}


def boot_figures(d):
    p = lzdemo.perf(lzdemo.read(os.path.join(d, "vmm.stdout")))
    ok = lzdemo.job_ok(d, "vmm")
    m = lambda xs: statistics.fmean(xs) if xs else None
    return ok, {"dirty_s": m(p["dirty_after_first_s"]), "clear_s": m(p["clear_after_first_s"]),
                "populate_s": m(p["populate_s"])}


def main():
    out, configs = sys.argv[1], sys.argv[2:]
    res = {"configs": [], "vcpu_load": None}
    md = ["# bench-kernel: base vs patched riscv64 KVM (QEMU TCG, rv64 h=true, 2 vCPUs, 2G)", "",
          "dirty_log_perf_test alone (no kvm-lazytop, no tracing), non-debug kernels, boots interleaved.",
          "Per boot: mean over iterations after the first; table: median over boots; ratio patched/base.", ""]
    for ci, cfg in enumerate(configs, 1):
        c = {"args": cfg, "boots": {}, "median": {}, "ratio": {}, "target": {}}
        for v in ("base", "patched"):
            rows = []
            for d in sorted(glob.glob(os.path.join(out, "raw", "c%d-%s-*" % (ci, v)))):
                if not os.path.isdir(d):
                    continue
                ok, f = boot_figures(d)
                rows.append(dict(f, ok=ok, dir=os.path.basename(d)))
            c["boots"][v] = rows
            good = [r for r in rows if r["ok"]]
            c["median"][v] = {k: (statistics.median([r[k] for r in good if r[k] is not None])
                                  if any(r[k] is not None for r in good) else None)
                              for k in TARGETS}
        md += ["## `dirty_log_perf_test %s`" % cfg, "",
               "| metric | base | patched | patched/base | target | met |", "|---|---|---|---|---|---|"]
        for k, label in (("dirty_s", "dirty memory time / iter"), ("clear_s", "clear dirty log time / iter"),
                         ("populate_s", "populate time")):
            b, p = c["median"]["base"][k], c["median"]["patched"][k]
            r = p / b if b and p is not None else None
            op, t = TARGETS[k]
            met = None if r is None else (r <= t if op == "<=" else 0.9 <= r <= 1.1)
            c["ratio"][k] = r
            c["target"][k] = {"op": op, "value": t, "met": met}
            md.append("| %s | %s | %s | %s | %s | %s |" % (
                label, "-" if b is None else "%.3fs" % b, "-" if p is None else "%.3fs" % p,
                "-" if r is None else "%.2fx" % r, ("<= %.2fx" % t) if op == "<=" else "unchanged (0.9-1.1x)",
                {None: "n/a", True: "hit", False: "MISS"}[met]))
        n = {v: "%d/%d ok" % (sum(r["ok"] for r in c["boots"][v]), len(c["boots"][v])) for v in c["boots"]}
        md += ["", "boots: base %s, patched %s" % (n["base"], n["patched"]), ""]
        res["configs"].append(c)
    # D1 fix cost: bench/kernel/run-d1-cost.sh's own report
    dj, dm = os.path.join(out, "d1", "d1.json"), os.path.join(out, "d1", "d1.md")
    if os.path.exists(dj) and os.path.exists(dm):
        res["d1_cost"] = json.load(open(dj))
        md += [""] + lzdemo.read(dm).rstrip("\n").split("\n")
    else:
        md += ["", "D1 fix cost: no data (run-d1-cost.sh failed, see d1.log)."]
    # vcpu_load cost per reason: bench/kernel/run-reload.sh's own report
    rj, rm = os.path.join(out, "reload", "reload.json"), os.path.join(out, "reload", "reload.md")
    if os.path.exists(rj) and os.path.exists(rm):
        res["vcpu_load"] = json.load(open(rj))
        md += [""] + lzdemo.read(rm).rstrip("\n").split("\n")
    else:
        md += ["vcpu_load per reason: no data (run-reload.sh failed, see reload.log)."]
    with open(os.path.join(out, "kernel.json"), "w") as f:
        json.dump(res, f, indent=1)
    with open(os.path.join(out, "kernel.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
