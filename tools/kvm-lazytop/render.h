/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * render.h - human renderers.  They read ONLY the typed snapshot
 * (kl_model.h): live, the collector's state turned into one (no JSON on
 * the way); `kvm-lazytop report FILE.json`, the file read by the JSON
 * reader (kl_snap_load), so a saved snapshot renders exactly like a live
 * one.
 */
#ifndef __KL_RENDER_H
#define __KL_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct kl_snap;
struct kl_snap_vm;

struct render_opts {
	bool per_vcpu;		/* a row per vCPU under each VM */
	bool histograms;	/* percentile table per VM */
	bool reasons;		/* top exit reasons (and the pKVM state sync table) per VM */
	bool overhead;		/* overhead / drops / unavailable footer */
	const char *title;	/* first line prefix, NULL = "kvm-lazytop" */
};

/*
 * Plain-text block for one snapshot.  Rates are per second over the
 * snapshot's duration_ns.  Unavailable metrics print as "-" and are listed
 * in the footer.  Returns 0, or -1 without snap or memory.
 */
int render_text(FILE *out, const struct kl_snap *snap, const struct render_opts *o);

/*
 * The "pKVM state sync" table of one VM (its "pkvm_state_sync":
 * to_hyp / to_host, their events and skip share, then each reason's
 * count and share), every line prefixed with indent; with per_vcpu, one
 * line per vCPU with both directions' skip share.  Returns 1 if printed,
 * 0 when the VM has no pkvm_state_sync (signal not attached).
 */
int render_pkvm_sync(FILE *out, const struct kl_snap_vm *vm, bool per_vcpu, const char *indent);

/* ---- shared with the ncurses view (tui.c) ---- */

enum kl_col {
	KL_COL_PID, KL_COL_COMM, KL_COL_VCPUS, KL_COL_RUNS, KL_COL_UEXITS,
	KL_COL_EXITS, KL_COL_DIRTY, KL_COL_FAST, KL_COL_MISS, KL_COL_FP50,
	KL_COL_FP99, KL_COL_LOADS, KL_COL_NR,
};

struct kl_row {
	uint32_t pid;
	int32_t vcpu_id;	/* vCPU rows only */
	uint32_t tid;		/* vCPU rows only */
	bool exited;
	bool is_vcpu;		/* a vCPU row (PID column shows the tid) */
	char comm[32];
	double v[KL_COL_NR];	/* numeric value per column, NAN = unavailable */
	char miss[32];		/* top fast-path miss reason */
	char loads[64];		/* vcpu_load reason mix */
	const struct kl_snap_vm *vm;	/* the VM (of a vCPU row: its VM), borrowed */
};

extern const char *const kl_col_names[KL_COL_NR];

/* Rows for every VM of snap (*rows malloc'd, free() it). 0 or -1. */
int kl_vm_rows(const struct kl_snap *snap, struct kl_row **rows, size_t *n);
/* Rows for every vCPU of one VM. 0 or -1. */
int kl_vcpu_rows(const struct kl_snap *snap, const struct kl_snap_vm *vm, struct kl_row **rows,
		 size_t *n);
/* Sort descending by column (PID/COMM ascending). */
void kl_rows_sort(struct kl_row *rows, size_t n, enum kl_col col);
/* Cell text of column col, right-sized for the header widths. */
const char *kl_cell(const struct kl_row *r, enum kl_col col, char *buf, size_t len);
/* Header line / row line (no newline) of the standard column set. */
void kl_format_header(char *buf, size_t len);
void kl_format_row(const struct kl_row *r, char *buf, size_t len);

#endif /* __KL_RENDER_H */
