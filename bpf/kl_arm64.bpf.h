/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * kl_arm64.bpf.h - part of kvm_lazytop.bpf.c (included from there only):
 * arm64 signals: the pKVM series' kvm_arm_pkvm_state_sync
 * (kernel/patches/arm64), 6.12's kvm_guest_fault, and the exit class of
 * arm64's kvm_exit (kl_arm64_exit_code(), used by kl_arch.bpf.h).
 * Compiled for every arch: the collector probes the hooks, and the tests
 * drive the handlers on the host through kl_test_*.
 */
#ifndef __KL_ARM64_BPF_H
#define __KL_ARM64_BPF_H

/* ------------------------------------------------------------------ */
/* kernel enum -> kl index                                            */

static __always_inline int kl_xlate_pkvm_dir(__u64 kv)
{
#define M(kv, p, e, ...) KL_MAP(kv, enum kvm_pkvm_state_dir, KVM_PKVM_##e, KL_PKVM_##e);
	KL_PKVM_DIRS(M, kv)
#undef M
	return -1;
}

static __always_inline int kl_xlate_pkvm_reason(__u64 kv)
{
#define M(kv, p, e, ...) KL_MAP(kv, enum kvm_pkvm_state_reason, KVM_PKVM_##e, KL_PKVM_##e);
	KL_PKVM_REASONS(M, kv)
#undef M
	return -1;
}

/* ------------------------------------------------------------------ */
/* handlers                                                           */

/*
 * arm64 pKVM context sync (kvm_arm_pkvm_state_sync), dir / reason already
 * translated to kl_* indices.  The entry and exit events (to_hyp, or an
 * exit code other than -1) fire in the vCPU thread inside KVM_RUN and
 * identify it; the others (vcpu put, adjust_pc, debug) may come from any
 * thread doing a vCPU ioctl, so they only count in the row of the vCPU
 * the event names.
 */
static __always_inline void kl_on_pkvm_sync(__u32 tid, __u32 tgid,
					    const struct kvm_vcpu *vcpu, __s32 hint,
					    int dir, int reason, int exit_code)
{
	struct kl_vcpu_state *st = NULL;
	__u32 idx;

	if (dir < 0 || dir >= KL_PKVM_DIR_NR || reason < 0 || reason >= KL_PKVM_REASON_NR)
		return;
	if (dir == KL_PKVM_TO_HYP || exit_code != -1)
		st = kl_identify(tid, tgid, vcpu, hint);
	idx = KL_C_PKVM_SYNC + dir * KL_PKVM_REASON_NR + reason;
	/* its own thread: its slot; another thread: the vCPU's shared row */
	kl_count_st(st, tgid, st ? st->vcpu_id : kl_vcpu_id_of(vcpu, hint), idx);
}

/*
 * arm64 kvm_guest_fault (stage-2 abort handled by the host), counted in
 * the current thread's row by access (ESR class, WnR) and by the fault
 * status class of its FSC.
 */
static __always_inline void kl_on_guest_fault(__u32 tid, __u32 tgid, __u64 esr)
{
	__u32 ec = (esr >> KL_ESR_EC_SHIFT) & KL_ESR_EC_MASK, fsc = esr & KL_ESR_FSC_TYPE;
	__u32 access, status;

	if (ec == KL_ESR_EC_IABT_LOW)
		access = KL_GF_EXEC;
	else if (esr & KL_ESR_WNR)
		access = KL_GF_WRITE;
	else
		access = KL_GF_READ;
	if (fsc == KL_ESR_FSC_TRANS)
		status = KL_GF_TRANSLATION;
	else if (fsc == KL_ESR_FSC_ACCESS)
		status = KL_GF_ACCESS_FLAG;
	else if (fsc == KL_ESR_FSC_PERM)
		status = KL_GF_PERMISSION;
	else
		status = KL_GF_OTHER_STATUS;
	kl_count_cur(tid, tgid, KL_C_GUEST_FAULT_ACCESS + access);
	kl_count_cur(tid, tgid, KL_C_GUEST_FAULT_STATUS + status);
}

/*
 * arm64 kvm_exit(ret, esr_ec): the exception class is only meaningful for
 * a trap (the tracepoint's own record zeroes it otherwise); other exits
 * get KL_ARM64_EXIT_NONTRAP + their exception code (kvm_lazytop.h).
 */
static __always_inline __u64 kl_arm64_exit_code(__u32 ret, __u32 esr_ec)
{
	__u32 exc = ret & ~(1U << KL_ARM_EXIT_SERROR_BIT);

	if (exc == KL_ARM_EXCEPTION_TRAP)
		return esr_ec & KL_ESR_EC_MASK;
	return KL_ARM64_EXIT_NONTRAP + (exc > 0xff ? 0xff : exc);
}

/* ------------------------------------------------------------------ */
/* programs                                                           */

/* arm64 pKVM series (kernel/patches/arm64), any arch: the hook decides */
SEC("raw_tp/kvm_arm_pkvm_state_sync")
int BPF_PROG(kl_arm_pkvm_state_sync, struct kvm_vcpu *vcpu, unsigned int dir,
	     unsigned int reason, int exit_code)
{
	KL_PROLOGUE();
	kl_on_pkvm_sync(tid, tgid, vcpu, KL_VCPU_UNKNOWN, kl_xlate_pkvm_dir(dir),
			kl_xlate_pkvm_reason(reason), exit_code);
	return 0;
}

/* arm64 (trace_arm.h): kvm_guest_fault(vcpu_pc, hsr, hxfar, ipa) */
SEC("raw_tp/kvm_guest_fault")
int BPF_PROG(kl_arm_guest_fault, unsigned long vcpu_pc, unsigned long hsr)
{
	KL_PROLOGUE();
	kl_on_guest_fault(tid, tgid, hsr);
	return 0;
}

#endif /* __KL_ARM64_BPF_H */
