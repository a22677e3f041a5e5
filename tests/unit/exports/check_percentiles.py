#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""One histogram, one set of numbers (issue 15).

Runs `report`, `diff`, `report --html` and `gate` of the kvm-lazytop
exporter driver on the same snapshots and checks that all four print the
p50 and p99 of every histogram as recomputed from its buckets with the
SNAPSHOT.md rule (computed here independently, in integer arithmetic).
The stored "p50".."p999" members must not matter: golden.json stores 0 for
all of them, so a renderer that trusts them fails here.

usage: check_percentiles.py KL-EXPORTS [SNAPSHOT.json...]
(default snapshots: tests/unit/exports/data/golden.json and arm64.json)
"""
import html
import json
import os
import re
import subprocess
import sys
import tempfile

UINT64_MAX = (1 << 64) - 1
KL_HIST_SUB_BITS = 3
KL_HIST_MAX_POW = 40
PCTS = (("p50", 500), ("p99", 990))


def bucket_lo(le):
    """kl_hist.h: lower bound of the bucket that holds value le."""
    if le < 8:
        return le
    p = le.bit_length() - 1
    if p > KL_HIST_MAX_POW:
        return (8 + 7) << (KL_HIST_MAX_POW - KL_HIST_SUB_BITS)
    return le - le % (1 << (p - KL_HIST_SUB_BITS))


def percentile(buckets, permille):
    """SNAPSHOT.md: rank ceil(q*count), lo + floor((le-lo)*k/n); open last bucket -> lo."""
    count = sum(n for _, n in buckets)
    if not count:
        return None
    rank = max(1, -(-count * permille // 1000))
    cum = 0
    for le, n in buckets:
        if n and cum + n >= rank:
            lo = bucket_lo(le)
            if le == UINT64_MAX or lo == (8 + 7) << (KL_HIST_MAX_POW - KL_HIST_SUB_BITS):
                return lo
            return lo + (le - lo) * (rank - cum) // n
        cum += n
    raise AssertionError("bucket counts do not add up")


def fmt_ns(ns):
    """snap_fmt_ns (snap_stats.c), the one formatter of the renderers."""
    if ns is None:
        return "-"
    if ns < 1e3:
        return "%.0fns" % ns
    if ns < 1e6:
        return "%.2fus" % (ns / 1e3)
    if ns < 1e9:
        return "%.2fms" % (ns / 1e6)
    return "%.2fs" % (ns / 1e9)


def expected(snap):
    """{histogram: {"p50": int, "p99": int}} over every VM (buckets merged by le)."""
    merged = {}
    for vm in snap["vms"]:
        for name, h in vm.get("histograms", {}).items():
            m = merged.setdefault(name, {})
            for b in h["buckets"]:
                m[b["le"]] = m.get(b["le"], 0) + b["count"]
    out = {}
    for name, m in merged.items():
        b = sorted(m.items())
        if sum(n for _, n in b):
            out[name] = {k: percentile(b, q) for k, q in PCTS}
    return out


def run(argv, ok=(0,)):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode not in ok:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(argv), r.returncode, r.stderr.strip()))
    return r.stdout


def from_report(kl, path):
    """Text view: "    NAME  COUNT  MEAN  P50  P90  P99  P999" rows of the histogram table."""
    out, rows = run([kl, "report", path]), {}
    table = False
    for line in out.splitlines():
        f = line.split()
        if f[:2] == ["histogram", "count"]:
            table = True
            continue
        if table and len(f) == 7 and line.startswith("    "):
            rows[f[0]] = {"p50": f[3], "p99": f[5]}
        else:
            table = False
    return rows


def from_diff(kl, path):
    """`diff A A`: "  NAME: count N -> N" then "    p50  X -> X  r" (BASE column)."""
    out, rows, cur = run([kl, "diff", path, path]), {}, None
    for line in out.splitlines():
        m = re.match(r"^  (\w+): count \d+ -> \d+$", line)
        if m:
            cur = rows.setdefault(m.group(1), {})
            continue
        m = re.match(r"^    (p50|p99) +(\S+) -> ", line)
        if m and cur is not None:
            cur[m.group(1)] = m.group(2)
    return rows


def from_html(kl, path, tmp):
    """report --html: <h3>NAME</h3> then <tr><td>A</td><td>count</td><td>p50</td>..."""
    page = os.path.join(tmp, "r.html")
    run([kl, "report", "--html", page, path])
    text, rows = open(page, encoding="utf-8").read(), {}
    for m in re.finditer(r"<h3>(\w+)</h3>\n<table class=\"pct\">.*?\n<tr>(.*?)</tr>", text):
        cells = [html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", m.group(2))]
        rows[m.group(1)] = {"p50": cells[2], "p99": cells[4]}
    return rows


def from_gate(kl, path, names, tmp):
    """gate rules NAME.p50 >= 0, NAME.p99 >= 0: "value X ns" (printf %g)."""
    rules, keys = os.path.join(tmp, "pct.rules"), []
    with open(rules, "w") as f:
        for n in names:
            for k, _ in PCTS:
                f.write("%s.%s >= 0\n" % (n, k))
                keys.append((n, k))
    out, rows, rule = run([kl, "gate", "--rules", rules, path]), {}, None
    for line in out.splitlines():
        m = re.match(r"^PASS  \S+:(\d+)  ", line)
        if m:
            rule = keys[int(m.group(1)) - 1]
            continue
        m = re.match(r"^      value (\S+) ns", line)
        if m and rule:
            rows.setdefault(rule[0], {})[rule[1]] = m.group(1)
            rule = None
    return rows


def main():
    if len(sys.argv) < 2 or not os.access(sys.argv[1], os.X_OK):
        print("check_percentiles: usage: check_percentiles.py KL-EXPORTS [SNAPSHOT...] "
              "(KL-EXPORTS must be an executable)", file=sys.stderr)
        return 2
    kl = sys.argv[1]
    top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
    snaps = sys.argv[2:] or [os.path.join(top, "golden.json"), os.path.join(top, "arm64.json")]
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for path in snaps:
            snap = json.load(open(path))
            if len(snap["vms"]) != 1:
                print("FAIL %s: report prints per VM, the others merge VMs: use a one-VM snapshot"
                      % path)
                failed += 1
                continue
            exp = expected(snap)
            if not exp:
                print("FAIL %s: no histogram with samples" % path)
                failed += 1
                continue
            got = {"report": from_report(kl, path), "diff": from_diff(kl, path),
                   "html": from_html(kl, path, tmp), "gate": from_gate(kl, path, sorted(exp), tmp)}
            for name in sorted(exp):
                for k, _ in PCTS:
                    want = exp[name][k]
                    line = ["%s %s %s: buckets %d (%s)" % (os.path.basename(path), name, k, want,
                                                           fmt_ns(want))]
                    bad = False
                    for who in ("report", "diff", "html", "gate"):
                        val = got[who].get(name, {}).get(k)
                        ok = val == ("%g" % want if who == "gate" else fmt_ns(want))
                        bad = bad or not ok
                        line.append("%s %s%s" % (who, val, "" if ok else " (MISMATCH)"))
                    print(("FAIL " if bad else "ok   ") + ", ".join(line))
                    if bad:
                        failed += 1
                    else:
                        passed += 1
    print("check_percentiles: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
