// SPDX-License-Identifier: GPL-2.0-only
/* kl_stats.c - histogram percentiles, see kl_stats.h for the rule. */
#include "kl_stats.h"
#include "../../bpf/kl_hist.h"

uint64_t kl_hist_count(const uint64_t *buckets, unsigned int nr)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < nr; i++)
		n += buckets[i];
	return n;
}

uint64_t kl_hist_percentile(const uint64_t *buckets, unsigned int nr, unsigned int q_permille)
{
	unsigned __int128 r128;
	uint64_t count, rank, cum = 0;

	if (nr > KL_HIST_BUCKETS)
		nr = KL_HIST_BUCKETS;
	count = kl_hist_count(buckets, nr);
	if (!count)
		return 0;
	if (q_permille > 1000)
		q_permille = 1000;
	r128 = ((unsigned __int128)count * q_permille + 999) / 1000;
	rank = r128 ? (uint64_t)r128 : 1;
	for (unsigned int i = 0; i < nr; i++) {
		uint64_t n = buckets[i], lo, le;

		if (!n || cum + n < rank) {
			cum += n;
			continue;
		}
		lo = kl_hist_bucket_lo(i);
		le = kl_hist_bucket_le(i);
		if (i == KL_HIST_BUCKETS - 1)
			return lo;
		return lo + (uint64_t)((unsigned __int128)(le - lo) * (rank - cum) / n);
	}
	return 0;	/* unreachable: rank <= count */
}
