/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * kl_test.bpf.h - part of kvm_lazytop.bpf.c (included from there only):
 * the kl_test_* programs used by tests/bpf/test_kl_bpf.c.  Autoload off
 * (SEC("?raw_tp")); every input, timestamps included, is a scalar raw_tp
 * argument, and each calls the same handler as its production program,
 * so BPF_PROG_TEST_RUN with BPF_F_TEST_RUN_ON_CPU drives the logic
 * deterministically.  The collector never loads them.
 */
#ifndef __KL_TEST_BPF_H
#define __KL_TEST_BPF_H

/*
 * KL_TEST_PROG(name, call, args...): program name(args) makes the handler
 * call for a tgid the filter accepts, then returns 0.
 */
#define KL_TEST_PROG(name, call, args...)			\
SEC("?raw_tp")							\
int BPF_PROG(name, args)					\
{								\
	if (kl_reject(tgid))					\
		return 0;					\
	call;							\
	return 0;						\
}

KL_TEST_PROG(kl_test_run_enter, kl_on_run_enter(tid, tgid, cpu, now, -1, vcpu_id),
	     __u32 tid, __u32 tgid, __s32 cpu, __s32 vcpu_id, __u64 now)

KL_TEST_PROG(kl_test_run_exit, kl_on_run_exit(tid, cpu, now),
	     __u32 tid, __u32 tgid, __s32 cpu, __u64 now)

SEC("?raw_tp")
int BPF_PROG(kl_test_sched_switch, __s32 cpu, __u64 now, __u32 prev_tid, __u32 prev_tgid,
	     __u64 prev_state, __u32 prev_loaded, __u32 next_tid, __u32 next_tgid)
{
	kl_on_switch(cpu, now, NULL, prev_tid, prev_tgid, prev_state, prev_loaded,
		     NULL, NULL, next_tid, next_tgid, false);
	return 0;
}

/* Same, as a production sched_switch: cur then describes next (live). */
SEC("?raw_tp")
int BPF_PROG(kl_test_sched_switch_live, __s32 cpu, __u64 now, __u32 prev_tid, __u32 prev_tgid,
	     __u64 prev_state, __u32 prev_loaded, __u32 next_tid, __u32 next_tgid)
{
	struct kl_cur *cur;

	kl_on_switch(cpu, now, NULL, prev_tid, prev_tgid, prev_state, prev_loaded,
		     NULL, NULL, next_tid, next_tgid, false);
	cur = kl_cur();
	if (cur)
		cur->live = 1;
	return 0;
}

KL_TEST_PROG(kl_test_vcpu_load, kl_on_vcpu_load(tid, tgid, NULL, vcpu_id, kl_xlate_load(reason)),
	     __u32 tid, __u32 tgid, __s32 vcpu_id, __u64 reason)

KL_TEST_PROG(kl_test_vcpu_put, kl_on_vcpu_put(tid, tgid, NULL, vcpu_id),
	     __u32 tid, __u32 tgid, __s32 vcpu_id)

KL_TEST_PROG(kl_test_gstage_fault,
	     kl_on_gstage_fault(tid, tgid, NULL, vcpu_id, kl_xlate_fault(reason)),
	     __u32 tid, __u32 tgid, __s32 vcpu_id, __u64 reason)

KL_TEST_PROG(kl_test_pte_update,
	     kl_on_pte_update(tid, tgid, kl_xlate_pte_op(op), retries,
			      kl_xlate_pte_outcome(outcome)),
	     __u32 tid, __u32 tgid, __u64 op, __u32 retries, __u64 outcome)

KL_TEST_PROG(kl_test_kvm_exit, kl_on_kvm_exit(tid, tgid, NULL, vcpu_id, code, now),
	     __u32 tid, __u32 tgid, __s32 vcpu_id, __u64 code, __u64 now)

KL_TEST_PROG(kl_test_kvm_entry, kl_on_kvm_entry(tid, tgid, NULL, vcpu_id, now),
	     __u32 tid, __u32 tgid, __s32 vcpu_id, __u64 now)

KL_TEST_PROG(kl_test_arm64_exit,
	     kl_on_kvm_exit(tid, tgid, NULL, vcpu_id, kl_arm64_exit_code(ret, esr_ec), now),
	     __u32 tid, __u32 tgid, __s32 vcpu_id, __u64 ret, __u64 esr_ec, __u64 now)

/* dir, reason: the kernel's enum values (contract order on this host) */
KL_TEST_PROG(kl_test_pkvm_sync,
	     kl_on_pkvm_sync(tid, tgid, NULL, vcpu_id, kl_xlate_pkvm_dir(dir),
			     kl_xlate_pkvm_reason(reason), exit_code),
	     __u32 tid, __u32 tgid, __s32 vcpu_id, __u64 dir, __u64 reason, __s32 exit_code)

KL_TEST_PROG(kl_test_guest_fault, kl_on_guest_fault(tid, tgid, esr),
	     __u32 tid, __u32 tgid, __u64 esr)

/* Returns kl_vcpu_id_of_fd(fd) + 100 for an fd of the calling process. */
SEC("?raw_tp")
int BPF_PROG(kl_test_fd_vcpu, __s64 fd)
{
	return kl_vcpu_id_of_fd(fd, KL_VCPU_UNKNOWN) + 100;
}

/* KVM_RUN entry on fd of the calling thread (real fd check). */
KL_TEST_PROG(kl_test_run_enter_fd, kl_on_run_enter(tid, tgid, cpu, now, fd, KL_VCPU_UNKNOWN),
	     __u32 tid, __u32 tgid, __s32 cpu, __s64 fd, __u64 now)

/* Returns the CPU the production programs see (kl_cur_cpu) + 1. */
SEC("?raw_tp")
int BPF_PROG(kl_test_cur_cpu)
{
	return kl_cur_cpu() + 1;
}

KL_TEST_PROG(kl_test_userspace_exit, kl_on_userspace_exit(tid, tgid, reason),
	     __u32 tid, __u32 tgid, __u32 reason)

/* kl_kvm_userspace_exit: KVM_RUN end and userspace exit reason */
KL_TEST_PROG(kl_test_run_end, kl_on_run_end(tid, tgid, cpu, now, reason),
	     __u32 tid, __u32 tgid, __s32 cpu, __u64 now, __u32 reason)

KL_TEST_PROG(kl_test_dirty_ring_push, kl_on_dirty_ring_push(tid, tgid, NULL),
	     __u32 tid, __u32 tgid)

KL_TEST_PROG(kl_test_fpu, kl_on_fpu(tid, tgid, load),
	     __u32 tid, __u32 tgid, int load)

KL_TEST_PROG(kl_test_fast_page_fault, kl_on_fast_page_fault(tid, tgid),
	     __u32 tid, __u32 tgid)

/*
 * Thread exit as the kernel does it for task storage: the thread's state
 * is gone (its test_ts entry is freed) and the per-CPU cache forgets it.
 */
static __always_inline void kl_test_thread_gone(__u32 tid)
{
	struct kl_vcpu_state *st = kl_state_cur(tid);
	struct kl_cur *c = kl_cur();

	if (c && c->tid == tid)
		c->tid = 0;
	if (st)
		st->flags = 0;
}

KL_TEST_PROG(kl_test_process_exit, kl_test_thread_gone(tid),
	     __u32 tid, __u32 tgid)

KL_TEST_PROG(kl_test_load_begin, kl_on_load_begin(tid, tgid, NULL, vcpu_id, now),
	     __u32 tid, __u32 tgid, __s32 vcpu_id, __u64 now)

KL_TEST_PROG(kl_test_load_end, kl_on_load_end(tid, now),
	     __u32 tid, __u32 tgid, __u64 now)

KL_TEST_PROG(kl_test_hist, kl_hist_add(tgid, hist, sub, value),
	     __u32 tgid, __u32 hist, __u32 sub, __u64 value)

#endif /* __KL_TEST_BPF_H */
