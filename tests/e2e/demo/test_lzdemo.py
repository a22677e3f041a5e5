#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Unit tests of `lzdemo.py paired` (the make demo summary) on synthetic
result directories: the kernel effect comes from the detached runs only,
the tool effect from the pairs, the FAST share counts only write faults on
write-protected 4K leaves, and a missing or unequal run is an error."""
import io
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lzdemo  # noqa: E402


def perf_text(dirty_s, clear_s=0.01, populate_s=2.0, iters=3):
    lines = ["Testing guest mode: PA-bits:52,  VA-bits:48,  4K pages",
             "Populate memory time: %.6fs" % populate_s]
    for i in range(1, iters + 1):
        lines.append("Iteration %d dirty memory time: %.6fs" % (i, dirty_s))
        lines.append("Iteration %d clear dirty log time: %.6fs" % (i, clear_s))
    return "\n".join(lines) + "\n"


def snap(counters, progs=()):
    return {"unavailable": [], "overhead": {"programs": [
        {"name": "p_" + s, "signal": s, "run_cnt": 10, "ns_per_event": ns} for s, ns in progs]},
        "target": {"pid": 7},
        "vms": [{"pid": 7, "counters": counters, "histograms": {
            "vcpu_load_ns": {"count": 4, "p50": 2000, "p99": 9000}}}]}


def make_side(d, plain, attached, counters, progs=()):
    os.makedirs(d, exist_ok=True)
    for r, (p, a) in enumerate(zip(plain, attached), 1):
        with open(os.path.join(d, "plain-%d.stdout" % r), "w") as f:
            f.write(perf_text(p))
        with open(os.path.join(d, "vmm-%d.stdout" % r), "w") as f:
            f.write(perf_text(a))
        with open(os.path.join(d, "lazytop-vmm-%d.stdout" % r), "w") as f:
            json.dump(snap(counters, progs), f)


class Paired(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.b = os.path.join(self.tmp.name, "base")
        self.p = os.path.join(self.tmp.name, "patched")

    def tearDown(self):
        self.tmp.cleanup()

    def run_paired(self):
        out, err = io.StringIO(), io.StringIO()
        old = sys.stderr
        sys.stderr = err
        try:
            rc = lzdemo.paired(self.b, self.p, out=out)
        finally:
            sys.stderr = old
        return rc, out.getvalue(), err.getvalue()

    def test_kernel_effect_uses_detached_runs_only(self):
        # attached runs are 4x slower on patched only: the kernel ratio
        # must still read 0.50x, the tool effect 2.00x vs 4.00x
        make_side(self.b, [2.0, 2.0, 2.0], [4.0, 4.0, 4.0], {})
        make_side(self.p, [1.0, 1.0, 1.0], [4.0, 4.0, 4.0], {})
        rc, out, _ = self.run_paired()
        self.assertEqual(rc, 0)
        line = [x for x in out.splitlines() if "dirty memory time / iter" in x][0]
        self.assertIn("0.50x [0.50..0.50]", line)
        tool = [x for x in out.splitlines() if "slowdown with kvm-lazytop" in x][0]
        self.assertIn("2.00x [2.00..2.00]", tool)
        self.assertIn("4.00x [4.00..4.00]", tool)

    def test_spread_is_per_run(self):
        make_side(self.b, [2.0, 2.0, 2.0], [2.0, 2.0, 2.0], {})
        make_side(self.p, [1.0, 0.5, 1.5], [1.0, 0.5, 1.5], {})
        _, out, _ = self.run_paired()
        line = [x for x in out.splitlines() if "dirty memory time / iter" in x][0]
        self.assertIn("0.50x [0.25..0.75]", line)

    def test_fast_share_counts_write_protected_faults_only(self):
        c = {"gstage_fault_" + r: 0 for r in lzdemo.FAULT_REASONS}
        c.update(gstage_fault_fast=300, gstage_fault_not_host_writable=100,
                 gstage_fault_not_logging=5000, gstage_fault_not_write=70)
        make_side(self.b, [2.0] * 3, [2.0] * 3, {})
        make_side(self.p, [1.0] * 3, [1.0] * 3, c)
        _, out, _ = self.run_paired()
        share = [x for x in out.splitlines() if x.strip().startswith("FAST share")][0]
        self.assertIn("n/a (no tracepoint)", share)
        self.assertIn("75.0% (300/400)", share)
        self.assertRegex(out, r"apart: not_logging\s+n/a \(no tracepoint\)\s+5000")

    def test_latency_shows_tool_cost_inside_window(self):
        make_side(self.b, [2.0] * 3, [2.0] * 3, {},
                  progs=[("fentry_vcpu_load", 1500.0), ("kvm_riscv_vcpu_load", 1000.0),
                         ("sched_switch", 9999.0)])
        make_side(self.p, [1.0] * 3, [1.0] * 3, {})
        _, out, _ = self.run_paired()
        line = [x for x in out.splitlines() if x.strip().startswith("vcpu_load")][0]
        self.assertIn("2.0us / 9.0us; tool 2.5us (n=4)", line)

    def test_unequal_runs_fail(self):
        make_side(self.b, [2.0] * 3, [2.0] * 3, {})
        make_side(self.p, [1.0] * 2, [1.0] * 2, {})
        rc, _, err = self.run_paired()
        self.assertEqual(rc, 1)
        self.assertIn("paired runs missing or unequal", err)

    def test_run_without_figures_fails(self):
        make_side(self.b, [2.0] * 3, [2.0] * 3, {})
        make_side(self.p, [1.0] * 3, [1.0] * 3, {})
        with open(os.path.join(self.p, "vmm-2.stdout"), "w") as f:
            f.write("==== Test Assertion Failure ====\n")
        rc, _, err = self.run_paired()
        self.assertEqual(rc, 1)
        self.assertIn("patched: a vmm run printed no dirty memory time", err)


if __name__ == "__main__":
    r = unittest.main(exit=False, verbosity=1).result
    n = r.testsRun
    bad = len(r.failures) + len(r.errors)
    print("%d passed, %d failed" % (n - bad, bad))
    sys.exit(1 if bad else 0)
