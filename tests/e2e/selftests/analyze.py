#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judge one run-suite.sh guest run and write OUT/../VARIANT.summary.

PASS of a test = exit status 0 (a selftest skip, exit 4, is a FAIL: every
test of the suite must really run).  The run also fails if the guest did
not finish, if dmesg has a WARNING/BUG/lockdep/sleeping-in-atomic report,
if dirty_log_test did not run every supported guest mode, and, when traced,
if kvm_riscv_gstage_fault FAST does not cover every write fault on a 4K
leaf of dirty_log_perf_test.

With --expect-fail NAME=TEXT (repeatable; a test whose fix was removed,
see kernel/mutants/) every selected test must fail in the expected way
instead: exit with a failure status (not 0, not the kselftest skip 4, not
a timeout or a signal) and print TEXT on stdout or stderr.  A skip, a
timeout, a crash or another failure is not the expected failure, and a
selected test without an expectation is an error.
"""
import argparse
import os
import re
import sys

# Kernel log reports that fail the run (requirement: WARNING, BUG, lockdep,
# sleeping function called from invalid context), plus the usual splats.
# Lockdep's reports are matched by their headlines, not by the bare word:
# a debug kernel prints "RCU lockdep checking is enabled" and the
# MAX_LOCKDEP_* table at every boot.
DMESG_BAD = re.compile(
    r'WARNING:|(?<![A-Z_])BUG:|Oops|Unable to handle kernel|Kernel panic'
    r'|possible circular locking|possible recursive locking'
    r'|inconsistent lock state|turning off the locking correctness'
    r'|DEBUG_LOCKS_WARN_ON|lockdep is turned off|possible irq lock inversion'
    r'|bad unlock balance|held lock freed|lock held when returning'
    r'|sleeping function called|suspicious RCU usage|soft lockup|hung_task'
    r'|rcu_sched detected stall|rcu: INFO:|Call Trace:')

# gstage fault reasons meaning "a write fault on a present 4K leaf did not
# take the FAST path" (everything but FAST and the reasons that are not
# about a present 4K leaf under dirty logging)
NOT_4K_LEAF_WRITE = {'NOT_WRITE', 'NOT_LOGGING', 'NO_LEAF', 'HUGE_LEAF'}


def read(path, default=''):
    try:
        with open(path, errors='replace') as f:
            return f.read()
    except OSError:
        return default


def parse_size(s):
    m = re.fullmatch(r'(\d+)([KMGkmg]?)', s)
    mult = {'': 1, 'k': 1 << 10, 'm': 1 << 20, 'g': 1 << 30}[m.group(2).lower()]
    return int(m.group(1)) * mult


def expected_failure(name, st, text, out):
    """None if test NAME failed the way TEXT says, else what went wrong."""
    if text is None:
        return 'no expected failure given (--expect-fail NAME=TEXT)'
    if not st:
        return 'never ran, expected to fail with: ' + text
    m = re.fullmatch(r'exit=(\d+)', st[0])
    if not m:
        return f'{st[0]}, expected to fail with: {text}'
    if m.group(1) == '0':
        return 'PASSED, expected to fail with: ' + text
    if m.group(1) == '4':
        return 'SKIPPED (exit=4), expected to fail with: ' + text
    output = (read(os.path.join(out, name + '.stdout')) +
              read(os.path.join(out, name + '.stderr')))
    if text not in output:
        return f'{st[0]} without the expected failure: {text}'
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--variant', required=True)
    ap.add_argument('--set', required=True)       # all | old | new
    ap.add_argument('--trace', default='0')
    ap.add_argument('--list', required=True)
    ap.add_argument('--reasons', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--qemu-rc', default='0')
    ap.add_argument('--wall', default='?')
    ap.add_argument('--expect-fail', action='append', default=[],
                    metavar='NAME=TEXT')
    a = ap.parse_args()
    expect = {}
    for e in a.expect_fail:
        name, sep, text = e.partition('=')
        if not sep or not name or not text:
            ap.error(f'--expect-fail {e!r}: want NAME=TEXT')
        expect[name] = text
    out = a.out
    problems = []
    lines = []

    tests = []
    for ln in read(a.list).splitlines():
        if not ln.strip() or ln.startswith('#'):
            continue
        name, tset, tmo, argv = ln.split('\t', 3)
        if (a.set, tset) in {('all', 'all'), ('all', 'new'), ('old', 'all'),
                             ('new', 'new')}:
            tests.append((name, tset, argv))

    status = {}
    for ln in read(os.path.join(out, 'status')).splitlines():
        f = ln.split('\t')
        if len(f) >= 2:
            status[f[0]] = f[1:]
    if a.qemu_rc != '0':
        problems.append('guest run failed: ' +
                        read(os.path.join(out, 'run-qemu.log')).strip()
                        .replace('\n', ' / '))
    if 'init' not in status:
        problems.append('guest /init did not finish the scenario')

    lines.append(f'{a.variant}: per-test results (guest wall time {a.wall}s)')
    lines.append(f'  {"test":<26} {"result":<7} {"status":<14} {"time":>7}  note')
    npass = 0
    results = {}
    for name, tset, argv in tests:
        st = status.get(name)
        note = ''
        if not st:
            res, stxt, ms = 'FAIL', 'never ran', ''
        else:
            stxt, ms = st[0], (st[1] if len(st) > 1 else '')
            if stxt == 'exit=0':
                res = 'PASS'
            elif stxt == 'exit=4':
                res = 'SKIP'
            else:
                res = 'FAIL'
            if res != 'PASS':
                err = read(os.path.join(out, name + '.stderr')).strip().splitlines()
                err += read(os.path.join(out, name + '.stdout')).strip().splitlines()
                keep = [e.strip() for e in err
                        if re.search(r'assert|fail|error|skip|Illegal|Segmentation|'
                                     r'not supported|Needs|expected', e, re.I)]
                note = ' | '.join((keep or err[-2:])[:3])[:300]
        results[name] = res
        if res == 'PASS':
            npass += 1
        secs = f'{int(ms) / 1000:.1f}s' if ms.isdigit() else ''
        tag = ' (new)' if tset == 'new' else ''
        lines.append(f'  {name + tag:<26} {res:<7} {stxt:<14} {secs:>7}  {note}')
        if a.expect_fail:
            problem = expected_failure(name, st, expect.get(name), out)
            if problem:
                problems.append(f'{name}: {problem}')
        elif res != 'PASS':
            problems.append(f'{name}: {res} ({stxt}) {note}'.rstrip())

    # dirty_log_test must have run every guest mode the kernel supports
    if not a.expect_fail and any(n.startswith('dirty_log_test.m') for n, _, _ in tests):
        helptxt = read(os.path.join(out, 'dirty_log_test.modes.stdout'))
        supported = {int(m.group(1)): m.group(2) for m in re.finditer(
            r'^\s*(\d+):\s+(.*?)\s*\(supported\)\s*$', helptxt, re.M)}
        ran = {int(n[len('dirty_log_test.m'):]) for n, _, _ in tests
               if n.startswith('dirty_log_test.m')}
        lines.append('  dirty_log_test guest modes supported: ' +
                     (', '.join(f'{k}={v}' for k, v in sorted(supported.items()))
                      or 'none found'))
        if not supported:
            problems.append('dirty_log_test -h listed no supported guest mode')
        missing = set(supported) - ran
        if missing:
            problems.append('dirty_log_test: supported guest modes not run: ' +
                            ', '.join(f'{m} ({supported[m]})' for m in sorted(missing)))
        extra = ran - set(supported)
        if extra:
            problems.append('dirty_log_test: modes run but not supported: ' +
                            ', '.join(map(str, sorted(extra))))

    # kernel log
    dmesg = read(os.path.join(out, 'dmesg'))
    bad = [ln for ln in dmesg.splitlines() if DMESG_BAD.search(ln)]
    if bad:
        if not a.expect_fail:
            problems.append(f'dmesg: {len(bad)} report lines, first: {bad[0].strip()}')
        dl = dmesg.splitlines()
        first = next(i for i, ln in enumerate(dl) if DMESG_BAD.search(ln))
        with open(os.path.join(out, 'dmesg.bad'), 'w') as f:
            f.write('\n'.join(dl[max(0, first - 5):first + 60]) + '\n')
        lines.append(f'  dmesg: {len(bad)} bad lines, excerpt in {out}/dmesg.bad')
    else:
        lines.append('  dmesg: clean (no WARNING/BUG/lockdep/sleeping-in-atomic report)')

    # tracefs counts
    if a.trace == '1':
        counts = {}
        for ln in read(os.path.join(out, 'counts')).splitlines():
            k, _, v = ln.partition('\t')
            counts[k] = int(v) if v.strip().isdigit() else None
        reasons = {}
        for ln in read(a.reasons).splitlines():
            ev, r = ln.split()
            reasons.setdefault(ev, []).append(r)
        lines.append('  tracefs counts during dirty_log_perf_test (by printed reason):')
        for ev in ('kvm_riscv_vcpu_load', 'kvm_riscv_gstage_fault'):
            tot = counts.get(ev)
            by = {}
            for r in reasons.get(ev, []):
                if ev == 'kvm_riscv_vcpu_load' and r == 'FAST':
                    c0, c1 = counts.get(f'{ev}.FAST.cpu0'), counts.get(f'{ev}.FAST.cpu1')
                    by[r] = None if c0 is None or c1 is None else c0 + c1
                else:
                    by[r] = counts.get(f'{ev}.{r}')
            lines.append(f'    {ev}: total {tot}  ' +
                         ' '.join(f'{r}={c}' for r, c in by.items()))
            if tot is None or any(c is None for c in by.values()):
                problems.append(f'{ev}: counts missing (see {out}/counts, init.log)')
                continue
            if sum(by.values()) != tot:
                problems.append(f'{ev}: {tot} events but {sum(by.values())} '
                                'classified by reason name (unknown reason?)')
            # every printed name of the running kernel is one we counted
            fmt = read(os.path.join(out, ev.replace('kvm_riscv_', '') + '.format'))
            names = set(re.findall(r'\{\s*\d+,\s*"(\w+)"\s*\}', fmt))
            if names and names != set(by):
                problems.append(f'{ev}: format lists {sorted(names)}, counted {sorted(by)}')
            if tot == 0:
                problems.append(f'{ev}: no events traced')
            counts[ev + '.by'] = by
        for cpu in (0, 1):
            st = read(os.path.join(out, f'trace.stats.cpu{cpu}'))
            m = re.search(r'^overrun: (\d+)', st, re.M)
            if not m or m.group(1) != '0':
                problems.append(f'trace buffer cpu{cpu}: overrun {m.group(1) if m else "?"}'
                                ' (counts incomplete, enlarge buffer_size_kb)')
        by = counts.get('kvm_riscv_gstage_fault.by')
        if by:
            fast = by.get('FAST', 0)
            other = {r: c for r, c in by.items()
                     if r != 'FAST' and r not in NOT_4K_LEAF_WRITE and c}
            denom = fast + sum(other.values())
            pct = 100.0 * fast / denom if denom else 0.0
            # pages written per logging iteration that faults: with
            # KVM_DIRTY_LOG_INITIALLY_SET the first one does not
            argv = next((t[2] for t in tests if t[0] == 'dirty_log_perf_test'), '')
            mv = re.search(r'-v (\d+)', argv)
            mb = re.search(r'-b (\S+)', argv)
            mi = re.search(r'-i (\d+)', argv)
            vcpus = int(mv.group(1)) if mv else 1
            pages = parse_size(mb.group(1)) // 4096 if mb else (1 << 30) // 4096
            iters = int(mi.group(1)) if mi else 2
            want = vcpus * pages * max(iters - 1, 1)
            lines.append(f'    FAST coverage of 4K-leaf write faults: {fast}/{denom} = '
                         f'{pct:.1f}% (expected >= {want} FAST: {vcpus} vCPUs x '
                         f'{pages} pages x {max(iters - 1, 1)} faulting iterations)')
            if other:
                problems.append('gstage_fault: 4K-leaf write faults not FAST: ' +
                                ', '.join(f'{r}={c}' for r, c in other.items()))
            if fast < want:
                problems.append(f'gstage_fault: FAST={fast} < {want} guest page writes '
                                'in the faulting logging iterations')
            # exact on riscv 6.12: enabling logging write-protects every leaf
            # even with KVM_DIRTY_LOG_INITIALLY_SET, so all -i iterations
            # fault once per page, in every guest mode the test ran
            modes = len(re.findall(r'^Testing guest mode:',
                                   read(os.path.join(out, 'dirty_log_perf_test.stdout')), re.M))
            exact = modes * vcpus * pages * iters
            lines.append(f'    FAST exact: {fast} = {modes} guest modes x {vcpus} vCPUs x '
                         f'{pages} pages x {iters} logging iterations = {exact}: '
                         + ('yes' if fast == exact else 'NO'))
            if fast != exact:
                problems.append(f'gstage_fault: FAST={fast}, expected exactly {exact}')

    lines.append(f'  {a.variant}: {npass}/{len(tests)} PASS' +
                 (' (expected: the given failures)' if a.expect_fail else ''))
    if problems:
        lines.append(f'  {a.variant}: FAIL')
        lines += [f'    - {p}' for p in problems]
    else:
        lines.append(f'  {a.variant}: OK')
    txt = '\n'.join(lines) + '\n'
    with open(os.path.join(os.path.dirname(out.rstrip('/')), a.variant + '.summary'), 'w') as f:
        f.write(txt)
    sys.stdout.write(txt)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
