#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Generate dashboards/kvm-lazytop.json (Grafana dashboard, importable with
a Prometheus datasource via __inputs).  Run after editing; the JSON is
committed and its PromQL is checked against a live Prometheus by
tests/host/exports (every "expr" must evaluate)."""
import json
import os

SEL = 'instance=~"$instance",vm_name=~"$vm",vcpu=~"$vcpu"'
SELV = 'instance=~"$instance",vm_name=~"$vm"'
DS = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
RI = "$__rate_interval"
panels = []


def panel(title, kind, targets, x, y, w=12, h=8, unit=None, desc="", extra=None):
    p = {"id": len(panels) + 1, "title": title, "type": kind, "datasource": DS,
         "description": desc, "gridPos": {"x": x, "y": y, "w": w, "h": h},
         "targets": [dict(refId=chr(65 + i), datasource=DS, **t) for i, t in enumerate(targets)],
         "fieldConfig": {"defaults": {}, "overrides": []}, "options": {}}
    if unit:
        p["fieldConfig"]["defaults"]["unit"] = unit
    if extra:
        p.update(extra)
    panels.append(p)


def ratio(metric, fast):
    return (f'sum by (vm_name) (rate({metric}{{{SEL},{fast}}}[{RI}])) / '
            f'sum by (vm_name) (rate({metric}{{{SEL}}}[{RI}]))')


panel("Fast-path hit rates", "timeseries", [
    {"expr": ratio("kvm_lazytop_gstage_faults_total", 'path="fast"'), "legendFormat": "gstage_fault {{vm_name}}"},
    {"expr": ratio("kvm_lazytop_vcpu_loads_total", 'path="fast"'), "legendFormat": "vcpu_load {{vm_name}}"},
    {"expr": ratio("kvm_lazytop_reload_predictions_total", 'reason="same_cpu"'), "legendFormat": "reload same_cpu {{vm_name}}"},
], 0, 0, unit="percentunit", desc="Share of G-stage faults / vCPU loads that took the fast path (needs the RISC-V series tracepoints); reload prediction from scheduling works everywhere.")
panel("Slow-path reasons", "timeseries", [
    {"expr": f'sum by (reason) (rate(kvm_lazytop_gstage_faults_total{{{SEL},path="slow"}}[{RI}]))', "legendFormat": "{{reason}}"},
], 12, 0, unit="ops", desc="G-stage faults that missed the fast path, by the reason the kernel gave.",
    extra={"fieldConfig": {"defaults": {"unit": "ops", "custom": {"stacking": {"mode": "normal"}, "fillOpacity": 30}}, "overrides": []}})
panel("Fault latency heatmap", "heatmap", [
    {"expr": f'sum by (le) (rate(kvm_lazytop_fault_latency_seconds_bucket{{{SELV}}}[{RI}]))', "format": "heatmap", "legendFormat": "{{le}}"},
], 0, 8, desc="Store guest-page-fault exit-to-entry time.",
    extra={"options": {"calculate": False, "yAxis": {"unit": "s"}, "cellGap": 1, "color": {"scheme": "Oranges", "mode": "scheme"}}})
panel("Latency p50 / p99", "timeseries", [
    {"expr": f'histogram_quantile(0.5, sum by (le, vm_name) (rate(kvm_lazytop_fault_latency_seconds_bucket{{{SELV}}}[{RI}])))', "legendFormat": "fault p50 {{vm_name}}"},
    {"expr": f'histogram_quantile(0.99, sum by (le, vm_name) (rate(kvm_lazytop_fault_latency_seconds_bucket{{{SELV}}}[{RI}])))', "legendFormat": "fault p99 {{vm_name}}"},
    {"expr": f'histogram_quantile(0.5, sum by (le, vm_name) (rate(kvm_lazytop_kvm_run_seconds_bucket{{{SELV}}}[{RI}])))', "legendFormat": "KVM_RUN p50 {{vm_name}}"},
    {"expr": f'histogram_quantile(0.99, sum by (le, vm_name) (rate(kvm_lazytop_kvm_run_seconds_bucket{{{SELV}}}[{RI}])))', "legendFormat": "KVM_RUN p99 {{vm_name}}"},
    {"expr": f'histogram_quantile(0.99, sum by (le, vm_name) (rate(kvm_lazytop_exit_latency_seconds_bucket{{{SELV}}}[{RI}])))', "legendFormat": "exit p99 {{vm_name}}"},
], 12, 8, unit="s")
panel("vcpu_load reasons", "timeseries", [
    {"expr": f'sum by (reason) (rate(kvm_lazytop_vcpu_loads_total{{{SEL}}}[{RI}]))', "legendFormat": "{{reason}}"},
], 0, 16, unit="ops", extra={"fieldConfig": {"defaults": {"unit": "ops", "custom": {"stacking": {"mode": "normal"}, "fillOpacity": 30}}, "overrides": []}})
panel("Dirty pages / s", "timeseries", [
    {"expr": f'sum by (vm_name) (rate(kvm_lazytop_dirty_pages_total{{{SEL}}}[{RI}]))', "legendFormat": "{{vm_name}}"},
    {"expr": f'sum by (vm_name) (rate(kvm_lazytop_kvm_runs_total{{{SEL}}}[{RI}]))', "legendFormat": "KVM_RUN/s {{vm_name}}"},
    {"expr": f'sum by (vm_name, reason) (rate(kvm_lazytop_userspace_exit_reasons_total{{{SELV}}}[{RI}]))', "legendFormat": "{{reason}} {{vm_name}}"},
], 12, 16, unit="ops")
panel("Tool overhead", "timeseries", [
    {"expr": f'sum by (instance) (rate(kvm_lazytop_collector_cpu_seconds_total{{instance=~"$instance"}}[{RI}]))', "legendFormat": "collector CPU {{instance}}"},
    {"expr": f'sum by (instance) (rate(kvm_lazytop_bpf_run_time_seconds_total{{instance=~"$instance"}}[{RI}]))', "legendFormat": "BPF CPU {{instance}}"},
    {"expr": f'topk(5, sum by (program) (rate(kvm_lazytop_bpf_program_run_time_seconds_total{{instance=~"$instance"}}[{RI}])))', "legendFormat": "{{program}}"},
], 0, 24, unit="percentunit", desc="Fraction of one core.")
panel("Tool health", "timeseries", [
    {"expr": 'max by (instance) (kvm_lazytop_collector_resident_memory_bytes{instance=~"$instance"})', "legendFormat": "RSS {{instance}}"},
    {"expr": f'sum by (reason) (increase(kvm_lazytop_drops_total{{instance=~"$instance"}}[{RI}]))', "legendFormat": "drops {{reason}}"},
    {"expr": 'sum by (state) (kvm_lazytop_probe_status{instance=~"$instance"})', "legendFormat": "probes {{state}}"},
], 12, 24, unit="short")


def var(name, label, query, multi=True):
    return {"name": name, "label": label, "type": "query", "datasource": DS,
            "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
            "definition": query, "refresh": 2, "includeAll": True, "multi": multi,
            "allValue": ".*", "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
            "sort": 1}


dash = {
    "__inputs": [{"name": "DS_PROMETHEUS", "label": "Prometheus", "description": "",
                  "type": "datasource", "pluginId": "prometheus", "pluginName": "Prometheus"}],
    "__requires": [{"type": "grafana", "id": "grafana", "name": "Grafana", "version": "10.0.0"},
                   {"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"},
                   {"type": "panel", "id": "timeseries", "name": "Time series", "version": ""},
                   {"type": "panel", "id": "heatmap", "name": "Heatmap", "version": ""}],
    "title": "kvm-lazytop", "uid": "kvm-lazytop", "tags": ["kvm", "ebpf", "kvm-lazytop"],
    "timezone": "browser", "schemaVersion": 38, "version": 1, "editable": True,
    "time": {"from": "now-1h", "to": "now"}, "refresh": "30s",
    "templating": {"list": [
        var("instance", "instance", "label_values(kvm_lazytop_build_info, instance)"),
        var("vm", "VM", 'label_values(kvm_lazytop_vm_info{instance=~"$instance"}, vm_name)'),
        var("vcpu", "vCPU", 'label_values(kvm_lazytop_kvm_runs_total{instance=~"$instance",vm_name=~"$vm"}, vcpu)'),
    ]},
    "panels": panels,
    "annotations": {"list": []},
}
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kvm-lazytop.json")
with open(out, "w") as f:
    json.dump(dash, f, indent=2)
    f.write("\n")
