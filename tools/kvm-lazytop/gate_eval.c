// SPDX-License-Identifier: GPL-2.0-only
/*
 * gate_eval.c - evaluate one gate rule on a snapshot (and a baseline).
 *
 * The snapshot is a typed one (kl_model.h): the JSON reader already
 * rejected a wrongly typed field as bad input ("vms[0].histograms.
 * kvm_run_ns: expected object, got int").  Each signal is in one of three states:
 * unavailable (listed in "unavailable"), attached with no events
 * (probe_events 0, or no VM at all), or measured; the first two fail a
 * rule unless its optional(...) clause names them.
 */
#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gate.h"
#include "kl_model.h"
#include "kl_names.h"

/* Ordered by precedence when terms disagree. */
enum tv { TV_OK, TV_NO_EVENTS, TV_UNAVAILABLE, TV_BAD_RULE, TV_BAD };

struct tval {
	double v;
	uint64_t samples;	/* what min_samples is compared with */
	bool is_hist;
	struct snap_hist h;	/* when is_hist */
	char why[300];
};

static bool is_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static bool name_matches(const char *pat, const char *name)
{
	return is_glob(pat) ? !fnmatch(pat, name, 0) : !strcmp(pat, name);
}

uint32_t gate_term_signals(const struct gate_term *t)
{
	uint32_t m = 0;
	unsigned int i;

	switch (t->kind) {
	case GT_COUNTER:
		for (i = 0; i < KL_C_NR; i++)
			if (kl_counter_name(i) && name_matches(t->name, kl_counter_name(i)))
				m |= kl_counter_requires(i);
		break;
	case GT_HIST:
		for (i = 0; i < KL_H_NR; i++)
			if (!strcmp(kl_hist_name(i), t->name))
				m |= kl_hist_requires(i);
		break;
	case GT_REASON:
		m = KL_SIG_BIT(!strcmp(t->name, "exit") ? KL_SIG_KVM_EXIT : KL_SIG_USERSPACE_EXIT);
		break;
	case GT_AGREEMENT:
		m = kl_counter_requires(KL_C_PRED_VS_ACTUAL);
		break;
	case GT_OVERHEAD:
		break;
	}
	return m & KL_SIG_ALL;
}

/*
 * "probe_events" (schema 1.1): a signal of mask with 0 events means the
 * term measured nothing.  Absent or null = not counted (unknown).
 */
static enum tv check_events(const struct kl_snap *snap, uint32_t mask, char *why, size_t wl)
{
	for (int s = 0; snap->has_probe_events && s < KL_SIG_NR; s++) {
		if (!(mask & KL_SIG_BIT(s)) || !snap->has_pe[s] || snap->pe_null[s] || snap->pe[s])
			continue;
		gate_seterr(why, wl, "no events: probe %s is attached but never fired (probe_events.%s = 0)",
			    kl_signals[s].name, kl_signals[s].name);
		return TV_NO_EVENTS;
	}
	return TV_OK;
}

/* One counter over every VM into *total; found = a VM has it. */
static enum tv counter_add(const struct kl_snap *snap, unsigned int c, uint64_t *total,
			   bool *found, struct tval *out)
{
	*found = false;
	for (size_t i = 0; i < snap->nr_vms; i++) {
		uint64_t x;

		if (!kl_snap_has(&snap->vms[i].c, c))
			continue;
		x = snap->vms[i].c.c[c];
		if (*total + x < *total) {
			gate_seterr(out->why, sizeof(out->why), "vms[%zu].counters.%s: sum overflows", i,
				    kl_counter_name(c));
			return TV_BAD;
		}
		*total += x;
		*found = true;
	}
	return TV_OK;
}

static enum tv counter_sum(const struct kl_snap *snap, const char *pat, struct tval *out)
{
	const char *const *p;
	uint64_t total = 0;

	for (p = snap_counter_names; *p; p++) {
		int c = kl_snap_counter_index(*p);
		bool found = false;

		if (!name_matches(pat, *p))
			continue;
		if (kl_snap_unavailable(snap, *p)) {
			gate_seterr(out->why, sizeof(out->why),
			       "unavailable: counter %s (its probe is not attached on this kernel)", *p);
			return TV_UNAVAILABLE;
		}
		if (c >= 0 && counter_add(snap, (unsigned int)c, &total, &found, out))
			return TV_BAD;
		if (!found && snap->nr_vms) {
			gate_seterr(out->why, sizeof(out->why),
			       "unavailable: counter %s is not in this snapshot (and not listed in \"unavailable\")",
			       *p);
			return TV_UNAVAILABLE;
		}
	}
	out->v = (double)total;
	out->samples = total;
	return TV_OK;
}

static enum tv hist_sum(const struct kl_snap *snap, const struct gate_term *t, struct tval *out)
{
	unsigned int h;
	int found;

	if (kl_snap_unavailable(snap, t->name)) {
		gate_seterr(out->why, sizeof(out->why),
		       "unavailable: histogram %s (its probes are not attached on this kernel)", t->name);
		return TV_UNAVAILABLE;
	}
	for (h = 0; h < KL_H_NR && strcmp(kl_hist_name(h), t->name); h++)
		;
	found = h < KL_H_NR ? kl_snap_hist_sum(snap, h, &out->h) : 0;
	if (found < 0) {
		gate_seterr(out->why, sizeof(out->why), "out of memory");
		return TV_BAD;
	}
	if (!found && snap->nr_vms) {
		gate_seterr(out->why, sizeof(out->why),
		       "unavailable: histogram %s is not in this snapshot (and not listed in \"unavailable\")",
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

/* overhead.<key> / overhead.drops.<sub> of the snapshot; false when absent. */
static bool overhead_get(const struct kl_snap *snap, const struct gate_term *t, double *v)
{
	const struct kl_snap_overhead *oh = &snap->oh;
	const struct { const char *key; double v; } keys[] = {
		{ "bpf_run_time_ns", (double)oh->bpf_run_time_ns }, { "bpf_events", (double)oh->bpf_events },
		{ "collector_cpu_ns", (double)oh->cpu_ns }, { "collector_cpu_pct", kl_snap_cpu_pct(snap) },
		{ "collector_rss_kb", (double)oh->rss_kb }, { "collector_maxrss_kb", (double)oh->maxrss_kb },
	};

	if (!oh->present)
		return false;
	for (int d = 0; *t->sub && d < KL_D_NR; d++) {
		if (oh->has_drop[d] && !strcmp(kl_drop_name(d), t->sub)) {
			*v = (double)oh->drops[d];
			return true;
		}
	}
	for (size_t i = 0; !*t->sub && i < KL_ARRAY_SIZE(keys); i++) {
		if (!strcmp(keys[i].key, t->name)) {
			*v = keys[i].v;
			return true;
		}
	}
	return false;
}

static enum tv overhead_val(const struct kl_snap *snap, const struct gate_term *t,
			    struct tval *out)
{
	if (!overhead_get(snap, t, &out->v)) {
		gate_seterr(out->why, sizeof(out->why), "unavailable: overhead.%s%s%s is not in this snapshot",
			    t->name, *t->sub ? "." : "", t->sub);
		return TV_UNAVAILABLE;
	}
	out->samples = UINT64_MAX;
	return TV_OK;
}

static enum tv reason_sum(const struct kl_snap *snap, const struct gate_term *t,
			  struct tval *out)
{
	bool exit = !strcmp(t->name, "exit"), any = false;
	char un[GATE_NAME_MAX + 16];
	uint64_t sum = 0, x;

	snprintf(un, sizeof(un), "reasons.%s", t->name);
	if (kl_snap_unavailable(snap, un)) {
		gate_seterr(out->why, sizeof(out->why),
		       "unavailable: %s (its probe is not attached on this kernel)", un);
		return TV_UNAVAILABLE;
	}
	if (snap->arch[0] && !gate_reason_known(t->name, t->sub, snap->arch)) {
		gate_seterr(out->why, sizeof(out->why), "%s.%s is not a %s reason on %s", un, t->sub,
		       t->name, snap->arch);
		return TV_BAD_RULE;
	}
	for (size_t i = 0; i < snap->nr_vms; i++) {
		const struct kl_snap_counts *r = exit ? &snap->vms[i].ex : &snap->vms[i].ue;

		any = any || r->present;
		if (kl_snap_count_get(r, t->sub, &x))	/* only reasons seen are listed */
			sum += x;
	}
	if (!any && snap->nr_vms) {
		gate_seterr(out->why, sizeof(out->why),
		       "unavailable: %s is not in this snapshot (and not listed in \"unavailable\")", un);
		return TV_UNAVAILABLE;
	}
	out->v = (double)sum;
	out->samples = sum;
	return TV_OK;
}

/* The agreement as the snapshot stores it, weighted by each VM's loads compared. */
static enum tv agreement(const struct kl_snap *snap, struct tval *out)
{
	double num = 0;
	uint64_t den = 0;
	bool any = false;

	if (kl_snap_unavailable(snap, "prediction")) {
		gate_seterr(out->why, sizeof(out->why),
		       "unavailable: prediction (its probes are not attached on this kernel)");
		return TV_UNAVAILABLE;
	}
	for (size_t i = 0; i < snap->nr_vms; i++) {
		uint64_t ok, n;

		if (!snap->vms[i].has_pred)
			continue;
		any = true;
		kl_snap_pred_totals(&snap->vms[i].c, &ok, &n);
		if (n)
			num += kl_snap_share(ok, n) * (double)n;
		den += n;
	}
	if (!any && snap->nr_vms) {
		gate_seterr(out->why, sizeof(out->why),
		       "unavailable: prediction is not in this snapshot (and not listed in \"unavailable\")");
		return TV_UNAVAILABLE;
	}
	out->v = den ? num / (double)den : NAN;
	out->samples = den;
	return TV_OK;
}

static enum tv eval_term(const struct gate_term *t, const struct kl_snap *snap,
			 struct tval *out)
{
	enum tv r = TV_BAD;

	memset(out, 0, sizeof(*out));
	switch (t->kind) {
	case GT_COUNTER: r = counter_sum(snap, t->name, out); break;
	case GT_HIST: r = hist_sum(snap, t, out); break;
	case GT_OVERHEAD: return overhead_val(snap, t, out);
	case GT_REASON: r = reason_sum(snap, t, out); break;
	case GT_AGREEMENT: r = agreement(snap, out); break;
	}
	if (r != TV_OK)
		return r;
	if (!snap->nr_vms) {
		gate_seterr(out->why, sizeof(out->why), "no events: the snapshot has no VM");
		r = TV_NO_EVENTS;
	} else {
		r = check_events(snap, gate_term_signals(t), out->why, sizeof(out->why));
	}
	if (r != TV_OK)
		snap_hist_free(&out->h);
	return r;
}

/* sum of an expression's terms; keeps the histogram of a lone term. */
static enum tv eval_expr(const struct gate_expr *e, const struct kl_snap *snap,
			 struct tval *out)
{
	enum tv worst = TV_OK;
	double v = 0;
	int k;

	memset(out, 0, sizeof(*out));
	if (e->n == 1)
		return eval_term(&e->t[0], snap, out);
	for (k = 0; k < e->n; k++) {
		struct tval tv;
		enum tv r = eval_term(&e->t[k], snap, &tv);

		snap_hist_free(&tv.h);
		if (r > worst) {
			worst = r;
			gate_seterr(out->why, sizeof(out->why), "%s", tv.why);
		}
		v += e->sign[k] * tv.v;
	}
	if (worst != TV_OK)
		return worst;
	out->v = v;
	out->samples = kl_snap_count_of(v);
	return TV_OK;
}

/* lhs of a rule on one snapshot. */
static enum tv eval_lhs(const struct gate_rule *r, const struct kl_snap *snap,
			struct tval *out, char *why, size_t wl)
{
	struct tval d;
	enum tv rv, rd;

	rv = eval_expr(&r->num, snap, out);
	if (!r->has_den) {
		if (rv != TV_OK) {
			gate_seterr(why, wl, "%s", out->why);
			snap_hist_free(&out->h);
		}
		return rv;
	}
	rd = eval_expr(&r->den, snap, &d);
	/* a ratio of two histogram stats keeps no distribution */
	snap_hist_free(&out->h);
	snap_hist_free(&d.h);
	out->is_hist = false;
	if (rv != TV_OK || rd != TV_OK) {
		gate_seterr(why, wl, "%s", rd > rv ? d.why : out->why);
		return rd > rv ? rd : rv;
	}
	out->v = d.v ? out->v / d.v : NAN;
	out->samples = d.samples;
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
	const struct gate_term *t = &r->num.t[0];

	if (r->has_den)
		return "ratio";
	if (r->num.n > 1)
		return t->kind == GT_HIST && t->hstat == GH_SUM ? "ns" : "count";
	if (t->kind == GT_HIST)
		return t->hstat == GH_COUNT ? "count" : "ns";
	if (t->kind == GT_AGREEMENT)
		return "ratio";
	if (t->kind == GT_OVERHEAD)
		return strstr(t->name, "_ns") ? "ns" :
		       strstr(t->name, "_pct") ? "%" :
		       strstr(t->name, "_kb") ? "KiB" : "count";
	return "count";
}

/* Unavailable / no events: skipped when the rule's optional covers it. */
static void not_measured(const struct gate_rule *r, enum tv rv,
			 struct gate_result *res)
{
	unsigned int need = rv == TV_NO_EVENTS ? GATE_OPT_NO_EVENTS : GATE_OPT_UNAVAILABLE;

	res->status = r->optional & need ? GATE_SKIP : GATE_FAIL;
	if (res->status == GATE_FAIL && rv == TV_NO_EVENTS) {
		size_t l = strlen(res->msg);

		snprintf(res->msg + l, sizeof(res->msg) - l, "%s",
			 "; nothing was measured (optional(no_events) skips the rule)");
	}
}

/*
 * The rule's value in the baseline into bv, and the bound from it.
 * Returns -1 on bad input, 1 when the baseline measured nothing (res
 * is final), 0 to go on.
 */
static int eval_baseline(const struct gate_rule *r, const struct kl_snap *base,
			 struct tval *bv, struct gate_result *res)
{
	enum tv rv;

	if (!base) {
		snprintf(res->msg, sizeof(res->msg), "rule compares with baseline but no --baseline given");
		res->bad_src = GATE_BAD_RULE;
		return -1;
	}
	rv = eval_lhs(r, base, bv, res->msg, sizeof(res->msg));
	if (rv == TV_BAD || rv == TV_BAD_RULE) {
		res->bad_src = rv == TV_BAD ? GATE_BAD_BASELINE : GATE_BAD_RULE;
		return -1;
	}
	if (rv != TV_OK) {
		char tmp[sizeof(res->msg)];

		snprintf(tmp, sizeof(tmp), "%s", res->msg);
		snprintf(res->msg, sizeof(res->msg), "baseline: %.380s", tmp);
		not_measured(r, rv, res);
		return 1;
	}
	res->base_value = bv->v;
	res->base_samples = bv->samples;
	res->bound = r->factor * bv->v;
	return 0;
}

/* Fewer samples than min_samples, or an undefined value: a failure. */
static bool unjudgeable(const struct gate_rule *r, struct gate_result *res)
{
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
		return true;
	}
	if (isnan(res->value) || isnan(res->bound)) {
		res->status = GATE_FAIL;
		snprintf(res->msg, sizeof(res->msg), "%s is undefined (no samples or zero denominator)",
			 isnan(res->value) ? "value" : "baseline value");
		return true;
	}
	return false;
}

/*
 * Does the new distribution differ from the baseline in the direction
 * the rule forbids?  One-sided two-sample KS on the bucketed data (exact
 * at the shared bucket seams), with the Mann-Whitney statistic reported
 * alongside.  ok: the plain comparison; returns the verdict.
 */
static bool judge_shift(const struct gate_rule *r, const struct tval *nv,
			const struct tval *bv, bool ok, struct gate_result *res)
{
	bool upper = r->op == GOP_LE || r->op == GOP_LT;
	double p;

	res->has_cmp = true;
	if (upper)
		snap_hist_compare(&bv->h, &nv->h, &res->cmp);
	else
		snap_hist_compare(&nv->h, &bv->h, &res->cmp);
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
	return ok;
}

/* Compare value with bound; res->status and, unless it passes, res->msg. */
static void judge(const struct gate_rule *r, const struct tval *nv,
		  const struct tval *bv, struct gate_result *res)
{
	bool ok = compare(res->value, r->op, res->bound);

	if (r->vs_baseline && nv->is_hist && bv->is_hist &&
	    (r->op == GOP_LE || r->op == GOP_LT || r->op == GOP_GE || r->op == GOP_GT)) {
		ok = judge_shift(r, nv, bv, ok, res);
	} else if (!ok) {
		if (r->vs_baseline)
			snprintf(res->msg, sizeof(res->msg), "%.6g %s %.6g (%.4g x baseline %.6g) is false",
				 res->value, gate_op_str(r->op), res->bound, r->factor, res->base_value);
		else
			snprintf(res->msg, sizeof(res->msg), "%.6g %s %.6g is false",
				 res->value, gate_op_str(r->op), res->bound);
	}
	res->status = ok ? GATE_PASS : GATE_FAIL;
}

int gate_eval(const struct gate_rule *r, const struct kl_snap *snap,
	      const struct kl_snap *base, struct gate_result *res)
{
	struct tval nv, bv;
	enum tv rv;
	int ret = 0;

	memset(res, 0, sizeof(*res));
	memset(&bv, 0, sizeof(bv));
	res->unit = unit_of(r);
	res->value = res->base_value = res->bound = NAN;
	rv = eval_lhs(r, snap, &nv, res->msg, sizeof(res->msg));
	if (rv == TV_BAD || rv == TV_BAD_RULE) {
		res->bad_src = rv == TV_BAD ? GATE_BAD_SNAPSHOT : GATE_BAD_RULE;
		return -1;
	}
	if (rv != TV_OK) {
		not_measured(r, rv, res);
		return 0;
	}
	res->value = nv.v;
	res->samples = nv.samples;
	if (r->vs_baseline) {
		ret = eval_baseline(r, base, &bv, res);
		if (ret) {
			snap_hist_free(&nv.h);
			return ret < 0 ? -1 : 0;
		}
	} else {
		res->bound = r->factor;
	}
	if (!unjudgeable(r, res))
		judge(r, &nv, &bv, res);
	snap_hist_free(&nv.h);
	snap_hist_free(&bv.h);
	return 0;
}
