// SPDX-License-Identifier: GPL-2.0-only
/*
 * prom.c - Prometheus text (0.0.4) / OpenMetrics 1.0.0 exposition of a
 * kvm-lazytop snapshot.  Used by `-o prom` (node_exporter textfile format)
 * and by the /metrics endpoint (http.c), which negotiates the format from
 * the Accept header (prom_accept_openmetrics()).
 *
 * Naming: kvm_lazytop_ prefix, base units (seconds, bytes), counters end
 * in _total (in OpenMetrics the counter's family is named without it).
 * One family per measure: the reason / path / op / outcome / dir / access
 * / status of an event are labels, never part of the name, and no family
 * repeats the sum of another one's series (Prometheus can sum).
 *
 * Histograms are exposed in seconds on a FIXED layout of 28 power-of-two
 * buckets, le = 2^p - 1 ns for p = 8..35 (255 ns .. 34.36 s), plus +Inf.
 * Every bound is a seam of the collector's log-linear buckets
 * (bpf/kl_hist.h: 2^p starts a bucket), so re-bucketing is exact: a
 * sample equal to a bound is in that bound's bucket, like Prometheus' le.
 * Per VM a series carries only +Inf, _sum and _count unless
 * --prom-vm-buckets (prom_opts.vm_buckets): every bucket is in the family
 * host_<name>, the sum over the VMs, so /metrics of 1024 VMs stays near 60
 * samples per VM (issue 11: <= 100).
 *
 * Label values are escaped per the exposition formats (backslash, double
 * quote, line feed) and sanitized: control characters and bytes that are
 * not valid UTF-8 become U+FFFD, so a VM name cannot break a scrape.
 *
 * process_* self metrics (CPU, RSS, start time, fds) are live values of
 * this process, written only on /metrics (prom_write_snap with .process):
 * in a node_exporter textfile they would clash with node_exporter's own.
 */
#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "kl_common.h"
#include "kl_names.h"
#include "prom_internal.h"
#include "commands.h"
#include "kl_model.h"

#define P "kvm_lazytop_"

struct pctx {
	FILE *out;
	bool om;		/* OpenMetrics */
	bool vm_buckets;	/* every bucket of the per-VM histograms */
	const struct kl_snap *s;
	char **pre;		/* per VM: its labels, escaped (vm_prefixes) */
};

/* ---- text helpers ---------------------------------------------------- */

/* HELP text (ours, ASCII): backslash and line feed escaped. */
static void put_help(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

/* Length of the valid UTF-8 sequence at s (1..4), 0 if none starts there. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;	/* continuation byte, overlong lead, > U+10FFFF */
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;	/* also stops at the terminating NUL */
	if ((c == 0xe0 && s[1] < 0xa0) ||	/* overlong */
	    (c == 0xed && s[1] > 0x9f) ||	/* UTF-16 surrogate */
	    (c == 0xf0 && s[1] < 0x90) ||	/* overlong */
	    (c == 0xf4 && s[1] > 0x8f))		/* > U+10FFFF */
		return 0;
	if (c == 0xc2 && s[1] < 0xa0)
		return 0;	/* C1 control U+0080..U+009F: treated as invalid */
	return n;
}

/*
 * A label value from the snapshot (VM name, comm, reason keys...):
 * backslash, double quote and line feed escaped as both exposition formats
 * require; every other control character (C0, DEL, C1) and every byte that
 * does not start a valid UTF-8 sequence is replaced by U+FFFD, so a name
 * holding terminal escapes or binary garbage can neither break the scrape
 * nor reach a terminal that displays the series.
 */
static void put_label_value(FILE *out, const char *v)
{
	const unsigned char *s = (const unsigned char *)v;
	size_t n;

	while (s && *s) {
		if (*s == '\\') {
			fputs("\\\\", out);
			s++;
		} else if (*s == '"') {
			fputs("\\\"", out);
			s++;
		} else if (*s == '\n') {
			fputs("\\n", out);
			s++;
		} else if (*s < 0x20 || *s == 0x7f || !(n = utf8_len(s))) {
			fputs("\xef\xbf\xbd", out);	/* U+FFFD */
			s++;
		} else {
			fwrite(s, 1, n, out);
			s += n;
		}
	}
}

/*
 * Exact decimal of n / 1e9 ("0.000001023", "2.5", "0"); the value
 * Prometheus parses is the nearest double, identical on every scrape.
 */
void prom_fmt_ns_seconds(uint64_t ns, char *buf, size_t len)
{
	uint64_t s = ns / 1000000000ull, frac = ns % 1000000000ull;
	char f[16];
	int i;

	if (!frac) {
		snprintf(buf, len, "%" PRIu64, s);
		return;
	}
	snprintf(f, sizeof(f), "%09" PRIu64, frac);
	for (i = 8; i > 0 && f[i] == '0'; i--)
		f[i] = 0;
	snprintf(buf, len, "%" PRIu64 ".%s", s, f);
}

static void family(struct pctx *c, const char *name, const char *type,
		   const char *help)
{
	size_t l = strlen(name);
	bool strip = c->om && !strcmp(type, "counter") && l > 6 &&
		     !strcmp(name + l - 6, "_total");

	fprintf(c->out, "# HELP %.*s ", (int)(strip ? l - 6 : l), name);
	put_help(c->out, help);
	fprintf(c->out, "\n# TYPE %.*s %s\n", (int)(strip ? l - 6 : l), name,
		type);
}

/* Labels are given as a NULL-terminated list of name, value pairs. */
struct lbl {
	const char *pre;	/* labels already escaped, written first */
	const char *k[10];
	const char *v[10];
	int n;
};

/* The family's header before its first sample only (*done: written). */
static void family_once(struct pctx *c, bool *done, const char *name, const char *type,
			const char *help)
{
	if (*done)
		return;
	family(c, name, type, help);
	*done = true;
}

static void lbl_add(struct lbl *l, const char *k, const char *v)
{
	if (l->n < 10 && v) {
		l->k[l->n] = k;
		l->v[l->n++] = v;
	}
}

static void put_labels(FILE *out, const struct lbl *l, const char *extra_k,
		       const char *extra_v)
{
	int i;

	if (!l->n && !extra_k && !l->pre)
		return;
	fputc('{', out);
	if (l->pre)
		fputs(l->pre, out);
	for (i = 0; i < l->n; i++) {
		fprintf(out, "%s%s=\"", i || l->pre ? "," : "", l->k[i]);
		put_label_value(out, l->v[i]);
		fputc('"', out);
	}
	if (extra_k) {
		fprintf(out, "%s%s=\"", l->n || l->pre ? "," : "", extra_k);
		put_label_value(out, extra_v);
		fputc('"', out);
	}
	fputc('}', out);
}

static void sample_u64(struct pctx *c, const char *name, const struct lbl *l,
		       uint64_t v)
{
	fputs(name, c->out);
	put_labels(c->out, l, NULL, NULL);
	fprintf(c->out, " %" PRIu64 "\n", v);
}

static void sample_str(struct pctx *c, const char *name, const struct lbl *l,
		       const char *v)
{
	fputs(name, c->out);
	put_labels(c->out, l, NULL, NULL);
	fprintf(c->out, " %s\n", v);
}

static void sample_dbl(struct pctx *c, const char *name, const struct lbl *l,
		       double v)
{
	fputs(name, c->out);
	put_labels(c->out, l, NULL, NULL);
	if (isnan(v))
		fputs(" NaN\n", c->out);
	else
		fprintf(c->out, " %.17g\n", v);
}

/* ---- VM labels ------------------------------------------------------- */

/*
 * vm_pid and vm_name of every VM, escaped once per exposition (a VM has
 * ~60 samples, and with 1024 VMs escaping them per sample was the larger
 * part of the render time).
 */
static int vm_prefixes(struct pctx *c, const struct kl_snap *s)
{
	c->s = s;
	c->pre = calloc(s->nr_vms ? s->nr_vms : 1, sizeof(*c->pre));
	if (!c->pre)
		return -1;
	for (size_t v = 0; v < s->nr_vms; v++) {
		const struct kl_snap_vm *vm = &s->vms[v];
		size_t len = 0;
		FILE *f = open_memstream(&c->pre[v], &len);

		if (!f)
			return -1;
		fprintf(f, "vm_pid=\"%" PRIu32 "\",vm_name=\"", vm->pid);
		put_label_value(f, vm->name[0] ? vm->name : vm->comm);
		fputc('"', f);
		if (fclose(f))
			return -1;
	}
	return 0;
}

static void vm_prefixes_free(struct pctx *c)
{
	for (size_t v = 0; c->pre && v < c->s->nr_vms; v++)
		free(c->pre[v]);
	free(c->pre);
}

static void vm_labels(const struct pctx *c, const struct kl_snap_vm *vm, struct lbl *l)
{
	memset(l, 0, sizeof(*l));
	l->pre = c->pre[vm - c->s->vms];
}

/* ---- counters -------------------------------------------------------- */

struct cdesc {
	const char *counter;	/* JSON name */
	const char *metric;	/* full metric name */
	const char *reason;	/* reason label or NULL */
	const char *path;	/* path label or NULL */
	const char *help;
	const char *dir;	/* dir label (before reason) or NULL */
	const char *rkey;	/* name of the reason label, NULL = "reason" */
};

#define H_LOAD "vCPU loads (kvm_arch_vcpu_load) by reason; path=fast when the CSR reload was skipped."
#define H_FAULT "G-stage page faults by the MMU path taken (fast/spurious) or why the fast path was refused."
#define H_PRED "vCPU (re)loads by the reload class predicted from scheduling history."
#define H_SYNC "arm64 pKVM vCPU context syncs between host and hypervisor (kvm_arm_pkvm_state_sync) by direction and reason; path=fast when the copy was skipped."
#define H_PTE_OP "Contended G-stage PTE updates by operation (op label)."
#define H_PTE_OUT "Contended G-stage PTE updates by outcome (outcome label)."
#define H_GFA "arm64 stage-2 guest faults handled by the host (kvm_guest_fault) by access."
#define H_GFS "arm64 stage-2 guest faults handled by the host (kvm_guest_fault) by fault status class."
/*
 * The per-reason rows, one per line of the name table (bpf/kvm_lazytop.h):
 * CD_PATH adds the path label of the line's PATH, CD_LABEL a reason label
 * named rkey (NULL: "reason"), CD_SYNC_DIR the pKVM pairs of a direction.
 */
#define PATH_FAST "fast"
#define PATH_SLOW "slow"
#define CD_PATH(pfx, metric, help, p, e, n, path) \
	{ pfx n, metric, n, PATH_##path, help, NULL, NULL },
#define CD_LABEL(pfx, metric, help, rkey, p, e, n, ...) \
	{ pfx n, metric, n, NULL, help, NULL, rkey },
#define CD_SYNC(d, dn, p, e, n, path, dir) KL_IF_##d##_##dir( \
	{ "pkvm_sync_" dn "_" n, P "pkvm_state_syncs_total", n, PATH_##path, H_SYNC, dn, NULL },)
#define CD_SYNC_DIR(ctx, p, d, dn, ...)	KL_PKVM_REASONS(CD_SYNC, d, dn)
static const struct cdesc cdescs[] = {
	{ "kvm_runs", P "kvm_runs_total", NULL, NULL, "KVM_RUN ioctls completed.", NULL, NULL },
	{ "exits", P "exits_total", NULL, NULL, "Guest exits (kvm_exit).", NULL, NULL },
	{ "userspace_exits", P "userspace_exits_total", NULL, NULL, "Exits to the VMM (kvm_userspace_exit).", NULL, NULL },
	{ "dirty_pages", P "dirty_pages_total", NULL, NULL, "Pages pushed to the KVM dirty ring (kvm_dirty_ring_push).", NULL, NULL },
	{ "preemptions", P "preemptions_total", NULL, NULL, "Involuntary switch-outs of vCPU threads inside KVM_RUN.", NULL, NULL },
	{ "sched_out", P "sched_outs_total", NULL, NULL, "All switch-outs of vCPU threads inside KVM_RUN.", NULL, NULL },
	{ "fast_page_faults", P "fast_page_faults_total", NULL, NULL, "x86 kvmmmu fast_page_fault events.", NULL, NULL },
	{ "fpu_loads", P "fpu_loads_total", NULL, NULL, "Guest FPU loads (kvm_fpu load=1).", NULL, NULL },
	{ "vcpu_put", P "vcpu_puts_total", NULL, NULL, "vCPU puts (kvm_riscv_vcpu_put).", NULL, NULL },
	KL_LOAD_REASONS(CD_PATH, "vcpu_load_", P "vcpu_loads_total", H_LOAD)
	KL_FAULT_REASONS(CD_PATH, "gstage_fault_", P "gstage_faults_total", H_FAULT)
	KL_RELOAD_PREDS(CD_LABEL, "reload_pred_", P "reload_predictions_total", H_PRED, NULL)
	{ "pte_update_events", P "pte_update_events_total", NULL, NULL, "Contended G-stage PTE updates (kvm_riscv_gstage_pte_update).", NULL, NULL },
	{ "pte_update_retries", P "pte_update_retries_total", NULL, NULL, "cmpxchg retries of contended G-stage PTE updates.", NULL, NULL },
	KL_PTE_OPS(CD_LABEL, "pte_update_", P "pte_update_ops_total", H_PTE_OP, "op")
	KL_PTE_OUTCOMES(CD_LABEL, "pte_update_", P "pte_update_outcomes_total", H_PTE_OUT, "outcome")
	KL_PKVM_DIRS(CD_SYNC_DIR, _)
	KL_GF_ACCESSES(CD_LABEL, "guest_fault_", P "guest_faults_total", H_GFA, "access")
	KL_GF_STATUSES(CD_LABEL, "guest_fault_", P "guest_faults_by_status_total", H_GFS, "status")
};
#define NCDESC (sizeof(cdescs) / sizeof(cdescs[0]))

/* The model's counter index of every cdescs[] row (-1: not in this build). */
static void cdesc_index(int *idx)
{
	for (size_t i = 0; i < NCDESC; i++)
		idx[i] = kl_snap_counter_index(cdescs[i].counter);
}

/* Counter i summed over the vCPU entries of vm with vcpu_id == id. */
static bool vcpu_counter(const struct kl_snap_vm *vm, int32_t id, unsigned int i, uint64_t *out)
{
	bool found = false;

	*out = 0;
	for (size_t k = 0; k < vm->nr_vcpus; k++) {
		const struct kl_snap_vcpu *v = &vm->vcpus[k];

		if (v->vcpu_id != id || !kl_snap_has(&v->c, i))
			continue;
		*out += v->c.c[i];
		found = true;
	}
	return found;
}

/* Distinct vcpu ids of a VM, in order of first appearance. */
static size_t vcpu_ids(const struct kl_snap_vm *vm, int32_t *ids, size_t max)
{
	size_t j, n = 0;

	for (size_t i = 0; i < vm->nr_vcpus; i++) {
		for (j = 0; j < n && ids[j] != vm->vcpus[i].vcpu_id; j++)
			;
		if (j == n && n < max)
			ids[n++] = vm->vcpus[i].vcpu_id;
	}
	return n;
}

/* The labels of one counter row: base, then vcpu, dir, reason, path. */
static void counter_sample(struct pctx *c, const struct cdesc *d, const struct lbl *base,
			   const char *vcpu, uint64_t x)
{
	struct lbl l = *base;

	lbl_add(&l, "vcpu", vcpu);
	lbl_add(&l, "dir", d->dir);
	lbl_add(&l, d->rkey ? d->rkey : "reason", d->reason);
	lbl_add(&l, "path", d->path);
	sample_u64(c, d->metric, &l, x);
}

/* The vCPU series of counter row d of one VM (--vcpu). */
static void counter_vcpus(struct pctx *c, const struct kl_snap_vm *vm, const struct cdesc *d,
			  unsigned int ci, const struct lbl *base, const int32_t *ids, size_t nids)
{
	for (size_t k = 0; k < nids; k++) {
		char idb[24];
		uint64_t x;

		if (!vcpu_counter(vm, ids[k], ci, &x))
			continue;
		if (ids[k] < 0)
			snprintf(idb, sizeof(idb), "unknown");
		else
			snprintf(idb, sizeof(idb), "%" PRId32, ids[k]);
		counter_sample(c, d, base, idb, x);
	}
}

static void emit_counter_family(struct pctx *c, const struct kl_snap *s, const int *idx,
				const char *metric, bool per_vcpu)
{
	bool header = false;

	for (size_t v = 0; v < s->nr_vms; v++) {
		const struct kl_snap_vm *vm = &s->vms[v];
		int32_t ids[512];
		size_t nids = per_vcpu ? vcpu_ids(vm, ids, 512) : 0;
		struct lbl base;

		vm_labels(c, vm, &base);
		for (size_t i = 0; i < NCDESC; i++) {
			const struct cdesc *d = &cdescs[i];

			if (idx[i] < 0 || strcmp(d->metric, metric) ||
			    !kl_snap_has(&vm->c, (unsigned int)idx[i]))
				continue;	/* unavailable: omitted */
			family_once(c, &header, metric, "counter", d->help);
			if (!nids)
				counter_sample(c, d, &base, NULL, vm->c.c[idx[i]]);
			else
				counter_vcpus(c, vm, d, (unsigned int)idx[i], &base, ids, nids);
		}
	}
}

static void emit_reasons(struct pctx *c, const struct kl_snap *s, int kind,
			 const char *metric, const char *help)
{
	bool header = false;

	for (size_t v = 0; v < s->nr_vms; v++) {
		const struct kl_snap_counts *r = kl_snap_vm_reasons(&s->vms[v], kind);
		struct lbl base;

		if (!r->present)
			continue;
		vm_labels(c, &s->vms[v], &base);
		family_once(c, &header, metric, "counter", help);
		for (size_t i = 0; i < r->nr; i++) {
			struct lbl l = base;

			lbl_add(&l, "reason", r->v[i].name);
			sample_u64(c, metric, &l, r->v[i].count);
		}
	}
}

/* ---- histograms -------------------------------------------------------- */

#define PROM_POW_MIN	8	/* first bound 2^8 - 1 ns = 255 ns */
#define PROM_POW_MAX	35	/* last bound 2^35 - 1 ns = 34.36 s */
#define PROM_NB		(PROM_POW_MAX - PROM_POW_MIN + 1)

size_t prom_bucket_bounds(uint64_t *b, size_t max)
{
	size_t n = 0;
	int p;

	/* 2^p starts a kl_hist bucket (s = 0) for every p >= 3 */
	for (p = PROM_POW_MIN; p <= PROM_POW_MAX && n < max; p++)
		b[n++] = (1ull << p) - 1;
	return n;
}

/* An exported histogram: cumulative counts at the fixed bounds. */
struct xhist {
	uint64_t cum[PROM_NB];
	uint64_t count, sum;	/* sum in ns */
};

static void xhist_of(const struct snap_hist *h, struct xhist *x)
{
	uint64_t b[PROM_NB];
	size_t i;

	prom_bucket_bounds(b, PROM_NB);
	for (i = 0; i < PROM_NB; i++)
		x->cum[i] = snap_hist_cum(h, b[i]);
	x->count = h->count;
	x->sum = h->sum;
}

/*
 * x -= y, for a remainder (all faults minus those with a known path).
 * The parts are read from BPF maps one after the other, so a live
 * snapshot may be a few events apart: clamp at 0 and keep the buckets
 * cumulative rather than ever exposing a negative or decreasing count.
 */
static void xhist_sub(struct xhist *x, const struct xhist *y)
{
	size_t i;

	for (i = 0; i < PROM_NB; i++) {
		x->cum[i] = x->cum[i] > y->cum[i] ? x->cum[i] - y->cum[i] : 0;
		if (i && x->cum[i] < x->cum[i - 1])
			x->cum[i] = x->cum[i - 1];
	}
	x->count = x->count > y->count ? x->count - y->count : 0;
	if (x->count < x->cum[PROM_NB - 1])
		x->count = x->cum[PROM_NB - 1];
	x->sum = x->sum > y->sum ? x->sum - y->sum : 0;
}

/* One histogram series; the finite buckets only when buckets is set. */
static void emit_hist(struct pctx *c, const char *metric, const struct lbl *l,
		      const struct xhist *x, bool buckets)
{
	char name[200], le[40];
	uint64_t bounds[PROM_NB];
	size_t i;

	prom_bucket_bounds(bounds, PROM_NB);
	snprintf(name, sizeof(name), "%s_bucket", metric);
	for (i = 0; buckets && i < PROM_NB; i++) {
		prom_fmt_ns_seconds(bounds[i], le, sizeof(le));
		fputs(name, c->out);
		put_labels(c->out, l, "le", le);
		fprintf(c->out, " %" PRIu64 "\n", x->cum[i]);
	}
	fputs(name, c->out);
	put_labels(c->out, l, "le", "+Inf");
	fprintf(c->out, " %" PRIu64 "\n", x->count);
	prom_fmt_ns_seconds(x->sum, le, sizeof(le));
	snprintf(name, sizeof(name), "%s_sum", metric);
	sample_str(c, name, l, le);
	snprintf(name, sizeof(name), "%s_count", metric);
	sample_u64(c, name, l, x->count);
}


/* Histogram h of vm as an xhist; false when absent. */
static bool vm_xhist(const struct kl_snap_vm *vm, unsigned int h, struct xhist *x)
{
	if (!vm->has_hist[h])
		return false;
	xhist_of(&vm->hist[h], x);
	return true;
}

/*
 * A histogram family: the per-VM series (every bucket only with
 * --prom-vm-buckets, else +Inf, _sum and _count: ~3 samples instead of 31
 * per series, so /metrics stays small with many VMs) and their sum over
 * the VMs by reason / path, with every bucket, in the family host_<name>
 * (quantiles over all VMs; a family of its own so that summing a family
 * never counts an event twice).
 */
struct hagg {
	char key[KL_SNAP_NAME_MAX];	/* reason / path label, "" for none */
	struct xhist x;
};

struct hfam {
	const char *metric, *help;
	const char *key;	/* label name of hagg.key */
	bool header;
	struct hagg *agg;
	size_t nr_agg;
	bool nomem;
};

static void xhist_add(struct xhist *x, const struct xhist *y)
{
	for (size_t i = 0; i < PROM_NB; i++)
		x->cum[i] += y->cum[i];
	x->count += y->count;
	x->sum += y->sum;
}

/* Add x to the host-wide series of label value key. */
static void hfam_add(struct hfam *f, const char *key, const struct xhist *x)
{
	struct hagg *a = NULL;

	for (size_t i = 0; i < f->nr_agg && !a; i++)
		if (!strcmp(f->agg[i].key, key))
			a = &f->agg[i];
	if (!a) {
		a = kl_snap_push(&f->agg, &f->nr_agg, sizeof(*a));
		if (!a) {
			f->nomem = true;	/* the write fails */
			return;
		}
		snprintf(a->key, sizeof(a->key), "%s", key);
	}
	xhist_add(&a->x, x);
}

/* One per-VM series of f (label f->key = key when key is not NULL). */
static void hfam_series(struct pctx *c, struct hfam *f, const struct lbl *base, const char *key,
			const struct xhist *x)
{
	struct lbl l = *base;

	if (!f->header) {
		family(c, f->metric, "histogram", f->help);
		f->header = true;
	}
	lbl_add(&l, f->key, key);
	emit_hist(c, f->metric, &l, x, c->vm_buckets);
	hfam_add(f, key ? key : "", x);
}

/* The host-wide family host_<name> of f; frees the sums. */
static int hfam_host(struct pctx *c, struct hfam *f)
{
	char name[160], help[400];
	struct lbl l = { .n = 0 };

	snprintf(name, sizeof(name), P "host_%s", f->metric + strlen(P));
	snprintf(help, sizeof(help), "%s Sum over the VMs.", f->help);
	if (f->nr_agg)
		family(c, name, "histogram", help);
	for (size_t i = 0; i < f->nr_agg; i++) {
		l.n = 0;
		if (f->agg[i].key[0])
			lbl_add(&l, f->key, f->agg[i].key);
		emit_hist(c, name, &l, &f->agg[i].x, true);
	}
	free(f->agg);
	return f->nomem ? -1 : 0;
}

/*
 * One histogram family over every VM.  Where the collector also splits the
 * histogram by reason (histograms_by.<hist>, an exact partition of
 * histograms.<hist>) there is one series per reason; the unlabelled total
 * only for a VM whose snapshot has no split, or an empty one (no event yet:
 * an available histogram is exposed, if only as 0), and for the histograms
 * that are never split (kvm_run_ns, offcpu_ns).
 */
static int emit_hist_vms(struct pctx *c, const struct kl_snap *s, unsigned int h,
			 const char *metric, const char *help)
{
	struct hfam f = { .metric = metric, .help = help, .key = "reason" };

	for (size_t v = 0; v < s->nr_vms; v++) {
		const struct kl_snap_vm *vm = &s->vms[v];
		const struct kl_snap_hist_by *by = &vm->by[h];
		struct lbl base;
		struct xhist x;

		vm_labels(c, vm, &base);
		if (!by->present || !by->nr) {
			if (vm_xhist(vm, h, &x))
				hfam_series(c, &f, &base, NULL, &x);
			continue;
		}
		if (!vm->has_hist[h])
			continue;	/* unavailable: omitted */
		for (size_t i = 0; i < by->nr; i++) {
			xhist_of(&by->v[i].h, &x);
			hfam_series(c, &f, &base, by->v[i].name, &x);
		}
	}
	return hfam_host(c, &f);
}

/*
 * fault_latency: one family with a path label.  fast / slow are the
 * collector's fault_latency_fast_ns / _slow_ns; "unknown" is the rest of
 * fault_latency_ns (store faults during which no kvm_riscv_gstage_fault
 * fired, or every fault when that tracepoint is not attached), so the
 * paths add up to all store guest-page faults.
 */
static int emit_fault_latency(struct pctx *c, const struct kl_snap *s)
{
	static const char *const paths[] = { "fast", "slow" };
	static const unsigned int hists[] = { KL_H_FAULT_FAST, KL_H_FAULT_SLOW };
	struct hfam f = { .metric = P "fault_latency_seconds", .key = "path",
			  .help = "Store guest-page-fault exit to re-entry time, by MMU path (fast, slow, unknown)." };

	for (size_t v = 0; v < s->nr_vms; v++) {
		const struct kl_snap_vm *vm = &s->vms[v];
		struct xhist all, part;
		bool have_all;
		struct lbl base;

		vm_labels(c, vm, &base);
		have_all = vm_xhist(vm, KL_H_FAULT, &all);
		for (size_t i = 0; i < 2; i++) {
			if (!vm_xhist(vm, hists[i], &part))
				continue;
			hfam_series(c, &f, &base, paths[i], &part);
			if (have_all)
				xhist_sub(&all, &part);
		}
		if (have_all)
			hfam_series(c, &f, &base, "unknown", &all);
	}
	return hfam_host(c, &f);
}

/* ---- tool / self-overhead ---------------------------------------------- */

static const char *const probe_states[] = { "attached", "missing", "refused" };

static void emit_probe_status(struct pctx *c, const struct kl_snap *s)
{
	struct lbl l;

	family(c, P "probe_status", "gauge",
	       "1 for the state each BPF signal is in (attached, missing, refused).");
	for (size_t sig = 0; sig < KL_SIG_NR; sig++) {
		if (!s->has_probe[sig])
			continue;
		for (size_t i = 0; i < KL_ARRAY_SIZE(probe_states); i++) {
			memset(&l, 0, sizeof(l));
			lbl_add(&l, "signal", kl_signals[sig].name);
			lbl_add(&l, "state", probe_states[i]);
			sample_u64(c, P "probe_status", &l,
				   !strncmp(s->probe[sig], probe_states[i], strlen(probe_states[i])));
		}
	}
}

static void emit_unavailable(struct pctx *c, const struct kl_snap *s)
{
	struct lbl l;

	family(c, P "metric_unavailable", "gauge",
	       "1 for each snapshot metric that the attached probes cannot produce.");
	for (size_t i = 0; i < s->nr_unavail; i++) {
		memset(&l, 0, sizeof(l));
		lbl_add(&l, "metric", s->unavail[i]);
		sample_u64(c, P "metric_unavailable", &l, 1);
	}
}

/* A sample of integer ns as exact decimal seconds. */
static void sample_ns(struct pctx *c, const char *name, const struct lbl *l, uint64_t ns)
{
	char sec[40];

	prom_fmt_ns_seconds(ns, sec, sizeof(sec));
	sample_str(c, name, l, sec);
}

/* Per element of overhead.programs[], labelled program= and signal=. */
static void emit_programs(struct pctx *c, const struct kl_snap_overhead *oh)
{
	static const char *const fam[2][2] = {
		{ P "bpf_program_run_time_seconds_total",
		  "Kernel time spent in each BPF program (needs bpf_stats)." },
		{ P "bpf_program_runs_total", "Invocations of each BPF program (needs bpf_stats)." },
	};
	struct lbl l;

	for (size_t m = 0; m < 2; m++) {
		family(c, fam[m][0], "counter", fam[m][1]);
		for (size_t i = 0; i < oh->nr_progs; i++) {
			memset(&l, 0, sizeof(l));
			lbl_add(&l, "program", oh->progs[i].name);
			lbl_add(&l, "signal", oh->progs[i].signal);
			if (m)
				sample_u64(c, fam[m][0], &l, oh->progs[i].run_cnt);
			else
				sample_ns(c, fam[m][0], &l, oh->progs[i].run_time_ns);
		}
	}
}

/* The overhead object: BPF run time and events, bpf_stats, drops. */
static void emit_overhead(struct pctx *c, const struct kl_snap_overhead *oh)
{
	struct lbl none = { .n = 0 }, l;

	family(c, P "bpf_run_time_seconds_total", "counter",
	       "Kernel time spent in all kvm-lazytop BPF programs.");
	sample_ns(c, P "bpf_run_time_seconds_total", &none, oh->bpf_run_time_ns);
	family(c, P "bpf_events_total", "counter", "BPF program invocations, all programs.");
	sample_u64(c, P "bpf_events_total", &none, oh->bpf_events);
	family(c, P "bpf_stats_enabled", "gauge", "1 when kernel BPF run-time statistics are enabled.");
	sample_u64(c, P "bpf_stats_enabled", &none, !strcmp(oh->bpf_stats, "enabled"));
	family(c, P "drops_total", "counter", "Events the BPF programs could not record, by reason.");
	for (unsigned int d = 0; d < KL_D_NR; d++) {
		if (!oh->has_drop[d])
			continue;
		memset(&l, 0, sizeof(l));
		lbl_add(&l, "reason", kl_drop_name(d));
		sample_u64(c, P "drops_total", &l, oh->drops[d]);
	}
}

static void emit_tool(struct pctx *c, const struct kl_snap *s)
{
	struct lbl none = { .n = 0 }, l = { .n = 0 };

	family(c, P "build_info", "gauge", "kvm-lazytop version and host, value 1.");
	lbl_add(&l, "version", s->tool_version);
	lbl_add(&l, "arch", s->arch);
	lbl_add(&l, "kernel", s->kernel);
	lbl_add(&l, "schema_version", s->schema_version);
	sample_u64(c, P "build_info", &l, 1);
	emit_probe_status(c, s);
	if (s->nr_unavail)
		emit_unavailable(c, s);
	if (s->oh.present && s->oh.nr_progs)
		emit_programs(c, &s->oh);
	if (s->oh.present)
		emit_overhead(c, &s->oh);
	if (s->has_duration) {
		family(c, P "snapshot_duration_seconds", "gauge", "Time covered by the exposed counters.");
		sample_dbl(c, P "snapshot_duration_seconds", &none, (double)s->duration_ns / 1e9);
	}
}

/* One gauge family, a sample per VM: fn's value of each VM. */
static void emit_vm_gauge(struct pctx *c, const struct kl_snap *s, const char *name,
			  const char *help, uint64_t (*fn)(const struct kl_snap_vm *vm))
{
	family(c, name, "gauge", help);
	for (size_t v = 0; v < s->nr_vms; v++) {
		struct lbl l;

		vm_labels(c, &s->vms[v], &l);
		sample_u64(c, name, &l, fn(&s->vms[v]));
	}
}

static uint64_t vm_exited(const struct kl_snap_vm *vm)
{
	return vm->exited;
}

static uint64_t vm_vcpus(const struct kl_snap_vm *vm)
{
	int32_t ids[512];

	return vcpu_ids(vm, ids, 512);
}

static void emit_vm_info(struct pctx *c, const struct kl_snap *s)
{
	bool header = false;

	if (!s->nr_vms)
		return;
	family(c, P "vm_info", "gauge", "One series per watched VM, value 1.");
	for (size_t v = 0; v < s->nr_vms; v++) {
		struct lbl l;

		vm_labels(c, &s->vms[v], &l);
		lbl_add(&l, "comm", s->vms[v].comm);
		sample_u64(c, P "vm_info", &l, 1);
	}
	emit_vm_gauge(c, s, P "vm_exited", "1 when the VM process has exited.", vm_exited);
	emit_vm_gauge(c, s, P "vm_vcpus", "vCPU threads seen per VM.", vm_vcpus);
	for (size_t v = 0; v < s->nr_vms; v++) {
		const struct kl_snap_vm *vm = &s->vms[v];
		uint64_t ok, total;
		struct lbl l;

		if (!vm->has_pred)
			continue;
		kl_snap_pred_totals(&vm->c, &ok, &total);
		if (!total)
			continue;	/* no agreement without a compared load */
		family_once(c, &header, P "reload_prediction_agreement_ratio", "gauge",
			    "Fraction of vCPU loads whose predicted class matched the kernel's reason.");
		vm_labels(c, vm, &l);
		sample_dbl(c, P "reload_prediction_agreement_ratio", &l, kl_snap_share(ok, total));
	}
}

/* The skip share of the pKVM state syncs of each direction of every VM. */
static void emit_pkvm_skip(struct pctx *c, const struct kl_snap *s)
{
	bool header = false;

	for (size_t v = 0; v < s->nr_vms; v++) {
		const struct kl_snap_vm *vm = &s->vms[v];
		struct lbl base;

		vm_labels(c, vm, &base);
		for (unsigned int d = 0; d < KL_PKVM_DIR_NR; d++) {
			const uint64_t *row = vm->c.c + KL_C_PKVM_SYNC + d * KL_PKVM_REASON_NR;
			struct lbl l = base;
			uint64_t ev = 0, sk = 0;

			for (unsigned int r = 0; vm->has_pkvm[d] && r < KL_PKVM_REASON_NR; r++) {
				ev += row[r];
				sk += kl_pkvm_reason_is_skip(r) ? row[r] : 0;
			}
			if (!ev)
				continue;	/* no event in that direction */
			family_once(c, &header, P "pkvm_state_sync_skip_ratio", "gauge",
				    "Share of arm64 pKVM state sync decisions of a direction that skipped the copy (skip_* reasons).");
			lbl_add(&l, "dir", kl_pkvm_dir_name(d));
			sample_dbl(c, P "pkvm_state_sync_skip_ratio", &l, (double)sk / (double)ev);
		}
	}
}

/* ---- process_* self metrics (live, /metrics only) ---------------------- */

/*
 * The standard process collector's names and meanings (client_golang,
 * client_python): CPU time, resident and virtual memory, start time since
 * the epoch, open and maximum file descriptors of this process.
 */
static void emit_process(struct pctx *c)
{
	struct lbl none = { .n = 0 };
	unsigned long long utime, stime, start, vsize;
	long rss, tck = sysconf(_SC_CLK_TCK), pg = sysconf(_SC_PAGESIZE);
	struct timespec rt, bt;
	struct rlimit rl;
	char buf[1024], num[40], *p;
	struct dirent *de;
	size_t n, fds = 0;
	FILE *f;
	DIR *d;

	f = fopen("/proc/self/stat", "r");
	if (!f)
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');	/* comm may hold spaces and parentheses */
	if (!p || tck <= 0 || pg <= 0 ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
		   "%*d %*d %*d %*d %*d %*d %llu %llu %ld", &utime, &stime, &start,
		   &vsize, &rss) != 5)
		return;
	family(c, "process_cpu_seconds_total", "counter",
	       "Total user and system CPU time spent in seconds.");
	prom_fmt_ns_seconds((utime + stime) * (1000000000ull / (uint64_t)tck), num, sizeof(num));
	sample_str(c, "process_cpu_seconds_total", &none, num);
	family(c, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
	sample_u64(c, "process_resident_memory_bytes", &none, (uint64_t)rss * (uint64_t)pg);
	family(c, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
	sample_u64(c, "process_virtual_memory_bytes", &none, vsize);
	/*
	 * boot time = now (realtime) - now (boottime), start is in ticks since
	 * boot; truncated to the tick so that every scrape gives the same value
	 */
	if (!clock_gettime(CLOCK_REALTIME, &rt) && !clock_gettime(CLOCK_BOOTTIME, &bt)) {
		uint64_t tick = 1000000000ull / (uint64_t)tck;
		uint64_t ns = ((uint64_t)rt.tv_sec - (uint64_t)bt.tv_sec) * 1000000000ull +
			      (uint64_t)rt.tv_nsec - (uint64_t)bt.tv_nsec + start * tick;

		family(c, "process_start_time_seconds", "gauge",
		       "Start time of the process since unix epoch in seconds.");
		prom_fmt_ns_seconds(ns / tick * tick, num, sizeof(num));
		sample_str(c, "process_start_time_seconds", &none, num);
	}
	d = opendir("/proc/self/fd");
	if (d) {
		while ((de = readdir(d)))
			fds += de->d_name[0] != '.';
		closedir(d);
		family(c, "process_open_fds", "gauge", "Number of open file descriptors.");
		sample_u64(c, "process_open_fds", &none, fds ? fds - 1 : 0);	/* minus d's own */
	}
	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		family(c, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
		if (rl.rlim_cur == RLIM_INFINITY)
			sample_str(c, "process_max_fds", &none, "+Inf");
		else
			sample_u64(c, "process_max_fds", &none, (uint64_t)rl.rlim_cur);
	}
}

/* ---- content negotiation ------------------------------------------------ */

/*
 * True when an HTTP Accept header prefers OpenMetrics 1.0.0 to the text
 * format: some application/openmetrics-text range with version 1.0.0 (or
 * no version) and q > 0 whose q is at least that of every range the text
 * format matches (text/plain, text/ANY, ANY/ANY).  Prometheus asks for
 * OpenMetrics first and gets it; curl (no Accept header, or ANY/ANY) gets
 * the text format, and so does a client that only knows version 0.0.1.
 */
bool prom_accept_openmetrics(const char *accept)
{
	double best_om = 0, best_text = 0;
	const char *s = accept;

	while (s && *s) {
		size_t len = strcspn(s, ",");
		char range[256], *save = NULL, *tok, *type;
		bool om, text, version_ok = true;
		double q = 1;

		snprintf(range, sizeof(range), "%.*s", (int)(len < 255 ? len : 255), s);
		s += len + (s[len] == ',');
		type = strtok_r(range, ";", &save);
		if (!type)
			continue;
		type += strspn(type, " \t");
		type[strcspn(type, " \t")] = 0;
		om = !strcasecmp(type, "application/openmetrics-text");
		text = !strcasecmp(type, "text/plain") || !strcasecmp(type, "text/*") ||
		       !strcmp(type, "*/*");
		while ((tok = strtok_r(NULL, ";", &save))) {
			char *eq, *k, *val;

			tok += strspn(tok, " \t");
			eq = strchr(tok, '=');
			if (!eq)
				continue;
			*eq = 0;
			k = tok;
			k[strcspn(k, " \t")] = 0;
			val = eq + 1;
			val += strspn(val, " \t\"");
			val[strcspn(val, " \t\"")] = 0;
			if (!strcasecmp(k, "q"))
				q = strtod(val, NULL);
			else if (!strcasecmp(k, "version"))
				version_ok = !strcmp(val, "1.0.0");
		}
		if (!(q > 0))
			continue;
		if (om && version_ok && q > best_om)
			best_om = q;
		if (text && q > best_text)
			best_text = q;
	}
	return best_om > 0 && best_om >= best_text;
}

int prom_write_snap(FILE *out, const struct kl_snap *s, const struct prom_opts *o)
{
	struct pctx c = { .out = out, .om = o->openmetrics, .vm_buckets = o->vm_buckets };
	int idx[NCDESC], err = 0, lock;
	size_t i, j;

	cdesc_index(idx);
	if (vm_prefixes(&c, s)) {
		vm_prefixes_free(&c);
		return -1;
	}
	/* one writer: no stream lock per character (restored below) */
	lock = __fsetlocking(out, FSETLOCKING_BYCALLER);
	emit_tool(&c, s);
	emit_vm_info(&c, s);
	for (i = 0; i < NCDESC; i++) {
		bool first = true;

		for (j = 0; j < i && first; j++)
			first = strcmp(cdescs[j].metric, cdescs[i].metric) != 0;
		if (first)
			emit_counter_family(&c, s, idx, cdescs[i].metric, o->per_vcpu);
	}
	emit_pkvm_skip(&c, s);
	emit_reasons(&c, s, 0, P "userspace_exit_reasons_total",
		     "Exits to the VMM by KVM_EXIT_* reason.");
	emit_reasons(&c, s, 1, P "exit_reasons_total",
		     "Guest exits by decoded architectural cause.");
	err |= emit_fault_latency(&c, s);
	err |= emit_hist_vms(&c, s, KL_H_EXIT, P "exit_latency_seconds",
			     "Guest exit to re-entry time (kvm_exit to kvm_entry), by exit cause.");
	err |= emit_hist_vms(&c, s, KL_H_VCPU_LOAD, P "vcpu_load_seconds",
			     "kvm_arch_vcpu_load duration, by load reason.");
	err |= emit_hist_vms(&c, s, KL_H_KVM_RUN, P "kvm_run_seconds", "KVM_RUN ioctl duration.");
	err |= emit_hist_vms(&c, s, KL_H_OFFCPU, P "offcpu_seconds",
			     "Time vCPU threads spent switched out inside KVM_RUN.");
	if (o->process)
		emit_process(&c);
	if (o->openmetrics)
		fputs("# EOF\n", out);
	vm_prefixes_free(&c);
	err |= ferror(out);
	__fsetlocking(out, lock);
	return err ? -1 : 0;
}

int prom_write(FILE *out, const struct kl_snap *s, bool per_vcpu, bool vm_buckets)
{
	struct prom_opts o = { .per_vcpu = per_vcpu, .vm_buckets = vm_buckets };

	return prom_write_snap(out, s, &o);
}
