/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * kl_riscv.bpf.h - part of kvm_lazytop.bpf.c (included from there only):
 * the riscv64 kernel series' tracepoints (kernel/patches, TRACE_SYSTEM
 * kvm): kvm_riscv_vcpu_load, kvm_riscv_vcpu_put, kvm_riscv_gstage_fault
 * and kvm_riscv_gstage_pte_update.  Compiled for every arch: the
 * collector probes the hooks, and the tests drive the handlers on the
 * host through kl_test_*.
 */
#ifndef __KL_RISCV_BPF_H
#define __KL_RISCV_BPF_H

/* ------------------------------------------------------------------ */
/* kernel enum -> kl index                                            */

static __always_inline int kl_xlate_load(__u64 kv)
{
#define M(kv, p, e, ...) \
	KL_MAP(kv, enum kvm_riscv_vcpu_load_reason, KVM_RISCV_VCPU_LOAD_##e, KL_LOAD_##e);
	KL_LOAD_REASONS(M, kv)
#undef M
	return -1;
}

static __always_inline int kl_xlate_fault(__u64 kv)
{
#define M(kv, p, e, ...) \
	KL_MAP(kv, enum kvm_riscv_gstage_fault_reason, KVM_RISCV_GSTAGE_FAULT_##e, KL_FAULT_##e);
	KL_FAULT_REASONS(M, kv)
#undef M
	return -1;
}

static __always_inline int kl_xlate_pte_op(__u64 kv)
{
#define M(kv, p, e, ...) \
	KL_MAP(kv, enum kvm_riscv_gstage_pte_op, KVM_RISCV_GSTAGE_PTE_##e, KL_PTE_OP_##e);
	KL_PTE_OPS(M, kv)
#undef M
	return -1;
}

static __always_inline int kl_xlate_pte_outcome(__u64 kv)
{
#define M(kv, p, e, ...) \
	KL_MAP(kv, enum kvm_riscv_gstage_pte_outcome, KVM_RISCV_GSTAGE_PTE_##e, KL_PTE_##e);
	KL_PTE_OUTCOMES(M, kv)
#undef M
	return -1;
}


/* ------------------------------------------------------------------ */
/* handlers                                                           */

static __always_inline void kl_on_vcpu_load(__u32 tid, __u32 tgid,
					    const struct kvm_vcpu *vcpu, __s32 hint,
					    int actual)
{
	struct kl_vcpu_state *st = kl_identify(tid, tgid, vcpu, hint);
	__s32 id = st ? st->vcpu_id : kl_vcpu_id_of(vcpu, hint);
	__u32 pred;

	if (actual < 0 || actual >= KL_LOAD_NR)
		return;
	kl_count_st(st, tgid, id, KL_C_VCPU_LOAD + actual);
	if (!st)
		return;
	if (st->pending_pred) {
		pred = st->pending_pred - 1;
		if (pred < KL_PRED_NR)
			kl_count_st(st, tgid, id, KL_C_PRED_VS_ACTUAL + pred * KL_LOAD_NR + actual);
		st->pending_pred = 0;
	}
	if (have_fentry)
		st->pad = actual + 1;	/* reason of the load in progress */
}

static __always_inline void kl_on_vcpu_put(__u32 tid, __u32 tgid,
					   const struct kvm_vcpu *vcpu, __s32 hint)
{
	struct kl_vcpu_state *st = kl_identify(tid, tgid, vcpu, hint);

	kl_count_st(st, tgid, st ? st->vcpu_id : kl_vcpu_id_of(vcpu, hint), KL_C_VCPU_PUT);
}


static __always_inline void kl_on_gstage_fault(__u32 tid, __u32 tgid,
					       const struct kvm_vcpu *vcpu, __s32 hint,
					       int reason)
{
	struct kl_vcpu_state *st;
	struct kl_cur *c = kl_cur_identify(tid, tgid, vcpu, hint, &st);
	struct kl_pending_exit *x;

	if (reason < 0 || reason >= KL_FAULT_NR)
		return;
	if (!kl_hot_add(kl_exit_slot(c, st), KL_C_GSTAGE_FAULT + reason, 1))
		kl_count(tgid, kl_exit_vcpu_id(c, st, vcpu, hint), KL_C_GSTAGE_FAULT + reason);
	x = kl_exit_of(c, st);
	if (x)
		x->fault_path = reason == KL_FAULT_FAST || reason == KL_FAULT_SPURIOUS ? 1 : 2;
}

static __always_inline void kl_on_pte_update(__u32 tid, __u32 tgid, int op,
					     __u32 retries, int outcome)
{
	kl_count_cur_n(tid, tgid, KL_C_PTE_UPDATE_EVENTS, 1);
	kl_count_cur_n(tid, tgid, KL_C_PTE_UPDATE_RETRIES, retries);
	if (op >= 0 && op < KL_PTE_OP_NR)
		kl_count_cur(tid, tgid, KL_C_PTE_OP + op);
	if (outcome >= 0 && outcome < KL_PTE_OUTCOME_NR)
		kl_count_cur(tid, tgid, KL_C_PTE_OUTCOME + outcome);
}


/* ------------------------------------------------------------------ */
/* programs                                                           */

SEC("raw_tp/kvm_riscv_vcpu_load")
int BPF_PROG(kl_riscv_vcpu_load, struct kvm_vcpu *vcpu, int cpu, int prev_cpu,
	     unsigned int reason)
{
	KL_PROLOGUE();
	kl_on_vcpu_load(tid, tgid, vcpu, KL_VCPU_UNKNOWN, kl_xlate_load(reason));
	return 0;
}

SEC("raw_tp/kvm_riscv_vcpu_put")
int BPF_PROG(kl_riscv_vcpu_put, struct kvm_vcpu *vcpu)
{
	KL_PROLOGUE();
	kl_on_vcpu_put(tid, tgid, vcpu, KL_VCPU_UNKNOWN);
	return 0;
}

SEC("raw_tp/kvm_riscv_gstage_fault")
int BPF_PROG(kl_riscv_gstage_fault, struct kvm_vcpu *vcpu, __u64 gpa,
	     unsigned int reason)
{
	KL_PROLOGUE();
	kl_on_gstage_fault(tid, tgid, vcpu, KL_VCPU_UNKNOWN, kl_xlate_fault(reason));
	return 0;
}

SEC("raw_tp/kvm_riscv_gstage_pte_update")
int BPF_PROG(kl_riscv_gstage_pte_update, __u64 gpa, __u32 level, unsigned int op,
	     __u32 retries, unsigned int outcome)
{
	KL_PROLOGUE();
	kl_on_pte_update(tid, tgid, kl_xlate_pte_op(op), retries,
			 kl_xlate_pte_outcome(outcome));
	return 0;
}

#endif /* __KL_RISCV_BPF_H */
