#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Report of bench/kernel/run-reload.sh: OUT/boot/{bare,win}-MODE-R.stdout
and OUT/boot/load-MODE-R.txt -> OUT/reload.md, OUT/reload.json.

usage: report-reload.py OUT REPS ROUNDS

Per mode and repetition: the vCPU stats delta (which reload the rounds
took), the exact p50/p90 of kvm_arch_vcpu_load (fentry -> fexit, no
program inside the window) and the user-space KVM_RUN ioctl p50 of the
bare run.  Per mode: the median over repetitions, with min..max.
"""
import json
import os
import re
import statistics
import sys

MODES = (("same-cpu", "FAST", "fast"), ("csr-dirty", "CSR_DIRTY", "slow"),
         ("other-vcpu", "OTHER_VCPU", "slow"), ("other-pcpu", "OTHER_PCPU", "slow"),
         ("preempt", "FAST (sched_in)", "fast"), ("floor", "-", "floor"),
         ("timer", "part of every load", "part"), ("fp", "part of every load", "part"))
TARGET = 0.7	# FAST p50 <= 0.7x every slow reason's p50


def read(p):
    try:
        with open(p, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def stats_of(text):
    m = re.search(r"stats vcpu_load_fast=(-?\d+) vcpu_load_slow=(-?\d+)", text)
    return (int(m.group(1)), int(m.group(2))) if m else None


def pct(v, q):
    r = max(1, -(-len(v) * q // 100))
    return v[r - 1]


def spread(xs):
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs)} if xs else None


def fmt_us(s):
    if not s:
        return "-"
    return "%.1f us [%.1f..%.1f]" % (s["median"] / 1e3, s["min"] / 1e3, s["max"] / 1e3)


def path_of(m):
    return dict((x[0], x[2]) for x in MODES)[m]


def mode_figures(boot, m, reps):
    f = {"load_p50": [], "load_p90": [], "run_p50": [], "loads": 0, "stats": [], "lost": 0,
         "missing": []}
    for r in range(1, reps + 1):
        lt = read(os.path.join(boot, "load-%s-%d.txt" % (m, r)))
        v = sorted(int(x) for x in re.findall(r"^vcpu_load \d+ (\d+)$", lt, re.M))
        lost = re.search(r"^lost (\d+) (\d+)$", lt, re.M)
        if not v or not lost:
            f["missing"].append("load-%s-%d.txt" % (m, r))
        else:
            f["load_p50"].append(pct(v, 50))
            f["load_p90"].append(pct(v, 90))
            f["loads"] += len(v)
            f["lost"] += int(lost.group(1)) + int(lost.group(2))
        st = stats_of(read(os.path.join(boot, "win-%s-%d.stdout" % (m, r))))
        if st:
            f["stats"].append(st)
        if path_of(m) in ("floor", "part"):
            continue
        b = read(os.path.join(boot, "bare-%s-%d.stdout" % (m, r)))
        rm = re.search(r"kvm_run_ns n=\d+ p10=\d+ p50=(\d+)", b)
        if rm:
            f["run_p50"].append(int(rm.group(1)))
        else:
            f["missing"].append("bare-%s-%d.stdout" % (m, r))
    return f


def main():
    out, reps, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    boot = os.path.join(out, "boot")
    res = {"reps": reps, "rounds": rounds, "modes": {}, "target": TARGET}
    for m, reason, path in MODES:
        f = mode_figures(boot, m, reps)
        fs = sum(s[0] for s in f["stats"])
        sl = sum(s[1] for s in f["stats"])
        res["modes"][m] = {"reason": reason, "path": path, "loads_timed": f["loads"], "lost": f["lost"],
                           "stats_fast": fs, "stats_slow": sl,
                           "share_expected": (fs if path == "fast" else sl) / (fs + sl) if fs + sl > 0 else None,
                           "load_p50": spread(f["load_p50"]), "load_p90": spread(f["load_p90"]),
                           "kvm_run_p50": spread(f["run_p50"]), "missing": f["missing"]}
    fast = res["modes"]["same-cpu"]["load_p50"]
    fast_run = res["modes"]["same-cpu"]["kvm_run_p50"]
    floor = res["modes"]["floor"]["load_p50"]
    fl = floor["median"] if floor else None
    fast_work = fast["median"] - fl if fast and fl is not None else None
    res["floor_p50"] = fl
    md = ["## vcpu_load cost per reason (patched riscv64, QEMU TCG; bench/kernel/run-reload.sh)", "",
          "kvm_arch_vcpu_load fentry -> fexit, no program inside the window, no tracefs event; "
          "reason of each mode from the vCPU stats (vcpu_load_fast/slow) of the same run. "
          "floor: the same fentry/fexit pair around kvm_riscv_vcpu_aia_load(), which returns at once "
          "without AIA: what the measurement adds to every window; work = p50 - floor p50. "
          "timer, fp: the same pair around kvm_riscv_vcpu_timer_restore() and "
          "kvm_riscv_vcpu_guest_fp_restore() in same-cpu runs, two parts of every load, FAST included. "
          "KVM_RUN p50: the same mode without any BPF program, timed in user space. "
          "%d repetitions x %d rounds, median [min..max] of the per-repetition p50." % (reps, rounds), "",
          "| mode | reason | loads timed | stats fast/slow (share) | load p50 | load p90 | "
          "FAST/reason p50 | work p50 | FAST/reason work | KVM_RUN p50, no BPF | KVM_RUN - FAST's |",
          "|---|---|---|---|---|---|---|---|---|---|---|"]
    met_all = True
    for m, x in res["modes"].items():
        p50 = x["load_p50"]["median"] if x["load_p50"] else None
        ratio = fast["median"] / p50 if fast and p50 else None
        work = p50 - fl if p50 is not None and fl is not None and m != "floor" else None
        wratio = (fast_work / work if fast_work is not None and work and work > 0
                  and x["path"] != "part" else None)
        x.update(fast_over_reason_p50=ratio, work_p50=work, fast_over_reason_work=wratio)
        if x["path"] == "slow":
            x["target_met"] = ratio is not None and ratio <= TARGET
            x["target_met_work"] = wratio is not None and wratio <= TARGET
            met_all = met_all and x["target_met"]
        d = (x["kvm_run_p50"]["median"] - fast_run["median"]
             if x["kvm_run_p50"] and fast_run else None)
        x["kvm_run_p50_minus_fast_ns"] = d
        slow = x["path"] == "slow"
        md.append("| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            m, x["reason"], x["loads_timed"],
            "-" if x["path"] in ("floor", "part") else "%d/%d (%s)" % (
                x["stats_fast"], x["stats_slow"],
                "-" if x["share_expected"] is None else "%.1f%%" % (100 * x["share_expected"])),
            fmt_us(x["load_p50"]), fmt_us(x["load_p90"]),
            "-" if ratio is None or x["path"] in ("floor", "part") else "%.2fx%s" % (
                ratio, "" if not slow else (" met" if x["target_met"] else " MISSED")),
            "-" if work is None else "%.2f us" % (work / 1e3),
            "-" if wratio is None else "%.2fx%s" % (
                wratio, "" if not slow else (" met" if x["target_met_work"] else " MISSED")),
            fmt_us(x["kvm_run_p50"]), "-" if d is None else "%+.1f us" % (d / 1e3)))
    res["target_met"] = met_all
    missing = [f for x in res["modes"].values() for f in x["missing"]]
    md += ["", "Target: FAST (same-cpu) p50 <= %.1fx the p50 of every slow reason: %s." % (
        TARGET, "met" if met_all else "MISSED")]
    if missing:
        md.append("Missing results: %s" % ", ".join(missing))
    with open(os.path.join(out, "reload.json"), "w") as f:
        json.dump(res, f, indent=1)
    with open(os.path.join(out, "reload.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))
    sys.exit(1 if missing else 0)


if __name__ == "__main__":
    main()
