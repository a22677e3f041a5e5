/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kl_stats.h - percentiles over the log-linear histogram of bpf/kl_hist.h.
 *
 * Interpolation (the SNAPSHOT.md rule, unit-tested with golden values):
 *   count = sum of all buckets, rank r = ceil(q * count) with q in per-mille
 *   (500, 900, 990, 999) computed in integer arithmetic, r >= 1.
 *   Walk the buckets in ascending order accumulating counts; the bucket i
 *   where cum_before < r <= cum_before + n_i holds the percentile, with
 *   bounds [lo, le] = [kl_hist_bucket_lo(i), kl_hist_bucket_le(i)].
 *   value = lo + floor((le - lo) * (r - cum_before) / n_i), i.e. linear
 *   interpolation by rank inside the bucket, always within [lo, le]; the
 *   exact buckets 0..7 (lo == le) therefore report exact values.  The last
 *   bucket is open-ended (le = UINT64_MAX): it reports its lower bound.
 *   An empty histogram has no percentiles (JSON null).
 */
#ifndef __KL_STATS_H
#define __KL_STATS_H

#include <stdint.h>
#include "kl_common.h"

uint64_t kl_hist_count(const uint64_t *buckets, unsigned int nr);
uint64_t kl_hist_percentile(const uint64_t *buckets, unsigned int nr, unsigned int q_permille);

#endif
