/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kl_state.h - the collected state: what the maps held (summed over CPUs,
 * grouped per VM and vCPU) plus probe results and overhead.  Pure data; the
 * BPF reader (collector.c) fills it, kl_model_state.c turns it into the
 * typed snapshot every renderer takes (kl_model.h) and the unit tests
 * build it by hand.
 */
#ifndef __KL_STATE_H
#define __KL_STATE_H

#include "kl_common.h"
#include "kl_kvmstats.h"

/*
 * Open-addressing hash u64 key -> u32 value (linear probing, power-of-two
 * capacity, no deletion).  Zero-initialized = empty.
 */
struct kl_hmap {
	uint64_t *keys;
	uint32_t *vals;		/* UINT32_MAX = empty slot */
	size_t cap, nr;
};

/* Insert or overwrite. 0 or -ENOMEM. */
int kl_hmap_put(struct kl_hmap *m, uint64_t key, uint32_t val);
/* Pointer to the value, NULL if absent. */
uint32_t *kl_hmap_get(const struct kl_hmap *m, uint64_t key);
void kl_hmap_clear(struct kl_hmap *m);
void kl_hmap_free(struct kl_hmap *m);

struct kl_hist_data {
	uint16_t hist;		/* enum kl_hist_id */
	uint16_t sub;		/* KL_SUB_ALL when not split */
	uint64_t sum;
	uint64_t b[KL_HIST_BUCKETS];
};

struct kl_reason_cnt {
	uint16_t kind;		/* enum kl_reason_kind */
	uint64_t code;
	uint64_t count;
};

struct kl_vcpu_row {
	int32_t vcpu_id;	/* KL_VCPU_UNKNOWN if not identified */
	uint32_t tid;		/* 0 if never seen */
	uint64_t c[KL_C_NR];
};

struct kl_vm {
	uint32_t pid;
	char comm[32];
	char name[128];		/* qemu -name, else comm */
	bool exited;
	uint64_t c[KL_C_NR];	/* sum over vCPUs */
	struct kl_vcpu_row *vcpus;
	size_t nr_vcpus, cap_vcpus;
	struct kl_reason_cnt *reasons;
	size_t nr_reasons, cap_reasons;
	struct kl_hist_data *hists;
	size_t nr_hists, cap_hists;
	struct kl_hmap vidx;	/* vcpu_id -> index in vcpus (private) */
	uint32_t kstat_has;	/* KVM's own stats found (bit per enum kl_kstat) */
	uint64_t kstat[KL_KS_NR];	/* summed over vCPUs, since attach */
};

#define KL_MAX_PROG_STATS 24
struct kl_prog_stat {
	char name[48];
	int signal;		/* enum kl_signal */
	uint64_t run_cnt, run_time_ns;
};

struct kl_overhead {
	bool stats_enabled;
	char stats_reason[128];	/* "unavailable: <reason>" text when !enabled */
	/*
	 * Run-time stats window: held for stats_window_ns after attach
	 * (UINT64_MAX: the whole run); stats_window_open while held.  After
	 * the window, run_cnt / run_time_ns are the window's (they move again
	 * only if someone else enables the stats, e.g. the sysctl
	 * kernel.bpf_stats_enabled).
	 */
	uint64_t stats_window_ns;
	bool stats_window_open;
	struct kl_prog_stat progs[KL_MAX_PROG_STATS];
	size_t nr_progs;
	uint64_t cpu_ns;	/* collector CPU time over the covered duration */
	uint64_t rss_kb, maxrss_kb;
	uint64_t drops[KL_D_NR];
};

struct kl_state {
	char kernel[65], arch[65], hostname[65];
	int ncpus;
	uint64_t start_time_ns;		/* CLOCK_REALTIME of the covered period start */
	uint64_t duration_ns, interval_ns;
	enum kl_target_kind target;
	uint32_t target_pid;
	char target_name[128];
	struct kl_probe probes[KL_SIG_NR];
	struct kl_overhead oh;
	struct kl_vm *vms;
	size_t nr_vms, cap_vms;
	struct kl_hmap vm_idx;	/* pid -> index in vms (private) */
	/*
	 * Snapshot without per-vCPU counters (vcpus[] entries keep vcpu_id and
	 * tid, "counters" is {}): set by the collector when no view needs them.
	 */
	bool no_vcpu_counters;
};

void kl_state_init(struct kl_state *st);
void kl_state_free(struct kl_state *st);
/* Drop every VM (data only; metadata, probes and overhead stay). */
void kl_state_clear_vms(struct kl_state *st);
/* Attached-signal bitmask from st->probes. */
uint32_t kl_state_attached(const struct kl_state *st);

/* Get-or-create helpers; NULL only on allocation failure. */
struct kl_vm *kl_state_vm(struct kl_state *st, uint32_t pid);
struct kl_vm *kl_state_find_vm(const struct kl_state *st, uint32_t pid);
struct kl_vcpu_row *kl_vm_vcpu(struct kl_vm *vm, int32_t vcpu_id);
struct kl_reason_cnt *kl_vm_reason(struct kl_vm *vm, uint16_t kind, uint64_t code);
struct kl_hist_data *kl_vm_hist(struct kl_vm *vm, uint16_t hist, uint16_t sub);

/* Recompute vm->c as the sum of its vCPU rows. */
void kl_vm_sum_vcpus(struct kl_vm *vm);
/* Sort VMs by pid and vCPUs by id so output is deterministic. */
void kl_state_sort(struct kl_state *st);

/*
 * out = cur - prev for every counter, reason, histogram, program stat and
 * drop (matched by key; missing in prev = 0; never negative).  Metadata,
 * probes, RSS come from cur; start/duration are the caller's business.
 * Returns 0 or -ENOMEM.
 */
int kl_state_delta(struct kl_state *out, const struct kl_state *cur, const struct kl_state *prev);
/* Exchange a and b (O(1), no copy). */
void kl_state_swap(struct kl_state *a, struct kl_state *b);
/* Deep copy. Returns 0 or -ENOMEM. */
int kl_state_copy(struct kl_state *out, const struct kl_state *in);

#endif
