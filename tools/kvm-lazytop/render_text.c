// SPDX-License-Identifier: GPL-2.0-only
/* render_text.c - plain-text view of a typed snapshot (render.h). */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kl_common.h"
#include "kl_escape.h"
#include "kl_model.h"
#include "kl_names.h"
#include "render.h"

const char *const kl_col_names[KL_COL_NR] = {
	"PID", "COMM", "VCPUS", "RUN/s", "UEXIT/s", "EXIT/s", "DIRTY/s",
	"FAST%", "TOP-MISS", "F-P50", "F-P99", "VCPU-LOAD",
};

static const int col_w[KL_COL_NR] = { 7, 16, 5, 9, 8, 8, 9, 6, 17, 8, 8, 0 };

static double secs_of(const struct kl_snap *snap)
{
	return !snap->has_duration || !snap->duration_ns ? NAN : snap->duration_ns / 1e9;
}

/* Counter i of c, NAN when the snapshot does not have it. */
static double cnt(const struct kl_snap_counters *c, unsigned int i)
{
	return kl_snap_has(c, i) ? (double)c->c[i] : NAN;
}

#define FAULT_FAST(ctx, p, e, n, path, ...)	(0 KL_IF_FAST_##path(+1)),
static const bool fault_fast[KL_FAULT_NR] = { KL_FAULT_REASONS(FAULT_FAST, _) };

/* FAST%: the fast gstage_fault reasons; TOP-MISS: the top slow one. */
static void fill_fault_cols(struct kl_row *r, const struct kl_snap_counters *c)
{
	bool have = kl_snap_has(c, KL_C_GSTAGE_FAULT + KL_FAULT_FAST);
	double fast = 0, total, best = 0;
	unsigned int i;

	for (i = 0; i < KL_FAULT_NR; i++)
		if (fault_fast[i])
			fast += cnt(c, KL_C_GSTAGE_FAULT + i);
	snprintf(r->miss, sizeof(r->miss), "-");
	if (!have) {
		r->v[KL_COL_FAST] = NAN;
		return;
	}
	total = fast;
	for (i = 0; i < KL_FAULT_NR; i++) {
		double v = cnt(c, KL_C_GSTAGE_FAULT + i);

		if (fault_fast[i] || isnan(v))
			continue;
		total += v;
		if (v > best) {
			best = v;
			snprintf(r->miss, sizeof(r->miss), "%s", kl_fault_reason_name(i));
		}
	}
	r->v[KL_COL_FAST] = total > 0 ? 100.0 * fast / total : NAN;
	if (total <= 0)
		snprintf(r->miss, sizeof(r->miss), "(no faults)");
}

/* VCPU-LOAD from the vcpu_load reason mix (series): rate and top two. */
static void fill_load_mix(struct kl_row *r, const struct kl_snap_counters *c, double secs)
{
	double v[KL_LOAD_NR], lsum = 0;
	int top[2] = { -1, -1 };

	for (int i = 0; i < KL_LOAD_NR; i++) {
		v[i] = cnt(c, KL_C_VCPU_LOAD + i);
		if (isnan(v[i]))
			v[i] = 0;
		lsum += v[i];
		if (top[0] < 0 || v[i] > v[top[0]]) {
			top[1] = top[0];
			top[0] = i;
		} else if (top[1] < 0 || v[i] > v[top[1]]) {
			top[1] = i;
		}
	}
	r->v[KL_COL_LOADS] = lsum / secs;
	if (lsum > 0)
		snprintf(r->loads, sizeof(r->loads), "%s %.0f%% %s %.0f%%",
			 kl_load_reason_name(top[0]), 100 * v[top[0]] / lsum,
			 kl_load_reason_name(top[1]), 100 * v[top[1]] / lsum);
	else
		snprintf(r->loads, sizeof(r->loads), "(no loads)");
}

/* VCPU-LOAD from the sched_switch reload prediction. */
static void fill_load_pred(struct kl_row *r, const struct kl_snap_counters *c, double secs)
{
	double s = cnt(c, KL_C_PRED + KL_PRED_SAME_CPU), m = cnt(c, KL_C_PRED + KL_PRED_MIGRATED),
	       o = cnt(c, KL_C_PRED + KL_PRED_OTHER_VCPU);
	double lsum = s + m + o;

	r->v[KL_COL_LOADS] = lsum / secs;
	if (lsum > 0)
		snprintf(r->loads, sizeof(r->loads), "pred same %.0f%% mig %.0f%% oth %.0f%%",
			 100 * s / lsum, 100 * m / lsum, 100 * o / lsum);
	else
		snprintf(r->loads, sizeof(r->loads), "pred (no reloads)");
}

/* Fill the counter-derived columns of a row. */
static void fill_counters(struct kl_row *r, const struct kl_snap_counters *c, double secs)
{
	r->v[KL_COL_RUNS] = cnt(c, KL_C_KVM_RUNS) / secs;
	r->v[KL_COL_UEXITS] = cnt(c, KL_C_USERSPACE_EXITS) / secs;
	r->v[KL_COL_EXITS] = cnt(c, KL_C_EXITS) / secs;
	r->v[KL_COL_DIRTY] = cnt(c, KL_C_DIRTY_PAGES) / secs;
	fill_fault_cols(r, c);

	/* vcpu_load reason mix (series); else the sched_switch prediction. */
	r->loads[0] = 0;
	r->v[KL_COL_LOADS] = NAN;
	if (kl_snap_has(c, KL_C_VCPU_LOAD + KL_LOAD_FAST))
		fill_load_mix(r, c, secs);
	else if (kl_snap_has(c, KL_C_PRED + KL_PRED_SAME_CPU))
		fill_load_pred(r, c, secs);
	else
		snprintf(r->loads, sizeof(r->loads), "-");
}

/* p50 and p99 of a histogram from its buckets (SNAPSHOT.md); NAN when absent. */
static void fill_pcts(struct kl_row *r, const struct kl_snap_vm *vm, unsigned int h)
{
	bool have = vm->has_hist[h];

	r->v[KL_COL_FP50] = have ? snap_hist_quantile(&vm->hist[h], snap_pcts[0].q) : NAN;
	r->v[KL_COL_FP99] = have ? snap_hist_quantile(&vm->hist[h], snap_pcts[2].q) : NAN;
}

static void fill_vm_row(struct kl_row *r, const struct kl_snap_vm *vm, double secs)
{
	memset(r, 0, sizeof(*r));
	r->vm = vm;
	r->pid = vm->pid;
	r->exited = vm->exited;
	/* the name is the target's choice: escaped, cut to the column on a whole escape */
	_Static_assert(sizeof(r->comm) > 16, "COMM column wider than kl_row.comm");
	kl_escape(r->comm, (size_t)col_w[KL_COL_COMM] + 1, vm->name[0] ? vm->name : "?");
	r->v[KL_COL_PID] = r->pid;
	r->v[KL_COL_VCPUS] = 0;
	for (size_t i = 0; i < vm->nr_vcpus; i++)	/* identified vCPUs */
		if (vm->vcpus[i].vcpu_id >= 0)
			r->v[KL_COL_VCPUS]++;
	fill_counters(r, &vm->c, secs);
	fill_pcts(r, vm, KL_H_FAULT);
}

/* nr zeroed rows (*rows stays NULL when nr is 0).  0, or -1 without memory. */
static int alloc_rows(size_t nr, struct kl_row **rows)
{
	*rows = nr ? calloc(nr, sizeof(**rows)) : NULL;
	return nr && !*rows ? -1 : 0;
}

int kl_vm_rows(const struct kl_snap *snap, struct kl_row **rows, size_t *n)
{
	double secs = secs_of(snap);

	*n = 0;
	if (alloc_rows(snap->nr_vms, rows))
		return -1;
	for (size_t i = 0; i < snap->nr_vms; i++)
		fill_vm_row(&(*rows)[i], &snap->vms[i], secs);
	*n = snap->nr_vms;
	return 0;
}

int kl_vcpu_rows(const struct kl_snap *snap, const struct kl_snap_vm *vm, struct kl_row **rows,
		 size_t *n)
{
	double secs = secs_of(snap);

	*n = 0;
	if (alloc_rows(vm->nr_vcpus, rows))
		return -1;
	for (size_t i = 0; i < vm->nr_vcpus; i++) {
		const struct kl_snap_vcpu *v = &vm->vcpus[i];
		struct kl_row *r = &(*rows)[i];

		r->vm = vm;
		r->is_vcpu = true;
		r->pid = vm->pid;
		r->vcpu_id = v->vcpu_id;
		r->tid = v->tid;
		if (r->vcpu_id < 0)
			snprintf(r->comm, sizeof(r->comm), " vcpu ?");
		else
			snprintf(r->comm, sizeof(r->comm), " vcpu %d", r->vcpu_id);
		r->v[KL_COL_PID] = r->tid;
		r->v[KL_COL_VCPUS] = NAN;
		fill_counters(r, &v->c, secs);
		r->v[KL_COL_FP50] = NAN;	/* histograms are per VM */
		r->v[KL_COL_FP99] = NAN;
	}
	*n = vm->nr_vcpus;
	return 0;
}

static int cmp_rows(const struct kl_row *x, const struct kl_row *y, enum kl_col col)
{
	double vx = x->v[col], vy = y->v[col];

	if (col == KL_COL_COMM)
		return strcmp(x->comm, y->comm);
	if (col == KL_COL_MISS)
		return strcmp(x->miss, y->miss);
	if (col == KL_COL_PID)
		return (x->pid > y->pid) - (x->pid < y->pid);
	if (isnan(vx))
		vx = -1;
	if (isnan(vy))
		vy = -1;
	if (vx != vy)
		return vx < vy ? 1 : -1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Stable insertion sort: row counts are small and the column is a plain
 * argument (no file-scope state for a qsort comparator). */
void kl_rows_sort(struct kl_row *rows, size_t n, enum kl_col col)
{
	if (col >= KL_COL_NR)
		col = KL_COL_PID;
	for (size_t i = 1; i < n; i++) {
		struct kl_row tmp = rows[i];
		size_t j = i;

		while (j > 0 && cmp_rows(&rows[j - 1], &tmp, col) > 0) {
			rows[j] = rows[j - 1];
			j--;
		}
		rows[j] = tmp;
	}
}

static const char *fmt_rate(double v, char *buf, size_t len)
{
	if (isnan(v) || isinf(v))
		return "-";
	if (v >= 1e7)
		snprintf(buf, len, "%.1fM", v / 1e6);
	else if (v >= 1e4)
		snprintf(buf, len, "%.1fk", v / 1e3);
	else
		snprintf(buf, len, "%.1f", v);
	return buf;
}

const char *kl_cell(const struct kl_row *r, enum kl_col col, char *buf, size_t len)
{
	switch (col) {
	case KL_COL_PID:
		if (r->is_vcpu && !r->tid)
			return "-";
		snprintf(buf, len, "%u", r->is_vcpu ? r->tid : r->pid);
		return buf;
	case KL_COL_COMM:
		snprintf(buf, len, "%s%s", r->comm, r->exited ? "*" : "");
		return buf;
	case KL_COL_VCPUS:
		if (isnan(r->v[col]))
			return "";
		snprintf(buf, len, "%.0f", r->v[col]);
		return buf;
	case KL_COL_FAST:
		if (isnan(r->v[col]))
			return "-";
		snprintf(buf, len, "%.1f", r->v[col]);
		return buf;
	case KL_COL_MISS:
		return r->miss;
	case KL_COL_FP50:
	case KL_COL_FP99:
		return snap_fmt_ns(r->v[col], buf, len);
	case KL_COL_LOADS:
		return r->loads;
	default:
		return fmt_rate(r->v[col], buf, len);
	}
}

void kl_format_header(char *buf, size_t len)
{
	size_t off = 0;

	for (int c = 0; c < KL_COL_NR && off < len; c++)
		off += snprintf(buf + off, len - off, c == KL_COL_COMM || c == KL_COL_MISS ||
				c == KL_COL_LOADS ? "%-*s " : "%*s ", col_w[c], kl_col_names[c]);
	if (off && off < len && buf[off - 1] == ' ')
		buf[off - 1] = 0;
}

void kl_format_row(const struct kl_row *r, char *buf, size_t len)
{
	size_t off = 0;
	char cell[96];

	for (int c = 0; c < KL_COL_NR && off < len; c++) {
		const char *s = kl_cell(r, c, cell, sizeof(cell));

		if (c == KL_COL_COMM || c == KL_COL_MISS)
			off += snprintf(buf + off, len - off, "%-*.*s ", col_w[c], col_w[c], s);
		else if (c == KL_COL_LOADS)
			off += snprintf(buf + off, len - off, "%s ", s);
		else
			off += snprintf(buf + off, len - off, "%*s ", col_w[c], s);
	}
	if (off && off < len && buf[off - 1] == ' ')
		buf[off - 1] = 0;
}

static void print_hists(FILE *out, const struct kl_snap_vm *vm)
{
	char a[24], b[24], c[24], d[24], m[24];
	unsigned int h;

	for (h = 0; h < KL_H_NR && !vm->has_hist[h]; h++)
		;
	if (h == KL_H_NR)
		return;
	fprintf(out, "    %-22s %10s %9s %9s %9s %9s %9s\n", "histogram", "count", "mean", "p50", "p90", "p99", "p99.9");
	for (; h < KL_H_NR; h++) {
		const struct snap_hist *x = &vm->hist[h];
		double p[SNAP_NPCT];

		if (!vm->has_hist[h])
			continue;
		for (int i = 0; i < SNAP_NPCT; i++)	/* from the buckets, SNAPSHOT.md */
			p[i] = snap_hist_quantile(x, snap_pcts[i].q);
		fprintf(out, "    %-22s %10" PRIu64 " %9s %9s %9s %9s %9s\n", kl_hist_name(h), x->count,
			snap_fmt_ns(x->count ? (double)x->sum / (double)x->count : NAN, m, sizeof(m)),
			snap_fmt_ns(p[0], a, sizeof(a)), snap_fmt_ns(p[1], b, sizeof(b)),
			snap_fmt_ns(p[2], c, sizeof(c)), snap_fmt_ns(p[3], d, sizeof(d)));
	}
}

/*
 * "kvm stats: vcpu_load fast N slow N; gstage_fault fast N slow N
 * not_host_writable N": the KVM stats found, grouped by their prefix.
 */
static void print_kvm_stats(FILE *out, const struct kl_snap_vm *vm)
{
	static const char *const groups[] = { "vcpu_load_", "gstage_fault_" };
	const char *sep = "";

	if (!vm->kstat_has)
		return;
	fprintf(out, "    kvm stats:");
	for (size_t g = 0; g < KL_ARRAY_SIZE(groups); g++) {
		size_t len = strlen(groups[g]);
		bool first = true;

		for (unsigned int k = 0; k < KL_KS_NR; k++) {
			if (!(vm->kstat_has >> k & 1) || strncmp(kl_kstat_names[k], groups[g], len))
				continue;
			if (first)
				fprintf(out, "%s %.*s", sep, (int)len - 1, groups[g]);
			fprintf(out, " %s %" PRIu64, kl_kstat_names[k] + len, vm->kstat[k]);
			first = false;
			sep = ";";
		}
	}
	fputc('\n', out);
}

static void print_reason_line(FILE *out, const char *label, const struct kl_snap_counts *rs)
{
	struct { const char *k; double v; } top[4] = { { 0 } };
	double total = 0;

	for (size_t j = 0; j < rs->nr; j++) {
		double v = (double)rs->v[j].count;

		total += v;
		for (int i = 0; i < 4; i++) {
			if (!top[i].k || v > top[i].v) {
				memmove(&top[i + 1], &top[i], (3 - i) * sizeof(top[0]));
				top[i].k = rs->v[j].name;
				top[i].v = v;
				break;
			}
		}
	}
	if (total <= 0)
		return;
	fprintf(out, "    %s:", label);
	for (int i = 0; i < 4 && top[i].k; i++) {
		char ek[96];

		kl_escape(ek, sizeof(ek), top[i].k);	/* a saved snapshot's keys are input too */
		fprintf(out, " %s %.0f%%", ek, 100 * top[i].v / total);
	}
	fprintf(out, " (total %.0f)\n", total);
}

/* "12.5%" of n in total, "-" when total is 0. */
static void share(char *buf, size_t len, double n, double total)
{
	if (total > 0)
		snprintf(buf, len, "%.1f%%", 100 * n / total);
	else
		snprintf(buf, len, "-");
}

/* The same for a VM's pKVM table: the share the snapshot stores. */
static void stored_share(char *buf, size_t len, double n, double total)
{
	share(buf, len, total > 0 ? kl_snap_share(kl_snap_count_of(n), kl_snap_count_of(total)) : 0, total > 0);
}

/* Events and skipped syncs of direction d in c (the reasons c has). */
static bool pkvm_sums(const struct kl_snap_counters *c, unsigned int d, double *tot, double *skip)
{
	bool any = false;

	*tot = *skip = 0;
	for (unsigned int r = 0; r < KL_PKVM_REASON_NR; r++) {
		unsigned int i = KL_C_PKVM_SYNC + d * KL_PKVM_REASON_NR + r;

		if (!kl_snap_has(c, i))
			continue;
		any = true;
		*tot += (double)c->c[i];
		if (kl_pkvm_reason_is_skip(r))
			*skip += (double)c->c[i];
	}
	return any;
}

/* per vCPU: the skip share of each direction from the flat counters */
static void pkvm_vcpu_line(FILE *out, const struct kl_snap_vcpu *v, const char *indent)
{
	char line[160], sk[16];
	size_t off = 0;
	bool any = false;

	off += snprintf(line + off, sizeof(line) - off, "%s  vcpu %d:", indent, v->vcpu_id);
	for (unsigned int d = 0; d < KL_PKVM_DIR_NR && off < sizeof(line); d++) {
		double tot, skip;

		any = pkvm_sums(&v->c, d, &tot, &skip) || any;
		share(sk, sizeof(sk), skip, tot);
		off += snprintf(line + off, sizeof(line) - off, " %s %.0f (skip %s)",
				kl_pkvm_dir_name(d), tot, sk);
	}
	if (any)
		fprintf(out, "%s\n", line);
}

int render_pkvm_sync(FILE *out, const struct kl_snap_vm *vm, bool per_vcpu, const char *indent)
{
	char sh[16], sk[16];
	unsigned int d;

	for (d = 0; d < KL_PKVM_DIR_NR && !vm->has_pkvm[d]; d++)
		;
	if (d == KL_PKVM_DIR_NR)
		return 0;
	if (!indent)
		indent = "";
	fprintf(out, "%s%-24s %10s %8s\n", indent, "pKVM state sync", "count", "share");
	for (d = 0; d < KL_PKVM_DIR_NR; d++) {
		double ev, skip;

		if (!vm->has_pkvm[d])
			continue;
		pkvm_sums(&vm->c, d, &ev, &skip);
		stored_share(sk, sizeof(sk), skip, ev);
		fprintf(out, "%s  %-22s %10.0f %8s  skip %s\n", indent, kl_pkvm_dir_name(d), ev, "", sk);
		for (unsigned int r = 0; r < KL_PKVM_REASON_NR; r++) {
			unsigned int i = KL_C_PKVM_SYNC + d * KL_PKVM_REASON_NR + r;

			if (!kl_snap_has(&vm->c, i))
				continue;
			stored_share(sh, sizeof(sh), (double)vm->c.c[i], ev);
			fprintf(out, "%s    %-20s %10" PRIu64 " %8s\n", indent, kl_pkvm_reason_name(r),
				vm->c.c[i], sh);
		}
	}
	for (size_t i = 0; per_vcpu && i < vm->nr_vcpus; i++)
		pkvm_vcpu_line(out, &vm->vcpus[i], indent);
	return 1;
}

static void print_footer(FILE *out, const struct kl_snap *snap)
{
	const struct kl_snap_overhead *oh = &snap->oh;
	double ev = (double)oh->bpf_events, nd = 0;
	char a[24];

	for (int d = 0; d < KL_D_NR; d++)
		if (oh->has_drop[d])
			nd += (double)oh->drops[d];
	fprintf(out, "  overhead: bpf %s, %.0f events, %s/event; collector %.2f%% CPU, RSS %" PRIu64
		" kB (max %" PRIu64 " kB); drops %.0f\n",
		oh->present && oh->bpf_stats[0] ? oh->bpf_stats : "-", ev,
		snap_fmt_ns(ev > 0 ? (double)oh->bpf_run_time_ns / ev : NAN, a, sizeof(a)),
		kl_snap_cpu_pct(snap), oh->rss_kb, oh->maxrss_kb, nd);
	for (int d = 0; d < KL_D_NR; d++) {
		static const char *const raise[KL_D_NR] = {
			[KL_D_SLOTS_FULL] = "--max-vcpus",
			[KL_D_REASON_SLOTS_FULL] = "--max-reasons",
			[KL_D_HIST_SLOTS_FULL] = "--max-hists",
		};

		if (oh->has_drop[d] && oh->drops[d] && raise[d])
			fprintf(out, "  drops.%s %" PRIu64 ": raise %s\n", kl_drop_name((unsigned int)d),
				oh->drops[d], raise[d]);
	}
	if (snap->nr_unavail) {
		fprintf(out, "  unavailable (%zu):", snap->nr_unavail);
		for (size_t i = 0; i < snap->nr_unavail; i++)
			fprintf(out, "%s %s", i ? "," : "", snap->unavail[i]);
		fprintf(out, "\n");
	}
}

/* The first line: title, start time, covered duration, target, VM count. */
static void print_title(FILE *out, const struct kl_snap *snap, const char *title, size_t nvms)
{
	char tbuf[64], etitle[256], tname[160], target[24], cover[40];
	time_t t = snap->has_start ? (time_t)(snap->start_time_ns / 1000000000ULL) : 0;
	const char *tgt = "all";
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%d %H:%M:%S", &tm);
	if (snap->target == KL_TARGET_PID) {
		snprintf(target, sizeof(target), "%" PRIu32, snap->target_pid);
		tgt = target;
	} else if (snap->target == KL_TARGET_NAME) {
		tgt = snap->target_name;
	}
	/* a missing duration is not "nan s"; 0 is 0.00s (rates then read "-") */
	if (!snap->has_duration)
		snprintf(cover, sizeof(cover), "-");
	else
		snprintf(cover, sizeof(cover), "%.2fs", snap->duration_ns / 1e9);
	/* title (a file name), target name: escaped like the VM names */
	kl_escape(etitle, sizeof(etitle), title ? title : KL_TOOL_NAME);
	kl_escape(tname, sizeof(tname), tgt);
	fprintf(out, "%s  %s  covering %s  target %s  VMs %zu\n", etitle, tbuf, cover, tname, nvms);
}

static void print_row(FILE *out, const struct kl_row *r)
{
	char line[512];

	kl_format_row(r, line, sizeof(line));
	fprintf(out, "%s\n", line);
}

/* One VM: its row, its vCPU rows, reasons, pKVM table, histograms. */
static void print_vm(FILE *out, const struct kl_snap *snap, const struct kl_row *row,
		     const struct render_opts *o)
{
	const struct kl_snap_vm *vm = row->vm;

	print_row(out, row);
	if (o->per_vcpu) {
		struct kl_row *vr = NULL;
		size_t vn = 0;

		if (!kl_vcpu_rows(snap, vm, &vr, &vn))
			for (size_t j = 0; j < vn; j++)
				print_row(out, &vr[j]);
		free(vr);
	}
	print_kvm_stats(out, vm);
	if (o->reasons) {
		print_reason_line(out, "userspace exits", &vm->ue);
		print_reason_line(out, "exits", &vm->ex);
		render_pkvm_sync(out, vm, o->per_vcpu, "    ");
	}
	if (o->histograms)
		print_hists(out, vm);
}

int render_text(FILE *out, const struct kl_snap *snap, const struct render_opts *o)
{
	static const struct render_opts defaults = { .histograms = true, .reasons = true, .overhead = true };
	struct kl_row *rows = NULL;
	size_t n = 0;
	char line[512];

	if (!o)
		o = &defaults;
	if (!snap || kl_vm_rows(snap, &rows, &n))
		return -1;
	kl_rows_sort(rows, n, KL_COL_PID);
	print_title(out, snap, o->title, n);
	kl_format_header(line, sizeof(line));
	fprintf(out, "%s\n", line);
	for (size_t i = 0; i < n; i++)
		print_vm(out, snap, &rows[i], o);
	if (!n)
		fprintf(out, "  (no KVM activity seen)\n");
	if (o->overhead)
		print_footer(out, snap);
	free(rows);
	return 0;
}
