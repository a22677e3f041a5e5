// SPDX-License-Identifier: GPL-2.0
/*
 * test_validate.c - the collector's own snapshots pass the reader's
 * schema validation (snap_validate, snapshot_read.c), on every arch and
 * with every signal attached, including the null shares / agreement of
 * an idle VM; and render_text() prints the same bytes for a validated
 * snapshot as for the same text parsed without validation.
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
#include "kl_snapshot.h"
#include "kl_state.h"
#include "render.h"
#include "snapshot_read.h"
#include "../../bpf/kl_hist.h"

/* Every signal attached, every counter and histogram non-empty on VM 42,
 * nothing at all on VM 77 (null shares and agreement). */
static void synth_all(struct kl_state *st, const char *arch)
{
	struct kl_vm *vm;

	kl_state_init(st);
	snprintf(st->kernel, sizeof(st->kernel), "6.18.0");
	snprintf(st->arch, sizeof(st->arch), "%s", arch);
	snprintf(st->hostname, sizeof(st->hostname), "box");
	st->ncpus = 4;
	st->start_time_ns = 1700000000000000000ULL;
	st->duration_ns = 3000000000ULL;
	st->interval_ns = 1000000000ULL;
	st->target = KL_TARGET_ALL;
	for (int s = 0; s < KL_SIG_NR; s++)
		st->probes[s].status = KL_PROBE_ATTACHED;
	st->oh.stats_enabled = true;
	st->oh.nr_progs = 1;
	snprintf(st->oh.progs[0].name, sizeof(st->oh.progs[0].name), "kl_sched_switch");
	st->oh.progs[0].signal = KL_SIG_SCHED_SWITCH;
	st->oh.progs[0].run_cnt = 10;
	st->oh.progs[0].run_time_ns = 1234;
	st->oh.cpu_ns = 1000;
	vm = kl_state_vm(st, 42);
	snprintf(vm->comm, sizeof(vm->comm), "qemu-system");
	snprintf(vm->name, sizeof(vm->name), "guest");
	for (uint32_t v = 0; v < 2; v++) {
		struct kl_vcpu_row *r = kl_vm_vcpu(vm, v);

		r->tid = 100 + v;
		for (int c = 0; c < KL_C_NR; c++)
			r->c[c] = 1 + (uint64_t)c * (v + 1);
	}
	kl_vm_sum_vcpus(vm);
	kl_vm_reason(vm, KL_R_USERSPACE_EXIT, 2)->count = 5;
	kl_vm_reason(vm, KL_R_EXIT, 7)->count = 9;
	for (uint16_t h = 0; h < KL_H_NR; h++) {
		struct kl_hist_data *d = kl_vm_hist(vm, h, KL_SUB_ALL);

		d->b[kl_hist_bucket(3)] = 2;
		d->b[kl_hist_bucket(1000)] = 3;
		d->b[kl_hist_bucket(UINT64_MAX)] = 1;
		d->sum = 4000;
		kl_vm_hist(vm, h, 1)->b[kl_hist_bucket(900)] = 4;
	}
	vm = kl_state_vm(st, 77);
	snprintf(vm->comm, sizeof(vm->comm), "idle");
	kl_vm_vcpu(vm, 0)->tid = 200;
	kl_vm_sum_vcpus(vm);
	kl_state_sort(st);
}

static char *render(struct json_object *j)
{
	struct render_opts ro = { .per_vcpu = true, .histograms = true, .reasons = true,
				  .overhead = true };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	struct kl_snap m;
	char err[256];

	assert_non_null(f);
	assert_int_equal(kl_snap_read(&m, j, err, sizeof(err)), 0);
	assert_int_equal(render_text(f, &m, &ro), 0);
	kl_snap_free(&m);
	fclose(f);
	return buf;
}

static void check_arch(const char *arch)
{
	struct kl_state st;
	struct json_object *j, *v, *raw;
	const char *text;
	char err[512] = "", *a, *b;

	synth_all(&st, arch);
	j = kl_snapshot_build(&st);
	assert_non_null(j);
	text = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
	v = snap_parse(text, strlen(text), err, sizeof(err));
	if (!v)
		fail_msg("%s snapshot rejected: %s", arch, err);
	assert_int_equal(snap_validate(j, err, sizeof(err)), 0);
	/* the same text without validation renders the same bytes (the
	 * collector's own tree may differ in the last digit of a share: it
	 * keeps the unrounded double behind the 4-decimal text) */
	raw = json_tokener_parse(text);
	a = render(raw);
	b = render(v);
	assert_string_equal(a, b);
	free(a);
	free(b);
	json_object_put(raw);
	json_object_put(v);
	json_object_put(j);
	kl_state_free(&st);
}

static void test_collector_snapshots_validate(void **state)
{
	(void)state;
	check_arch("x86_64");
	check_arch("riscv64");
	check_arch("aarch64");
}

/* The collector tree with one value broken: the path is named. */
static void test_validate_path(void **state)
{
	struct kl_state st;
	struct json_object *j, *vm;
	char err[512];

	(void)state;
	synth_all(&st, "riscv64");
	j = kl_snapshot_build(&st);
	vm = json_object_array_get_idx(json_object_object_get(j, "vms"), 1);
	json_object_object_add(json_object_object_get(vm, "counters"), "kvm_runs",
			       json_object_new_int64(-1));
	assert_int_equal(snap_validate(j, err, sizeof(err)), -1);
	assert_string_equal(err, "vms[1].counters.kvm_runs: expected non-negative integer, got -1");
	json_object_object_add(j, "vms", json_object_new_int(7));
	assert_int_equal(snap_validate(j, err, sizeof(err)), -1);
	assert_string_equal(err, "vms: expected array, got integer");
	json_object_put(j);
	kl_state_free(&st);
	assert_int_equal(snap_validate(NULL, err, sizeof(err)), -1);
	assert_string_equal(err, "top level: expected object, got null");
	assert_null(snap_parse("null", 4, err, sizeof(err)));
	assert_string_equal(err, "top level: expected object, got null");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_collector_snapshots_validate),
		cmocka_unit_test(test_validate_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
