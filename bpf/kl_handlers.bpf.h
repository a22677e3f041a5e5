/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * kl_handlers.bpf.h - part of kvm_lazytop.bpf.c (included from there
 * only): the kl_on_*() handlers of the generic hooks (KVM_RUN ioctl,
 * sched_switch, kvm_exit/kvm_entry, kvm_userspace_exit, dirty ring, FPU,
 * x86 fast page fault, thread exit, kvm_arch_vcpu_load fentry/fexit).
 * Every input, timestamps included, is a parameter, so the production
 * programs (kl_progs.bpf.h, kl_arch.bpf.h) and the kl_test_* programs
 * (kl_test.bpf.h) run the very same code.
 */
#ifndef __KL_HANDLERS_BPF_H
#define __KL_HANDLERS_BPF_H

/* ------------------------------------------------------------------ */
/* generic handlers, shared by production and test programs           */

static __always_inline void kl_on_run_enter(__u32 tid, __u32 tgid, __s32 cpu,
					    __u64 now, long fd, __s32 hint)
{
	struct kl_vcpu_state *st = kl_state_cur(tid);
	__s32 id;

	/*
	 * Only a KVM_RUN on a real vCPU file counts (checked by the kernel
	 * side, not by the ioctl number): once per thread and fd.
	 */
	if (!st || st->run_fd != fd + 1) {
		id = kl_vcpu_id_of_fd(fd, hint);
		if (id == KL_NOT_VCPU)
			return;
		if (!st)
			st = kl_state_create(tid, tgid, id);
		else if (st->vcpu_id == KL_VCPU_UNKNOWN)
			st->vcpu_id = id;
		if (!st)
			return;
		st->run_fd = fd + 1;
	}
	st->run_start_ns = now;
	st->off_start_ns = 0;
	st->exit.start_ns = 0;
	st->exit.fault_path = 0;
	kl_predict(st, tid, cpu, kl_cpu());
	kl_cur_set(tid, st);
}

static __always_inline void kl_on_run_exit(__u32 tid, __s32 cpu, __u64 now)
{
	struct kl_vcpu_state *st = kl_state_cur(tid);

	if (!st || !st->run_start_ns)
		return;
	if (!kl_hot_add(kl_slot(st), KL_C_KVM_RUNS, 1))
		kl_count(st->tgid, st->vcpu_id, KL_C_KVM_RUNS);
	kl_latency(st->tgid, KL_H_KVM_RUN, KL_SUB_ALL, st->run_start_ns, now);
	st->run_start_ns = 0;
	st->off_start_ns = 0;
	kl_put(st, tid, cpu, kl_cpu());
}

/* Production programs pass now = 0: the clock is read only when needed. */
#define KL_TIME(now)	((now) ? (now) : bpf_ktime_get_ns())

/*
 * 1 if prev has a KVM preempt notifier registered (a loaded vCPU).  btf:
 * prev is a trusted BTF pointer (tp_btf), read directly; NULL prev (test
 * programs): hint.
 */
static __always_inline bool kl_task_is_loaded_vcpu(const struct task_struct *t, int hint, bool btf)
{
	if (!t)
		return hint;
	if (!bpf_core_field_exists(t->preempt_notifiers))
		return false;
	if (btf)
		return t->preempt_notifiers.first != NULL;
	return BPF_CORE_READ(t, preempt_notifiers.first) != NULL;
}

/*
 * sched_switch.  prev is current; prev_task and next_task are trusted
 * task pointers (tp_btf), or NULL (raw_tp fallback: next is then never
 * seen as tracked; test programs: test_mode ignores them).  The common
 * case (neither thread is a tracked vCPU) costs one per-CPU cache lookup
 * (prev is the thread the cache describes) and one load from next (no
 * task-local storage at all); the clock is read only for tracked threads.
 */
static __always_inline void kl_on_switch(__s32 cpu, __u64 now,
					 struct task_struct *prev, __u32 prev_tid,
					 __u32 prev_tgid, __u64 prev_state, int prev_loaded,
					 struct task_struct *prev_task,
					 struct task_struct *next_task,
					 __u32 next_tid, __u32 next_tgid, bool btf)
{
	struct kl_cur *cur = kl_cur();
	struct kl_cpu_state *cs;
	struct kl_vcpu_state *st = NULL;

	/* switch-out */
	if (!kl_reject(prev_tgid) && !(cur && cur->tid == prev_tid && !cur->tracked))
		st = kl_state_of(prev_task, prev_tid);
	if (st) {
		kl_exit_spill(cur, prev_tid, st);
		if (st->run_start_ns) {
			__u32 slot = kl_slot(st);

			now = KL_TIME(now);
			if (!kl_hot_add(slot, KL_C_SCHED_OUT, 1))
				kl_count(st->tgid, st->vcpu_id, KL_C_SCHED_OUT);
			if (prev_state == KL_TASK_RUNNING &&
			    !kl_hot_add(slot, KL_C_PREEMPTIONS, 1))
				kl_count(st->tgid, st->vcpu_id, KL_C_PREEMPTIONS);
			st->off_start_ns = now;
			kl_put(st, prev_tid, cpu, kl_cpu());
		}
	} else if (prev_tid && kl_task_is_loaded_vcpu(prev, prev_loaded, btf)) {
		/* a vCPU we do not track (other VM) was loaded here */
		cs = kl_cpu();
		if (cs)
			cs->last_vcpu_tid = prev_tid;
	}

	/* switch-in */
	st = NULL;
	if (!kl_reject(next_tgid))
		st = kl_state_of(next_task, next_tid);
	if (st && st->run_start_ns) {
		now = KL_TIME(now);
		if (st->off_start_ns) {
			kl_latency(st->tgid, KL_H_OFFCPU, KL_SUB_ALL, st->off_start_ns, now);
			st->off_start_ns = 0;
		}
		kl_predict(st, next_tid, cpu, kl_cpu());
	}
	if (cur) {
		cur->tid = next_tid;
		cur->vcpu_id = st ? st->vcpu_id : KL_VCPU_UNKNOWN;
		cur->slot = st ? kl_slot(st) : 0;
		cur->tracked = !!st;
		kl_exit_fill(cur, st);
	}
}


/* Hot slot and vCPU id of an exit/fault event's thread (cur, else entry). */
static __always_inline __u32 kl_exit_slot(const struct kl_cur *c, struct kl_vcpu_state *st)
{
	if (c)
		return c->slot;
	return st ? kl_slot(st) : 0;
}

static __always_inline __s32 kl_exit_vcpu_id(const struct kl_cur *c,
					     const struct kl_vcpu_state *st,
					     const struct kvm_vcpu *vcpu, __s32 hint)
{
	if (c)
		return c->vcpu_id;
	return st ? st->vcpu_id : kl_vcpu_id_of(vcpu, hint);
}


static __always_inline void kl_on_kvm_exit(__u32 tid, __u32 tgid,
					   const struct kvm_vcpu *vcpu, __s32 hint,
					   __u64 code, __u64 now)
{
	struct kl_vcpu_state *st;
	struct kl_cur *c = kl_cur_identify(tid, tgid, vcpu, hint, &st);
	struct kl_pending_exit *x;

	if (!kl_hot_add(kl_exit_slot(c, st), KL_C_EXITS, 1))
		kl_count(tgid, kl_exit_vcpu_id(c, st, vcpu, hint), KL_C_EXITS);
	kl_reason(tgid, KL_R_EXIT, code);
	x = kl_exit_of(c, st);
	if (!x)
		return;
	x->start_ns = now;
	x->code = code;
	x->fault_path = 0;
}

static __always_inline void kl_on_kvm_entry(__u32 tid, __u32 tgid,
					    const struct kvm_vcpu *vcpu, __s32 hint,
					    __u64 now)
{
	struct kl_vcpu_state *st;
	struct kl_cur *c = kl_cur_identify(tid, tgid, vcpu, hint, &st);
	struct kl_pending_exit *x;
	__u64 start, code;
	__u32 path;

	x = kl_exit_of(c, st);
	if (!x || !x->start_ns)
		return;
	start = x->start_ns;
	code = x->code;
	path = x->fault_path;
	x->start_ns = 0;
	x->fault_path = 0;
	if (now < start) {
		kl_drop(KL_D_CLOCK_SKEW);
		return;
	}
	/*
	 * A store-fault exit is only recorded under its exit code: the
	 * collector derives KL_H_FAULT from KL_H_EXIT[fault_exit_code], which
	 * saves a histogram slot lookup on the most frequent exit.
	 */
	kl_hist_add(tgid, KL_H_EXIT, code & 0xffff, now - start);
	if (code != fault_exit_code)
		return;
	if (have_series && path)
		kl_hist_add(tgid, path == 1 ? KL_H_FAULT_FAST : KL_H_FAULT_SLOW,
			    KL_SUB_ALL, now - start);
}

static __always_inline void kl_on_userspace_exit(__u32 tid, __u32 tgid, __u32 reason)
{
	kl_count_cur(tid, tgid, KL_C_USERSPACE_EXITS);
	kl_reason(tgid, KL_R_USERSPACE_EXIT, reason);
}

/* kvm_userspace_exit: the end of a KVM_RUN (if its start was seen) and its reason. */
static __always_inline void kl_on_run_end(__u32 tid, __u32 tgid, __s32 cpu, __u64 now,
					  __u32 reason)
{
	kl_on_run_exit(tid, cpu, now);
	kl_on_userspace_exit(tid, tgid, reason);
}

/*
 * ring: the kvm_dirty_ring the entry was pushed to, embedded in the
 * running struct kvm_vcpu; it identifies a thread first seen here (e.g.
 * attached to an already-running VM, in the middle of a KVM_RUN).
 */
static __always_inline void kl_on_dirty_ring_push(__u32 tid, __u32 tgid, const void *ring)
{
	struct kl_cur *c = kl_cur();

	if (c && c->tid == tid && kl_hot_add(c->slot, KL_C_DIRTY_PAGES, 1))
		return;
	if (ring && bpf_core_field_exists(struct kvm_vcpu, dirty_ring) &&
	    kl_cur_vcpu_id(tid) == KL_VCPU_UNKNOWN) {
		const struct kvm_vcpu *vcpu = (const void *)((const char *)ring -
			bpf_core_field_offset(struct kvm_vcpu, dirty_ring));

		kl_identify(tid, tgid, vcpu, KL_VCPU_UNKNOWN);
	}
	kl_count_cur(tid, tgid, KL_C_DIRTY_PAGES);
}

static __always_inline void kl_on_fpu(__u32 tid, __u32 tgid, int load)
{
	struct kl_cur *c;

	if (!load)
		return;
	c = kl_cur();
	if (c && c->tid == tid && kl_hot_add(c->slot, KL_C_FPU_LOADS, 1))
		return;
	if (kl_cur_vcpu_id(tid) == KL_VCPU_UNKNOWN && !kl_state_cur(tid)) {
		kl_state_create(tid, tgid, KL_VCPU_UNKNOWN);	/* identify */
		kl_cur_refresh(tid);
	}
	kl_count_cur(tid, tgid, KL_C_FPU_LOADS);
}

static __always_inline void kl_on_fast_page_fault(__u32 tid, __u32 tgid)
{
	kl_count_cur(tid, tgid, KL_C_FAST_PAGE_FAULTS);
}

static __always_inline void kl_on_load_begin(__u32 tid, __u32 tgid,
					     const struct kvm_vcpu *vcpu, __s32 hint,
					     __u64 now)
{
	struct kl_vcpu_state *st = kl_identify(tid, tgid, vcpu, hint);

	if (st) {
		st->load_start_ns = now;
		st->pad = 0;
	}
}

static __always_inline void kl_on_load_end(__u32 tid, __u64 now)
{
	struct kl_vcpu_state *st = kl_state_cur(tid);
	__u16 sub;

	if (!st || !st->load_start_ns)
		return;
	sub = st->pad ? st->pad - 1 : KL_SUB_ALL;
	kl_latency(st->tgid, KL_H_VCPU_LOAD, sub, st->load_start_ns, now);
	st->load_start_ns = 0;
	st->pad = 0;
}

#endif /* __KL_HANDLERS_BPF_H */
