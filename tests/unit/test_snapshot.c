// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_snapshot.c - JSON writer: a snapshot built from a synthetic
 * collected state has the SNAPSHOT.md keys and values, omits what the
 * attached signals cannot produce and lists it in "unavailable"; the text
 * renderer works from that JSON; state deltas.
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

#include "kl_model.h"
#include "kl_names.h"
#include "kl_snapshot.h"
#include "kl_state.h"
#include "render.h"
#include "../../bpf/kl_hist.h"

#define SIG(s) KL_SIG_BIT(KL_SIG_##s)

static struct json_object *path(struct json_object *o, const char *p)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", p);
	for (char *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save)) {
		struct json_object *v = NULL;

		if (json_object_is_type(o, json_type_array))
			v = json_object_array_get_idx(o, (size_t)atoi(k));
		else if (!json_object_object_get_ex(o, k, &v))
			return NULL;
		o = v;
	}
	return o;
}

/* render_text() of a JSON snapshot, read into the model by the JSON reader. */
static int render_json(FILE *f, struct json_object *j, const struct render_opts *ro)
{
	struct kl_snap m;
	char err[256];
	int rc;

	if (kl_snap_read(&m, j, err, sizeof(err)))
		return -1;
	rc = render_text(f, &m, ro);
	kl_snap_free(&m);
	return rc;
}

/* render_pkvm_sync() of the first VM of a JSON snapshot. */
static int render_pkvm_json(FILE *f, struct json_object *j, bool per_vcpu)
{
	struct kl_snap m;
	char err[256];
	int rc;

	assert_int_equal(kl_snap_read(&m, j, err, sizeof(err)), 0);
	assert_true(m.nr_vms > 0);
	rc = render_pkvm_sync(f, &m.vms[0], per_vcpu, "");
	kl_snap_free(&m);
	return rc;
}

static int64_t ival(struct json_object *o, const char *p)
{
	struct json_object *v = path(o, p);

	if (!v)
		fail_msg("missing %s", p);
	return json_object_get_int64(v);
}

static bool in_array(struct json_object *a, const char *s)
{
	for (size_t i = 0; a && i < json_object_array_length(a); i++)
		if (!strcmp(json_object_get_string(json_object_array_get_idx(a, i)), s))
			return true;
	return false;
}

/* x86 host, ioctl + dirty ring + userspace exit + sched_switch attached. */
static void synth(struct kl_state *st, const char *arch)
{
	struct kl_vm *vm;
	struct kl_vcpu_row *r;
	struct kl_hist_data *h;

	kl_state_init(st);
	snprintf(st->kernel, sizeof(st->kernel), "6.18.0");
	snprintf(st->arch, sizeof(st->arch), "%s", arch);
	snprintf(st->hostname, sizeof(st->hostname), "box");
	st->ncpus = 2;
	st->start_time_ns = 1700000000000000000ULL;
	st->duration_ns = 2000000000ULL;
	st->interval_ns = 1000000000ULL;
	st->target = KL_TARGET_PID;
	st->target_pid = 42;
	for (int s = 0; s < KL_SIG_NR; s++)
		st->probes[s].status = KL_PROBE_MISSING;
	st->probes[KL_SIG_DIRTY_RING_PUSH].status = KL_PROBE_ATTACHED;
	st->probes[KL_SIG_USERSPACE_EXIT].status = KL_PROBE_ATTACHED;
	st->probes[KL_SIG_SYS_ENTER_IOCTL].status = KL_PROBE_ATTACHED;
	st->probes[KL_SIG_SCHED_SWITCH].status = KL_PROBE_ATTACHED;
	st->probes[KL_SIG_FENTRY_VCPU_LOAD].status = KL_PROBE_REFUSED;
	snprintf(st->probes[KL_SIG_FENTRY_VCPU_LOAD].reason, 64, "load: Operation not permitted (EPERM)");
	st->oh.stats_enabled = true;
	st->oh.nr_progs = 1;
	snprintf(st->oh.progs[0].name, sizeof(st->oh.progs[0].name), "kl_kvm_dirty_ring_push");
	st->oh.progs[0].signal = KL_SIG_DIRTY_RING_PUSH;
	st->oh.progs[0].run_cnt = 1000;
	st->oh.progs[0].run_time_ns = 50000;
	st->oh.cpu_ns = 20000000;	/* 1% of 2 s */
	st->oh.drops[KL_D_CLOCK_SKEW] = 3;

	vm = kl_state_vm(st, 42);
	snprintf(vm->comm, sizeof(vm->comm), "qemu-system-x86");
	snprintf(vm->name, sizeof(vm->name), "guest1");
	r = kl_vm_vcpu(vm, 1);
	r->tid = 44;
	r->c[KL_C_DIRTY_PAGES] = 300;
	r->c[KL_C_KVM_RUNS] = 10;
	r->c[KL_C_EXITS] = 999;		/* kvm_exit not attached: must not show */
	r = kl_vm_vcpu(vm, 0);
	r->tid = 43;
	r->c[KL_C_DIRTY_PAGES] = 200;
	r->c[KL_C_KVM_RUNS] = 5;
	r->c[KL_C_PRED + KL_PRED_MIGRATED] = 7;
	kl_vm_sum_vcpus(vm);
	kl_vm_reason(vm, KL_R_USERSPACE_EXIT, 2)->count = 5;	/* KVM_EXIT_IO */
	kl_vm_reason(vm, KL_R_USERSPACE_EXIT, 777)->count = 1;
	kl_vm_reason(vm, KL_R_EXIT, 48)->count = 9;		/* not attached */
	h = kl_vm_hist(vm, KL_H_KVM_RUN, KL_SUB_ALL);
	h->b[kl_hist_bucket(1000)] = 3;
	h->b[kl_hist_bucket(UINT64_MAX)] = 1;
	h->sum = 3000;
	h = kl_vm_hist(vm, KL_H_EXIT, 48);			/* not attached */
	h->b[kl_hist_bucket(500)] = 1;
	kl_state_sort(st);
}

static void test_top_level(void **state)
{
	struct kl_state st;
	struct json_object *j;

	(void)state;
	synth(&st, "x86_64");
	j = kl_snapshot_build(&st);
	assert_non_null(j);
	assert_string_equal(json_object_get_string(path(j, "schema_version")), KL_SCHEMA_VERSION);
	assert_string_equal(json_object_get_string(path(j, "tool.name")), "kvm-lazytop");
	assert_string_equal(json_object_get_string(path(j, "host.arch")), "x86_64");
	assert_int_equal(ival(j, "host.ncpus"), 2);
	assert_int_equal(ival(j, "duration_ns"), 2000000000LL);
	assert_int_equal(ival(j, "target.pid"), 42);
	assert_null(path(j, "target.all"));
	assert_string_equal(json_object_get_string(path(j, "probes.kvm_dirty_ring_push")), "attached");
	assert_string_equal(json_object_get_string(path(j, "probes.kvm_exit")), "missing");
	assert_string_equal(json_object_get_string(path(j, "probes.fentry_vcpu_load")),
			    "refused: load: Operation not permitted (EPERM)");
	assert_int_equal(json_object_object_length(path(j, "probes")), KL_SIG_NR);
	/* probe_events: attached probes only; the run count, 0 = never fired */
	assert_int_equal(json_object_object_length(path(j, "probe_events")), 4);
	assert_int_equal(ival(j, "probe_events.kvm_dirty_ring_push"), 1000);
	assert_true(json_object_is_type(path(j, "probe_events.sched_switch"), json_type_int));
	assert_int_equal(ival(j, "probe_events.sched_switch"), 0);
	assert_null(path(j, "probe_events.kvm_exit"));
	/* overhead */
	assert_string_equal(json_object_get_string(path(j, "overhead.bpf_stats")), "enabled");
	assert_int_equal(ival(j, "overhead.bpf_events"), 1000);
	assert_int_equal(ival(j, "overhead.bpf_run_time_ns"), 50000);
	assert_string_equal(json_object_get_string(path(j, "overhead.programs.0.signal")), "kvm_dirty_ring_push");
	assert_true(json_object_get_double(path(j, "overhead.programs.0.ns_per_event")) == 50.0);
	assert_true(json_object_get_double(path(j, "overhead.collector_cpu_pct")) == 1.0);
	assert_int_equal(ival(j, "overhead.drops.clock_skew"), 3);
	assert_int_equal(ival(j, "overhead.drops.vcpu_map_full"), 0);
	json_object_put(j);
	kl_state_free(&st);
}

static void test_vm_and_availability(void **state)
{
	struct kl_state st;
	struct json_object *j, *un;
	const char *text;

	(void)state;
	synth(&st, "x86_64");
	j = kl_snapshot_build(&st);
	assert_int_equal(json_object_array_length(path(j, "vms")), 1);
	assert_int_equal(ival(j, "vms.0.pid"), 42);
	assert_string_equal(json_object_get_string(path(j, "vms.0.comm")), "qemu-system-x86");
	assert_string_equal(json_object_get_string(path(j, "vms.0.name")), "guest1");
	assert_false(json_object_get_boolean(path(j, "vms.0.exited")));
	/* counters summed over vCPUs; vCPUs sorted by id */
	assert_int_equal(ival(j, "vms.0.counters.dirty_pages"), 500);
	assert_int_equal(ival(j, "vms.0.counters.kvm_runs"), 15);
	assert_int_equal(ival(j, "vms.0.counters.reload_pred_migrated"), 7);
	assert_int_equal(ival(j, "vms.0.counters.preemptions"), 0);	/* attached, 0 -> present */
	assert_int_equal(ival(j, "vms.0.vcpus.0.vcpu_id"), 0);
	assert_int_equal(ival(j, "vms.0.vcpus.0.tid"), 43);
	assert_int_equal(ival(j, "vms.0.vcpus.1.counters.dirty_pages"), 300);
	/* not attached -> omitted, never 0 */
	assert_null(path(j, "vms.0.counters.exits"));
	assert_null(path(j, "vms.0.vcpus.1.counters.exits"));
	assert_null(path(j, "vms.0.counters.fpu_loads"));
	assert_null(path(j, "vms.0.counters.vcpu_load_fast"));
	assert_null(path(j, "vms.0.reasons.exit"));
	assert_null(path(j, "vms.0.prediction"));
	assert_null(path(j, "vms.0.histograms.exit_latency_ns"));
	assert_null(path(j, "vms.0.histograms_by.exit_latency_ns"));
	assert_null(path(j, "vms.0.histograms.fault_latency_ns"));
	/* ...and listed */
	un = path(j, "unavailable");
	assert_true(in_array(un, "exits"));
	assert_true(in_array(un, "fpu_loads"));
	assert_true(in_array(un, "vcpu_load_fast"));
	assert_true(in_array(un, "exit_latency_ns"));
	assert_true(in_array(un, "fault_latency_ns"));
	assert_true(in_array(un, "vcpu_load_ns"));
	assert_true(in_array(un, "reasons.exit"));
	assert_true(in_array(un, "prediction"));
	assert_false(in_array(un, "dirty_pages"));
	assert_false(in_array(un, "kvm_run_ns"));
	assert_false(in_array(un, "offcpu_ns"));
	/* reasons decoded */
	assert_int_equal(ival(j, "vms.0.reasons.userspace_exit.KVM_EXIT_IO"), 5);
	assert_int_equal(ival(j, "vms.0.reasons.userspace_exit.777"), 1);
	/* histogram: 3 x [960,1023] + 1 x open-ended last bucket */
	assert_string_equal(json_object_get_string(path(j, "vms.0.histograms.kvm_run_ns.unit")), "ns");
	assert_int_equal(ival(j, "vms.0.histograms.kvm_run_ns.count"), 4);
	assert_int_equal(ival(j, "vms.0.histograms.kvm_run_ns.sum"), 3000);
	/* p50: rank 2 of 3 in [960,1023]: 960 + 63 * 2 / 3 = 1002 */
	assert_int_equal(ival(j, "vms.0.histograms.kvm_run_ns.p50"), 1002);
	assert_int_equal(ival(j, "vms.0.histograms.kvm_run_ns.p999"), (int64_t)(15ULL << 37));
	assert_int_equal(json_object_array_length(path(j, "vms.0.histograms.kvm_run_ns.buckets")), 2);
	assert_int_equal(ival(j, "vms.0.histograms.kvm_run_ns.buckets.0.le"), 1023);
	assert_int_equal(ival(j, "vms.0.histograms.kvm_run_ns.buckets.0.count"), 3);
	/* offcpu_ns is available but empty: present with count 0 and null percentiles */
	assert_int_equal(ival(j, "vms.0.histograms.offcpu_ns.count"), 0);
	assert_true(json_object_object_get_ex(path(j, "vms.0.histograms.offcpu_ns"), "p50", NULL));
	assert_null(path(j, "vms.0.histograms.offcpu_ns.p50"));
	/* UINT64_MAX "le" is written as an integer */
	text = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
	assert_non_null(strstr(text, "\"le\":18446744073709551615"));
	json_object_put(j);
	kl_state_free(&st);
}

static void test_riscv_full(void **state)
{
	struct kl_state st;
	struct kl_vm *vm;
	struct json_object *j;

	(void)state;
	synth(&st, "riscv64");
	for (int s = 0; s < KL_SIG_NR; s++)
		st.probes[s].status = KL_PROBE_ATTACHED;
	vm = &st.vms[0];
	vm->vcpus[0].c[KL_C_PRED_VS_ACTUAL + KL_PRED_SAME_CPU * KL_LOAD_NR + KL_LOAD_FAST] = 6;
	vm->vcpus[0].c[KL_C_PRED_VS_ACTUAL + KL_PRED_SAME_CPU * KL_LOAD_NR + KL_LOAD_CSR_DIRTY] = 1;
	vm->vcpus[0].c[KL_C_PRED_VS_ACTUAL + KL_PRED_MIGRATED * KL_LOAD_NR + KL_LOAD_OTHER_PCPU] = 2;
	vm->vcpus[0].c[KL_C_PRED_VS_ACTUAL + KL_PRED_OTHER_VCPU * KL_LOAD_NR + KL_LOAD_FAST] = 1;
	kl_vm_sum_vcpus(vm);
	kl_vm_hist(vm, KL_H_EXIT, 23)->b[kl_hist_bucket(2000)] = 2;
	kl_vm_hist(vm, KL_H_VCPU_LOAD, KL_LOAD_OTHER_PCPU)->b[kl_hist_bucket(300)] = 1;
	kl_vm_hist(vm, KL_H_VCPU_LOAD, KL_SUB_ALL)->b[kl_hist_bucket(300)] = 1;
	j = kl_snapshot_build(&st);
	assert_int_equal(json_object_array_length(path(j, "unavailable")), 0);
	assert_int_equal(ival(j, "vms.0.counters.exits"), 999);
	assert_int_equal(ival(j, "vms.0.counters.gstage_fault_retry_limit"), 0);
	/* agreement = (6 + 2) / 10 */
	assert_true(json_object_get_double(path(j, "vms.0.prediction.agreement")) == 0.8);
	assert_int_equal(ival(j, "vms.0.prediction.loads_compared"), 10);
	assert_int_equal(ival(j, "vms.0.prediction.matrix.same_cpu.fast"), 6);
	assert_int_equal(ival(j, "vms.0.prediction.matrix.other_vcpu.first_load"), 0);
	/* exit histogram: aggregate over causes + split by decoded cause */
	assert_int_equal(ival(j, "vms.0.histograms.exit_latency_ns.count"), 3);
	assert_int_equal(ival(j, "vms.0.histograms_by.exit_latency_ns.STORE_GUEST_PAGE_FAULT.count"), 2);
	assert_int_equal(ival(j, "vms.0.histograms_by.exit_latency_ns.48.count"), 1);	/* riscv: undecoded */
	assert_int_equal(ival(j, "vms.0.reasons.exit.48"), 9);	/* 48 is not a riscv cause */
	assert_int_equal(ival(j, "vms.0.histograms_by.vcpu_load_ns.other_pcpu.count"), 1);
	assert_int_equal(ival(j, "vms.0.histograms_by.vcpu_load_ns.unknown.count"), 1);
	assert_int_equal(ival(j, "vms.0.histograms.vcpu_load_ns.count"), 2);
	assert_int_equal(ival(j, "vms.0.histograms.fault_latency_ns.count"), 0);
	json_object_put(j);
	kl_state_free(&st);
}

#define SYNC_IDX(d, r) (KL_C_PKVM_SYNC + KL_PKVM_##d * KL_PKVM_REASON_NR + KL_PKVM_##r)

static double dval(struct json_object *o, const char *p)
{
	struct json_object *v = path(o, p);

	if (!v)
		fail_msg("missing %s", p);
	return json_object_get_double(v);
}

/* arm64 pKVM: state sync table, shares, guest faults, exit classes. */
static void synth_arm64(struct kl_state *st)
{
	struct kl_vm *vm;
	struct kl_vcpu_row *r;

	synth(st, "aarch64");
	st->probes[KL_SIG_KVM_EXIT].status = KL_PROBE_ATTACHED;
	st->probes[KL_SIG_KVM_ENTRY].status = KL_PROBE_ATTACHED;
	st->probes[KL_SIG_ARM_PKVM_STATE_SYNC].status = KL_PROBE_ATTACHED;
	st->probes[KL_SIG_ARM_GUEST_FAULT].status = KL_PROBE_ATTACHED;
	vm = kl_state_find_vm(st, 42);
	r = kl_vm_vcpu(vm, 0);
	r->c[SYNC_IDX(TO_HYP, FLUSH_DIRTY)] = 10;
	r->c[SYNC_IDX(TO_HYP, SKIP_HYP_CURRENT)] = 90;
	r->c[SYNC_IDX(TO_HOST, SYNC_TRAP)] = 5;
	r->c[SYNC_IDX(TO_HOST, SKIP_IRQ)] = 80;
	r->c[SYNC_IDX(TO_HOST, SYNC_PUT)] = 5;
	r->c[SYNC_IDX(TO_HOST, SKIP_HOST_CURRENT)] = 10;
	r->c[KL_C_GUEST_FAULT_ACCESS + KL_GF_WRITE] = 3;
	r->c[KL_C_GUEST_FAULT_STATUS + KL_GF_PERMISSION] = 3;
	r = kl_vm_vcpu(vm, 1);
	r->c[SYNC_IDX(TO_HYP, SKIP_HYP_CURRENT)] = 100;
	r->c[SYNC_IDX(TO_HOST, SKIP_IRQ)] = 100;
	r->c[SYNC_IDX(TO_HYP, SYNC_TRAP)] = 2;		/* not a pair of the series */
	kl_vm_sum_vcpus(vm);
	kl_vm_reason(vm, KL_R_EXIT, 0x24)->count = 7;
	kl_vm_reason(vm, KL_R_EXIT, KL_ARM64_EXIT_NONTRAP)->count = 4;
	kl_vm_hist(vm, KL_H_EXIT, 0x24)->b[kl_hist_bucket(3000)] = 7;
	kl_vm_hist(vm, KL_H_EXIT, KL_ARM64_EXIT_NONTRAP)->b[kl_hist_bucket(900)] = 4;
	/* a second VM without any sync event */
	vm = kl_state_vm(st, 77);
	kl_vm_vcpu(vm, 0)->c[KL_C_DIRTY_PAGES] = 1;
	kl_vm_sum_vcpus(vm);
	kl_state_sort(st);
}

static void test_arm64_pkvm(void **state)
{
	struct kl_state st;
	struct json_object *j, *un;

	(void)state;
	synth_arm64(&st);
	j = kl_snapshot_build(&st);
	/* to_hyp: 10 + 190 + 2 (unexpected pair), 190 skipped */
	assert_int_equal(ival(j, "vms.0.pkvm_state_sync.to_hyp.events"), 202);
	assert_int_equal(ival(j, "vms.0.pkvm_state_sync.to_hyp.skipped"), 190);
	assert_true(fabs(dval(j, "vms.0.pkvm_state_sync.to_hyp.skip_share") - 190.0 / 202) < 1e-12);
	assert_int_equal(ival(j, "vms.0.pkvm_state_sync.to_hyp.reasons.flush_dirty.count"), 10);
	assert_true(fabs(dval(j, "vms.0.pkvm_state_sync.to_hyp.reasons.flush_dirty.share") - 10.0 / 202) < 1e-12);
	/* written with 4 decimals */
	assert_non_null(strstr(json_object_to_json_string_ext(path(j, "vms.0.pkvm_state_sync.to_hyp"),
							      JSON_C_TO_STRING_PLAIN), "\"skip_share\":0.9406"));
	assert_int_equal(ival(j, "vms.0.pkvm_state_sync.to_hyp.reasons.sync_trap.count"), 2);
	assert_null(path(j, "vms.0.pkvm_state_sync.to_hyp.reasons.sync_exit"));
	/* flush_dirty, skip_hyp_current, load_failed, protected + the unexpected sync_trap */
	assert_int_equal(json_object_object_length(path(j, "vms.0.pkvm_state_sync.to_hyp.reasons")), 5);
	/* to_host: 5 + 180 + 5 + 10, skip = skip_irq + skip_host_current */
	assert_int_equal(ival(j, "vms.0.pkvm_state_sync.to_host.events"), 200);
	assert_int_equal(ival(j, "vms.0.pkvm_state_sync.to_host.skipped"), 190);
	assert_true(dval(j, "vms.0.pkvm_state_sync.to_host.skip_share") == 0.95);
	assert_int_equal(ival(j, "vms.0.pkvm_state_sync.to_host.reasons.skip_irq.count"), 180);
	assert_true(dval(j, "vms.0.pkvm_state_sync.to_host.reasons.skip_irq.share") == 0.9);
	assert_int_equal(ival(j, "vms.0.pkvm_state_sync.to_host.reasons.sync_serror.count"), 0);
	/* the 11 reasons of the to_host direction, 0 or not */
	assert_int_equal(json_object_object_length(path(j, "vms.0.pkvm_state_sync.to_host.reasons")), 11);
	/* flat counters: the series' pairs, per VM and per vCPU */
	assert_int_equal(ival(j, "vms.0.counters.pkvm_sync_to_host_skip_irq"), 180);
	assert_int_equal(ival(j, "vms.0.vcpus.1.counters.pkvm_sync_to_hyp_skip_hyp_current"), 100);
	assert_int_equal(ival(j, "vms.0.counters.pkvm_sync_to_host_sync_exit"), 0);
	assert_null(path(j, "vms.0.counters.pkvm_sync_to_hyp_sync_trap"));
	assert_int_equal(ival(j, "vms.0.counters.guest_fault_write"), 3);
	assert_int_equal(ival(j, "vms.0.counters.guest_fault_permission"), 3);
	assert_int_equal(ival(j, "vms.0.counters.guest_fault_exec"), 0);
	/* exit classes by name, latency per class */
	assert_int_equal(ival(j, "vms.0.reasons.exit.DABT_LOW"), 7);
	assert_int_equal(ival(j, "vms.0.reasons.exit.IRQ"), 4);
	assert_int_equal(ival(j, "vms.0.histograms_by.exit_latency_ns.DABT_LOW.count"), 7);
	assert_int_equal(ival(j, "vms.0.histograms_by.exit_latency_ns.IRQ.count"), 4);
	assert_int_equal(ival(j, "vms.0.histograms.exit_latency_ns.count"), 12);	/* + synth()'s cause 48 */
	/* a VM without events: zeros and null shares */
	assert_int_equal(ival(j, "vms.1.pid"), 77);
	assert_int_equal(ival(j, "vms.1.pkvm_state_sync.to_host.events"), 0);
	assert_true(json_object_object_get_ex(path(j, "vms.1.pkvm_state_sync.to_host"), "skip_share", NULL));
	assert_null(path(j, "vms.1.pkvm_state_sync.to_host.skip_share"));
	assert_null(path(j, "vms.1.pkvm_state_sync.to_hyp.reasons.flush_dirty.share"));
	un = path(j, "unavailable");
	assert_false(in_array(un, "pkvm_state_sync"));
	assert_false(in_array(un, "pkvm_sync_to_hyp_flush_dirty"));
	assert_false(in_array(un, "guest_fault_read"));
	assert_true(in_array(un, "fault_latency_ns"));		/* riscv store faults only */
	assert_true(in_array(un, "vcpu_load_fast"));
	json_object_put(j);
	kl_state_free(&st);

	/* x86: the arm64 signals are missing, their metrics unavailable */
	synth(&st, "x86_64");
	j = kl_snapshot_build(&st);
	un = path(j, "unavailable");
	assert_null(path(j, "vms.0.pkvm_state_sync"));
	assert_null(path(j, "vms.0.counters.pkvm_sync_to_host_skip_irq"));
	assert_true(in_array(un, "pkvm_state_sync"));
	assert_true(in_array(un, "pkvm_sync_to_host_skip_irq"));
	assert_true(in_array(un, "guest_fault_write"));
	assert_false(in_array(un, "pkvm_sync_to_hyp_sync_trap"));	/* no such name */
	assert_string_equal(json_object_get_string(path(j, "probes.kvm_arm_pkvm_state_sync")), "missing");
	assert_string_equal(json_object_get_string(path(j, "probes.kvm_guest_fault")), "missing");
	json_object_put(j);
	kl_state_free(&st);
}

static void test_render_pkvm(void **state)
{
	struct kl_state st;
	struct json_object *j;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	struct render_opts ro = { .per_vcpu = true, .reasons = true };

	(void)state;
	synth_arm64(&st);
	j = kl_snapshot_build(&st);
	f = open_memstream(&buf, &len);
	assert_int_equal(render_json(f, j, &ro), 0);
	fclose(f);
	assert_non_null(strstr(buf, "pKVM state sync"));
	assert_non_null(strstr(buf, "    pKVM state sync               count    share\n"));
	assert_non_null(strstr(buf, "      to_host                       200           skip 95.0%\n"));
	assert_non_null(strstr(buf, "      to_hyp                        202           skip 94.1%\n"));
	assert_non_null(strstr(buf, "        skip_irq                    180    90.0%\n"));
	assert_non_null(strstr(buf, "        sync_serror                   0     0.0%\n"));
	assert_non_null(strstr(buf, "        sync_trap                     2     1.0%\n"));	/* unexpected pair */
	assert_non_null(strstr(buf, "vcpu 0: to_hyp 100 (skip 90.0%) to_host 100 (skip 90.0%)"));
	/* synth()'s cause 48 is BREAKPT_LOW on arm64 */
	assert_non_null(strstr(buf, "exits: BREAKPT_LOW 45% DABT_LOW 35% IRQ 20% (total 20)"));
	/* the VM without events: shares unknown */
	assert_non_null(strstr(buf, "      to_host                         0           skip -\n"));
	assert_non_null(strstr(buf, "        flush_dirty                   0        -\n"));
	free(buf);
	buf = NULL;
	/* the table alone, as the ncurses view draws it; absent on x86 */
	f = open_memstream(&buf, &len);
	assert_int_equal(render_pkvm_json(f, j, false), 1);
	fclose(f);
	assert_non_null(strstr(buf, "pKVM state sync"));
	assert_null(strstr(buf, "vcpu 0:"));
	free(buf);
	json_object_put(j);
	kl_state_free(&st);
	synth(&st, "x86_64");
	j = kl_snapshot_build(&st);
	buf = NULL;
	f = open_memstream(&buf, &len);
	assert_int_equal(render_pkvm_json(f, j, true), 0);
	assert_int_equal(render_json(f, j, &ro), 0);
	fclose(f);
	assert_null(strstr(buf, "pKVM"));
	free(buf);
	json_object_put(j);
	kl_state_free(&st);
}

static void test_delta(void **state)
{
	struct kl_state a, b, d;

	(void)state;
	synth(&a, "x86_64");
	synth(&b, "x86_64");
	b.vms[0].vcpus[0].c[KL_C_DIRTY_PAGES] += 50;
	kl_vm_sum_vcpus(&b.vms[0]);
	kl_vm_reason(&b.vms[0], KL_R_USERSPACE_EXIT, 2)->count += 4;
	kl_vm_hist(&b.vms[0], KL_H_KVM_RUN, KL_SUB_ALL)->b[kl_hist_bucket(10)] += 2;
	b.oh.progs[0].run_cnt += 10;
	kl_vm_vcpu(kl_state_vm(&b, 99), 0)->c[KL_C_DIRTY_PAGES] = 8;	/* a new VM */
	kl_vm_sum_vcpus(kl_state_find_vm(&b, 99));
	assert_int_equal(kl_state_delta(&d, &b, &a), 0);
	assert_int_equal(d.nr_vms, 2);
	assert_true(d.vms[0].c[KL_C_DIRTY_PAGES] == 50);
	assert_true(d.vms[0].vcpus[0].c[KL_C_DIRTY_PAGES] == 50);
	assert_true(d.vms[0].vcpus[1].c[KL_C_DIRTY_PAGES] == 0);
	assert_true(kl_vm_reason(&d.vms[0], KL_R_USERSPACE_EXIT, 2)->count == 4);
	assert_true(kl_vm_hist(&d.vms[0], KL_H_KVM_RUN, KL_SUB_ALL)->b[kl_hist_bucket(10)] == 2);
	assert_true(kl_vm_hist(&d.vms[0], KL_H_KVM_RUN, KL_SUB_ALL)->b[kl_hist_bucket(1000)] == 0);
	assert_true(d.oh.progs[0].run_cnt == 10);
	assert_true(kl_state_find_vm(&d, 99)->c[KL_C_DIRTY_PAGES] == 8);
	assert_true(d.oh.drops[KL_D_CLOCK_SKEW] == 0);
	kl_state_free(&a);
	kl_state_free(&b);
	kl_state_free(&d);
}

static void test_render_text(void **state)
{
	struct kl_state st;
	struct json_object *j;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	struct render_opts ro = { .per_vcpu = true, .histograms = true, .reasons = true, .overhead = true };

	(void)state;
	synth(&st, "x86_64");
	j = kl_snapshot_build(&st);
	f = open_memstream(&buf, &len);
	assert_int_equal(render_json(f, j, &ro), 0);
	fclose(f);
	assert_non_null(strstr(buf, "guest1"));
	assert_non_null(strstr(buf, "250.0"));		/* 500 dirty pages / 2 s */
	assert_non_null(strstr(buf, "KVM_EXIT_IO"));
	assert_non_null(strstr(buf, "kvm_run_ns"));
	assert_non_null(strstr(buf, "unavailable ("));
	assert_non_null(strstr(buf, " vcpu 1"));
	free(buf);
	/* not a snapshot: error, no crash */
	f = open_memstream(&buf, &len);
	assert_int_equal(render_text(f, NULL, &ro), -1);
	{
		struct json_object *arr = json_object_new_array();

		assert_int_equal(render_json(f, arr, NULL), -1);
		json_object_put(arr);
	}
	{
		struct json_object *empty = json_object_new_object();

		assert_int_equal(render_json(f, empty, NULL), -1);	/* no "vms" */
		json_object_put(empty);
	}
	fclose(f);
	free(buf);
	json_object_put(j);
	kl_state_free(&st);
}

/* Without BPF run stats the event count of a probe is unknown: null. */
static void test_probe_events_unknown(void **state)
{
	struct kl_state st;
	struct json_object *j;

	(void)state;
	synth(&st, "x86_64");
	st.oh.stats_enabled = false;
	j = kl_probe_events_json(&st);
	assert_non_null(j);
	assert_int_equal(json_object_object_length(j), 4);
	assert_true(json_object_object_get_ex(j, "kvm_dirty_ring_push", NULL));
	assert_null(path(j, "kvm_dirty_ring_push"));
	json_object_put(j);
	kl_state_free(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_top_level),
		cmocka_unit_test(test_probe_events_unknown),
		cmocka_unit_test(test_vm_and_availability),
		cmocka_unit_test(test_riscv_full),
		cmocka_unit_test(test_delta),
		cmocka_unit_test(test_render_text),
		cmocka_unit_test(test_arm64_pkvm),
		cmocka_unit_test(test_render_pkvm),
	};

	return cmocka_run_group_tests_name("snapshot", tests, NULL, NULL);
}
