#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check an HTML report rendered by headless Chromium.
usage: html_check.py DOM.html SCREENSHOT.png A.json [B.json]
 - the expected charts exist with the expected number of bars / series
   (computed here independently from the snapshots);
 - the screenshot is not blank (pixel variance)."""
import json
import re
import sys
import zlib

FAM = {
    "vcpu_load": (["vcpu_load_" + r for r in "fast first_load other_pcpu csr_dirty cpu_reset other_vcpu".split()], ["vcpu_load_fast"]),
    "gstage_fault": (["gstage_fault_" + r for r in "fast spurious not_write not_logging no_leaf huge_leaf not_host_writable inval_retry pte_changed retry_limit".split()],
                     ["gstage_fault_fast", "gstage_fault_spurious"]),
    "reload_pred": (["reload_pred_same_cpu", "reload_pred_migrated", "reload_pred_other_vcpu"], ["reload_pred_same_cpu"]),
    "pte_update_outcome": (["pte_update_updated", "pte_update_noop", "pte_update_abort_not_leaf", "pte_update_abort_retries"], ["pte_update_updated"]),
    "pkvm_sync_to_hyp": (["pkvm_sync_to_hyp_" + r for r in "flush_dirty skip_hyp_current load_failed protected".split()],
                         ["pkvm_sync_to_hyp_skip_hyp_current"]),
    "pkvm_sync_to_host": (["pkvm_sync_to_host_" + r for r in "sync_trap sync_serror sync_exit sync_debug sync_put sync_adjust_pc "
                           "skip_irq skip_host_current skip_sched_out sync_migrate fetch_failed".split()],
                          ["pkvm_sync_to_host_skip_irq", "pkvm_sync_to_host_skip_host_current",
                           "pkvm_sync_to_host_skip_sched_out"]),
}
HISTS = "fault_latency_ns fault_latency_fast_ns fault_latency_slow_ns exit_latency_ns vcpu_load_ns kvm_run_ns offcpu_ns".split()


def has_counter(s, c):
    vms = s["vms"]
    return any(c in vm.get("counters", {}) for vm in vms) or (not vms and c not in s.get("unavailable", []))


def total(s, c):
    return sum(vm.get("counters", {}).get(c, 0) for vm in s["vms"])


def expected(snaps):
    exp = {}
    hit = 0
    for f, (members, fast) in FAM.items():
        hit += sum(1 for s in snaps if all(has_counter(s, m) for m in members) and sum(total(s, m) for m in members))
    hit += sum(1 for s in snaps if sum(vm.get("prediction", {}).get("loads_compared", 0) for vm in s["vms"]))
    exp["hit-rates"] = hit
    slow = [m for m in FAM["gstage_fault"][0] if m not in FAM["gstage_fault"][1]]
    any_gf = any(has_counter(s, m) for s in snaps for m in slow)
    exp["slow-path"] = sum(1 for s in snaps for m in slow if has_counter(s, m)) if any_gf else 0
    any_vl = any(has_counter(s, m) for s in snaps for m in FAM["vcpu_load"][0])
    exp["vcpu-load"] = sum(1 for s in snaps for m in FAM["vcpu_load"][0] if has_counter(s, m)) if any_vl else 0
    pk = FAM["pkvm_sync_to_hyp"][0] + FAM["pkvm_sync_to_host"][0]
    any_pk = any(has_counter(s, m) for s in snaps for m in pk)
    exp["pkvm-sync"] = sum(1 for s in snaps for m in pk if has_counter(s, m)) if any_pk else 0
    series = {}
    for h in HISTS:
        n = sum(1 for s in snaps if sum(vm.get("histograms", {}).get(h, {}).get("count", 0) for vm in s["vms"]))
        if n:
            series["hist-" + h] = n
    return exp, series


def png_variance(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        ln = int.from_bytes(data[pos:pos + 4], "big")
        typ = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + ln]
        if typ == b"IHDR":
            w, h, depth, ctype = int.from_bytes(body[:4], "big"), int.from_bytes(body[4:8], "big"), body[8], body[9]
        elif typ == b"IDAT":
            idat += body
        pos += 12 + ln
    raw = zlib.decompress(idat)
    bpp = {2: 3, 6: 4, 0: 1, 4: 2}[ctype]
    stride = w * bpp
    # sample filter-type-0 rows only is wrong; reconstruct properly (Sub/Up/Avg/Paeth)
    prev = bytearray(stride)
    vals = []
    for y in range(h):
        f = raw[y * (stride + 1)]
        row = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = row[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                row[i] = (row[i] + a) & 255
            elif f == 2:
                row[i] = (row[i] + b) & 255
            elif f == 3:
                row[i] = (row[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        if y % 4 == 0:
            vals.extend(row[0:stride:bpp * 4])
        prev = row
    mean = sum(vals) / len(vals)
    return w, h, sum((v - mean) ** 2 for v in vals) / len(vals), len(set(vals))


def main():
    dom = open(sys.argv[1]).read()
    snaps = [json.load(open(p)) for p in sys.argv[3:]]
    exp, series = expected(snaps)
    bad = 0
    for chart, n in exp.items():
        m = re.search(r'<svg[^>]*data-chart="%s"[^>]*>(.*?)</svg>' % chart, dom, re.S)
        got = len(re.findall(r'<rect[^>]*data-bar=', m.group(1))) if m else -1
        ok = got == n
        bad += not ok
        print(f"{'ok  ' if ok else 'FAIL'} chart {chart}: {got} bars (expected {n})")
    for chart, n in series.items():
        m = re.search(r'<svg[^>]*data-chart="%s"[^>]*>(.*?)</svg>' % chart, dom, re.S)
        got = len(re.findall(r'<path[^>]*data-series=', m.group(1))) if m else -1
        ok = got == n
        bad += not ok
        print(f"{'ok  ' if ok else 'FAIL'} chart {chart}: {got} series (expected {n})")
    nsvg = len(re.findall(r"<svg", dom))
    print(f"     {nsvg} <svg> elements in the rendered DOM")
    w, h, var, ncol = png_variance(sys.argv[2])
    ok = var > 50 and ncol > 4
    bad += not ok
    print(f"{'ok  ' if ok else 'FAIL'} screenshot {w}x{h}: pixel variance {var:.1f}, {ncol} distinct levels")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
