// SPDX-License-Identifier: GPL-2.0
/*
 * test_codec.c - the one JSON codec of the typed snapshot (kl_model.h):
 * model -> JSON -> model gives the same model and the same bytes, on every
 * arch and attach set; the reader rejects each wrong type with its
 * one-line "PATH: expected X, got Y" message and leaves the model empty.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "kl_model.h"
#include "kl_snapshot.h"
#include "kl_state.h"
#include "../../bpf/kl_hist.h"

#define JFLAGS (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)

/* Two VMs: one busy (every counter, reason and histogram), one idle. */
static void synth(struct kl_state *st, const char *arch, uint32_t attached)
{
	struct kl_vm *vm;

	kl_state_init(st);
	snprintf(st->kernel, sizeof(st->kernel), "6.12.0");
	snprintf(st->arch, sizeof(st->arch), "%s", arch);
	snprintf(st->hostname, sizeof(st->hostname), "box");
	st->ncpus = 4;
	st->start_time_ns = 1700000000000000000ULL;
	st->duration_ns = 2000000000ULL;
	st->interval_ns = 1000000000ULL;
	st->target = KL_TARGET_NAME;
	snprintf(st->target_name, sizeof(st->target_name), "guest");
	for (int s = 0; s < KL_SIG_NR; s++) {
		st->probes[s].status = attached >> s & 1 ? KL_PROBE_ATTACHED : KL_PROBE_REFUSED;
		snprintf(st->probes[s].reason, sizeof(st->probes[s].reason), "no %d", s);
	}
	st->oh.stats_enabled = !(attached & 1);
	st->oh.nr_progs = 1;
	snprintf(st->oh.progs[0].name, sizeof(st->oh.progs[0].name), "kl_kvm_exit");
	st->oh.progs[0].signal = KL_SIG_KVM_EXIT;
	st->oh.progs[0].run_cnt = 10;
	st->oh.progs[0].run_time_ns = 1234;
	st->oh.cpu_ns = 1000;
	st->oh.drops[KL_D_NR - 1] = 7;
	vm = kl_state_vm(st, 42);
	snprintf(vm->comm, sizeof(vm->comm), "qemu");
	snprintf(vm->name, sizeof(vm->name), "gu\"est");
	for (int32_t v = -1; v < 3; v++) {
		struct kl_vcpu_row *r = kl_vm_vcpu(vm, v);

		r->tid = v == 1 ? 0 : 100 + (uint32_t)(v + 1);
		for (int c = 0; c < KL_C_NR; c++)
			r->c[c] = 1 + (uint64_t)c * (uint64_t)(v + 2);
	}
	kl_vm_sum_vcpus(vm);
	kl_vm_reason(vm, KL_R_USERSPACE_EXIT, 2)->count = 5;
	kl_vm_reason(vm, KL_R_EXIT, 7)->count = 9;
	kl_vm_reason(vm, KL_R_EXIT, 12345)->count = 1;
	for (uint16_t h = 0; h < KL_H_NR; h++) {
		kl_vm_hist(vm, h, KL_SUB_ALL)->b[kl_hist_bucket(3)] = 2;
		kl_vm_hist(vm, h, KL_SUB_ALL)->b[kl_hist_bucket(UINT64_MAX)] = 1;
		kl_vm_hist(vm, h, KL_SUB_ALL)->sum = 4000;
		kl_vm_hist(vm, h, 1)->b[kl_hist_bucket(900)] = 4;
	}
	vm = kl_state_vm(st, 77);
	snprintf(vm->comm, sizeof(vm->comm), "idle");
	vm->exited = true;
	kl_vm_vcpu(vm, 0)->tid = 200;
	kl_vm_sum_vcpus(vm);
	kl_state_sort(st);
}

static bool hist_eq(const struct snap_hist *a, const struct snap_hist *b)
{
	return a->count == b->count && a->sum == b->sum && a->n == b->n &&
	       (!a->n || !memcmp(a->b, b->b, a->n * sizeof(*a->b)));
}

static void assert_counts_eq(const struct kl_snap_counts *a, const struct kl_snap_counts *b)
{
	assert_int_equal(a->present, b->present);
	assert_int_equal(a->nr, b->nr);
	if (a->nr)
		assert_memory_equal(a->v, b->v, a->nr * sizeof(*a->v));
}

static void assert_vm_eq(const struct kl_snap_vm *a, const struct kl_snap_vm *b)
{
	assert_int_equal(a->pid, b->pid);
	assert_string_equal(a->comm, b->comm);
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->exited, b->exited);
	assert_memory_equal(&a->c, &b->c, sizeof(a->c));
	assert_int_equal(a->nr_vcpus, b->nr_vcpus);
	if (a->nr_vcpus)
		assert_memory_equal(a->vcpus, b->vcpus, a->nr_vcpus * sizeof(*a->vcpus));
	assert_int_equal(a->has_reasons, b->has_reasons);
	assert_counts_eq(&a->ue, &b->ue);
	assert_counts_eq(&a->ex, &b->ex);
	assert_int_equal(a->has_pred, b->has_pred);
	assert_memory_equal(a->has_pkvm, b->has_pkvm, sizeof(a->has_pkvm));
	assert_int_equal(a->has_hists, b->has_hists);
	assert_int_equal(a->has_by, b->has_by);
	for (int h = 0; h < KL_H_NR; h++) {
		assert_int_equal(a->has_hist[h], b->has_hist[h]);
		assert_true(hist_eq(&a->hist[h], &b->hist[h]));
		assert_int_equal(a->by[h].present, b->by[h].present);
		assert_int_equal(a->by[h].nr, b->by[h].nr);
		for (size_t i = 0; i < a->by[h].nr; i++) {
			assert_string_equal(a->by[h].v[i].name, b->by[h].v[i].name);
			assert_true(hist_eq(&a->by[h].v[i].h, &b->by[h].v[i].h));
		}
	}
}

static void assert_snap_eq(const struct kl_snap *a, const struct kl_snap *b)
{
	/* the fixed-size part: everything up to the first pointer member */
	assert_memory_equal(a, b, offsetof(struct kl_snap, unavail));
	assert_int_equal(a->nr_unavail, b->nr_unavail);
	if (a->nr_unavail)
		assert_memory_equal(a->unavail, b->unavail, a->nr_unavail * sizeof(*a->unavail));
	assert_int_equal(a->oh.present, b->oh.present);
	assert_int_equal(a->oh.nr_progs, b->oh.nr_progs);
	if (a->oh.nr_progs)
		assert_memory_equal(a->oh.progs, b->oh.progs, a->oh.nr_progs * sizeof(*a->oh.progs));
	assert_memory_equal(&a->oh.bpf_run_time_ns, &b->oh.bpf_run_time_ns,
			    sizeof(a->oh) - offsetof(struct kl_snap_overhead, bpf_run_time_ns));
	assert_int_equal(a->nr_vms, b->nr_vms);
	for (size_t i = 0; i < a->nr_vms; i++)
		assert_vm_eq(&a->vms[i], &b->vms[i]);
}

static void round_trip(const char *arch, uint32_t attached, bool no_vcpu_counters)
{
	struct kl_state st;
	struct kl_snap m, back;
	struct json_object *j, *j2, *parsed;
	char err[256] = "", *text;

	synth(&st, arch, attached);
	st.no_vcpu_counters = no_vcpu_counters;
	assert_int_equal(kl_snap_from_state(&m, &st), 0);
	j = kl_snap_json(&m);
	assert_non_null(j);
	text = strdup(json_object_to_json_string_ext(j, JFLAGS));
	parsed = json_tokener_parse(text);
	assert_non_null(parsed);
	if (kl_snap_read(&back, parsed, err, sizeof(err)))
		fail_msg("%s/%#x: %s", arch, attached, err);
	assert_snap_eq(&m, &back);
	j2 = kl_snap_json(&back);
	assert_string_equal(json_object_to_json_string_ext(j2, JFLAGS), text);
	json_object_put(j);
	json_object_put(j2);
	json_object_put(parsed);
	free(text);
	kl_snap_free(&m);
	kl_snap_free(&back);
	kl_state_free(&st);
}

static void test_round_trip(void **state)
{
	static const char *const arches[] = { "x86_64", "riscv64", "aarch64" };
	static const uint32_t sets[] = { KL_SIG_ALL, 0, 0x5, 0x2aa };

	(void)state;
	for (size_t a = 0; a < 3; a++)
		for (size_t s = 0; s < 4; s++) {
			round_trip(arches[a], sets[s], false);
			round_trip(arches[a], sets[s], true);
		}
}

/* kl_snapshot_build (state -> model -> JSON) is the writer's output. */
static void test_build_is_writer(void **state)
{
	struct kl_state st;
	struct kl_snap m;
	struct json_object *a, *b;

	(void)state;
	synth(&st, "riscv64", KL_SIG_ALL);
	assert_int_equal(kl_snap_from_state(&m, &st), 0);
	a = kl_snapshot_build(&st);
	b = kl_snap_json(&m);
	assert_string_equal(json_object_to_json_string(a), json_object_to_json_string(b));
	json_object_put(a);
	json_object_put(b);
	kl_snap_free(&m);
	kl_state_free(&st);
}

/* Replace the member at a dotted path (array indices as numbers). */
static void set_path(struct json_object *o, const char *path, struct json_object *v)
{
	char buf[200], *save = NULL, *k, *next;

	snprintf(buf, sizeof(buf), "%s", path);
	k = strtok_r(buf, ".", &save);
	while ((next = strtok_r(NULL, ".", &save))) {
		struct json_object *c = NULL;

		if (json_object_is_type(o, json_type_array))
			c = json_object_array_get_idx(o, (size_t)atoi(k));
		else
			json_object_object_get_ex(o, k, &c);
		assert_non_null(c);
		o = c;
		k = next;
	}
	if (json_object_is_type(o, json_type_array))
		json_object_array_put_idx(o, (size_t)atoi(k), v);
	else
		json_object_object_add(o, k, v);
}

static void test_type_errors(void **state)
{
	static const struct { const char *path, *value, *msg; } cases[] = {
		{ "schema_version", "1", "schema_version: expected string" },
		{ "vms", "{}", "vms: expected array, got object" },
		{ "duration_ns", "-1", "duration_ns: expected" },
		{ "host.ncpus", "\"4\"", "host.ncpus: expected" },
		{ "target.pid", "0", "target.pid: expected" },
		{ "probes.kvm_exit", "1", "probes.kvm_exit: expected string" },
		{ "unavailable", "\"x\"", "unavailable: expected array" },
		{ "overhead.collector_cpu_pct", "-1", "overhead.collector_cpu_pct: expected" },
		{ "overhead.drops.clock_skew", "true", "overhead.drops.clock_skew: expected" },
		{ "overhead.programs.0.run_cnt", "1.5", "overhead.programs[0].run_cnt: expected" },
		{ "vms.0.pid", "\"42\"", "vms[0].pid: expected" },
		{ "vms.0.exited", "0", "vms[0].exited: expected boolean" },
		{ "vms.0.vcpus.0.vcpu_id", "-2", "vms[0].vcpus[0].vcpu_id: expected" },
		{ "vms.0.counters.exits", "\"9\"", "vms[0].counters.exits: expected" },
		{ "vms.0.reasons.exit", "[]", "vms[0].reasons.exit: expected object, got array" },
		{ "vms.0.histograms.exit_latency_ns.count", "99", "vms[0].histograms.exit_latency_ns" },
		{ "vms.0.histograms.exit_latency_ns.buckets", "{}", "vms[0].histograms.exit_latency_ns.buckets: expected array" },
		{ "vms.0.pkvm_state_sync.to_hyp.skip_share", "2", "vms[0].pkvm_state_sync.to_hyp.skip_share: expected" },
	};
	struct kl_state st;
	struct json_object *good;

	(void)state;
	synth(&st, "aarch64", KL_SIG_ALL);
	good = kl_snapshot_build(&st);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct json_object *bad = NULL;
		struct kl_snap m;
		char err[256] = "";

		assert_int_equal(json_object_deep_copy(good, &bad, NULL), 0);
		set_path(bad, cases[i].path, json_tokener_parse(cases[i].value));
		if (!kl_snap_read(&m, bad, err, sizeof(err)))
			fail_msg("%s = %s accepted", cases[i].path, cases[i].value);
		if (strncmp(err, cases[i].msg, strlen(cases[i].msg)) || strchr(err, '\n'))
			fail_msg("%s: got \"%s\", want \"%s...\"", cases[i].path, err, cases[i].msg);
		assert_int_equal(m.nr_vms, 0);
		assert_null(m.vms);
		json_object_put(bad);
	}
	json_object_put(good);
	kl_state_free(&st);
}

/* A sum of saved counters beyond 2^64 (fuzz_readers found one in the pKVM table). */
static void test_count_of(void **state)
{
	(void)state;
	assert_true(kl_snap_count_of(3.7e19) == UINT64_MAX);
	assert_true(kl_snap_count_of(18446744073709551616.0) == UINT64_MAX);
	assert_true(kl_snap_count_of(-1.0) == 0);
	assert_true(kl_snap_count_of(NAN) == 0);
	assert_true(kl_snap_count_of(5.9) == 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_build_is_writer),
		cmocka_unit_test(test_type_errors),
		cmocka_unit_test(test_count_of),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
