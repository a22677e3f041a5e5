/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kl_model.h - the typed snapshot: one interval as every renderer sees it.
 *
 * The collector's state becomes a struct kl_snap once per interval
 * (kl_snap_from_state, kl_model_state.c); a saved file becomes one through
 * the JSON reader (kl_snap_read, kl_snap_read.c); the one JSON writer
 * (kl_snap_json, kl_snapshot.c) turns it into the SNAPSHOT.md text.  The
 * members mirror SNAPSHOT.md; the derived JSON members (shares, the
 * prediction agreement, pKVM events and skip counts, percentiles) are not
 * stored but computed from the counts they derive from, so a model has
 * one value for each number.  "has" flags say whether a member was present
 * (live: whether the attached signals can produce it); renderers show an
 * absent one as not measured.
 */
#ifndef __KL_MODEL_H
#define __KL_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kl_common.h"
#include "kl_kvmstats.h"
#include "snap_stats.h"

#define KL_SNAP_NAME_MAX	48	/* a reason / sub-histogram / program name */
#define KL_SNAP_HAS_WORDS	((KL_C_NR + 63) / 64)

/*
 * Counter values by enum kl_counter index: the plain counters (JSON
 * "counters"), the pKVM direction x reason pairs ("pkvm_state_sync") and
 * the prediction matrix ("prediction") share one array.
 */
struct kl_snap_counters {
	uint64_t c[KL_C_NR];
	uint64_t has[KL_SNAP_HAS_WORDS];
};

static inline bool kl_snap_has(const struct kl_snap_counters *c, unsigned int i)
{
	return c->has[i / 64] >> (i % 64) & 1;
}

static inline void kl_snap_set(struct kl_snap_counters *c, unsigned int i, uint64_t v)
{
	c->c[i] = v;
	c->has[i / 64] |= 1ULL << (i % 64);
}

/* A named count (reasons.exit / reasons.userspace_exit). */
struct kl_snap_count {
	char name[KL_SNAP_NAME_MAX];
	uint64_t count;
};

struct kl_snap_counts {
	bool present;
	struct kl_snap_count *v;
	size_t nr;
};

/* A named histogram (histograms_by.<hist>.<name>). */
struct kl_snap_named_hist {
	char name[KL_SNAP_NAME_MAX];
	struct snap_hist h;
};

struct kl_snap_hist_by {
	bool present;
	struct kl_snap_named_hist *v;
	size_t nr;
};

struct kl_snap_vcpu {
	int32_t vcpu_id;	/* -1 when absent */
	uint32_t tid;		/* 0 when absent */
	struct kl_snap_counters c;
};

struct kl_snap_vm {
	uint32_t pid;
	char comm[32];
	char name[128];
	bool exited;
	struct kl_snap_vcpu *vcpus;
	size_t nr_vcpus;
	struct kl_snap_counters c;
	bool has_reasons;
	struct kl_snap_counts ue, ex;	/* reasons.userspace_exit, reasons.exit */
	bool has_pred;		/* "prediction": c[KL_C_PRED_VS_ACTUAL...] */
	bool has_pkvm[KL_PKVM_DIR_NR];	/* "pkvm_state_sync".<dir>: c[KL_C_PKVM_SYNC...] */
	bool has_hists, has_by;	/* "histograms", "histograms_by" objects */
	bool has_hist[KL_H_NR];
	struct snap_hist hist[KL_H_NR];
	struct kl_snap_hist_by by[KL_H_NR];
	uint32_t kstat_has;	/* "kvm_stats" (since 1.3): bit per enum kl_kstat */
	uint64_t kstat[KL_KS_NR];
};

struct kl_snap_prog {
	char name[KL_SNAP_NAME_MAX];
	char signal[KL_SNAP_NAME_MAX];
	uint64_t run_cnt, run_time_ns;
};

struct kl_snap_overhead {
	bool present;
	struct kl_snap_prog *progs;
	size_t nr_progs;
	uint64_t bpf_run_time_ns, bpf_events;
	char bpf_stats[160];
	/* since 1.2, with bpf_stats "enabled": the measured window (0: the run) */
	bool has_stats_window, stats_window_open;
	uint64_t stats_window_ns;
	uint64_t cpu_ns, rss_kb, maxrss_kb;	/* collector_cpu_pct: kl_snap_cpu_pct() */
	bool has_drop[KL_D_NR];
	uint64_t drops[KL_D_NR];
};

struct kl_snap {
	char schema_version[16];
	char tool_name[32], tool_version[32];
	char kernel[65], arch[65], hostname[65];
	int ncpus;
	bool has_start, has_duration;
	uint64_t start_time_ns, duration_ns, interval_ns;
	enum kl_target_kind target;
	uint32_t target_pid;
	char target_name[128];
	bool has_probe[KL_SIG_NR];
	char probe[KL_SIG_NR][200];	/* "attached" / "missing" / "refused: why" */
	bool has_probe_events;
	bool has_pe[KL_SIG_NR], pe_null[KL_SIG_NR];
	uint64_t pe[KL_SIG_NR];		/* probe_events */
	char (*unavail)[KL_SNAP_NAME_MAX];
	size_t nr_unavail;
	struct kl_snap_overhead oh;
	struct kl_snap_vm *vms;
	size_t nr_vms;
};

struct kl_state;
struct json_object;

void kl_snap_init(struct kl_snap *s);
void kl_snap_free(struct kl_snap *s);

/* state -> model (kl_model_state.c).  0 or -ENOMEM (s then freed). */
int kl_snap_from_state(struct kl_snap *s, const struct kl_state *st);

/* The non-empty buckets of a collector histogram (kl_hist.h). 0 or -ENOMEM. */
int kl_snap_hist_from(struct snap_hist *out, const uint64_t *b, uint64_t sum);
/*
 * probes and probe_events of the state: per attached probe the BPF run
 * count of its programs, or null when the kernel does not count runs
 * (0 = attached but never fired).
 */
void kl_snap_probes_from(struct kl_snap *s, const struct kl_state *st);
/*
 * "unavailable": call fn for each metric the attached signals cannot
 * produce on arch, in SNAPSHOT.md order.  0, or fn's first non-zero.
 */
int kl_snap_each_unavailable(uint32_t attached, const char *arch,
			     int (*fn)(void *ctx, const char *name), void *ctx);

/* model -> JSON (kl_snapshot.c): new reference, NULL without memory. */
struct json_object *kl_snap_json(const struct kl_snap *s);

/*
 * JSON -> model (kl_snap_read.c): the tree is validated first
 * (snap_validate, so a bad one fails with the same one-line
 * "PATH: expected X, got Y" message), then decoded.  0, or -1 with err
 * set (s then empty).
 */
int kl_snap_read(struct kl_snap *s, struct json_object *tree, char *err, size_t errlen);
/* snap_load() + kl_snap_read(): a file into a model (err "FILE: ..."). */
int kl_snap_load(struct kl_snap *s, const char *path, char *err, size_t errlen);

/*
 * A share (pKVM reasons, skip_share, the prediction agreement) as the
 * snapshot stores it: n / total with 4 decimals; NAN when total is 0.
 */
double kl_snap_share(uint64_t n, uint64_t total);

/*
 * A sum of counters kept in a double, back to a count: clamped to
 * [0, UINT64_MAX] (a sum of saved counters can exceed 2^64, and
 * converting such a double to an integer is undefined).
 */
static inline uint64_t kl_snap_count_of(double x)
{
	if (!(x > 0))
		return 0;
	return x >= 18446744073709551616.0 ? UINT64_MAX : (uint64_t)x;
}
/* collector_cpu_pct: collector CPU time over the covered duration, in %
 * with 2 decimals, as the snapshot stores it. */
double kl_snap_cpu_pct(const struct kl_snap *s);
/* Is name listed in s->unavail? */
bool kl_snap_unavailable(const struct kl_snap *s, const char *name);
/* Counter index of a plain counter's JSON name, -1 if unknown. */
int kl_snap_counter_index(const char *name);
/* Count of name in a reasons list, false when absent. */
bool kl_snap_count_get(const struct kl_snap_counts *r, const char *name, uint64_t *out);
/*
 * Append one zeroed element of size bytes to the array *v of *nr; the new
 * element, or NULL without memory (the array is then unchanged).
 */
void *kl_snap_push(void *v, size_t *nr, size_t size);
/* The reason list of one kind of a VM: 0 userspace_exit, 1 exit. */
const struct kl_snap_counts *kl_snap_vm_reasons(const struct kl_snap_vm *vm, int kind);
/*
 * Every reason name of one kind in the VMs of the n snapshots s[], in
 * first-seen order, appended to keys (counts are the first ones seen).
 * 0, or -1 without memory.
 */
int kl_snap_reason_keys(const struct kl_snap *s, size_t n, int kind, struct kl_snap_counts *keys);
/* Reason key of one kind summed over the VMs; false when no VM has the list. */
bool kl_snap_reason_sum(const struct kl_snap *s, int kind, const char *key, uint64_t *sum);

/*
 * Aggregation over every VM (diff, HTML, gate).  kl_snap_counter_sum:
 * counter i (a plain counter's JSON name for the _name form) summed; false
 * when no VM has it, except that a snapshot without VMs reads 0 for a
 * counter it does not list as unavailable.
 */
bool kl_snap_counter_sum(const struct kl_snap *s, unsigned int i, uint64_t *out);
bool kl_snap_counter_sum_name(const struct kl_snap *s, const char *name, uint64_t *out);
/* Histogram h of every VM merged: 1 found, 0 absent, -1 out of memory. */
int kl_snap_hist_sum(const struct kl_snap *s, unsigned int h, struct snap_hist *out);
/*
 * Prediction vs actual of counters c: loads compared and those where the
 * sched_switch prediction agreed (same_cpu/fast, migrated/other_pcpu,
 * other_vcpu/other_vcpu).
 */
void kl_snap_pred_totals(const struct kl_snap_counters *c, uint64_t *ok, uint64_t *total);
/* Does any VM have a pkvm_state_sync object? */
bool kl_snap_has_pkvm(const struct kl_snap *s);

#endif /* __KL_MODEL_H */
