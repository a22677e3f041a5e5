/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * collector.h - probing, loading and reading the BPF side (the only file
 * that talks to libbpf).  Fills struct kl_state; never builds JSON.
 */
#ifndef __KL_COLLECTOR_H
#define __KL_COLLECTOR_H

#include "kl_state.h"

struct kl_skel;	/* the bpftool skeleton, see collector.c */
struct bpf_link;

struct kl_vm_meta {
	uint32_t pid;
	char comm[32];
	char name[128];
	bool exited;		/* sticky once seen exited */
};

struct kl_tid_ent;

struct kl_collector {
	struct kl_skel *skel;
	struct bpf_link *links[KL_SIG_NR][KL_SIG_MAX_PROGS];
	int stats_fd;			/* BPF_ENABLE_STATS fd, -1 if none */
	int ncpus;			/* possible CPUs (per-CPU value count) */
	uint32_t target_tgid;
	uint64_t cpu_start_ns;		/* CLOCK_PROCESS_CPUTIME_ID at open */
	int verbose;
	struct kl_vm_meta *meta;	/* comm/name survive the process */
	size_t nr_meta, cap_meta;
	struct kl_hmap meta_idx;	/* pid -> index in meta */
	struct kl_hmap tid_map;		/* (tgid << 32 | vcpu_id) -> tid; survives the thread */
	struct kl_tid_ent *tids;	/* unused (kept for the bench's ABI); NULL */
	size_t nr_tids;			/* entries in tid_map */
	bool target_exited;		/* set by the caller: the -p target's pidfd fired */
	bool want_vcpu_counters;	/* a view needs per-vCPU counters (--vcpu, json, prom, TUI) */
	/* mmap()ed prefixes of the BPF_F_MMAPABLE arrays `slots` and `slot_key` (read_slots()) */
	const struct kl_counters *slots;
	const struct kl_slot_info *slot_info;
	size_t slots_len, slot_info_len;
	uint32_t max_vcpus;		/* their max_entries (--max-vcpus) */
	/* mmap()ed reason and histogram slots and their owners (read_rslots/hslots()) */
	const uint64_t *rslots;
	const struct kl_reason_key *rslot_info;
	const struct kl_hist *hslots;
	const struct kl_hist_key *hslot_info;
	size_t rslots_len, rslot_info_len, hslots_len, hslot_info_len;
	uint32_t max_reasons, max_hists;	/* their max_entries (--max-reasons, --max-hists) */
	/*
	 * Slots taken when the current read started (next_*, at most the
	 * size): each array's mapping covers its used prefix only (its pages
	 * count in RSS), grown by map_used() at each read.
	 */
	uint32_t nr_slots, nr_rslots, nr_hslots;
	uint64_t nr_released;		/* exited VMs released (release_exited()) */
	uint64_t stats_window_ns;	/* hold BPF_ENABLE_STATS this long (UINT64_MAX: whole run) */
	uint64_t stats_t0;		/* CLOCK_MONOTONIC ns when the stats were enabled */
};

/* Route libbpf's log to stderr only at this -v level or above. */
void kl_libbpf_log_level(int verbose);
/* The libbpf the tool runs with (--version). */
void kl_libbpf_version(unsigned int *major, unsigned int *minor);

/*
 * Can this process use bpf() and is there kernel BTF?  Returns KL_EXIT_OK,
 * KL_EXIT_PRIVILEGE or KL_EXIT_NO_KERNEL after printing ONE line.
 */
int kl_check_support(int verbose);

/*
 * Decide each signal: missing (no tracepoint / kernel function), refused
 * (load or attach failed, reason = errno text) or attached (a trial
 * load+attach of just that signal's programs succeeded).  Mounts tracefs
 * if needed.  Returns 0 or -errno on internal failure.
 */
int kl_probe_signals(struct kl_state *st, int verbose);

/*
 * A signal kl_probe_signals() refused for want of privilege (e.g. tracefs
 * unreadable): print ONE line naming what is needed and return
 * KL_EXIT_PRIVILEGE; KL_EXIT_OK if there is none.
 */
int kl_probe_privilege(const struct kl_state *st);

/* Load and attach the signals st->probes marks attached. 0 or exit code. */
int kl_collector_open(struct kl_collector *c, struct kl_state *st, uint32_t target_tgid,
		      uint32_t max_vcpus, uint32_t max_reasons, uint32_t max_hists, int verbose);
/*
 * Map the loaded skeleton's slot arrays (`slots`, `rslots`, `hslots` and
 * their owners; done by open); 0 or -errno.
 */
int kl_collector_map_slots(struct kl_collector *c);
/* Replace st's VMs with the maps' cumulative content; refresh overhead. 0 or -errno. */
int kl_collector_read(struct kl_collector *c, struct kl_state *st);
void kl_collector_close(struct kl_collector *c);
/*
 * Read pid's comm and QEMU -name again (they are read once and kept
 * otherwise): for a started COMMAND, whose comm changes at exec.  Keeps
 * the old values if pid is gone.
 */
void kl_collector_refresh_meta(struct kl_collector *c, uint32_t pid);

#endif
