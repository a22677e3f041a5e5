#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write demo-base.json and demo-patched.json: snapshots shaped like
`make demo`'s build/demo/{base,patched}.json (riscv64, one VM running
dirty_log_perf_test -v 2 -b 64M -i 5 -m 0, kvm-lazytop -o json).

The counts follow the derivation of tests/e2e/demo/lzdemo.py
expected_fast() and the series cover letter:
  FAST        = 1 mode x 2 vCPUs x 16384 pages (64 MiB / 4 KiB) x 5 passes
  NOT_LOGGING = the populate pass (2 x 16384) plus a few early faults
  NOT_WRITE   = the guest's code/data loads (about 100)
so FAST / all gstage faults is 0.83 (the populate faults count), while
FAST among the logged writes is 1.0.  vcpu_load reasons are those of a
2-vCPU guest on a 2-hart host shared with the VMM's other threads:
FAST / all loads is 0.65 (OTHER_VCPU, OTHER_PCPU dominate the misses),
FAST among the loads that found their own state on the CPU is 1.0.
The base kernel has no series tracepoints: their counters and histograms
are "unavailable"; fault latency comes from kvm_exit/kvm_entry and every
logged write takes the slow path.

usage: make-demo-fixtures.py OUTDIR
"""
import json
import os
import sys

PAGES = (64 << 20) // 4096
VCPUS, PASSES = 2, 5
FAST = VCPUS * PAGES * PASSES
POPULATE = VCPUS * PAGES + 17
NOT_WRITE = 99
SERIES = ["kvm_riscv_vcpu_load", "kvm_riscv_vcpu_put", "kvm_riscv_gstage_fault",
          "kvm_riscv_gstage_pte_update"]
LOAD = ["fast", "first_load", "other_pcpu", "csr_dirty", "cpu_reset", "other_vcpu"]
FAULT = ["fast", "spurious", "not_write", "not_logging", "no_leaf", "huge_leaf",
         "not_host_writable", "inval_retry", "pte_changed", "retry_limit"]
PKVM = ["pkvm_sync_to_hyp_flush_dirty", "pkvm_sync_to_hyp_skip_hyp_current"] + [
    "pkvm_sync_to_host_" + r for r in ("sync_trap", "sync_serror", "sync_exit", "sync_debug",
                                       "sync_put", "sync_adjust_pc", "skip_irq",
                                       "skip_host_current")]
GUEST_FAULT = ["guest_fault_" + r for r in ("read", "write", "exec", "translation",
                                            "access_flag", "permission", "other_status")]
PTE = ["pte_update_events", "pte_update_retries", "pte_update_mkwrite",
       "pte_update_wrprotect", "pte_update_updated", "pte_update_noop",
       "pte_update_abort_not_leaf", "pte_update_abort_retries"]


def bucket_lo(le):
    """inclusive lower bound of the kl_hist bucket ending at le (bpf/kl_hist.h)"""
    if le < 8:
        return le
    width = 1 << (le.bit_length() - 1 - 3)
    return le - le % width


def percentile(buckets, count, q):
    """SNAPSHOT.md: rank ceil(q * count), linear inside the bucket (q per mille)"""
    rank = max(1, -(-q * count // 1000))
    cum = 0
    for le, c in buckets:
        if cum + c >= rank and c:
            lo = bucket_lo(le)
            return lo + (le - lo) * (rank - cum) // c
        cum += c
    return None


def hist(buckets):
    """buckets: [(le, count, mean ns in the bucket)] -> snapshot histogram"""
    bk = [(le, c) for le, c, _ in buckets if c]
    count = sum(c for _, c in bk)
    h = {"unit": "ns", "count": count, "sum": sum(c * m for _, c, m in buckets)}
    for k, q in (("p50", 500), ("p90", 900), ("p99", 990), ("p999", 999)):
        h[k] = percentile(bk, count, q) if count else None
    h["buckets"] = [{"le": le, "count": c} for le, c in bk]
    return h


def snapshot(patched):
    runs = 2 * (PASSES + 2) + 40
    # dirty_log_perf_test uses the dirty bitmap: kvm_dirty_ring_push never fires
    counters = {"kvm_runs": runs, "userspace_exits": runs, "dirty_pages": 0,
                "preemptions": 310, "sched_out": 2050, "reload_pred_same_cpu": 1310,
                "reload_pred_migrated": 88, "reload_pred_other_vcpu": 594,
                "exits": FAST + POPULATE + NOT_WRITE + 4100, "fpu_loads": 0, "vcpu_put": 1992}
    populate = [(16383, POPULATE // 2, 12000), (32767, POPULATE - POPULATE // 2 - 300, 22000),
                (65535, 300, 40000)]
    if patched:
        loads = {"fast": 1300, "first_load": 2, "other_pcpu": 90, "csr_dirty": 0,
                 "cpu_reset": 0, "other_vcpu": 600}
        faults = dict.fromkeys(FAULT, 0)
        faults.update(fast=FAST, not_write=NOT_WRITE, not_logging=POPULATE)
        for r in LOAD:
            counters["vcpu_load_" + r] = loads[r]
        for r in FAULT:
            counters["gstage_fault_" + r] = faults[r]
        counters.update(dict.fromkeys(PTE, 0))
        counters.update(pte_update_events=FAST, pte_update_mkwrite=FAST,
                        pte_update_updated=FAST)
        fast = [(2047, FAST // 2, 1500), (4095, FAST - FAST // 2 - 100, 2600), (8191, 100, 5000)]
        fault_hist = hist(fast + populate)
    else:
        # every logged write takes the slow path (kvm_exit -> kvm_entry)
        slow = [(8191, FAST // 4, 7000), (16383, FAST - FAST // 4 - 200, 10000),
                (32767, 200, 20000)]
        merged = {}
        for le, c, m in slow + populate:
            old = merged.get(le, (0, 0))
            merged[le] = (old[0] + c, old[1] + c * m)
        fault_hist = hist([(le, c, s // c) for le, (c, s) in sorted(merged.items())])
    unavailable = ["fast_page_faults"] + PKVM + GUEST_FAULT + ["pkvm_state_sync"]
    if not patched:
        unavailable += (["vcpu_load_" + r for r in LOAD] + ["gstage_fault_" + r for r in FAULT] +
                        PTE + ["fault_latency_fast_ns", "fault_latency_slow_ns", "vcpu_load_ns",
                               "prediction"])
    hists = {"fault_latency_ns": fault_hist,
             "exit_latency_ns": hist([(4095, 3000, 2500), (16383, FAST + POPULATE, 9000),
                                      (65535, 1199, 30000)]),
             "kvm_run_ns": hist([(1073741823, runs - 10, 600000000), (2147483647, 10, 1500000000)]),
             "offcpu_ns": hist([(65535, 1800, 30000), (1048575, 250, 400000)])}
    if patched:
        hists["fault_latency_fast_ns"] = hist(fast)
        hists["fault_latency_slow_ns"] = hist(populate)
        hists["vcpu_load_ns"] = hist([(255, 1300, 200), (2047, 692, 1500)])
    vm = {"pid": 312, "comm": "dirty_log_perf_", "name": "dirty_log_perf_", "exited": True,
          "vcpus": [], "counters": counters,
          "reasons": {"userspace_exit": {"KVM_EXIT_RISCV_SBI": runs - 2, "KVM_EXIT_SYSTEM_EVENT": 2},
                      "exit": {"STORE_GUEST_PAGE_FAULT": FAST + POPULATE,
                               "LOAD_GUEST_PAGE_FAULT": NOT_WRITE,
                               "IRQ_VS_TIMER": 4100}},
          "histograms": hists, "histograms_by": {}}
    if patched:
        vm["prediction"] = {"agreement": 0.9909, "loads_compared": 1986,
                            "matrix": {"same_cpu": {"fast": 1298, "other_vcpu": 12},
                                       "migrated": {"other_pcpu": 88},
                                       "other_vcpu": {"other_vcpu": 582, "first_load": 2,
                                                      "other_pcpu": 2, "fast": 2,
                                                      "csr_dirty": 0, "cpu_reset": 0}}}
    probes = {s: "attached" for s in
              ["kvm_exit", "kvm_entry", "kvm_userspace_exit", "kvm_dirty_ring_push", "kvm_fpu",
               "sched_switch", "sys_enter_ioctl", "sys_exit_ioctl", "sched_process_exit"]}
    probes.update({s: "attached" if patched else "missing" for s in SERIES})
    probes.update(fast_page_fault="missing", fentry_vcpu_load="refused: fentry not supported",
                  kvm_arm_pkvm_state_sync="missing", kvm_guest_fault="missing")
    events = {"kvm_exit": counters["exits"], "kvm_entry": counters["exits"],
              "kvm_userspace_exit": runs, "kvm_dirty_ring_push": 0, "kvm_fpu": 0,
              "sched_switch": 98000, "sys_enter_ioctl": 5200, "sys_exit_ioctl": 5200,
              "sched_process_exit": 40}
    if patched:
        events.update(kvm_riscv_vcpu_load=1992, kvm_riscv_vcpu_put=1992,
                      kvm_riscv_gstage_fault=FAST + POPULATE + NOT_WRITE,
                      kvm_riscv_gstage_pte_update=FAST)
    return {"schema_version": "1.1", "tool": {"name": "kvm-lazytop", "version": "0.1.0"},
            "host": {"kernel": "6.12.0" + ("-lazy" if patched else ""), "arch": "riscv64",
                     "hostname": "demo", "ncpus": 2},
            "start_time_ns": 1700000000000000000, "duration_ns": 60000000000,
            "interval_ns": 1000000000, "target": {"pid": 312},
            "probes": probes, "probe_events": {s: events[s] for s in probes if probes[s] == "attached"},
            "unavailable": unavailable,
            "overhead": {"programs": [], "bpf_run_time_ns": 0, "bpf_events": 0,
                         "bpf_stats": "enabled", "collector_cpu_ns": 300000000,
                         "collector_cpu_pct": 0.5, "collector_rss_kb": 9000,
                         "collector_maxrss_kb": 9500,
                         "drops": {"vcpu_map_full": 0, "counter_map_full": 0,
                                   "reason_map_full": 0, "hist_map_full": 0, "clock_skew": 0}},
            "vms": [vm]}


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    for name, patched in (("demo-base.json", False), ("demo-patched.json", True)):
        with open(os.path.join(sys.argv[1], name), "w") as f:
            json.dump(snapshot(patched), f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
