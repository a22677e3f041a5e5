#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Evaluate every PromQL expression of the Grafana dashboard and of the rule
files against a live Prometheus.  Every expression must evaluate without
error; every expression whose metrics exist on this host must return data;
expressions whose metrics are absent (their BPF signal does not fire here)
are LISTED.  usage: promql_check.py PROM_URL DASHBOARDS_DIR"""
import json
import re
import sys
import urllib.parse
import urllib.request

import yaml

VARS = {"$__rate_interval": "30s", "$__interval": "5s", "$instance": ".*", "$vm": ".*", "$vcpu": ".*"}


def query(url, expr):
    q = urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(f"{url}/api/v1/query?{q}", timeout=10) as r:
        return json.load(r)


def metrics_of(expr):
    names = set(re.findall(r"\b(kvm_lazytop_[a-z0-9_]+|kvm_lazytop:[a-z0-9_:]+|process_[a-z_]+|up)\b", expr))
    return {re.sub(r"_(bucket|sum|count)$", "", n) if n.endswith("_bucket") else n for n in names}


def exists(url, name):
    for n in (name, name + "_bucket"):
        r = query(url, f'count({{__name__="{n}"}})')
        if r["status"] == "success" and r["data"]["result"]:
            return True
    return False


def main():
    url, d = sys.argv[1], sys.argv[2]
    exprs = []
    dash = json.load(open(f"{d}/kvm-lazytop.json"))
    for p in dash["panels"]:
        for t in p.get("targets", []):     # rows have none
            exprs.append((f"panel '{p['title']}' {t['refId']}", t["expr"], False))
    for v in dash["templating"]["list"]:
        if v["type"] != "query":            # the datasource variable
            continue
        m = re.match(r"label_values\((.*),\s*(\w+)\)$", v["query"]["query"])
        exprs.append((f"variable {v['name']}", m.group(1) if m else v["query"]["query"], False))
    for f in ("rules/kvm-lazytop.rules.yml", "rules/kvm-lazytop.alerts.yml"):
        for g in yaml.safe_load(open(f"{d}/{f}"))["groups"]:
            for r in g["rules"]:
                name = r.get("record") or r.get("alert")
                exprs.append((f"{f} {name}", r["expr"], "alert" in r))
    bad = nodata = data = 0
    for name, expr, alert in exprs:
        e = expr
        for k, v in VARS.items():
            e = e.replace(k, v)
        res = query(url, e)
        if res.get("status") != "success":
            print(f"ERROR   {name}: {res.get('error')}")
            bad += 1
            continue
        probe = e
        if alert:   # an alert need not fire: check that its left side has data
            probe = re.sub(r"\s*(==|!=|<=|>=|<|>)\s*[0-9.eE+-]+\s*$", "", e.strip())
            res = query(url, probe)
        n = len(res["data"]["result"])
        if n:
            data += 1
            vals = [s["value"][1] for s in res["data"]["result"][:3]]
            print(f"DATA    {name}: {n} series, e.g. {vals}")
            continue
        missing = sorted(m for m in metrics_of(probe) if not exists(url, m))
        if missing:
            nodata += 1
            print(f"NO-DATA {name}: needs {', '.join(missing)} (not produced on this host)")
        else:
            bad += 1
            print(f"EMPTY   {name}: all its metrics exist but the expression returned nothing: {probe}")
    print(f"promql: {len(exprs)} expressions: {data} with data, {nodata} listed as "
          f"unavailable on this host, {bad} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
