#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Generate dashboards/kvm-lazytop.json (Grafana dashboard).

The datasource is the template variable ${datasource} (type datasource,
query prometheus), so the JSON works both through Grafana's Import screen
and with file provisioning.  Per-VM series are grouped by
(instance, vm_pid, vm_name), like the recording rules, so VMs without a
name do not collapse into one line.  Each panel has one unit.

Run after editing (`make dashboards`); the JSON is committed,
`make check-dashboards` fails when it differs from this generator's output,
and tests/host/exports evaluates every expression against a live
Prometheus.  usage: gen-dashboard.py [OUTPUT]   (default: next to this file)"""
import json
import os
import sys

SEL = 'instance=~"$instance",vm_name=~"$vm",vcpu=~"$vcpu"'
SELV = 'instance=~"$instance",vm_name=~"$vm"'
SELI = 'instance=~"$instance"'
# process_* of the kvm-lazytop targets only (build_info is 1)
SELF = 'kvm_lazytop_build_info'
VM = "instance, vm_pid, vm_name"            # the rules' grouping
LEG = "{{vm_name}} [{{vm_pid}}] {{instance}}"
DS = {"type": "prometheus", "uid": "${datasource}"}
RI = "$__rate_interval"
panels = []


def panel(title, targets, x, y, unit, desc, w=12, h=8, kind="timeseries", stack=False, extra=None):
    p = {"id": len(panels) + 1, "title": title, "type": kind, "datasource": DS,
         "description": desc, "gridPos": {"x": x, "y": y, "w": w, "h": h},
         "targets": [dict(refId=chr(65 + i), datasource=DS, **t) for i, t in enumerate(targets)],
         "fieldConfig": {"defaults": {"unit": unit}, "overrides": []}, "options": {}}
    if stack:
        p["fieldConfig"]["defaults"]["custom"] = {"stacking": {"mode": "normal"}, "fillOpacity": 30}
    if extra:
        p.update(extra)
    panels.append(p)


def row(title, y):
    panels.append({"id": len(panels) + 1, "title": title, "type": "row", "collapsed": False,
                   "gridPos": {"x": 0, "y": y, "w": 24, "h": 1}, "panels": []})


def rate(metric, sel, by=VM):
    return f"sum by ({by}) (rate({metric}{{{sel}}}[{RI}]))"


def ratio(metric, sel, part, by=VM):
    return f"{rate(metric, sel + ',' + part, by)} / {rate(metric, sel, by)}"


def quantile(q, metric, by="instance"):
    """Quantile of a host_* family: every bucket summed over the VMs (the
    per-VM series carry +Inf, _sum and _count only, unless the exporter
    runs with --prom-vm-buckets)."""
    return f"histogram_quantile({q}, sum by (le, {by}) (rate({metric}_bucket{{{SELI}}}[{RI}])))"


HLEG = "{{instance}}"


row("Fast paths", 0)
panel("Fast-path share", [
    {"expr": ratio("kvm_lazytop_gstage_faults_total", SEL, 'path="fast"'), "legendFormat": "gstage fault " + LEG},
    {"expr": ratio("kvm_lazytop_vcpu_loads_total", SEL, 'path="fast"'), "legendFormat": "vcpu_load " + LEG},
    {"expr": ratio("kvm_lazytop_reload_predictions_total", SEL, 'reason="same_cpu"'), "legendFormat": "reload same_cpu " + LEG},
], 0, 1, "percentunit", "Share of G-stage faults / vCPU loads that took the fast path (RISC-V series "
   "tracepoints); the reload prediction from scheduling works everywhere.")
panel("G-stage slow-path reasons", [
    {"expr": rate("kvm_lazytop_gstage_faults_total", SEL + ',path="slow"', VM + ", reason"), "legendFormat": "{{reason}} " + LEG},
], 12, 1, "ops", "G-stage faults that missed the fast path, by the reason the kernel gave (faults/s).", stack=True)
panel("vcpu_load reasons", [
    {"expr": rate("kvm_lazytop_vcpu_loads_total", SEL, VM + ", reason"), "legendFormat": "{{reason}} " + LEG},
], 0, 9, "ops", "vCPU loads by reason (loads/s); reason fast skipped the CSR reload.", stack=True)
panel("Fault latency heatmap", [
    {"expr": f'sum by (le) (rate(kvm_lazytop_host_fault_latency_seconds_bucket{{{SELI}}}[{RI}]))', "format": "heatmap", "legendFormat": "{{le}}"},
], 12, 9, "s", "Store guest-page-fault exit-to-entry time, all paths (RISC-V).", kind="heatmap",
    extra={"options": {"calculate": False, "yAxis": {"unit": "s"}, "cellGap": 1,
                       "color": {"scheme": "Oranges", "mode": "scheme"}}})

row("Latency", 17)
panel("Latency p50 / p99", [
    {"expr": quantile(0.5, "kvm_lazytop_host_fault_latency_seconds"), "legendFormat": "fault p50 " + HLEG},
    {"expr": quantile(0.99, "kvm_lazytop_host_fault_latency_seconds"), "legendFormat": "fault p99 " + HLEG},
    {"expr": quantile(0.5, "kvm_lazytop_host_kvm_run_seconds"), "legendFormat": "KVM_RUN p50 " + HLEG},
    {"expr": quantile(0.99, "kvm_lazytop_host_kvm_run_seconds"), "legendFormat": "KVM_RUN p99 " + HLEG},
    {"expr": quantile(0.99, "kvm_lazytop_host_exit_latency_seconds"), "legendFormat": "exit p99 " + HLEG},
], 0, 18, "s", "All VMs of a host; quantiles interpolated inside power-of-two buckets (255 ns .. 34.4 s).")
panel("Fault latency p99 by path", [
    {"expr": quantile(0.99, "kvm_lazytop_host_fault_latency_seconds", "instance, path"), "legendFormat": "{{path}} " + HLEG},
], 12, 18, "s", "Store guest-page-fault time of all VMs when the MMU fast path was taken (fast), refused (slow) "
   "or not reported (unknown).")

row("Exits", 26)
panel("Guest exits by reason", [
    {"expr": rate("kvm_lazytop_exit_reasons_total", SELV, VM + ", reason"), "legendFormat": "{{reason}} " + LEG},
], 0, 27, "ops", "Guest exits by decoded architectural cause (exits/s).", stack=True)
panel("Exits to the VMM by reason", [
    {"expr": rate("kvm_lazytop_userspace_exit_reasons_total", SELV, VM + ", reason"), "legendFormat": "{{reason}} " + LEG},
], 12, 27, "ops", "KVM_RUN returns to userspace by KVM_EXIT_* reason (exits/s).", stack=True)
panel("Exit latency p99 by reason", [
    {"expr": quantile(0.99, "kvm_lazytop_host_exit_latency_seconds", "instance, reason"), "legendFormat": "{{reason}} " + HLEG},
], 0, 35, "s", "kvm_exit to the next kvm_entry of the same vCPU, by exit cause, all VMs.")
panel("KVM_RUN / s", [
    {"expr": rate("kvm_lazytop_kvm_runs_total", SEL), "legendFormat": LEG},
], 12, 35, "ops", "KVM_RUN ioctls completed per second.")

row("Memory", 43)
panel("Dirty pages / s", [
    {"expr": rate("kvm_lazytop_dirty_pages_total", SEL), "legendFormat": LEG},
], 0, 44, "suffix: pages/s", "Pages pushed to the KVM dirty ring per second.")
panel("Contended G-stage PTE updates", [
    {"expr": rate("kvm_lazytop_pte_update_ops_total", SEL, VM + ", op"), "legendFormat": "{{op}} " + LEG},
    {"expr": rate("kvm_lazytop_pte_update_outcomes_total", SEL, VM + ", outcome"), "legendFormat": "{{outcome}} " + LEG},
], 12, 44, "ops", "kvm_riscv_gstage_pte_update by operation and by outcome (updates/s; the two "
   "breakdowns each sum to all contended updates).")

row("arm64 pKVM", 52)
panel("pKVM state sync skipped share", [
    {"expr": ratio("kvm_lazytop_pkvm_state_syncs_total", SEL, 'path="fast"', VM + ", dir"),
     "legendFormat": "{{dir}} " + LEG},
], 0, 53, "percentunit", "Share of vCPU context syncs between host and hypervisor that skipped the copy, "
   "by direction (kvm_arm_pkvm_state_sync).")
panel("pKVM state syncs by reason", [
    {"expr": rate("kvm_lazytop_pkvm_state_syncs_total", SEL, VM + ", dir, reason"), "legendFormat": "{{dir}} {{reason}} " + LEG},
], 12, 53, "ops", "pKVM context syncs per second by direction and reason.", stack=True)
panel("arm64 stage-2 guest faults", [
    {"expr": rate("kvm_lazytop_guest_faults_total", SEL, VM + ", access"), "legendFormat": "{{access}} " + LEG},
], 0, 61, "ops", "Stage-2 aborts handled by the host (kvm_guest_fault) per second, by access.", stack=True)
panel("arm64 stage-2 guest faults by status", [
    {"expr": rate("kvm_lazytop_guest_faults_by_status_total", SEL, VM + ", status"), "legendFormat": "{{status}} " + LEG},
], 12, 61, "ops", "The same faults by fault status class.", stack=True)

row("kvm-lazytop itself", 69)
panel("Tool CPU", [
    {"expr": f'sum by (instance) (rate(process_cpu_seconds_total{{{SELI}}}[{RI}]) * on (job, instance) {SELF})',
     "legendFormat": "collector {{instance}}"},
    {"expr": f'sum by (instance) (rate(kvm_lazytop_bpf_run_time_seconds_total{{{SELI}}}[{RI}]))', "legendFormat": "BPF {{instance}}"},
    {"expr": f'topk(5, sum by (instance, program) (rate(kvm_lazytop_bpf_program_run_time_seconds_total{{{SELI}}}[{RI}])))',
     "legendFormat": "{{program}} {{instance}}"},
], 0, 70, "percentunit", "Fraction of one core: the collector process and its BPF programs (bpf_stats).")
panel("Tool memory", [
    {"expr": f'max by (instance) (process_resident_memory_bytes{{{SELI}}} * on (job, instance) {SELF})',
     "legendFormat": "RSS {{instance}}"},
], 12, 70, "bytes", "Resident memory of the kvm-lazytop process.")
panel("Dropped events", [
    {"expr": f'sum by (instance, reason) (increase(kvm_lazytop_drops_total{{{SELI}}}[{RI}]))', "legendFormat": "{{reason}} {{instance}}"},
], 0, 78, "short", "Events the BPF programs could not record (full maps, clock skew): counts are incomplete when > 0.")
panel("Probe states", [
    {"expr": f'sum by (instance, state) (kvm_lazytop_probe_status{{{SELI}}})', "legendFormat": "{{state}} {{instance}}"},
], 12, 78, "short", "Number of BPF signals attached / missing / refused (refused under lockdown is expected; "
   "see the KvmLazytopProbeRefused alert).")


def var(name, label, query, multi=True):
    return {"name": name, "label": label, "type": "query", "datasource": DS,
            "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
            "definition": query, "refresh": 2, "includeAll": True, "multi": multi,
            "allValue": ".*", "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
            "sort": 1}


dash = {
    "__requires": [{"type": "grafana", "id": "grafana", "name": "Grafana", "version": "10.0.0"},
                   {"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"},
                   {"type": "panel", "id": "timeseries", "name": "Time series", "version": ""},
                   {"type": "panel", "id": "heatmap", "name": "Heatmap", "version": ""}],
    "title": "kvm-lazytop", "uid": "kvm-lazytop", "tags": ["kvm", "ebpf", "kvm-lazytop"],
    "timezone": "browser", "schemaVersion": 38, "version": 1, "editable": True,
    "time": {"from": "now-1h", "to": "now"}, "refresh": "30s",
    "templating": {"list": [
        {"name": "datasource", "label": "Datasource", "type": "datasource", "query": "prometheus",
         "current": {}, "hide": 0, "includeAll": False, "multi": False, "refresh": 1,
         "regex": "", "options": []},
        var("instance", "instance", "label_values(kvm_lazytop_build_info, instance)"),
        var("vm", "VM", 'label_values(kvm_lazytop_vm_info{instance=~"$instance"}, vm_name)'),
        var("vcpu", "vCPU", 'label_values(kvm_lazytop_kvm_runs_total{instance=~"$instance",vm_name=~"$vm"}, vcpu)'),
    ]},
    "panels": panels,
    "annotations": {"list": []},
}
out = sys.argv[1] if len(sys.argv) > 1 else \
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "kvm-lazytop.json")
with open(out, "w") as f:
    json.dump(dash, f, indent=2)
    f.write("\n")
