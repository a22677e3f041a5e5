// SPDX-License-Identifier: GPL-2.0
/*
 * test_quantile.c - one histogram, one set of percentiles (issue 15).
 *
 * The collector stores p50..p999 (kl_hist_percentile, kl_stats.c) and the
 * readers recompute them from the buckets (snap_hist_quantile): report,
 * diff, HTML and gate.  For the same buckets both must give the same
 * number, for every per-mille quantile, on exact, interpolated, open-ended
 * and huge-count buckets.  The bucket bounds come from bpf/kl_hist.h only.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "kl_snapshot.h"
#include "kl_stats.h"
#include "snapshot_read.h"
#include "../../bpf/kl_hist.h"

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)	/* xorshift64: reproducible */
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* The collector's JSON histogram of b, read back as the readers do. */
static void reader_hist(const uint64_t *b, struct snap_hist *h, struct json_object **js)
{
	char err[128];

	*js = kl_hist_json(b, 0);
	assert_non_null(*js);
	if (snap_hist_parse(*js, h, err, sizeof(err)))
		fail_msg("snap_hist_parse: %s", err);
}

static void check_all_quantiles(const uint64_t *b)
{
	static const char *const keys[] = { "p50", "p90", "p99", "p999" };
	static const unsigned int pm_keys[] = { 500, 900, 990, 999 };
	struct json_object *js;
	struct snap_hist h;

	reader_hist(b, &h, &js);
	for (unsigned int pm = 0; pm <= 1000; pm++) {
		uint64_t want = kl_hist_percentile(b, KL_HIST_BUCKETS, pm);
		double got = snap_hist_quantile(&h, pm / 1000.0);

		if (got != (double)want)
			fail_msg("q=%u/1000: reader %.3f, collector %llu", pm, got,
				 (unsigned long long)want);
	}
	/* the stored members are the same numbers */
	for (size_t i = 0; i < 4; i++) {
		uint64_t stored;

		assert_true(snap_get_u64(js, keys[i], &stored));
		assert_true((double)stored == snap_hist_quantile(&h, pm_keys[i] / 1000.0));
	}
	snap_hist_free(&h);
	json_object_put(js);
}

static void test_random_histograms(void **state)
{
	static uint64_t b[KL_HIST_BUCKETS];

	(void)state;
	for (int round = 0; round < 300; round++) {
		unsigned int nb = 1 + (unsigned int)(rnd() % 12);
		uint64_t scale = round % 3 == 0 ? 5 : round % 3 == 1 ? 100000 : 1ull << 40;

		memset(b, 0, sizeof(b));
		for (unsigned int k = 0; k < nb; k++)
			b[rnd() % KL_HIST_BUCKETS] += 1 + rnd() % scale;
		check_all_quantiles(b);
	}
}

static void test_seams(void **state)
{
	static uint64_t b[KL_HIST_BUCKETS];

	(void)state;
	/* one sample in every bucket: exact, interpolated and the open last one */
	for (unsigned int i = 0; i < KL_HIST_BUCKETS; i++)
		b[i] = 1 + i % 7;
	check_all_quantiles(b);
	/* the golden fixture's fault_latency_ns: 1012.5 by double interpolation */
	memset(b, 0, sizeof(b));
	b[kl_hist_bucket(1023)] = 6000;
	b[kl_hist_bucket(1151)] = 3000;
	b[kl_hist_bucket(1535)] = 900;
	b[kl_hist_bucket(2047)] = 90;
	b[kl_hist_bucket(4095)] = 10;
	check_all_quantiles(b);
	assert_int_equal(kl_hist_percentile(b, KL_HIST_BUCKETS, 500), 1012);
}

/* Reader bucket bounds are kl_hist.h's, for every bucket. */
static void test_bucket_lo(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < KL_HIST_BUCKETS; i++)
		assert_true(snap_bucket_lo(kl_hist_bucket_le(i)) == kl_hist_bucket_lo(i));
}

/* Stored pNN members that disagree with the buckets are not used. */
static void test_stored_fields_ignored(void **state)
{
	static const char *const js =
		"{\"unit\":\"ns\",\"count\":10000,\"sum\":11000000,\"p50\":0,\"p90\":0,"
		"\"p99\":0,\"p999\":0,\"buckets\":[{\"le\":1023,\"count\":6000},"
		"{\"le\":1151,\"count\":3000},{\"le\":1535,\"count\":900},"
		"{\"le\":2047,\"count\":90},{\"le\":4095,\"count\":10}]}";
	struct json_object *o = json_tokener_parse(js);
	struct snap_hist h;
	char err[128];

	(void)state;
	assert_non_null(o);
	assert_int_equal(snap_hist_parse(o, &h, err, sizeof(err)), 0);
	assert_true(snap_hist_quantile(&h, 0.5) == 1012);
	assert_true(snap_hist_quantile(&h, 0.99) == 1535);
	snap_hist_free(&h);
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_histograms),
		cmocka_unit_test(test_seams),
		cmocka_unit_test(test_bucket_lo),
		cmocka_unit_test(test_stored_fields_ignored),
	};

	return cmocka_run_group_tests_name("quantile", tests, NULL, NULL);
}
