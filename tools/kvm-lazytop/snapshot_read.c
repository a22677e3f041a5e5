// SPDX-License-Identifier: GPL-2.0
/*
 * snapshot_read.c - json-c reader and helpers for kvm-lazytop snapshots.
 * The format is defined in SNAPSHOT.md and snapshot.schema.json.
 */
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "snapshot_read.h"

#define SNAP_MAX_BUCKETS	4096

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	char *p;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	for (p = err; *p; p++)	/* keep it one line */
		if (*p == '\n' || *p == '\r')
			*p = ' ';
}

int snap_check(struct json_object *snap, char *err, size_t errlen)
{
	struct json_object *v, *vms;
	const char *ver, *dot;
	char *end;
	long major;
	size_t i;

	if (!snap || !json_object_is_type(snap, json_type_object)) {
		seterr(err, errlen, "snapshot: top level is not a JSON object");
		return -1;
	}
	if (!json_object_object_get_ex(snap, "schema_version", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		seterr(err, errlen, "snapshot: missing string \"schema_version\"");
		return -1;
	}
	ver = json_object_get_string(v);
	dot = strchr(ver, '.');
	errno = 0;
	major = strtol(ver, &end, 10);
	if (!dot || end != dot || end == ver || errno || major < 0 ||
	    !dot[1] || strspn(dot + 1, "0123456789") != strlen(dot + 1)) {
		seterr(err, errlen,
		       "snapshot: malformed schema_version \"%.32s\" (want MAJOR.MINOR)",
		       ver);
		return -1;
	}
	if (major != SNAP_SCHEMA_MAJOR) {
		seterr(err, errlen,
		       "snapshot: unsupported schema_version %.32s (this kvm-lazytop reads %d.x)",
		       ver, SNAP_SCHEMA_MAJOR);
		return -1;
	}
	if (!json_object_object_get_ex(snap, "vms", &vms) ||
	    !json_object_is_type(vms, json_type_array)) {
		seterr(err, errlen, "snapshot: missing array \"vms\"");
		return -1;
	}
	for (i = 0; i < json_object_array_length(vms); i++) {
		struct json_object *vm = json_object_array_get_idx(vms, i);
		struct json_object *c;

		if (!json_object_is_type(vm, json_type_object)) {
			seterr(err, errlen, "snapshot: vms[%zu] is not an object", i);
			return -1;
		}
		if (json_object_object_get_ex(vm, "counters", &c) &&
		    !json_object_is_type(c, json_type_object)) {
			seterr(err, errlen, "snapshot: vms[%zu].counters is not an object", i);
			return -1;
		}
		if (json_object_object_get_ex(vm, "histograms", &c) &&
		    !json_object_is_type(c, json_type_object)) {
			seterr(err, errlen, "snapshot: vms[%zu].histograms is not an object", i);
			return -1;
		}
	}
	return 0;
}

struct json_object *snap_parse(const char *buf, size_t len, char *err,
			       size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *o;
	enum json_tokener_error jerr;

	if (len > SNAP_MAX_FILE_SIZE || len > INT32_MAX) {
		seterr(err, errlen, "snapshot: larger than %u bytes", SNAP_MAX_FILE_SIZE);
		return NULL;
	}
	tok = json_tokener_new_ex(64);
	if (!tok) {
		seterr(err, errlen, "snapshot: out of memory");
		return NULL;
	}
	o = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_continue) {
		json_object_put(o);
		o = NULL;
		seterr(err, errlen, "snapshot: invalid JSON: unexpected end of input");
	} else if (jerr != json_tokener_success) {
		seterr(err, errlen, "snapshot: invalid JSON at offset %zu: %s",
		       json_tokener_get_parse_end(tok), json_tokener_error_desc(jerr));
		o = NULL;
	} else {
		size_t end = json_tokener_get_parse_end(tok);

		while (end < len && strchr(" \t\r\n", buf[end]))
			end++;
		if (end < len) {
			seterr(err, errlen, "snapshot: trailing data after JSON at offset %zu", end);
			json_object_put(o);
			o = NULL;
		}
	}
	json_tokener_free(tok);
	if (o && snap_check(o, err, errlen)) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

struct json_object *snap_load(const char *path, char *err, size_t errlen)
{
	struct json_object *o;
	char *buf = NULL, tmp[256];
	size_t len = 0, cap = 0, n;
	FILE *f;

	f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (len + 65536 > cap) {
			char *nb;

			cap = cap ? cap * 2 : 65536 * 2;
			if (cap > SNAP_MAX_FILE_SIZE + 65536u * 2) {
				seterr(err, errlen, "%s: larger than %u bytes", path,
				       SNAP_MAX_FILE_SIZE);
				goto fail;
			}
			nb = realloc(buf, cap);
			if (!nb) {
				seterr(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		seterr(err, errlen, "%s: read error", path);
		goto fail;
	}
	if (f != stdin)
		fclose(f);
	o = snap_parse(buf, len, tmp, sizeof(tmp));
	if (!o)
		seterr(err, errlen, "%s: %s", path, tmp);
	free(buf);
	return o;
fail:
	if (f != stdin)
		fclose(f);
	free(buf);
	return NULL;
}

bool snap_json_u64(struct json_object *v, uint64_t *out)
{
	if (!v || !json_object_is_type(v, json_type_int))
		return false;
	errno = 0;
	if (json_object_get_int64(v) < 0)
		return false;
	*out = json_object_get_uint64(v);
	return true;
}

bool snap_get_u64(struct json_object *obj, const char *key, uint64_t *out)
{
	struct json_object *v;

	if (!obj || !json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &v))
		return false;
	return snap_json_u64(v, out);
}

bool snap_get_num(struct json_object *obj, const char *key, double *out)
{
	struct json_object *v;

	if (!obj || !json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &v))
		return false;
	if (json_object_is_type(v, json_type_int)) {
		uint64_t u;

		if (snap_json_u64(v, &u))
			*out = (double)u;
		else
			*out = (double)json_object_get_int64(v);
		return true;
	}
	if (json_object_is_type(v, json_type_double)) {
		*out = json_object_get_double(v);
		return true;
	}
	return false;
}

const char *snap_get_str(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!obj || !json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

struct json_object *snap_get_obj(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!obj || !json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_object))
		return NULL;
	return v;
}

struct json_object *snap_get_arr(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!obj || !json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

bool snap_unavailable(struct json_object *snap, const char *name)
{
	struct json_object *u = snap_get_arr(snap, "unavailable");
	size_t i;

	for (i = 0; u && i < json_object_array_length(u); i++) {
		struct json_object *e = json_object_array_get_idx(u, i);

		if (json_object_is_type(e, json_type_string) &&
		    !strcmp(json_object_get_string(e), name))
			return true;
	}
	return false;
}

/* ---- histograms ---------------------------------------------------- */

uint64_t snap_bucket_lo(uint64_t le)
{
	/* Buckets of bpf/kl_hist.h: 0..7 exact, then 8 sub-buckets per 2^p. */
	uint64_t v, width;
	int p;

	if (le == UINT64_MAX)
		return (uint64_t)(8 + 7) << (40 - 3);	/* last bucket's lo */
	if (le < 8)
		return le;
	v = le;
	p = 63 - __builtin_clzll(v);
	width = 1ull << (p - 3);
	return le - (le % width);
}

int snap_hist_parse(struct json_object *h, struct snap_hist *out, char *err,
		    size_t errlen)
{
	struct json_object *arr;
	uint64_t total = 0, prev = 0;
	size_t i, n;

	memset(out, 0, sizeof(*out));
	if (!h || !json_object_is_type(h, json_type_object)) {
		seterr(err, errlen, "histogram is not an object");
		return -1;
	}
	if (!snap_get_u64(h, "count", &out->count) ||
	    !snap_get_u64(h, "sum", &out->sum)) {
		seterr(err, errlen, "histogram without integer count/sum");
		return -1;
	}
	arr = snap_get_arr(h, "buckets");
	if (!arr) {
		seterr(err, errlen, "histogram without \"buckets\" array");
		return -1;
	}
	n = json_object_array_length(arr);
	if (n > SNAP_MAX_BUCKETS) {
		seterr(err, errlen, "histogram with %zu buckets (max %d)", n,
		       SNAP_MAX_BUCKETS);
		return -1;
	}
	out->b = calloc(n ? n : 1, sizeof(*out->b));
	if (!out->b) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		struct json_object *b = json_object_array_get_idx(arr, i);
		uint64_t le, c;

		if (!snap_get_u64(b, "le", &le) || !snap_get_u64(b, "count", &c)) {
			seterr(err, errlen, "bucket %zu: needs integer le and count", i);
			goto fail;
		}
		if (i && le <= prev) {
			seterr(err, errlen, "bucket %zu: le %llu not ascending", i,
			       (unsigned long long)le);
			goto fail;
		}
		if (total + c < total) {
			seterr(err, errlen, "bucket counts overflow");
			goto fail;
		}
		prev = le;
		total += c;
		out->b[out->n].le = le;
		out->b[out->n].count = c;
		out->n++;
	}
	if (total != out->count) {
		seterr(err, errlen, "bucket counts add up to %llu, count is %llu",
		       (unsigned long long)total, (unsigned long long)out->count);
		goto fail;
	}
	return 0;
fail:
	snap_hist_free(out);
	return -1;
}

void snap_hist_free(struct snap_hist *h)
{
	free(h->b);
	memset(h, 0, sizeof(*h));
}

int snap_hist_merge(struct snap_hist *dst, const struct snap_hist *src)
{
	struct snap_bucket *m;
	size_t i = 0, j = 0, k = 0;

	m = calloc(dst->n + src->n + 1, sizeof(*m));
	if (!m)
		return -1;
	while (i < dst->n || j < src->n) {
		if (j >= src->n || (i < dst->n && dst->b[i].le < src->b[j].le)) {
			m[k++] = dst->b[i++];
		} else if (i >= dst->n || src->b[j].le < dst->b[i].le) {
			m[k++] = src->b[j++];
		} else {
			m[k].le = dst->b[i].le;
			m[k++].count = dst->b[i++].count + src->b[j++].count;
		}
	}
	free(dst->b);
	dst->b = m;
	dst->n = k;
	dst->count += src->count;
	dst->sum += src->sum;
	return 0;
}

uint64_t snap_hist_cum(const struct snap_hist *h, uint64_t le)
{
	uint64_t c = 0;
	size_t i;

	for (i = 0; i < h->n && h->b[i].le <= le; i++)
		c += h->b[i].count;
	return c;
}

double snap_hist_quantile(const struct snap_hist *h, double q)
{
	uint64_t rank, cum = 0;
	size_t i;

	if (!h->count || !h->n || isnan(q))
		return NAN;
	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	rank = (uint64_t)ceil(q * (double)h->count);
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	for (i = 0; i < h->n; i++) {
		const struct snap_bucket *b = &h->b[i];

		if (cum + b->count >= rank && b->count) {
			uint64_t lo = snap_bucket_lo(b->le);
			double v;

			if (b->le == UINT64_MAX || lo > b->le)
				return (double)lo;
			v = (double)lo + (double)(b->le - lo) *
				(double)(rank - cum) / (double)b->count;
			if (v < (double)lo)
				v = (double)lo;
			if (v > (double)b->le)
				v = (double)b->le;
			return v;
		}
		cum += b->count;
	}
	return (double)h->b[h->n - 1].le;
}

void snap_hist_compare(const struct snap_hist *a, const struct snap_hist *b,
		       struct snap_cmp *out)
{
	double na = (double)a->count, nb = (double)b->count;
	double ca = 0, cb = 0, d = 0, dp = 0, u = 0, ties = 0;
	size_t i = 0, j = 0;

	memset(out, 0, sizeof(*out));
	out->ks_p = out->ks_p_plus = out->mw_p_plus = 1;
	out->mw_auc = 0.5;
	if (!a->count || !b->count)
		return;
	while (i < a->n || j < b->n) {
		double xa = 0, xb = 0;

		if (j >= b->n || (i < a->n && a->b[i].le < b->b[j].le)) {
			xa = (double)a->b[i++].count;
		} else if (i >= a->n || b->b[j].le < a->b[i].le) {
			xb = (double)b->b[j++].count;
		} else {
			xa = (double)a->b[i++].count;
			xb = (double)b->b[j++].count;
		}
		/* Mann-Whitney: b beats every a below, ties at half. */
		u += xb * (ca + xa / 2);
		ties += (xa + xb) * (xa + xb) * (xa + xb) - (xa + xb);
		ca += xa;
		cb += xb;
		if (fabs(ca / na - cb / nb) > d)
			d = fabs(ca / na - cb / nb);
		if (ca / na - cb / nb > dp)
			dp = ca / na - cb / nb;
	}
	out->ks_d = d;
	out->ks_d_plus = dp;
	{
		double ne = na * nb / (na + nb), sq = sqrt(ne);
		double lam = (sq + 0.12 + 0.11 / sq) * d, sum = 0, sign = 1;
		int k;

		for (k = 1; k <= 100; k++) {
			double t = sign * exp(-2.0 * k * k * lam * lam);

			sum += t;
			if (fabs(t) < 1e-12)
				break;
			sign = -sign;
		}
		out->ks_p = lam < 0.2 ? 1.0 : fmin(1.0, fmax(0.0, 2 * sum));
		out->ks_p_plus = fmin(1.0, exp(-2.0 * ne * dp * dp));
	}
	{
		double n = na + nb, mean = na * nb / 2;
		double var = na * nb / 12.0 * ((n + 1) - ties / (n * (n - 1)));

		out->mw_auc = u / (na * nb);
		out->mw_z = var > 0 ? (u - mean) / sqrt(var) : 0;
		out->mw_p_plus = 0.5 * erfc(out->mw_z / sqrt(2.0));
	}
}

/* ---- aggregation over VMs ------------------------------------------ */

bool snap_counter_sum(struct json_object *snap, const char *name,
		      uint64_t *out)
{
	struct json_object *vms = snap_get_arr(snap, "vms");
	bool found = false;
	size_t i;

	*out = 0;
	for (i = 0; vms && i < json_object_array_length(vms); i++) {
		struct json_object *c;
		uint64_t v;

		c = snap_get_obj(json_object_array_get_idx(vms, i), "counters");
		if (snap_get_u64(c, name, &v)) {
			*out += v;
			found = true;
		}
	}
	/* No VM at all: a counter that is not unavailable reads as 0. */
	if (!found && (!vms || !json_object_array_length(vms)) &&
	    !snap_unavailable(snap, name))
		found = true;
	return found;
}

static int hist_sum_path(struct json_object *snap, const char *group,
			 const char *name, const char *sub,
			 struct snap_hist *out, char *err, size_t errlen)
{
	struct json_object *vms = snap_get_arr(snap, "vms");
	int found = 0;
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; vms && i < json_object_array_length(vms); i++) {
		struct json_object *g, *h;
		struct snap_hist one;
		char e[160];

		g = snap_get_obj(json_object_array_get_idx(vms, i), group);
		h = snap_get_obj(g, name);
		if (h && sub)
			h = snap_get_obj(h, sub);
		if (!h)
			continue;
		if (snap_hist_parse(h, &one, e, sizeof(e))) {
			seterr(err, errlen, "vms[%zu].%s.%s%s%s: %s", i, group, name,
			       sub ? "." : "", sub ? sub : "", e);
			snap_hist_free(out);
			return -1;
		}
		if (snap_hist_merge(out, &one)) {
			snap_hist_free(&one);
			snap_hist_free(out);
			seterr(err, errlen, "out of memory");
			return -1;
		}
		snap_hist_free(&one);
		found = 1;
	}
	return found;
}

int snap_hist_sum(struct json_object *snap, const char *name,
		  struct snap_hist *out, char *err, size_t errlen)
{
	return hist_sum_path(snap, "histograms", name, NULL, out, err, errlen);
}

int snap_hist_sum_by(struct json_object *snap, const char *name,
		     const char *sub, struct snap_hist *out, char *err,
		     size_t errlen)
{
	return hist_sum_path(snap, "histograms_by", name, sub, out, err, errlen);
}

/* ---- names ---------------------------------------------------------- */

#define LOAD(x) "vcpu_load_" #x
#define GF(x) "gstage_fault_" #x
static const char *const fam_load[] = {
	LOAD(fast), LOAD(first_load), LOAD(other_pcpu), LOAD(csr_dirty),
	LOAD(cpu_reset), LOAD(other_vcpu), NULL };
static const char *const fam_load_fast[] = { LOAD(fast), NULL };
static const char *const fam_fault[] = {
	GF(fast), GF(spurious), GF(not_write), GF(not_logging), GF(no_leaf),
	GF(huge_leaf), GF(not_host_writable), GF(inval_retry), GF(pte_changed),
	GF(retry_limit), NULL };
static const char *const fam_fault_fast[] = { GF(fast), GF(spurious), NULL };
static const char *const fam_pred[] = {
	"reload_pred_same_cpu", "reload_pred_migrated", "reload_pred_other_vcpu",
	NULL };
static const char *const fam_pred_fast[] = { "reload_pred_same_cpu", NULL };
static const char *const fam_op[] = {
	"pte_update_mkwrite", "pte_update_wrprotect", NULL };
static const char *const fam_outcome[] = {
	"pte_update_updated", "pte_update_noop", "pte_update_abort_not_leaf",
	"pte_update_abort_retries", NULL };
static const char *const fam_outcome_fast[] = { "pte_update_updated", NULL };
static const char *const fam_none[] = { NULL };
#define SY(d, r) "pkvm_sync_" #d "_" #r
static const char *const fam_sync_hyp[] = {
	SY(to_hyp, flush_dirty), SY(to_hyp, skip_hyp_current), NULL };
static const char *const fam_sync_hyp_skip[] = { SY(to_hyp, skip_hyp_current), NULL };
static const char *const fam_sync_host[] = {
	SY(to_host, sync_trap), SY(to_host, sync_serror), SY(to_host, sync_exit),
	SY(to_host, sync_debug), SY(to_host, sync_put), SY(to_host, sync_adjust_pc),
	SY(to_host, skip_irq), SY(to_host, skip_host_current), NULL };
static const char *const fam_sync_host_skip[] = {
	SY(to_host, skip_irq), SY(to_host, skip_host_current), NULL };
static const char *const fam_gf_access[] = {
	"guest_fault_read", "guest_fault_write", "guest_fault_exec", NULL };
static const char *const fam_gf_status[] = {
	"guest_fault_translation", "guest_fault_access_flag", "guest_fault_permission",
	"guest_fault_other_status", NULL };

const struct snap_family snap_families[] = {
	{ "vcpu_load", "vcpu_load_", fam_load, fam_load_fast },
	{ "gstage_fault", "gstage_fault_", fam_fault, fam_fault_fast },
	{ "reload_pred", "reload_pred_", fam_pred, fam_pred_fast },
	{ "pte_update_op", "pte_update_", fam_op, fam_none },
	{ "pte_update_outcome", "pte_update_", fam_outcome, fam_outcome_fast },
	/* arm64 pKVM: "fast" = the state copy was skipped */
	{ "pkvm_sync_to_hyp", "pkvm_sync_to_hyp_", fam_sync_hyp, fam_sync_hyp_skip },
	{ "pkvm_sync_to_host", "pkvm_sync_to_host_", fam_sync_host, fam_sync_host_skip },
	{ "guest_fault_access", "guest_fault_", fam_gf_access, fam_none },
	{ "guest_fault_status", "guest_fault_", fam_gf_status, fam_none },
};
const size_t snap_nfamilies = sizeof(snap_families) / sizeof(snap_families[0]);

const struct snap_family *snap_family_of(const char *counter)
{
	size_t f;
	const char *const *m;

	for (f = 0; f < snap_nfamilies; f++)
		for (m = snap_families[f].members; *m; m++)
			if (!strcmp(*m, counter))
				return &snap_families[f];
	return NULL;
}

const char *const snap_counter_names[] = {
	"kvm_runs", "userspace_exits", "dirty_pages", "preemptions", "sched_out",
	"reload_pred_same_cpu", "reload_pred_migrated", "reload_pred_other_vcpu",
	"exits", "fast_page_faults", "fpu_loads",
	LOAD(fast), LOAD(first_load), LOAD(other_pcpu), LOAD(csr_dirty),
	LOAD(cpu_reset), LOAD(other_vcpu), "vcpu_put",
	GF(fast), GF(spurious), GF(not_write), GF(not_logging), GF(no_leaf),
	GF(huge_leaf), GF(not_host_writable), GF(inval_retry), GF(pte_changed),
	GF(retry_limit),
	"pte_update_events", "pte_update_retries", "pte_update_mkwrite",
	"pte_update_wrprotect", "pte_update_updated", "pte_update_noop",
	"pte_update_abort_not_leaf", "pte_update_abort_retries",
	SY(to_hyp, flush_dirty), SY(to_hyp, skip_hyp_current),
	SY(to_host, sync_trap), SY(to_host, sync_serror), SY(to_host, sync_exit),
	SY(to_host, sync_debug), SY(to_host, sync_put), SY(to_host, sync_adjust_pc),
	SY(to_host, skip_irq), SY(to_host, skip_host_current),
	"guest_fault_read", "guest_fault_write", "guest_fault_exec",
	"guest_fault_translation", "guest_fault_access_flag", "guest_fault_permission",
	"guest_fault_other_status",
	NULL,
};

const char *const snap_hist_names[] = {
	"fault_latency_ns", "fault_latency_fast_ns", "fault_latency_slow_ns",
	"exit_latency_ns", "vcpu_load_ns", "kvm_run_ns", "offcpu_ns", NULL,
};

bool snap_known_counter(const char *name)
{
	const char *const *p;

	for (p = snap_counter_names; *p; p++)
		if (!strcmp(*p, name))
			return true;
	return false;
}

bool snap_known_hist(const char *name)
{
	const char *const *p;

	for (p = snap_hist_names; *p; p++)
		if (!strcmp(*p, name))
			return true;
	return false;
}

const char *snap_fmt_ns(double ns, char *buf, size_t len)
{
	if (isnan(ns))
		snprintf(buf, len, "-");
	else if (ns < 1e3)
		snprintf(buf, len, "%.0fns", ns);
	else if (ns < 1e6)
		snprintf(buf, len, "%.2fus", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, len, "%.2fms", ns / 1e6);
	else
		snprintf(buf, len, "%.2fs", ns / 1e9);
	return buf;
}
