// SPDX-License-Identifier: GPL-2.0
/*
 * test_exports.c - cmocka unit tests of the exporter code: snapshot
 * reader, quantiles, Prometheus exposition (bucket seams, escaping,
 * golden file), gate rule parser and evaluation, KS/Mann-Whitney.
 * Run from the top of the tree (paths of tests/unit/exports/data).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "gate.h"
#include "kl_model.h"
#include "prom_internal.h"
#include "snapshot_read.h"

#define DATA "tests/unit/exports/data/"
#define GOLDEN "tests/unit/exports/golden/"

static char *prom_text(struct json_object *s, bool vcpu, bool om)
{
	struct prom_opts o = { .per_vcpu = vcpu, .openmetrics = om, .vm_buckets = true };
	char *buf = NULL, err[256];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct kl_snap m;

	assert_non_null(f);
	if (kl_snap_read(&m, s, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(prom_write_snap(f, &m, &o), 0);
	kl_snap_free(&m);
	fclose(f);
	return buf;
}

static struct json_object *load(const char *path)
{
	char err[256];
	struct json_object *s = snap_load(path, err, sizeof(err));

	if (!s)
		fail_msg("%s", err);
	return s;
}

static void test_fmt_seconds(void **st)
{
	char b[40];

	(void)st;
	prom_fmt_ns_seconds(0, b, sizeof(b));
	assert_string_equal(b, "0");
	prom_fmt_ns_seconds(1023, b, sizeof(b));
	assert_string_equal(b, "0.000001023");
	prom_fmt_ns_seconds(1500000000, b, sizeof(b));
	assert_string_equal(b, "1.5");
	prom_fmt_ns_seconds(2000000000, b, sizeof(b));
	assert_string_equal(b, "2");
	prom_fmt_ns_seconds(UINT64_MAX, b, sizeof(b));
	assert_string_equal(b, "18446744073.709551615");
}

/*
 * Every exposed bound is a collector bucket seam: lo(le + 1) == le + 1;
 * 28 power-of-two bounds, 2^8 - 1 ns .. 2^35 - 1 ns (issue 14: was 77).
 */
static void test_bounds_are_seams(void **st)
{
	uint64_t b[96];
	size_t n = prom_bucket_bounds(b, 96), i;

	(void)st;
	assert_int_equal(n, 28);
	assert_int_equal(b[0], 255);
	assert_int_equal(b[n - 1], (1ull << 35) - 1);
	for (i = 0; i < n; i++) {
		assert_int_equal(snap_bucket_lo(b[i] + 1), b[i] + 1);
		assert_int_equal(b[i] & (b[i] + 1), 0);	/* 2^p - 1 */
		if (i)
			assert_true(b[i] > b[i - 1]);
	}
}

static void test_bucket_lo(void **st)
{
	(void)st;
	assert_int_equal(snap_bucket_lo(0), 0);
	assert_int_equal(snap_bucket_lo(7), 7);
	assert_int_equal(snap_bucket_lo(8), 8);
	assert_int_equal(snap_bucket_lo(1023), 960);
	assert_int_equal(snap_bucket_lo(1151), 1024);
	assert_int_equal(snap_bucket_lo(1663), 1536);
	assert_int_equal(snap_bucket_lo(UINT64_MAX), 15ull << 37);
}

/* A value equal to a bound is in that bound's bucket (le semantics). */
static void test_prom_seams(void **st)
{
	struct json_object *s = load(DATA "golden.json");
	char *t = prom_text(s, false, false);

	(void)st;
	/* exit_latency_ns: 7 x1, (960,1023] x5, (1024,1151] x3, (1152..1535] x2, (1536,1663] x1, +Inf x1 */
#define L "kvm_lazytop_exit_latency_seconds_bucket{vm_pid=\"4242\",vm_name=\"vm \\\"one\\\"\\\\x\",reason=\"STORE_GUEST_PAGE_FAULT\","
	assert_non_null(strstr(t, L "le=\"0.000000255\"} 1\n"));
	assert_non_null(strstr(t, L "le=\"0.000000511\"} 1\n"));
	assert_non_null(strstr(t, L "le=\"0.000001023\"} 6\n"));
	assert_non_null(strstr(t, L "le=\"0.000002047\"} 12\n"));
	assert_non_null(strstr(t, L "le=\"34.359738367\"} 12\n"));
	assert_non_null(strstr(t, L "le=\"+Inf\"} 13\n"));
	assert_null(strstr(t, L "le=\"0.000001535\"}"));
	assert_non_null(strstr(t, "kvm_lazytop_exit_latency_seconds_count{vm_pid=\"4242\",vm_name=\"vm \\\"one\\\"\\\\x\",reason=\"STORE_GUEST_PAGE_FAULT\"} 13\n"));
	assert_non_null(strstr(t, "kvm_lazytop_exit_latency_seconds_sum{vm_pid=\"4242\",vm_name=\"vm \\\"one\\\"\\\\x\",reason=\"STORE_GUEST_PAGE_FAULT\"} 3000.000012817\n"));
	/* the by-reason split is the family: no unlabelled total beside it */
	assert_null(strstr(t, "kvm_lazytop_exit_latency_seconds_count{vm_pid=\"4242\",vm_name=\"vm \\\"one\\\"\\\\x\"}"));
	assert_null(strstr(t, "by_reason"));
#undef L
	/* unavailable metrics are omitted, never 0 */
	assert_null(strstr(t, "fast_page_faults_total"));
	assert_null(strstr(t, "kvm_lazytop_vcpu_load_seconds"));
	assert_non_null(strstr(t, "kvm_lazytop_metric_unavailable{metric=\"fast_page_faults\"} 1\n"));
	assert_non_null(strstr(t, "kvm_lazytop_probe_status{signal=\"fentry_vcpu_load\",state=\"refused\"} 1\n"));
	assert_non_null(strstr(t, "kvm_lazytop_gstage_faults_total{vm_pid=\"4242\",vm_name=\"vm \\\"one\\\"\\\\x\",reason=\"spurious\",path=\"fast\"} 50\n"));
	assert_null(strstr(t, "vcpu=\""));
	free(t);
	json_object_put(s);
}

static void test_prom_vcpu_and_om(void **st)
{
	struct json_object *s = load(DATA "golden.json");
	char *t = prom_text(s, true, true);

	(void)st;
	assert_non_null(strstr(t, "kvm_lazytop_dirty_pages_total{vm_pid=\"4242\",vm_name=\"vm \\\"one\\\"\\\\x\",vcpu=\"0\"} 2048\n"));
	assert_non_null(strstr(t, "# TYPE kvm_lazytop_dirty_pages counter\n"));
	assert_non_null(strstr(t, "\n# EOF\n"));
	free(t);
	json_object_put(s);
}

/* Golden exposition: UPDATE_GOLDEN=1 rewrites it. */
static void test_prom_golden(void **st)
{
	struct json_object *s = load(DATA "golden.json");
	char *t = prom_text(s, false, false), *g = NULL;
	size_t gl = 0;
	FILE *f;

	(void)st;
	if (getenv("UPDATE_GOLDEN")) {
		f = fopen(GOLDEN "golden.prom", "w");
		assert_non_null(f);
		fputs(t, f);
		fclose(f);
	}
	f = fopen(GOLDEN "golden.prom", "r");
	assert_non_null(f);
	g = calloc(1, 1 << 20);
	gl = fread(g, 1, (1 << 20) - 1, f);
	fclose(f);
	assert_int_equal(gl, strlen(t));
	assert_string_equal(g, t);
	free(g);
	free(t);
	json_object_put(s);
}

/* arm64 pKVM snapshot: state sync, guest fault and skip-ratio families. */
static void test_prom_arm64(void **st)
{
	struct json_object *s = load(DATA "arm64.json");
	char *t = prom_text(s, false, false), *v, *o;

	(void)st;
#define VM "vm_pid=\"311\",vm_name=\"lazy_state_test\""
	assert_non_null(strstr(t, "# HELP kvm_lazytop_pkvm_state_syncs_total "));
	assert_non_null(strstr(t, "# TYPE kvm_lazytop_pkvm_state_syncs_total counter\n"));
	assert_non_null(strstr(t, "kvm_lazytop_pkvm_state_syncs_total{" VM ",dir=\"to_hyp\",reason=\"skip_hyp_current\",path=\"fast\"} 1809\n"));
	assert_non_null(strstr(t, "kvm_lazytop_pkvm_state_syncs_total{" VM ",dir=\"to_host\",reason=\"sync_trap\",path=\"slow\"} 221\n"));
	assert_non_null(strstr(t, "kvm_lazytop_pkvm_state_syncs_total{" VM ",dir=\"to_host\",reason=\"skip_irq\",path=\"fast\"} 1829\n"));
	assert_non_null(strstr(t, "# TYPE kvm_lazytop_pkvm_state_sync_skip_ratio gauge\n"));
	/* exact: skipped / events, not the rounded skip_share */
	assert_non_null(strstr(t, "kvm_lazytop_pkvm_state_sync_skip_ratio{" VM ",dir=\"to_hyp\"} 0.88243902439024391\n"));
	assert_non_null(strstr(t, "# TYPE kvm_lazytop_guest_faults_total counter\n"));
	assert_non_null(strstr(t, "kvm_lazytop_guest_faults_total{" VM ",access=\"write\"} 51\n"));
	assert_non_null(strstr(t, "# TYPE kvm_lazytop_guest_faults_by_status_total counter\n"));
	assert_non_null(strstr(t, "kvm_lazytop_guest_faults_by_status_total{" VM ",status=\"permission\"} 12\n"));
	assert_non_null(strstr(t, "kvm_lazytop_exit_reasons_total{" VM ",reason=\"DABT_LOW\"} 850\n"));
	assert_non_null(strstr(t, "kvm_lazytop_exit_reasons_total{" VM ",reason=\"IRQ\"} 850\n"));
	assert_non_null(strstr(t, "kvm_lazytop_exit_latency_seconds_count{" VM ",reason=\"WFx\"} 100\n"));
	assert_non_null(strstr(t, "kvm_lazytop_vcpu_load_seconds_count{" VM ",reason=\"unknown\"} 40\n"));
	assert_null(strstr(t, "kvm_lazytop_exit_latency_seconds_count{" VM "}"));
	/* no generic fallback family for the known counters */
	assert_null(strstr(t, "kvm_lazytop_pkvm_sync_"));
	assert_null(strstr(t, "kvm_lazytop_guest_fault_read"));
	/* per vCPU and OpenMetrics */
	v = prom_text(s, true, true);
	assert_non_null(strstr(v, "# TYPE kvm_lazytop_pkvm_state_syncs counter\n"));
	assert_non_null(strstr(v, "kvm_lazytop_pkvm_state_syncs_total{" VM ",vcpu=\"1\",dir=\"to_host\",reason=\"skip_irq\",path=\"fast\"} 939\n"));
	assert_non_null(strstr(v, "kvm_lazytop_guest_faults_total{" VM ",vcpu=\"0\",access=\"write\"} 25\n"));
#undef VM
	/* the x86 golden snapshot has none of them */
	json_object_put(s);
	s = load(DATA "golden.json");
	o = prom_text(s, false, false);
	assert_null(strstr(o, "pkvm"));
	assert_null(strstr(o, "guest_faults"));
	free(o);
	free(v);
	free(t);
	json_object_put(s);
}

/* Golden exposition of the arm64 snapshot: UPDATE_GOLDEN=1 rewrites it. */
static void test_prom_golden_arm64(void **st)
{
	struct json_object *s = load(DATA "arm64.json");
	char *t = prom_text(s, false, false), *g = NULL;
	size_t gl = 0;
	FILE *f;

	(void)st;
	if (getenv("UPDATE_GOLDEN")) {
		f = fopen(GOLDEN "arm64.prom", "w");
		assert_non_null(f);
		fputs(t, f);
		fclose(f);
	}
	f = fopen(GOLDEN "arm64.prom", "r");
	assert_non_null(f);
	g = calloc(1, 1 << 20);
	gl = fread(g, 1, (1 << 20) - 1, f);
	fclose(f);
	assert_int_equal(gl, strlen(t));
	assert_string_equal(g, t);
	free(g);
	free(t);
	json_object_put(s);
}

static void test_reader_versions(void **st)
{
	char err[256];
	struct json_object *o;

	(void)st;
	o = snap_parse("{\"schema_version\":\"2.0\",\"vms\":[]}", 34, err, sizeof(err));
	assert_null(o);
	assert_non_null(strstr(err, "unsupported schema_version 2.0"));
	assert_null(strchr(err, '\n'));
	o = snap_parse("{\"schema_version\":\"1.7\",\"vms\":[]}", 34, err, sizeof(err));
	assert_non_null(o);	/* newer MINOR is fine */
	json_object_put(o);
	assert_null(snap_parse("{\"schema_version\":\"x\",\"vms\":[]}", 32, err, sizeof(err)));
	assert_null(snap_parse("{\"vms\":[]}", 10, err, sizeof(err)));
	assert_null(snap_parse("[1]", 3, err, sizeof(err)));
	assert_null(snap_parse("{\"schema_version\":\"1.0\",\"vms\":[]} x", 36, err, sizeof(err)));
	assert_null(snap_parse("{\"schema_version\":\"1.0\",\"vms\":[", 31, err, sizeof(err)));
}

static struct snap_hist mk(const uint64_t (*b)[2], size_t n)
{
	struct snap_hist h = { 0 };
	size_t i;

	h.b = calloc(n, sizeof(*h.b));
	for (i = 0; i < n; i++) {
		h.b[i].le = b[i][0];
		h.b[i].count = b[i][1];
		h.count += b[i][1];
	}
	h.n = n;
	return h;
}

static void test_quantiles(void **st)
{
	static const uint64_t b[][2] = { { 1023, 6000 }, { 1151, 3000 }, { 1535, 900 },
					 { 2047, 90 }, { 4095, 10 } };
	struct snap_hist h = mk(b, 5);

	(void)st;
	/* rank 5000 in [960,1023]: 960 + floor(63 * 5000/6000) = 1012 (SNAPSHOT.md) */
	assert_float_equal(snap_hist_quantile(&h, 0.5), 1012, 1e-9);
	/* rank 9000 = last of (1088,1151] */
	assert_float_equal(snap_hist_quantile(&h, 0.9), 1151, 1e-9);
	assert_float_equal(snap_hist_quantile(&h, 0.99), 1535, 1e-9);
	/* rank 9990 = last of (1920,2047]: 2047 */
	assert_float_equal(snap_hist_quantile(&h, 0.999), 2047, 1e-9);
	/* rank 1 in first bucket: 960 + floor(63/6000) */
	assert_float_equal(snap_hist_quantile(&h, 0), 960, 1e-9);
	snap_hist_free(&h);
	h = mk(NULL, 0);
	assert_true(isnan(snap_hist_quantile(&h, 0.5)));
	snap_hist_free(&h);
}

static void test_compare(void **st)
{
	static const uint64_t a[][2] = { { 1023, 500 }, { 2047, 500 } };
	static const uint64_t b[][2] = { { 1023, 100 }, { 2047, 900 } };
	struct snap_hist ha = mk(a, 2), hb = mk(b, 2);
	struct snap_cmp c;

	(void)st;
	snap_hist_compare(&ha, &ha, &c);
	assert_float_equal(c.ks_d, 0, 1e-12);
	assert_float_equal(c.mw_auc, 0.5, 1e-12);
	assert_true(c.ks_p_plus > 0.99);
	snap_hist_compare(&ha, &hb, &c);
	assert_float_equal(c.ks_d, 0.4, 1e-12);
	assert_float_equal(c.ks_d_plus, 0.4, 1e-12);
	/* P(b > a) + P(tie)/2 = 0.9*0.5 + (0.1*0.5 + 0.9*0.5)/2 = 0.7 */
	assert_float_equal(c.mw_auc, 0.7, 1e-12);
	assert_true(c.mw_z > 10);
	assert_true(c.ks_p_plus < 1e-6);
	snap_hist_free(&ha);
	snap_hist_free(&hb);
}

static void test_gate_parse(void **st)
{
	static const char *const good[] = {
		"gstage_fault_fast / gstage_fault_* >= 0.99 min_samples 10000",
		"fault_latency_ns.p99 <= 1.10 * baseline",
		"fault_latency_ns.p99 <= baseline * 1.1 alpha 0.05 min_samples 10",
		"vcpu_load_fast ratio >= 0.9",
		"  # only a comment",
		"",
		"dirty_pages == 4096 # trailing comment",
		"kvm_run_ns.p99.9 < 1e9",
		"overhead.drops.clock_skew == 0",
		"reasons.exit.STORE_GUEST_PAGE_FAULT > 0 optional",
	};
	static const char *const bad[] = {
		"gstage_fault_fast >=", "nope >= 1", "fault_latency_ns.p5 < 1",
		"fault_latency_ns.bogus < 1", "dirty_pages >= 1 min_samples -1",
		"dirty_pages ~ 1", "kvm_runs ratio >= 0.5", "dirty_pages >= 1 *",
		"dirty_pages >= 1 alpha 2", "dirty_pages >= x", "dirty_pages >= 1 2",
		"overhead. > 1", "reasons.foo.bar > 1", "dirty_pages >= 1 \x01",
	};
	struct gate_rules r;
	char err[256];
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int rc = gate_parse(good[i], strlen(good[i]), &r, err, sizeof(err));

		if (rc)
			fail_msg("'%s': %s", good[i], err);
		gate_rules_free(&r);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (!gate_parse(bad[i], strlen(bad[i]), &r, err, sizeof(err)))
			fail_msg("accepted '%s'", bad[i]);
		assert_true(err[0] == '1' && err[1] == ':');
	}
	assert_int_equal(gate_parse("a\n\nkvm_runs >= 1\nkvm_runs >=\n", 28, &r, err, sizeof(err)), -1);
	assert_int_equal(strncmp(err, "1:", 2), 0);
	assert_int_equal(gate_parse("\nkvm_runs >= 1\nkvm_runs >= \n", 28, &r, err, sizeof(err)), -1);
	assert_int_equal(strncmp(err, "3:", 2), 0);
	assert_int_equal(gate_parse("fault_latency_ns.p999 <= 2 * baseline\n", 38, &r, err, sizeof(err)), 0);
	assert_int_equal(r.n, 1);
	assert_true(r.r[0].vs_baseline);
	assert_float_equal(r.r[0].factor, 2, 0);
	assert_float_equal(r.r[0].num.t[0].q, 0.999, 1e-12);
	assert_true(gate_needs_baseline(&r));
	gate_rules_free(&r);
}

static void test_gate_eval_noise(void **st)
{
	/* p99 exceeds 1.1 x baseline on 40 samples but the shift is noise */
	struct kl_snap b, n;
	struct gate_rules r;
	struct gate_result res;
	char err[256];
	const char *txt = "exit_latency_ns.p99 <= 1.10 * baseline min_samples 20";

	(void)st;
	if (kl_snap_load(&b, DATA "noise-base.json", err, sizeof(err)) ||
	    kl_snap_load(&n, DATA "noise-new.json", err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(gate_parse(txt, strlen(txt), &r, err, sizeof(err)), 0);
	assert_int_equal(gate_eval(&r.r[0], &n, &b, &res), 0);
	assert_true(res.value > res.bound);
	assert_true(res.has_cmp);
	assert_int_equal(res.status, GATE_PASS);
	assert_non_null(strstr(res.msg, "not significant"));
	gate_rules_free(&r);
	kl_snap_free(&b);
	kl_snap_free(&n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fmt_seconds),
		cmocka_unit_test(test_bounds_are_seams),
		cmocka_unit_test(test_bucket_lo),
		cmocka_unit_test(test_prom_seams),
		cmocka_unit_test(test_prom_vcpu_and_om),
		cmocka_unit_test(test_prom_golden),
		cmocka_unit_test(test_prom_arm64),
		cmocka_unit_test(test_prom_golden_arm64),
		cmocka_unit_test(test_reader_versions),
		cmocka_unit_test(test_quantiles),
		cmocka_unit_test(test_compare),
		cmocka_unit_test(test_gate_parse),
		cmocka_unit_test(test_gate_eval_noise),
	};

	return cmocka_run_group_tests_name("exports", tests, NULL, NULL);
}
