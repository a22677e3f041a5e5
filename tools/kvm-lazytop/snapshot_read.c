// SPDX-License-Identifier: GPL-2.0-only
/*
 * snapshot_read.c - json-c reader and helpers for kvm-lazytop snapshots.
 * The format is defined in SNAPSHOT.md and snapshot.schema.json.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "kl_names.h"
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

/*
 * JSON Schema's "integer" is any number without a fractional part, so an
 * integral double counts too (jq 1.6 rewrites 1700000000000000000 as
 * 1.7e+18).  2^64 and above do not fit.
 */
bool snap_json_u64(struct json_object *v, uint64_t *out)
{
	double d;

	if (v && json_object_is_type(v, json_type_int)) {
		if (json_object_get_int64(v) < 0)
			return false;
		*out = json_object_get_uint64(v);
		return true;
	}
	if (!v || !json_object_is_type(v, json_type_double))
		return false;
	d = json_object_get_double(v);
	if (!(d >= 0 && d < 18446744073709551616.0) || d != floor(d))
		return false;
	*out = (uint64_t)d;
	return true;
}

/* The same for a signed integer (values beyond int64 are clamped). */
static bool json_i64(struct json_object *v, int64_t *out)
{
	double d;

	if (v && json_object_is_type(v, json_type_int)) {
		*out = json_object_get_int64(v);
		return true;
	}
	if (!v || !json_object_is_type(v, json_type_double))
		return false;
	d = json_object_get_double(v);
	if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || d != floor(d))
		return false;
	*out = (int64_t)d;
	return true;
}

/* ---- schema validation ---------------------------------------------- */

/*
 * The one place that knows the types and ranges of snapshot.schema.json.
 * snap_validate() walks the whole tree once, right after parsing, so every
 * reader (report, diff, gate, HTML, Prometheus) sees only values of the
 * documented type and range: members may be absent (a reader shows them
 * as not measured), but a member that is present and wrong is an error
 * naming its path.  Unknown members are ignored (a newer MINOR may add
 * them), except inside the maps whose values have one fixed shape
 * (counters, drops, reasons, histograms), where every value is checked.
 */
enum sv_kind {
	SV_OBJECT,	/* .fields: known members; others ignored */
	SV_MAP,		/* every member's value is a .items */
	SV_ARRAY,	/* every element is a .items; at most .max of them if set */
	SV_STRING,	/* a string (equal to .str when set) */
	SV_BOOL,	/* a boolean (.min = 1: it must be true) */
	SV_INT,		/* integer in [.min, .max] (integral doubles too) */
	SV_U64,		/* integer in [.min, UINT64_MAX] (integral doubles too) */
	SV_NUM,		/* finite number in [.dmin, .dmax] */
};

struct sv_field;

struct sv_node {
	enum sv_kind kind;
	bool nullable;		/* JSON null is accepted too */
	bool hist;		/* SV_OBJECT: histogram bucket invariants */
	int64_t min, max;
	double dmin, dmax;
	const char *str;
	const struct sv_field *fields;
	const struct sv_node *items;
};

struct sv_field {
	const char *key;
	const struct sv_node *node;
	bool required;
};

#define SV_PATH_MAX	160	/* a JSON path in a message */
#define SV_KEY_MAX	40	/* characters of one key in it */

struct sv_ctx {
	char path[SV_PATH_MAX];
	size_t len;
	char *err;
	size_t errlen;
};

static const struct sv_node sv_u64 = { .kind = SV_U64 };
static const struct sv_node sv_u64_pos = { .kind = SV_U64, .min = 1 };
static const struct sv_node sv_str = { .kind = SV_STRING };
static const struct sv_node sv_bool = { .kind = SV_BOOL };
static const struct sv_node sv_true = { .kind = SV_BOOL, .min = 1 };
static const struct sv_node sv_pid = { .kind = SV_INT, .min = 1, .max = UINT32_MAX };
static const struct sv_node sv_vcpu_id = { .kind = SV_INT, .min = -1, .max = INT32_MAX };
static const struct sv_node sv_ncpus = { .kind = SV_INT, .min = 1, .max = INT32_MAX };
static const struct sv_node sv_nonneg = { .kind = SV_NUM, .dmin = 0, .dmax = INFINITY };
static const struct sv_node sv_nonneg_null = {
	.kind = SV_NUM, .nullable = true, .dmin = 0, .dmax = INFINITY };
static const struct sv_node sv_share = {
	.kind = SV_NUM, .nullable = true, .dmin = 0, .dmax = 1 };
static const struct sv_node sv_ns = { .kind = SV_STRING, .str = "ns" };

static const struct sv_node sv_u64_map = { .kind = SV_MAP, .items = &sv_u64 };
static const struct sv_node sv_str_map = { .kind = SV_MAP, .items = &sv_str };
static const struct sv_node sv_str_arr = { .kind = SV_ARRAY, .items = &sv_str };
/* probe_events (1.1): a run count per attached signal, null when not counted */
static const struct sv_node sv_u64_null = { .kind = SV_U64, .nullable = true };
static const struct sv_node sv_u64_null_map = { .kind = SV_MAP, .items = &sv_u64_null };

static const struct sv_field sv_bucket_f[] = {
	{ "le", &sv_u64, true },
	{ "count", &sv_u64_pos, true },
	{ 0 },
};
static const struct sv_node sv_bucket = { .kind = SV_OBJECT, .fields = sv_bucket_f };
static const struct sv_node sv_buckets = { .kind = SV_ARRAY, .items = &sv_bucket,
					   .max = SNAP_MAX_BUCKETS };
static const struct sv_field sv_hist_f[] = {
	{ "unit", &sv_ns, false },
	{ "count", &sv_u64, true },
	{ "sum", &sv_u64, true },
	{ "p50", &sv_nonneg_null, false },
	{ "p90", &sv_nonneg_null, false },
	{ "p99", &sv_nonneg_null, false },
	{ "p999", &sv_nonneg_null, false },
	{ "buckets", &sv_buckets, true },
	{ 0 },
};
static const struct sv_node sv_hist = { .kind = SV_OBJECT, .hist = true, .fields = sv_hist_f };
static const struct sv_node sv_hist_map = { .kind = SV_MAP, .items = &sv_hist };
static const struct sv_node sv_hist_map_map = { .kind = SV_MAP, .items = &sv_hist_map };

static const struct sv_field sv_vcpu_f[] = {
	{ "vcpu_id", &sv_vcpu_id, false },
	{ "tid", &sv_pid, false },
	{ "counters", &sv_u64_map, false },
	{ 0 },
};
static const struct sv_node sv_vcpu = { .kind = SV_OBJECT, .fields = sv_vcpu_f };
static const struct sv_node sv_vcpus = { .kind = SV_ARRAY, .items = &sv_vcpu };

static const struct sv_field sv_reasons_f[] = {
	{ "userspace_exit", &sv_u64_map, false },
	{ "exit", &sv_u64_map, false },
	{ 0 },
};
static const struct sv_node sv_reasons = { .kind = SV_OBJECT, .fields = sv_reasons_f };

static const struct sv_node sv_matrix = { .kind = SV_MAP, .items = &sv_u64_map };
static const struct sv_field sv_pred_f[] = {
	{ "agreement", &sv_share, false },
	{ "loads_compared", &sv_u64, false },
	{ "matrix", &sv_matrix, false },
	{ 0 },
};
static const struct sv_node sv_pred = { .kind = SV_OBJECT, .fields = sv_pred_f };

static const struct sv_field sv_pkvm_reason_f[] = {
	{ "count", &sv_u64, false },
	{ "share", &sv_share, false },
	{ 0 },
};
static const struct sv_node sv_pkvm_reason = { .kind = SV_OBJECT, .fields = sv_pkvm_reason_f };
static const struct sv_node sv_pkvm_reasons = { .kind = SV_MAP, .items = &sv_pkvm_reason };
static const struct sv_field sv_pkvm_dir_f[] = {
	{ "events", &sv_u64, false },
	{ "skipped", &sv_u64, false },
	{ "skip_share", &sv_share, false },
	{ "reasons", &sv_pkvm_reasons, false },
	{ 0 },
};
static const struct sv_node sv_pkvm_dir = { .kind = SV_OBJECT, .fields = sv_pkvm_dir_f };
static const struct sv_field sv_pkvm_f[] = {
	{ "to_hyp", &sv_pkvm_dir, false },
	{ "to_host", &sv_pkvm_dir, false },
	{ 0 },
};
static const struct sv_node sv_pkvm = { .kind = SV_OBJECT, .fields = sv_pkvm_f };

static const struct sv_field sv_vm_f[] = {
	{ "pid", &sv_pid, false },
	{ "comm", &sv_str, false },
	{ "name", &sv_str, false },
	{ "exited", &sv_bool, false },
	{ "vcpus", &sv_vcpus, false },
	{ "counters", &sv_u64_map, false },
	{ "kvm_stats", &sv_u64_map, false },
	{ "reasons", &sv_reasons, false },
	{ "prediction", &sv_pred, false },
	{ "pkvm_state_sync", &sv_pkvm, false },
	{ "histograms", &sv_hist_map, false },
	{ "histograms_by", &sv_hist_map_map, false },
	{ 0 },
};
static const struct sv_node sv_vm = { .kind = SV_OBJECT, .fields = sv_vm_f };
static const struct sv_node sv_vms = { .kind = SV_ARRAY, .items = &sv_vm };

static const struct sv_field sv_prog_f[] = {
	{ "name", &sv_str, false },
	{ "signal", &sv_str, false },
	{ "run_cnt", &sv_u64, false },
	{ "run_time_ns", &sv_u64, false },
	{ "ns_per_event", &sv_nonneg, false },
	{ 0 },
};
static const struct sv_node sv_prog = { .kind = SV_OBJECT, .fields = sv_prog_f };
static const struct sv_node sv_progs = { .kind = SV_ARRAY, .items = &sv_prog };
static const struct sv_field sv_overhead_f[] = {
	{ "programs", &sv_progs, false },
	{ "bpf_run_time_ns", &sv_u64, false },
	{ "bpf_events", &sv_u64, false },
	{ "bpf_stats", &sv_str, false },
	{ "bpf_stats_window_ns", &sv_u64, false },
	{ "bpf_stats_window_open", &sv_bool, false },
	{ "collector_cpu_ns", &sv_u64, false },
	{ "collector_cpu_pct", &sv_nonneg, false },
	{ "collector_rss_kb", &sv_u64, false },
	{ "collector_maxrss_kb", &sv_u64, false },
	{ "drops", &sv_u64_map, false },
	{ 0 },
};
static const struct sv_node sv_overhead = { .kind = SV_OBJECT, .fields = sv_overhead_f };

static const struct sv_field sv_tool_f[] = {
	{ "name", &sv_str, false },
	{ "version", &sv_str, false },
	{ 0 },
};
static const struct sv_node sv_tool = { .kind = SV_OBJECT, .fields = sv_tool_f };
static const struct sv_field sv_host_f[] = {
	{ "kernel", &sv_str, false },
	{ "arch", &sv_str, false },
	{ "hostname", &sv_str, false },
	{ "ncpus", &sv_ncpus, false },
	{ 0 },
};
static const struct sv_node sv_host = { .kind = SV_OBJECT, .fields = sv_host_f };
static const struct sv_field sv_target_f[] = {
	{ "pid", &sv_pid, false },
	{ "name", &sv_str, false },
	{ "all", &sv_true, false },
	{ 0 },
};
static const struct sv_node sv_target = { .kind = SV_OBJECT, .fields = sv_target_f };

/* schema_version and vms are checked first by snap_check(). */
static const struct sv_field sv_snap_f[] = {
	{ "schema_version", &sv_str, true },
	{ "tool", &sv_tool, false },
	{ "host", &sv_host, false },
	{ "start_time_ns", &sv_u64, false },
	{ "duration_ns", &sv_u64, false },
	{ "interval_ns", &sv_u64, false },
	{ "target", &sv_target, false },
	{ "probes", &sv_str_map, false },
	{ "probe_events", &sv_u64_null_map, false },
	{ "unavailable", &sv_str_arr, false },
	{ "overhead", &sv_overhead, false },
	{ "vms", &sv_vms, true },
	{ 0 },
};
static const struct sv_node sv_snapshot = { .kind = SV_OBJECT, .fields = sv_snap_f };

/*
 * Text from the file for a one-line message: printable ASCII as is; control
 * characters (terminal escapes, newlines), bytes >= 0x7f, '"' and '\\' as
 * \xHH; at most max characters of output, then "...".
 */
static const char *sv_escape(char *buf, size_t len, const char *s, size_t max)
{
	size_t o = 0, i;

	if (max > len - 4)
		max = len - 4;
	for (i = 0; s[i]; i++) {
		unsigned char ch = (unsigned char)s[i];
		bool plain = ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\';

		if (o + (plain ? 1 : 4) > max)
			break;
		if (plain)
			buf[o++] = (char)ch;
		else
			o += snprintf(buf + o, len - o, "\\x%02x", ch);
	}
	snprintf(buf + o, len - o, "%s", s[i] ? "..." : "");
	return buf;
}

/* Append ".key" or "[idx]" to the path; returns the length to pop back to. */
static size_t sv_push(struct sv_ctx *c, const char *key, size_t idx)
{
	size_t old = c->len;
	char seg[SV_KEY_MAX + 4];

	if (key)
		snprintf(c->path + c->len, sizeof(c->path) - c->len, "%s%s", c->len ? "." : "",
			 sv_escape(seg, sizeof(seg), key, SV_KEY_MAX));
	else
		snprintf(c->path + c->len, sizeof(c->path) - c->len, "[%zu]", idx);
	c->len += strlen(c->path + c->len);
	return old;
}

static void sv_pop(struct sv_ctx *c, size_t old)
{
	c->len = old;
	c->path[old] = 0;
}

/* A string from the file in quotes, escaped (sv_escape) to fit buf. */
static const char *sv_quote(char *buf, size_t len, const char *s)
{
	char e[64];
	size_t max = len > 10 ? len - 6 : 1;

	if (max > sizeof(e) - 4)
		max = sizeof(e) - 4;
	snprintf(buf, len, "\"%s\"", sv_escape(e, sizeof(e), s, max));
	return buf;
}

static const char *sv_type(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null: return "null";
	case json_type_boolean: return "boolean";
	case json_type_double: return "number";
	case json_type_int: return "integer";
	case json_type_object: return "object";
	case json_type_array: return "array";
	case json_type_string: return "string";
	}
	return "?";
}

/* "expected X" of a node, for the message. */
static const char *sv_expect(const struct sv_node *n, char *buf, size_t len)
{
	const char *null = n->nullable ? " or null" : "";

	switch (n->kind) {
	case SV_OBJECT:
	case SV_MAP:
		return "object";
	case SV_ARRAY:
		return "array";
	case SV_STRING:
		if (n->str)
			snprintf(buf, len, "\"%s\"", n->str);
		else
			snprintf(buf, len, "string");
		return buf;
	case SV_BOOL:
		return n->min ? "true" : "boolean";
	case SV_INT:
		snprintf(buf, len, "integer in [%lld, %lld]", (long long)n->min,
			 (long long)n->max);
		return buf;
	case SV_U64:
		return n->min ? "positive integer" : "non-negative integer";
	case SV_NUM:
		if (isinf(n->dmax))
			snprintf(buf, len, "number >= %g%s", n->dmin, null);
		else
			snprintf(buf, len, "number in [%g, %g]%s", n->dmin, n->dmax, null);
		return buf;
	}
	return "?";
}

static int sv_fail(struct sv_ctx *c, const char *expect, const char *got)
{
	seterr(c->err, c->errlen, "%s: expected %s, got %s",
	       c->len ? c->path : "top level", expect, got);
	return -1;
}

/* Wrong JSON type: name the type found. */
static int sv_fail_type(struct sv_ctx *c, const struct sv_node *n, struct json_object *v)
{
	char e[64];

	return sv_fail(c, sv_expect(n, e, sizeof(e)), v ? sv_type(v) : "null");
}

/* Right type, wrong value: show the value. */
static int sv_fail_value(struct sv_ctx *c, const struct sv_node *n, struct json_object *v)
{
	char e[64], g[96];

	switch (json_object_get_type(v)) {
	case json_type_int:
		if (json_object_get_int64(v) < 0)
			snprintf(g, sizeof(g), "%lld", (long long)json_object_get_int64(v));
		else
			snprintf(g, sizeof(g), "%llu",
				 (unsigned long long)json_object_get_uint64(v));
		break;
	case json_type_double:
		snprintf(g, sizeof(g), "%g", json_object_get_double(v));
		break;
	case json_type_boolean:
		snprintf(g, sizeof(g), "%s", json_object_get_boolean(v) ? "true" : "false");
		break;
	case json_type_string:
		sv_quote(g, sizeof(g), json_object_get_string(v));
		break;
	default:
		snprintf(g, sizeof(g), "%s", sv_type(v));
		break;
	}
	return sv_fail(c, sv_expect(n, e, sizeof(e)), g);
}

static int sv_node_check(struct sv_ctx *c, const struct sv_node *n, struct json_object *v);

static bool sv_is_number(struct json_object *v)
{
	return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
}

/* Buckets ascending by le, and their counts add up to "count". */
static int sv_hist_check(struct sv_ctx *c, struct json_object *h)
{
	struct json_object *arr = NULL, *v = NULL;
	uint64_t total = 0, prev = 0, count = 0;
	char e[96], g[32];
	size_t i, n, old;
	int rc = 0;

	json_object_object_get_ex(h, "count", &v);
	snap_json_u64(v, &count);
	json_object_object_get_ex(h, "buckets", &arr);
	n = json_object_array_length(arr);
	old = sv_push(c, "buckets", 0);
	for (i = 0; i < n && !rc; i++) {
		struct json_object *b = json_object_array_get_idx(arr, i);
		struct json_object *le = NULL, *bc = NULL;
		uint64_t l = 0, k = 0;

		json_object_object_get_ex(b, "le", &le);
		json_object_object_get_ex(b, "count", &bc);
		snap_json_u64(le, &l);
		snap_json_u64(bc, &k);
		if (i && l <= prev) {
			sv_push(c, NULL, i);
			sv_push(c, "le", 0);
			snprintf(e, sizeof(e), "integer > %llu (buckets ascending)",
				 (unsigned long long)prev);
			snprintf(g, sizeof(g), "%llu", (unsigned long long)l);
			rc = sv_fail(c, e, g);
		} else if (total + k < total) {
			rc = sv_fail(c, "counts that add up within 64 bits", "an overflow");
		}
		prev = l;
		total += k;
	}
	sv_pop(c, old);
	if (!rc && total != count) {
		old = sv_push(c, "count", 0);
		snprintf(e, sizeof(e), "%llu (the sum of the bucket counts)",
			 (unsigned long long)total);
		snprintf(g, sizeof(g), "%llu", (unsigned long long)count);
		rc = sv_fail(c, e, g);
		sv_pop(c, old);
	}
	return rc;
}

static int sv_object_check(struct sv_ctx *c, const struct sv_node *n, struct json_object *v)
{
	const struct sv_field *f;
	char e[64];

	for (f = n->fields; f && f->key; f++) {
		struct json_object *m;
		size_t old;
		int rc;

		if (!json_object_object_get_ex(v, f->key, &m) && !f->required)
			continue;
		old = sv_push(c, f->key, 0);
		if (!json_object_object_get_ex(v, f->key, &m))
			rc = sv_fail(c, sv_expect(f->node, e, sizeof(e)), "nothing");
		else
			rc = sv_node_check(c, f->node, m);
		sv_pop(c, old);
		if (rc)
			return rc;
	}
	return n->hist ? sv_hist_check(c, v) : 0;
}

static int sv_node_check(struct sv_ctx *c, const struct sv_node *n, struct json_object *v)
{
	size_t i, len, old;
	char e[64], g[32];
	uint64_t u64;
	int64_t i64;
	double d;
	int rc;

	if (!v)				/* JSON null */
		return n->nullable ? 0 : sv_fail_type(c, n, v);
	switch (n->kind) {
	case SV_OBJECT:
		if (!json_object_is_type(v, json_type_object))
			return sv_fail_type(c, n, v);
		return sv_object_check(c, n, v);
	case SV_MAP:
		if (!json_object_is_type(v, json_type_object))
			return sv_fail_type(c, n, v);
		json_object_object_foreach(v, key, m) {
			old = sv_push(c, key, 0);
			rc = sv_node_check(c, n->items, m);
			sv_pop(c, old);
			if (rc)
				return rc;
		}
		return 0;
	case SV_ARRAY:
		if (!json_object_is_type(v, json_type_array))
			return sv_fail_type(c, n, v);
		len = json_object_array_length(v);
		if (n->max && len > (size_t)n->max) {
			snprintf(e, sizeof(e), "at most %lld elements", (long long)n->max);
			snprintf(g, sizeof(g), "%zu", len);
			return sv_fail(c, e, g);
		}
		for (i = 0; i < len; i++) {
			old = sv_push(c, NULL, i);
			rc = sv_node_check(c, n->items, json_object_array_get_idx(v, i));
			sv_pop(c, old);
			if (rc)
				return rc;
		}
		return 0;
	case SV_STRING:
		if (!json_object_is_type(v, json_type_string))
			return sv_fail_type(c, n, v);
		if (n->str && strcmp(json_object_get_string(v), n->str))
			return sv_fail_value(c, n, v);
		return 0;
	case SV_BOOL:
		if (!json_object_is_type(v, json_type_boolean))
			return sv_fail_type(c, n, v);
		if (n->min && !json_object_get_boolean(v))
			return sv_fail_value(c, n, v);
		return 0;
	case SV_INT:
		if (!sv_is_number(v))
			return sv_fail_type(c, n, v);
		if (!json_i64(v, &i64) || i64 < n->min || i64 > n->max)
			return sv_fail_value(c, n, v);
		return 0;
	case SV_U64:
		if (!sv_is_number(v))
			return sv_fail_type(c, n, v);
		if (!snap_json_u64(v, &u64) || u64 < (uint64_t)n->min)
			return sv_fail_value(c, n, v);
		return 0;
	case SV_NUM:
		if (!sv_is_number(v))
			return sv_fail_type(c, n, v);
		d = json_object_get_double(v);
		if (isnan(d) || isinf(d) || d < n->dmin || d > n->dmax)
			return sv_fail_value(c, n, v);
		return 0;
	}
	return 0;
}

static int snap_check(struct json_object *snap, char *err, size_t errlen);

int snap_validate(struct json_object *snap, char *err, size_t errlen)
{
	struct sv_ctx c = { .err = err, .errlen = errlen };

	if (snap_check(snap, err, errlen))
		return -1;
	return sv_node_check(&c, &sv_snapshot, snap);
}

static int snap_check(struct json_object *snap, char *err, size_t errlen)
{
	struct json_object *v, *vms;
	const char *ver, *dot;
	char *end, q[48];
	long major;

	if (!snap || !json_object_is_type(snap, json_type_object)) {
		seterr(err, errlen, "top level: expected object, got %s", sv_type(snap));
		return -1;
	}
	if (!json_object_object_get_ex(snap, "schema_version", &v)) {
		seterr(err, errlen, "schema_version: expected string, got nothing");
		return -1;
	}
	if (!json_object_is_type(v, json_type_string)) {
		seterr(err, errlen, "schema_version: expected string, got %s", sv_type(v));
		return -1;
	}
	ver = json_object_get_string(v);
	dot = strchr(ver, '.');
	errno = 0;
	major = strtol(ver, &end, 10);
	if (!dot || end != dot || !isdigit((unsigned char)ver[0]) || errno || major < 0 ||
	    !dot[1] || strspn(dot + 1, "0123456789") != strlen(dot + 1)) {
		seterr(err, errlen, "snapshot: malformed schema_version %s (want MAJOR.MINOR)",
		       sv_quote(q, sizeof(q), ver));
		return -1;
	}
	if (major != SNAP_SCHEMA_MAJOR) {
		seterr(err, errlen,
		       "snapshot: unsupported schema_version %.32s (this kvm-lazytop reads %d.x)",
		       ver, SNAP_SCHEMA_MAJOR);	/* digits, a dot, digits */
		return -1;
	}
	if (!json_object_object_get_ex(snap, "vms", &vms)) {
		seterr(err, errlen, "vms: expected array, got nothing");
		return -1;
	}
	if (!json_object_is_type(vms, json_type_array)) {
		seterr(err, errlen, "vms: expected array, got %s", sv_type(vms));
		return -1;
	}
	return 0;
}

struct json_object *snap_parse(const char *buf, size_t len, char *err,
			       size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *o;
	enum json_tokener_error jerr;
	size_t end;

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
	end = json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue && len && !o) {
		/* a top-level literal ("null", "12") needs its end marked */
		o = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		end = len;
		if (jerr != json_tokener_success) {
			json_object_put(o);
			o = NULL;
			jerr = json_tokener_continue;
		}
	}
	if (jerr == json_tokener_continue) {
		json_object_put(o);
		o = NULL;
		seterr(err, errlen, "snapshot: invalid JSON: unexpected end of input");
	} else if (jerr != json_tokener_success) {
		seterr(err, errlen, "snapshot: invalid JSON at offset %zu: %s",
		       end, json_tokener_error_desc(jerr));
		o = NULL;
	} else {
		while (end < len && strchr(" \t\r\n", buf[end]))
			end++;
		if (end < len) {
			seterr(err, errlen, "snapshot: trailing data after JSON at offset %zu", end);
			json_object_put(o);
			o = NULL;
		} else if (!o) {	/* the text "null" */
			seterr(err, errlen, "top level: expected object, got null");
		}
	}
	json_tokener_free(tok);
	if (o && snap_validate(o, err, errlen)) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

struct json_object *snap_load(const char *path, char *err, size_t errlen)
{
	struct json_object *o;
	char *buf = NULL, tmp[400];
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

double snap_num(struct json_object *obj, const char *key)
{
	double d;

	return snap_get_num(obj, key, &d) ? d : NAN;
}

bool snap_get_bool(struct json_object *obj, const char *key, bool *out)
{
	struct json_object *v;

	if (!obj || !json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_boolean))
		return false;
	*out = json_object_get_boolean(v);
	return true;
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

/* ---- histograms ---------------------------------------------------- */

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

/* ---- names ---------------------------------------------------------- */

/*
 * The families and the known names, expanded from the name table of
 * bpf/kvm_lazytop.h and kl_names.h's counter layout.
 */
#define MEMBER(pfx, p, e, n, ...)		pfx n,
#define FAST_MEMBER(pfx, p, e, n, path, ...)	KL_IF_FAST_##path(pfx n,)
#define FAMILY(name, pfx, list) { name, pfx,					\
	(const char *const[]){ list(MEMBER, pfx) NULL },			\
	(const char *const[]){ list(FAST_MEMBER, pfx) NULL } },
/* arm64 pKVM: one family per direction, the pairs the series emits */
#define SYNC_MEMBER(d, pfx, p, e, n, path, dir)	KL_IF_##d##_##dir(pfx n,)
#define SYNC_FAST(d, pfx, p, e, n, path, dir)	KL_IF_##d##_##dir(KL_IF_FAST_##path(pfx n,))
#define SYNC_FAMILY(ctx, p, d, dn, ...) { "pkvm_sync_" dn, "pkvm_sync_" dn "_",	\
	(const char *const[]){ KL_PKVM_REASONS(SYNC_MEMBER, d, "pkvm_sync_" dn "_") NULL }, \
	(const char *const[]){ KL_PKVM_REASONS(SYNC_FAST, d, "pkvm_sync_" dn "_") NULL } },

const struct snap_family snap_families[] = {
	FAMILY("vcpu_load", "vcpu_load_", KL_LOAD_REASONS)
	FAMILY("gstage_fault", "gstage_fault_", KL_FAULT_REASONS)
	FAMILY("reload_pred", "reload_pred_", KL_RELOAD_PREDS)
	FAMILY("pte_update_op", "pte_update_", KL_PTE_OPS)
	FAMILY("pte_update_outcome", "pte_update_", KL_PTE_OUTCOMES)
	/* arm64 pKVM: "fast" = the state copy was skipped */
	KL_PKVM_DIRS(SYNC_FAMILY, _)
	FAMILY("guest_fault_access", "guest_fault_", KL_GF_ACCESSES)
	FAMILY("guest_fault_status", "guest_fault_", KL_GF_STATUSES)
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

const struct snap_family *snap_family_named(const char *name)
{
	size_t f;

	for (f = 0; f < snap_nfamilies; f++)
		if (!strcmp(snap_families[f].name, name))
			return &snap_families[f];
	return NULL;
}

bool snap_family_is_fast(const struct snap_family *f, const char *member)
{
	const char *const *q;

	for (q = f->fast; *q; q++)
		if (!strcmp(*q, member))
			return true;
	return false;
}

#define ONE(e, n, req)			n,
#define GROUP(e, pfx, list, req)	list(MEMBER, pfx)
#define SYNC_NAME(ctx, n, ...)		n,
#define SYNC(e, req)			KL_PKVM_SYNC_NAMES(SYNC_NAME, _)
const char *const snap_counter_names[] = {
	KL_COUNTER_LAYOUT(ONE, GROUP, SYNC)
	NULL,
};

const char *const snap_hist_names[] = { KL_HISTS(MEMBER, ) NULL };

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
