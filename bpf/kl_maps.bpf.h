/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * kl_maps.bpf.h - part of kvm_lazytop.bpf.c (included from there only):
 * the collector's configuration (.rodata), every map and the .bss
 * globals.  Contract maps first, then the internal ones.  Layouts,
 * writers and readers: bpf/README.md "Maps".
 */
#ifndef __KL_MAPS_BPF_H
#define __KL_MAPS_BPF_H

/* Set by the collector before load. */
const volatile __u32 target_tgid = 0;		/* 0: every VM */
const volatile bool have_series = false;	/* riscv series tracepoints */
const volatile bool have_fentry = false;	/* kvm_arch_vcpu_load fentry/fexit */
const volatile __u64 fault_exit_code = KL_DEFAULT_FAULT_CODE;
/*
 * Set only by tests/bpf: the per-thread state of thread tid is
 * test_ts[tid & test_mask] instead of the task storage of the current
 * task, so that BPF_PROG_TEST_RUN can play several threads; a slot taken
 * by another tid is "full" (KL_D_VCPU_MAP_FULL).  Frozen .rodata: the
 * verifier drops the branch not taken.
 */
const volatile bool test_mode = false;
/*
 * Entries of each slot pool (its arrays' and free ring's max_entries),
 * set by the collector; 0: released slots are not reused.
 */
const volatile __u32 pool_size[KL_POOL_NR] = {};
const volatile __u32 test_mask = KL_TEST_THREADS - 1;

/*
 * Reason counters and histograms: one slot per (VM, code), allocated once
 * (next_rslot / next_hslot) and shared by the VM's vCPU threads, which add
 * atomically; the owner arrays say whose slot it is.  Not per CPU:
 * mmap()ed by the collector, sized by --max-reasons / --max-hists.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, KL_MAX_REASON_KEYS);
	__type(key, __u32);
	__type(value, __u64);
} rslots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, KL_MAX_REASON_KEYS);
	__type(key, __u32);
	__type(value, struct kl_reason_key);
} rslot_key SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, KL_MAX_HIST_KEYS);
	__type(key, __u32);
	__type(value, struct kl_hist);
} hslots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, KL_MAX_HIST_KEYS);
	__type(key, __u32);
	__type(value, struct kl_hist_key);
} hslot_key SEC(".maps");

/* key -> its slot: looked up only when the per-CPU cache misses */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KL_MAX_SLOTS);
	__type(key, struct kl_counter_key);
	__type(value, __u32);
} row_idx SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KL_MAX_REASON_KEYS);
	__type(key, struct kl_reason_key);
	__type(value, __u32);
} reason_idx SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KL_MAX_HIST_KEYS);
	__type(key, struct kl_hist_key);
	__type(value, __u32);
} hist_idx SEC(".maps");

/*
 * Internal: the per-thread state of each vCPU thread, in the thread's
 * task-local storage (one pointer chase from the task, no hashing; freed
 * by the kernel when the thread exits).
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct kl_vcpu_state);
} vcpu_ts SEC(".maps");

/* Internal, test_mode only: the same state indexed by tid & test_mask. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KL_TEST_THREADS);
	__type(key, __u32);
	__type(value, struct kl_vcpu_state);
} test_ts SEC(".maps");

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
 * counter row without a task storage lookup.  Written at every switch-in.
 */
struct kl_cur {
	__u32 tid;
	__s32 vcpu_id;
	__u32 slot;		/* hot-counter slot + 1 of tid, 0 none */
	__u32 tracked;		/* tid has a per-thread state (vcpu_ts) */
	__u32 live;		/* a production sched_switch program ran on this CPU */
	__u32 pad;
	struct kl_pending_exit exit;	/* tid's, while cur owns it: kl_exit_of() */
	/*
	 * Reason / histogram slot + 1 of recently used keys, any thread's:
	 * an entry is used only if the slot's owner is the key (kl_rslot()).
	 */
	__u32 rcache[KL_SCACHE];
	__u32 hcache[KL_SCACHE];
	__u32 ccache[KL_SCACHE];	/* shared counter rows (kl_counters()) */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kl_cur);
} cur_vcpu SEC(".maps");

/*
 * The counters of each vCPU thread with a slot (single writer: that
 * thread), and slot -> its owner.  Not per CPU: mmap()ed by the
 * collector, which reads them without a copy; sized by the collector's
 * --max-vcpus, not by the CPU count.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, KL_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct kl_counters);
} slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, KL_MAX_SLOTS);
	__type(key, __u32);
	__type(value, struct kl_slot_info);
} slot_key SEC(".maps");

/* Next free slot of each kind (userspace reads them to bound its walks). */
__u32 next_slot = 0;
__u32 next_rslot = 0;
__u32 next_hslot = 0;

/*
 * Released slots ready for reuse, per pool (enum kl_pool): a ring of slot
 * indices; entries [free_head, free_tail) (mod pool_size) are free.  The
 * collector writes an entry, then free_tail; BPF takes free_head with a
 * compare-and-swap.
 */
__u32 free_head[KL_POOL_NR] = {};
__u32 free_tail[KL_POOL_NR] = {};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KL_MAX_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} free_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KL_MAX_REASON_KEYS);
	__type(key, __u32);
	__type(value, __u32);
} free_rslots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KL_MAX_HIST_KEYS);
	__type(key, __u32);
	__type(value, __u32);
} free_hslots SEC(".maps");


#endif /* __KL_MAPS_BPF_H */
