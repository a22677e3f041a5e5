// SPDX-License-Identifier: GPL-2.0
/*
 * test_prom_budget.c - the size of /metrics with many VMs (issue 11):
 * by default at most 100 samples per VM, because the per-VM histogram
 * series carry only +Inf, _sum and _count while the host_* families hold
 * every bucket summed over the VMs; --prom-vm-buckets adds the 28 finite
 * buckets back to every per-VM series.  The snapshot is the golden
 * fixture's VM (riscv64, every signal, histograms split by reason and
 * path) repeated 1024 times.  Prints the render time and body size.
 * Run from the top of the tree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "kl_model.h"
#include "prom_internal.h"
#include "snapshot_read.h"

#define FIXTURE		"tests/unit/exports/data/golden.json"
#define NVMS		1024
#define MAX_PER_VM	100
#define PROM_BOUNDS	28	/* finite buckets of a series (prom.c) */

struct body {
	char *text;
	size_t len;
	double ms;
};

/* The fixture with its first VM repeated n times, pids 10000.. */
static void many_vms(struct kl_snap *s, size_t n)
{
	struct json_object *t, *vms, *vm0, *arr = json_object_new_array();
	char err[256];

	t = snap_load(FIXTURE, err, sizeof(err));
	if (!t)
		fail_msg("%s", err);
	assert_true(json_object_object_get_ex(t, "vms", &vms));
	vm0 = json_object_array_get_idx(vms, 0);
	assert_non_null(vm0);
	for (size_t i = 0; i < n; i++) {
		struct json_object *vm = NULL;

		assert_int_equal(json_object_deep_copy(vm0, &vm, NULL), 0);
		json_object_object_add(vm, "pid", json_object_new_int64(10000 + (int64_t)i));
		json_object_array_add(arr, vm);
	}
	json_object_object_add(t, "vms", arr);
	if (kl_snap_read(s, t, err, sizeof(err)))
		fail_msg("%s", err);
	json_object_put(t);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The exposition of s; the fastest of 3 renders. */
static void render(const struct kl_snap *s, bool vm_buckets, struct body *b)
{
	struct prom_opts o = { .vm_buckets = vm_buckets };

	b->ms = 1e9;
	for (int r = 0; r < 3; r++) {
		double t0;
		FILE *f;

		free(b->text);
		b->text = NULL;
		f = open_memstream(&b->text, &b->len);
		assert_non_null(f);
		t0 = now_ms();
		assert_int_equal(prom_write_snap(f, s, &o), 0);
		assert_int_equal(fclose(f), 0);
		if (now_ms() - t0 < b->ms)
			b->ms = now_ms() - t0;
	}
}

/* Samples (lines that are not comments) carrying the label needle. */
static size_t samples_with(const char *t, const char *needle)
{
	size_t n = 0;

	for (const char *l = t; *l; ) {
		const char *e = strchr(l, '\n');
		size_t len = e ? (size_t)(e - l) : strlen(l);

		if (*l != '#' && memmem(l, len, needle, strlen(needle)))
			n++;
		l += len + (e != NULL);
	}
	return n;
}

static void test_budget(void **st)
{
	struct body def = { 0 }, all = { 0 };
	size_t per_vm, per_vm_all, series;
	struct kl_snap s;

	(void)st;
	many_vms(&s, NVMS);
	render(&s, false, &def);
	render(&s, true, &all);
	per_vm = samples_with(def.text, "vm_pid=\"10500\"");
	per_vm_all = samples_with(all.text, "vm_pid=\"10500\"");
	/* the opt-in changes no +Inf bucket: same series */
	series = samples_with(all.text, "le=\"+Inf\"") - samples_with(def.text, "le=\"+Inf\"");
	printf("# /metrics at %d VMs (golden.json VM): default %zu samples/VM, %zu bytes, %.1f ms; "
	       "--prom-vm-buckets %zu samples/VM, %zu bytes, %.1f ms\n", NVMS, per_vm, def.len,
	       def.ms, per_vm_all, all.len, all.ms);
	assert_true(per_vm > 0);
	assert_true(per_vm <= MAX_PER_VM);
	/* the opt-in adds the 28 finite buckets to every per-VM series and nothing else */
	assert_int_equal(series, 0);
	assert_true(per_vm_all > per_vm);
	assert_int_equal((per_vm_all - per_vm) % PROM_BOUNDS, 0);
	assert_int_equal(samples_with(all.text, "kvm_lazytop_exit_latency_seconds_bucket{vm_pid=\"10500\""), PROM_BOUNDS + 1);
	assert_int_equal(samples_with(def.text, "kvm_lazytop_exit_latency_seconds_bucket{vm_pid=\"10500\""), 1);
	/* the host-wide family sums the VMs: 1024 x the fixture's 6 + 1 (le 1.023 us) */
	assert_int_equal(samples_with(def.text, "kvm_lazytop_host_exit_latency_seconds_bucket"
				      "{reason=\"STORE_GUEST_PAGE_FAULT\",le=\"0.000001023\"} 6144"), 1);
	/* a generous bound for a shared test machine; the target is 50 ms */
	assert_true(def.ms < 500);
	free(def.text);
	free(all.text);
	kl_snap_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_budget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
