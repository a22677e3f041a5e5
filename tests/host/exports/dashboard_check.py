#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Static checks of the Grafana dashboard (issue 14, item 7):
  generated  the committed dashboards/kvm-lazytop.json is byte-for-byte what
             dashboards/gen-dashboard.py writes;
  datasource a ${datasource} template variable (type datasource, query
             prometheus) is the datasource of every panel and target; no
             ${DS_PROMETHEUS} / __inputs (they only resolve through Import);
  group-by   every aggregation of per-VM series keeps vm_pid and vm_name
             (like the recording rules), except a heatmap's "by (le)";
  panels     exit-reason, exit-latency-by-reason and pKVM panels exist;
  units      every panel has one unit that fits all its expressions
             (bytes only for *_bytes, s for latency quantiles, percentunit
             for ratios and CPU shares, rates in ops or a per-second suffix).
Prints "dashboard_check: N passed, M failed".
usage: dashboard_check.py DASHBOARDS_DIR"""
import json
import os
import re
import subprocess
import sys
import tempfile

passed = failed = 0


def result(ok, what):
    global passed, failed
    if ok:
        passed += 1
        print(f"  ok   {what}")
    else:
        failed += 1
        print(f"  FAIL {what}")


def by_clauses(expr):
    return [[x.strip() for x in m.split(",") if x.strip()]
            for m in re.findall(r"\bby\s*\(([^)]*)\)", expr)]


def unit_fits(unit, expr):
    """Whether unit is right for expr; returns an error string or None."""
    is_bytes = re.search(r"_bytes\b", expr) is not None
    is_quantile = expr.startswith("histogram_quantile(")
    is_ratio = " / " in expr or "_seconds_total" in expr     # share, or CPU seconds per second
    is_rate = re.search(r"\b(rate|increase)\(", expr) is not None
    if is_bytes:
        return None if unit == "bytes" else f"a *_bytes expression with unit {unit}"
    if unit == "bytes":
        return "unit bytes for an expression that is not in bytes"
    if is_quantile:
        return None if unit == "s" else f"a latency quantile with unit {unit}"
    if is_ratio:
        return None if unit == "percentunit" else f"a ratio / CPU share with unit {unit}"
    if unit in ("percentunit", "s"):
        return f"unit {unit} for a count or rate"
    if is_rate and "increase(" not in expr and not (unit == "ops" or unit.startswith("suffix:")):
        return f"a per-second rate with unit {unit}"
    return None


def main():
    d = sys.argv[1]
    committed = os.path.join(d, "kvm-lazytop.json")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "gen.json")
        r = subprocess.run([sys.executable, os.path.join(d, "gen-dashboard.py"), out],
                           capture_output=True, text=True)
        same = r.returncode == 0 and os.path.exists(out) and \
            open(out, "rb").read() == open(committed, "rb").read()
        result(same, "generated: kvm-lazytop.json equals gen-dashboard.py's output"
               + ("" if same else " (run: make dashboards)" + (r.stderr and ": " + r.stderr.strip())))
    raw = open(committed).read()
    dash = json.loads(raw)

    tv = [v for v in dash["templating"]["list"] if v.get("type") == "datasource"]
    result(len(tv) == 1 and tv[0]["name"] == "datasource" and tv[0].get("query") == "prometheus",
           "datasource: one template variable ${datasource} of type datasource, query prometheus")
    bad = []
    for p in dash["panels"]:
        if p["type"] == "row":
            continue
        for o in [p] + p.get("targets", []):
            if o.get("datasource", {}).get("uid") != "${datasource}":
                bad.append(p["title"])
    for v in dash["templating"]["list"]:
        if v["type"] == "query" and v["datasource"].get("uid") != "${datasource}":
            bad.append("variable " + v["name"])
    result(not bad, "datasource: every panel, target and query variable uses ${datasource}"
           + (f" (not: {sorted(set(bad))})" if bad else ""))
    result("DS_PROMETHEUS" not in raw and "__inputs" not in dash,
           "datasource: no ${DS_PROMETHEUS} / __inputs (Import-only placeholders)")

    bad = []
    exprs = []
    for p in dash["panels"]:
        for t in p.get("targets", []):
            e = t["expr"]
            exprs.append((p, e))
            if 'vm_name=~"$vm"' not in e:
                continue            # not per-VM (tool, probes)
            for by in by_clauses(e):
                if p["type"] == "heatmap" and by == ["le"]:
                    continue
                if "vm_pid" not in by or "vm_name" not in by:
                    bad.append(f"{p['title']}: by ({', '.join(by)})")
    result(not bad, "group-by: per-VM aggregations keep (vm_pid, vm_name)"
           + (f"; not: {bad}" if bad else ""))

    def has(pattern):
        return any(re.search(pattern, e) for _, e in exprs)
    result(has(r"kvm_lazytop_exit_reasons_total") and has(r"kvm_lazytop_userspace_exit_reasons_total"),
           "panels: guest exit reasons and VMM exit reasons")
    result(has(r"by \(le, [^)]*reason\) \(rate\(kvm_lazytop_(host_)?exit_latency_seconds_bucket"),
           "panels: exit latency by reason")
    result(has(r"kvm_lazytop_pkvm_state_syncs_total") and has(r"kvm_lazytop_guest_faults_total"),
           "panels: pKVM state syncs and arm64 guest faults")

    bad = []
    for p in dash["panels"]:
        if p["type"] == "row":
            continue
        unit = p.get("fieldConfig", {}).get("defaults", {}).get("unit")
        if not unit:
            bad.append(f"{p['title']}: no unit")
            continue
        if p["type"] == "heatmap":
            continue
        for t in p["targets"]:
            err = unit_fits(unit, t["expr"])
            if err:
                bad.append(f"{p['title']} {t['refId']}: {err}")
    result(not bad, "units: one fitting unit per panel" + (f"; not: {bad}" if bad else ""))
    print(f"dashboard_check: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
