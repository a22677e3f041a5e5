// SPDX-License-Identifier: GPL-2.0
/*
 * test_kl_bpf - drive the kvm_lazytop BPF handlers with BPF_PROG_TEST_RUN.
 *
 * Only the kl_test_* programs are loaded.  Each takes every input
 * (tid, tgid, cpu, vCPU id, reason, timestamps) as a raw_tp argument and
 * calls the same handler functions as the production programs, so the
 * exact counter values below are those the collector would read.
 * Runs as root; every case loads a fresh object.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "kl_test_util.h"
#include "kvm_lazytop.h"
#include "kl_hist.h"
#include "kvm_lazytop.skel.h"

#define TGID	1000u
#define OTHER	2000u

struct ctx {
	struct kvm_lazytop_bpf *skel;
	__u32 target;		/* rodata target_tgid */
	__u32 small;		/* max_entries override for the drop test */
	bool real_tasks;	/* task storage of the calling thread, not test_ts */
	int ncpus;
};

static int ncpus_possible;

static int open_skel(struct ctx *c)
{
	struct bpf_program *p;
	__u32 n = c->small ? c->small : 512;

	c->skel = kvm_lazytop_bpf__open();
	if (!c->skel)
		return -1;
	bpf_object__for_each_program(p, c->skel->obj)
		bpf_program__set_autoload(p, !strncmp(bpf_program__name(p), "kl_test_", 8));
	c->skel->rodata->target_tgid = c->target;
	c->skel->rodata->have_series = true;
	c->skel->rodata->have_fentry = true;
	c->skel->rodata->fault_exit_code = 23;
	c->skel->rodata->test_mode = !c->real_tasks;
	/* small: two per-thread entries (odd and even tids) */
	c->skel->rodata->test_mask = c->small ? 1 : KL_TEST_THREADS - 1;
	bpf_map__set_max_entries(c->skel->maps.row_idx, c->small ? c->small : 512);
	bpf_map__set_max_entries(c->skel->maps.rslots, n);
	bpf_map__set_max_entries(c->skel->maps.rslot_key, n);
	bpf_map__set_max_entries(c->skel->maps.reason_idx, n);
	bpf_map__set_max_entries(c->skel->maps.hslots, n);
	bpf_map__set_max_entries(c->skel->maps.hslot_key, n);
	bpf_map__set_max_entries(c->skel->maps.hist_idx, n);
	if (c->small) {
		bpf_map__set_max_entries(c->skel->maps.slots, c->small);
		bpf_map__set_max_entries(c->skel->maps.slot_key, c->small);
		bpf_map__set_max_entries(c->skel->maps.free_slots, c->small);
	}
	bpf_map__set_max_entries(c->skel->maps.free_rslots, n);
	bpf_map__set_max_entries(c->skel->maps.free_hslots, n);
	/* released slots are reused, as the collector configures it */
	c->skel->rodata->pool_size[KL_POOL_VCPU] = c->small ? c->small : KL_MAX_SLOTS;
	c->skel->rodata->pool_size[KL_POOL_REASON] = n;
	c->skel->rodata->pool_size[KL_POOL_HIST] = n;
	kl_log_reset();
	if (kvm_lazytop_bpf__load(c->skel)) {
		fprintf(stderr, "load failed:\n%s\n", kl_log);
		kvm_lazytop_bpf__destroy(c->skel);
		c->skel = NULL;
		return -1;
	}
	c->ncpus = ncpus_possible;
	return 0;
}

static int setup_with(void **state, __u32 target, __u32 small)
{
	struct ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return -1;
	c->target = target;
	c->small = small;
	if (open_skel(c)) {
		free(c);
		return -1;
	}
	*state = c;
	return 0;
}

static int setup(void **state) { return setup_with(state, TGID, 0); }

/* Real task storage: the programs run in this process, pinned to CPU 0. */
static int setup_tasks(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	cpu_set_t set;

	if (!c)
		return -1;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		free(c);
		return -1;
	}
	c->target = (__u32)getpid();
	c->real_tasks = true;
	if (open_skel(c)) {
		free(c);
		return -1;
	}
	*state = c;
	return 0;
}
static int setup_all(void **state) { return setup_with(state, 0, 0); }
static int setup_small(void **state) { return setup_with(state, TGID, 2); }

static int teardown(void **state)
{
	struct ctx *c = *state;

	kvm_lazytop_bpf__destroy(c->skel);
	free(c);
	return 0;
}

static void run_prog(struct bpf_program *prog, int cpu, __u64 *args, size_t n)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.ctx_in = args,
		.ctx_size_in = (__u32)(n * sizeof(__u64)),
		.flags = BPF_F_TEST_RUN_ON_CPU,
		.cpu = (__u32)cpu,
	);
	int err = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);

	assert_int_equal(err, 0);
	assert_int_equal(opts.retval, 0);
}

#define RUN(c, prog, cpu, ...) do {					\
	__u64 a_[] = { __VA_ARGS__ };					\
	run_prog((c)->skel->progs.prog, (cpu), a_, ARRAY_SIZE(a_));	\
} while (0)

/* Test-program wrappers, named after the events. */
#define ENTER(c, cpu, tid, vcpu, now) RUN(c, kl_test_run_enter, cpu, tid, TGID, cpu, (__u64)(__s64)(vcpu), now)
#define EXIT(c, cpu, tid, now) RUN(c, kl_test_run_exit, cpu, tid, TGID, cpu, now)
/* prev (tid, tgid, state, has-notifier) -> next (tid, tgid) on cpu */
#define SWITCH(c, cpu, now, ptid, ptgid, pstate, ploaded, ntid, ntgid) \
	RUN(c, kl_test_sched_switch, cpu, cpu, now, ptid, ptgid, pstate, ploaded, ntid, ntgid)
#define LOAD(c, cpu, tid, vcpu, reason) RUN(c, kl_test_vcpu_load, cpu, tid, TGID, vcpu, reason)

/*
 * Counter idx summed over the slots owned by (tgid, vcpu) (any: every
 * owned slot) of one kind: shared rows (KL_SLOT_SHARED, tid 0) or thread
 * slots; the collector adds both into the (tgid, vcpu) row.  rows:
 * counts the matching slots instead.
 */
static __u64 slot_sum(struct ctx *c, __u32 tgid, __s32 vcpu, unsigned int idx, bool any,
		      bool shared, bool rows)
{
	__u32 n = c->skel->bss->next_slot, max = bpf_map__max_entries(c->skel->maps.slots);
	struct kl_counters v;
	__u64 sum = 0;

	for (__u32 s = 0; s < n && s < max; s++) {
		struct kl_slot_info k;

		if (bpf_map__lookup_elem(c->skel->maps.slot_key, &s, sizeof(s), &k, sizeof(k), 0))
			continue;
		if (!k.tgid || (!any && (k.tgid != tgid || k.vcpu_id != vcpu)) ||
		    !(k.flags & KL_SLOT_SHARED) != !shared)
			continue;
		if (shared)
			assert_int_equal(k.tid, 0);
		if (rows)
			sum++;
		else if (!bpf_map__lookup_elem(c->skel->maps.slots, &s, sizeof(s), &v, sizeof(v), 0))
			sum += v.c[idx];
	}
	return sum;
}

/* The thread slot part of a counter of (tgid, vcpu) (any: of every slot). */
static __u64 hot_counter(struct ctx *c, __u32 tgid, __s32 vcpu, unsigned int idx, bool any)
{
	return slot_sum(c, tgid, vcpu, idx, any, false, false);
}

/* The shared row part of a counter of (tgid, vcpu). */
static __u64 counter_row(struct ctx *c, __u32 tgid, __s32 vcpu, unsigned int idx)
{
	return slot_sum(c, tgid, vcpu, idx, false, true, false);
}

/* Counter idx of (tgid, vcpu): shared row + thread slots, like the collector. */
static __u64 counter(struct ctx *c, __u32 tgid, __s32 vcpu, unsigned int idx)
{
	return counter_row(c, tgid, vcpu, idx) + hot_counter(c, tgid, vcpu, idx, false);
}

/* Sum of a counter over every slot (all tgids, vCPUs). */
static __u64 counter_all(struct ctx *c, unsigned int idx)
{
	return slot_sum(c, 0, 0, idx, true, true, false) + slot_sum(c, 0, 0, idx, true, false, false);
}

/* Shared rows in use (one per (tgid, vcpu) counted from outside its thread). */
static unsigned int shared_rows(struct ctx *c)
{
	return (unsigned int)slot_sum(c, 0, 0, 0, true, true, true);
}

static unsigned int map_rows(struct bpf_map *m, size_t ksz)
{
	char k[64], pk[64];
	unsigned int n = 0;
	void *prev = NULL;

	while (!bpf_map__get_next_key(m, prev, k, ksz)) {
		memcpy(pk, k, ksz);
		prev = pk;
		n++;
	}
	return n;
}

/* Threads with a per-thread state (test_mode: present test_ts entries). */
static unsigned int threads(struct ctx *c)
{
	struct kl_vcpu_state v;
	unsigned int n = 0;

	for (__u32 i = 0; i < KL_TEST_THREADS; i++)
		if (!bpf_map__lookup_elem(c->skel->maps.test_ts, &i, sizeof(i), &v, sizeof(v), 0) &&
		    (v.flags & KL_VS_PRESENT))
			n++;
	return n;
}

/* The slot of an owner key in an owner array (next: its next_* counter), or -1. */
static int owner_slot(struct bpf_map *owners, __u32 next, const void *key, size_t ksz)
{
	char v[32];
	__u32 max = bpf_map__max_entries(owners);

	for (__u32 s = 0; s < next && s < max; s++)
		if (!bpf_map__lookup_elem(owners, &s, sizeof(s), v, ksz, 0) && !memcmp(v, key, ksz))
			return (int)s;
	return -1;
}

/* Reason count of (tgid, kind, code): its slot in `rslots`, read like the collector. */
static __u64 reason(struct ctx *c, __u32 tgid, __u16 kind, __u64 code)
{
	struct kl_reason_key k = { .tgid = tgid, .kind = kind, .code = code };
	int s = owner_slot(c->skel->maps.rslot_key, c->skel->bss->next_rslot, &k, sizeof(k));
	__u32 i = (__u32)s;
	__u64 v = 0;

	if (s >= 0)
		assert_int_equal(bpf_map__lookup_elem(c->skel->maps.rslots, &i, sizeof(i), &v,
						      sizeof(v), 0), 0);
	return v;
}

/* Owned reason / histogram slots of tgid (0: every owned slot). */
static unsigned int owned(struct ctx *c, bool hists, __u32 tgid)
{
	struct bpf_map *m = hists ? c->skel->maps.hslot_key : c->skel->maps.rslot_key;
	__u32 next = hists ? c->skel->bss->next_hslot : c->skel->bss->next_rslot;
	unsigned int n = 0;
	char v[32];

	for (__u32 s = 0; s < next && s < bpf_map__max_entries(m); s++) {
		__u32 t;

		if (bpf_map__lookup_elem(m, &s, sizeof(s), v, bpf_map__value_size(m), 0))
			continue;
		memcpy(&t, v, sizeof(t));
		n += t && (!tgid || t == tgid);
	}
	return n;
}

/*
 * Histogram of (tgid, id, sub) into h (its slot in `hslots`); returns
 * the total count.  KL_H_FAULT is read where the collector reads it: the
 * exit histogram of the store-fault exit code (the BPF side does not
 * record it twice).
 */
static __u64 hist(struct ctx *c, __u32 tgid, __u16 id, __u16 sub, struct kl_hist *h)
{
	struct kl_hist_key k = { .tgid = tgid, .hist = id, .sub = sub };
	__u64 count = 0;
	int s;
	__u32 i;

	if (id == KL_H_FAULT) {
		k.hist = KL_H_EXIT;
		k.sub = c->skel->rodata->fault_exit_code & 0xffff;
	}
	memset(h, 0, sizeof(*h));
	s = owner_slot(c->skel->maps.hslot_key, c->skel->bss->next_hslot, &k, sizeof(k));
	i = (__u32)s;
	if (s >= 0)
		assert_int_equal(bpf_map__lookup_elem(c->skel->maps.hslots, &i, sizeof(i), h,
						      sizeof(*h), 0), 0);
	for (int b = 0; b < KL_HIST_BUCKETS; b++)
		count += h->buckets[b];
	return count;
}

static __u64 drop(struct ctx *c, __u32 what)
{
	__u64 *v = calloc((size_t)c->ncpus, sizeof(*v)), sum = 0;

	assert_non_null(v);
	assert_int_equal(bpf_map__lookup_elem(c->skel->maps.drops, &what, sizeof(what), v,
					      sizeof(*v) * (size_t)c->ncpus, 0), 0);
	for (int i = 0; i < c->ncpus; i++)
		sum += v[i];
	free(v);
	return sum;
}

static void assert_preds(struct ctx *c, __s32 vcpu, __u64 same, __u64 mig, __u64 other)
{
	assert_int_equal(counter(c, TGID, vcpu, KL_C_PRED + KL_PRED_SAME_CPU), same);
	assert_int_equal(counter(c, TGID, vcpu, KL_C_PRED + KL_PRED_MIGRATED), mig);
	assert_int_equal(counter(c, TGID, vcpu, KL_C_PRED + KL_PRED_OTHER_VCPU), other);
}

static __u64 pva(struct ctx *c, __s32 vcpu, unsigned int pred, unsigned int actual)
{
	return counter(c, TGID, vcpu, KL_C_PRED_VS_ACTUAL + pred * KL_LOAD_NR + actual);
}

/* ------------------------------------------------------------------ */

/* First load: no prediction; preempted and back on the same CPU: SAME_CPU. */
static void test_reload_same_cpu(void **state)
{
	struct ctx *c = *state;
	struct kl_hist h;

	ENTER(c, 0, 1001, 0, 1000);
	LOAD(c, 0, 1001, 0, KL_LOAD_FIRST_LOAD);
	assert_preds(c, 0, 0, 0, 0);
	assert_int_equal(counter(c, TGID, 0, KL_C_VCPU_LOAD + KL_LOAD_FIRST_LOAD), 1);
	for (unsigned int p = 0; p < KL_PRED_NR; p++)
		for (unsigned int a = 0; a < KL_LOAD_NR; a++)
			assert_int_equal(pva(c, 0, p, a), 0);

	/* preempted (TASK_RUNNING) by a non-target thread, then back */
	SWITCH(c, 0, 2000, 1001, TGID, 0, 0, 1, 1);
	SWITCH(c, 0, 5000, 1, 1, 0, 0, 1001, TGID);
	LOAD(c, 0, 1001, 0, KL_LOAD_FAST);
	assert_preds(c, 0, 1, 0, 0);
	assert_int_equal(pva(c, 0, KL_PRED_SAME_CPU, KL_LOAD_FAST), 1);
	assert_int_equal(counter(c, TGID, 0, KL_C_SCHED_OUT), 1);
	assert_int_equal(counter(c, TGID, 0, KL_C_PREEMPTIONS), 1);
	assert_int_equal(hist(c, TGID, KL_H_OFFCPU, KL_SUB_ALL, &h), 1);
	assert_int_equal(h.sum, 3000);
	assert_int_equal(h.buckets[kl_hist_bucket(3000)], 1);

	/* KVM_RUN ends on CPU 0, the next KVM_RUN starts there: SAME_CPU */
	EXIT(c, 0, 1001, 9000);
	ENTER(c, 0, 1001, 0, 10000);
	assert_preds(c, 0, 2, 0, 0);
	/* a vcpu_load without a pending prediction counts only the reason */
	LOAD(c, 0, 1001, 0, KL_LOAD_CSR_DIRTY);
	LOAD(c, 0, 1001, 0, KL_LOAD_CSR_DIRTY);
	assert_int_equal(pva(c, 0, KL_PRED_SAME_CPU, KL_LOAD_CSR_DIRTY), 1);
	assert_int_equal(counter(c, TGID, 0, KL_C_VCPU_LOAD + KL_LOAD_CSR_DIRTY), 2);
}

/* Switched out on CPU 0, back on CPU 1: MIGRATED; voluntary sleep is no preemption. */
static void test_reload_migrated(void **state)
{
	struct ctx *c = *state;

	ENTER(c, 0, 1001, 3, 100);
	SWITCH(c, 0, 200, 1001, TGID, 1 /* TASK_INTERRUPTIBLE */, 0, 1, 1);
	SWITCH(c, 1, 300, 1, 1, 0, 0, 1001, TGID);
	LOAD(c, 1, 1001, 3, KL_LOAD_OTHER_PCPU);
	assert_preds(c, 3, 0, 1, 0);
	assert_int_equal(pva(c, 3, KL_PRED_MIGRATED, KL_LOAD_OTHER_PCPU), 1);
	assert_int_equal(counter(c, TGID, 3, KL_C_SCHED_OUT), 1);
	assert_int_equal(counter(c, TGID, 3, KL_C_PREEMPTIONS), 0);

	/* KVM_RUN ends on CPU 1, next one starts on CPU 0: MIGRATED */
	EXIT(c, 1, 1001, 400);
	ENTER(c, 0, 1001, 3, 500);
	assert_preds(c, 3, 0, 2, 0);
}

/* Another vCPU (ours, or a foreign VM's) ran on the CPU meanwhile: OTHER_VCPU. */
static void test_reload_other_vcpu(void **state)
{
	struct ctx *c = *state;

	ENTER(c, 0, 1001, 0, 100);		/* A: first load */
	SWITCH(c, 0, 200, 1001, TGID, 0, 0, 1002, TGID);
	ENTER(c, 0, 1002, 1, 210);		/* B: first load on CPU 0 */
	SWITCH(c, 0, 300, 1002, TGID, 0, 0, 1001, TGID);	/* B out, A in */
	LOAD(c, 0, 1001, 0, KL_LOAD_OTHER_VCPU);
	assert_preds(c, 0, 0, 0, 1);
	assert_preds(c, 1, 0, 0, 0);
	assert_int_equal(pva(c, 0, KL_PRED_OTHER_VCPU, KL_LOAD_OTHER_VCPU), 1);

	/* A out; a vCPU of another VM (preempt notifier set) runs; A back */
	SWITCH(c, 0, 400, 1001, TGID, 0, 0, 7001, 7000);
	SWITCH(c, 0, 500, 7001, 7000, 0, 1, 1001, TGID);
	assert_preds(c, 0, 0, 0, 2);
	/* same, but the other thread is no vCPU: SAME_CPU */
	SWITCH(c, 0, 600, 1001, TGID, 0, 0, 7002, 7000);
	SWITCH(c, 0, 700, 7002, 7000, 0, 0, 1001, TGID);
	assert_preds(c, 0, 1, 0, 2);
	/* nothing of the foreign VM was recorded */
	assert_int_equal(counter_all(c, KL_C_SCHED_OUT), 3 + 1);
	assert_int_equal(threads(c), 2);
}

/* Every prediction class against every actual reason: one count per cell. */
static void test_pred_vs_actual_matrix(void **state)
{
	struct ctx *c = *state;
	__u64 now = 1000;

	for (unsigned int p = 0; p < KL_PRED_NR; p++) {
		for (unsigned int a = 0; a < KL_LOAD_NR; a++) {
			__u32 tid = 3000 + p * 10 + a;
			__s32 vcpu = (__s32)(p * 10 + a);

			ENTER(c, 0, tid, vcpu, now++);
			EXIT(c, 0, tid, now++);
			if (p == KL_PRED_OTHER_VCPU) {
				ENTER(c, 0, 4000 + tid, 500 + vcpu, now++);
				EXIT(c, 0, 4000 + tid, now++);
			}
			ENTER(c, p == KL_PRED_MIGRATED ? 1 : 0, tid, vcpu, now++);
			LOAD(c, p == KL_PRED_MIGRATED ? 1 : 0, tid, vcpu, a);
			for (unsigned int q = 0; q < KL_PRED_NR; q++)
				assert_int_equal(counter(c, TGID, vcpu, KL_C_PRED + q), q == p);
		}
	}
	for (unsigned int p = 0; p < KL_PRED_NR; p++) {
		assert_int_equal(counter_all(c, KL_C_PRED + p), KL_LOAD_NR);
		for (unsigned int a = 0; a < KL_LOAD_NR; a++) {
			assert_int_equal(counter_all(c, KL_C_PRED_VS_ACTUAL + p * KL_LOAD_NR + a), 1);
			assert_int_equal(pva(c, (__s32)(p * 10 + a), p, a), 1);
		}
	}
	/* only the 18 loads above reported a reason */
	for (unsigned int a = 0; a < KL_LOAD_NR; a++)
		assert_int_equal(counter_all(c, KL_C_VCPU_LOAD + a), KL_PRED_NR);
	assert_int_equal(counter_all(c, KL_C_KVM_RUNS), KL_PRED_NR * KL_LOAD_NR + KL_LOAD_NR);
}

static void drive_everything(struct ctx *c, __u32 tgid)
{
	__u32 tid = tgid + 1;

	RUN(c, kl_test_run_enter, 0, tid, tgid, 0, 0, 100);
	RUN(c, kl_test_run_exit, 0, tid, tgid, 0, 200);
	RUN(c, kl_test_vcpu_load, 0, tid, tgid, 0, KL_LOAD_FAST);
	RUN(c, kl_test_vcpu_put, 0, tid, tgid, 0);
	RUN(c, kl_test_gstage_fault, 0, tid, tgid, 0, KL_FAULT_FAST);
	RUN(c, kl_test_pte_update, 0, tid, tgid, KL_PTE_OP_MKWRITE, 2, KL_PTE_UPDATED);
	RUN(c, kl_test_kvm_exit, 0, tid, tgid, 0, 23, 300);
	RUN(c, kl_test_kvm_entry, 0, tid, tgid, 0, 400);
	RUN(c, kl_test_userspace_exit, 0, tid, tgid, 2);
	RUN(c, kl_test_dirty_ring_push, 0, tid, tgid);
	RUN(c, kl_test_fpu, 0, tid, tgid, 1);
	RUN(c, kl_test_fast_page_fault, 0, tid, tgid);
	RUN(c, kl_test_load_begin, 0, tid, tgid, 0, 500);
	RUN(c, kl_test_load_end, 0, tid, tgid, 600);
	RUN(c, kl_test_hist, 0, tgid, KL_H_EXIT, 1, 5);
	RUN(c, kl_test_sched_switch, 0, 0, 700, tid, tgid, 0, 0, tid, tgid);
	RUN(c, kl_test_arm64_exit, 0, tid, tgid, 0, 2, 0x24, 800);
	RUN(c, kl_test_pkvm_sync, 0, tid, tgid, 0, KL_PKVM_TO_HYP, KL_PKVM_FLUSH_DIRTY, -1);
	RUN(c, kl_test_guest_fault, 0, tid, tgid, (0x24ULL << 26) | 0x47);
}

/* target_tgid set: events of another tgid change nothing. */
static void test_tgid_filter(void **state)
{
	struct ctx *c = *state;

	drive_everything(c, OTHER);
	assert_int_equal(shared_rows(c), 0);
	assert_int_equal(map_rows(c->skel->maps.reason_idx, sizeof(struct kl_reason_key)), 0);
	assert_int_equal(map_rows(c->skel->maps.hist_idx, sizeof(struct kl_hist_key)), 0);
	assert_int_equal(owned(c, false, 0) + owned(c, true, 0), 0);
	assert_int_equal(c->skel->bss->next_rslot + c->skel->bss->next_hslot, 0);
	assert_int_equal(threads(c), 0);
	for (__u32 d = 0; d < KL_D_NR; d++)
		assert_int_equal(drop(c, d), 0);

	drive_everything(c, TGID);
	assert_int_equal(counter(c, TGID, 0, KL_C_KVM_RUNS), 1);
	assert_int_equal(counter(c, TGID, 0, KL_C_DIRTY_PAGES), 1);
	assert_int_equal(counter(c, TGID, 0, KL_C_EXITS), 2);	/* riscv-style + arm64 */
	assert_int_equal(counter(c, TGID, 0, KL_C_PKVM_SYNC + KL_PKVM_FLUSH_DIRTY), 1);
	assert_int_equal(counter(c, TGID, 0, KL_C_GUEST_FAULT_ACCESS + KL_GF_WRITE), 1);
	assert_int_equal(counter(c, TGID, 0, KL_C_GUEST_FAULT_STATUS + KL_GF_TRANSLATION), 1);
	/* every event came from the vCPU thread: its slot, no shared row */
	assert_int_equal(shared_rows(c), 0);
}

/* target_tgid = 0: every tgid is accepted, each in its own rows. */
static void test_tgid_all(void **state)
{
	struct ctx *c = *state;

	drive_everything(c, OTHER);
	drive_everything(c, 4242);
	assert_int_equal(counter(c, OTHER, 0, KL_C_KVM_RUNS), 1);
	assert_int_equal(counter(c, 4242, 0, KL_C_KVM_RUNS), 1);
	assert_int_equal(counter(c, OTHER, 0, KL_C_EXITS), 2);
	assert_int_equal(counter(c, 4242, 0, KL_C_PKVM_SYNC + KL_PKVM_FLUSH_DIRTY), 1);
	assert_int_equal(counter(c, 4242, 0, KL_C_GSTAGE_FAULT + KL_FAULT_FAST), 1);
	assert_int_equal(reason(c, OTHER, KL_R_USERSPACE_EXIT, 2), 1);
	assert_int_equal(threads(c), 2);
}

/* Bucket placement at the edges, the open last bucket, and the sum. */
static void test_hist_buckets(void **state)
{
	struct ctx *c = *state;
	static const struct { __u64 v; unsigned int idx; } cases[] = {
		{ 0, 0 }, { 1, 1 }, { 7, 7 }, { 8, 8 }, { 9, 9 }, { 15, 15 },
		{ 16, 16 }, { 17, 16 }, { 18, 17 }, { 31, 23 }, { 32, 24 },
		{ 35, 24 }, { 36, 25 }, { 1000, 8 * 7 + 7 },
		{ (1ULL << 41) - 1, KL_HIST_BUCKETS - 1 },
		{ 1ULL << 41, KL_HIST_BUCKETS - 1 },
		{ 1ULL << 62, KL_HIST_BUCKETS - 1 },
	};
	struct kl_hist h;
	__u64 sum = 0;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		RUN(c, kl_test_hist, (int)(i & 1), TGID, KL_H_KVM_RUN, KL_SUB_ALL, cases[i].v);
		sum += cases[i].v;
		/* the host copy of the math agrees with the table */
		assert_int_equal(kl_hist_bucket(cases[i].v), cases[i].idx);
	}
	assert_int_equal(hist(c, TGID, KL_H_KVM_RUN, KL_SUB_ALL, &h), ARRAY_SIZE(cases));
	assert_int_equal(h.sum, sum);
	for (unsigned int b = 0; b < KL_HIST_BUCKETS; b++) {
		__u64 want = 0;

		for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
			want += cases[i].idx == b;
		assert_int_equal(h.buckets[b], want);
	}
	assert_int_equal(h.buckets[KL_HIST_BUCKETS - 1], 3);
	/* sub keys are separate rows */
	RUN(c, kl_test_hist, 0, TGID, KL_H_EXIT, 7, 8);
	assert_int_equal(hist(c, TGID, KL_H_EXIT, 7, &h), 1);
	assert_int_equal(h.buckets[8], 1);
	assert_int_equal(hist(c, TGID, KL_H_EXIT, KL_SUB_ALL, &h), 0);
}

/* Every reason of vcpu_load, gstage_fault, pte_update lands in its counter. */
static void test_reasons(void **state)
{
	struct ctx *c = *state;

	for (unsigned int r = 0; r < KL_LOAD_NR; r++)
		for (unsigned int n = 0; n <= r; n++)
			LOAD(c, 0, 1001, 0, r);
	LOAD(c, 0, 1001, 0, KL_LOAD_NR);	/* unknown: ignored */
	for (unsigned int r = 0; r < KL_LOAD_NR; r++)
		assert_int_equal(counter(c, TGID, 0, KL_C_VCPU_LOAD + r), r + 1);
	RUN(c, kl_test_vcpu_put, 0, 1001, TGID, 0);
	assert_int_equal(counter(c, TGID, 0, KL_C_VCPU_PUT), 1);

	for (unsigned int r = 0; r < KL_FAULT_NR; r++)
		for (unsigned int n = 0; n <= r; n++)
			RUN(c, kl_test_gstage_fault, 1, 1001, TGID, 0, r);
	RUN(c, kl_test_gstage_fault, 1, 1001, TGID, 0, KL_FAULT_NR);
	for (unsigned int r = 0; r < KL_FAULT_NR; r++)
		assert_int_equal(counter(c, TGID, 0, KL_C_GSTAGE_FAULT + r), r + 1);

	/* pte updates from the vCPU thread and from a non-vCPU thread */
	__u64 events = 0, retries = 0;
	for (unsigned int op = 0; op < KL_PTE_OP_NR; op++) {
		for (unsigned int o = 0; o < KL_PTE_OUTCOME_NR; o++) {
			RUN(c, kl_test_pte_update, 0, 1001, TGID, op, op * 4 + o, o);
			events++;
			retries += op * 4 + o;
		}
	}
	RUN(c, kl_test_pte_update, 1, 1500, TGID, KL_PTE_OP_WRPROTECT, 100, KL_PTE_ABORT_RETRIES);
	assert_int_equal(counter(c, TGID, 0, KL_C_PTE_UPDATE_EVENTS), events);
	assert_int_equal(counter(c, TGID, 0, KL_C_PTE_UPDATE_RETRIES), retries);
	for (unsigned int op = 0; op < KL_PTE_OP_NR; op++)
		assert_int_equal(counter(c, TGID, 0, KL_C_PTE_OP + op), KL_PTE_OUTCOME_NR);
	for (unsigned int o = 0; o < KL_PTE_OUTCOME_NR; o++)
		assert_int_equal(counter(c, TGID, 0, KL_C_PTE_OUTCOME + o), KL_PTE_OP_NR);
	assert_int_equal(counter(c, TGID, KL_VCPU_UNKNOWN, KL_C_PTE_UPDATE_EVENTS), 1);
	assert_int_equal(counter(c, TGID, KL_VCPU_UNKNOWN, KL_C_PTE_UPDATE_RETRIES), 100);
	assert_int_equal(counter(c, TGID, KL_VCPU_UNKNOWN, KL_C_PTE_OP + KL_PTE_OP_WRPROTECT), 1);
	assert_int_equal(counter(c, TGID, KL_VCPU_UNKNOWN,
				 KL_C_PTE_OUTCOME + KL_PTE_ABORT_RETRIES), 1);
}

/* Exit latency per code; store-fault latency split by the fault path. */
static void test_fault_latency(void **state)
{
	struct ctx *c = *state;
	struct kl_hist h;

	/* fast path */
	RUN(c, kl_test_kvm_exit, 0, 1001, TGID, 2, 23, 1000);
	RUN(c, kl_test_gstage_fault, 0, 1001, TGID, 2, KL_FAULT_FAST);
	RUN(c, kl_test_kvm_entry, 0, 1001, TGID, 2, 1500);
	/* spurious counts as fast */
	RUN(c, kl_test_kvm_exit, 0, 1001, TGID, 2, 23, 2000);
	RUN(c, kl_test_gstage_fault, 0, 1001, TGID, 2, KL_FAULT_SPURIOUS);
	RUN(c, kl_test_kvm_entry, 0, 1001, TGID, 2, 2100);
	/* slow path */
	RUN(c, kl_test_kvm_exit, 1, 1001, TGID, 2, 23, 3000);
	RUN(c, kl_test_gstage_fault, 1, 1001, TGID, 2, KL_FAULT_NOT_LOGGING);
	RUN(c, kl_test_kvm_entry, 1, 1001, TGID, 2, 3700);
	/* store fault with no gstage_fault event: total only */
	RUN(c, kl_test_kvm_exit, 0, 1001, TGID, 2, 23, 4000);
	RUN(c, kl_test_kvm_entry, 0, 1001, TGID, 2, 4040);
	/* other exit code: exit histogram only */
	RUN(c, kl_test_kvm_exit, 0, 1001, TGID, 2, 0x8000000000000005ULL, 5000);
	RUN(c, kl_test_gstage_fault, 0, 1001, TGID, 2, KL_FAULT_FAST);
	RUN(c, kl_test_kvm_entry, 0, 1001, TGID, 2, 5010);
	/* entry without a pending exit: nothing */
	RUN(c, kl_test_kvm_entry, 0, 1001, TGID, 2, 6000);

	assert_int_equal(counter(c, TGID, 2, KL_C_EXITS), 5);
	assert_int_equal(reason(c, TGID, KL_R_EXIT, 23), 4);
	assert_int_equal(reason(c, TGID, KL_R_EXIT, 0x8000000000000005ULL), 1);
	assert_int_equal(hist(c, TGID, KL_H_EXIT, 23, &h), 4);
	assert_int_equal(h.sum, 500 + 100 + 700 + 40);
	assert_int_equal(hist(c, TGID, KL_H_EXIT, 5, &h), 1);
	assert_int_equal(h.sum, 10);
	assert_int_equal(hist(c, TGID, KL_H_FAULT, KL_SUB_ALL, &h), 4);
	assert_int_equal(h.sum, 500 + 100 + 700 + 40);
	assert_int_equal(hist(c, TGID, KL_H_FAULT_FAST, KL_SUB_ALL, &h), 2);
	assert_int_equal(h.sum, 600);
	assert_int_equal(h.buckets[kl_hist_bucket(500)], 1);
	assert_int_equal(h.buckets[kl_hist_bucket(100)], 1);
	assert_int_equal(hist(c, TGID, KL_H_FAULT_SLOW, KL_SUB_ALL, &h), 1);
	assert_int_equal(h.sum, 700);

	/* entry before exit: dropped as clock skew */
	RUN(c, kl_test_kvm_exit, 0, 1001, TGID, 2, 23, 9000);
	RUN(c, kl_test_kvm_entry, 0, 1001, TGID, 2, 8000);
	assert_int_equal(drop(c, KL_D_CLOCK_SKEW), 1);
	assert_int_equal(hist(c, TGID, KL_H_FAULT, KL_SUB_ALL, &h), 4);
}

#define SWITCH_LIVE(c, cpu, now, ptid, ntid) \
	RUN(c, kl_test_sched_switch_live, cpu, cpu, now, ptid, TGID, 1, 0, ntid, TGID)

/*
 * Under a production sched_switch (cur live) the in-flight exit of the
 * running vCPU thread is kept per CPU: the same latencies and counts as
 * through `vcpus`, also when the thread is switched out between exit and
 * entry and comes back on the other CPU.
 */
static void test_exit_in_cur(void **state)
{
	struct ctx *c = *state;
	struct kl_hist h;

	ENTER(c, 0, 1001, 2, 100);
	SWITCH_LIVE(c, 0, 110, 0, 1001);
	/* exit, FAST fault, entry on cpu 0 */
	RUN(c, kl_test_kvm_exit, 0, 1001, TGID, 2, 23, 1000);
	RUN(c, kl_test_gstage_fault, 0, 1001, TGID, 2, KL_FAULT_FAST);
	RUN(c, kl_test_kvm_entry, 0, 1001, TGID, 2, 1500);
	/* exit, refused fault on cpu 0; switched out, entry on cpu 1 */
	RUN(c, kl_test_kvm_exit, 0, 1001, TGID, 2, 23, 2000);
	RUN(c, kl_test_gstage_fault, 0, 1001, TGID, 2, KL_FAULT_NOT_LOGGING);
	SWITCH_LIVE(c, 0, 2100, 1001, 0);
	SWITCH_LIVE(c, 1, 2200, 0, 1001);
	RUN(c, kl_test_kvm_entry, 1, 1001, TGID, 2, 2700);
	/* the entry consumed it: a second entry records nothing */
	RUN(c, kl_test_kvm_entry, 1, 1001, TGID, 2, 2800);
	/* other exit code, exit on cpu 1, entry after a switch back to cpu 0 */
	RUN(c, kl_test_kvm_exit, 1, 1001, TGID, 2, 5, 3000);
	SWITCH_LIVE(c, 1, 3100, 1001, 0);
	SWITCH_LIVE(c, 0, 3200, 0, 1001);
	RUN(c, kl_test_kvm_entry, 0, 1001, TGID, 2, 3040 + 200);

	assert_int_equal(counter(c, TGID, 2, KL_C_EXITS), 3);
	assert_int_equal(counter(c, TGID, 2, KL_C_GSTAGE_FAULT + KL_FAULT_FAST), 1);
	assert_int_equal(counter(c, TGID, 2, KL_C_GSTAGE_FAULT + KL_FAULT_NOT_LOGGING), 1);
	assert_int_equal(reason(c, TGID, KL_R_EXIT, 23), 2);
	assert_int_equal(hist(c, TGID, KL_H_EXIT, 23, &h), 2);
	assert_int_equal(h.sum, 500 + 700);
	assert_int_equal(hist(c, TGID, KL_H_FAULT_FAST, KL_SUB_ALL, &h), 1);
	assert_int_equal(h.sum, 500);
	assert_int_equal(hist(c, TGID, KL_H_FAULT_SLOW, KL_SUB_ALL, &h), 1);
	assert_int_equal(h.sum, 700);
	assert_int_equal(hist(c, TGID, KL_H_EXIT, 5, &h), 1);
	assert_int_equal(h.sum, 240);
	assert_int_equal(drop(c, KL_D_CLOCK_SKEW), 0);
}

/* KVM_RUN count and duration, off-CPU time, vcpu_load latency by reason. */
static void test_kvm_run(void **state)
{
	struct ctx *c = *state;
	struct kl_hist h;

	ENTER(c, 0, 1001, 0, 1000);
	EXIT(c, 0, 1001, 1800);
	ENTER(c, 1, 1001, 0, 2000);
	EXIT(c, 1, 1001, 2050);
	EXIT(c, 1, 1001, 2060);		/* no KVM_RUN in progress: ignored */
	EXIT(c, 1, 1009, 2070);		/* unknown thread: ignored */
	assert_int_equal(counter(c, TGID, 0, KL_C_KVM_RUNS), 2);
	assert_int_equal(hist(c, TGID, KL_H_KVM_RUN, KL_SUB_ALL, &h), 2);
	assert_int_equal(h.sum, 850);
	assert_int_equal(h.buckets[kl_hist_bucket(800)], 1);
	assert_int_equal(h.buckets[kl_hist_bucket(50)], 1);

	/* switches outside KVM_RUN are not counted */
	SWITCH(c, 0, 3000, 1001, TGID, 0, 0, 1, 1);
	assert_int_equal(counter(c, TGID, 0, KL_C_SCHED_OUT), 0);

	/* kvm_arch_vcpu_load latency split by the reason seen inside it */
	RUN(c, kl_test_load_begin, 0, 1001, TGID, 0, 100);
	LOAD(c, 0, 1001, 0, KL_LOAD_CSR_DIRTY);
	RUN(c, kl_test_load_end, 0, 1001, TGID, 400);
	RUN(c, kl_test_load_begin, 0, 1001, TGID, 0, 500);
	RUN(c, kl_test_load_end, 0, 1001, TGID, 520);
	RUN(c, kl_test_load_end, 0, 1001, TGID, 600);	/* unmatched */
	assert_int_equal(hist(c, TGID, KL_H_VCPU_LOAD, KL_LOAD_CSR_DIRTY, &h), 1);
	assert_int_equal(h.sum, 300);
	assert_int_equal(hist(c, TGID, KL_H_VCPU_LOAD, KL_SUB_ALL, &h), 1);
	assert_int_equal(h.sum, 20);
}

/* Dirty pages, userspace exits, FPU loads, fast page faults, thread exit. */
static void test_hot_events(void **state)
{
	struct ctx *c = *state;

	ENTER(c, 0, 1001, 4, 100);
	for (int i = 0; i < 10; i++)
		RUN(c, kl_test_dirty_ring_push, i & 1, 1001, TGID);
	RUN(c, kl_test_dirty_ring_push, 0, 1002, TGID);	/* not a vCPU thread */
	RUN(c, kl_test_userspace_exit, 0, 1001, TGID, 2 /* KVM_EXIT_IO */);
	RUN(c, kl_test_userspace_exit, 1, 1001, TGID, 2);
	RUN(c, kl_test_userspace_exit, 0, 1001, TGID, 6 /* KVM_EXIT_MMIO */);
	RUN(c, kl_test_fpu, 0, 1001, TGID, 1);
	RUN(c, kl_test_fpu, 0, 1001, TGID, 0);
	RUN(c, kl_test_fpu, 1, 1001, TGID, 1);
	RUN(c, kl_test_fast_page_fault, 0, 1001, TGID);
	assert_int_equal(counter(c, TGID, 4, KL_C_DIRTY_PAGES), 10);
	assert_int_equal(counter(c, TGID, KL_VCPU_UNKNOWN, KL_C_DIRTY_PAGES), 1);
	assert_int_equal(counter(c, TGID, 4, KL_C_USERSPACE_EXITS), 3);
	assert_int_equal(reason(c, TGID, KL_R_USERSPACE_EXIT, 2), 2);
	assert_int_equal(reason(c, TGID, KL_R_USERSPACE_EXIT, 6), 1);
	assert_int_equal(counter(c, TGID, 4, KL_C_FPU_LOADS), 2);
	assert_int_equal(counter(c, TGID, 4, KL_C_FAST_PAGE_FAULTS), 1);

	/* kvm_fpu identifies a thread that was not seen entering KVM_RUN */
	RUN(c, kl_test_fpu, 0, 1003, TGID, 1);
	assert_int_equal(threads(c), 2);
	assert_int_equal(counter(c, TGID, KL_VCPU_UNKNOWN, KL_C_FPU_LOADS), 1);

	/*
	 * thread exit frees the per-thread state (the kernel frees task
	 * storage) and the per-CPU cache forgets it; tid and comm stay in
	 * the slot for the collector.
	 */
	RUN(c, kl_test_process_exit, 0, 1001, TGID);
	RUN(c, kl_test_process_exit, 0, 1003, TGID);
	assert_int_equal(threads(c), 0);
	/* 1001's slot and the shared row -1 (1003 never had an id) */
	assert_int_equal(c->skel->bss->next_slot, 2);
	{
		struct kl_slot_info k;
		__u32 s0 = 0;

		assert_int_equal(bpf_map__lookup_elem(c->skel->maps.slot_key, &s0, sizeof(s0), &k, sizeof(k), 0), 0);
		assert_int_equal(k.tid, 1001);
		assert_int_equal(k.tgid, TGID);
		assert_int_equal(k.vcpu_id, 4);
		assert_int_equal(k.flags, 0);
	}
	RUN(c, kl_test_dirty_ring_push, 0, 1001, TGID);
	assert_int_equal(counter(c, TGID, KL_VCPU_UNKNOWN, KL_C_DIRTY_PAGES), 2);
	assert_int_equal(counter(c, TGID, 4, KL_C_DIRTY_PAGES), 10);
}

/* pKVM state sync: every direction x reason in its counter; who is identified. */
static void test_pkvm_sync(void **state)
{
	struct ctx *c = *state;
	unsigned int n = 0;

	/* kernel enum values = contract order here (this kernel has no such enum) */
	for (unsigned int d = 0; d < KL_PKVM_DIR_NR; d++)
		for (unsigned int r = 0; r < KL_PKVM_REASON_NR; r++, n++)
			for (unsigned int k = 0; k <= n % 3; k++)
				RUN(c, kl_test_pkvm_sync, (int)(k & 1), 1001, TGID, 2, d, r,
				    d == KL_PKVM_TO_HOST ? 4 : -1);
	/* unknown direction / reason: ignored */
	RUN(c, kl_test_pkvm_sync, 0, 1001, TGID, 2, KL_PKVM_DIR_NR, KL_PKVM_SYNC_TRAP, 4);
	RUN(c, kl_test_pkvm_sync, 0, 1001, TGID, 2, KL_PKVM_TO_HOST, KL_PKVM_REASON_NR, 4);
	n = 0;
	for (unsigned int d = 0; d < KL_PKVM_DIR_NR; d++)
		for (unsigned int r = 0; r < KL_PKVM_REASON_NR; r++, n++)
			assert_int_equal(counter(c, TGID, 2, KL_C_PKVM_SYNC + d * KL_PKVM_REASON_NR + r),
					 n % 3 + 1);
	/* all from the vCPU's own thread: its slot */
	assert_int_equal(shared_rows(c), 0);
	/* the entry / exit events identified the thread as vCPU 2 */
	assert_int_equal(threads(c), 1);
	{
		struct kl_vcpu_state vs;
		__u32 tid = 1001;

		assert_int_equal(bpf_map__lookup_elem(c->skel->maps.test_ts, &tid, sizeof(tid),
						      &vs, sizeof(vs), 0), 0);
		assert_int_equal(vs.tid, 1001);
		assert_int_equal(vs.vcpu_id, 2);
	}

	/* a vcpu put from a thread that is no vCPU: vCPU 5's row, no identification */
	RUN(c, kl_test_pkvm_sync, 1, 1500, TGID, 5, KL_PKVM_TO_HOST, KL_PKVM_SYNC_PUT, -1);
	RUN(c, kl_test_pkvm_sync, 1, 1500, TGID, 5, KL_PKVM_TO_HOST, KL_PKVM_SKIP_HOST_CURRENT, -1);
	assert_int_equal(counter(c, TGID, 5, KL_C_PKVM_SYNC + KL_PKVM_TO_HOST * KL_PKVM_REASON_NR +
				 KL_PKVM_SYNC_PUT), 1);
	assert_int_equal(counter(c, TGID, 5, KL_C_PKVM_SYNC + KL_PKVM_TO_HOST * KL_PKVM_REASON_NR +
				 KL_PKVM_SKIP_HOST_CURRENT), 1);
	assert_int_equal(threads(c), 1);
	/* an exit event (exit code set) identifies that thread */
	RUN(c, kl_test_pkvm_sync, 1, 1500, TGID, 5, KL_PKVM_TO_HOST, KL_PKVM_SKIP_IRQ, 0);
	assert_int_equal(threads(c), 2);
}

/* arm64 kvm_exit: ESR class of traps, the exception code otherwise; latency per class. */
static void test_arm64_exits(void **state)
{
	struct ctx *c = *state;
	static const struct { __u64 ret, ec, code; } cases[] = {
		{ 2, 0x24, 0x24 },			/* TRAP, DABT_LOW */
		{ 2, 0x01, 0x01 },			/* TRAP, WFx */
		{ 2 | (1ULL << 31), 0x16, 0x16 },	/* TRAP + pending SError, HVC64 */
		{ 0, 0x24, KL_ARM64_EXIT_NONTRAP },	/* IRQ: stale class ignored */
		{ 1, 0x18, KL_ARM64_EXIT_NONTRAP + 1 },	/* EL1 SError */
		{ 3, 0x00, KL_ARM64_EXIT_NONTRAP + 3 },	/* illegal exception return */
		{ 0x0badca11, 0x24, KL_ARM64_EXIT_NONTRAP + 0xff },	/* HYP_GONE */
	};
	struct kl_hist h;
	__u64 now = 1000;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		RUN(c, kl_test_arm64_exit, (int)(i & 1), 1001, TGID, 1, cases[i].ret, cases[i].ec, now);
		RUN(c, kl_test_kvm_entry, (int)(i & 1), 1001, TGID, 1, now + 100 * (i + 1));
		now += 10000;
	}
	assert_int_equal(counter(c, TGID, 1, KL_C_EXITS), ARRAY_SIZE(cases));
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_int_equal(reason(c, TGID, KL_R_EXIT, cases[i].code), 1);
		assert_int_equal(hist(c, TGID, KL_H_EXIT, (__u16)cases[i].code, &h), 1);
		assert_int_equal(h.sum, 100 * (i + 1));
	}
	assert_int_equal(reason(c, TGID, KL_R_EXIT, 0), 0);
	/* no store-fault exit code on arm64: fault_latency_ns stays empty */
	assert_int_equal(hist(c, TGID, KL_H_FAULT, KL_SUB_ALL, &h), 0);
}

/* arm64 kvm_guest_fault: access and fault status class from the ESR. */
static void test_guest_fault(void **state)
{
	struct ctx *c = *state;
	static const struct { __u64 esr; unsigned int access, status; } cases[] = {
		{ (0x24ULL << 26) | (1 << 6) | 0x07, KL_GF_WRITE, KL_GF_TRANSLATION },	/* level 3 */
		{ (0x24ULL << 26) | (1 << 6) | 0x0f, KL_GF_WRITE, KL_GF_PERMISSION },
		{ (0x24ULL << 26) | (1 << 24) | 0x04, KL_GF_READ, KL_GF_TRANSLATION },	/* ISV set */
		{ (0x24ULL << 26) | 0x0b, KL_GF_READ, KL_GF_ACCESS_FLAG },
		{ (0x20ULL << 26) | (1 << 6) | 0x06, KL_GF_EXEC, KL_GF_TRANSLATION },	/* bit 6 ignored */
		{ (0x20ULL << 26) | 0x0d, KL_GF_EXEC, KL_GF_PERMISSION },
		{ (0x24ULL << 26) | 0x10, KL_GF_READ, KL_GF_OTHER_STATUS },	/* external abort */
		{ (0x24ULL << 26) | 0x2b, KL_GF_READ, KL_GF_OTHER_STATUS },	/* level -1 */
	};
	__u64 want_a[KL_GF_ACCESS_NR] = { 0 }, want_s[KL_GF_STATUS_NR] = { 0 };

	ENTER(c, 0, 1001, 3, 100);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		RUN(c, kl_test_guest_fault, (int)(i & 1), 1001, TGID, cases[i].esr);
		want_a[cases[i].access]++;
		want_s[cases[i].status]++;
	}
	for (unsigned int a = 0; a < KL_GF_ACCESS_NR; a++)
		assert_int_equal(counter(c, TGID, 3, KL_C_GUEST_FAULT_ACCESS + a), want_a[a]);
	for (unsigned int st = 0; st < KL_GF_STATUS_NR; st++)
		assert_int_equal(counter(c, TGID, 3, KL_C_GUEST_FAULT_STATUS + st), want_s[st]);
	/* a thread that is no identified vCPU: row -1 */
	RUN(c, kl_test_guest_fault, 0, 1700, TGID, (0x24ULL << 26) | (1 << 6) | 0x0f);
	assert_int_equal(counter(c, TGID, KL_VCPU_UNKNOWN, KL_C_GUEST_FAULT_ACCESS + KL_GF_WRITE), 1);
	assert_int_equal(counter(c, TGID, KL_VCPU_UNKNOWN, KL_C_GUEST_FAULT_STATUS + KL_GF_PERMISSION), 1);
}

/*
 * The CPU the production programs use (read from the task, not from
 * bpf_get_smp_processor_id(), see kl_task_cpu()) is the CPU they run on.
 */
static void test_cur_cpu(void **state)
{
	struct ctx *c = *state;

	for (int cpu = 0; cpu < 2; cpu++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .flags = BPF_F_TEST_RUN_ON_CPU, .cpu = (__u32)cpu);

		assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(c->skel->progs.kl_test_cur_cpu),
							&opts), 0);
		assert_int_equal(opts.retval, cpu + 1);
	}
}

/* The state of thread tid in vcpu_ts (looked up by pidfd); 0 or -errno. */
static int task_state(struct ctx *c, pid_t tid, struct kl_vcpu_state *v)
{
	int fd = (int)syscall(SYS_pidfd_open, tid, tid == getpid() ? 0 : 0x80 /* PIDFD_THREAD */);
	int err;

	assert_true(fd >= 0);
	err = bpf_map__lookup_elem(c->skel->maps.vcpu_ts, &fd, sizeof(fd), v, sizeof(*v), 0);
	err = err ? -errno : 0;
	close(fd);
	return err;
}

struct other_thread {
	struct ctx *c;
	pid_t tid;
};

/* A thread that never entered KVM_RUN: its events count in row -1. */
static void *other_thread(void *arg)
{
	struct other_thread *o = arg;
	__u64 a[] = { (__u64)gettid(), (__u64)getpid() };

	o->tid = gettid();
	run_prog(o->c->skel->progs.kl_test_dirty_ring_push, 0, a, ARRAY_SIZE(a));
	return NULL;
}

/*
 * The production per-thread state path (test_mode off): task-local
 * storage of the calling thread, created at KVM_RUN entry only; an
 * untracked thread gets none, counts in row -1; the slot names the
 * thread; thread exit marks the slot.
 */
static void test_task_storage(void **state)
{
	struct ctx *c = *state;
	__u32 tid = (__u32)gettid(), tgid = (__u32)getpid();
	struct kl_vcpu_state v;
	struct kl_slot_info k;
	struct other_thread o = { .c = c };
	struct kl_hist h;
	pthread_t th;
	char comm[17] = "";
	__u32 s0 = 1;	/* slot 0: the shared row -1 of the first event */
	FILE *f;

	assert_int_equal(task_state(c, (pid_t)tid, &v), -ENOENT);
	RUN(c, kl_test_userspace_exit, 0, tid, tgid, 2);	/* untracked yet */
	assert_int_equal(task_state(c, (pid_t)tid, &v), -ENOENT);
	assert_int_equal(counter_row(c, tgid, KL_VCPU_UNKNOWN, KL_C_USERSPACE_EXITS), 1);

	RUN(c, kl_test_run_enter, 0, tid, tgid, 0, 5, 100);
	assert_int_equal(task_state(c, (pid_t)tid, &v), 0);
	assert_int_equal(v.tid, tid);
	assert_int_equal(v.tgid, tgid);
	assert_int_equal(v.vcpu_id, 5);
	assert_int_equal(v.run_start_ns, 100);
	RUN(c, kl_test_kvm_exit, 0, tid, tgid, 5, 23, 200);
	RUN(c, kl_test_kvm_entry, 0, tid, tgid, 5, 300);
	RUN(c, kl_test_run_exit, 0, tid, tgid, 0, 400);
	RUN(c, kl_test_dirty_ring_push, 0, tid, tgid);
	assert_int_equal(counter(c, tgid, 5, KL_C_EXITS), 1);
	assert_int_equal(counter(c, tgid, 5, KL_C_KVM_RUNS), 1);
	assert_int_equal(counter(c, tgid, 5, KL_C_DIRTY_PAGES), 1);
	assert_int_equal(hot_counter(c, tgid, 5, KL_C_KVM_RUNS, false), 1);
	assert_int_equal(hist(c, tgid, KL_H_EXIT, 23, &h), 1);
	assert_int_equal(h.sum, 100);
	assert_int_equal(hist(c, tgid, KL_H_KVM_RUN, KL_SUB_ALL, &h), 1);
	assert_int_equal(h.sum, 300);
	assert_int_equal(task_state(c, (pid_t)tid, &v), 0);
	assert_int_equal(v.run_start_ns, 0);

	/* the slot names the thread and its process */
	assert_int_equal(c->skel->bss->next_slot, 2);
	assert_int_equal(bpf_map__lookup_elem(c->skel->maps.slot_key, &s0, sizeof(s0), &k, sizeof(k), 0), 0);
	assert_int_equal(k.tid, tid);
	assert_int_equal(k.tgid, tgid);
	assert_int_equal(k.vcpu_id, 5);
	f = fopen("/proc/self/comm", "r");
	assert_non_null(f);
	assert_non_null(fgets(comm, sizeof(comm), f));
	fclose(f);
	comm[strcspn(comm, "\n")] = 0;
	assert_string_equal(k.comm, comm);

	/* another thread of the process: no state, row -1 */
	assert_int_equal(pthread_create(&th, NULL, other_thread, &o), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(counter_row(c, tgid, KL_VCPU_UNKNOWN, KL_C_DIRTY_PAGES), 1);
	assert_int_equal(counter(c, tgid, 5, KL_C_DIRTY_PAGES), 1);

	assert_int_equal(drop(c, KL_D_VCPU_MAP_FULL), 0);
}

/* Run prog in this thread (no BPF_F_TEST_RUN_ON_CPU): current is us. */
static __u32 run_here(struct bpf_program *prog, __u64 *args, size_t n)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.ctx_in = args,
		.ctx_size_in = (__u32)(n * sizeof(__u64)),
	);

	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(prog), &opts), 0);
	return opts.retval;
}

static int fd_vcpu(struct ctx *c, int fd)
{
	__u64 a[] = { (__u64)(__s64)fd };

	return (int)run_here(c->skel->progs.kl_test_fd_vcpu, a, 1) - 100;
}

#define KL_NOT_VCPU_ID	(-2)

/*
 * Only a real KVM vCPU file is a vCPU (anon inode named kvm-vcpu:<id>
 * whose vCPU has that id): a pipe, a socket, /dev/null, a regular file
 * named kvm-vcpu:0, the VM fd and a closed fd are not; KVM_RUN on them
 * creates no per-thread state.
 */
static void test_real_vcpu_fd(void **state)
{
	struct ctx *c = *state;
	char path[] = "/tmp/kl-test-XXXXXX";
	char fake[64];
	int p[2], sv[2], null, reg, kvm, vm, vcpu;
	__u32 tid = (__u32)gettid();

	assert_int_equal(pipe(p), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	null = open("/dev/null", O_RDWR);
	assert_true(null >= 0);
	assert_non_null(mkdtemp(path));
	snprintf(fake, sizeof(fake), "%s/kvm-vcpu:0", path);
	reg = open(fake, O_RDWR | O_CREAT, 0600);
	assert_true(reg >= 0);
	kvm = open("/dev/kvm", O_RDWR);
	if (kvm < 0)
		fail_msg("/dev/kvm: %s (this test needs KVM)", strerror(errno));
	vm = ioctl(kvm, 0xAE01 /* KVM_CREATE_VM */, 0);
	assert_true(vm >= 0);
	vcpu = ioctl(vm, 0xAE41 /* KVM_CREATE_VCPU */, 3);
	assert_true(vcpu >= 0);

	assert_int_equal(fd_vcpu(c, p[0]), KL_NOT_VCPU_ID);
	assert_int_equal(fd_vcpu(c, p[1]), KL_NOT_VCPU_ID);
	assert_int_equal(fd_vcpu(c, sv[0]), KL_NOT_VCPU_ID);
	assert_int_equal(fd_vcpu(c, null), KL_NOT_VCPU_ID);
	assert_int_equal(fd_vcpu(c, reg), KL_NOT_VCPU_ID);
	assert_int_equal(fd_vcpu(c, kvm), KL_NOT_VCPU_ID);
	assert_int_equal(fd_vcpu(c, vm), KL_NOT_VCPU_ID);
	assert_int_equal(fd_vcpu(c, 9999), KL_NOT_VCPU_ID);
	assert_int_equal(fd_vcpu(c, vcpu), 3);

	/* KVM_RUN on the fakes: no state, nothing counted; on the vCPU: vCPU 3 */
	for (int i = 0; i < 5; i++) {
		int fds[] = { p[0], sv[0], null, reg, vm };
		__u64 a[] = { tid, TGID, 0, (__u64)(__s64)fds[i], 100 };
		__u64 b[] = { tid, TGID, 0, 200 };

		run_here(c->skel->progs.kl_test_run_enter_fd, a, ARRAY_SIZE(a));
		run_here(c->skel->progs.kl_test_run_exit, b, ARRAY_SIZE(b));
	}
	assert_int_equal(threads(c), 0);
	assert_int_equal(counter_all(c, KL_C_KVM_RUNS), 0);
	{
		__u64 a[] = { tid, TGID, 0, (__u64)(__s64)vcpu, 100 };
		__u64 b[] = { tid, TGID, 0, 200 };

		run_here(c->skel->progs.kl_test_run_enter_fd, a, ARRAY_SIZE(a));
		run_here(c->skel->progs.kl_test_run_exit, b, ARRAY_SIZE(b));
	}
	assert_int_equal(threads(c), 1);
	assert_int_equal(counter(c, TGID, 3, KL_C_KVM_RUNS), 1);

	close(vcpu);
	close(vm);
	close(kvm);
	close(reg);
	unlink(fake);
	rmdir(path);
	close(null);
	close(sv[0]);
	close(sv[1]);
	close(p[0]);
	close(p[1]);
}

/*
 * Map full: the event is counted in `drops`, never silently lost.  Two
 * counter slots, two per-thread states (odd and even tids), two reason
 * and two histogram slots.
 */
static void test_drops(void **state)
{
	struct ctx *c = *state;

	ENTER(c, 0, 1001, 0, 100);			/* thread slot 0 */
	RUN(c, kl_test_dirty_ring_push, 0, 1003, TGID);	/* untracked: shared row (TGID, -1), slot 1 */
	ENTER(c, 0, 1002, 1, 100);			/* no slot left for vCPU 1 */
	ENTER(c, 0, 1005, 2, 100);			/* odd tid: no per-thread state */
	assert_int_equal(drop(c, KL_D_VCPU_MAP_FULL), 1);
	assert_int_equal(threads(c), 2);
	assert_int_equal(c->skel->bss->next_slot, 2);
	assert_int_equal(drop(c, KL_D_SLOTS_FULL), 0);	/* nothing lost yet */

	/* 1001's counters live in its slot, not in a shared row */
	RUN(c, kl_test_dirty_ring_push, 0, 1001, TGID);
	assert_int_equal(counter(c, TGID, 0, KL_C_DIRTY_PAGES), 1);
	assert_int_equal(counter_row(c, TGID, 0, KL_C_DIRTY_PAGES), 0);
	/* the shared row exists: exact, from both CPUs */
	RUN(c, kl_test_dirty_ring_push, 1, 1003, TGID);
	assert_int_equal(counter_row(c, TGID, KL_VCPU_UNKNOWN, KL_C_DIRTY_PAGES), 2);
	/* vCPU 1 has no slot and no row can be taken: lost, counted, named for --max-vcpus */
	RUN(c, kl_test_gstage_fault, 0, 1002, TGID, 1, KL_FAULT_NOT_LOGGING);
	RUN(c, kl_test_gstage_fault, 1, 1002, TGID, 1, KL_FAULT_NOT_LOGGING);
	assert_int_equal(counter(c, TGID, 1, KL_C_GSTAGE_FAULT + KL_FAULT_NOT_LOGGING), 0);
	assert_int_equal(drop(c, KL_D_SLOTS_FULL), 2);
	/* a full array does not advance the allocation counter */
	assert_int_equal(c->skel->bss->next_slot, 2);
	assert_int_equal(drop(c, KL_D_COUNTER_MAP_FULL), 0);

	/* two reason slots: the third code is dropped, named for --max-reasons */
	for (__u64 r = 1; r <= 3; r++)
		RUN(c, kl_test_userspace_exit, 0, 1001, TGID, r);
	RUN(c, kl_test_userspace_exit, 1, 1001, TGID, 3);
	assert_int_equal(drop(c, KL_D_REASON_SLOTS_FULL), 2);
	assert_int_equal(reason(c, TGID, KL_R_USERSPACE_EXIT, 1), 1);
	assert_int_equal(reason(c, TGID, KL_R_USERSPACE_EXIT, 2), 1);
	/* a full array does not advance the allocation counter */
	assert_int_equal(c->skel->bss->next_rslot, 2);

	for (__u32 s = 1; s <= 4; s++)
		RUN(c, kl_test_hist, 0, TGID, KL_H_EXIT, s, 10);
	assert_int_equal(drop(c, KL_D_HIST_SLOTS_FULL), 2);
	assert_int_equal(c->skel->bss->next_hslot, 2);
	/* the schema 1.3 names of the per-CPU hashes stay 0 */
	assert_int_equal(drop(c, KL_D_REASON_MAP_FULL), 0);
	assert_int_equal(drop(c, KL_D_HIST_MAP_FULL), 0);
	assert_int_equal(drop(c, KL_D_CLOCK_SKEW), 0);
}

/*
 * Release reason slot s as the collector does for an exited VM: clear its
 * owner, zero its count, put it in the pool's ring and publish the tail.
 */
static void release_rslot(struct ctx *c, __u32 s)
{
	struct kl_reason_key none = { 0 };
	__u32 tail = c->skel->bss->free_tail[KL_POOL_REASON];
	__u32 at = tail % c->skel->rodata->pool_size[KL_POOL_REASON];
	__u64 zero = 0;

	assert_int_equal(bpf_map__update_elem(c->skel->maps.rslot_key, &s, sizeof(s), &none,
					      sizeof(none), 0), 0);
	assert_int_equal(bpf_map__update_elem(c->skel->maps.rslots, &s, sizeof(s), &zero,
					      sizeof(zero), 0), 0);
	assert_int_equal(bpf_map__update_elem(c->skel->maps.free_rslots, &at, sizeof(at), &s,
					      sizeof(s), 0), 0);
	c->skel->bss->free_tail[KL_POOL_REASON] = tail + 1;
}

/*
 * Released slots are reused before never-used ones: with both reason
 * slots taken, a new code is dropped; once one is released (its VM
 * exited) the next new code takes it, from zero, and the old key cached
 * for that slot no longer matches.
 */
static void test_slot_reuse(void **state)
{
	struct ctx *c = *state;	/* two slots per array */
	struct kl_reason_key k = { .tgid = OTHER, .kind = KL_R_USERSPACE_EXIT, .code = 2 };
	int s;

	RUN(c, kl_test_userspace_exit, 0, 1001, TGID, 2);
	RUN(c, kl_test_userspace_exit, 0, 1001, TGID, 2);
	RUN(c, kl_test_userspace_exit, 0, 1001, TGID, 6);
	RUN(c, kl_test_userspace_exit, 0, 1001, TGID, 9);	/* full */
	assert_int_equal(drop(c, KL_D_REASON_SLOTS_FULL), 1);
	assert_int_equal(reason(c, TGID, KL_R_USERSPACE_EXIT, 2), 2);
	/* the VM exits: the collector releases its code-2 slot (index entry too) */
	k.tgid = TGID;
	s = owner_slot(c->skel->maps.rslot_key, 2, &k, sizeof(k));
	assert_true(s >= 0);
	release_rslot(c, (__u32)s);
	assert_int_equal(bpf_map__delete_elem(c->skel->maps.reason_idx, &k, sizeof(k), 0), 0);
	/* a new code takes the released slot, counting from zero */
	RUN(c, kl_test_userspace_exit, 0, 1001, TGID, 9);
	assert_int_equal(reason(c, TGID, KL_R_USERSPACE_EXIT, 9), 1);
	k.code = 9;
	assert_int_equal(owner_slot(c->skel->maps.rslot_key, 2, &k, sizeof(k)), s);
	assert_int_equal(c->skel->bss->next_rslot, 2);
	assert_int_equal(c->skel->bss->free_head[KL_POOL_REASON], 1);
	/* code 2 again: its cached slot is code 9's now, and no slot is left */
	RUN(c, kl_test_userspace_exit, 0, 1001, TGID, 2);
	assert_int_equal(reason(c, TGID, KL_R_USERSPACE_EXIT, 9), 1);
	assert_int_equal(reason(c, TGID, KL_R_USERSPACE_EXIT, 2), 0);
	assert_int_equal(drop(c, KL_D_REASON_SLOTS_FULL), 2);
}

/*
 * kvm_userspace_exit ends the KVM_RUN (no sys_exit_ioctl hook): count,
 * duration and the put on this CPU (the next run on another CPU is
 * predicted "migrated"), with the userspace exit reason.  A run whose
 * start was not seen (attached mid-run) counts its exit reason only.
 */
static void test_run_end(void **state)
{
	struct ctx *c = *state;
	struct kl_hist h;

	RUN(c, kl_test_run_end, 0, 1001, TGID, 0, 50, 2);	/* start not seen */
	assert_int_equal(counter_all(c, KL_C_KVM_RUNS), 0);
	assert_int_equal(counter_all(c, KL_C_USERSPACE_EXITS), 1);
	ENTER(c, 0, 1001, 3, 100);
	RUN(c, kl_test_run_end, 0, 1001, TGID, 0, 400, 2);
	assert_int_equal(counter(c, TGID, 3, KL_C_KVM_RUNS), 1);
	assert_int_equal(counter(c, TGID, 3, KL_C_USERSPACE_EXITS), 1);
	assert_int_equal(reason(c, TGID, KL_R_USERSPACE_EXIT, 2), 2);
	assert_int_equal(hist(c, TGID, KL_H_KVM_RUN, KL_SUB_ALL, &h), 1);
	assert_int_equal(h.sum, 300);
	ENTER(c, 1, 1001, 3, 500);
	RUN(c, kl_test_run_end, 1, 1001, TGID, 1, 600, 6);
	assert_int_equal(counter(c, TGID, 3, KL_C_PRED + KL_PRED_MIGRATED), 1);
	assert_int_equal(counter(c, TGID, 3, KL_C_KVM_RUNS), 2);
	assert_int_equal(reason(c, TGID, KL_R_USERSPACE_EXIT, 6), 1);
	/* no KVM_RUN in flight: the next end counts no run */
	RUN(c, kl_test_run_end, 1, 1001, TGID, 1, 700, 6);
	assert_int_equal(counter(c, TGID, 3, KL_C_KVM_RUNS), 2);
	assert_int_equal(counter_all(c, KL_C_USERSPACE_EXITS), 4);
}

/*
 * Reason and histogram slots: one per (VM, code), allocated at the first
 * event, shared by the VM's threads and CPUs; the per-CPU cache serves
 * the next events; a released slot (owner cleared, index entry deleted,
 * as the collector does for an exited VM) is not used again.
 */
static void test_rslots(void **state)
{
	struct ctx *c = *state;
	struct kl_reason_key k = { .tgid = TGID, .kind = KL_R_EXIT, .code = 30 }, none = { 0 };
	struct kl_hist h;
	__u32 s0 = 0;

	/* first event: slot 0, owner and index written */
	RUN(c, kl_test_kvm_exit, 0, 1001, TGID, 0, 30, 100);
	assert_int_equal(c->skel->bss->next_rslot, 1);
	assert_int_equal(owner_slot(c->skel->maps.rslot_key, 1, &k, sizeof(k)), 0);
	assert_int_equal(map_rows(c->skel->maps.reason_idx, sizeof(k)), 1);
	/* same key from another thread (vCPU 1) and another CPU: same slot */
	RUN(c, kl_test_kvm_exit, 0, 1002, TGID, 1, 30, 200);
	RUN(c, kl_test_kvm_exit, 1, 1001, TGID, 0, 30, 300);
	RUN(c, kl_test_kvm_exit, 1, 1002, TGID, 1, 30, 400);
	assert_int_equal(c->skel->bss->next_rslot, 1);
	assert_int_equal(reason(c, TGID, KL_R_EXIT, 30), 4);
	/* cache hit with the index gone: the cached slot is still used */
	assert_int_equal(bpf_map__delete_elem(c->skel->maps.reason_idx, &k, sizeof(k), 0), 0);
	RUN(c, kl_test_kvm_exit, 0, 1001, TGID, 0, 30, 500);
	assert_int_equal(c->skel->bss->next_rslot, 1);
	assert_int_equal(reason(c, TGID, KL_R_EXIT, 30), 5);
	/* other codes and another VM: slots of their own */
	RUN(c, kl_test_kvm_exit, 0, 1001, TGID, 0, 31, 600);
	RUN(c, kl_test_userspace_exit, 0, 1001, TGID, 30);
	assert_int_equal(c->skel->bss->next_rslot, 3);
	assert_int_equal(reason(c, TGID, KL_R_EXIT, 31), 1);
	assert_int_equal(reason(c, TGID, KL_R_USERSPACE_EXIT, 30), 1);
	assert_int_equal(reason(c, TGID, KL_R_EXIT, 30), 5);
	/* released (owner cleared): the cache entry no longer matches, a new slot is taken */
	assert_int_equal(bpf_map__update_elem(c->skel->maps.rslot_key, &s0, sizeof(s0), &none,
					      sizeof(none), 0), 0);
	RUN(c, kl_test_kvm_exit, 0, 1001, TGID, 0, 30, 700);
	assert_int_equal(c->skel->bss->next_rslot, 4);
	assert_int_equal(reason(c, TGID, KL_R_EXIT, 30), 1);

	/* histograms: exit latency of code 30 on two CPUs, one slot */
	RUN(c, kl_test_kvm_entry, 0, 1001, TGID, 0, 750);
	RUN(c, kl_test_kvm_entry, 1, 1002, TGID, 1, 450);
	assert_int_equal(hist(c, TGID, KL_H_EXIT, 30, &h), 2);
	assert_int_equal(h.buckets[kl_hist_bucket(50)], 2);
	assert_int_equal(h.sum, 100);
	assert_int_equal(c->skel->bss->next_hslot, 1);
	assert_int_equal(owned(c, true, TGID), 1);
	assert_int_equal(drop(c, KL_D_REASON_SLOTS_FULL) + drop(c, KL_D_HIST_SLOTS_FULL), 0);
}

/*
 * Memory and read cost independent of the CPU count: the only per-CPU
 * maps are the small ones (`counters` rows of threads without a slot,
 * `drops`, the per-CPU caches); every other value map is a plain map,
 * and the slot arrays the collector reads are mmap()able.
 */
static void test_percpu_maps(void **state)
{
	static const char *const percpu_ok[] = { "drops", "cpu_state", "cur_vcpu" };
	struct ctx *c = *state;
	struct bpf_map *m;
	unsigned int mmapable = 0;

	bpf_object__for_each_map(m, c->skel->obj) {
		enum bpf_map_type t = bpf_map__type(m);
		bool percpu = t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_PERCPU_ARRAY ||
			      t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
		bool ok = !percpu;

		for (size_t i = 0; i < ARRAY_SIZE(percpu_ok); i++)
			ok |= !strcmp(bpf_map__name(m), percpu_ok[i]);
		if (!ok)
			fprintf(stderr, "per-CPU map %s: its size grows with the CPU count\n",
				bpf_map__name(m));
		assert_true(ok);
		if (t == BPF_MAP_TYPE_ARRAY && (bpf_map__map_flags(m) & BPF_F_MMAPABLE) &&
		    !strchr(bpf_map__name(m), '.'))	/* not .bss, .rodata */
			mmapable++;
	}
	/* slots, slot_key, rslots, rslot_key, hslots, hslot_key */
	assert_int_equal(mmapable, 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_percpu_maps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_same_cpu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_migrated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_other_vcpu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pred_vs_actual_matrix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tgid_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tgid_all, setup_all, teardown),
		cmocka_unit_test_setup_teardown(test_hist_buckets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reasons, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_latency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exit_in_cur, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kvm_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hot_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pkvm_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arm64_exits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_fault, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cur_cpu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drops, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_rslots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slot_reuse, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_task_storage, setup_tasks, teardown),
		cmocka_unit_test_setup_teardown(test_real_vcpu_fd, setup, teardown),
	};

	libbpf_set_print(kl_log_cb);
	ncpus_possible = libbpf_num_possible_cpus();
	if (ncpus_possible < 2 || sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		fprintf(stderr, "test_kl_bpf: needs CPUs 0 and 1 online\n");
		return 1;
	}
	return cmocka_run_group_tests_name("bpf_logic", tests, NULL, NULL);
}
