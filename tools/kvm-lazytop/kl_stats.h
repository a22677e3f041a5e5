/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kl_stats.h - percentiles over the log-linear histogram of bpf/kl_hist.h.
 *
 * The ONE implementation of the SNAPSHOT.md percentile rule: the collector
 * (kl_hist_percentile, for the stored p50..p999) and every snapshot reader
 * (snap_hist_quantile in snap_stats.c: report, diff, HTML, gate, TUI) walk
 * their buckets through kl_qwalk_bucket(), so the same buckets always give
 * the same number.  Unit-tested with golden values in tests/unit.
 *
 *   count = sum of all buckets, rank r = ceil(q * count) computed in integer
 *   arithmetic with q in parts per billion (KL_Q_ONE = 100%; the stored
 *   p50, p90, p99, p999 use 500, 900, 990, 999 per mille), r >= 1.
 *   Walk the buckets in ascending order accumulating counts; the bucket
 *   where cum_before < r <= cum_before + n holds the percentile.  Its bounds
 *   [lo, le] are those of the kl_hist.h bucket that contains le (for the
 *   collector's own buckets: [kl_hist_bucket_lo(i), kl_hist_bucket_le(i)]).
 *   value = lo + floor((le - lo) * (r - cum_before) / n), i.e. linear
 *   interpolation by rank inside the bucket, always within [lo, le]; the
 *   exact buckets 0..7 (lo == le) therefore report exact values.  The last
 *   bucket is open-ended (le = UINT64_MAX): it reports its lower bound.
 *   An empty histogram has no percentiles (JSON null).
 */
#ifndef __KL_STATS_H
#define __KL_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include "kl_common.h"

/* q scale of kl_hist_rank / kl_qwalk: parts per billion, KL_Q_ONE = 1. */
#define KL_Q_ONE	1000000000u

uint64_t kl_hist_count(const uint64_t *buckets, unsigned int nr);
uint64_t kl_hist_percentile(const uint64_t *buckets, unsigned int nr, unsigned int q_permille);

/* rank = ceil(count * q_ppb / KL_Q_ONE) clamped to [1, count]; q_ppb <= KL_Q_ONE. */
uint64_t kl_hist_rank(uint64_t count, uint32_t q_ppb);
/*
 * Inclusive lower bound of the kl_hist.h bucket that holds the value le
 * (le itself below 8; the last, open bucket's lower bound for le >= 2^41).
 */
uint64_t kl_hist_lo_of(uint64_t le);

/* Percentile walk: init, then feed every bucket in ascending le order. */
struct kl_qwalk {
	uint64_t rank;	/* kl_hist_rank() of the histogram's total count */
	uint64_t cum;	/* samples in the buckets fed so far */
};

static inline void kl_qwalk_init(struct kl_qwalk *w, uint64_t count, uint32_t q_ppb)
{
	w->rank = kl_hist_rank(count, q_ppb);
	w->cum = 0;
}

/*
 * Feed the next bucket (inclusive upper bound le, n samples).  True when
 * it holds the rank: *out is then the percentile (stop walking).
 */
bool kl_qwalk_bucket(struct kl_qwalk *w, uint64_t le, uint64_t n, uint64_t *out);

#endif
