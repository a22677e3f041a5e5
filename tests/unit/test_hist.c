// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_hist.c - bucket math of bpf/kl_hist.h and the percentile rule of
 * kl_stats.h, with hand-computed golden values (derivations inline).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kl_stats.h"
#include "../../bpf/kl_hist.h"

static void test_bucket_edges(void **state)
{
	(void)state;
	/* 0..7 exact */
	assert_int_equal(kl_hist_bucket(0), 0);
	assert_int_equal(kl_hist_bucket(7), 7);
	/* 8..15: p = 3, width 1 -> still exact: idx = (3-2)*8 + s */
	assert_int_equal(kl_hist_bucket(8), 8);
	assert_int_equal(kl_hist_bucket(15), 15);
	/* 16: p = 4, s = (16 >> 1) & 7 = 0 -> idx 16; 17 shares it */
	assert_int_equal(kl_hist_bucket(16), 16);
	assert_int_equal(kl_hist_bucket(17), 16);
	assert_int_equal(kl_hist_bucket(18), 17);
	/* 2^40 = last power: idx = (40-2)*8 + 0 = 304 */
	assert_int_equal(kl_hist_bucket(1ULL << 40), 304);
	/* everything >= 2^41 clamps to the last bucket */
	assert_int_equal(kl_hist_bucket(1ULL << 41), KL_HIST_BUCKETS - 1);
	assert_int_equal(kl_hist_bucket(UINT64_MAX), KL_HIST_BUCKETS - 1);
	assert_int_equal(KL_HIST_BUCKETS, 312);
}

static void test_powers_of_two(void **state)
{
	(void)state;
	for (int p = 3; p <= 40; p++) {
		uint64_t v = 1ULL << p;
		uint32_t b = kl_hist_bucket(v);

		/* 2^p starts sub-bucket 0 of its power, 2^p - 1 ends the previous power */
		assert_int_equal(b, (uint32_t)(p - 2) * 8);
		assert_int_equal(kl_hist_bucket(v - 1), b - 1);
		assert_int_equal(kl_hist_bucket_lo(b), v);
		assert_int_equal(kl_hist_bucket_le(b - 1), v - 1);
		if (p >= 4)	/* width >= 2 from p = 4 on */
			assert_int_equal(kl_hist_bucket(v + 1), b);
		else
			assert_int_equal(kl_hist_bucket(v + 1), b + 1);
	}
}

static void test_lo_le_roundtrip(void **state)
{
	(void)state;
	for (uint32_t i = 0; i < KL_HIST_BUCKETS; i++) {
		assert_int_equal(kl_hist_bucket(kl_hist_bucket_lo(i)), i);
		if (i < KL_HIST_BUCKETS - 1) {
			assert_int_equal(kl_hist_bucket(kl_hist_bucket_le(i)), i);
			assert_int_equal(kl_hist_bucket_le(i) + 1, kl_hist_bucket_lo(i + 1));
		}
	}
	assert_true(kl_hist_bucket_le(KL_HIST_BUCKETS - 1) == UINT64_MAX);
}

/* Any value reconstructed as its bucket's lower bound is within 12.5%. */
static void test_relative_error_sweep(void **state)
{
	(void)state;
	for (uint64_t v = 1; v < (1ULL << 41); v = v + v / 7 + 1) {
		uint32_t b = kl_hist_bucket(v);
		uint64_t lo = kl_hist_bucket_lo(b), le = kl_hist_bucket_le(b);

		assert_true(lo <= v && v <= le);
		assert_true((double)(v - lo) / (double)v <= 0.125);
		assert_true((double)(le - lo + 1) / (double)lo <= 0.125 || lo < 8);
	}
}

static void put(uint64_t *b, uint64_t v, uint64_t n)
{
	b[kl_hist_bucket(v)] += n;
}

static void test_percentile_empty(void **state)
{
	uint64_t b[KL_HIST_BUCKETS] = { 0 };

	(void)state;
	assert_int_equal(kl_hist_count(b, KL_HIST_BUCKETS), 0);
	assert_int_equal(kl_hist_percentile(b, KL_HIST_BUCKETS, 500), 0);
}

/*
 * One sample of 1000: bucket p = 9, s = (1000 >> 6) & 7 = 7 ->
 * [960, 1023].  rank = ceil(q * 1) = 1 for every q, so
 * value = 960 + (1023 - 960) * 1 / 1 = 1023 (the bucket's upper bound).
 */
static void test_percentile_single(void **state)
{
	uint64_t b[KL_HIST_BUCKETS] = { 0 };

	(void)state;
	put(b, 1000, 1);
	assert_int_equal(kl_hist_percentile(b, KL_HIST_BUCKETS, 500), 1023);
	assert_int_equal(kl_hist_percentile(b, KL_HIST_BUCKETS, 999), 1023);
}

/*
 * 1..100 once each (count 100).  Values < 16 are exact buckets, 16..31
 * width 2, 32..63 width 4, 64..127 width 8.
 *  p50: rank 50; cum before [48,51] = 47, n = 4, r - cum = 3:
 *       48 + 3 * 3 / 4 = 48 + 2 = 50
 *  p90: rank 90; cum before [88,95] = 87, n = 8, r - cum = 3:
 *       88 + 7 * 3 / 8 = 88 + 2 = 90
 *  p99: rank 99; bucket [96,103] holds 96..100 (n = 5), cum before 95:
 *       96 + 7 * 4 / 5 = 96 + 5 = 101
 *  p99.9: rank ceil(99.9) = 100: 96 + 7 * 5 / 5 = 103
 */
static void test_percentile_1_to_100(void **state)
{
	uint64_t b[KL_HIST_BUCKETS] = { 0 };

	(void)state;
	for (uint64_t v = 1; v <= 100; v++)
		put(b, v, 1);
	assert_int_equal(kl_hist_count(b, KL_HIST_BUCKETS), 100);
	assert_int_equal(kl_hist_percentile(b, KL_HIST_BUCKETS, 500), 50);
	assert_int_equal(kl_hist_percentile(b, KL_HIST_BUCKETS, 900), 90);
	assert_int_equal(kl_hist_percentile(b, KL_HIST_BUCKETS, 990), 101);
	assert_int_equal(kl_hist_percentile(b, KL_HIST_BUCKETS, 999), 103);
}

/* Exact buckets report exact values: {0 x10, 5 x10}: p50 rank 10 -> 0, p90 rank 18 -> 5. */
static void test_percentile_exact(void **state)
{
	uint64_t b[KL_HIST_BUCKETS] = { 0 };

	(void)state;
	put(b, 0, 10);
	put(b, 5, 10);
	assert_int_equal(kl_hist_percentile(b, KL_HIST_BUCKETS, 500), 0);
	assert_int_equal(kl_hist_percentile(b, KL_HIST_BUCKETS, 900), 5);
}

/* Open-ended last bucket reports its lower bound 15 << 37. */
static void test_percentile_last_bucket(void **state)
{
	uint64_t b[KL_HIST_BUCKETS] = { 0 };

	(void)state;
	put(b, UINT64_MAX, 1);
	assert_true(kl_hist_percentile(b, KL_HIST_BUCKETS, 500) == (15ULL << 37));
}

/*
 * Rank is integer arithmetic: 1000 samples, 999 of 100 ns and one of
 * 10 us: p99.9 = rank 999 -> still 100 ns' bucket [96,103] (n = 999,
 * r - cum = 999): 96 + 7 * 999 / 999 = 103; 1000 samples would need q = 1.
 */
static void test_percentile_rank_exact(void **state)
{
	uint64_t b[KL_HIST_BUCKETS] = { 0 };

	(void)state;
	put(b, 100, 999);
	put(b, 10000, 1);
	assert_int_equal(kl_hist_percentile(b, KL_HIST_BUCKETS, 999), 103);
	/* q = 1.0: the 10 us bucket [9728, 10239] -> upper bound */
	assert_int_equal(kl_hist_percentile(b, KL_HIST_BUCKETS, 1000), 10239);
}

/* Huge counts do not overflow the rank computation. */
static void test_percentile_huge_counts(void **state)
{
	uint64_t b[KL_HIST_BUCKETS] = { 0 };

	(void)state;
	put(b, 3, UINT64_MAX / 4);
	put(b, 6, UINT64_MAX / 4);
	assert_int_equal(kl_hist_percentile(b, KL_HIST_BUCKETS, 500), 3);
	assert_int_equal(kl_hist_percentile(b, KL_HIST_BUCKETS, 990), 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_edges),
		cmocka_unit_test(test_powers_of_two),
		cmocka_unit_test(test_lo_le_roundtrip),
		cmocka_unit_test(test_relative_error_sweep),
		cmocka_unit_test(test_percentile_empty),
		cmocka_unit_test(test_percentile_single),
		cmocka_unit_test(test_percentile_1_to_100),
		cmocka_unit_test(test_percentile_exact),
		cmocka_unit_test(test_percentile_last_bucket),
		cmocka_unit_test(test_percentile_rank_exact),
		cmocka_unit_test(test_percentile_huge_counts),
	};

	return cmocka_run_group_tests_name("hist", tests, NULL, NULL);
}
