/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * snap_stats.h - statistics over snapshot histograms: percentiles (the
 * SNAPSHOT.md rule of kl_stats.h, shared with the collector), merging,
 * cumulative counts, two-sample tests, and the one nanosecond formatter
 * of every renderer.  Readers get histograms from snapshot_read.h
 * (snap_hist_parse, kl_snap_hist_sum).
 */
#ifndef KL_SNAP_STATS_H
#define KL_SNAP_STATS_H

#include <stddef.h>
#include <stdint.h>

struct json_object;

/* Histogram: integer-ns inclusive upper bounds, non-cumulative counts. */
struct snap_bucket {
	uint64_t le;		/* UINT64_MAX = +Inf */
	uint64_t count;
};

struct snap_hist {
	uint64_t count;
	uint64_t sum;		/* ns */
	size_t n;		/* buckets in use, ascending le, unique */
	struct snap_bucket *b;
};

void snap_hist_free(struct snap_hist *h);
/* Add src into dst (merging buckets); 0 ok, -1 out of memory. */
int snap_hist_merge(struct snap_hist *dst, const struct snap_hist *src);
/* Number of samples <= le. */
uint64_t snap_hist_cum(const struct snap_hist *h, uint64_t le);
/*
 * Quantile q in [0,1] in ns: kl_hist_percentile's rule (kl_stats.h,
 * SNAPSHOT.md) with q rounded to parts per billion, so the result is the
 * integer the collector stores for the same buckets.  NAN when the
 * histogram is empty.
 */
double snap_hist_quantile(const struct snap_hist *h, double q);
/* Inclusive lower bound of the kl_hist bucket whose upper bound is le. */
uint64_t snap_bucket_lo(uint64_t le);

/* The percentiles every renderer shows, in this order. */
#define SNAP_NPCT	4
struct snap_pct {
	const char *name;	/* snapshot member: "p50" */
	const char *label;	/* column title: "p50", "p99.9" */
	double q;
};
extern const struct snap_pct snap_pcts[SNAP_NPCT];
/*
 * snap_pcts of a JSON histogram object, recomputed from its buckets (the
 * stored "p50".."p999" members are not read, SNAPSHOT.md); NAN each when
 * the histogram is absent, empty or malformed.
 */
void snap_json_pcts(struct json_object *h, double out[SNAP_NPCT]);

/* Two-sample statistics over binned data (exact at shared bucket seams). */
struct snap_cmp {
	double ks_d;		/* max |F_a - F_b| */
	double ks_d_plus;	/* max (F_a - F_b): b stochastically larger */
	double ks_p;		/* asymptotic two-sided p-value of ks_d */
	double ks_p_plus;	/* one-sided p-value of ks_d_plus */
	double mw_auc;		/* P(b > a) + P(b == a)/2, tie = same bucket */
	double mw_z;		/* normal approx., tie-corrected; >0: b larger */
	double mw_p_plus;	/* one-sided p-value that b is larger */
};
void snap_hist_compare(const struct snap_hist *a, const struct snap_hist *b,
		       struct snap_cmp *out);

/*
 * The nanosecond formatter of every renderer (text, TUI, diff, HTML):
 * "812ns", "1.25us", "3.10ms", "2.00s"; "-" for NAN.
 */
const char *snap_fmt_ns(double ns, char *buf, size_t len);

#endif /* KL_SNAP_STATS_H */
