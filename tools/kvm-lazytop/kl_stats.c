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

uint64_t kl_hist_rank(uint64_t count, uint32_t q_ppb)
{
	unsigned __int128 r;

	if (q_ppb > KL_Q_ONE)
		q_ppb = KL_Q_ONE;
	r = ((unsigned __int128)count * q_ppb + KL_Q_ONE - 1) / KL_Q_ONE;
	if (r < 1)
		return 1;
	return r > count ? count : (uint64_t)r;
}

uint64_t kl_hist_lo_of(uint64_t le)
{
	return kl_hist_bucket_lo(kl_hist_bucket(le));
}

bool kl_qwalk_bucket(struct kl_qwalk *w, uint64_t le, uint64_t n, uint64_t *out)
{
	uint32_t idx;
	uint64_t lo;

	if (!n || w->cum + n < w->rank) {
		w->cum += n;
		return false;
	}
	idx = kl_hist_bucket(le);
	lo = kl_hist_bucket_lo(idx);
	if (idx == KL_HIST_BUCKETS - 1)
		*out = lo;		/* open-ended: no upper bound to interpolate to */
	else
		*out = lo + (uint64_t)((unsigned __int128)(le - lo) * (w->rank - w->cum) / n);
	return true;
}

uint64_t kl_hist_percentile(const uint64_t *buckets, unsigned int nr, unsigned int q_permille)
{
	struct kl_qwalk w;
	uint64_t count, v;

	if (nr > KL_HIST_BUCKETS)
		nr = KL_HIST_BUCKETS;
	count = kl_hist_count(buckets, nr);
	if (!count)
		return 0;
	if (q_permille > 1000)
		q_permille = 1000;
	kl_qwalk_init(&w, count, q_permille * (KL_Q_ONE / 1000));
	for (unsigned int i = 0; i < nr; i++)
		if (kl_qwalk_bucket(&w, kl_hist_bucket_le(i), buckets[i], &v))
			return v;
	return 0;	/* unreachable: rank <= count */
}
