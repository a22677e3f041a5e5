// SPDX-License-Identifier: GPL-2.0-only
/*
 * snap_stats.c - statistics over snapshot histograms (snap_stats.h).
 * Percentiles come from kl_stats.c, the collector's implementation of the
 * SNAPSHOT.md rule, so readers and the collector cannot disagree.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "kl_stats.h"
#include "snap_stats.h"
#include "snapshot_read.h"

const struct snap_pct snap_pcts[SNAP_NPCT] = {
	{ "p50", "p50", 0.5 }, { "p90", "p90", 0.9 },
	{ "p99", "p99", 0.99 }, { "p999", "p99.9", 0.999 },
};

uint64_t snap_bucket_lo(uint64_t le)
{
	return kl_hist_lo_of(le);
}

double snap_hist_quantile(const struct snap_hist *h, double q)
{
	struct kl_qwalk w;
	uint64_t v;
	size_t i;

	if (!h->count || !h->n || isnan(q))
		return NAN;
	q = fmin(fmax(q, 0), 1);
	kl_qwalk_init(&w, h->count, (uint32_t)llround(q * KL_Q_ONE));
	for (i = 0; i < h->n; i++)
		if (kl_qwalk_bucket(&w, h->b[i].le, h->b[i].count, &v))
			return (double)v;
	return (double)h->b[h->n - 1].le;	/* unreachable: counts add up */
}

void snap_json_pcts(struct json_object *h, double out[SNAP_NPCT])
{
	struct snap_hist sh;
	char err[8];
	size_t i;

	for (i = 0; i < SNAP_NPCT; i++)
		out[i] = NAN;
	if (!h || snap_hist_parse(h, &sh, err, sizeof(err)))
		return;
	for (i = 0; i < SNAP_NPCT; i++)
		out[i] = snap_hist_quantile(&sh, snap_pcts[i].q);
	snap_hist_free(&sh);
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
