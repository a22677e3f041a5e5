#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""report.py - turn bench/run-bench-tool.sh raw records into
build/bench/tool.json, build/bench/tool.md and the terminal table.

Every ratio is computed between arms of the same invocation; the primary
figure is the median over repetitions of the per-repetition ratio (arms of
one repetition ran back to back), the ratio of the per-arm medians is given
next to it.  Missed targets are reported, never hidden; the exit status is
non-zero only when the raw data is missing or the JSON is malformed.
"""
import argparse
import json
import os
import statistics
import sys

HOT = ["kvm_dirty_ring_push", "kvm_fpu", "sched_switch"]
ARM_NAMES = {"none": "no tool", "floor": "empty BPF (floor)", "kl": "kvm-lazytop", "kl_all": "kvm-lazytop (all VMs)",
             "bt": "bpftrace script", "perf": "perf stat -e 'kvm:*'"}
# Issue 11's targets: host hooks <= 1.5x the empty program and <= 0.5x
# bpftrace, host workload slowdown <= 1%; guest hooks <= 2x the empty
# program, guest dirty_log_perf_test slowdown <= the empty programs' + 10
# points; one interval <= 10 ms at 1024 VMs x 64 vCPUs.
TARGETS = {"kl_vs_floor": 1.5, "guest_kl_vs_floor": 2.0, "kl_vs_bpftrace": 0.5, "slowdown_pct": 1.0,
           "guest_slowdown_points_over_floor": 10.0, "cpu_pct": 1.0,
           "rss_kb": 16 * 1024, "scale_ms_1024": 10.0, "precision_rel_err": 0.125}
# riscv64 guest (parts 1b/2b): the series' tracepoints first, then the generic KVM ones
GUEST_HOOKS = ["kvm_riscv_gstage_fault", "kvm_riscv_vcpu_load", "kvm_exit", "kvm_entry"]
# one of each per dirty-page write fault of the nested guest
FAULT_HOOKS = ["kvm_exit", "kvm_riscv_gstage_fault", "kvm_entry"]
GUEST_ARMS = {"none": "no tool", "kl": "kvm-lazytop -p", "floor": "empty BPF (floor)",
              "hooks": "empty BPF, bpf_stats off", "kl0": "kvm-lazytop -p, JIT off", "floor0": "empty BPF, JIT off"}

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e", "demo"))
import lzdemo  # noqa: E402  dirty_log_perf_test output parser (bench-kernel, demo)


def med(v):
    v = [x for x in v if x is not None]
    return statistics.median(v) if v else None


def load_jsonl(p):
    if not os.path.exists(p):
        return []
    with open(p) as f:
        return [json.loads(line) for line in f if line.strip()]


def load_json(p):
    if not os.path.exists(p):
        return None
    with open(p) as f:
        txt = f.read().strip()
    return json.loads(txt) if txt else None


def fmt(v, nd=1, unit=""):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{nd}f}{unit}"
    return f"{v}{unit}"


def verdict(ok):
    return "n/a" if ok is None else ("MET" if ok else "MISSED")


# ---------------------------------------------------------------- part 1

def part1(recs):
    arms = sorted({r["arm"] for r in recs}, key=["floor", "kl", "kl_all", "bt"].index)
    reps = sorted({r["rep"] for r in recs})
    # ns/event per (arm, rep, hook); kvm-lazytop's other programs listed too
    per = {}
    allprogs = {}
    for r in recs:
        for p in r["progs"]:
            if not p["run_cnt"]:
                continue
            ns = p["run_time_ns"] / p["run_cnt"]
            per.setdefault((r["arm"], p["hook"]), {})[r["rep"]] = (ns, p["run_cnt"], p["name"])
            allprogs.setdefault((r["arm"], p["hook"]), []).append((ns, p["run_cnt"], p["name"]))
        # share of the hook's events that came from the benchmark VM (others: other VMs on the host)
        for p in r["progs"]:
            if p["hook"] == "kvm_dirty_ring_push" and p["run_cnt"]:
                per.setdefault((r["arm"], "_share"), {})[r["rep"]] = (r["dirty_pages"] / p["run_cnt"], 0, "")
    hooks = []
    for h in HOT:
        row = {"hook": h}
        for a in arms:
            d = per.get((a, h), {})
            row[a] = {"ns_per_event": med([d[k][0] for k in d]), "events_per_run": med([d[k][1] for k in d]),
                      "program": next((d[k][2] for k in d), None), "runs": len(d)}
        for me, other, key in (("kl", "floor", "kl_vs_floor"), ("kl", "bt", "kl_vs_bpftrace"),
                               ("kl_all", "floor", "kl_all_vs_floor")):
            if other not in arms or me not in arms:
                row[key] = None
                continue
            kl, ot = per.get((me, h), {}), per.get((other, h), {})
            rs = [kl[k][0] / ot[k][0] for k in reps if k in kl and k in ot and ot[k][0] > 0]
            m_kl, m_ot = row[me]["ns_per_event"], row[other]["ns_per_event"]
            tgt = TARGETS["kl_vs_floor" if other == "floor" else key]
            row[key] = {"median_of_rep_ratios": med(rs), "ratio_of_medians":
                        (m_kl / m_ot) if m_kl and m_ot else None, "per_rep": rs, "spread": spread(rs),
                        "target": tgt}
            rr = row[key]["median_of_rep_ratios"]
            row[key]["met"] = None if rr is None else rr <= tgt
        hooks.append(row)
    kl_progs = []
    for (a, h), v in sorted(allprogs.items()):
        if a != "kl":
            continue
        kl_progs.append({"hook": h, "program": v[0][2], "ns_per_event": med([x[0] for x in v]),
                         "events_per_run": med([x[1] for x in v])})
    xl = {}
    for r in recs:
        for p in r["progs"]:
            xl[(r["arm"], p["hook"])] = p.get("xlated_len", 0) // 8
    share = {a: med([v[0] for v in per.get((a, "_share"), {}).values()]) for a in arms}
    for row in hooks:
        for a in arms:
            row[a]["xlated_insns"] = xl.get((a, row["hook"]))
    return {"arms": arms, "reps": len(reps), "hot_events": hooks, "kvm_lazytop_programs": kl_progs,
            "benchmark_vm_share_of_dirty_ring_events": share}


# ---------------------------------------------------------------- part 2

def part2(recs):
    arms = [a for a in ["none", "kl", "bt", "perf"] if any(r["arm"] == a for r in recs)]
    reps = sorted({r["rep"] for r in recs})
    tp = {}
    wall = {}
    for r in recs:
        if r["vcpu_cpu_s"] > 0:
            tp.setdefault(r["arm"], {})[r["rep"]] = r["dirty_pages"] / r["vcpu_cpu_s"]
        wall.setdefault(r["arm"], {})[r["rep"]] = r["dirty_pages"] / r["wall_s"]
    out = {"arms": arms, "reps": len(reps), "metric": "page writes per vCPU-thread CPU-second "
           "(utime+stime of the workload minus its main thread)", "rows": []}
    base = tp.get("none", {})
    for a in arms:
        d = tp.get(a, {})
        rs = [d[k] / base[k] for k in reps if k in d and k in base]
        wr = [wall[a][k] / wall["none"][k] for k in reps if k in wall.get(a, {}) and k in wall.get("none", {})]
        m = med(list(d.values()))
        mb = med(list(base.values()))
        ratio = med(rs)
        row = {"arm": a, "median_pages_per_cpu_s": m, "per_rep": [d.get(k) for k in reps],
               "ratio_to_none_median_of_reps": ratio,
               "ratio_to_none_of_medians": (m / mb) if m and mb else None,
               "slowdown_pct": None if ratio is None else (1 - ratio) * 100,
               "per_rep_ratio": rs, "spread": spread(rs),
               "wall_ratio_to_none": med(wr)}
        if a == "kl":
            row["target_slowdown_pct"] = TARGETS["slowdown_pct"]
            row["met"] = None if ratio is None else (1 - ratio) * 100 <= TARGETS["slowdown_pct"]
        out["rows"].append(row)
    return out


# ---------------------------------------------------------------- part 3..5

def part3(p3, rss_txt):
    if not p3:
        return None
    if rss_txt and os.path.exists(rss_txt):
        samples, hwm = [], None
        for line in open(rss_txt):
            a, b = line.split()
            if a == "hwm_after_attach":
                hwm = int(b)
            else:
                samples.append(int(b))
        p3["listen_startup"] = {"max_rss_kb_sampled_before_attach": max(samples) if samples else None,
                                "samples": len(samples), "vmhwm_kb_at_attach": hwm}
    for k in ("tui", "listen"):
        v = p3.get(k, {})
        if "cpu_pct" in v:
            v["met_cpu"] = v["cpu_pct"] <= TARGETS["cpu_pct"]
            v["met_rss"] = v["peak_rss_kb"] <= TARGETS["rss_kb"]
    p3["targets"] = {"cpu_pct": TARGETS["cpu_pct"], "peak_rss_kb": TARGETS["rss_kb"]}
    return p3


def part4(sc):
    if not sc:
        return None
    for p in sc["points"]:
        if p["vms"] == 1024 and "interval_ms" in p:
            sc["interval_ms_at_1024"] = p["interval_ms"]
            sc["met"] = p["interval_ms"] <= TARGETS["scale_ms_1024"]
    sc["target_ms_at_1024"] = TARGETS["scale_ms_1024"]
    return sc


def part5(kl, tr, result):
    if not kl or not tr:
        return None
    vms = kl.get("vms", [])
    vm = vms[0] if vms else {}
    out = {"workload": result, "lost_ringbuf": tr.get("lost_ringbuf"), "lost_map": tr.get("lost_map"),
           "target_rel_err": TARGETS["precision_rel_err"], "hists": []}
    ok = True
    for name in ("kvm_run_ns", "offcpu_ns"):
        t = tr.get(name, {})
        h = vm.get("histograms", {}).get(name)
        row = {"hist": name, "trace_count": t.get("count"), "kvm_lazytop_count": h.get("count") if h else None}
        for q in ("p50", "p99"):
            ex = t.get("exact", {}).get(q)
            kq = h.get(q) if h else None
            hq = t.get("hist_of_trace", {}).get(q)
            row[q] = {"exact": ex, "kvm_lazytop": kq, "trace_through_hist": hq,
                      "rel_err_kvm_lazytop": abs(kq - ex) / ex if ex and kq is not None else None,
                      "rel_err_quantization": abs(hq - ex) / ex if ex and hq is not None else None}
            for k in ("rel_err_kvm_lazytop", "rel_err_quantization"):
                if row[q][k] is not None and row[q][k] > TARGETS["precision_rel_err"]:
                    ok = False
        out["hists"].append(row)
    out["met"] = ok
    return out


# ---------------------------------------------------------------- parts 1b, 2b: riscv64 guest

def spread(v):
    v = [x for x in v if x is not None]
    return {"min": min(v), "max": max(v)} if v else None


def guest_load(gdir):
    """Per-run records of run-bench-guest.sh's RAW/guest/: arm, rep, jit,
    dirty_log_perf_test times, the arm's programs (kl-bench progs --hold)."""
    if not os.path.isdir(gdir):
        return None, []
    env = load_json(os.path.join(gdir, "env.json")) or {}
    for f, k in (("kernel_version", "kernel_version"), ("bpf_jit_enable.boot", "bpf_jit_enable_at_boot"),
                 ("bpf_jit_enable", "bpf_jit_enable_set"), ("bpf_stats_enabled", "bpf_stats_enabled"),
                 ("cpuinfo", "cpu")):
        env[k] = lzdemo.read(os.path.join(gdir, f)).strip() or None
    recs = []
    for m in load_jsonl(os.path.join(gdir, "arms.jsonl")):
        p = lzdemo.perf(lzdemo.read(os.path.join(gdir, m["tag"] + "-vmm.stdout")))
        held = lzdemo.read(os.path.join(gdir, m["tag"] + "-hold.stdout")).strip().splitlines()
        progs = json.loads(held[-1]) if held else []
        dirty = p["dirty_after_first_s"] or p["dirty_s"]
        recs.append(dict(m, dirty_s=p["dirty_s"], populate_s=p["populate_s"],
                         dirty_mean_s=statistics.fmean(dirty) if dirty else None, progs=progs))
    return env, recs


def guest_bpf_cost(recs):
    """ns/event per hook, kvm-lazytop vs the empty floor of the same repetition."""
    if not recs:
        return None
    out = {"metric": "run_time_ns / run_cnt per program (BPF_STATS_RUN_TIME) over one dirty_log_perf_test run",
           "target_kl_vs_floor": TARGETS["guest_kl_vs_floor"], "jit": {}}
    for jit, kl, fl in ((1, "kl", "floor"), (0, "kl0", "floor0")):
        runs = {a: {r["rep"]: r for r in recs if r["arm"] == a} for a in (kl, fl)}
        if not runs[kl] or not runs[fl]:
            continue

        def per_hook(r):
            d = {}
            for p in r["progs"]:
                if p["run_cnt"]:
                    x = d.setdefault(p["hook"], {"ns": 0.0, "cnt": p["run_cnt"], "progs": [], "insns": 0})
                    x["ns"] += p["run_time_ns"] / p["run_cnt"]	# every program on the hook runs per event
                    x["progs"].append(p["name"])
                    x["insns"] += p.get("xlated_len", 0) // 8
            return d
        ph = {a: {k: per_hook(r) for k, r in runs[a].items()} for a in (kl, fl)}
        hooks = [h for h in GUEST_HOOKS] + sorted(
            {h for k in ph[kl].values() for h in k} & {h for k in ph[fl].values() for h in k} - set(GUEST_HOOKS))
        rows = []
        for h in hooks:
            row = {"hook": h, "required": h in GUEST_HOOKS}
            for a, name in ((fl, "floor"), (kl, "kl")):
                v = [ph[a][k][h] for k in sorted(ph[a]) if h in ph[a][k]]
                row[name] = {"ns_per_event": med([x["ns"] for x in v]), "per_rep_ns": [x["ns"] for x in v],
                             "events_per_run": med([x["cnt"] for x in v]), "per_rep_events": [x["cnt"] for x in v],
                             "programs": v[0]["progs"] if v else [], "xlated_insns": v[0]["insns"] if v else None,
                             "runs": len(v)}
            rs = [ph[kl][k][h]["ns"] / ph[fl][k][h]["ns"] for k in sorted(ph[kl])
                  if k in ph[fl] and h in ph[kl][k] and h in ph[fl][k] and ph[fl][k][h]["ns"] > 0]
            m_kl, m_fl = row["kl"]["ns_per_event"], row["floor"]["ns_per_event"]
            row["kl_vs_floor"] = {"median_of_rep_ratios": med(rs), "per_rep": rs, "spread": spread(rs),
                                  "ratio_of_medians": (m_kl / m_fl) if m_kl and m_fl else None,
                                  "extra_ns_per_event": (m_kl - m_fl) if m_kl is not None and m_fl is not None else None}
            rr = row["kl_vs_floor"]["median_of_rep_ratios"]
            row["kl_vs_floor"]["met"] = None if rr is None else rr <= TARGETS["guest_kl_vs_floor"]
            rows.append(row)
        allp = {}
        for r in runs[kl].values():
            for p in r["progs"]:
                if p["run_cnt"]:
                    allp.setdefault((p["hook"], p["name"]), []).append((p["run_time_ns"] / p["run_cnt"], p["run_cnt"]))
        per_fault = {n: sum(r[n]["ns_per_event"] or 0 for r in rows if r["hook"] in FAULT_HOOKS)
                     for n in ("floor", "kl")}
        out["jit"][str(jit)] = {
            "arms": [fl, kl], "reps": len(runs[kl]), "hooks": rows, "ns_per_dirty_page_fault": per_fault,
            "jited": all(p.get("jited", False) for a in (kl, fl) for r in runs[a].values() for p in r["progs"]),
            "kvm_lazytop_programs": [{"hook": h, "program": n, "ns_per_event": med([x[0] for x in v]),
                                      "events_per_run": med([x[1] for x in v])} for (h, n), v in sorted(allp.items())]}
    return out


def dirty_pages_per_iter(args):
    """Pages one iteration writes: vCPUs x (-b bytes) / 4 KiB (-m 0: 4K guest pages), None if unparsable."""
    a = args.split()
    try:
        v = int(a[a.index("-v") + 1]) if "-v" in a else 1
        b = a[a.index("-b") + 1]
    except (ValueError, IndexError):
        return None
    mul = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(b[-1].upper(), 1)
    try:
        return v * int(b.rstrip("KMGkmg")) * mul // 4096
    except ValueError:
        return None


def guest_slowdown(recs, args):
    """dirty_log_perf_test dirty memory time, arms against the no-tool run of the same repetition."""
    if not recs:
        return None
    pages = dirty_pages_per_iter(args or "")
    t = {}
    for r in recs:
        t.setdefault(r["arm"], {})[r["rep"]] = r["dirty_mean_s"]
    base = t.get("none", {})
    out = {"metric": "dirty_log_perf_test 'dirty memory time' per iteration (mean of the iterations after "
           "the first), per run", "reps": len(base),
           "target_points_over_floor": TARGETS["guest_slowdown_points_over_floor"],
           "dirty_pages_per_iteration": pages, "rows": []}
    for a in [a for a in GUEST_ARMS if a in t]:
        d = t[a]
        rs = [d[k] / base[k] for k in sorted(d) if k in base and base[k] and d[k] is not None]
        m, mb = med(list(d.values())), med(list(base.values()))
        ratio = med(rs)
        row = {"arm": a, "jit": 0 if a.endswith("0") else 1, "median_dirty_s": m, "per_rep_dirty_s": [d[k] for k in sorted(d)],
               "per_rep_ratio": rs, "spread": spread(rs), "ratio_to_none_median_of_reps": ratio,
               "ratio_to_none_of_medians": (m / mb) if m and mb else None,
               "slowdown_pct": None if ratio is None else (ratio - 1) * 100,
               "extra_us_per_dirty_page": med([(d[k] - base[k]) / pages * 1e6 for k in sorted(d)
                                               if k in base and base[k] and d[k] is not None]) if pages else None,
               "per_run_iterations_s": {str(r["rep"]): r["dirty_s"] for r in recs if r["arm"] == a}}
        out["rows"].append(row)
    # kvm-lazytop's slowdown against the empty programs' slowdown, in points
    sl = {r["arm"]: r["slowdown_pct"] for r in out["rows"]}
    for r in out["rows"]:
        if r["arm"] == "kl":
            over = None if sl.get("kl") is None or sl.get("floor") is None else sl["kl"] - sl["floor"]
            r["points_over_floor"] = over
            r["met"] = None if over is None else over <= TARGETS["guest_slowdown_points_over_floor"]
    return out


def guest_decompose(bc, sd):
    """kvm-lazytop's extra time per dirty page, split with the other arms of the same boot:
    hook dispatch (hooks arm), run-time stats (floor - hooks), program bodies beyond the
    floor (1b: kl - floor ns per fault).  The remainder is what none of them explains."""
    rows = {r["arm"]: r.get("extra_us_per_dirty_page") for r in (sd or {}).get("rows", [])}
    j = (bc or {}).get("jit", {}).get("1")
    if not j or any(rows.get(a) is None for a in ("kl", "floor", "hooks")):
        return None
    pf = j["ns_per_dirty_page_fault"]
    d = {"kl_extra": rows["kl"], "hook_dispatch": rows["hooks"], "run_time_stats": rows["floor"] - rows["hooks"],
         "program_bodies_beyond_floor": (pf["kl"] - pf["floor"]) / 1000}
    d["unexplained"] = d["kl_extra"] - d["hook_dispatch"] - d["run_time_stats"] - d["program_bodies_beyond_floor"]
    return d


def guest_check(rep):
    """What a well-formed guest half must hold: every required hook measured in both arms, a slowdown ratio."""
    errs = []
    bc, sd = rep.get("guest_bpf_cost"), rep.get("guest_slowdown")
    j = (bc or {}).get("jit", {}).get("1")
    if not j:
        errs.append("guest_bpf_cost (JIT on) missing")
    else:
        for h in j["hooks"]:
            if h["required"] and (h["floor"]["ns_per_event"] is None or h["kl"]["ns_per_event"] is None):
                errs.append(f"guest_bpf_cost: no events on {h['hook']} (floor {h['floor']['runs']} runs, "
                            f"kvm-lazytop {h['kl']['runs']} runs)")
    kl = [r for r in (sd or {}).get("rows", []) if r["arm"] == "kl"]
    if not kl or kl[0]["ratio_to_none_median_of_reps"] is None:
        errs.append("guest_slowdown: no kvm-lazytop/no-tool ratio")
    return errs


# ---------------------------------------------------------------- output

def tables(rep):
    L = []
    env = rep["env"]
    L.append(f"kvm-lazytop overhead benchmark ({env['mode']}), kernel {env['kernel']}, {env['ncpus']} CPUs, "
             f"load avg {' '.join(env['loadavg_start'])} -> {' '.join(rep['env_end'].get('loadavg_end', []))}")
    bt = env["bpftrace"]
    L.append(f"bpftrace: {bt['version'] if bt['ok'] else 'UNUSABLE: ' + str(bt['error'])}; "
             f"perf: {env['perf']['version'] if env['perf']['ok'] else 'UNUSABLE: ' + str(env['perf']['error'])}")
    p1 = rep["bpf_cost"]
    if p1:
        L.append("")
        L.append(f"1. BPF run time per event (BPF_STATS_RUN_TIME, median of {p1['reps']} interleaved runs, "
                 f"workload {env['workload']['vcpus']} vCPUs x {env['workload']['pages']} pages x "
                 f"{env['workload']['rounds']} rounds)")
        L.append(f"| event | empty floor ns | kvm-lazytop -p ns | kvm-lazytop all VMs ns | bpftrace ns | "
                 f"kl/floor (target <= {TARGETS['kl_vs_floor']}) [per-rep min..max] | kl all/floor | "
                 f"kl/bpftrace (target <= {TARGETS['kl_vs_bpftrace']}) [per-rep min..max] |")
        L.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        for h in p1["hot_events"]:
            def r(k):
                x = h.get(k)
                if not x or x["median_of_rep_ratios"] is None:
                    return "-"
                sp = x.get("spread")
                rng = f" [{sp['min']:.2f}..{sp['max']:.2f}]" if sp else ""
                met = f" {verdict(x['met'])}" if "met" in x else ""
                return f"{x['median_of_rep_ratios']:.2f}x{rng}{met}"
            L.append(f"| {h['hook']} | {fmt(h.get('floor', {}).get('ns_per_event'))} | "
                     f"{fmt(h.get('kl', {}).get('ns_per_event'))} | {fmt(h.get('kl_all', {}).get('ns_per_event'))} | "
                     f"{fmt(h.get('bt', {}).get('ns_per_event'))} | "
                     f"{r('kl_vs_floor')} | {r('kl_all_vs_floor')} | {r('kl_vs_bpftrace')} |")
        L.append("")
        L.append("kvm-lazytop programs (ns/event, events per run): " + ", ".join(
            f"{p['hook']} {fmt(p['ns_per_event'])} ({fmt(p['events_per_run'], 0)})" for p in p1["kvm_lazytop_programs"]))
        L.append("xlated BPF instructions (kvm-lazytop -p / bpftrace): " + ", ".join(
            f"{h['hook']} {h.get('kl', {}).get('xlated_insns')}/{h.get('bt', {}).get('xlated_insns')}"
            for h in p1["hot_events"]))
        L.append("share of kvm_dirty_ring_push events from the benchmark VM (the rest: other VMs on the host, "
                 "rejected by the tgid filter): " + ", ".join(
                     f"{ARM_NAMES[a]} {fmt(v and v * 100, 0, '%')}"
                     for a, v in p1["benchmark_vm_share_of_dirty_ring_events"].items()))
    g1 = rep.get("guest_bpf_cost")
    genv = rep.get("guest_env") or {}
    if g1:
        kv = (genv.get("kernel_version") or "?").split()
        L.append("")
        L.append(f"1b. riscv64 guest: BPF run time per event (kernel {kv[2] if len(kv) > 2 else kv[0]}, "
                 f"{genv.get('qemu_machine')}; dirty_log_perf_test {genv.get('dirty_log_perf_test_args')} "
                 f"in a nested VM; BPF_STATS_RUN_TIME; arms interleaved in one boot)")
        for jit, j in sorted(g1["jit"].items(), reverse=True):
            L.append("")
            L.append(f"JIT {'on (production)' if jit == '1' else 'off (interpreter)'}, median of {j['reps']} "
                     f"repetitions{'' if j['jited'] == (jit == '1') else ' (WARNING: jited flag disagrees)'}")
            L.append(f"| hook | empty floor ns | kvm-lazytop ns | extra ns | kl/floor (target <= {TARGETS['guest_kl_vs_floor']}) | "
                     "per-rep kl/floor min..max | events/run floor / kl | kl xlated insns |")
            L.append("|---|---:|---:|---:|---:|---:|---:|---:|")
            for h in j["hooks"]:
                x = h["kl_vs_floor"]
                rr = "-" if x["median_of_rep_ratios"] is None else \
                    f"{x['median_of_rep_ratios']:.2f}x" + (f" {verdict(x['met'])}" if jit == "1" else "")
                sp = x["spread"]
                L.append(f"| {h['hook']}{'' if h['required'] else ' (also)'} | {fmt(h['floor']['ns_per_event'])} | "
                         f"{fmt(h['kl']['ns_per_event'])} | {fmt(x['extra_ns_per_event'])} | {rr} | "
                         f"{'-' if not sp else '%.2f..%.2f' % (sp['min'], sp['max'])} | "
                         f"{fmt(h['floor']['events_per_run'], 0)} / {fmt(h['kl']['events_per_run'], 0)} | "
                         f"{fmt(h['kl']['xlated_insns'])} |")
            L.append("kvm-lazytop programs (ns/event, events per run): " + ", ".join(
                f"{p['hook']} {fmt(p['ns_per_event'])} ({fmt(p['events_per_run'], 0)})"
                for p in j["kvm_lazytop_programs"]))
            pf = j["ns_per_dirty_page_fault"]
            L.append(f"program time per dirty-page fault ({' + '.join(FAULT_HOOKS)}): floor {pf['floor']:.0f} ns, "
                     f"kvm-lazytop {pf['kl']:.0f} ns")
    p2 = rep["slowdown"]
    if p2:
        L.append("")
        L.append(f"2. Workload slowdown ({p2['metric']}; {p2['reps']} interleaved runs per arm)")
        L.append("| arm | median pages/CPU-s | ratio to no tool | per-rep ratio min..max | slowdown | wall-clock ratio |")
        L.append("|---|---:|---:|---:|---:|---:|")
        for r in p2["rows"]:
            v = f" (target <= {TARGETS['slowdown_pct']:g}%: {verdict(r['met'])})" if "met" in r else ""
            sp = r.get("spread")
            L.append(f"| {ARM_NAMES[r['arm']]} | {fmt(r['median_pages_per_cpu_s'], 0)} | "
                     f"{fmt(r['ratio_to_none_median_of_reps'], 4)} | "
                     f"{'-' if not sp else '%.4f..%.4f' % (sp['min'], sp['max'])} | "
                     f"{fmt(r['slowdown_pct'], 2, '%')}{v} | {fmt(r['wall_ratio_to_none'], 4)} |")
    g2 = rep.get("guest_slowdown")
    if g2:
        L.append("")
        L.append(f"2b. riscv64 guest: workload slowdown ({g2['metric']}; {g2['reps']} repetitions, arms back to back "
                 f"in one boot; ratio = median of the per-repetition ratios to the no-tool run)")
        L.append("| arm | median dirty s/iter | ratio to no tool | slowdown | per-rep ratio min..max | ratio of medians | "
                 f"extra us per dirty page ({g2['dirty_pages_per_iteration']}/iter) |")
        L.append("|---|---:|---:|---:|---:|---:|---:|")
        for r in g2["rows"]:
            v = (f" ({fmt(r['points_over_floor'], 1)} points over the empty programs, target <= "
                 f"{TARGETS['guest_slowdown_points_over_floor']:g}: {verdict(r['met'])})" if "met" in r else "")
            sp = r["spread"]
            L.append(f"| {GUEST_ARMS[r['arm']]} | {fmt(r['median_dirty_s'], 4)} | "
                     f"{fmt(r['ratio_to_none_median_of_reps'], 4)} | {fmt(r['slowdown_pct'], 2, '%')}{v} | "
                     f"{'-' if not sp else '%.4f..%.4f' % (sp['min'], sp['max'])} | "
                     f"{fmt(r['ratio_to_none_of_medians'], 4)} | {fmt(r['extra_us_per_dirty_page'], 2)} |")
        d = g2.get("decomposition_us_per_dirty_page")
        if d:
            L.append(f"kvm-lazytop's extra {d['kl_extra']:.2f} us per dirty page = hook dispatch {d['hook_dispatch']:.2f} "
                     f"(empty programs, stats off) + run-time stats {d['run_time_stats']:.2f} (floor - that; "
                     f"kvm-lazytop enables them itself) + program bodies beyond the floor "
                     f"{d['program_bodies_beyond_floor']:.2f} (1b, kvm_exit + gstage_fault + kvm_entry) "
                     f"+ rest {d['unexplained']:.2f}")
    p3 = rep["collector_cost"]
    if p3:
        L.append("")
        L.append(f"3. Collector cost over {p3['seconds']:.0f} s at -i 1 (both views ran side by side on one busy VM)")
        L.append("| view | CPU % of one core (target <= 1) | peak RSS MiB (target <= 16) | RSS at end MiB |")
        L.append("|---|---:|---:|---:|")
        for k, name in (("tui", "ncurses live view (tmux)"), ("listen", "--listen (+ /metrics scrape every 5 s)")):
            v = p3.get(k, {})
            if "cpu_pct" in v:
                L.append(f"| {name} | {v['cpu_pct']:.3f} {verdict(v['met_cpu'])} | "
                         f"{v['peak_rss_kb'] / 1024:.1f} {verdict(v['met_rss'])} | {v['rss_kb'] / 1024:.1f} |")
            else:
                L.append(f"| {name} | not measured: {v.get('error')} | | |")
        su = p3.get("listen_startup")
        if su:
            L.append(f"start-up of the --listen collector: VmHWM {fmt(su['vmhwm_kb_at_attach'] and su['vmhwm_kb_at_attach'] / 1024)} MiB "
                     f"when attached (max sampled VmRSS while probing/loading {fmt(su['max_rss_kb_sampled_before_attach'] and su['max_rss_kb_sampled_before_attach'] / 1024)} MiB)")
    for p4, title in ((rep["scale"], "vcpus map filled (as on a real host)"),
                      (rep.get("scale_without_vcpus_map"), "vcpus map EMPTY (isolates the tid bookkeeping)")):
        if not p4:
            continue
        L.append("")
        L.append(f"4. Scale, {title}: one collection interval of the collector's code, {p4['vcpus_per_vm']} vCPUs/VM, "
                 f"{p4['hists_per_vm']} histograms/VM (target <= 10 ms at 1024 VMs: "
                 f"{verdict(p4.get('met'))})")
        st = ["read_maps", "raw_batch_lookup", "delta", "snapshot_build", "percentiles_only", "render_text",
              "state_swap", "tui_rows", "json_serialize", "prom_render"]
        L.append("| VMs | interval ms | " + " | ".join(st) + " |")
        L.append("|---:|---:|" + "---:|" * len(st))
        for p in p4["points"]:
            if "interval_ms" not in p:
                L.append(f"| {p['vms']} | {p.get('skipped', 'not measured')} |" + " |" * len(st))
                continue
            extra = " (maps beyond production sizes)" if p.get("beyond_production_map_sizes") else ""
            L.append(f"| {p['vms']}{extra} | {p['interval_ms']:.2f}{'' if p['samples'] > 1 else ' (1 sample)'} | " +
                     " | ".join(fmt(p['stages_ms'].get(s), 2) for s in st) + " |")
        last = p4["points"][-1] if p4["points"] else {}
        if "prom_body_bytes" in last:
            ok = last["prom_samples_per_vm"] <= 100 and last["stages_ms"]["prom_render"] <= 50
            L.append(f"/metrics at {last['vms']} VMs (issue 11: <= 100 samples/VM, <= 50 ms): "
                     f"{last['prom_samples_per_vm']:.1f} samples/VM, prom_render "
                     f"{last['stages_ms']['prom_render']:.2f} ms, body {last['prom_body_bytes'] / 1e6:.2f} MB "
                     f"{verdict(ok)}")
    p5 = rep["precision"]
    if p5:
        L.append("")
        L.append(f"5. Precision: kvm-lazytop log-linear histogram percentiles vs exact percentiles of a per-event "
                 f"trace of the same run (target <= 12.5%: {verdict(p5['met'])}; ring buffer lost "
                 f"{p5['lost_ringbuf']})")
        L.append("| histogram | events trace/kvm-lazytop | q | exact ns | kvm-lazytop ns | rel err | trace via kl_hist ns | rel err (quantization only) |")
        L.append("|---|---:|---|---:|---:|---:|---:|---:|")
        for h in p5["hists"]:
            for q in ("p50", "p99"):
                x = h[q]
                L.append(f"| {h['hist']} | {h['trace_count']}/{h['kvm_lazytop_count']} | {q} | {fmt(x['exact'])} | "
                         f"{fmt(x['kvm_lazytop'])} | {fmt(x['rel_err_kvm_lazytop'] and x['rel_err_kvm_lazytop'] * 100, 2, '%')} | "
                         f"{fmt(x['trace_through_hist'])} | "
                         f"{fmt(x['rel_err_quantization'] and x['rel_err_quantization'] * 100, 2, '%')} |")
    failed = rep.get("failed_runs") or []
    L.append("")
    if failed:
        L.append(f"FAILED RUNS ({len(failed)}; each was retried once; the figures above lack them):")
        for f in failed:
            L.append(f"  part {f['part']} arm {ARM_NAMES.get(f['arm'], f['arm'])} repetition {f['rep']}: {f['error']}")
    else:
        L.append("failed runs: none")
    return L


def drop_run(path, arm, rep):
    """Remove the records of one (arm, repetition) a failed try left behind."""
    recs = load_jsonl(path)
    with open(path, "w") as f:
        for r in recs:
            if not (r["arm"] == arm and r["rep"] == rep):
                f.write(json.dumps(r) + "\n")
    return 0


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--drop-run":
        return drop_run(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--check-only-wellformed", action="store_true")
    a = ap.parse_args()
    env = load_json(os.path.join(a.raw, "env.json"))
    if not env:
        print("report.py: no env.json in " + a.raw, file=sys.stderr)
        return 1
    rep = {"schema": "kvm-lazytop-bench-tool/2", "env": env,
           "env_end": load_json(os.path.join(a.raw, "env-end.json")) or {},
           "targets": TARGETS,
           "bpf_cost": part1(load_jsonl(os.path.join(a.raw, "p1.jsonl"))),
           "slowdown": part2(load_jsonl(os.path.join(a.raw, "p2.jsonl"))),
           "collector_cost": part3(load_json(os.path.join(a.raw, "p3.json")),
                                   os.path.join(a.raw, "p3-rss-startup.txt")),
           "scale": part4(load_json(os.path.join(a.raw, "scale.json"))),
           "scale_without_vcpus_map": part4(load_json(os.path.join(a.raw, "scale-notids.json"))),
           "precision": None,
           "failed_runs": load_jsonl(os.path.join(a.raw, "failed.jsonl"))}
    res = None
    if os.path.exists(os.path.join(a.raw, "prec-result.txt")):
        res = open(os.path.join(a.raw, "prec-result.txt")).read().strip()
    rep["precision"] = part5(load_json(os.path.join(a.raw, "prec-kl.json")),
                             load_json(os.path.join(a.raw, "prec-trace.json")), res)
    genv, grecs = guest_load(os.path.join(a.raw, "guest"))
    rep["guest_env"] = genv
    rep["guest_bpf_cost"] = guest_bpf_cost(grecs)
    rep["guest_slowdown"] = guest_slowdown(grecs, (genv or {}).get("dirty_log_perf_test_args"))
    if rep["guest_slowdown"]:
        rep["guest_slowdown"]["decomposition_us_per_dirty_page"] = guest_decompose(rep["guest_bpf_cost"],
                                                                                   rep["guest_slowdown"])
    lines = tables(rep)
    with open(os.path.join(a.out, "tool.json"), "w") as f:
        json.dump(rep, f, indent=1)
    with open(os.path.join(a.out, "tool.md"), "w") as f:
        f.write("# kvm-lazytop overhead benchmark (make bench-tool)\n\n")
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nwritten: {a.out}/tool.json, {a.out}/tool.md")
    # well-formedness: parse back, every part present
    with open(os.path.join(a.out, "tool.json")) as f:
        back = json.load(f)
    missing = [k for k in ("bpf_cost", "slowdown", "collector_cost", "scale", "precision", "guest_env",
                           "guest_bpf_cost", "guest_slowdown") if not back.get(k)]
    if missing:
        print("report.py: tool.json lacks " + ", ".join(missing), file=sys.stderr)
        return 1
    errs = guest_check(back)
    if errs:
        print("report.py: " + "; ".join(errs), file=sys.stderr)
        return 1
    if a.check_only_wellformed:
        print("bench-tool-quick: tool.json is well-formed (targets are judged by make bench-tool only)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
