// SPDX-License-Identifier: GPL-2.0
/*
 * gate.c - `kvm-lazytop gate`: evaluate CI rules over a snapshot (and a
 * baseline snapshot), print a summary, JUnit XML and github-action-benchmark
 * JSON.  Exit 0 all rules hold, 1 a rule failed, 2 bad input.
 * The rule language is documented in gate-rules.7.
 */
#include <argp.h>
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "gate.h"

static void seterr(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* ---- tokenizer ---------------------------------------------------------- */

#define MAX_TOK 32

struct toks {
	char s[MAX_TOK][GATE_NAME_MAX];
	int n;
};

static bool ident_start(int c)
{
	return isalpha(c) || c == '_';
}

static bool ident_char(int c)
{
	return isalnum(c) || c == '_' || c == '.' || c == '*' || c == '?' ||
	       c == '[' || c == ']' || c == '-' || c == ':';
}

/* Split one rule line into tokens; -1 with err on a lexical error. */
static int tokenize(const char *line, struct toks *t, char *err, size_t errlen)
{
	const char *p = line;

	t->n = 0;
	while (*p) {
		const char *st = p;
		size_t len;

		if (isspace((unsigned char)*p)) {
			p++;
			continue;
		}
		if (t->n >= MAX_TOK) {
			seterr(err, errlen, "too many tokens");
			return -1;
		}
		if (ident_start((unsigned char)*p)) {
			while (*p && ident_char((unsigned char)*p))
				p++;
		} else if (isdigit((unsigned char)*p) || *p == '.' ||
			   ((*p == '-' || *p == '+') && (isdigit((unsigned char)p[1]) || p[1] == '.'))) {
			p++;
			while (*p && (isalnum((unsigned char)*p) || *p == '.' ||
				      ((*p == '-' || *p == '+') && (p[-1] == 'e' || p[-1] == 'E'))))
				p++;
		} else if ((*p == '<' || *p == '>' || *p == '=' || *p == '!') && p[1] == '=') {
			p += 2;
		} else if (*p == '<' || *p == '>' || *p == '/' || *p == '*') {
			p++;
		} else {
			seterr(err, errlen, "unexpected character '%c'",
			       isprint((unsigned char)*p) ? *p : '?');
			return -1;
		}
		len = (size_t)(p - st);
		if (len >= GATE_NAME_MAX) {
			seterr(err, errlen, "token too long");
			return -1;
		}
		memcpy(t->s[t->n], st, len);
		t->s[t->n++][len] = 0;
	}
	return 0;
}

static bool parse_num(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return *s && !*end && !errno && isfinite(*out);
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end || errno)
		return false;
	*out = v;
	return true;
}

/* ---- terms -------------------------------------------------------------- */

static bool is_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static bool glob_matches_any(const char *pat)
{
	const char *const *p;

	for (p = snap_counter_names; *p; p++)
		if (!fnmatch(pat, *p, 0))
			return true;
	return false;
}

/* "p99" -> 0.99, "p999" -> 0.999, "p50" -> 0.5, "p99.9" -> 0.999, p100 -> 1 */
static bool parse_quantile(const char *s, double *q)
{
	size_t nd;
	double v;

	if (*s != 'p' || !isdigit((unsigned char)s[1]))
		return false;
	s++;
	if (strchr(s, '.')) {
		if (!parse_num(s, &v) || v < 0 || v > 100)
			return false;
		*q = v / 100;
		return true;
	}
	nd = strlen(s);
	if (nd < 2 || strspn(s, "0123456789") != nd || nd > 9)
		return false;
	if (!strcmp(s, "100")) {
		*q = 1;
		return true;
	}
	*q = strtod(s, NULL) / pow(10, (double)nd);
	return true;
}

static int parse_term(const char *tok, struct gate_term *t, char *err,
		      size_t errlen)
{
	const char *dot;

	memset(t, 0, sizeof(*t));
	if (!ident_start((unsigned char)*tok)) {
		seterr(err, errlen, "expected a metric, got '%s'", tok);
		return -1;
	}
	if (!strncmp(tok, "overhead.", 9)) {
		const char *k = tok + 9;

		t->kind = GT_OVERHEAD;
		if (!strncmp(k, "drops.", 6)) {
			snprintf(t->name, sizeof(t->name), "drops");
			snprintf(t->sub, sizeof(t->sub), "%s", k + 6);
		} else {
			snprintf(t->name, sizeof(t->name), "%s", k);
		}
		if (!*t->name || strchr(t->name, '.') || (!strcmp(t->name, "drops") && !*t->sub)) {
			seterr(err, errlen, "bad overhead key '%s'", tok);
			return -1;
		}
		return 0;
	}
	if (!strncmp(tok, "reasons.", 8)) {
		const char *k = tok + 8, *d2 = strchr(k, '.');

		if (!d2 || !d2[1] || (strncmp(k, "userspace_exit.", 15) && strncmp(k, "exit.", 5))) {
			seterr(err, errlen, "bad reason term '%s' (reasons.userspace_exit.NAME or reasons.exit.NAME)", tok);
			return -1;
		}
		t->kind = GT_REASON;
		snprintf(t->name, sizeof(t->name), "%.*s", (int)(d2 - k), k);
		snprintf(t->sub, sizeof(t->sub), "%s", d2 + 1);
		return 0;
	}
	if (!strcmp(tok, "prediction.agreement")) {
		t->kind = GT_AGREEMENT;
		snprintf(t->name, sizeof(t->name), "%s", tok);
		return 0;
	}
	dot = strchr(tok, '.');
	if (dot) {
		const char *st = dot + 1;

		snprintf(t->name, sizeof(t->name), "%.*s", (int)(dot - tok), tok);
		if (!snap_known_hist(t->name)) {
			seterr(err, errlen, "unknown histogram '%s'", t->name);
			return -1;
		}
		t->kind = GT_HIST;
		if (!strcmp(st, "count"))
			t->hstat = GH_COUNT;
		else if (!strcmp(st, "sum"))
			t->hstat = GH_SUM;
		else if (!strcmp(st, "mean"))
			t->hstat = GH_MEAN;
		else if (parse_quantile(st, &t->q))
			t->hstat = GH_QUANTILE;
		else {
			seterr(err, errlen, "unknown histogram statistic '%s' (count, sum, mean, pNN)", st);
			return -1;
		}
		return 0;
	}
	t->kind = GT_COUNTER;
	snprintf(t->name, sizeof(t->name), "%s", tok);
	if (is_glob(tok) ? !glob_matches_any(tok) : !snap_known_counter(tok)) {
		seterr(err, errlen, "unknown counter '%s'", tok);
		return -1;
	}
	return 0;
}

static bool parse_op(const char *s, enum gate_op *op)
{
	static const char *const ops[] = { "<", "<=", ">", ">=", "==", "!=" };
	int i;

	for (i = 0; i < 6; i++)
		if (!strcmp(s, ops[i])) {
			*op = (enum gate_op)i;
			return true;
		}
	return false;
}

const char *gate_op_str(enum gate_op op)
{
	static const char *const ops[] = { "<", "<=", ">", ">=", "==", "!=" };

	return (unsigned)op < 6 ? ops[op] : "?";
}

static int parse_rule(const char *line, struct gate_rule *r, char *err,
		      size_t errlen)
{
	struct toks t;
	int i = 0;

	if (tokenize(line, &t, err, errlen))
		return -1;
	memset(r, 0, sizeof(*r));
	r->alpha = 0.01;
	if (t.n < 3) {
		seterr(err, errlen, "expected 'METRIC OP VALUE'");
		return -1;
	}
	if (parse_term(t.s[i++], &r->num, err, errlen))
		return -1;
	if (i < t.n && !strcmp(t.s[i], "/")) {
		i++;
		if (i >= t.n || parse_term(t.s[i++], &r->den, err, errlen)) {
			if (i >= t.n)
				seterr(err, errlen, "expected a metric after '/'");
			return -1;
		}
		r->has_den = true;
	} else if (i < t.n && !strcmp(t.s[i], "ratio")) {
		i++;
		if (r->num.kind != GT_COUNTER || is_glob(r->num.name) ||
		    !snap_family_of(r->num.name)) {
			seterr(err, errlen, "'ratio' needs a counter of a reason family (vcpu_load_*, gstage_fault_*, reload_pred_*, pte_update_*)");
			return -1;
		}
		r->den = r->num;
		r->den.kind = GT_FAMILY;
		r->has_den = true;
	}
	if (i >= t.n || !parse_op(t.s[i], &r->op)) {
		seterr(err, errlen, "expected a comparison (<, <=, >, >=, ==, !=) after the metric");
		return -1;
	}
	i++;
	/* rhs: NUM | NUM * baseline | baseline [* NUM] */
	if (i >= t.n) {
		seterr(err, errlen, "expected a value after the comparison");
		return -1;
	}
	if (!strcmp(t.s[i], "baseline")) {
		r->vs_baseline = true;
		r->factor = 1;
		i++;
		if (i < t.n && !strcmp(t.s[i], "*")) {
			if (i + 1 >= t.n || !parse_num(t.s[i + 1], &r->factor)) {
				seterr(err, errlen, "expected a number after 'baseline *'");
				return -1;
			}
			i += 2;
		}
	} else if (parse_num(t.s[i], &r->factor)) {
		i++;
		if (i < t.n && !strcmp(t.s[i], "*")) {
			if (i + 1 >= t.n || strcmp(t.s[i + 1], "baseline")) {
				seterr(err, errlen, "expected 'baseline' after '*'");
				return -1;
			}
			r->vs_baseline = true;
			i += 2;
		}
	} else {
		seterr(err, errlen, "expected a number or 'baseline', got '%s'", t.s[i]);
		return -1;
	}
	while (i < t.n) {
		if (!strcmp(t.s[i], "min_samples")) {
			if (i + 1 >= t.n || !parse_u64(t.s[i + 1], &r->min_samples)) {
				seterr(err, errlen, "min_samples needs a non-negative integer");
				return -1;
			}
			i += 2;
		} else if (!strcmp(t.s[i], "alpha")) {
			if (i + 1 >= t.n || !parse_num(t.s[i + 1], &r->alpha) ||
			    r->alpha <= 0 || r->alpha >= 1) {
				seterr(err, errlen, "alpha needs a number in (0, 1)");
				return -1;
			}
			i += 2;
		} else if (!strcmp(t.s[i], "optional")) {
			r->optional = true;
			i++;
		} else {
			seterr(err, errlen, "unexpected '%s' (clauses: min_samples N, alpha X, optional)", t.s[i]);
			return -1;
		}
	}
	return 0;
}

int gate_parse(const char *buf, size_t len, struct gate_rules *out, char *err,
	       size_t errlen)
{
	size_t pos = 0, cap = 0;
	int lineno = 0;

	memset(out, 0, sizeof(*out));
	if (len > GATE_MAX_INPUT) {
		seterr(err, errlen, "rules file larger than %u bytes", GATE_MAX_INPUT);
		return -1;
	}
	if (memchr(buf, 0, len)) {
		seterr(err, errlen, "rules file contains a NUL byte");
		return -1;
	}
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		char line[GATE_TEXT_MAX], *s, *e, *hash, msg[200];

		lineno++;
		if (ll >= sizeof(line)) {
			seterr(err, errlen, "%d: line longer than %d characters", lineno,
			       GATE_TEXT_MAX - 1);
			goto fail;
		}
		memcpy(line, buf + pos, ll);
		line[ll] = 0;
		pos += ll + (nl ? 1 : 0);
		hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		for (s = line; isspace((unsigned char)*s); s++)
			;
		for (e = s + strlen(s); e > s && isspace((unsigned char)e[-1]); e--)
			;
		*e = 0;
		if (!*s)
			continue;
		if (out->n >= GATE_MAX_RULES) {
			seterr(err, errlen, "%d: more than %d rules", lineno, GATE_MAX_RULES);
			goto fail;
		}
		if (out->n == cap) {
			struct gate_rule *nr;

			cap = cap ? cap * 2 : 16;
			nr = realloc(out->r, cap * sizeof(*nr));
			if (!nr) {
				seterr(err, errlen, "out of memory");
				goto fail;
			}
			out->r = nr;
		}
		if (parse_rule(s, &out->r[out->n], msg, sizeof(msg))) {
			seterr(err, errlen, "%d: %s", lineno, msg);
			goto fail;
		}
		out->r[out->n].line = lineno;
		snprintf(out->r[out->n].text, GATE_TEXT_MAX, "%s", s);
		out->n++;
	}
	return 0;
fail:
	gate_rules_free(out);
	return -1;
}

void gate_rules_free(struct gate_rules *rules)
{
	free(rules->r);
	rules->r = NULL;
	rules->n = 0;
}

bool gate_needs_baseline(const struct gate_rules *rules)
{
	size_t i;

	for (i = 0; i < rules->n; i++)
		if (rules->r[i].vs_baseline)
			return true;
	return false;
}

/* ---- evaluation --------------------------------------------------------- */

enum tv { TV_OK, TV_UNAVAILABLE, TV_BAD };

struct tval {
	double v;
	uint64_t samples;	/* what min_samples is compared with */
	bool is_hist;
	struct snap_hist h;	/* when is_hist */
	char why[200];
};

static enum tv counter_glob_sum(struct json_object *snap, const char *pat,
				uint64_t *out, char *why, size_t wl)
{
	const char *const *p;
	bool any = false, missing = false;

	*out = 0;
	for (p = snap_counter_names; *p; p++) {
		uint64_t v;

		if (is_glob(pat) ? fnmatch(pat, *p, 0) : strcmp(pat, *p))
			continue;
		if (snap_counter_sum(snap, *p, &v)) {
			*out += v;
			any = true;
		} else {
			missing = true;
			seterr(why, wl, "counter %s is unavailable in this snapshot%s", *p,
			       snap_unavailable(snap, *p) ? " (its probe is not attached)" : "");
		}
	}
	return any && !missing ? TV_OK : TV_UNAVAILABLE;
}

static enum tv eval_term(const struct gate_term *t, struct json_object *snap,
			 struct tval *out)
{
	memset(out, 0, sizeof(*out));
	switch (t->kind) {
	case GT_COUNTER:
	case GT_FAMILY: {
		uint64_t v = 0;
		enum tv r;

		if (t->kind == GT_FAMILY) {
			const struct snap_family *f = snap_family_of(t->name);
			const char *const *m;

			for (m = f->members; *m; m++) {
				uint64_t x;

				r = counter_glob_sum(snap, *m, &x, out->why, sizeof(out->why));
				if (r != TV_OK)
					return r;
				v += x;
			}
		} else if ((r = counter_glob_sum(snap, t->name, &v, out->why,
						 sizeof(out->why))) != TV_OK) {
			return r;
		}
		out->v = (double)v;
		out->samples = v;
		return TV_OK;
	}
	case GT_HIST: {
		char e[200];
		int r = snap_hist_sum(snap, t->name, &out->h, e, sizeof(e));

		if (r < 0) {
			seterr(out->why, sizeof(out->why), "%s", e);
			return TV_BAD;
		}
		if (r == 0 && snap_unavailable(snap, t->name)) {
			seterr(out->why, sizeof(out->why),
			       "histogram %s is unavailable in this snapshot (its probes are not attached)",
			       t->name);
			return TV_UNAVAILABLE;
		}
		out->is_hist = true;
		out->samples = out->h.count;
		switch (t->hstat) {
		case GH_COUNT: out->v = (double)out->h.count; break;
		case GH_SUM: out->v = (double)out->h.sum; break;
		case GH_MEAN: out->v = out->h.count ? (double)out->h.sum / (double)out->h.count : NAN; break;
		case GH_QUANTILE: out->v = snap_hist_quantile(&out->h, t->q); break;
		}
		return TV_OK;
	}
	case GT_OVERHEAD: {
		struct json_object *ov = snap_get_obj(snap, "overhead");

		if (!strcmp(t->name, "drops"))
			ov = snap_get_obj(ov, "drops");
		if (!snap_get_num(ov, *t->sub ? t->sub : t->name, &out->v)) {
			seterr(out->why, sizeof(out->why), "overhead.%s%s%s is not in this snapshot",
			       t->name, *t->sub ? "." : "", t->sub);
			return TV_UNAVAILABLE;
		}
		out->samples = UINT64_MAX;
		return TV_OK;
	}
	case GT_REASON: {
		struct json_object *vms = snap_get_arr(snap, "vms");
		bool any = false;
		uint64_t sum = 0;
		size_t i;

		for (i = 0; vms && i < json_object_array_length(vms); i++) {
			struct json_object *r = snap_get_obj(snap_get_obj(
				json_object_array_get_idx(vms, i), "reasons"), t->name);
			uint64_t x;

			if (!r)
				continue;
			any = true;
			if (snap_get_u64(r, t->sub, &x))
				sum += x;
		}
		if (!any && vms && json_object_array_length(vms)) {
			seterr(out->why, sizeof(out->why), "reasons.%s is not in this snapshot", t->name);
			return TV_UNAVAILABLE;
		}
		out->v = (double)sum;
		out->samples = sum;
		return TV_OK;
	}
	case GT_AGREEMENT: {
		struct json_object *vms = snap_get_arr(snap, "vms");
		double num = 0;
		uint64_t den = 0;
		size_t i;

		for (i = 0; vms && i < json_object_array_length(vms); i++) {
			struct json_object *p = snap_get_obj(json_object_array_get_idx(vms, i),
							     "prediction");
			double a;
			uint64_t n;

			if (p && snap_get_num(p, "agreement", &a) &&
			    snap_get_u64(p, "loads_compared", &n)) {
				num += a * (double)n;
				den += n;
			}
		}
		if (!den) {
			seterr(out->why, sizeof(out->why), "prediction.agreement is not in this snapshot");
			return TV_UNAVAILABLE;
		}
		out->v = num / (double)den;
		out->samples = den;
		return TV_OK;
	}
	}
	return TV_BAD;
}

/* lhs of a rule on one snapshot. */
static enum tv eval_lhs(const struct gate_rule *r, struct json_object *snap,
			struct tval *out, char *why, size_t wl)
{
	struct tval d;
	enum tv rv;

	rv = eval_term(&r->num, snap, out);
	if (rv != TV_OK) {
		seterr(why, wl, "%s", out->why);
		snap_hist_free(&out->h);
		return rv;
	}
	if (!r->has_den)
		return TV_OK;
	rv = eval_term(&r->den, snap, &d);
	if (rv != TV_OK) {
		seterr(why, wl, "%s", d.why);
		snap_hist_free(&out->h);
		snap_hist_free(&d.h);
		return rv;
	}
	out->v = d.v ? out->v / d.v : NAN;
	out->samples = d.samples;
	/* a ratio of two histogram stats keeps no distribution */
	snap_hist_free(&out->h);
	snap_hist_free(&d.h);
	out->is_hist = false;
	return TV_OK;
}

static bool compare(double a, enum gate_op op, double b)
{
	switch (op) {
	case GOP_LT: return a < b;
	case GOP_LE: return a <= b;
	case GOP_GT: return a > b;
	case GOP_GE: return a >= b;
	case GOP_EQ: return a == b;
	case GOP_NE: return a != b;
	}
	return false;
}

static const char *unit_of(const struct gate_rule *r)
{
	if (r->has_den)
		return "ratio";
	if (r->num.kind == GT_HIST)
		return r->num.hstat == GH_COUNT ? "count" : "ns";
	if (r->num.kind == GT_AGREEMENT)
		return "ratio";
	if (r->num.kind == GT_OVERHEAD)
		return strstr(r->num.name, "_ns") ? "ns" :
		       strstr(r->num.name, "_pct") ? "%" :
		       strstr(r->num.name, "_kb") ? "KiB" : "count";
	return "count";
}

int gate_eval(const struct gate_rule *r, struct json_object *snap,
	      struct json_object *base, struct gate_result *res)
{
	struct tval nv, bv;
	enum tv rv;
	bool ok;

	memset(res, 0, sizeof(*res));
	memset(&bv, 0, sizeof(bv));
	res->unit = unit_of(r);
	res->value = res->base_value = res->bound = NAN;
	rv = eval_lhs(r, snap, &nv, res->msg, sizeof(res->msg));
	if (rv == TV_BAD)
		return -1;
	if (rv == TV_UNAVAILABLE) {
		res->status = r->optional ? GATE_SKIP : GATE_FAIL;
		return 0;
	}
	res->value = nv.v;
	res->samples = nv.samples;
	if (r->vs_baseline) {
		if (!base) {
			snprintf(res->msg, sizeof(res->msg), "rule compares with baseline but no --baseline given");
			snap_hist_free(&nv.h);
			return -1;
		}
		rv = eval_lhs(r, base, &bv, res->msg, sizeof(res->msg));
		if (rv == TV_BAD) {
			snap_hist_free(&nv.h);
			return -1;
		}
		if (rv == TV_UNAVAILABLE) {
			char tmp[sizeof(res->msg)];

			snprintf(tmp, sizeof(tmp), "%s", res->msg);
			snprintf(res->msg, sizeof(res->msg), "baseline: %.380s", tmp);
			res->status = r->optional ? GATE_SKIP : GATE_FAIL;
			snap_hist_free(&nv.h);
			return 0;
		}
		res->base_value = bv.v;
		res->base_samples = bv.samples;
		res->bound = r->factor * bv.v;
	} else {
		res->bound = r->factor;
	}

	if (res->samples < r->min_samples ||
	    (r->vs_baseline && res->base_samples < r->min_samples)) {
		res->status = GATE_FAIL;
		if (!r->vs_baseline) {
			snprintf(res->msg, sizeof(res->msg),
				 "insufficient samples: %llu < min_samples %llu",
				 (unsigned long long)res->samples,
				 (unsigned long long)r->min_samples);
		} else {
			snprintf(res->msg, sizeof(res->msg),
				 "insufficient samples: %llu (baseline %llu) < min_samples %llu",
				 (unsigned long long)res->samples,
				 (unsigned long long)res->base_samples,
				 (unsigned long long)r->min_samples);
		}
		goto out;
	}
	if (isnan(res->value) || isnan(res->bound)) {
		res->status = GATE_FAIL;
		snprintf(res->msg, sizeof(res->msg), "%s is undefined (no samples or zero denominator)",
			 isnan(res->value) ? "value" : "baseline value");
		goto out;
	}
	ok = compare(res->value, r->op, res->bound);
	if (r->vs_baseline && nv.is_hist && bv.is_hist &&
	    (r->op == GOP_LE || r->op == GOP_LT || r->op == GOP_GE || r->op == GOP_GT)) {
		bool upper = r->op == GOP_LE || r->op == GOP_LT;
		double p;

		/* Does the new distribution differ from the baseline in the
		 * direction the rule forbids?  One-sided two-sample KS on the
		 * bucketed data (exact at the shared bucket seams), with the
		 * Mann-Whitney statistic reported alongside. */
		res->has_cmp = true;
		if (upper)
			snap_hist_compare(&bv.h, &nv.h, &res->cmp);
		else
			snap_hist_compare(&nv.h, &bv.h, &res->cmp);
		p = res->cmp.ks_p_plus;
		if (!ok && p >= r->alpha) {
			ok = true;
			snprintf(res->msg, sizeof(res->msg),
				 "bound exceeded but the shift is not significant (one-sided KS D=%.4f p=%.3g >= alpha %.3g; Mann-Whitney AUC=%.3f z=%.2f)",
				 res->cmp.ks_d_plus, p, r->alpha, res->cmp.mw_auc,
				 res->cmp.mw_z);
		} else if (!ok) {
			snprintf(res->msg, sizeof(res->msg),
				 "%.6g %s %.6g (%.4g x baseline %.6g) is false and the distribution shifted (one-sided KS D=%.4f p=%.3g < alpha %.3g; Mann-Whitney AUC=%.3f z=%.2f)",
				 res->value, gate_op_str(r->op), res->bound, r->factor,
				 res->base_value, res->cmp.ks_d_plus, p, r->alpha,
				 res->cmp.mw_auc, res->cmp.mw_z);
		} else {
			snprintf(res->msg, sizeof(res->msg),
				 "within bound (KS D+=%.4f p=%.3g; Mann-Whitney AUC=%.3f)",
				 res->cmp.ks_d_plus, p, res->cmp.mw_auc);
		}
	} else if (!ok) {
		if (r->vs_baseline)
			snprintf(res->msg, sizeof(res->msg), "%.6g %s %.6g (%.4g x baseline %.6g) is false",
				 res->value, gate_op_str(r->op), res->bound, r->factor, res->base_value);
		else
			snprintf(res->msg, sizeof(res->msg), "%.6g %s %.6g is false",
				 res->value, gate_op_str(r->op), res->bound);
	}
	res->status = ok ? GATE_PASS : GATE_FAIL;
out:
	snap_hist_free(&nv.h);
	snap_hist_free(&bv.h);
	return 0;
}

/* ---- outputs ------------------------------------------------------------ */

static void xml_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default:
			if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n')
				fputc('?', f);
			else
				fputc(*s, f);
		}
	}
}

static int write_junit(const char *path, const struct gate_rules *rules,
		       const struct gate_result *res, const char *snapname)
{
	size_t i, nf = 0, ns = 0;
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	for (i = 0; i < rules->n; i++) {
		nf += res[i].status == GATE_FAIL;
		ns += res[i].status == GATE_SKIP;
	}
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(f, "<testsuites name=\"kvm-lazytop gate\" tests=\"%zu\" failures=\"%zu\" skipped=\"%zu\" errors=\"0\">\n",
		rules->n, nf, ns);
	fprintf(f, "  <testsuite name=\"kvm-lazytop gate: ");
	xml_escape(f, snapname);
	fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" skipped=\"%zu\" errors=\"0\">\n",
		rules->n, nf, ns);
	for (i = 0; i < rules->n; i++) {
		fprintf(f, "    <testcase classname=\"kvm-lazytop.gate\" name=\"line %d: ",
			rules->r[i].line);
		xml_escape(f, rules->r[i].text);
		fprintf(f, "\">");
		if (res[i].status == GATE_FAIL) {
			fprintf(f, "<failure message=\"");
			xml_escape(f, res[i].msg);
			fprintf(f, "\">value=%.9g bound=%.9g samples=%lld</failure>",
				res[i].value, res[i].bound,
				res[i].samples == UINT64_MAX ? -1ll : (long long)res[i].samples);
		} else if (res[i].status == GATE_SKIP) {
			fprintf(f, "<skipped message=\"");
			xml_escape(f, res[i].msg);
			fprintf(f, "\"/>");
		}
		fprintf(f, "<system-out>value=%.9g", res[i].value);
		if (rules->r[i].vs_baseline)
			fprintf(f, " baseline=%.9g", res[i].base_value);
		fprintf(f, "</system-out></testcase>\n");
	}
	fprintf(f, "  </testsuite>\n</testsuites>\n");
	return fclose(f) ? -1 : 0;
}

/* github-action-benchmark "custom*" format: [{name, unit, value, extra}]. */
static int write_bench(const char *path, const struct gate_rules *rules,
		       const struct gate_result *res, bool bigger)
{
	struct json_object *arr = json_object_new_array();
	size_t i;
	int rc;

	for (i = 0; i < rules->n; i++) {
		const struct gate_rule *r = &rules->r[i];
		bool is_bigger = r->op == GOP_GT || r->op == GOP_GE;
		struct json_object *o;
		char extra[300];

		if (is_bigger != bigger || isnan(res[i].value))
			continue;
		if (!bigger && r->op != GOP_LT && r->op != GOP_LE)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(r->text));
		json_object_object_add(o, "unit", json_object_new_string(res[i].unit));
		json_object_object_add(o, "value", json_object_new_double(res[i].value));
		snprintf(extra, sizeof(extra), "%s; bound %.6g; samples %lld%s",
			 res[i].status == GATE_PASS ? "pass" : res[i].status == GATE_SKIP ? "skipped" : "FAIL",
			 res[i].bound, res[i].samples == UINT64_MAX ? -1ll : (long long)res[i].samples,
			 r->vs_baseline ? "; vs baseline" : "");
		json_object_object_add(o, "extra", json_object_new_string(extra));
		json_object_array_add(arr, o);
	}
	rc = json_object_to_file_ext(path, arr, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	json_object_put(arr);
	return rc;
}

/* ---- command ------------------------------------------------------------ */

struct gate_args {
	const char *rules, *snapshot, *baseline, *junit, *bench, *bench_bigger;
	bool quiet;
};

static const struct argp_option gate_options[] = {
	{ "rules", 'r', "FILE", 0, "Rules file (gate-rules(7))", 0 },
	{ "baseline", 'b', "FILE", 0, "Baseline snapshot for '* baseline' rules", 0 },
	{ "junit", 'j', "FILE", 0, "Write JUnit XML", 0 },
	{ "bench-json", 'B', "FILE", 0,
	  "Write github-action-benchmark customSmallerIsBetter JSON (rules with < or <=)", 0 },
	{ "bench-json-bigger", 'G', "FILE", 0,
	  "Write customBiggerIsBetter JSON (rules with > or >=)", 0 },
	{ "quiet", 'q', NULL, 0, "Print failures and the summary line only", 0 },
	{ 0 }
};

static error_t gate_parse_opt(int key, char *arg, struct argp_state *state)
{
	struct gate_args *a = state->input;

	switch (key) {
	case 'r': a->rules = arg; break;
	case 'b': a->baseline = arg; break;
	case 'j': a->junit = arg; break;
	case 'B': a->bench = arg; break;
	case 'G': a->bench_bigger = arg; break;
	case 'q': a->quiet = true; break;
	case ARGP_KEY_ARG:
		if (a->snapshot)
			argp_error(state, "one SNAPSHOT.json only");
		a->snapshot = arg;
		break;
	case ARGP_KEY_END:
		if (!a->snapshot)
			argp_error(state, "missing SNAPSHOT.json");
		if (!a->rules)
			argp_error(state, "missing --rules FILE");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static char *read_file(const char *path, size_t max, size_t *len, char *err,
		       size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (!f) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(max + 1);
	if (!buf) {
		fclose(f);
		seterr(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	n = fread(buf, 1, max + 1, f);
	if (ferror(f) || n > max) {
		seterr(err, errlen, "%s: %s", path, n > max ? "file too large" : "read error");
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

int cmd_gate(int argc, char **argv)
{
	static const struct argp argp = {
		gate_options, gate_parse_opt, "--rules FILE SNAPSHOT.json",
		"Check CI rules against a kvm-lazytop snapshot.\v"
		"Exit status: 0 every rule holds, 1 a rule failed, 2 bad input. "
		"Rule syntax: gate-rules(7).", NULL, NULL, NULL
	};
	struct json_object *snap = NULL, *base = NULL;
	struct gate_args a = { 0 };
	struct gate_rules rules = { 0 };
	struct gate_result *res = NULL;
	size_t i, len, npass = 0, nfail = 0, nskip = 0;
	char err[512], *buf;
	int rc = GATE_EXIT_BAD_INPUT;

	argp_err_exit_status = GATE_EXIT_BAD_INPUT;
	if (argp_parse(&argp, argc, argv, 0, NULL, &a))
		return GATE_EXIT_BAD_INPUT;
	buf = read_file(a.rules, GATE_MAX_INPUT, &len, err, sizeof(err));
	if (!buf) {
		fprintf(stderr, "gate: %s\n", err);
		return GATE_EXIT_BAD_INPUT;
	}
	if (gate_parse(buf, len, &rules, err, sizeof(err))) {
		fprintf(stderr, "gate: %s:%s\n", a.rules, err);
		free(buf);
		return GATE_EXIT_BAD_INPUT;
	}
	free(buf);
	if (!rules.n) {
		fprintf(stderr, "gate: %s: no rules\n", a.rules);
		goto out;
	}
	snap = snap_load(a.snapshot, err, sizeof(err));
	if (!snap) {
		fprintf(stderr, "gate: %s\n", err);
		goto out;
	}
	if (gate_needs_baseline(&rules) && !a.baseline) {
		fprintf(stderr, "gate: %s has rules against 'baseline' but no --baseline was given\n",
			a.rules);
		goto out;
	}
	if (a.baseline) {
		base = snap_load(a.baseline, err, sizeof(err));
		if (!base) {
			fprintf(stderr, "gate: %s\n", err);
			goto out;
		}
	}
	res = calloc(rules.n, sizeof(*res));
	if (!res)
		goto out;
	for (i = 0; i < rules.n; i++) {
		if (gate_eval(&rules.r[i], snap, base, &res[i])) {
			fprintf(stderr, "gate: %s:%d: %s\n", a.rules, rules.r[i].line, res[i].msg);
			goto out;
		}
	}
	for (i = 0; i < rules.n; i++) {
		const struct gate_result *r = &res[i];
		static const char *const st[] = { "PASS", "FAIL", "SKIP" };

		npass += r->status == GATE_PASS;
		nfail += r->status == GATE_FAIL;
		nskip += r->status == GATE_SKIP;
		if (a.quiet && r->status == GATE_PASS)
			continue;
		printf("%s  %s:%d  %s\n", st[r->status], a.rules, rules.r[i].line, rules.r[i].text);
		if (!isnan(r->value)) {
			printf("      value %.6g %s", r->value, r->unit);
			if (rules.r[i].vs_baseline)
				printf(", baseline %.6g", r->base_value);
			printf(", bound %.6g", r->bound);
			if (r->samples != UINT64_MAX)
				printf(", samples %llu", (unsigned long long)r->samples);
			putchar('\n');
		}
		if (*r->msg)
			printf("      %s\n", r->msg);
	}
	printf("gate: %zu rules: %zu passed, %zu failed, %zu skipped\n", rules.n,
	       npass, nfail, nskip);
	if (a.junit && write_junit(a.junit, &rules, res, a.snapshot)) {
		fprintf(stderr, "gate: cannot write %s: %s\n", a.junit, strerror(errno));
		goto out;
	}
	if (a.bench && write_bench(a.bench, &rules, res, false)) {
		fprintf(stderr, "gate: cannot write %s\n", a.bench);
		goto out;
	}
	if (a.bench_bigger && write_bench(a.bench_bigger, &rules, res, true)) {
		fprintf(stderr, "gate: cannot write %s\n", a.bench_bigger);
		goto out;
	}
	rc = nfail ? GATE_EXIT_FAIL : GATE_EXIT_PASS;
out:
	free(res);
	gate_rules_free(&rules);
	json_object_put(snap);
	json_object_put(base);
	return rc;
}
