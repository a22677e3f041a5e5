/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kl_names.h - index -> JSON name tables and kernel code decoders (pure).
 */
#ifndef __KL_NAMES_H
#define __KL_NAMES_H

#include "kl_common.h"

extern const struct kl_signal_desc kl_signals[KL_SIG_NR];

/*
 * Expanding the name table of bpf/kvm_lazytop.h.  A list line is
 * X(ctx..., p, ENUM, "name", PATH[, DIR]); these pick lines by column.
 *
 * KL_IF_FAST_<PATH>(...) / KL_IF_SLOW_<PATH>(...): the arguments on a
 * FAST / SLOW line, nothing otherwise.
 */
#define KL_IF_FAST_FAST(...)		__VA_ARGS__
#define KL_IF_FAST_SLOW(...)
#define KL_IF_FAST_NONE(...)
#define KL_IF_SLOW_FAST(...)
#define KL_IF_SLOW_SLOW(...)		__VA_ARGS__
#define KL_IF_SLOW_NONE(...)
/* KL_IF_<D>_<DIR>(...): the arguments when the pKVM directions agree. */
#define KL_IF_TO_HYP_TO_HYP(...)	__VA_ARGS__
#define KL_IF_TO_HYP_TO_HOST(...)
#define KL_IF_TO_HOST_TO_HYP(...)
#define KL_IF_TO_HOST_TO_HOST(...)	__VA_ARGS__
/* "to_hyp" / "to_host": the JSON name of pKVM direction D */
#define KL_DIR_NAME_ITEM(d, p, e, n, ...)	KL_IF_##d##_##e(n)
#define KL_PKVM_DIR_NAME(d)			KL_PKVM_DIRS(KL_DIR_NAME_ITEM, d)
/*
 * KL_PKVM_SYNC_NAMES(X, ...): the JSON counter names of the pKVM direction
 * x reason pairs the series emits, in counter order (direction-major), as
 * X(ctx, "pkvm_sync_<dir>_<reason>", PATH, D, REASON).
 */
#define KL_SYNC_NAME_(x, d, dn, ctx, p, e, n, path, dir) \
	KL_IF_##d##_##dir(x(ctx, "pkvm_sync_" dn "_" n, path, d, e))
#define KL_SYNC_DIR_(x, ctx, p, d, dn, ...) KL_PKVM_REASONS(KL_SYNC_NAME_, x, d, dn, ctx)
#define KL_PKVM_SYNC_NAMES(x, ctx)	KL_PKVM_DIRS(KL_SYNC_DIR_, x, ctx)

/*
 * Every plain counter of enum kl_counter (before the prediction-vs-actual
 * matrix), in enum order; the per-reason groups expand their list:
 *
 *	ONE(ENUM, "json_name", requires)	KL_C_<ENUM>
 *	GROUP(ENUM, "json_prefix", LIST, requires)	KL_C_<ENUM> + line index
 *	SYNC(ENUM, requires)	the pKVM pairs, KL_PKVM_SYNC_NAMES
 *
 * requires is the signal mask the counter needs (SIG() and IN_RUN are
 * kl_names.c's; the other expansions ignore the column).
 */
#define KL_COUNTER_LAYOUT(ONE, GROUP, SYNC)					\
	ONE(KVM_RUNS,		"kvm_runs",		IN_RUN)				\
	ONE(USERSPACE_EXITS,	"userspace_exits",	SIG(USERSPACE_EXIT))		\
	ONE(DIRTY_PAGES,	"dirty_pages",		SIG(DIRTY_RING_PUSH))		\
	ONE(PREEMPTIONS,	"preemptions",		SIG(SCHED_SWITCH) | IN_RUN)	\
	ONE(SCHED_OUT,		"sched_out",		SIG(SCHED_SWITCH) | IN_RUN)	\
	GROUP(PRED,		"reload_pred_",	KL_RELOAD_PREDS, SIG(SCHED_SWITCH) | IN_RUN) \
	ONE(EXITS,		"exits",		SIG(KVM_EXIT))			\
	ONE(FAST_PAGE_FAULTS,	"fast_page_faults",	SIG(FAST_PAGE_FAULT))		\
	ONE(FPU_LOADS,		"fpu_loads",		SIG(FPU))			\
	GROUP(VCPU_LOAD,	"vcpu_load_",	KL_LOAD_REASONS, SIG(RISCV_VCPU_LOAD))	\
	ONE(VCPU_PUT,		"vcpu_put",		SIG(RISCV_VCPU_PUT))		\
	GROUP(GSTAGE_FAULT,	"gstage_fault_", KL_FAULT_REASONS, SIG(RISCV_GSTAGE_FAULT)) \
	ONE(PTE_UPDATE_EVENTS,	"pte_update_events",	SIG(RISCV_PTE_UPDATE))		\
	ONE(PTE_UPDATE_RETRIES,	"pte_update_retries",	SIG(RISCV_PTE_UPDATE))		\
	GROUP(PTE_OP,		"pte_update_",	KL_PTE_OPS, SIG(RISCV_PTE_UPDATE))	\
	GROUP(PTE_OUTCOME,	"pte_update_",	KL_PTE_OUTCOMES, SIG(RISCV_PTE_UPDATE))	\
	SYNC(PKVM_SYNC,		SIG(ARM_PKVM_STATE_SYNC))			\
	GROUP(GUEST_FAULT_ACCESS, "guest_fault_", KL_GF_ACCESSES, SIG(ARM_GUEST_FAULT))	\
	GROUP(GUEST_FAULT_STATUS, "guest_fault_", KL_GF_STATUSES, SIG(ARM_GUEST_FAULT))

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
