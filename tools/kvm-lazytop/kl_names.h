/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kl_names.h - index -> JSON name tables and kernel code decoders (pure).
 */
#ifndef __KL_NAMES_H
#define __KL_NAMES_H

#include "kl_common.h"

extern const struct kl_signal_desc kl_signals[KL_SIG_NR];

/* JSON counter name for index i, NULL for indices that are not plain
 * counters (the prediction-vs-actual matrix, see kl_pred_name(); the pKVM
 * direction x reason pairs the series never emits, see "pkvm_state_sync"). */
const char *kl_counter_name(unsigned int i);
/* Signals (mask of KL_SIG_BIT) needed for counter i to be meaningful. */
uint32_t kl_counter_requires(unsigned int i);

const char *kl_load_reason_name(unsigned int r);	/* "fast", ... */
const char *kl_fault_reason_name(unsigned int r);	/* "fast", ... */
const char *kl_pred_name(unsigned int p);		/* "same_cpu", ... */
const char *kl_drop_name(unsigned int d);		/* "vcpu_map_full", ... */
const char *kl_pkvm_dir_name(unsigned int d);		/* "to_hyp", "to_host" */
const char *kl_pkvm_reason_name(unsigned int r);	/* "flush_dirty", ... */
/* skip_*: the state sync was not needed (what the lazy series saves). */
bool kl_pkvm_reason_is_skip(unsigned int r);
/* Does the series emit reason r in direction d? (others: never, unless a
 * newer kernel adds them; counted anyway) */
bool kl_pkvm_reason_expected(unsigned int d, unsigned int r);
const char *kl_guest_fault_access_name(unsigned int a);	/* "read", ... */
const char *kl_guest_fault_status_name(unsigned int s);	/* "translation", ... */

const char *kl_hist_name(unsigned int h);		/* "fault_latency_ns", ... */
uint32_t kl_hist_requires(unsigned int h);
/* False when histogram h cannot exist on this architecture at all. */
bool kl_hist_arch_ok(unsigned int h, const char *arch);

/* Signal lookup by name, -1 if unknown. */
int kl_signal_by_name(const char *name);

/* KVM_EXIT_* name of a kvm_run exit reason, NULL if unknown. */
const char *kl_kvm_exit_name(uint64_t code);
/* RISC-V scause name (interrupt bit = bit 63), NULL if unknown. */
const char *kl_riscv_scause_name(uint64_t scause);
/* x86 VMX basic exit reason name, NULL if unknown. */
const char *kl_x86_exit_name(uint64_t code);
/* arm64 ESR_ELx.EC name, NULL if unknown. */
const char *kl_arm64_ec_name(uint64_t ec);
/* arm64 kvm_exit code (kvm_lazytop.h): EC name, or IRQ / EL1_SERROR / IL / HYP_GONE. */
const char *kl_arm64_exit_name(uint64_t code);
/*
 * Decoded name of a kvm_exit cause for arch ("riscv64", "x86_64",
 * "aarch64"/"arm64"): the table name, else the decimal number in buf.
 */
const char *kl_exit_cause_name(const char *arch, uint64_t code, char *buf, size_t len);
/* KVM_EXIT_* name, else the decimal number in buf. */
const char *kl_userspace_exit_name(uint64_t code, char *buf, size_t len);

/* Table sizes, for the unit tests. */
extern const size_t kl_counter_names_nr, kl_kvm_exit_names_nr;

#endif /* __KL_NAMES_H */
