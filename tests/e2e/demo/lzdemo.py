#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""kvm-lazytop riscv64 demo: side-by-side summary and the check-riscv-e2e
assertions, from result directories written by run-scenario.sh.

  lzdemo.py summary BASE_DIR PATCHED_DIR          side-by-side table (stdout)
  lzdemo.py paired BASE_DIR PATCHED_DIR           make demo: kernel effect (tool
                                                 detached) and tool effect, from
                                                 run-scenario.sh paired dirs
  lzdemo.py check --dirty-patched D --dirty-base D --reload-patched D
                  --filter-patched D [--reload-base D]
  lzdemo.py perf FILE                            dirty_log_perf_test figures (JSON)
"""
import json
import os
import re
import statistics
import subprocess
import sys

LOAD_REASONS = ["fast", "first_load", "other_pcpu", "csr_dirty", "cpu_reset", "other_vcpu"]
FAULT_REASONS = ["fast", "spurious", "not_write", "not_logging", "no_leaf", "huge_leaf",
                 "not_host_writable", "inval_retry", "pte_changed", "retry_limit"]


def read(path, default=""):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return default


def snapshot(d, job="lazytop-vmm"):
    txt = read(os.path.join(d, job + ".stdout"))
    if not txt.strip():
        return None
    return json.loads(txt)


def vm_of(snap, pid=None):
    if not snap or not snap.get("vms"):
        return None
    if pid is None:
        pid = snap.get("target", {}).get("pid")
    for v in snap["vms"]:
        if pid is None or v.get("pid") == pid:
            return v
    return None


def perf(text):
    """Parse dirty_log_perf_test output (one or more guest modes)."""
    modes = re.findall(r"^Testing guest mode: (.*)$", text, re.M)
    f = lambda pat: [float(x) for x in re.findall(pat, text, re.M)]
    dirty = [(int(i), float(t)) for i, t in
             re.findall(r"^Iteration (\d+) dirty memory time: ([\d.]+)s", text, re.M)]
    clear = [(int(i), float(t)) for i, t in
             re.findall(r"^Iteration (\d+) clear dirty log time: ([\d.]+)s", text, re.M)]
    after1 = lambda xs: [t for i, t in xs if i > 1]
    return {
        "modes": modes,
        "populate_s": f(r"^Populate memory time: ([\d.]+)s"),
        "enable_s": f(r"^Enabling dirty logging time: ([\d.]+)s"),
        "dirty_s": [t for _, t in dirty],
        "dirty_after_first_s": after1(dirty),
        "clear_s": [t for _, t in clear],
        "clear_after_first_s": after1(clear),
        "iterations": max([i for i, _ in dirty], default=0),
    }


def mean(xs):
    return statistics.fmean(xs) if xs else None


def fmt_s(x):
    return "-" if x is None else ("%.3fs" % x if x >= 0.1 else "%.1fms" % (x * 1e3))


def fmt_ns(x):
    if x is None:
        return "-"
    for unit, div in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if x >= div:
            return "%.1f%s" % (x / div, unit)
    return "%dns" % x


def hist(v, name):
    h = (v or {}).get("histograms", {}).get(name)
    return h


def hist_str(v, name, unav):
    if name in unav:
        return "unavailable"
    h = hist(v, name)
    if not h:
        return "-"
    if not h["count"]:
        return "empty"
    return "%s / %s (n=%d)" % (fmt_ns(h["p50"]), fmt_ns(h["p99"]), h["count"])


def side(d):
    snap = snapshot(d)
    v = vm_of(snap)
    p = perf(read(os.path.join(d, "vmm.stdout")))
    return snap, v, p


def summary(base_dir, patched_dir, out=sys.stdout):
    cols = []
    for label, d in (("base", base_dir), ("patched", patched_dir)):
        snap, v, p = side(d)
        cols.append((label, snap, v, p))
    rows = []

    def row(name, fn):
        vals = []
        for label, snap, v, p in cols:
            try:
                vals.append(fn(snap, v, p))
            except (KeyError, TypeError, ZeroDivisionError):
                vals.append("-")
        rows.append((name, vals))

    c = lambda v: (v or {}).get("counters", {})
    unav = lambda s: set((s or {}).get("unavailable", []))
    row("guest modes run", lambda s, v, p: str(len(p["modes"])))
    row("populate time", lambda s, v, p: fmt_s(mean(p["populate_s"])))
    row("dirty memory time / iter", lambda s, v, p: fmt_s(mean(p["dirty_s"])))
    row("  iterations after the 1st", lambda s, v, p: fmt_s(mean(p["dirty_after_first_s"])))
    row("clear dirty log time / iter", lambda s, v, p: fmt_s(mean(p["clear_s"])))
    row("probes (series tracepoints)", lambda s, v, p: ", ".join(
        "%s=%s" % (k.replace("kvm_riscv_", ""), s["probes"].get(k, "?"))
        for k in ("kvm_riscv_gstage_fault", "kvm_riscv_vcpu_load")))

    def hit(s, v, p):
        cc = c(v)
        if "gstage_fault_fast" not in cc:
            return "n/a (gstage_fault tracepoint missing)"
        tot = sum(cc.get("gstage_fault_" + r, 0) for r in FAULT_REASONS)
        fast = cc["gstage_fault_fast"] + cc["gstage_fault_spurious"]
        return "%.1f%% (%d of %d faults)" % (100.0 * fast / tot, fast, tot) if tot else "no faults"
    row("fast-path hit rate", hit)

    def slow(s, v, p):
        cc = c(v)
        if "gstage_fault_fast" not in cc:
            return "n/a"
        parts = ["%s %d" % (r.upper(), cc["gstage_fault_" + r]) for r in FAULT_REASONS[2:]
                 if cc.get("gstage_fault_" + r)]
        return ", ".join(parts) or "none"
    row("slow-path reasons", slow)
    row("store faults (exit-based)", lambda s, v, p: str(hist(v, "fault_latency_ns")["count"]))
    row("fault latency p50/p99 all", lambda s, v, p: hist_str(v, "fault_latency_ns", unav(s)))
    row("  fast path", lambda s, v, p: hist_str(v, "fault_latency_fast_ns", unav(s)))
    row("  slow path", lambda s, v, p: hist_str(v, "fault_latency_slow_ns", unav(s)))

    def loads(s, v, p):
        cc = c(v)
        if "vcpu_load_fast" not in cc:
            return "n/a (vcpu_load tracepoint missing)"
        return ", ".join("%s %d" % (r.upper(), cc["vcpu_load_" + r]) for r in LOAD_REASONS
                         if cc.get("vcpu_load_" + r)) or "none"
    row("vcpu_load reasons", loads)
    row("reload prediction", lambda s, v, p: "same_cpu %d, migrated %d, other_vcpu %d%s" % (
        c(v)["reload_pred_same_cpu"], c(v)["reload_pred_migrated"], c(v)["reload_pred_other_vcpu"],
        "" if not v.get("prediction") or v["prediction"].get("agreement") is None
        else ", agreement %.1f%%" % (100 * v["prediction"]["agreement"])))
    row("vcpu_load latency p50/p99", lambda s, v, p: hist_str(v, "vcpu_load_ns", unav(s)))
    row("kvm-lazytop BPF time", lambda s, v, p: "%s (%d events, %.1fus/event)" % (
        fmt_ns(s["overhead"]["bpf_run_time_ns"]), s["overhead"]["bpf_events"],
        s["overhead"]["bpf_run_time_ns"] / max(1, s["overhead"]["bpf_events"]) / 1e3))
    row("kvm-lazytop collector", lambda s, v, p: "%.2f%% CPU, max RSS %d kB, drops %d" % (
        s["overhead"]["collector_cpu_pct"], s["overhead"]["collector_maxrss_kb"],
        sum(s["overhead"]["drops"].values())))
    w0 = max(len(r[0]) for r in rows)
    w1 = max([len("base")] + [len(r[1][0]) for r in rows])
    print("%-*s  %-*s  %s" % (w0, "", w1, "base", "patched"), file=out)
    for name, vals in rows:
        print("%-*s  %-*s  %s" % (w0, name, w1, vals[0], vals[1]), file=out)
    bp, pp = cols[0][3], cols[1][3]
    for what, key in (("dirty memory time", "dirty_after_first_s"), ("clear dirty log time", "clear_after_first_s"),
                      ("populate time", "populate_s")):
        b, q = mean(bp[key]), mean(pp[key])
        if b and q:
            print("patched/base %-22s %.2fx" % (what, q / b), file=out)


# ------------------------------------------------------- paired (make demo)

# Write faults the fast path is meant for: on a write-protected 4K leaf
# while dirty logging is on.  The rest are listed apart: populate faults
# (logging off, or no leaf yet), reads, and huge leaves.
WP_FAULTS = ["fast", "spurious", "not_host_writable", "inval_retry", "pte_changed",
             "retry_limit"]
OTHER_FAULTS = ["not_logging", "no_leaf", "not_write", "huge_leaf"]

# The tool's own programs that run inside each latency window (upper bound:
# each program's whole ns/event, where only part of it is inside).
WINDOW_PROGS = {
    "fault_latency_fast_ns": ("kvm_exit", "kvm_riscv_gstage_fault", "kvm_entry"),
    "fault_latency_slow_ns": ("kvm_exit", "kvm_riscv_gstage_fault", "kvm_entry"),
    "vcpu_load_ns": ("fentry_vcpu_load", "kvm_riscv_vcpu_load"),
}


def reps_of(d):
    out = []
    r = 1
    while os.path.exists(os.path.join(d, "plain-%d.stdout" % r)):
        out.append(r)
        r += 1
    return out


def arm(d, name, r):
    p = perf(read(os.path.join(d, "%s-%d.stdout" % (name, r))))
    return mean(p["dirty_after_first_s"]), mean(p["clear_after_first_s"]), mean(p["populate_s"])


def spread(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "-"
    return "%.2fx [%.2f..%.2f]" % (statistics.fmean(xs), min(xs), max(xs))


def window_cost(snap, hname):
    """us/event of the tool's programs inside the window of histogram hname."""
    if not snap:
        return None
    sigs = WINDOW_PROGS.get(hname, ())
    tot = 0.0
    for pr in snap.get("overhead", {}).get("programs", []):
        if pr.get("signal") in sigs and pr.get("run_cnt"):
            tot += pr.get("ns_per_event", 0.0)
    return tot


def paired(base_dir, patched_dir, out=sys.stdout):
    sides = {"base": base_dir, "patched": patched_dir}
    reps = {k: reps_of(d) for k, d in sides.items()}
    if not reps["base"] or reps["base"] != reps["patched"]:
        print("lzdemo.py: paired runs missing or unequal: base %s, patched %s"
              % (reps["base"], reps["patched"]), file=sys.stderr)
        return 1
    rs = reps["base"]
    fig = {}
    for k, d in sides.items():
        fig[k] = {a: [arm(d, a, r) for r in rs] for a in ("plain", "vmm")}
        for a in ("plain", "vmm"):
            if any(x[0] is None for x in fig[k][a]):
                print("lzdemo.py: %s: a %s run printed no dirty memory time (see %s)"
                      % (k, a, d), file=sys.stderr)
                return 1
    w = lambda *c: print("  %-32s %-28s %-28s %s" % c, file=out)
    print("Kernel effect, kvm-lazytop DETACHED (%d interleaved runs per kernel; "
          "mean [min..max] of the per-run ratios)" % len(rs), file=out)
    w("", "base", "patched", "patched/base")
    for i, what in ((0, "dirty memory time / iter (2..N)"), (1, "clear dirty log time / iter"),
                    (2, "populate time")):
        b = [x[i] for x in fig["base"]["plain"]]
        q = [x[i] for x in fig["patched"]["plain"]]
        ratios = [y / x if x and y else None for x, y in zip(b, q)]
        w(what, fmt_s(mean(b)), fmt_s(mean(q)), spread(ratios))
    print("\nTool effect, dirty memory time ATTACHED / DETACHED (same boot, paired runs)", file=out)
    w("", "base", "patched", "")
    tool = {}
    for k in sides:
        tool[k] = spread([v[0] / p[0] for p, v in zip(fig[k]["plain"], fig[k]["vmm"])])
    w("slowdown with kvm-lazytop attached", tool["base"], tool["patched"], "")
    b = [x[0] for x in fig["base"]["vmm"]]
    q = [x[0] for x in fig["patched"]["vmm"]]
    w("patched/base as seen attached", "", "", spread([y / x for x, y in zip(b, q)]))

    snaps = {k: snapshot(d, "lazytop-vmm-%d" % rs[-1]) for k, d in sides.items()}
    vms = {k: vm_of(s) for k, s in snaps.items()}
    print("\nFast path (kvm-lazytop attached, run %d)" % rs[-1], file=out)
    w("", "base", "patched", "")

    def cell(k, fn):
        cc = (vms[k] or {}).get("counters", {})
        if "gstage_fault_fast" not in cc:
            return "n/a (no tracepoint)"
        return fn(cc)

    def share(cc):
        tot = sum(cc.get("gstage_fault_" + r, 0) for r in WP_FAULTS)
        return "%.1f%% (%d/%d)" % (100.0 * cc["gstage_fault_fast"] / tot, cc["gstage_fault_fast"],
                                   tot) if tot else "no such faults"
    print("  FAST = share of the write faults on write-protected 4K leaves under dirty logging;\n"
          "  populate faults (logging off, no leaf yet), reads and huge leaves are listed apart",
          file=out)
    w("FAST share", cell("base", share), cell("patched", share), "")
    for r in WP_FAULTS[1:] + OTHER_FAULTS:
        label = ("  apart: " if r in OTHER_FAULTS else
                 "  also fast: " if r == "spurious" else "  not fast: ") + r
        w(label, cell("base", lambda c: str(c.get("gstage_fault_" + r, 0))),
          cell("patched", lambda c: str(c.get("gstage_fault_" + r, 0))), "")

    print("\nLatency p50 / p99; tool = the tool's own programs inside that window, "
          "per event (upper bound)", file=out)
    w("", "base", "patched", "")
    for hname, label in (("fault_latency_fast_ns", "G-stage fault, fast path"),
                         ("fault_latency_slow_ns", "G-stage fault, slow path"),
                         ("vcpu_load_ns", "vcpu_load")):
        cells = []
        for k in sides:
            unav = set((snaps[k] or {}).get("unavailable", []))
            c = window_cost(snaps[k], hname)
            h = hist_str(vms[k], hname, unav)
            cells.append(h.replace(" (n=", "; tool %s (n=" % fmt_ns(c)) if c else h)
        w(label, cells[0], cells[1], "")
    return 0


# ---------------------------------------------------------------- checks

class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def ok(self, cond, msg):
        if cond:
            self.passed += 1
            print("  PASS  " + msg)
        else:
            self.failed += 1
            print("  FAIL  " + msg)
        return cond


def tracecounts(d):
    """{(event, reason, tgid): count} from lz_util tracecount, plus (in, written)."""
    res, ent = {}, None
    for line in read(os.path.join(d, "tracecount.stdout")).splitlines():
        f = line.split("\t")
        if f[0] == "#entries":
            ent = (int(f[1]), int(f[2]))
            continue
        if len(f) == 5:
            k = (f[1], f[2], int(f[3]))
            res[k] = res.get(k, 0) + int(f[0])
    return res, ent


def job_ok(d, name):
    for line in read(os.path.join(d, "status")).splitlines():
        f = line.split("\t")
        if f[0] == name:
            return f[1] == "exit=0"
    return False


def expected_fast(p, vcpus, mem_bytes, page=4096):
    """Write faults on present 4K leaves while dirty logging is on.

    dirty_log_perf_test (memstress): each vCPU owns mem_bytes/page guest
    pages (partitioned, -w 100: every page written once per pass).  Pass 0
    ("populate") runs BEFORE dirty logging is enabled: those faults map the
    pages (slow path, reason NOT_LOGGING).  Enabling logging write-protects
    every leaf (kvm_arch_commit_memory_region -> gstage_wp_memory_region,
    also with KVM_DIRTY_LOG_INITIALLY_SET), and every pass 1..i re-dirties
    every page, after which KVM_CLEAR_DIRTY_LOG write-protects them again.
    Leaves are 4K: riscv's kvm_riscv_gstage_map() only maps huge leaves for
    hugetlbfs VMAs (no THP support in 6.12's G-stage code) and forces
    PAGE_SIZE when logging; the backing is anonymous memory.  So no pass
    hits a huge leaf (HUGE_LEAF must be 0) and each logged write is one
    fault on a present, host-writable 4K leaf, taken by the fast path:
        expected = modes * vcpus * (mem_bytes / 4K) * iterations
    """
    return len(p["modes"]) * vcpus * (mem_bytes // page) * p["iterations"]


def dirty_params(d):
    """vCPUs and bytes per vCPU of the targeted dirty_log_perf_test (scenario.scn)."""
    for line in read(os.path.join(d, "scenario.scn")).splitlines():
        if line.startswith("run --bg vmm ") and "dirty_log_perf_test" in line:
            args = line.split("dirty_log_perf_test", 1)[1].split()
            v, b = 1, "1G"
            for i, w in enumerate(args[:-1]):
                if w == "-v":
                    v = int(args[i + 1])
                elif w == "-b":
                    b = args[i + 1]
            m = re.match(r"(\d+)([KMGT]?)", b.upper())
            mem = int(m.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30, "T": 40}[m.group(2)]
            return v, mem
    return 2, 64 << 20


KVM_STATS = ("vcpu_load_fast", "vcpu_load_slow", "gstage_fault_fast", "gstage_fault_slow",
             "gstage_fault_not_host_writable")


def check_kvm_stat(ck, stdout):
    """The kernel tree's tools/kvm/kvm_stat (with the series) shows the
    series' vCPU stats of the csr-dirty VM (lz_reload -S) with their values."""
    here = os.path.dirname(os.path.abspath(__file__))
    top = os.path.join(here, "..", "..", "..")
    src = subprocess.run([os.path.join(top, "kernel", "scripts", "fetch-source.sh")],
                         capture_output=True, text=True).stdout.strip()
    r = subprocess.run([sys.executable, os.path.join(here, "kvm_stat_view.py"), "--series",
                        os.path.join(top, "kernel", "patches", "riscv"), src, stdout],
                       capture_output=True, text=True)
    want = dict(re.findall(r"^lz_reload kvmstat (\w+) (\d+)$", read(stdout), re.M))
    got = dict(re.findall(r"^(\w+) +(\d+) +\d+$", r.stdout, re.M))
    if not ck.ok(r.returncode == 0 and got, "kvm_stat -d -1 -i runs on the VM's debugfs stats (%s)" % (
            r.stderr.strip() or "rc %d" % r.returncode)):
        return
    for n in KVM_STATS:
        ck.ok(n in want and got.get(n) == want[n],
              "kvm_stat shows %s = %s (debugfs %s)" % (n, got.get(n), want.get(n)))
    ck.ok(int(got.get("vcpu_load_slow", 0)) >= 500,
          "kvm_stat: vcpu_load_slow %s >= the 500 CSR_DIRTY reloads driven" % got.get("vcpu_load_slow"))


def check_kvm_stats(ck, v, exp, what):
    """KVM's own vCPU stats (patch 0015, read from debugfs) against BPF.

    The kernel's gstage_fault_fast counts the fast path's FAST and SPURIOUS
    outcomes; vcpu_load_fast + vcpu_load_slow counts every
    kvm_arch_vcpu_load(), as the BPF vcpu_load reasons do together.
    """
    ks, cc = v.get("kvm_stats") or {}, v["counters"]
    if not ck.ok(all(n in ks for n in KVM_STATS), "%s: kvm_stats has %s (%s)" % (
            what, ", ".join(KVM_STATS), json.dumps(ks, sort_keys=True))):
        return
    bpf_fast = cc.get("gstage_fault_fast", 0) + cc.get("gstage_fault_spurious", 0)
    ck.ok(ks["gstage_fault_fast"] == exp + cc.get("gstage_fault_spurious", 0),
          "%s: kvm_stats.gstage_fault_fast %d = expected FAST %d + SPURIOUS %d" % (
              what, ks["gstage_fault_fast"], exp, cc.get("gstage_fault_spurious", 0)))
    ck.ok(ks["gstage_fault_fast"] == bpf_fast,
          "%s: kvm_stats.gstage_fault_fast %d = counters.gstage_fault_fast %d + spurious %d" % (
              what, ks["gstage_fault_fast"], cc.get("gstage_fault_fast", 0),
              cc.get("gstage_fault_spurious", 0)))
    loads = sum(cc.get("vcpu_load_" + r, 0) for r in LOAD_REASONS)
    ck.ok(loads > 0 and ks["vcpu_load_fast"] + ks["vcpu_load_slow"] == loads,
          "%s: kvm_stats vcpu_load fast %d + slow %d = BPF vcpu_load total %d" % (
              what, ks["vcpu_load_fast"], ks["vcpu_load_slow"], loads))
    ck.ok(ks["vcpu_load_fast"] == cc.get("vcpu_load_fast", 0),
          "%s: kvm_stats.vcpu_load_fast %d = counters.vcpu_load_fast %d" % (
              what, ks["vcpu_load_fast"], cc.get("vcpu_load_fast", 0)))
    tot = sum(cc.get("gstage_fault_" + r, 0) for r in FAULT_REASONS)
    print("  INFO  %s: kvm_stats gstage_fault slow %d not_host_writable %d; BPF faults %d (fast+spurious %d)"
          % (what, ks["gstage_fault_slow"], ks["gstage_fault_not_host_writable"], tot, bpf_fast))


def check(a):
    ck = Checks()
    # ---- patched dirty: exact fault counts
    d = a["dirty-patched"]
    print("dirty (patched): %s" % d)
    snap = snapshot(d)
    v = vm_of(snap)
    p = perf(read(os.path.join(d, "vmm.stdout")))
    if ck.ok(job_ok(d, "vmm") and job_ok(d, "lazytop-vmm") and v is not None,
             "VMM and kvm-lazytop exited 0, snapshot has the VMM"):
        cc = v["counters"]
        ck.ok(snap["probes"].get("kvm_riscv_gstage_fault") == "attached",
              "probes.kvm_riscv_gstage_fault = %s" % snap["probes"].get("kvm_riscv_gstage_fault"))
        vcpus, mem = dirty_params(d)
        exp = expected_fast(p, vcpus, mem)
        print("        derivation: %d mode(s) x %d vCPUs x %d pages (%d MiB / 4 KiB) x %d logged passes = %d"
              % (len(p["modes"]), vcpus, mem // 4096, mem >> 20, p["iterations"], exp))
        fast = cc.get("gstage_fault_fast")
        ck.ok(fast == exp, "gstage_fault_fast = %s, expected %d" % (fast, exp))
        present = sum(cc.get("gstage_fault_" + r, 0) for r in
                      ("fast", "spurious", "not_host_writable", "pte_changed", "retry_limit", "huge_leaf"))
        ck.ok(present and fast is not None and fast >= 0.99 * present,
              "fast >= 99%% of write faults on present leaves while logging (%s of %d)" % (fast, present))
        ck.ok(cc.get("gstage_fault_huge_leaf") == 0, "no HUGE_LEAF faults (%s); THP: %s" % (
            cc.get("gstage_fault_huge_leaf"), read(os.path.join(d, "thp_enabled")).strip() or "n/a"))
        tc, ent = tracecounts(d)
        pid = snap["target"]["pid"]
        ck.ok(ent is not None and ent[0] == ent[1], "trace ring buffer lost nothing (entries %s)" % (ent,))
        for r in FAULT_REASONS:
            t = tc.get(("kvm_riscv_gstage_fault", r.upper(), pid), 0)
            k = cc.get("gstage_fault_" + r, 0)
            if t or k:
                ck.ok(t == k, "tracefs kvm_riscv_gstage_fault %s for pid %d = %d, kvm-lazytop %d" % (
                    r.upper(), pid, t, k))
        tot_t = sum(n for (e, r, g), n in tc.items() if e == "kvm_riscv_gstage_fault" and g == pid)
        tot_k = sum(cc.get("gstage_fault_" + r, 0) for r in FAULT_REASONS)
        counts = dict(l.split("\t") for l in read(os.path.join(d, "counts")).splitlines() if "\t" in l)
        ck.ok(tot_t > 0 and tot_t == tot_k, "all gstage faults: tracefs %d = kvm-lazytop %d" % (tot_t, tot_k))
        check_kvm_stats(ck, v, exp, "dirty")
    # ---- base: probes missing, exit-based fault latency
    d = a["dirty-base"]
    print("dirty (base): %s" % d)
    snap = snapshot(d)
    v = vm_of(snap)
    if ck.ok(v is not None and job_ok(d, "lazytop-vmm"), "kvm-lazytop snapshot present"):
        for t in ("kvm_riscv_vcpu_load", "kvm_riscv_vcpu_put", "kvm_riscv_gstage_fault",
                  "kvm_riscv_gstage_pte_update"):
            ck.ok(snap["probes"].get(t) == "missing", "probes.%s = %s" % (t, snap["probes"].get(t)))
        h = hist(v, "fault_latency_ns")
        ck.ok(h is not None and h["count"] > 0 and h["buckets"],
              "fault_latency_ns non-empty (count %s)" % (h and h["count"]))
        ck.ok("gstage_fault_fast" not in v["counters"] and "gstage_fault_fast" in snap["unavailable"],
              "series counters omitted and listed unavailable")
        ck.ok(v["counters"].get("exits", 0) > 0 and "reload_pred_same_cpu" in v["counters"],
              "exits (%s) and reload prediction counters reported" % v["counters"].get("exits"))
        ks = v.get("kvm_stats") or {}
        ck.ok(not any(n in ks for n in KVM_STATS),
              "base kernel: kvm_stats lacks the series' stats (%s)" % json.dumps(v.get("kvm_stats")))
    # ---- reload
    d = a["reload-patched"]
    print("reload (patched): %s" % d)
    tc, ent = tracecounts(d)
    for mode, want in (("fast", "fast"), ("other-vcpu", "other_vcpu"), ("other-pcpu", "other_pcpu"),
                       ("csr-dirty", "csr_dirty")):
        snap = snapshot(d, "lazytop-" + mode)
        v = vm_of(snap)
        if not ck.ok(v is not None and job_ok(d, mode), "%s: VMM ok, snapshot present" % mode):
            continue
        cc = v["counters"]
        # lz_reload does one KVM_RUN per round and vCPU (loads_driven)
        m = re.search(r"loads_driven=(\d+)", read(os.path.join(d, mode + ".stdout")))
        ck.ok(m is not None and cc.get("kvm_runs") == int(m.group(1)),
              "%s: kvm_runs %s = KVM_RUNs driven by lz_reload %s" % (
                  mode, cc.get("kvm_runs"), m and m.group(1)))
        loads = {r: cc.get("vcpu_load_" + r, 0) for r in LOAD_REASONS}
        dom = max(loads, key=loads.get)
        ck.ok(sum(loads.values()) > 0 and dom == want, "%s: dominant vcpu_load reason %s (%s)" % (
            mode, dom.upper(), ", ".join("%s %d" % (r, n) for r, n in loads.items() if n)))
        pid = snap["target"]["pid"]
        t = {r: tc.get(("kvm_riscv_vcpu_load", r.upper(), pid), 0) for r in LOAD_REASONS}
        ck.ok(sum(t.values()) > 0 and t == loads, "%s: tracefs vcpu_load reasons for pid %d equal kvm-lazytop's" % (mode, pid))
        pr = v.get("prediction") or {}
        ag = pr.get("agreement")
        msg = "%s: prediction agreement %s over %s loads" % (
            mode, "-" if ag is None else "%.1f%%" % (100 * ag), pr.get("loads_compared"))
        if mode == "csr-dirty":
            # The predictor only sees scheduling (CPU, last vCPU on it); it
            # cannot see KVM_SET_ONE_REG, so CSR_DIRTY loads are predicted
            # "same_cpu" by construction: report, do not assert.
            print("  INFO  " + msg + " (CSR_DIRTY is not predictable from scheduling)")
        else:
            ck.ok(ag is not None and ag >= 0.95, msg)
    check_kvm_stat(ck, os.path.join(d, "csr-dirty.stdout"))
    # ---- filtering
    d = a["filter-patched"]
    print("filter (patched, second VMM running): %s" % d)
    snap = snapshot(d)
    v = vm_of(snap)
    if ck.ok(v is not None and job_ok(d, "vmm") and job_ok(d, "other"), "both VMMs and kvm-lazytop ok"):
        pid = snap["target"]["pid"]
        tc, ent = tracecounts(d)
        others = {g for (e, r, g) in tc if e == "kvm_riscv_gstage_fault" and g != pid}
        ck.ok(len(others) >= 1, "the other VMM faulted too (tgids %s)" % sorted(others))
        ck.ok(len(snap["vms"]) == 1 and v["pid"] == pid, "snapshot holds only the target VM")
        cc = v["counters"]
        for r in FAULT_REASONS:
            t = tc.get(("kvm_riscv_gstage_fault", r.upper(), pid), 0)
            k = cc.get("gstage_fault_" + r, 0)
            if t or k:
                ck.ok(t == k, "pid %d %s: tracefs %d = kvm-lazytop %d" % (pid, r.upper(), t, k))
        p = perf(read(os.path.join(d, "vmm.stdout")))
        exp = expected_fast(p, *dirty_params(d))
        ck.ok(cc.get("gstage_fault_fast") == exp, "gstage_fault_fast %s = expected %d (unchanged by the other VMM)"
              % (cc.get("gstage_fault_fast"), exp))
        check_kvm_stats(ck, v, exp, "filter")
    print("%d passed, %d failed" % (ck.passed, ck.failed))
    return 0 if ck.failed == 0 else 1


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "summary":
        summary(sys.argv[2], sys.argv[3])
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "paired":
        return paired(sys.argv[2], sys.argv[3])
    if len(sys.argv) == 3 and sys.argv[1] == "perf":
        print(json.dumps(perf(read(sys.argv[2])), indent=1))
        return 0
    if len(sys.argv) >= 2 and sys.argv[1] == "check":
        a = {}
        it = iter(sys.argv[2:])
        for k in it:
            a[k.lstrip("-")] = next(it)
        return check(a)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
