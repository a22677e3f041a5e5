/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * kl_hist.h - log-linear histogram bucket math, shared by BPF and userspace.
 *
 * Values 0..7 get one exact bucket each.  Above that, every power of two
 * [2^p, 2^(p+1)) is split into KL_HIST_SUB (8) equal sub-buckets, so a
 * bucket's width is at most 1/8 of its lower bound: the relative error of
 * any value reconstructed from its bucket is <= 12.5%.
 *
 *   v < 8:        idx = v
 *   v >= 8:       p = floor(log2(v)), s = (v >> (p - 3)) & 7
 *                 idx = (p - 2) * 8 + s
 *   bucket idx covers [lo, hi) with
 *                 lo = (8 + s) << (p - 3), hi = (9 + s) << (p - 3)
 *
 * Values >= 2^(KL_HIST_MAX_POW + 1) land in the last bucket.
 */
#ifndef __KL_HIST_H
#define __KL_HIST_H

#include "kvm_lazytop.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/* floor(log2(v)) for v > 0, branch-light and verifier friendly. */
static __always_inline __u32 kl_log2(__u64 v)
{
	__u32 r = 0, shift;

	shift = (v > 0xffffffffULL) << 5; v >>= shift; r |= shift;
	shift = (v > 0xffffULL) << 4;     v >>= shift; r |= shift;
	shift = (v > 0xffULL) << 3;       v >>= shift; r |= shift;
	shift = (v > 0xfULL) << 2;        v >>= shift; r |= shift;
	shift = (v > 0x3ULL) << 1;        v >>= shift; r |= shift;
	r |= (__u32)(v >> 1);
	return r;
}

static __always_inline __u32 kl_hist_bucket(__u64 v)
{
	__u32 p, s, idx;

	if (v < KL_HIST_SUB)
		return (__u32)v;
	p = kl_log2(v);
	if (p > KL_HIST_MAX_POW)
		return KL_HIST_BUCKETS - 1;
	s = (__u32)(v >> (p - KL_HIST_SUB_BITS)) & (KL_HIST_SUB - 1);
	idx = (p - KL_HIST_SUB_BITS + 1) * KL_HIST_SUB + s;
	return idx < KL_HIST_BUCKETS ? idx : KL_HIST_BUCKETS - 1;
}

/* Inclusive lower bound of bucket idx. */
static __always_inline __u64 kl_hist_bucket_lo(__u32 idx)
{
	__u32 p, s;

	if (idx < KL_HIST_SUB)
		return idx;
	p = idx / KL_HIST_SUB + KL_HIST_SUB_BITS - 1;
	s = idx % KL_HIST_SUB;
	return (__u64)(KL_HIST_SUB + s) << (p - KL_HIST_SUB_BITS);
}

/*
 * Largest value that lands in bucket idx (inclusive upper bound, the
 * Prometheus "le" of the bucket).  The last bucket is open-ended and
 * reports UINT64_MAX.
 */
static __always_inline __u64 kl_hist_bucket_le(__u32 idx)
{
	if (idx >= KL_HIST_BUCKETS - 1)
		return ~0ULL;
	return kl_hist_bucket_lo(idx + 1) - 1;
}

#endif /* __KL_HIST_H */
