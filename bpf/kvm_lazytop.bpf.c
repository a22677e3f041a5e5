// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * kvm_lazytop.bpf.c - in-kernel aggregation for kvm-lazytop.
 *
 * Contract with the collector: bpf/README.md.  In short: every program
 * rejects foreign tgids first, then updates per-CPU counters/histograms
 * keyed by (tgid, vCPU); nothing is sent to userspace per event.
 *
 * Layout: production programs are thin adapters that read their
 * tracepoint arguments and call the kl_on_*() handlers; the kl_test_*
 * programs (autoload off) call the very same handlers with every input,
 * timestamps included, passed as scalar raw_tp arguments so that
 * BPF_PROG_TEST_RUN can drive the logic deterministically.
 */
#include "kl_core.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kvm_lazytop.h"
#include "kl_hist.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by the collector before load. */
const volatile __u32 target_tgid = 0;		/* 0: every VM */
const volatile bool have_series = false;	/* riscv series tracepoints */
const volatile bool have_fentry = false;	/* kvm_arch_vcpu_load fentry/fexit */
const volatile __u64 fault_exit_code = KL_DEFAULT_FAULT_CODE;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, KL_MAX_COUNTER_KEYS);
	__type(key, struct kl_counter_key);
	__type(value, struct kl_counters);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, KL_MAX_REASON_KEYS);
	__type(key, struct kl_reason_key);
	__type(value, __u64);
} reasons SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, KL_MAX_HIST_KEYS);
	__type(key, struct kl_hist_key);
	__type(value, struct kl_hist);
} hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KL_MAX_VCPU_THREADS);
	__type(key, __u32);
	__type(value, struct kl_vcpu_state);
} vcpus SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kl_cpu_state);
} cpu_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KL_D_NR);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/*
 * Internal (not part of the collector contract): per CPU, the thread
 * that currently runs there and its vCPU id, so that the hot events
 * without a vcpu argument (dirty ring push, kvm_fpu, ...) find their
 * counter row without a lookup in `vcpus`.  Written at every switch-in.
 */
struct kl_cur {
	__u32 tid;
	__s32 vcpu_id;
	__u32 slot;		/* hot-counter slot + 1 of tid, 0 none */
	__u32 tracked;		/* tid has a `vcpus` entry */
	__u32 live;		/* a production sched_switch program ran on this CPU */
	__u32 pad;
	struct kl_pending_exit exit;	/* tid's, while cur owns it: kl_exit_of() */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kl_cur);
} cur_vcpu SEC(".maps");

/* Hot counters per slot (see kvm_lazytop.h), and slot -> (tgid, vcpu_id). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KL_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct kl_hot_counters);
} hot SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KL_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct kl_counter_key);
} slot_key SEC(".maps");

/*
 * Once a production sched_switch program has run on this CPU, every
 * switch-in rewrites cur, so cur describes the current thread: the hot
 * events may count into cur->slot without asking for the current tid
 * (cur->slot is non-zero only for a tracked thread of an accepted tgid).
 */
static __always_inline bool kl_hot_cur(__u32 hidx)
{
	__u32 zero = 0;
	struct kl_cur *c = bpf_map_lookup_elem(&cur_vcpu, &zero);
	struct kl_hot_counters *h;
	__u32 s;

	if (!c || !c->live || !c->slot)
		return false;
	s = c->slot - 1;
	h = bpf_map_lookup_elem(&hot, &s);
	if (!h || hidx >= KL_HOT_NR)
		return false;
	h->c[hidx]++;
	return true;
}

/* Next free slot (userspace reads it to bound its walk of `hot`). */
__u32 next_slot = 0;

/*
 * Internal: a 4096-bit filter of the tgids that ever had a `vcpus` entry
 * (bit tgid % 4096, set before the entry is created, never cleared).  A
 * next task whose bit is clear has no entry, so sched_switch skips the
 * `vcpus` lookup with one load of a read-mostly line (next->tgid shares
 * its cache line with next->pid, which is read anyway).
 */
#define KL_TGID_WORDS	64
__u64 tgid_filter[KL_TGID_WORDS] = {};

static __always_inline bool kl_tgid_maybe_tracked(__u32 tgid)
{
	return tgid_filter[(tgid >> 6) & (KL_TGID_WORDS - 1)] & (1ULL << (tgid & 63));
}

#define KL_SLOT_NONE	(~0U)

/* Zero value used to create hash entries (large enough for every map). */
static const __u64 kl_zero[KL_HIST_BUCKETS + 1];

/* ------------------------------------------------------------------ */
/* small helpers                                                       */

static __always_inline bool kl_reject(__u32 tgid)
{
	return target_tgid && tgid != target_tgid;
}

static __always_inline void kl_drop(__u32 what)
{
	__u64 *d = bpf_map_lookup_elem(&drops, &what);

	if (d)
		(*d)++;
}

/* Insert a zeroed entry (first use of a key) and return it. */
static __always_inline void *kl_insert(void *map, const void *key, __u32 drop)
{
	long err = bpf_map_update_elem(map, key, kl_zero, BPF_NOEXIST);

	if (err && err != -KL_EEXIST) {
		kl_drop(drop);
		return NULL;
	}
	return bpf_map_lookup_elem(map, key);
}

static __always_inline struct kl_counters *kl_counters(__u32 tgid, __s32 vcpu_id)
{
	struct kl_counter_key k = { .tgid = tgid, .vcpu_id = vcpu_id };
	struct kl_counters *c;

	c = bpf_map_lookup_elem(&counters, &k);
	if (c)
		return c;
	return kl_insert(&counters, &k, KL_D_COUNTER_MAP_FULL);
}

static __always_inline void kl_count(__u32 tgid, __s32 vcpu_id, __u32 idx)
{
	struct kl_counters *c = kl_counters(tgid, vcpu_id);

	/* keep the bound check next to the access (the verifier may have lost
	 * the caller's range of idx across spills) */
	barrier_var(idx);
	if (c && idx < KL_C_NR)
		c->c[idx]++;
}

static __always_inline void kl_reason(__u32 tgid, __u16 kind, __u64 code)
{
	struct kl_reason_key k = { .tgid = tgid, .kind = kind, .code = code };
	__u64 *v;

	v = bpf_map_lookup_elem(&reasons, &k);
	if (!v)
		v = kl_insert(&reasons, &k, KL_D_REASON_MAP_FULL);
	if (v)
		(*v)++;
}

static __always_inline void kl_hist_add(__u32 tgid, __u16 hist, __u16 sub, __u64 v)
{
	struct kl_hist_key k = { .tgid = tgid, .hist = hist, .sub = sub };
	struct kl_hist *h;
	__u64 b;

	h = bpf_map_lookup_elem(&hists, &k);
	if (!h)
		h = kl_insert(&hists, &k, KL_D_HIST_MAP_FULL);
	if (!h)
		return;
	b = kl_hist_bucket(v);
	/* keep the bound check and the index in one register */
	barrier_var(b);
	if (b >= KL_HIST_BUCKETS)
		b = KL_HIST_BUCKETS - 1;
	h->buckets[b]++;
	h->sum += v;
}

/* Record end - start; a negative interval is a dropped sample. */
static __always_inline void kl_latency(__u32 tgid, __u16 hist, __u16 sub,
				       __u64 start, __u64 end)
{
	if (end < start) {
		kl_drop(KL_D_CLOCK_SKEW);
		return;
	}
	kl_hist_add(tgid, hist, sub, end - start);
}

static __always_inline struct kl_cpu_state *kl_cpu(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&cpu_state, &zero);
}

static __always_inline struct kl_cur *kl_cur(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&cur_vcpu, &zero);
}

/*
 * Give an identified thread its hot-counter slot (once).  Slots are never
 * reused; when they run out the thread keeps counting in `counters`.
 */
static __always_inline __u32 kl_slot(struct kl_vcpu_state *st)
{
	struct kl_counter_key *k;
	__u32 s;

	if (st->slot || st->vcpu_id == KL_VCPU_UNKNOWN)
		return st->slot == KL_SLOT_NONE ? 0 : st->slot;
	s = __sync_fetch_and_add(&next_slot, 1);
	k = bpf_map_lookup_elem(&slot_key, &s);
	if (!k) {
		st->slot = KL_SLOT_NONE;
		return 0;
	}
	k->tgid = st->tgid;
	k->vcpu_id = st->vcpu_id;
	st->slot = s + 1;
	return st->slot;
}

/*
 * The in-flight exit of a vCPU thread (kvm_exit -> kvm_entry: start, exit
 * code, fault path) lives in cur while cur describes the thread (live,
 * tracked, vCPU id known: kl_cur_vcpu()), and in its `vcpus` entry
 * otherwise.  So the exit, fault and entry events of a thread that stays
 * on its CPU need no `vcpus` lookup; sched_switch moves the state to the
 * entry at switch-out (kl_exit_spill()) and back at switch-in, and every
 * other writer of cur loads it from the entry (kl_exit_fill()).
 * kl_exit_of() says where it is.
 */
static __always_inline bool kl_cur_owns_exit(const struct kl_cur *c, __u32 tid)
{
	return c && c->live && c->tracked && c->tid == tid && c->vcpu_id != KL_VCPU_UNKNOWN;
}

static __always_inline struct kl_cur *kl_cur_vcpu(__u32 tid)
{
	struct kl_cur *c = kl_cur();

	return kl_cur_owns_exit(c, tid) ? c : NULL;
}

static __always_inline void kl_exit_fill(struct kl_cur *c, const struct kl_vcpu_state *st)
{
	if (st)
		c->exit = st->exit;
	else
		__builtin_memset(&c->exit, 0, sizeof(c->exit));
}

/* Switch-out of tid: its in-flight exit goes back to its entry st. */
static __always_inline void kl_exit_spill(const struct kl_cur *c, __u32 tid,
					  struct kl_vcpu_state *st)
{
	if (kl_cur_owns_exit(c, tid))
		st->exit = c->exit;
}

/* c: kl_cur_vcpu(tid); st: tid's entry, or NULL if untracked */
static __always_inline struct kl_pending_exit *kl_exit_of(struct kl_cur *c,
							   struct kl_vcpu_state *st)
{
	if (c)
		return &c->exit;
	return st ? &st->exit : NULL;
}

/* The per-CPU cache now describes thread tid (st NULL: not tracked). */
static __always_inline void kl_cur_set(__u32 tid, struct kl_vcpu_state *st)
{
	struct kl_cur *c = kl_cur();

	if (!c)
		return;
	c->tid = tid;
	c->vcpu_id = st ? st->vcpu_id : KL_VCPU_UNKNOWN;
	c->slot = st ? kl_slot(st) : 0;
	c->tracked = !!st;
	kl_exit_fill(c, st);
}

/* Refresh the cache for the current thread tid from `vcpus`. */
static __always_inline struct kl_vcpu_state *kl_cur_refresh(__u32 tid)
{
	struct kl_vcpu_state *st = bpf_map_lookup_elem(&vcpus, &tid);

	kl_cur_set(tid, st);
	return st;
}

/* vCPU id of the current thread tid, KL_VCPU_UNKNOWN if not a vCPU. */
static __always_inline __s32 kl_cur_vcpu_id(__u32 tid)
{
	struct kl_vcpu_state *st;
	struct kl_cur *c = kl_cur();

	if (c && c->tid == tid)
		return c->vcpu_id;
	st = kl_cur_refresh(tid);
	return st ? st->vcpu_id : KL_VCPU_UNKNOWN;
}

static __always_inline bool kl_hot_add(__u32 slot, __u32 hidx, __u64 n)
{
	struct kl_hot_counters *h;
	__u32 s;

	if (!slot)
		return false;
	s = slot - 1;
	h = bpf_map_lookup_elem(&hot, &s);
	if (!h || hidx >= KL_HOT_NR)
		return false;
	h->c[hidx] += n;
	return true;
}

/*
 * Count an event of the current thread tid: one per-CPU cache lookup and
 * one per-CPU array increment when tid is an identified vCPU thread,
 * else the (tgid, vcpu_id or -1) row of `counters`.
 */
static __always_inline void kl_count_cur(__u32 tid, __u32 tgid, __u32 hidx, __u32 idx)
{
	struct kl_cur *c = kl_cur();
	struct kl_vcpu_state *st;
	__s32 id = KL_VCPU_UNKNOWN;

	if (c && c->tid == tid) {
		if (kl_hot_add(c->slot, hidx, 1))
			return;
		id = c->vcpu_id;
	} else {
		st = kl_cur_refresh(tid);
		if (st) {
			if (kl_hot_add(st->slot == KL_SLOT_NONE ? 0 : st->slot, hidx, 1))
				return;
			id = st->vcpu_id;
		}
	}
	kl_count(tgid, id, idx);
}

static __always_inline __s32 kl_sane_id(int id)
{
	return id >= 0 && id < (1 << 20) ? id : KL_VCPU_UNKNOWN;
}

/* vcpu->vcpu_id, or hint when no pointer is given (test programs). */
static __always_inline __s32 kl_vcpu_id_of(const struct kvm_vcpu *vcpu, __s32 hint)
{
	if (!vcpu)
		return hint;
	return kl_sane_id(BPF_CORE_READ(vcpu, vcpu_id));
}

/* current->files->fdt->fd[fd]->private_data (a struct kvm_vcpu). */
static __always_inline __s32 kl_vcpu_id_of_fd(long fd, __s32 hint)
{
	struct task_struct *task;
	struct fdtable *fdt;
	struct file **fds;
	struct file *file = NULL;
	struct kvm_vcpu *vcpu;

	if (fd < 0)
		return hint;
	task = (struct task_struct *)bpf_get_current_task();
	fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt || (unsigned long)fd >= BPF_CORE_READ(fdt, max_fds))
		return KL_VCPU_UNKNOWN;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return KL_VCPU_UNKNOWN;
	vcpu = BPF_CORE_READ(file, private_data);
	if (!vcpu)
		return KL_VCPU_UNKNOWN;
	return kl_sane_id(BPF_CORE_READ(vcpu, vcpu_id));
}

static __always_inline struct kl_vcpu_state *kl_state_create(__u32 tid, __u32 tgid,
							    __s32 vcpu_id)
{
	struct kl_vcpu_state s = {};
	long err;

	s.tgid = tgid;
	s.vcpu_id = vcpu_id;
	s.last_cpu = -1;
	if (tid == (__u32)bpf_get_current_pid_tgid()) {	/* not in test runs */
		struct task_struct *t = (struct task_struct *)bpf_get_current_task();

		BPF_CORE_READ_STR_INTO(&s.comm, t, group_leader, comm);
	}
	/* the filter bit first: a tgid whose bit is clear never has an entry */
	if (!kl_tgid_maybe_tracked(tgid))
		__sync_fetch_and_or(&tgid_filter[(tgid >> 6) & (KL_TGID_WORDS - 1)], 1ULL << (tgid & 63));
	err = bpf_map_update_elem(&vcpus, &tid, &s, BPF_NOEXIST);
	if (err && err != -KL_EEXIST) {
		kl_drop(KL_D_VCPU_MAP_FULL);
		return NULL;
	}
	return bpf_map_lookup_elem(&vcpus, &tid);
}

/*
 * Identification from an event that carries a vcpu pointer (or a test
 * hint): find or create the thread's state, learn its vCPU id.  Runs in
 * the context of thread tid, so the per-CPU cache is refreshed too.
 */
static __always_inline struct kl_vcpu_state *
kl_identify(__u32 tid, __u32 tgid, const struct kvm_vcpu *vcpu, __s32 hint)
{
	struct kl_vcpu_state *st = bpf_map_lookup_elem(&vcpus, &tid);

	if (st && st->vcpu_id != KL_VCPU_UNKNOWN)
		return st;
	if (st)
		st->vcpu_id = kl_vcpu_id_of(vcpu, hint);
	else
		st = kl_state_create(tid, tgid, kl_vcpu_id_of(vcpu, hint));
	if (st)
		kl_cur_set(tid, st);
	return st;
}

/* ------------------------------------------------------------------ */
/* current CPU                                                         */

/*
 * The CPU task t runs on; t is current, or sched_switch's next (already
 * on this CPU's runqueue).  Read from the task with CO-RE rather than
 * with bpf_get_smp_processor_id(): 6.12's verifier leaves that helper
 * call un-fixed-up whenever the arch JIT claims to inline it (riscv64,
 * arm64), without checking that the program is JITed, so with
 * bpf_jit_enable=0 the interpreter calls __bpf_call_base + 8 and gets
 * garbage (0 on riscv64: no "migrated" prediction ever).  The helper is
 * only the last resort for kernels whose task_struct has no CPU
 * (!CONFIG_THREAD_INFO_IN_TASK).  btf: t is a trusted BTF pointer (plain
 * loads, tp_btf).
 */
static __always_inline __s32 kl_task_cpu(const struct task_struct *t, bool btf)
{
	if (bpf_core_field_exists(t->thread_info.cpu))	/* 5.16+ */
		return btf ? t->thread_info.cpu : BPF_CORE_READ(t, thread_info.cpu);
	if (bpf_core_field_exists(t->cpu))
		return btf ? t->cpu : BPF_CORE_READ(t, cpu);
	return bpf_get_smp_processor_id();
}

/* CPU of the current task (tracepoint programs: no task argument). */
static __always_inline __s32 kl_cur_cpu(void)
{
	return kl_task_cpu((const struct task_struct *)bpf_get_current_task(), false);
}

/* ------------------------------------------------------------------ */
/* reload prediction                                                   */

static __always_inline void kl_predict(struct kl_vcpu_state *st, __u32 tid,
				       __s32 cpu, struct kl_cpu_state *cs)
{
	__u32 pred;

	if (st->last_cpu < 0)		/* first load: nothing to predict */
		return;
	if (st->last_cpu != cpu)
		pred = KL_PRED_MIGRATED;
	else if (!cs || cs->last_vcpu_tid != tid)
		pred = KL_PRED_OTHER_VCPU;
	else
		pred = KL_PRED_SAME_CPU;
	if (!kl_hot_add(kl_slot(st), KL_HOT_PRED + pred, 1))
		kl_count(st->tgid, st->vcpu_id, KL_C_PRED + pred);
	st->pending_pred = pred + 1;
}

/* The vCPU's state is put on this CPU (switch-out or end of KVM_RUN). */
static __always_inline void kl_put(struct kl_vcpu_state *st, __u32 tid, __s32 cpu,
				   struct kl_cpu_state *cs)
{
	st->last_cpu = cpu;
	if (cs)
		cs->last_vcpu_tid = tid;
}

/* ------------------------------------------------------------------ */
/* handlers, shared by production and test programs                   */

static __always_inline void kl_on_run_enter(__u32 tid, __u32 tgid, __s32 cpu,
					    __u64 now, long fd, __s32 hint)
{
	struct kl_vcpu_state *st = bpf_map_lookup_elem(&vcpus, &tid);

	if (!st)
		st = kl_state_create(tid, tgid, kl_vcpu_id_of_fd(fd, hint));
	else if (st->vcpu_id == KL_VCPU_UNKNOWN)
		st->vcpu_id = kl_vcpu_id_of_fd(fd, hint);
	if (!st)
		return;
	st->run_start_ns = now;
	st->off_start_ns = 0;
	st->exit.start_ns = 0;
	st->exit.fault_path = 0;
	kl_predict(st, tid, cpu, kl_cpu());
	kl_cur_set(tid, st);
}

static __always_inline void kl_on_run_exit(__u32 tid, __s32 cpu, __u64 now)
{
	struct kl_vcpu_state *st = bpf_map_lookup_elem(&vcpus, &tid);

	if (!st || !st->run_start_ns)
		return;
	if (!kl_hot_add(kl_slot(st), KL_HOT_KVM_RUNS, 1))
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
 * sched_switch.  The common case (neither thread is a tracked vCPU) costs
 * one per-CPU cache lookup (prev is the thread the cache describes) and
 * one `vcpus` lookup for next; the clock is read only for tracked threads.
 */
static __always_inline void kl_on_switch(__s32 cpu, __u64 now,
					 const struct task_struct *prev, __u32 prev_tid,
					 __u32 prev_tgid, __u64 prev_state, int prev_loaded,
					 __u32 next_tid, __u32 next_tgid, bool btf)
{
	struct kl_cur *cur = kl_cur();
	struct kl_cpu_state *cs;
	struct kl_vcpu_state *st = NULL;

	/* switch-out */
	if (!kl_reject(prev_tgid) && kl_tgid_maybe_tracked(prev_tgid) &&
	    !(cur && cur->tid == prev_tid && !cur->tracked))
		st = bpf_map_lookup_elem(&vcpus, &prev_tid);
	if (st) {
		kl_exit_spill(cur, prev_tid, st);
		if (st->run_start_ns) {
			__u32 slot = kl_slot(st);

			now = KL_TIME(now);
			if (!kl_hot_add(slot, KL_HOT_SCHED_OUT, 1))
				kl_count(st->tgid, st->vcpu_id, KL_C_SCHED_OUT);
			if (prev_state == KL_TASK_RUNNING &&
			    !kl_hot_add(slot, KL_HOT_PREEMPTIONS, 1))
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
	if (!kl_reject(next_tgid) && kl_tgid_maybe_tracked(next_tgid))	/* clear bit: no entry */
		st = bpf_map_lookup_elem(&vcpus, &next_tid);
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

static __always_inline void kl_on_vcpu_load(__u32 tid, __u32 tgid,
					    const struct kvm_vcpu *vcpu, __s32 hint,
					    int actual)
{
	struct kl_vcpu_state *st = kl_identify(tid, tgid, vcpu, hint);
	struct kl_counters *c;
	__u32 pred, idx;

	if (actual < 0 || actual >= KL_LOAD_NR)
		return;
	c = kl_counters(tgid, st ? st->vcpu_id : kl_vcpu_id_of(vcpu, hint));
	if (!c)
		return;
	c->c[KL_C_VCPU_LOAD + actual]++;
	if (!st)
		return;
	if (st->pending_pred) {
		pred = st->pending_pred - 1;
		idx = KL_C_PRED_VS_ACTUAL + pred * KL_LOAD_NR + actual;
		if (idx < KL_C_NR)
			c->c[idx]++;
		st->pending_pred = 0;
	}
	if (have_fentry)
		st->pad = actual + 1;	/* reason of the load in progress */
}

static __always_inline void kl_on_vcpu_put(__u32 tid, __u32 tgid,
					   const struct kvm_vcpu *vcpu, __s32 hint)
{
	struct kl_vcpu_state *st = kl_identify(tid, tgid, vcpu, hint);

	kl_count(tgid, st ? st->vcpu_id : kl_vcpu_id_of(vcpu, hint), KL_C_VCPU_PUT);
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

static __always_inline void kl_on_gstage_fault(__u32 tid, __u32 tgid,
					       const struct kvm_vcpu *vcpu, __s32 hint,
					       int reason)
{
	struct kl_cur *c = kl_cur_vcpu(tid);
	struct kl_vcpu_state *st = NULL;
	struct kl_pending_exit *x;

	if (!c) {
		st = kl_identify(tid, tgid, vcpu, hint);
		c = kl_cur_vcpu(tid);	/* identification may have filled cur */
	}
	if (reason < 0 || reason >= KL_FAULT_NR)
		return;
	if (reason != KL_FAULT_FAST || !kl_hot_add(kl_exit_slot(c, st), KL_HOT_GSTAGE_FAST, 1))
		kl_count(tgid, kl_exit_vcpu_id(c, st, vcpu, hint), KL_C_GSTAGE_FAULT + reason);
	x = kl_exit_of(c, st);
	if (x)
		x->fault_path = reason == KL_FAULT_FAST || reason == KL_FAULT_SPURIOUS ? 1 : 2;
}

static __always_inline void kl_on_pte_update(__u32 tid, __u32 tgid, int op,
					     __u32 retries, int outcome)
{
	struct kl_counters *c = kl_counters(tgid, kl_cur_vcpu_id(tid));

	if (!c)
		return;
	c->c[KL_C_PTE_UPDATE_EVENTS]++;
	c->c[KL_C_PTE_UPDATE_RETRIES] += retries;
	if (op >= 0 && op < KL_PTE_OP_NR)
		c->c[KL_C_PTE_OP + op]++;
	if (outcome >= 0 && outcome < KL_PTE_OUTCOME_NR)
		c->c[KL_C_PTE_OUTCOME + outcome]++;
}

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
	struct kl_counters *c;
	__u32 idx;

	if (dir < 0 || dir >= KL_PKVM_DIR_NR || reason < 0 || reason >= KL_PKVM_REASON_NR)
		return;
	if (dir == KL_PKVM_TO_HYP || exit_code != -1)
		st = kl_identify(tid, tgid, vcpu, hint);
	c = kl_counters(tgid, st ? st->vcpu_id : kl_vcpu_id_of(vcpu, hint));
	idx = KL_C_PKVM_SYNC + dir * KL_PKVM_REASON_NR + reason;
	barrier_var(idx);
	if (c && idx < KL_C_NR)
		c->c[idx]++;
}

/*
 * arm64 kvm_guest_fault (stage-2 abort handled by the host), counted in
 * the current thread's row by access (ESR class, WnR) and by the fault
 * status class of its FSC.
 */
static __always_inline void kl_on_guest_fault(__u32 tid, __u32 tgid, __u64 esr)
{
	struct kl_counters *c = kl_counters(tgid, kl_cur_vcpu_id(tid));
	__u32 ec = (esr >> KL_ESR_EC_SHIFT) & KL_ESR_EC_MASK, fsc = esr & KL_ESR_FSC_TYPE;
	__u32 access, status;

	if (!c)
		return;
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
	c->c[KL_C_GUEST_FAULT_ACCESS + access]++;
	c->c[KL_C_GUEST_FAULT_STATUS + status]++;
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

static __always_inline void kl_on_kvm_exit(__u32 tid, __u32 tgid,
					   const struct kvm_vcpu *vcpu, __s32 hint,
					   __u64 code, __u64 now)
{
	struct kl_cur *c = kl_cur_vcpu(tid);
	struct kl_vcpu_state *st = NULL;
	struct kl_pending_exit *x;

	if (!c) {
		st = kl_identify(tid, tgid, vcpu, hint);
		c = kl_cur_vcpu(tid);	/* identification may have filled cur */
	}
	if (!kl_hot_add(kl_exit_slot(c, st), KL_HOT_EXITS, 1))
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
	struct kl_cur *c = kl_cur_vcpu(tid);
	struct kl_vcpu_state *st = NULL;
	struct kl_pending_exit *x;
	__u64 start, code;
	__u32 path;

	if (!c) {
		st = kl_identify(tid, tgid, vcpu, hint);
		c = kl_cur_vcpu(tid);	/* identification may have filled cur */
	}
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
	 * saves a `hists` lookup on the most frequent exit.
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
	kl_count_cur(tid, tgid, KL_HOT_USERSPACE_EXITS, KL_C_USERSPACE_EXITS);
	kl_reason(tgid, KL_R_USERSPACE_EXIT, reason);
}

/*
 * ring: the kvm_dirty_ring the entry was pushed to, embedded in the
 * running struct kvm_vcpu; it identifies a thread first seen here (e.g.
 * attached to an already-running VM, in the middle of a KVM_RUN).
 */
static __always_inline void kl_on_dirty_ring_push(__u32 tid, __u32 tgid, const void *ring)
{
	struct kl_cur *c = kl_cur();

	if (c && c->tid == tid && kl_hot_add(c->slot, KL_HOT_DIRTY_PAGES, 1))
		return;
	if (ring && bpf_core_field_exists(struct kvm_vcpu, dirty_ring) &&
	    kl_cur_vcpu_id(tid) == KL_VCPU_UNKNOWN) {
		const struct kvm_vcpu *vcpu = (const void *)((const char *)ring -
			bpf_core_field_offset(struct kvm_vcpu, dirty_ring));

		kl_identify(tid, tgid, vcpu, KL_VCPU_UNKNOWN);
	}
	kl_count_cur(tid, tgid, KL_HOT_DIRTY_PAGES, KL_C_DIRTY_PAGES);
}

static __always_inline void kl_on_fpu(__u32 tid, __u32 tgid, int load)
{
	struct kl_cur *c;

	if (!load)
		return;
	c = kl_cur();
	if (c && c->tid == tid && kl_hot_add(c->slot, KL_HOT_FPU_LOADS, 1))
		return;
	if (kl_cur_vcpu_id(tid) == KL_VCPU_UNKNOWN && !bpf_map_lookup_elem(&vcpus, &tid)) {
		kl_state_create(tid, tgid, KL_VCPU_UNKNOWN);	/* identify */
		kl_cur_refresh(tid);
	}
	kl_count_cur(tid, tgid, KL_HOT_FPU_LOADS, KL_C_FPU_LOADS);
}

static __always_inline void kl_on_fast_page_fault(__u32 tid, __u32 tgid)
{
	kl_count_cur(tid, tgid, KL_HOT_FAST_PAGE_FAULTS, KL_C_FAST_PAGE_FAULTS);
}

/*
 * Thread exit: the entry stays (tid, comm for the collector) marked
 * exited; the collector deletes it after reading it.
 */
static __always_inline void kl_on_process_exit(__u32 tid)
{
	struct kl_vcpu_state *st = bpf_map_lookup_elem(&vcpus, &tid);
	struct kl_cur *c = kl_cur();

	if (st)
		st->flags |= KL_VS_EXITED;
	if (c && c->tid == tid)
		c->tid = 0;
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
	struct kl_vcpu_state *st = bpf_map_lookup_elem(&vcpus, &tid);
	__u16 sub;

	if (!st || !st->load_start_ns)
		return;
	sub = st->pad ? st->pad - 1 : KL_SUB_ALL;
	kl_latency(st->tgid, KL_H_VCPU_LOAD, sub, st->load_start_ns, now);
	st->load_start_ns = 0;
	st->pad = 0;
}

/* ------------------------------------------------------------------ */
/* kernel enum -> kl index (CO-RE enum relocations)                    */

/*
 * The running kernel's value of an enumerator.  When the kernel has no
 * such enum (a kernel without the series, e.g. the x86 host the tests run
 * on) the contract order is assumed, which is also the kl_* order.
 */
#define KL_EV(type, name, dflt) \
	(bpf_core_enum_value_exists(type, name) ? bpf_core_enum_value(type, name) : (dflt))

#define KL_MAP(kv, type, name, kl) \
	do { if ((kv) == KL_EV(type, name, kl)) return kl; } while (0)

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
/* production programs                                                 */

#define KL_PROLOGUE()						\
	__u64 id = bpf_get_current_pid_tgid();			\
	__u32 tgid = id >> 32, tid = (__u32)id;			\
	if (kl_reject(tgid))					\
		return 0

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

#if defined(__TARGET_ARCH_riscv)
SEC("raw_tp/kvm_exit")
int BPF_PROG(kl_kvm_exit, struct kvm_cpu_trap *trap)
{
	KL_PROLOGUE();
	kl_on_kvm_exit(tid, tgid, NULL, KL_VCPU_UNKNOWN, BPF_CORE_READ(trap, scause),
		       bpf_ktime_get_ns());
	return 0;
}

SEC("raw_tp/kvm_entry")
int BPF_PROG(kl_kvm_entry, struct kvm_vcpu *vcpu)
{
	KL_PROLOGUE();
	kl_on_kvm_entry(tid, tgid, vcpu, KL_VCPU_UNKNOWN, bpf_ktime_get_ns());
	return 0;
}
#elif defined(__TARGET_ARCH_arm64)
SEC("raw_tp/kvm_exit")
int BPF_PROG(kl_kvm_exit, int ret, unsigned int esr_ec)
{
	KL_PROLOGUE();
	kl_on_kvm_exit(tid, tgid, NULL, KL_VCPU_UNKNOWN, kl_arm64_exit_code(ret, esr_ec),
		       bpf_ktime_get_ns());
	return 0;
}

SEC("raw_tp/kvm_entry")
int BPF_PROG(kl_kvm_entry)
{
	KL_PROLOGUE();
	kl_on_kvm_entry(tid, tgid, NULL, KL_VCPU_UNKNOWN, bpf_ktime_get_ns());
	return 0;
}
#else /* x86 */
/* Exit reason from the vendor vCPU when its type is in the BTF, else 0. */
static __always_inline __u64 kl_x86_exit_code(struct kvm_vcpu *vcpu, __u32 isa)
{
	if (isa == KL_KVM_ISA_VMX && bpf_core_type_exists(struct vcpu_vmx))
		return BPF_CORE_READ((struct vcpu_vmx *)vcpu, exit_reason.full) & 0xffff;
	if (isa == KL_KVM_ISA_SVM && bpf_core_type_exists(struct vcpu_svm))
		return BPF_CORE_READ((struct vcpu_svm *)vcpu, vmcb, control.exit_code);
	return 0;
}

SEC("raw_tp/kvm_exit")
int BPF_PROG(kl_kvm_exit, struct kvm_vcpu *vcpu, __u32 isa)
{
	KL_PROLOGUE();
	kl_on_kvm_exit(tid, tgid, vcpu, KL_VCPU_UNKNOWN, kl_x86_exit_code(vcpu, isa),
		       bpf_ktime_get_ns());
	return 0;
}

SEC("raw_tp/kvm_entry")
int BPF_PROG(kl_kvm_entry, struct kvm_vcpu *vcpu)
{
	KL_PROLOGUE();
	kl_on_kvm_entry(tid, tgid, vcpu, KL_VCPU_UNKNOWN, bpf_ktime_get_ns());
	return 0;
}
#endif

SEC("raw_tp/kvm_userspace_exit")
int BPF_PROG(kl_kvm_userspace_exit, __u32 reason)
{
	KL_PROLOGUE();
	kl_on_userspace_exit(tid, tgid, reason);
	return 0;
}

SEC("raw_tp/kvm_dirty_ring_push")
int BPF_PROG(kl_kvm_dirty_ring_push, struct kvm_dirty_ring *ring)
{
	if (kl_hot_cur(KL_HOT_DIRTY_PAGES))
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
	if (kl_hot_cur(KL_HOT_FPU_LOADS))
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

/* BTF-typed: task fields are plain loads. */
SEC("tp_btf/sched_switch")
int BPF_PROG(kl_sched_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next, unsigned int prev_state)
{
	struct kl_cur *cur = kl_cur();
	__u32 ptid = prev->pid, ntid = next->pid;

	/*
	 * Fast path, exactly what kl_on_switch() does when neither side is a
	 * tracked thread: prev is untracked per the per-CPU cache, next is a
	 * foreign tgid or a tgid that never had a `vcpus` entry (tgid_filter).
	 * prev is current: plain loads, no pid_tgid helper.
	 */
	__u32 ntgid = next->tgid;

	if (cur && cur->tid == ptid && !cur->tracked &&
	    (kl_reject(ntgid) || !kl_tgid_maybe_tracked(ntgid))) {
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
		     ntid, ntgid, true);
	cur = kl_cur();
	if (cur)
		cur->live = 1;
	return 0;
}

/* Fallback when tp_btf is refused (the collector tries it second). */
SEC("raw_tp/sched_switch")
int BPF_PROG(kl_sched_switch_raw, bool preempt, struct task_struct *prev,
	     struct task_struct *next, unsigned int prev_state)
{
	__u64 id = bpf_get_current_pid_tgid();

	kl_on_switch(kl_task_cpu(next, false), 0, prev, (__u32)id, id >> 32, prev_state, 0,
		     BPF_CORE_READ(next, pid), BPF_CORE_READ(next, tgid), false);
	{
		struct kl_cur *cur = kl_cur();

		if (cur)
			cur->live = 1;
	}
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_ioctl")
int kl_sys_enter_ioctl(struct kl_sys_enter_ctx *ctx)
{
	KL_PROLOGUE();
	if ((__u32)ctx->args[1] != KL_KVM_RUN)
		return 0;
	kl_on_run_enter(tid, tgid, kl_cur_cpu(), bpf_ktime_get_ns(),
			(long)(int)ctx->args[0], KL_VCPU_UNKNOWN);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_ioctl")
int kl_sys_exit_ioctl(struct kl_sys_exit_ctx *ctx)
{
	KL_PROLOGUE();
	kl_on_run_exit(tid, kl_cur_cpu(), bpf_ktime_get_ns());
	return 0;
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(kl_sched_process_exit)
{
	KL_PROLOGUE();
	kl_on_process_exit(tid);
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

/* ------------------------------------------------------------------ */
/* test entry points: autoload off, inputs as raw_tp scalar args       */

#define KL_TEST_PROLOGUE(tgid)					\
	if (kl_reject(tgid))					\
		return 0

SEC("?raw_tp")
int BPF_PROG(kl_test_run_enter, __u32 tid, __u32 tgid, __s32 cpu, __s32 vcpu_id, __u64 now)
{
	KL_TEST_PROLOGUE(tgid);
	kl_on_run_enter(tid, tgid, cpu, now, -1, vcpu_id);
	return 0;
}

SEC("?raw_tp")
int BPF_PROG(kl_test_run_exit, __u32 tid, __u32 tgid, __s32 cpu, __u64 now)
{
	KL_TEST_PROLOGUE(tgid);
	kl_on_run_exit(tid, cpu, now);
	return 0;
}

SEC("?raw_tp")
int BPF_PROG(kl_test_sched_switch, __s32 cpu, __u64 now, __u32 prev_tid, __u32 prev_tgid,
	     __u64 prev_state, __u32 prev_loaded, __u32 next_tid, __u32 next_tgid)
{
	kl_on_switch(cpu, now, NULL, prev_tid, prev_tgid, prev_state, prev_loaded,
		     next_tid, next_tgid, false);
	return 0;
}

/* Same, as a production sched_switch: cur then describes next (live). */
SEC("?raw_tp")
int BPF_PROG(kl_test_sched_switch_live, __s32 cpu, __u64 now, __u32 prev_tid, __u32 prev_tgid,
	     __u64 prev_state, __u32 prev_loaded, __u32 next_tid, __u32 next_tgid)
{
	struct kl_cur *cur;

	kl_on_switch(cpu, now, NULL, prev_tid, prev_tgid, prev_state, prev_loaded,
		     next_tid, next_tgid, false);
	cur = kl_cur();
	if (cur)
		cur->live = 1;
	return 0;
}

SEC("?raw_tp")
int BPF_PROG(kl_test_vcpu_load, __u32 tid, __u32 tgid, __s32 vcpu_id, __u64 reason)
{
	KL_TEST_PROLOGUE(tgid);
	kl_on_vcpu_load(tid, tgid, NULL, vcpu_id, kl_xlate_load(reason));
	return 0;
}

SEC("?raw_tp")
int BPF_PROG(kl_test_vcpu_put, __u32 tid, __u32 tgid, __s32 vcpu_id)
{
	KL_TEST_PROLOGUE(tgid);
	kl_on_vcpu_put(tid, tgid, NULL, vcpu_id);
	return 0;
}

SEC("?raw_tp")
int BPF_PROG(kl_test_gstage_fault, __u32 tid, __u32 tgid, __s32 vcpu_id, __u64 reason)
{
	KL_TEST_PROLOGUE(tgid);
	kl_on_gstage_fault(tid, tgid, NULL, vcpu_id, kl_xlate_fault(reason));
	return 0;
}

SEC("?raw_tp")
int BPF_PROG(kl_test_pte_update, __u32 tid, __u32 tgid, __u64 op, __u32 retries,
	     __u64 outcome)
{
	KL_TEST_PROLOGUE(tgid);
	kl_on_pte_update(tid, tgid, kl_xlate_pte_op(op), retries,
			 kl_xlate_pte_outcome(outcome));
	return 0;
}

SEC("?raw_tp")
int BPF_PROG(kl_test_kvm_exit, __u32 tid, __u32 tgid, __s32 vcpu_id, __u64 code, __u64 now)
{
	KL_TEST_PROLOGUE(tgid);
	kl_on_kvm_exit(tid, tgid, NULL, vcpu_id, code, now);
	return 0;
}

SEC("?raw_tp")
int BPF_PROG(kl_test_kvm_entry, __u32 tid, __u32 tgid, __s32 vcpu_id, __u64 now)
{
	KL_TEST_PROLOGUE(tgid);
	kl_on_kvm_entry(tid, tgid, NULL, vcpu_id, now);
	return 0;
}

SEC("?raw_tp")
int BPF_PROG(kl_test_arm64_exit, __u32 tid, __u32 tgid, __s32 vcpu_id, __u64 ret,
	     __u64 esr_ec, __u64 now)
{
	KL_TEST_PROLOGUE(tgid);
	kl_on_kvm_exit(tid, tgid, NULL, vcpu_id, kl_arm64_exit_code(ret, esr_ec), now);
	return 0;
}

/* dir, reason: the kernel's enum values (contract order on this host) */
SEC("?raw_tp")
int BPF_PROG(kl_test_pkvm_sync, __u32 tid, __u32 tgid, __s32 vcpu_id, __u64 dir,
	     __u64 reason, __s32 exit_code)
{
	KL_TEST_PROLOGUE(tgid);
	kl_on_pkvm_sync(tid, tgid, NULL, vcpu_id, kl_xlate_pkvm_dir(dir),
			kl_xlate_pkvm_reason(reason), exit_code);
	return 0;
}

SEC("?raw_tp")
int BPF_PROG(kl_test_guest_fault, __u32 tid, __u32 tgid, __u64 esr)
{
	KL_TEST_PROLOGUE(tgid);
	kl_on_guest_fault(tid, tgid, esr);
	return 0;
}

/* Returns the CPU the production programs see (kl_cur_cpu) + 1. */
SEC("?raw_tp")
int BPF_PROG(kl_test_cur_cpu)
{
	return kl_cur_cpu() + 1;
}

SEC("?raw_tp")
int BPF_PROG(kl_test_userspace_exit, __u32 tid, __u32 tgid, __u32 reason)
{
	KL_TEST_PROLOGUE(tgid);
	kl_on_userspace_exit(tid, tgid, reason);
	return 0;
}

SEC("?raw_tp")
int BPF_PROG(kl_test_dirty_ring_push, __u32 tid, __u32 tgid)
{
	KL_TEST_PROLOGUE(tgid);
	kl_on_dirty_ring_push(tid, tgid, NULL);
	return 0;
}

SEC("?raw_tp")
int BPF_PROG(kl_test_fpu, __u32 tid, __u32 tgid, int load)
{
	KL_TEST_PROLOGUE(tgid);
	kl_on_fpu(tid, tgid, load);
	return 0;
}

SEC("?raw_tp")
int BPF_PROG(kl_test_fast_page_fault, __u32 tid, __u32 tgid)
{
	KL_TEST_PROLOGUE(tgid);
	kl_on_fast_page_fault(tid, tgid);
	return 0;
}

SEC("?raw_tp")
int BPF_PROG(kl_test_process_exit, __u32 tid, __u32 tgid)
{
	KL_TEST_PROLOGUE(tgid);
	kl_on_process_exit(tid);
	return 0;
}

SEC("?raw_tp")
int BPF_PROG(kl_test_load_begin, __u32 tid, __u32 tgid, __s32 vcpu_id, __u64 now)
{
	KL_TEST_PROLOGUE(tgid);
	kl_on_load_begin(tid, tgid, NULL, vcpu_id, now);
	return 0;
}

SEC("?raw_tp")
int BPF_PROG(kl_test_load_end, __u32 tid, __u32 tgid, __u64 now)
{
	KL_TEST_PROLOGUE(tgid);
	kl_on_load_end(tid, now);
	return 0;
}

SEC("?raw_tp")
int BPF_PROG(kl_test_hist, __u32 tgid, __u32 hist, __u32 sub, __u64 value)
{
	KL_TEST_PROLOGUE(tgid);
	kl_hist_add(tgid, hist, sub, value);
	return 0;
}
