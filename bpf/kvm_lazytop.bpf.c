// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * kvm_lazytop.bpf.c - in-kernel aggregation for kvm-lazytop.
 *
 * Contract with the collector: bpf/README.md.  In short: every program
 * rejects foreign tgids first, then updates counters and histograms in
 * slots of mmap()able arrays (per vCPU thread, per (VM, code)); nothing
 * is sent to userspace per event.
 *
 * This is the only BPF compilation unit of the tool (one object, one
 * skeleton: struct kvm_lazytop_bpf); the pieces below are included in
 * dependency order, which is also the order of the programs in the
 * object and the skeleton:
 *
 *   kl_maps.bpf.h      .rodata configuration, maps, .bss globals
 *   kl_helpers.bpf.h   map access, per-CPU cache, identification, CPU,
 *                      reload prediction, kernel enum translation
 *   kl_handlers.bpf.h  kl_on_*() of the generic hooks
 *   kl_riscv.bpf.h     riscv64 series tracepoints (every arch)
 *   kl_arm64.bpf.h     arm64 pKVM sync, guest fault, exit class (every arch)
 *   kl_arch.bpf.h      kvm_exit/kvm_entry, one pair per __TARGET_ARCH_*
 *   kl_progs.bpf.h     production programs of the generic hooks
 *   kl_test.bpf.h      kl_test_* programs (autoload off, BPF_PROG_TEST_RUN),
 *                      only with -DKL_TEST_PROGS: the test object of
 *                      tests/bpf (build/<arch>/test/), not the collector's
 *
 * Production programs are thin adapters that read their hook's arguments
 * and call the kl_on_*() handlers; the kl_test_* programs call the very
 * same handlers with every input passed as a scalar raw_tp argument.
 */
#include "kl_core.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kvm_lazytop.h"
#include "kl_hist.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#include "kl_maps.bpf.h"
#include "kl_helpers.bpf.h"
#include "kl_handlers.bpf.h"
#include "kl_riscv.bpf.h"
#include "kl_arm64.bpf.h"
#include "kl_arch.bpf.h"
#include "kl_progs.bpf.h"
#ifdef KL_TEST_PROGS
#include "kl_test.bpf.h"
#endif
