#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""check-results.py - assertions on one patched-kernel run of
tests/e2e/arm64/run-selftests.sh (make check-arm64 / check-arm64-full).

usage: check-results.py --list LIST --results RESULTS [--console LOG]
                        (--base-verdicts FILE | --base-results FILE)
                        [--lazytop require|note]

Checks, each counted as one pass or one failure:
  boot       pKVM came up ("Protected hVHE/nVHE mode initialized
             successfully"), /dev/kvm present, the whole list ran
  verdicts   per test: base pass -> pass; base skip -> pass or skip;
             base fail -> reported only; no base verdict -> failure
  dmesg      no WARNING / BUG / Oops / panic / lockdep report /
             "sleeping function called from invalid context" / RCU
             splat / hung task in the console log
  tracing    kvm_arm_pkvm_state_sync was traced; no ring-buffer overrun
             in the tests whose counts are asserted
             and no failed fetch or load (fetch_failed, load_failed)
  arch_timer        share of exits that skipped the context copy > 0;
                    fetches outside exit handling (sync_put +
                    sync_migrate) reported against the skipped copies
  debug-exceptions  every exit of a run with host guest debug on synced
  lazy_state_test   exits skip (skip_irq) and entries skip the flush
                    (skip_hyp_current); at least half the exits skip
  lazy_state_debug  guest debug on throughout: no exit skips, and
                    interrupt exits sync for debug (sync_debug)
  lazy_state_test   also: scheduled out in the middle of KVM_RUN with the
                    context left in the hypervisor (skip_sched_out) and
                    loaded on another CPU, which fetched it (sync_migrate)
  lazy_state_dbgregs  guest with live debug registers (DEBUG_DIRTY): its
                    interrupt exits sync for debug (sync_debug > 0)
  lazytop    (+lazytop lines) the collector attached, exited 0 and wrote
             a JSON snapshot with per-reason sync/skip counts; with
             --lazytop note a missing collector is reported, not failed

Prints one line per check, a per-test table, and a last line
"check-arm64: N passed, N failed". Exit 0 if nothing failed, 1 if a
check failed, 2 on bad input.
"""
import argparse
import json
import os
import re
import sys

EXIT_REASONS = ("sync_trap", "sync_serror", "sync_exit", "sync_debug")
# Series v2 (patch 0004) appends skip_sched_out .. protected; kvm-lazytop
# decodes them all (bpf/kvm_lazytop.h KL_PKVM_REASONS), so every reason is
# compared with tracefs.
ALL_REASONS = ("flush_dirty", "sync_trap", "sync_serror", "sync_exit",
               "sync_debug", "sync_put", "sync_adjust_pc",
               "skip_hyp_current", "skip_irq", "skip_host_current",
               "skip_sched_out", "sync_migrate", "fetch_failed",
               "load_failed", "protected")
FAILED_REASONS = ("fetch_failed", "load_failed")
DMESG_BAD = re.compile(
    r"WARNING:|BUG:|Oops|Kernel panic|Unable to handle|lockdep|"
    r"possible (recursive|circular) locking|inconsistent lock state|"
    r"suspicious RCU usage|sleeping function called from invalid context|"
    r"rcu_.*detected stall|blocked for more than|Call trace:|"
    r"stack-protector|UBSAN|KASAN")
KERNEL_LINE = re.compile(r"^(DMESG: )?(<\d+>)?\[\s*\d+\.\d+\] ")


class Checker:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print(f"  {'ok  ' if ok else 'FAIL'} {what}{': ' + detail if detail else ''}")

    @staticmethod
    def note(what, detail):
        print(f"  note {what}: {detail}")


def read_list(path):
    names = []
    with open(path) as f:
        for line in f:
            words = line.split()
            if not words or words[0].startswith("#"):
                continue
            name = None
            rest = words[1:]
            opts = []
            while rest and rest[0].startswith("+"):
                opts.append(rest[0])
                if rest[0].startswith("+as="):
                    name = rest[0][4:]
                rest = rest[1:]
            if not rest:
                raise SystemExit(f"check-results.py: bad list line: {line.strip()}")
            names.append((name or os.path.basename(rest[0]), opts))
    return names


def verdict(rc):
    return "pass" if rc == "0" else "skip" if rc == "4" else "fail"


def read_results(path):
    rcs, secs, sync, lazytop, out = {}, {}, {}, {}, {}
    with open(path) as f:
        for line in f:
            w = line.split()
            if not w:
                continue
            if w[0] == "test" and len(w) >= 4:
                rcs[w[1]] = w[2]
                secs[w[1]] = w[3]
            elif w[0] == "sync" and len(w) >= 5:
                sync.setdefault(w[1], {})[(w[2], w[3])] = int(w[4])
            elif w[0] == "lazytop" and len(w) >= 3:
                lazytop[w[1]] = w[2]
            elif w[0] == "out" and len(w) >= 2:
                out.setdefault(w[1], []).append(line.split(None, 2)[2].rstrip() if len(w) > 2 else "")
    return rcs, secs, sync, lazytop, out


def read_base_verdicts(path):
    base = {}
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].split()
            if len(line) >= 2:
                if line[1] not in ("pass", "skip", "fail"):
                    raise SystemExit(f"check-results.py: bad verdict {line[1]} in {path}")
                base[line[0]] = line[1]
    return base


def count(sync, test, direction, reasons):
    s = sync.get(test, {})
    return sum(s.get((direction, r), 0) for r in reasons)


def lazytop_counts(doc):
    """Per-reason counts from a kvm-lazytop snapshot whose layout this
    script does not pin down: for each reason name, the largest integer
    found under a key of that name (a VM total is never smaller than
    any one vCPU's count)."""
    found = {}

    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                key = k.lower()
                for r in ALL_REASONS:
                    if key.endswith(r) and isinstance(v, int) and not isinstance(v, bool):
                        found[r] = max(found.get(r, 0), v)
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(doc)
    return found


def main():
    ap = argparse.ArgumentParser(add_help=True)
    ap.add_argument("--list", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--console")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--base-verdicts")
    g.add_argument("--base-results")
    ap.add_argument("--lazytop", choices=("require", "note"), default="note")
    ap.add_argument("--mode", choices=("hVHE", "nVHE"), default="hVHE",
                    help="pKVM mode the boot must report")
    a = ap.parse_args()
    for p in (a.list, a.results, a.base_verdicts or a.base_results):
        if not os.path.isfile(p):
            print(f"check-results.py: {p} missing", file=sys.stderr)
            return 2
    console = a.console or re.sub(r"\.txt$", "", a.results) + ".console.log"
    if not os.path.isfile(console):
        print(f"check-results.py: console log {console} missing", file=sys.stderr)
        return 2
    with open(console, errors="replace") as f:
        log = f.read().splitlines()

    tests = read_list(a.list)
    rcs, secs, sync, lazytop, out = read_results(a.results)
    if a.base_verdicts:
        base = read_base_verdicts(a.base_verdicts)
        base_src = os.path.basename(a.base_verdicts)
    else:
        brcs = read_results(a.base_results)[0]
        base = {k: verdict(v) for k, v in brcs.items()}
        base_src = os.path.basename(a.base_results)
    c = Checker()

    # ---- boot
    pkvm = [l for l in log if re.search(r"Protected [hn]VHE mode initialized successfully|Protected nVHE mode", l)]
    c.check(bool(pkvm), "boot: pKVM initialised",
            re.sub(r"^.*\] ", "", pkvm[0]) if pkvm else "no 'Protected hVHE/nVHE mode' line")
    c.check(any(f"Protected {a.mode} mode" in l for l in pkvm), f"boot: pKVM in {a.mode} mode",
            re.sub(r"^.*\] ", "", pkvm[0]) if pkvm else "no pKVM line")
    c.check(any("INIT: /dev/kvm present" in l for l in log), "boot: /dev/kvm present")
    missing = [n for n, _ in tests if n not in rcs]
    c.check(any(l == "SELFTEST-DONE" for l in log) and not missing,
            "boot: whole list ran", f"{len(rcs)} of {len(tests)} tests"
            + (f", missing {' '.join(missing)}" if missing else ""))

    # ---- verdicts
    for name, _ in tests:
        if name not in rcs:
            continue
        got = verdict(rcs[name])
        b = base.get(name)
        if b is None:
            c.check(False, f"verdict {name}", f"{got}; no base verdict recorded in {base_src}")
        elif b == "pass":
            c.check(got == "pass", f"verdict {name}", f"{got} (rc {rcs[name]}, {secs[name]} s), base pass")
        elif b == "skip":
            c.check(got in ("pass", "skip"), f"verdict {name}", f"{got} (rc {rcs[name]}), base skip")
        else:
            c.note(f"verdict {name}", f"{got} (rc {rcs[name]}), base fail: not asserted")

    # ---- dmesg
    bad = [l for l in log if KERNEL_LINE.match(l) and DMESG_BAD.search(l)]
    c.check(not bad, "dmesg: no WARNING/BUG/lockdep/sleeping-function/RCU reports",
            f"{len(bad)} line(s), first: {bad[0]}" if bad else "clean")

    # ---- tracing
    traced = any("INIT: tracing kvm_arm_pkvm_state_sync" in l for l in log)
    c.check(traced, "tracing: kvm_arm_pkvm_state_sync enabled",
            "" if traced else "event missing: not a patched kernel?")
    asserted = [n for n, _ in tests if n in ("arch_timer", "debug-exceptions",
                                            "lazy_state_test", "lazy_state_debug")]
    over = {n: sum(v for (d, r), v in sync.get(n, {}).items() if d == "overrun")
            for n in asserted}
    over = {n: v for n, v in over.items() if v}
    c.check(not over, "tracing: no ring-buffer overrun in asserted tests",
            ", ".join(f"{n} {v}" for n, v in over.items()))

    failed = {f"{n} {r}": v for n, g in sync.items() for (d, r), v in g.items()
              if r in FAILED_REASONS and v}
    c.check(not failed, "tracing: no failed context fetch or hypervisor load",
            ", ".join(f"{k} {v}" for k, v in sorted(failed.items())) or "none")

    def share(test):
        skip = count(sync, test, "to_host", ["skip_irq"])
        synced = count(sync, test, "to_host", EXIT_REASONS)
        return skip, synced, (skip / (skip + synced) if skip + synced else 0.0)

    names = [n for n, _ in tests]
    if "arch_timer" in names:
        skip, synced, sh = share("arch_timer")
        c.check(sh > 0, "arch_timer: exits that skipped the context copy > 0",
                f"skip_irq {skip}, synced exits {synced}, skip share {sh:.1%}")
        put = count(sync, "arch_timer", "to_host", ["sync_put"])
        mig = count(sync, "arch_timer", "to_host", ["sync_migrate"])
        kept = count(sync, "arch_timer", "to_host", ["skip_sched_out"])
        c.note("arch_timer: fetches outside exit handling",
               f"sync_put {put} + sync_migrate {mig} = "
               f"{(put + mig) / max(skip, 1):.1%} of {skip} skipped copies; "
               f"skip_sched_out {kept}")
    if "debug-exceptions" in names:
        g = sync.get("debug-exceptions", {})
        runs = g.get(("gdbg_runs", "setup_debug"), 0)
        gd = {r: v for (d, r), v in g.items() if d == "to_host_gdbg"}
        c.check(runs > 0 and sum(gd.values()) > 0,
                "debug-exceptions: runs with guest debug on were traced",
                f"{runs} runs, {sum(gd.values())} exits")
        c.check(sum(gd.values()) > 0 and gd.get("skip_irq", 0) == 0,
                "debug-exceptions: every exit with guest debug on synced",
                ", ".join(f"{r} {v}" for r, v in sorted(gd.items())) or "no exits")
    if "lazy_state_test" in names:
        skip, synced, sh = share("lazy_state_test")
        noflush = count(sync, "lazy_state_test", "to_hyp", ["skip_hyp_current"])
        c.check(skip > 0 and noflush > 0 and sh >= 0.5,
                "lazy_state_test: lazy exits and entries",
                f"skip_irq {skip}, synced exits {synced} (skip share {sh:.1%}), "
                f"skip_hyp_current {noflush}")
    if "lazy_state_test" in names:
        kept = count(sync, "lazy_state_test", "to_host", ["skip_sched_out"])
        mig = count(sync, "lazy_state_test", "to_host", ["sync_migrate"])
        c.check(kept > 0 and mig > 0,
                "lazy_state_test: context kept in the hypervisor across sched-out, fetched on a move",
                f"skip_sched_out {kept}, sync_migrate {mig}")
    if "lazy_state_dbgregs" in names:
        g = sync.get("lazy_state_dbgregs", {})
        dbg = g.get(("to_host", "sync_debug"), 0)
        c.check(dbg > 0,
                "lazy_state_dbgregs: interrupt exits with live debug registers synced for debug",
                f"sync_debug {dbg}, sync_trap {g.get(('to_host', 'sync_trap'), 0)}, "
                f"skip_irq {g.get(('to_host', 'skip_irq'), 0)}")
    if "lazy_state_debug" in names:
        g = sync.get("lazy_state_debug", {})
        gd = {r: v for (d, r), v in g.items() if d == "to_host_gdbg"}
        skip = g.get(("to_host", "skip_irq"), 0)
        dbg = g.get(("to_host", "sync_debug"), 0)
        c.check(sum(gd.values()) > 0 and skip == 0 and gd.get("skip_irq", 0) == 0 and dbg > 0,
                "lazy_state_debug: guest debug on, every exit synced",
                f"exits with guest debug on {sum(gd.values())} "
                f"({', '.join(f'{r} {v}' for r, v in sorted(gd.items()))}), "
                f"skip_irq {skip}, sync_debug {dbg}")

    # ---- kvm-lazytop beside a test
    lt_counts = {}
    for name, opts in tests:
        if "+lazytop" not in opts or name not in rcs:
            continue
        rc = lazytop.get(name, "not-run")
        if rc == "missing" and a.lazytop == "note":
            c.note(f"lazytop {name}", "no arm64 kvm-lazytop in this run (hook in place, not asserted)")
            continue
        path = re.sub(r"\.txt$", "", a.results) + f".lazytop-{name}.json"
        doc, err = None, ""
        try:
            with open(path) as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            err = str(e)
        c.check(rc == "0" and doc is not None, f"lazytop {name}: attached, exit 0, JSON snapshot",
                f"rc {rc}" + (f", {err}" if err else ""))
        if doc is None:
            continue
        lt = lazytop_counts(doc)
        lt_counts[name] = lt
        c.check(bool(lt), f"lazytop {name}: per-reason sync/skip counts",
                ", ".join(f"{r} {v}" for r, v in sorted(lt.items())) or "none in the snapshot")
        if not lt:
            continue
        # The test is frozen from its KVM_CREATE_VM until the collector
        # has attached, so both must have seen (almost) the same events:
        # allow 2% + 5 for the few ms between the VM fd and the freeze.
        tr = {}
        for (d, r), v in sync.get(name, {}).items():
            if d in ("to_host", "to_hyp") and r in ALL_REASONS:
                tr[r] = tr.get(r, 0) + v
        off = [f"{r} {lt.get(r, 0)} vs {v}" for r, v in sorted(tr.items())
               if not (v - v * 0.02 - 5 <= lt.get(r, 0) <= v)]
        c.check(not off, f"lazytop {name}: counts agree with tracefs",
                ", ".join(off) if off else "every reason within 2%")
        if name == "arch_timer":
            sk = lt.get("skip_irq", 0)
            sy = sum(lt.get(r, 0) for r in EXIT_REASONS)
            c.check(sk > 0, "lazytop arch_timer: skip share > 0",
                    f"skip_irq {sk}, synced exits {sy}, skip share {sk / max(sk + sy, 1):.1%}")
        if name == "debug-exceptions":
            # kvm-lazytop cannot tell which runs had guest debug on; the
            # tracefs check above does. Report its view of the exits.
            sk = lt.get("skip_irq", 0)
            sy = sum(lt.get(r, 0) for r in EXIT_REASONS)
            gd_skip = sync.get(name, {}).get(("to_host_gdbg", "skip_irq"), 0)
            where = ("none in a guest-debug run, per tracefs" if gd_skip == 0
                     else f"{gd_skip} in guest-debug runs, per tracefs")
            c.note("lazytop debug-exceptions",
                   f"exits synced {sy} (sync_debug {lt.get('sync_debug', 0)}, "
                   f"sync_trap {lt.get('sync_trap', 0)}), skipped {sk} ({where})")

    # ---- table
    print()
    print("| test | verdict | base | s | exits skipped/synced | entries no-flush/flush | guest-debug exits synced/skipped |")
    print("|---|---|---|---|---|---|---|")
    for name, _ in tests:
        if name not in rcs:
            print(f"| {name} | - | {base.get(name, '?')} | - | | | |")
            continue
        skip, synced, _ = share(name)
        nf = count(sync, name, "to_hyp", ["skip_hyp_current"])
        fl = count(sync, name, "to_hyp", ["flush_dirty"])
        gd = {r: v for (d, r), v in sync.get(name, {}).items() if d == "to_host_gdbg"}
        gtxt = (f"{sum(v for r, v in gd.items() if r != 'skip_irq')}/{gd.get('skip_irq', 0)}"
                if any(d == "gdbg_runs" for d, _ in sync.get(name, {})) else "")
        print(f"| {name} | {verdict(rcs[name])} | {base.get(name, '?')} | {secs[name]} "
              f"| {skip}/{synced} | {nf}/{fl} | {gtxt} |")
    print()
    print("sync/skip counts by reason (kvm_arm_pkvm_state_sync, tracefs):")
    for name, _ in tests:
        s = sync.get(name, {})
        parts = [f"{d}/{r} {v}" for (d, r), v in sorted(s.items()) if d != "none"]
        print(f"  {name}: {', '.join(parts) if parts else 'no events'}")
    for name, lt in lt_counts.items():
        print(f"  {name} (kvm-lazytop): {', '.join(f'{r} {v}' for r, v in sorted(lt.items()))}")
    for name, lines in out.items():
        if verdict(rcs.get(name, "0")) == "fail":
            print(f"  last output of {name}: {lines[-1] if lines else ''}")
    print()
    print(f"check-arm64: {c.passed} passed, {c.failed} failed")
    return 0 if c.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
