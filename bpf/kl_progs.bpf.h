/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * kl_progs.bpf.h - part of kvm_lazytop.bpf.c (included from there only):
 * the production programs of the generic hooks (every arch): thin
 * adapters that read their hook's arguments and call the kl_on_*()
 * handlers.  The collector enables each one only if its hook exists.
 */
#ifndef __KL_PROGS_BPF_H
#define __KL_PROGS_BPF_H

/*
 * The end of every KVM_RUN: KVM's generic tracepoint, emitted by
 * kvm_vcpu_ioctl() after kvm_arch_vcpu_ioctl_run() returns, errors
 * included (virt/kvm/kvm_main.c), in the vCPU thread.  It ends the run
 * (KVM_RUN count and duration, the vCPU put on this CPU) and counts the
 * userspace exit reason, so no host-wide syscall exit hook is needed.
 */
SEC("raw_tp/kvm_userspace_exit")
int BPF_PROG(kl_kvm_userspace_exit, __u32 reason)
{
	KL_PROLOGUE();
	kl_on_run_end(tid, tgid, kl_cur_cpu(), bpf_ktime_get_ns(), reason);
	return 0;
}

SEC("raw_tp/kvm_dirty_ring_push")
int BPF_PROG(kl_kvm_dirty_ring_push, struct kvm_dirty_ring *ring)
{
	if (kl_hot_cur(KL_C_DIRTY_PAGES))
		return 0;
	KL_PROLOGUE();
	kl_on_dirty_ring_push(tid, tgid, ring);
	return 0;
}

SEC("raw_tp/kvm_fpu")
int BPF_PROG(kl_kvm_fpu, int load)
{
	if (!load)	/* half of the events: decided before any helper call */
		return 0;
	if (kl_hot_cur(KL_C_FPU_LOADS))
		return 0;
	KL_PROLOGUE();
	kl_on_fpu(tid, tgid, load);
	return 0;
}

SEC("raw_tp/fast_page_fault")
int BPF_PROG(kl_fast_page_fault)
{
	KL_PROLOGUE();
	kl_on_fast_page_fault(tid, tgid);
	return 0;
}

/* BTF-typed: task fields are plain loads, prev and next are trusted. */
SEC("tp_btf/sched_switch")
int BPF_PROG(kl_sched_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next, unsigned int prev_state)
{
	struct kl_cur *cur = kl_cur();
	__u32 ptid = prev->pid, ntid = next->pid;

	/*
	 * Fast path, exactly what kl_on_switch() does when neither side is a
	 * tracked thread: prev is untracked per the per-CPU cache, next is a
	 * foreign tgid or has no task-local storage at all (one load).
	 * prev is current: plain loads, no pid_tgid helper.
	 */
	__u32 ntgid = next->tgid;

	if (cur && cur->tid == ptid && !cur->tracked &&
	    (kl_reject(ntgid) || !kl_task_may_be_tracked(next))) {
		if (ptid && kl_task_is_loaded_vcpu(prev, 0, true)) {
			struct kl_cpu_state *cs = kl_cpu();

			if (cs)
				cs->last_vcpu_tid = ptid;
		}
		cur->tid = ntid;
		cur->vcpu_id = KL_VCPU_UNKNOWN;
		cur->slot = 0;
		cur->tracked = 0;
		cur->live = 1;
		return 0;
	}
	kl_on_switch(kl_task_cpu(next, true), 0, prev, ptid, prev->tgid, prev_state, 0,
		     prev, next, ntid, ntgid, true);
	cur = kl_cur();
	if (cur)
		cur->live = 1;
	return 0;
}

/*
 * Fallback when tp_btf is refused (the collector tries it second).  Its
 * next is no trusted pointer, so its task storage cannot be read: a
 * tracked thread switched in is seen at its next event instead (no
 * off-CPU histogram, no switch-in prediction with this program).
 */
SEC("raw_tp/sched_switch")
int BPF_PROG(kl_sched_switch_raw, bool preempt, struct task_struct *prev,
	     struct task_struct *next, unsigned int prev_state)
{
	__u64 id = bpf_get_current_pid_tgid();

	kl_on_switch(kl_task_cpu(next, false), 0, prev, (__u32)id, id >> 32, prev_state, 0,
		     bpf_get_current_task_btf(), NULL,
		     BPF_CORE_READ(next, pid), BPF_CORE_READ(next, tgid), false);
	{
		struct kl_cur *cur = kl_cur();

		if (cur)
			cur->live = 1;
	}
	return 0;
}

/* Every ioctl of the host: the command is tested before anything else. */
SEC("tracepoint/syscalls/sys_enter_ioctl")
int kl_sys_enter_ioctl(struct kl_sys_enter_ctx *ctx)
{
	if ((__u32)ctx->args[1] != KL_KVM_RUN)
		return 0;
	{
		KL_PROLOGUE();
		kl_on_run_enter(tid, tgid, kl_cur_cpu(), bpf_ktime_get_ns(),
				(long)(int)ctx->args[0], KL_NOT_VCPU);
	}
	return 0;
}

SEC("fentry/kvm_arch_vcpu_load")
int BPF_PROG(kl_fentry_vcpu_load, struct kvm_vcpu *vcpu, int cpu)
{
	KL_PROLOGUE();
	kl_on_load_begin(tid, tgid, vcpu, KL_VCPU_UNKNOWN, bpf_ktime_get_ns());
	return 0;
}

SEC("fexit/kvm_arch_vcpu_load")
int BPF_PROG(kl_fexit_vcpu_load, struct kvm_vcpu *vcpu, int cpu)
{
	KL_PROLOGUE();
	kl_on_load_end(tid, bpf_ktime_get_ns());
	return 0;
}

#endif /* __KL_PROGS_BPF_H */
