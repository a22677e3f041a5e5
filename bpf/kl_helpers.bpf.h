/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * kl_helpers.bpf.h - part of kvm_lazytop.bpf.c (included from there
 * only): what every handler builds on.  Map access (counters, reasons,
 * histograms, drops), the hot-counter slots, the per-CPU cache of the
 * running thread and where an in-flight exit lives, vCPU thread
 * identification, the current CPU, the reload prediction, and the CO-RE
 * translation of kernel enum values.
 */
#ifndef __KL_HELPERS_BPF_H
#define __KL_HELPERS_BPF_H

/* ------------------------------------------------------------------ */
/* filters, counting, histograms                                      */

/*
 * Publish the owner of a slot: its tgid is written last, with an atomic
 * exchange, which the BPF memory model orders after every earlier store
 * (x86 xchg, arm64 swpal or a barriered exclusive pair, riscv
 * amoswap.aqrl).  The collector reads the tgid with acquire semantics
 * before the rest of the entry (OWNER_COPY in collector.c).
 */
static __always_inline void kl_publish_tgid(__u32 *p, __u32 tgid)
{
	__sync_lock_test_and_set(p, tgid);
}

static __always_inline bool kl_reject(__u32 tgid)
{
	return target_tgid && tgid != target_tgid;
}

/* Every production program starts with this (cheap reject first). */
#define KL_PROLOGUE()						\
	__u64 id = bpf_get_current_pid_tgid();			\
	__u32 tgid = id >> 32, tid = (__u32)id;			\
	if (kl_reject(tgid))					\
		return 0

/* ------------------------------------------------------------------ */
/* per-thread state: task-local storage (test_ts in test_mode)         */

/*
 * false if task t certainly has no per-thread state: no task-local
 * storage of any map at all (one load from a trusted task pointer).
 */
static __always_inline bool kl_task_may_be_tracked(const struct task_struct *t)
{
	if (!t)
		return false;
	if (!bpf_core_field_exists(t->bpf_storage))
		return true;
	return t->bpf_storage != NULL;
}

static __always_inline struct kl_vcpu_state *kl_test_state(__u32 tid)
{
	__u32 k = tid & test_mask;
	struct kl_vcpu_state *st = bpf_map_lookup_elem(&test_ts, &k);

	return st && (st->flags & KL_VS_PRESENT) && st->tid == tid ? st : NULL;
}

/*
 * The state of task t (thread tid), NULL if untracked.  t is current or
 * sched_switch's next, a trusted pointer; NULL when not available (the
 * raw_tp sched_switch's next): untracked.  Never creates.
 */
static __always_inline struct kl_vcpu_state *kl_state_of(struct task_struct *t, __u32 tid)
{
	if (test_mode)
		return kl_test_state(tid);
	if (!kl_task_may_be_tracked(t))
		return NULL;
	return bpf_task_storage_get(&vcpu_ts, t, NULL, 0);
}

/* The state of the current thread tid. */
static __always_inline struct kl_vcpu_state *kl_state_cur(__u32 tid)
{
	return kl_state_of(test_mode ? NULL : bpf_get_current_task_btf(), tid);
}

static __always_inline void kl_drop(__u32 what)
{
	__u64 *d = bpf_map_lookup_elem(&drops, &what);

	if (d)
		(*d)++;
}

/* ------------------------------------------------------------------ */
/* reason and histogram slots                                          */

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

/* Per-CPU cache entry of a key: the top bits of a multiplicative hash. */
static __always_inline __u32 kl_scache_idx(__u32 tgid, __u32 kind, __u64 code)
{
	__u64 h = code ^ ((__u64)kind << 48) ^ ((__u64)tgid << 20);

	return (__u32)((h * 0x9e3779b97f4a7c15ULL) >> (64 - KL_SCACHE_BITS));
}

/*
 * A released slot of pool (enum kl_pool) from its ring of free slots, if
 * any: true and *s set.  A lost compare-and-swap (another CPU took the
 * entry) gives up: the caller takes a never-used slot instead.
 */
static __always_inline bool kl_pool_pop(void *ring, __u32 pool, __u32 *s)
{
	__u32 h, i, *v;

	if (pool >= KL_POOL_NR || !pool_size[pool])
		return false;
	h = free_head[pool];
	if ((__s32)(free_tail[pool] - h) <= 0)
		return false;
	if (!__sync_bool_compare_and_swap(&free_head[pool], h, h + 1))
		return false;
	i = h % pool_size[pool];
	v = bpf_map_lookup_elem(ring, &i);
	if (!v)
		return false;
	*s = *v;
	return true;
}

/*
 * Take a slot of an array whose owner map is owners: a released one from
 * ring (pool), else the next never-used one (next: the allocation
 * counter); the slot's owner entry, NULL when the array is full.  The
 * counter is only advanced while the array has room, so a full array
 * costs a failed lookup per event and never wraps the counter.
 */
#define KL_SLOT_TAKE(owners, next, ring, pool, s) ({			\
	void *__o = kl_pool_pop(&ring, pool, &(s)) ?			\
		bpf_map_lookup_elem(&owners, &(s)) : NULL;		\
	__u32 __n = (next);						\
									\
	if (!__o && bpf_map_lookup_elem(&owners, &__n)) {		\
		(s) = __sync_fetch_and_add(&(next), 1);			\
		__o = bpf_map_lookup_elem(&owners, &(s));		\
	}								\
	__o;								\
})

/*
 * The reason counter slot of (tgid, kind, code), allocated at its first
 * event (KL_D_REASON_SLOTS_FULL when none is left: raise --max-reasons).
 * The common event is a hit of the per-CPU cache: one owner check, no
 * hashing.  On a miss, `reason_idx` gives the slot of a key already seen;
 * a new key takes a slot, owner written tgid last.  Two CPUs racing on a
 * new key: the index insert decides, the loser's slot stays unowned
 * (tgid 0, skipped by the collector).
 */
static __always_inline __u64 *kl_rslot(__u32 tgid, __u16 kind, __u64 code)
{
	struct kl_reason_key k = { .tgid = tgid, .kind = kind, .code = code };
	struct kl_cur *c = kl_cur();
	__u32 h = kl_scache_idx(tgid, kind, code), s = 0, *ix;
	struct kl_reason_key *o;

	barrier_var(h);
	if (c && h < KL_SCACHE && c->rcache[h]) {
		s = c->rcache[h] - 1;
		o = bpf_map_lookup_elem(&rslot_key, &s);
		if (o && o->tgid == tgid && o->kind == kind && o->code == code)
			return bpf_map_lookup_elem(&rslots, &s);
	}
	ix = bpf_map_lookup_elem(&reason_idx, &k);
	if (ix) {
		s = *ix;
	} else {
		o = KL_SLOT_TAKE(rslot_key, next_rslot, free_rslots, KL_POOL_REASON, s);
		if (!o) {
			kl_drop(KL_D_REASON_SLOTS_FULL);
			return NULL;
		}
		o->kind = kind;
		o->code = code;
		if (bpf_map_update_elem(&reason_idx, &k, &s, BPF_NOEXIST)) {
			ix = bpf_map_lookup_elem(&reason_idx, &k);
			if (!ix) {
				kl_drop(KL_D_REASON_SLOTS_FULL);
				return NULL;
			}
			s = *ix;
		} else {
			kl_publish_tgid(&o->tgid, tgid);
		}
	}
	if (c && h < KL_SCACHE)
		c->rcache[h] = s + 1;
	return bpf_map_lookup_elem(&rslots, &s);
}

/* The histogram slot of (tgid, hist, sub): as kl_rslot() (--max-hists). */
static __always_inline struct kl_hist *kl_hslot(__u32 tgid, __u16 hist, __u16 sub)
{
	struct kl_hist_key k = { .tgid = tgid, .hist = hist, .sub = sub };
	struct kl_cur *c = kl_cur();
	__u32 h = kl_scache_idx(tgid, hist, sub), s = 0, *ix;
	struct kl_hist_key *o;

	barrier_var(h);
	if (c && h < KL_SCACHE && c->hcache[h]) {
		s = c->hcache[h] - 1;
		o = bpf_map_lookup_elem(&hslot_key, &s);
		if (o && o->tgid == tgid && o->hist == hist && o->sub == sub)
			return bpf_map_lookup_elem(&hslots, &s);
	}
	ix = bpf_map_lookup_elem(&hist_idx, &k);
	if (ix) {
		s = *ix;
	} else {
		o = KL_SLOT_TAKE(hslot_key, next_hslot, free_hslots, KL_POOL_HIST, s);
		if (!o) {
			kl_drop(KL_D_HIST_SLOTS_FULL);
			return NULL;
		}
		o->hist = hist;
		o->sub = sub;
		if (bpf_map_update_elem(&hist_idx, &k, &s, BPF_NOEXIST)) {
			ix = bpf_map_lookup_elem(&hist_idx, &k);
			if (!ix) {
				kl_drop(KL_D_HIST_SLOTS_FULL);
				return NULL;
			}
			s = *ix;
		} else {
			kl_publish_tgid(&o->tgid, tgid);
		}
	}
	if (c && h < KL_SCACHE)
		c->hcache[h] = s + 1;
	return bpf_map_lookup_elem(&hslots, &s);
}

/* Count code of kind for VM tgid (several threads may add: atomic). */
static __always_inline void kl_reason(__u32 tgid, __u16 kind, __u64 code)
{
	__u64 *v = kl_rslot(tgid, kind, code);

	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline void kl_hist_add(__u32 tgid, __u16 hist, __u16 sub, __u64 v)
{
	struct kl_hist *h = kl_hslot(tgid, hist, sub);
	__u64 b;

	if (!h)
		return;
	b = kl_hist_bucket(v);
	/* keep the bound check and the index in one register */
	barrier_var(b);
	if (b >= KL_HIST_BUCKETS)
		b = KL_HIST_BUCKETS - 1;
	__sync_fetch_and_add(&h->buckets[b], 1);
	__sync_fetch_and_add(&h->sum, v);
}

/*
 * The shared counter row of (tgid, vcpu_id): a slot of `slots` whose
 * owner has KL_SLOT_SHARED (tid 0), allocated at its first event like a
 * reason slot (per-CPU cache, then `row_idx`); NULL when no slot is left
 * (KL_D_SLOTS_FULL: raise --max-vcpus).  Several threads and CPUs may
 * add: atomic adds only.
 */
static __always_inline struct kl_counters *kl_counters(__u32 tgid, __s32 vcpu_id)
{
	struct kl_counter_key k = { .tgid = tgid, .vcpu_id = vcpu_id };
	struct kl_cur *c = kl_cur();
	__u32 h = kl_scache_idx(tgid, 0, (__u32)vcpu_id), s = 0, *ix;
	struct kl_slot_info *o;

	barrier_var(h);
	if (c && h < KL_SCACHE && c->ccache[h]) {
		s = c->ccache[h] - 1;
		o = bpf_map_lookup_elem(&slot_key, &s);
		if (o && o->tgid == tgid && o->vcpu_id == vcpu_id && (o->flags & KL_SLOT_SHARED))
			return bpf_map_lookup_elem(&slots, &s);
	}
	ix = bpf_map_lookup_elem(&row_idx, &k);
	if (ix) {
		s = *ix;
	} else {
		o = KL_SLOT_TAKE(slot_key, next_slot, free_slots, KL_POOL_VCPU, s);
		if (!o) {
			kl_drop(KL_D_SLOTS_FULL);
			return NULL;
		}
		o->vcpu_id = vcpu_id;
		o->tid = 0;
		o->flags = KL_SLOT_SHARED;
		if (bpf_map_update_elem(&row_idx, &k, &s, BPF_NOEXIST)) {
			ix = bpf_map_lookup_elem(&row_idx, &k);
			if (!ix) {
				kl_drop(KL_D_SLOTS_FULL);
				return NULL;
			}
			s = *ix;
		} else {
			kl_publish_tgid(&o->tgid, tgid);
		}
	}
	if (c && h < KL_SCACHE)
		c->ccache[h] = s + 1;
	return bpf_map_lookup_elem(&slots, &s);
}

/* Add n to counter idx of a shared row. */
static __always_inline void kl_row_add(struct kl_counters *c, __u32 idx, __u64 n)
{
	/* keep the bound check next to the access (the verifier may have lost
	 * the caller's range of idx across spills) */
	barrier_var(idx);
	if (c && idx < KL_C_NR)
		__sync_fetch_and_add(&c->c[idx], n);
}

static __always_inline void kl_count(__u32 tgid, __s32 vcpu_id, __u32 idx)
{
	kl_row_add(kl_counters(tgid, vcpu_id), idx, 1);
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

/* ------------------------------------------------------------------ */
/* hot-counter slots and the per-CPU cache                            */

#define KL_SLOT_NONE	(~0U)

/*
 * Give an identified thread its hot-counter slot (once): a released one
 * or a never-used one.  When none is left its events go to the shared
 * row of its (tgid, vcpu_id) (kl_counters()), if that one has a slot.
 */
static __always_inline __u32 kl_slot(struct kl_vcpu_state *st)
{
	struct kl_slot_info *k;
	__u32 s;

	if (st->slot || st->vcpu_id == KL_VCPU_UNKNOWN)
		return st->slot == KL_SLOT_NONE ? 0 : st->slot;
	k = KL_SLOT_TAKE(slot_key, next_slot, free_slots, KL_POOL_VCPU, s);
	if (!k) {
		/* its events go to the shared row, or count in KL_D_SLOTS_FULL */
		st->slot = KL_SLOT_NONE;
		return 0;
	}
	k->vcpu_id = st->vcpu_id;
	k->tid = st->tid;
	__builtin_memcpy(k->comm, st->comm, sizeof(k->comm));
	/* tgid last: the collector skips slots whose tgid is still 0 */
	kl_publish_tgid(&k->tgid, st->tgid);
	st->slot = s + 1;
	return st->slot;
}

/*
 * The in-flight exit of a vCPU thread (kvm_exit -> kvm_entry: start, exit
 * code, fault path) lives in cur while cur describes the thread (live,
 * tracked, vCPU id known: kl_cur_vcpu()), and in its per-thread state
 * otherwise.  So the exit, fault and entry events of a thread that stays
 * on its CPU need no state lookup; sched_switch moves the state to the
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

/* Refresh the cache for the current thread tid from its state. */
static __always_inline struct kl_vcpu_state *kl_cur_refresh(__u32 tid)
{
	struct kl_vcpu_state *st = kl_state_cur(tid);

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

/*
 * Add n to counter idx of slot (slot + 1; 0: none).  The slot row belongs
 * to one vCPU thread, and only that thread's events (or its own switch-in
 * and switch-out) write it: a single writer, so a plain add is exact.
 */
static __always_inline bool kl_hot_add(__u32 slot, __u32 idx, __u64 n)
{
	struct kl_counters *h;
	__u32 s;

	if (!slot)
		return false;
	s = slot - 1;
	h = bpf_map_lookup_elem(&slots, &s);
	barrier_var(idx);
	if (!h || idx >= KL_C_NR)
		return false;
	h->c[idx] += n;
	return true;
}

/*
 * Once a production sched_switch program has run on this CPU, every
 * switch-in rewrites cur, so cur describes the current thread: the hot
 * events may count into cur->slot without asking for the current tid
 * (cur->slot is non-zero only for a tracked thread of an accepted tgid).
 */
static __always_inline bool kl_hot_cur(__u32 idx)
{
	__u32 zero = 0;
	struct kl_cur *c = bpf_map_lookup_elem(&cur_vcpu, &zero);

	if (!c || !c->live)
		return false;
	return kl_hot_add(c->slot, idx, 1);
}

/*
 * Count n events of the current thread tid: one per-CPU cache lookup and
 * one slot add when tid is an identified vCPU thread with a slot, else
 * the shared row (tgid, vcpu_id or -1).
 */
static __always_inline void kl_count_cur_n(__u32 tid, __u32 tgid, __u32 idx, __u64 n)
{
	struct kl_cur *c = kl_cur();
	struct kl_vcpu_state *st;
	__s32 id = KL_VCPU_UNKNOWN;

	if (c && c->tid == tid) {
		if (kl_hot_add(c->slot, idx, n))
			return;
		id = c->vcpu_id;
	} else {
		st = kl_cur_refresh(tid);
		if (st) {
			if (kl_hot_add(st->slot == KL_SLOT_NONE ? 0 : st->slot, idx, n))
				return;
			id = st->vcpu_id;
		}
	}
	kl_row_add(kl_counters(tgid, id), idx, n);
}

static __always_inline void kl_count_cur(__u32 tid, __u32 tgid, __u32 idx)
{
	kl_count_cur_n(tid, tgid, idx, 1);
}

/*
 * Count an event of vCPU id whose thread's state st is known (NULL: not a
 * tracked thread): its slot, else the shared row of (tgid, id).
 */
static __always_inline void kl_count_st(struct kl_vcpu_state *st, __u32 tgid, __s32 id,
					__u32 idx)
{
	if (st && kl_hot_add(kl_slot(st), idx, 1))
		return;
	kl_count(tgid, id, idx);
}

/* ------------------------------------------------------------------ */
/* identification                                                     */

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

/* Not a vCPU file (kl_vcpu_id_of_fd) */
#define KL_NOT_VCPU	(-2)

/*
 * The vCPU id of file f if it is a KVM vCPU file, else KL_NOT_VCPU.  KVM
 * creates a vCPU file with anon_inode_getfd("kvm-vcpu:<id>", ...): its
 * inode is on the anon-inode filesystem and its dentry is named
 * "kvm-vcpu:<id>".  Only kernel code creates anon-inode files and only
 * KVM names them so; a regular file called "kvm-vcpu:0" is on another
 * filesystem.  Both are CO-RE reads (the alternative, f_op ==
 * &kvm_vcpu_fops, needs the address of a static of the kvm module).  The
 * id in the name must be the private_data vCPU's id.
 */
static __always_inline __s32 kl_file_vcpu_id(const struct file *f)
{
	static const char want[] = "kvm-vcpu:";
	const unsigned char *name;
	struct kvm_vcpu *vcpu;
	char buf[20] = {};
	__s32 id = 0;
	int i;

	if (!f || BPF_CORE_READ(f, f_inode, i_sb, s_magic) != KL_ANON_INODE_FS_MAGIC)
		return KL_NOT_VCPU;
	name = BPF_CORE_READ(f, f_path.dentry, d_name.name);
	if (bpf_probe_read_kernel_str(buf, sizeof(buf), name) < (long)sizeof(want))
		return KL_NOT_VCPU;
	for (i = 0; i < (int)sizeof(want) - 1; i++)
		if (buf[i] != want[i])
			return KL_NOT_VCPU;
	for (i = sizeof(want) - 1; i < (int)sizeof(buf) - 1 && buf[i]; i++) {
		if (buf[i] < '0' || buf[i] > '9' || id >= (1 << 20))
			return KL_NOT_VCPU;
		id = id * 10 + (buf[i] - '0');
	}
	vcpu = BPF_CORE_READ(f, private_data);
	if (!vcpu || BPF_CORE_READ(vcpu, vcpu_id) != id)
		return KL_NOT_VCPU;
	return kl_sane_id(id);
}

/* The struct file of the current task's fd, NULL if none. */
static __always_inline struct file *kl_fd_file(long fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct file *file = NULL;
	struct fdtable *fdt;
	struct file **fds;

	if (fd < 0)
		return NULL;
	fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt || (unsigned long)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]))
		return NULL;
	return file;
}

/*
 * vCPU id of the current task's fd if it is a real KVM vCPU file, else
 * KL_NOT_VCPU; fd < 0: hint (KL_NOT_VCPU in production, the vCPU id in
 * the test programs).
 */
static __always_inline __s32 kl_vcpu_id_of_fd(long fd, __s32 hint)
{
	if (fd < 0)
		return hint;
	return kl_file_vcpu_id(kl_fd_file(fd));
}

/* Create the state of the current thread tid (or return the existing one). */
static __always_inline struct kl_vcpu_state *kl_state_create(__u32 tid, __u32 tgid,
							    __s32 vcpu_id)
{
	struct kl_vcpu_state s = {}, *st;

	s.tgid = tgid;
	s.tid = tid;
	s.vcpu_id = vcpu_id;
	s.last_cpu = -1;
	if (test_mode) {
		__u32 k = tid & test_mask;

		st = bpf_map_lookup_elem(&test_ts, &k);
		if (st && (st->flags & KL_VS_PRESENT) && st->tid == tid)
			return st;
		if (!st || (st->flags & KL_VS_PRESENT)) {	/* taken by another tid */
			kl_drop(KL_D_VCPU_MAP_FULL);
			return NULL;
		}
		s.flags = KL_VS_PRESENT;
		*st = s;
		return st;
	}
	{
		struct task_struct *t = bpf_get_current_task_btf();

		BPF_CORE_READ_STR_INTO(&s.comm, t, group_leader, comm);
		st = bpf_task_storage_get(&vcpu_ts, t, &s, BPF_LOCAL_STORAGE_GET_F_CREATE);
	}
	if (!st)
		kl_drop(KL_D_VCPU_MAP_FULL);
	return st;
}

/*
 * Identification from an event that carries a vcpu pointer (or a test
 * hint): find or create the thread's state, learn its vCPU id.  Runs in
 * the context of thread tid, so the per-CPU cache is refreshed too.
 */
static __always_inline struct kl_vcpu_state *
kl_identify(__u32 tid, __u32 tgid, const struct kvm_vcpu *vcpu, __s32 hint)
{
	struct kl_vcpu_state *st = kl_state_cur(tid);

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

/*
 * The per-CPU cache entry of thread tid; when the cache describes another
 * thread, identify tid (*st: its state, else NULL), which may fill it.
 */
static __always_inline struct kl_cur *
kl_cur_identify(__u32 tid, __u32 tgid, const struct kvm_vcpu *vcpu, __s32 hint,
		struct kl_vcpu_state **st)
{
	struct kl_cur *c = kl_cur_vcpu(tid);

	*st = NULL;
	if (c)
		return c;
	*st = kl_identify(tid, tgid, vcpu, hint);
	return kl_cur_vcpu(tid);
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
	if (!kl_hot_add(kl_slot(st), KL_C_PRED + pred, 1))
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

#endif /* __KL_HELPERS_BPF_H */
