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

/* Zero value used to create hash entries (large enough for every map). */
static const __u64 kl_zero[KL_HIST_BUCKETS + 1];

#endif /* __KL_MAPS_BPF_H */
