// SPDX-License-Identifier: GPL-2.0
/*
 * test_prom.c - cmocka tests of the Prometheus/OpenMetrics exposition
 * (prom.c) for the defects of issue 14: label values escaped and
 * sanitized, one family per measure (op / outcome / path / reason
 * labels, no duplicated totals), 28 power-of-two buckets, standard
 * process_* self metrics, OpenMetrics negotiation and structure.
 * Run from the top of the tree (paths of tests/unit/exports/data).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "kl_model.h"
#include "prom_internal.h"
#include "snapshot_read.h"

#define DATA "tests/unit/exports/data/"

static char *render(struct json_object *s, bool vcpu, bool om, bool process)
{
	struct prom_opts o = { .per_vcpu = vcpu, .openmetrics = om, .process = process,
			       .vm_buckets = true };
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

static size_t count(const char *t, const char *needle)
{
	size_t n = 0;

	for (; (t = strstr(t, needle)); t++)
		n++;
	return n;
}

/* Every line of t (but "# EOF") holds only printable UTF-8, no C0/C1. */
static void assert_clean_lines(const char *t)
{
	const unsigned char *p = (const unsigned char *)t;

	for (; *p; p++) {
		if (*p == '\n')
			continue;
		if (*p < 0x20 || *p == 0x7f)
			fail_msg("control byte 0x%02x at offset %zu", *p, (size_t)(p - (const unsigned char *)t));
		if (*p == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0)
			fail_msg("C1 control at offset %zu", (size_t)(p - (const unsigned char *)t));
		if (*p == 0xff || *p == 0xfe)
			fail_msg("invalid UTF-8 byte at offset %zu", (size_t)(p - (const unsigned char *)t));
	}
}

/* A VM name with terminal escapes, C1, invalid UTF-8, quotes, newline. */
static void test_label_sanitized(void **st)
{
	struct json_object *s = load(DATA "golden.json");
	struct json_object *vm = json_object_array_get_idx(snap_get_arr(s, "vms"), 0);
	static const char evil[] = "a\x1b]0;pwn\x07" "b\xff" "c\xc2\x85" "d\xc3\xa9"
				   "e\"f\\g\nh\x7f" "i\xed\xa0\x80" "j\xe2\x82";
	char *t, *o;

	(void)st;
	json_object_object_add(vm, "name", json_object_new_string(evil));
	t = render(s, true, false, false);
	o = render(s, false, true, false);
	assert_clean_lines(t);
	assert_clean_lines(o);
	/*
	 * ESC, BEL, 0xff, each byte of the C1 NEL, DEL, each byte of the
	 * UTF-16 surrogate and of the truncated sequence become U+FFFD;
	 * valid UTF-8 (e acute) stays; quote, backslash and LF are escaped.
	 */
#define R "\xef\xbf\xbd"
#define SAFE "vm_name=\"a" R "]0;pwn" R "b" R "c" R R "d\xc3\xa9" \
	"e\\\"f\\\\g\\nh" R "i" R R R "j" R R "\""
	assert_non_null(strstr(t, "kvm_lazytop_vm_info{vm_pid=\"4242\"," SAFE ",comm="));
	assert_non_null(strstr(o, "kvm_lazytop_vm_info{vm_pid=\"4242\"," SAFE ",comm="));
	assert_non_null(strstr(t, "kvm_lazytop_dirty_pages_total{vm_pid=\"4242\"," SAFE ",vcpu=\"0\"} 2048\n"));
#undef SAFE
#undef R
	free(o);
	free(t);
	json_object_put(s);
}

/* pte ops / outcomes carry op / outcome labels, not reason. */
static void test_pte_labels(void **st)
{
	struct json_object *s = load(DATA "golden.json");
	char *t = render(s, false, false, false);

	(void)st;
#define VM "vm_pid=\"4242\",vm_name=\"vm \\\"one\\\"\\\\x\""
	assert_non_null(strstr(t, "kvm_lazytop_pte_update_ops_total{" VM ",op=\"mkwrite\"} 3\n"));
	assert_non_null(strstr(t, "kvm_lazytop_pte_update_ops_total{" VM ",op=\"wrprotect\"} 1\n"));
	assert_non_null(strstr(t, "kvm_lazytop_pte_update_outcomes_total{" VM ",outcome=\"updated\"} 2\n"));
	assert_non_null(strstr(t, "kvm_lazytop_pte_update_outcomes_total{" VM ",outcome=\"abort_retries\"} 1\n"));
	assert_null(strstr(t, "kvm_lazytop_pte_update_ops_total{" VM ",reason="));
	assert_null(strstr(t, "kvm_lazytop_pte_update_outcomes_total{" VM ",reason="));
	free(t);
	json_object_put(s);
}

/*
 * fault latency is one family with a path label; exit latency is one
 * family by reason without an unlabelled total; 29 buckets per series.
 */
static void test_hist_families(void **st)
{
	struct json_object *s = load(DATA "golden.json");
	char *t = render(s, false, false, false);

	(void)st;
	assert_null(strstr(t, "fault_latency_fast_seconds"));
	assert_null(strstr(t, "fault_latency_slow_seconds"));
	assert_null(strstr(t, "_by_reason_seconds"));
	assert_int_equal(count(t, "# TYPE kvm_lazytop_fault_latency_seconds histogram\n"), 1);
	assert_non_null(strstr(t, "kvm_lazytop_fault_latency_seconds_count{" VM ",path=\"fast\"} 10000\n"));
	/* fault_latency_ns minus fast minus slow: every fault had a path */
	assert_non_null(strstr(t, "kvm_lazytop_fault_latency_seconds_count{" VM ",path=\"unknown\"} 0\n"));
	assert_non_null(strstr(t, "kvm_lazytop_fault_latency_seconds_sum{" VM ",path=\"unknown\"} 0\n"));
	assert_int_equal(count(t, "kvm_lazytop_fault_latency_seconds_bucket{" VM ",path=\"fast\","), 29);
	assert_int_equal(count(t, "kvm_lazytop_kvm_run_seconds_bucket{"), 29);
	assert_int_equal(count(t, "kvm_lazytop_exit_latency_seconds_bucket{"), 29);
	assert_int_equal(count(t, "kvm_lazytop_exit_latency_seconds_count{"), 1);
	assert_non_null(strstr(t, "kvm_lazytop_exit_latency_seconds_count{" VM ",reason=\"STORE_GUEST_PAGE_FAULT\"} 13\n"));
#undef VM
	free(t);
	json_object_put(s);
}

/* A remainder never goes negative nor decreases across buckets. */
static void test_fault_remainder_clamped(void **st)
{
	struct json_object *s = load(DATA "golden.json");
	struct json_object *vm = json_object_array_get_idx(snap_get_arr(s, "vms"), 0);
	struct json_object *hs = snap_get_obj(vm, "histograms");
	char *t;

	(void)st;
	/* a live snapshot read a few events apart: more fast faults than all */
	json_object_object_add(hs, "fault_latency_fast_ns",
			       json_tokener_parse("{\"unit\":\"ns\",\"count\":2,\"sum\":2000,"
						  "\"buckets\":[{\"le\":1023,\"count\":2}]}"));
	json_object_object_add(hs, "fault_latency_ns",
			       json_tokener_parse("{\"unit\":\"ns\",\"count\":1,\"sum\":300,"
						  "\"buckets\":[{\"le\":319,\"count\":1}]}"));
	t = render(s, false, false, false);
	assert_non_null(strstr(t, ",path=\"unknown\",le=\"0.000000255\"} 0\n"));
	assert_non_null(strstr(t, ",path=\"unknown\",le=\"0.000000511\"} 1\n"));
	assert_non_null(strstr(t, ",path=\"unknown\",le=\"34.359738367\"} 1\n"));
	assert_non_null(strstr(t, ",path=\"unknown\",le=\"+Inf\"} 1\n"));
	assert_non_null(strstr(t, "kvm_lazytop_fault_latency_seconds_sum{vm_pid=\"4242\",vm_name=\"vm \\\"one\\\"\\\\x\",path=\"unknown\"} 0\n"));
	free(t);
	json_object_put(s);
}

/* No exit yet: the available histogram is still exposed, as 0. */
static void test_empty_split(void **st)
{
	struct json_object *s = load(DATA "golden.json");
	struct json_object *vm = json_object_array_get_idx(snap_get_arr(s, "vms"), 0);
	char *t;

	(void)st;
	json_object_object_add(snap_get_obj(vm, "histograms"), "exit_latency_ns",
			       json_tokener_parse("{\"unit\":\"ns\",\"count\":0,\"sum\":0,\"buckets\":[]}"));
	json_object_object_add(snap_get_obj(vm, "histograms_by"), "exit_latency_ns",
			       json_object_new_object());
	t = render(s, false, false, false);
	assert_non_null(strstr(t, "kvm_lazytop_exit_latency_seconds_count{vm_pid=\"4242\",vm_name=\"vm \\\"one\\\"\\\\x\"} 0\n"));
	assert_int_equal(count(t, "kvm_lazytop_exit_latency_seconds_bucket{"), 29);
	free(t);
	json_object_put(s);
}

/* Standard process_* names on /metrics, nothing of ours in a textfile. */
static void test_process_metrics(void **st)
{
	struct json_object *s = load(DATA "golden.json");
	char *t = render(s, false, false, false);
	char *h = render(s, false, false, true);
	char *o = render(s, false, true, true);

	(void)st;
	assert_null(strstr(t, "collector_cpu"));
	assert_null(strstr(t, "collector_resident"));
	assert_null(strstr(t, "collector_max_resident"));
	assert_null(strstr(t, "\nprocess_"));
	assert_null(strstr(t, "# TYPE process_"));
	assert_non_null(strstr(h, "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total "));
	assert_non_null(strstr(h, "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes "));
	assert_non_null(strstr(h, "# TYPE process_virtual_memory_bytes gauge\n"));
	assert_non_null(strstr(h, "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds "));
	assert_non_null(strstr(h, "# TYPE process_open_fds gauge\nprocess_open_fds "));
	assert_non_null(strstr(h, "# TYPE process_max_fds gauge\nprocess_max_fds "));
	/* OpenMetrics: counter family without _total, # EOF last */
	assert_non_null(strstr(o, "# TYPE process_cpu_seconds counter\nprocess_cpu_seconds_total "));
	assert_non_null(strstr(o, "\n# EOF\n"));
	assert_string_equal(o + strlen(o) - 6, "# EOF\n");
	free(o);
	free(h);
	free(t);
	json_object_put(s);
}

static void test_accept(void **st)
{
	(void)st;
	/* Prometheus 2.42's scrape Accept header */
	assert_true(prom_accept_openmetrics("application/openmetrics-text;version=1.0.0,"
					    "application/openmetrics-text;version=0.0.1;q=0.75,"
					    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"));
	assert_true(prom_accept_openmetrics("application/openmetrics-text; version=1.0.0"));
	assert_true(prom_accept_openmetrics("application/openmetrics-text"));
	assert_true(prom_accept_openmetrics("Application/OpenMetrics-Text; Version=\"1.0.0\"; charset=utf-8"));
	assert_false(prom_accept_openmetrics(NULL));
	assert_false(prom_accept_openmetrics(""));
	assert_false(prom_accept_openmetrics("*/*"));
	assert_false(prom_accept_openmetrics("text/plain"));
	assert_false(prom_accept_openmetrics("text/plain;version=0.0.4"));
	/* refused or less wanted than the text format */
	assert_false(prom_accept_openmetrics("application/openmetrics-text;q=0"));
	assert_false(prom_accept_openmetrics("application/openmetrics-text;version=1.0.0;q=0, */*"));
	assert_false(prom_accept_openmetrics("text/plain, application/openmetrics-text;q=0.5"));
	assert_false(prom_accept_openmetrics("text/*;q=0.9, application/openmetrics-text;q=0.8"));
	/* a version we do not produce */
	assert_false(prom_accept_openmetrics("application/openmetrics-text;version=0.0.1"));
	assert_false(prom_accept_openmetrics("application/openmetrics-text;version=2.0.0,text/plain;q=0.1"));
	assert_true(prom_accept_openmetrics("application/openmetrics-text;version=2.0.0,"
					    "application/openmetrics-text;version=1.0.0;q=0.9,text/plain;q=0.1"));
	/* garbage does not crash */
	assert_false(prom_accept_openmetrics(";;;,,,;q=;version=,=,"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_sanitized),
		cmocka_unit_test(test_pte_labels),
		cmocka_unit_test(test_hist_families),
		cmocka_unit_test(test_fault_remainder_clamped),
		cmocka_unit_test(test_empty_split),
		cmocka_unit_test(test_process_metrics),
		cmocka_unit_test(test_accept),
	};

	return cmocka_run_group_tests_name("prom", tests, NULL, NULL);
}
