// SPDX-License-Identifier: GPL-2.0-only
/* kl_snapshot.c - collected state -> JSON snapshot (SNAPSHOT.md). Pure. */
#include <stdio.h>
#include <string.h>

#include "kl_names.h"
#include "kl_snapshot.h"
#include "kl_stats.h"
#include "../../bpf/kl_hist.h"

#define ADD(o, k, v) json_object_object_add(o, k, v)
#define U64(v) json_object_new_uint64(v)

struct json_object *kl_json_double(double v, int decimals)
{
	char buf[64];

	if (v != v || v - v != 0)	/* NaN and infinities are not JSON */
		v = 0;
	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	return json_object_new_double_s(v, buf);
}

const char *kl_probe_text(const struct kl_probe *p, char *buf, size_t len)
{
	switch (p->status) {
	case KL_PROBE_ATTACHED:
		return "attached";
	case KL_PROBE_MISSING:
		return "missing";
	default:
		snprintf(buf, len, "refused: %s", p->reason[0] ? p->reason : "unknown");
		return buf;
	}
}

struct json_object *kl_probes_json(const struct kl_state *st)
{
	struct json_object *o = json_object_new_object();
	char buf[200];

	if (!o)
		return NULL;
	for (int i = 0; i < KL_SIG_NR; i++)
		ADD(o, kl_signals[i].name,
		    json_object_new_string(kl_probe_text(&st->probes[i], buf, sizeof(buf))));
	return o;
}

/*
 * Events per attached probe: the BPF run count of its programs (every
 * invocation, before any VM filter), or null when the kernel does not
 * count runs (BPF stats unavailable).  0 = attached but never fired.
 */
struct json_object *kl_probe_events_json(const struct kl_state *st)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	for (int s = 0; s < KL_SIG_NR; s++) {
		uint64_t n = 0;

		if (st->probes[s].status != KL_PROBE_ATTACHED)
			continue;
		for (size_t i = 0; i < st->oh.nr_progs; i++)
			if (st->oh.progs[i].signal == s)
				n += st->oh.progs[i].run_cnt;
		ADD(o, kl_signals[s].name, st->oh.stats_enabled ? U64(n) : NULL);
	}
	return o;
}

static bool have(uint32_t attached, uint32_t req)
{
	return (attached & req) == req;
}

static bool hist_available(unsigned int h, uint32_t attached, const char *arch)
{
	return have(attached, kl_hist_requires(h)) && kl_hist_arch_ok(h, arch);
}

static bool pred_available(uint32_t attached)
{
	return have(attached, kl_counter_requires(KL_C_PRED_VS_ACTUAL));
}

static bool pkvm_available(uint32_t attached)
{
	return have(attached, KL_SIG_BIT(KL_SIG_ARM_PKVM_STATE_SYNC));
}

struct json_object *kl_unavailable_json(uint32_t attached, const char *arch)
{
	struct json_object *a = json_object_new_array();

	if (!a)
		return NULL;
	for (unsigned int i = 0; i < KL_C_PRED_VS_ACTUAL; i++)
		if (kl_counter_name(i) && !have(attached, kl_counter_requires(i)))
			json_object_array_add(a, json_object_new_string(kl_counter_name(i)));
	for (unsigned int h = 0; h < KL_H_NR; h++)
		if (!hist_available(h, attached, arch))
			json_object_array_add(a, json_object_new_string(kl_hist_name(h)));
	if (!have(attached, KL_SIG_BIT(KL_SIG_USERSPACE_EXIT)))
		json_object_array_add(a, json_object_new_string("reasons.userspace_exit"));
	if (!have(attached, KL_SIG_BIT(KL_SIG_KVM_EXIT)))
		json_object_array_add(a, json_object_new_string("reasons.exit"));
	if (!pred_available(attached))
		json_object_array_add(a, json_object_new_string("prediction"));
	if (!pkvm_available(attached))
		json_object_array_add(a, json_object_new_string("pkvm_state_sync"));
	return a;
}

struct json_object *kl_hist_json(const uint64_t *b, uint64_t sum)
{
	static const struct { const char *key; unsigned int q; } qs[] = {
		{ "p50", 500 }, { "p90", 900 }, { "p99", 990 }, { "p999", 999 },
	};
	struct json_object *o = json_object_new_object(), *bk;
	uint64_t count = kl_hist_count(b, KL_HIST_BUCKETS);

	if (!o)
		return NULL;
	ADD(o, "unit", json_object_new_string("ns"));
	ADD(o, "count", U64(count));
	ADD(o, "sum", U64(sum));
	for (size_t i = 0; i < KL_ARRAY_SIZE(qs); i++)
		ADD(o, qs[i].key, count ? U64(kl_hist_percentile(b, KL_HIST_BUCKETS, qs[i].q)) : NULL);
	bk = json_object_new_array();
	for (unsigned int i = 0; i < KL_HIST_BUCKETS; i++) {
		struct json_object *e;

		if (!b[i])
			continue;
		e = json_object_new_object();
		ADD(e, "le", U64(kl_hist_bucket_le(i)));
		ADD(e, "count", U64(b[i]));
		json_object_array_add(bk, e);
	}
	ADD(o, "buckets", bk);
	return o;
}

static struct json_object *counters_json(const uint64_t *c, uint32_t attached)
{
	struct json_object *o = json_object_new_object();

	for (unsigned int i = 0; i < KL_C_PRED_VS_ACTUAL; i++)
		if (kl_counter_name(i) && have(attached, kl_counter_requires(i)))
			ADD(o, kl_counter_name(i), U64(c[i]));
	return o;
}

static const char *hist_sub_name(const struct kl_state *st, unsigned int h,
				 uint16_t sub, char *buf, size_t len)
{
	if (h == KL_H_VCPU_LOAD) {
		const char *n = kl_load_reason_name(sub);

		return n ? n : "unknown";
	}
	return kl_exit_cause_name(st->arch, sub, buf, len);
}

static struct json_object *prediction_json(const uint64_t *c)
{
	static const int agree[KL_PRED_NR] = {
		[KL_PRED_SAME_CPU] = KL_LOAD_FAST,
		[KL_PRED_MIGRATED] = KL_LOAD_OTHER_PCPU,
		[KL_PRED_OTHER_VCPU] = KL_LOAD_OTHER_VCPU,
	};
	struct json_object *o = json_object_new_object(), *m = json_object_new_object();
	uint64_t total = 0, ok = 0;

	for (int p = 0; p < KL_PRED_NR; p++) {
		struct json_object *row = json_object_new_object();

		for (int a = 0; a < KL_LOAD_NR; a++) {
			uint64_t n = c[KL_C_PRED_VS_ACTUAL + p * KL_LOAD_NR + a];

			ADD(row, kl_load_reason_name(a), U64(n));
			total += n;
			if (a == agree[p])
				ok += n;
		}
		ADD(m, kl_pred_name(p), row);
	}
	ADD(o, "agreement", total ? kl_json_double((double)ok / (double)total, 4) : NULL);
	ADD(o, "loads_compared", U64(total));
	ADD(o, "matrix", m);
	return o;
}

static struct json_object *share_json(uint64_t n, uint64_t total)
{
	return total ? kl_json_double((double)n / (double)total, 4) : NULL;
}

/*
 * pKVM state syncs of one direction: events, skipped (skip_* reasons),
 * skip_share, and per reason its count and share of the direction.  The
 * reasons the series emits in this direction are always listed; any
 * other (a newer kernel) only when it was seen.
 */
static struct json_object *pkvm_dir_json(const uint64_t *c, unsigned int d)
{
	struct json_object *o = json_object_new_object(), *rs = json_object_new_object();
	const uint64_t *row = c + KL_C_PKVM_SYNC + d * KL_PKVM_REASON_NR;
	uint64_t total = 0, skip = 0;

	for (unsigned int r = 0; r < KL_PKVM_REASON_NR; r++) {
		total += row[r];
		if (kl_pkvm_reason_is_skip(r))
			skip += row[r];
	}
	for (unsigned int r = 0; r < KL_PKVM_REASON_NR; r++) {
		struct json_object *e;

		if (!kl_pkvm_reason_expected(d, r) && !row[r])
			continue;
		e = json_object_new_object();
		ADD(e, "count", U64(row[r]));
		ADD(e, "share", share_json(row[r], total));
		ADD(rs, kl_pkvm_reason_name(r), e);
	}
	ADD(o, "events", U64(total));
	ADD(o, "skipped", U64(skip));
	ADD(o, "skip_share", share_json(skip, total));
	ADD(o, "reasons", rs);
	return o;
}

struct json_object *kl_pkvm_sync_json(const uint64_t *c)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	for (unsigned int d = 0; d < KL_PKVM_DIR_NR; d++)
		ADD(o, kl_pkvm_dir_name(d), pkvm_dir_json(c, d));
	return o;
}

/*
 * vcpus[]: identified vCPU threads only.  Events of threads not (yet)
 * identified (row vcpu_id -1) and rows whose thread was never seen
 * (tid 0: vcpus map full) count in the VM's counters only.
 */
static struct json_object *vcpus_json(const struct kl_state *st, const struct kl_vm *vm,
				      uint32_t attached)
{
	struct json_object *vcpus = json_object_new_array();

	for (size_t i = 0; i < vm->nr_vcpus; i++) {
		const struct kl_vcpu_row *r = &vm->vcpus[i];
		struct json_object *v;

		if (r->vcpu_id < 0 || !r->tid)
			continue;
		v = json_object_new_object();
		ADD(v, "vcpu_id", json_object_new_int(r->vcpu_id));
		ADD(v, "tid", U64(r->tid));
		ADD(v, "counters", st->no_vcpu_counters ? json_object_new_object() :
			counters_json(r->c, attached));
		json_object_array_add(vcpus, v);
	}
	return vcpus;
}

/* reasons: the VM's exit and userspace-exit counts by decoded reason. */
static struct json_object *reasons_json(const struct kl_state *st, const struct kl_vm *vm,
					uint32_t attached)
{
	struct json_object *rs = json_object_new_object(), *ue = NULL, *ex = NULL;
	char buf[32];

	if (have(attached, KL_SIG_BIT(KL_SIG_USERSPACE_EXIT)))
		ue = json_object_new_object();
	if (have(attached, KL_SIG_BIT(KL_SIG_KVM_EXIT)))
		ex = json_object_new_object();
	for (size_t i = 0; i < vm->nr_reasons; i++) {
		const struct kl_reason_cnt *r = &vm->reasons[i];
		struct json_object *dst = r->kind == KL_R_USERSPACE_EXIT ? ue :
					  r->kind == KL_R_EXIT ? ex : NULL;
		const char *n;

		if (!dst || !r->count)
			continue;
		n = r->kind == KL_R_USERSPACE_EXIT ?
			kl_userspace_exit_name(r->code, buf, sizeof(buf)) :
			kl_exit_cause_name(st->arch, r->code, buf, sizeof(buf));
		ADD(dst, n, U64(r->count));
	}
	if (ue)
		ADD(rs, "userspace_exit", ue);
	if (ex)
		ADD(rs, "exit", ex);
	return rs;
}

/*
 * Histogram h of the VM, summed over its sub-keys, into hs; for the
 * split histograms (exit, vcpu_load) also one per sub-key into by.
 */
static void vm_hist_json(const struct kl_state *st, const struct kl_vm *vm, unsigned int h,
			 struct json_object *hs, struct json_object *by)
{
	struct json_object *split = NULL;
	struct kl_hist_data tmp;
	char buf[32];

	memset(&tmp, 0, sizeof(tmp));
	if (h == KL_H_EXIT || h == KL_H_VCPU_LOAD)
		split = json_object_new_object();
	for (size_t i = 0; i < vm->nr_hists; i++) {
		const struct kl_hist_data *d = &vm->hists[i];

		if (d->hist != h)
			continue;
		for (int b = 0; b < KL_HIST_BUCKETS; b++)
			tmp.b[b] += d->b[b];
		tmp.sum += d->sum;
		if (split && kl_hist_count(d->b, KL_HIST_BUCKETS))
			ADD(split, hist_sub_name(st, h, d->sub, buf, sizeof(buf)),
			    kl_hist_json(d->b, d->sum));
	}
	ADD(hs, kl_hist_name(h), kl_hist_json(tmp.b, tmp.sum));
	if (split)
		ADD(by, kl_hist_name(h), split);
}

static struct json_object *vm_json(const struct kl_state *st, const struct kl_vm *vm, uint32_t attached)
{
	struct json_object *o = json_object_new_object(), *hs, *by;

	ADD(o, "pid", U64(vm->pid));
	ADD(o, "comm", json_object_new_string(vm->comm));
	ADD(o, "name", json_object_new_string(vm->name[0] ? vm->name : vm->comm));
	ADD(o, "exited", json_object_new_boolean(vm->exited));
	ADD(o, "vcpus", vcpus_json(st, vm, attached));
	ADD(o, "counters", counters_json(vm->c, attached));
	ADD(o, "reasons", reasons_json(st, vm, attached));
	if (pred_available(attached))
		ADD(o, "prediction", prediction_json(vm->c));
	if (pkvm_available(attached))
		ADD(o, "pkvm_state_sync", kl_pkvm_sync_json(vm->c));

	hs = json_object_new_object();
	by = json_object_new_object();
	for (unsigned int h = 0; h < KL_H_NR; h++)
		if (hist_available(h, attached, st->arch))
			vm_hist_json(st, vm, h, hs, by);
	ADD(o, "histograms", hs);
	ADD(o, "histograms_by", by);
	return o;
}

static struct json_object *overhead_json(const struct kl_state *st)
{
	const struct kl_overhead *oh = &st->oh;
	struct json_object *o = json_object_new_object(), *progs, *drops;
	uint64_t rt = 0, ev = 0;
	char buf[160];

	progs = json_object_new_array();
	for (size_t i = 0; i < oh->nr_progs; i++) {
		const struct kl_prog_stat *p = &oh->progs[i];
		struct json_object *e = json_object_new_object();

		ADD(e, "name", json_object_new_string(p->name));
		ADD(e, "signal", json_object_new_string(p->signal >= 0 && p->signal < KL_SIG_NR ?
							kl_signals[p->signal].name : "?"));
		ADD(e, "run_cnt", U64(p->run_cnt));
		ADD(e, "run_time_ns", U64(p->run_time_ns));
		ADD(e, "ns_per_event", kl_json_double(p->run_cnt ? (double)p->run_time_ns / p->run_cnt : 0, 1));
		json_object_array_add(progs, e);
		rt += p->run_time_ns;
		ev += p->run_cnt;
	}
	ADD(o, "programs", progs);
	ADD(o, "bpf_run_time_ns", U64(rt));
	ADD(o, "bpf_events", U64(ev));
	if (oh->stats_enabled)
		snprintf(buf, sizeof(buf), "enabled");
	else
		snprintf(buf, sizeof(buf), "unavailable: %s", oh->stats_reason[0] ? oh->stats_reason : "unknown");
	ADD(o, "bpf_stats", json_object_new_string(buf));
	if (oh->stats_enabled) {	/* since 1.2 */
		ADD(o, "bpf_stats_window_ns", U64(oh->stats_window_ns == UINT64_MAX ? 0 : oh->stats_window_ns));
		ADD(o, "bpf_stats_window_open", json_object_new_boolean(oh->stats_window_open));
	}
	ADD(o, "collector_cpu_ns", U64(oh->cpu_ns));
	ADD(o, "collector_cpu_pct", kl_json_double(st->duration_ns ?
		100.0 * (double)oh->cpu_ns / (double)st->duration_ns : 0, 2));
	ADD(o, "collector_rss_kb", U64(oh->rss_kb));
	ADD(o, "collector_maxrss_kb", U64(oh->maxrss_kb));
	drops = json_object_new_object();
	for (int d = 0; d < KL_D_NR; d++)
		ADD(drops, kl_drop_name(d), U64(oh->drops[d]));
	ADD(o, "drops", drops);
	return o;
}

struct json_object *kl_snapshot_build(const struct kl_state *st)
{
	uint32_t attached = kl_state_attached(st);
	struct json_object *o = json_object_new_object(), *t, *vms;

	if (!o)
		return NULL;
	ADD(o, "schema_version", json_object_new_string(KL_SCHEMA_VERSION));
	t = json_object_new_object();
	ADD(t, "name", json_object_new_string(KL_TOOL_NAME));
	ADD(t, "version", json_object_new_string(KL_TOOL_VERSION));
	ADD(o, "tool", t);
	t = json_object_new_object();
	ADD(t, "kernel", json_object_new_string(st->kernel));
	ADD(t, "arch", json_object_new_string(st->arch));
	ADD(t, "hostname", json_object_new_string(st->hostname));
	ADD(t, "ncpus", json_object_new_int(st->ncpus));
	ADD(o, "host", t);
	ADD(o, "start_time_ns", U64(st->start_time_ns));
	ADD(o, "duration_ns", U64(st->duration_ns));
	ADD(o, "interval_ns", U64(st->interval_ns));
	t = json_object_new_object();
	if (st->target == KL_TARGET_PID)
		ADD(t, "pid", U64(st->target_pid));
	else if (st->target == KL_TARGET_NAME)
		ADD(t, "name", json_object_new_string(st->target_name));
	else
		ADD(t, "all", json_object_new_boolean(1));
	ADD(o, "target", t);
	ADD(o, "probes", kl_probes_json(st));
	ADD(o, "probe_events", kl_probe_events_json(st));
	ADD(o, "unavailable", kl_unavailable_json(attached, st->arch));
	ADD(o, "overhead", overhead_json(st));
	vms = json_object_new_array();
	for (size_t i = 0; i < st->nr_vms; i++)
		json_object_array_add(vms, vm_json(st, &st->vms[i], attached));
	ADD(o, "vms", vms);
	return o;
}
