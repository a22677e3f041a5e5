// SPDX-License-Identifier: GPL-2.0-only
/* render_text.c - plain-text view of a JSON snapshot (render.h). */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "kl_common.h"
#include "kl_escape.h"
#include "kl_names.h"
#include "render.h"
#include "snapshot_read.h"

const char *const kl_col_names[KL_COL_NR] = {
	"PID", "COMM", "VCPUS", "RUN/s", "UEXIT/s", "EXIT/s", "DIRTY/s",
	"FAST%", "TOP-MISS", "F-P50", "F-P99", "VCPU-LOAD",
};

static const int col_w[KL_COL_NR] = { 7, 16, 5, 9, 8, 8, 9, 6, 17, 8, 8, 0 };

/*
 * Every read goes through the typed accessors of snapshot_read.h: a member
 * of the wrong JSON type reads as absent, never as a crash.  `report`
 * validates the whole tree first (snap_load), so there a wrong type is an
 * error before anything is printed; live views render the collector's tree.
 */
static double secs_of(struct json_object *snap)
{
	double d = snap_num(snap, "duration_ns");

	return isnan(d) || d <= 0 ? NAN : d / 1e9;
}

/* FAST%: the fast members of gstage_fault; TOP-MISS: its top slow one. */
static void fill_fault_cols(struct kl_row *r, struct json_object *c)
{
	const struct snap_family *gf = snap_family_named("gstage_fault");
	const char *const *m;
	double fast = 0, total = 0, best = 0;
	bool have = false;

	for (m = gf->fast; *m; m++) {
		double v = snap_num(c, *m);

		have = have || (m == gf->fast && !isnan(v));
		fast += v;
	}
	snprintf(r->miss, sizeof(r->miss), "-");
	if (!have) {
		r->v[KL_COL_FAST] = NAN;
		return;
	}
	total = fast;
	for (m = gf->members; *m; m++) {
		double v;

		if (snap_family_is_fast(gf, *m))
			continue;
		v = snap_num(c, *m);
		if (isnan(v))
			continue;
		total += v;
		if (v > best) {
			best = v;
			snprintf(r->miss, sizeof(r->miss), "%s", *m + strlen(gf->prefix));
		}
	}
	r->v[KL_COL_FAST] = total > 0 ? 100.0 * fast / total : NAN;
	if (total <= 0)
		snprintf(r->miss, sizeof(r->miss), "(no faults)");
}

/* VCPU-LOAD from the vcpu_load reason mix (series): rate and top two. */
static void fill_load_mix(struct kl_row *r, struct json_object *c, double secs)
{
	double v[KL_LOAD_NR], lsum = 0;
	int top[2] = { -1, -1 };
	char key[64];

	for (int i = 0; i < KL_LOAD_NR; i++) {
		snprintf(key, sizeof(key), "vcpu_load_%s", kl_load_reason_name(i));
		v[i] = snap_num(c, key);
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
static void fill_load_pred(struct kl_row *r, struct json_object *c, double secs)
{
	double s = snap_num(c, "reload_pred_same_cpu"), m = snap_num(c, "reload_pred_migrated"),
	       o = snap_num(c, "reload_pred_other_vcpu");
	double lsum = s + m + o;

	r->v[KL_COL_LOADS] = lsum / secs;
	if (lsum > 0)
		snprintf(r->loads, sizeof(r->loads), "pred same %.0f%% mig %.0f%% oth %.0f%%",
			 100 * s / lsum, 100 * m / lsum, 100 * o / lsum);
	else
		snprintf(r->loads, sizeof(r->loads), "pred (no reloads)");
}

/* Fill the counter-derived columns of a row from a counters object. */
static void fill_counters(struct kl_row *r, struct json_object *c, double secs)
{
	r->v[KL_COL_RUNS] = snap_num(c, "kvm_runs") / secs;
	r->v[KL_COL_UEXITS] = snap_num(c, "userspace_exits") / secs;
	r->v[KL_COL_EXITS] = snap_num(c, "exits") / secs;
	r->v[KL_COL_DIRTY] = snap_num(c, "dirty_pages") / secs;
	fill_fault_cols(r, c);

	/* vcpu_load reason mix (series); else the sched_switch prediction. */
	r->loads[0] = 0;
	r->v[KL_COL_LOADS] = NAN;
	if (!isnan(snap_num(c, "vcpu_load_fast")))
		fill_load_mix(r, c, secs);
	else if (!isnan(snap_num(c, "reload_pred_same_cpu")))
		fill_load_pred(r, c, secs);
	else
		snprintf(r->loads, sizeof(r->loads), "-");
}

/* vcpu_id of a vcpus[] entry; -1 (not identified) when absent. */
static int32_t vcpu_id_of(struct json_object *v)
{
	double id = snap_num(v, "vcpu_id");

	return isnan(id) || id < INT32_MIN || id > INT32_MAX ? -1 : (int32_t)id;
}

static void fill_vm_row(struct kl_row *r, struct json_object *vm, double secs)
{
	struct json_object *fl = snap_get_obj(snap_get_obj(vm, "histograms"), "fault_latency_ns");
	struct json_object *vc = snap_get_arr(vm, "vcpus");
	const char *comm = snap_get_str(vm, "name");
	double pct[SNAP_NPCT];
	uint64_t pid = 0;

	memset(r, 0, sizeof(*r));
	r->obj = vm;
	snap_get_u64(vm, "pid", &pid);
	r->pid = (uint32_t)pid;
	snap_get_bool(vm, "exited", &r->exited);
	/* the name is the target's choice: escaped, cut to the column on a whole escape */
	_Static_assert(sizeof(r->comm) > 16, "COMM column wider than kl_row.comm");
	kl_escape(r->comm, (size_t)col_w[KL_COL_COMM] + 1, comm ? comm : "?");
	r->v[KL_COL_PID] = r->pid;
	r->v[KL_COL_VCPUS] = 0;
	for (size_t i = 0; vc && i < json_object_array_length(vc); i++)	/* identified vCPUs */
		if (vcpu_id_of(json_object_array_get_idx(vc, i)) >= 0)
			r->v[KL_COL_VCPUS]++;
	fill_counters(r, snap_get_obj(vm, "counters"), secs);
	snap_json_pcts(fl, pct);		/* from the buckets, SNAPSHOT.md */
	r->v[KL_COL_FP50] = pct[0];
	r->v[KL_COL_FP99] = pct[2];
}

/*
 * One zeroed row per element of arr (*nr of them; *rows stays NULL when
 * there is none).  Returns -1 without arr or memory.
 */
static int alloc_rows(struct json_object *arr, struct kl_row **rows, size_t *nr)
{
	*rows = NULL;
	if (!arr)
		return -1;
	*nr = json_object_array_length(arr);
	if (!*nr)
		return 0;
	*rows = calloc(*nr, sizeof(**rows));
	return *rows ? 0 : -1;
}

int kl_vm_rows(struct json_object *snap, struct kl_row **rows, size_t *n)
{
	struct json_object *vms = snap_get_arr(snap, "vms");
	double secs = secs_of(snap);
	size_t nr;

	*n = 0;
	if (alloc_rows(vms, rows, &nr))
		return -1;
	for (size_t i = 0; i < nr; i++)
		fill_vm_row(&(*rows)[i], json_object_array_get_idx(vms, i), secs);
	*n = nr;
	return 0;
}

int kl_vcpu_rows(struct json_object *snap, struct json_object *vm, struct kl_row **rows, size_t *n)
{
	struct json_object *vc = snap_get_arr(vm, "vcpus");
	double secs = secs_of(snap);
	uint64_t pid = 0, tid;
	size_t nr;

	*n = 0;
	if (alloc_rows(vc, rows, &nr))
		return -1;
	for (size_t i = 0; i < nr; i++) {
		struct json_object *v = json_object_array_get_idx(vc, i);
		struct kl_row *r = &(*rows)[i];

		r->obj = v;
		r->is_vcpu = true;
		snap_get_u64(vm, "pid", &pid);
		r->pid = (uint32_t)pid;
		r->vcpu_id = vcpu_id_of(v);
		r->tid = snap_get_u64(v, "tid", &tid) ? (uint32_t)tid : 0;
		if (r->vcpu_id < 0)
			snprintf(r->comm, sizeof(r->comm), " vcpu ?");
		else
			snprintf(r->comm, sizeof(r->comm), " vcpu %d", r->vcpu_id);
		r->v[KL_COL_PID] = r->tid;
		r->v[KL_COL_VCPUS] = NAN;
		fill_counters(r, snap_get_obj(v, "counters"), secs);
		r->v[KL_COL_FP50] = NAN;	/* histograms are per VM */
		r->v[KL_COL_FP99] = NAN;
	}
	*n = nr;
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

static void print_hists(FILE *out, struct json_object *vm)
{
	struct json_object *hs = snap_get_obj(vm, "histograms");
	char a[24], b[24], c[24], d[24], m[24];
	double p[SNAP_NPCT];

	if (!hs || !json_object_object_length(hs))
		return;
	fprintf(out, "    %-22s %10s %9s %9s %9s %9s %9s\n", "histogram", "count", "mean", "p50", "p90", "p99", "p99.9");
	json_object_object_foreach(hs, key, h) {
		double cnt = snap_num(h, "count"), sum = snap_num(h, "sum");
		char ek[96];

		kl_escape(ek, sizeof(ek), key);	/* a saved snapshot's keys are input too */
		snap_json_pcts(h, p);	/* from the buckets: stored pNN are not read */
		fprintf(out, "    %-22s %10.0f %9s %9s %9s %9s %9s\n", ek, isnan(cnt) ? 0 : cnt,
			snap_fmt_ns(cnt > 0 ? sum / cnt : NAN, m, sizeof(m)),
			snap_fmt_ns(p[0], a, sizeof(a)), snap_fmt_ns(p[1], b, sizeof(b)),
			snap_fmt_ns(p[2], c, sizeof(c)), snap_fmt_ns(p[3], d, sizeof(d)));
	}
}

static void print_reason_line(FILE *out, const char *label, struct json_object *rs)
{
	struct { const char *k; double v; } top[4] = { { 0 } };
	double total = 0;
	int n = 0;

	if (!rs)
		return;
	json_object_object_foreach(rs, key, val) {
		double v = snap_json_num(val);

		if (isnan(v))
			continue;
		total += v;
		for (int i = 0; i < 4; i++) {
			if (!top[i].k || v > top[i].v) {
				memmove(&top[i + 1], &top[i], (3 - i) * sizeof(top[0]));
				top[i].k = key;
				top[i].v = v;
				break;
			}
		}
	}
	if (total <= 0)
		return;
	fprintf(out, "    %s:", label);
	for (int i = 0; i < 4 && top[i].k; i++, n++) {
		char ek[96];

		kl_escape(ek, sizeof(ek), top[i].k);
		fprintf(out, " %s %.0f%%", ek, 100 * top[i].v / total);
	}
	fprintf(out, " (total %.0f)\n", total);
}

static void pkvm_share(char *buf, size_t len, double share)
{
	if (!isnan(share))
		snprintf(buf, len, "%.1f%%", 100 * share);
	else
		snprintf(buf, len, "-");
}

int render_pkvm_sync(FILE *out, struct json_object *vm, bool per_vcpu, const char *indent)
{
	static const char *const dirs[] = { "to_hyp", "to_host" };
	struct json_object *ps = snap_get_obj(vm, "pkvm_state_sync"), *vc = snap_get_arr(vm, "vcpus");
	char sh[16], sk[16];

	if (!ps)
		return 0;
	if (!indent)
		indent = "";
	fprintf(out, "%s%-24s %10s %8s\n", indent, "pKVM state sync", "count", "share");
	for (size_t d = 0; d < KL_ARRAY_SIZE(dirs); d++) {
		struct json_object *o = snap_get_obj(ps, dirs[d]), *rs = snap_get_obj(o, "reasons");
		double ev = snap_num(o, "events");

		if (!o)
			continue;
		pkvm_share(sk, sizeof(sk), snap_num(o, "skip_share"));
		fprintf(out, "%s  %-22s %10.0f %8s  skip %s\n", indent, dirs[d], isnan(ev) ? 0 : ev, "", sk);
		if (!rs)
			continue;
		json_object_object_foreach(rs, reason, e) {
			double n = snap_num(e, "count");

			char er[96];

			pkvm_share(sh, sizeof(sh), snap_num(e, "share"));
			kl_escape(er, sizeof(er), reason);
			fprintf(out, "%s    %-20s %10.0f %8s\n", indent, er, isnan(n) ? 0 : n, sh);
		}
	}
	/* per vCPU: the skip share of each direction from the flat counters */
	for (size_t i = 0; per_vcpu && vc && i < json_object_array_length(vc); i++) {
		struct json_object *v = json_object_array_get_idx(vc, i), *c = snap_get_obj(v, "counters");
		char line[160];
		size_t off = 0;
		bool any = false;

		off += snprintf(line + off, sizeof(line) - off, "%s  vcpu %d:", indent,
				vcpu_id_of(v));
		for (unsigned int d = 0; d < KL_PKVM_DIR_NR && off < sizeof(line); d++) {
			double tot = 0, skip = 0;
			char key[80];

			for (unsigned int r = 0; r < KL_PKVM_REASON_NR; r++) {
				double x;

				snprintf(key, sizeof(key), "pkvm_sync_%s_%s", kl_pkvm_dir_name(d), kl_pkvm_reason_name(r));
				x = snap_num(c, key);
				if (isnan(x))
					continue;
				any = true;
				tot += x;
				if (kl_pkvm_reason_is_skip(r))
					skip += x;
			}
			if (tot > 0)
				snprintf(sk, sizeof(sk), "%.1f%%", 100 * skip / tot);
			else
				snprintf(sk, sizeof(sk), "-");
			off += snprintf(line + off, sizeof(line) - off, " %s %.0f (skip %s)",
					kl_pkvm_dir_name(d), tot, sk);
		}
		if (any)
			fprintf(out, "%s\n", line);
	}
	return 1;
}

static const char *str_or(struct json_object *v, const char *dflt)
{
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : dflt;
}

static void print_footer(FILE *out, struct json_object *snap)
{
	struct json_object *oh = snap_get_obj(snap, "overhead"), *un = snap_get_arr(snap, "unavailable");
	struct json_object *drops = snap_get_obj(oh, "drops");
	const char *bpf_stats = snap_get_str(oh, "bpf_stats");
	double ev = snap_num(oh, "bpf_events"), rt = snap_num(oh, "bpf_run_time_ns"), nd = 0;
	char a[24], b[24];

	if (drops) {
		json_object_object_foreach(drops, k, v) {
			(void)k;
			if (!isnan(snap_json_num(v)))
				nd += snap_json_num(v);
		}
	}
	fprintf(out, "  overhead: bpf %s, %.0f events, %s/event; collector %.2f%% CPU, RSS %.0f kB (max %.0f kB); drops %.0f\n",
		bpf_stats ? bpf_stats : "-", isnan(ev) ? 0 : ev,
		snap_fmt_ns(ev > 0 ? rt / ev : NAN, a, sizeof(a)),
		snap_num(oh, "collector_cpu_pct"), snap_num(oh, "collector_rss_kb"),
		snap_num(oh, "collector_maxrss_kb"), nd);
	(void)b;
	if (un && json_object_array_length(un)) {
		size_t n = json_object_array_length(un);

		fprintf(out, "  unavailable (%zu):", n);
		for (size_t i = 0; i < n; i++)
			fprintf(out, "%s %s", i ? "," : "", str_or(json_object_array_get_idx(un, i), "?"));
		fprintf(out, "\n");
	}
}

int render_text(FILE *out, struct json_object *snap, const struct render_opts *o)
{
	static const struct render_opts defaults = { .histograms = true, .reasons = true, .overhead = true };
	struct json_object *tgt;
	struct kl_row *rows = NULL;
	size_t n = 0;
	char line[512], tbuf[64], title[256], tname[160], tpid_s[24], cover[40];
	const char *target = "all";
	uint64_t tpid;
	time_t t;
	struct tm tm;
	double start, dur;

	if (!o)
		o = &defaults;
	if (kl_vm_rows(snap, &rows, &n))
		return -1;
	kl_rows_sort(rows, n, KL_COL_PID);

	start = snap_num(snap, "start_time_ns");
	t = isnan(start) ? 0 : (time_t)(start / 1e9);
	localtime_r(&t, &tm);
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%d %H:%M:%S", &tm);
	tgt = snap_get_obj(snap, "target");
	if (snap_get_u64(tgt, "pid", &tpid)) {
		snprintf(tpid_s, sizeof(tpid_s), "%" PRIu64, tpid);
		target = tpid_s;
	} else if (snap_get_str(tgt, "name")) {
		target = snap_get_str(tgt, "name");
	}
	/* a missing duration is not "nan s"; 0 is 0.00s (rates then read "-") */
	dur = snap_num(snap, "duration_ns");
	if (isnan(dur))
		snprintf(cover, sizeof(cover), "-");
	else
		snprintf(cover, sizeof(cover), "%.2fs", dur / 1e9);
	/* title (a file name), target name: escaped like the VM names */
	kl_escape(title, sizeof(title), o->title ? o->title : KL_TOOL_NAME);
	kl_escape(tname, sizeof(tname), target);
	fprintf(out, "%s  %s  covering %s  target %s  VMs %zu\n", title, tbuf, cover, tname, n);
	kl_format_header(line, sizeof(line));
	fprintf(out, "%s\n", line);
	for (size_t i = 0; i < n; i++) {
		kl_format_row(&rows[i], line, sizeof(line));
		fprintf(out, "%s\n", line);
		if (o->per_vcpu) {
			struct kl_row *vr = NULL;
			size_t vn = 0;

			if (!kl_vcpu_rows(snap, rows[i].obj, &vr, &vn)) {
				for (size_t j = 0; j < vn; j++) {
					kl_format_row(&vr[j], line, sizeof(line));
					fprintf(out, "%s\n", line);
				}
			}
			free(vr);
		}
		if (o->reasons) {
			struct json_object *rs = snap_get_obj(rows[i].obj, "reasons");

			print_reason_line(out, "userspace exits", snap_get_obj(rs, "userspace_exit"));
			print_reason_line(out, "exits", snap_get_obj(rs, "exit"));
			render_pkvm_sync(out, rows[i].obj, o->per_vcpu, "    ");
		}
		if (o->histograms)
			print_hists(out, rows[i].obj);
	}
	if (!n)
		fprintf(out, "  (no KVM activity seen)\n");
	if (o->overhead)
		print_footer(out, snap);
	free(rows);
	return 0;
}
