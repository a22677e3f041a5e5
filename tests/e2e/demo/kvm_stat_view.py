#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Show a riscv64 guest's KVM debugfs stats through the kernel tree's own
tools/kvm/kvm_stat (the guest has no Python).

usage: kvm_stat_view.py [--series DIR] SRC LZ_RELOAD-STDOUT

kvm_stat is SRC/tools/kvm/kvm_stat/kvm_stat; --series DIR first applies
the patches of DIR that touch it (a copy; SRC is not changed).

The "lz_reload kvmstat NAME VALUE" lines of `lz_reload ... -S` (the stat
files of its VM's debugfs directory, read in the guest before the VM went
away) become the files of a temporary debugfs kvm directory with that one
VM in it, and kvm_stat runs (`-d -1 -i`: debugfs fields, one batch,
counts since the VM was created) with that directory as its debugfs kvm
directory.  Two things are
replaced: the lookup of the debugfs mount point (assign_globals), and
the architecture, which kvm_stat takes from uname: its own
Arch.get_arch() is asked with uname's machine set to "riscv64", as in
the guest.  Prints kvm_stat's output; exit 1 (one line on stderr) if
that kvm_stat does not know riscv64.
"""
import importlib.machinery
import importlib.util
import os
import glob
import re
import shutil
import subprocess
import sys
import tempfile


KS = "tools/kvm/kvm_stat/kvm_stat"


def patched_kvm_stat(src, series, d):
    """Copy of SRC's kvm_stat in d, with the patches of series touching it."""
    os.makedirs(os.path.join(d, os.path.dirname(KS)))
    shutil.copy(os.path.join(src, KS), os.path.join(d, KS))
    for p in sorted(glob.glob(os.path.join(series, "[0-9]*.patch"))):
        with open(p) as f:
            if ("+++ b/%s\n" % KS) not in f.read():
                continue
        r = subprocess.run(["patch", "-s", "-p1", "-d", d, "-i", os.path.abspath(p)],
                           capture_output=True, text=True)
        if r.returncode:
            sys.exit("kvm_stat_view.py: %s does not apply: %s" % (p, r.stdout + r.stderr))
    return os.path.join(d, KS)


def main():
    args = sys.argv[1:]
    series = None
    if args[:1] == ["--series"] and len(args) > 1:
        series, args = args[1], args[2:]
    if len(args) != 2:
        sys.exit("usage: kvm_stat_view.py [--series DIR] SRC LZ_RELOAD-STDOUT")
    src, listing = args
    with tempfile.TemporaryDirectory() as d:
        ks = patched_kvm_stat(src, series, d) if series else os.path.join(src, KS)
        show(ks, listing)


def show(ks, listing):
    with open(listing) as f:
        stats = re.findall(r"^lz_reload kvmstat ([A-Za-z0-9_]+) (\d+)$", f.read(), re.M)
    if not stats:
        sys.exit("kvm_stat_view.py: no 'lz_reload kvmstat' lines in %s" % listing)
    with tempfile.TemporaryDirectory() as d:
        kvm = os.path.join(d, "kvm")
        vm = os.path.join(kvm, "1-1")	# PID-FD, as KVM names it
        os.makedirs(vm)
        for name, value in stats:
            for where in (kvm, vm):
                with open(os.path.join(where, name), "w") as o:
                    o.write(value + "\n")
        loader = importlib.machinery.SourceFileLoader("kvm_stat", ks)
        mod = importlib.util.module_from_spec(importlib.util.spec_from_loader("kvm_stat", loader))
        loader.exec_module(mod)

        def assign_globals():
            mod.PATH_DEBUGFS_KVM = kvm
            mod.PATH_DEBUGFS_TRACING = os.path.join(d, "tracing")

        mod.assign_globals = assign_globals
        real_uname = os.uname
        os.uname = lambda: real_uname()._replace(machine="riscv64") if hasattr(
            real_uname(), "_replace") else ("Linux", "guest", "", "", "riscv64")
        try:
            mod.ARCH = mod.Arch.get_arch()
        except (OSError, StopIteration):
            mod.ARCH = None
        finally:
            os.uname = real_uname
        if mod.ARCH is None:
            sys.exit("kvm_stat_view.py: %s has no RISC-V support (Arch.get_arch() "
                     "returns None on riscv64)" % ks)
        sys.argv = [ks, "-d", "-1", "-i"]
        mod.main()


if __name__ == "__main__":
    main()
