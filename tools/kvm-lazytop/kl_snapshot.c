// SPDX-License-Identifier: GPL-2.0-only
/*
 * kl_snapshot.c - the ONE JSON writer: typed snapshot (kl_model.h) -> the
 * JSON text of SNAPSHOT.md.  Derived members (shares, agreement, pKVM
 * events and skips, percentiles) are computed here from the counts.
 * Pure.
 */
#include <stdio.h>
#include <string.h>

#include "kl_model.h"
#include "kl_names.h"
#include "kl_snapshot.h"
#include "kl_state.h"

#define ADD(o, k, v) json_object_object_add(o, k, v)
#define U64(v) json_object_new_uint64(v)
#define STR(v) json_object_new_string(v)

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

static struct json_object *probes_json(const struct kl_snap *s)
{
	struct json_object *o = json_object_new_object();

	for (int i = 0; o && i < KL_SIG_NR; i++)
		if (s->has_probe[i])
			ADD(o, kl_signals[i].name, STR(s->probe[i]));
	return o;
}

static struct json_object *probe_events_json(const struct kl_snap *s)
{
	struct json_object *o = json_object_new_object();

	for (int i = 0; o && i < KL_SIG_NR; i++)
		if (s->has_pe[i])
			ADD(o, kl_signals[i].name, s->pe_null[i] ? NULL : U64(s->pe[i]));
	return o;
}

struct json_object *kl_probes_json(const struct kl_state *st)
{
	struct kl_snap s;

	kl_snap_init(&s);
	kl_snap_probes_from(&s, st);
	return probes_json(&s);
}

struct json_object *kl_probe_events_json(const struct kl_state *st)
{
	struct kl_snap s;

	kl_snap_init(&s);
	kl_snap_probes_from(&s, st);
	return probe_events_json(&s);
}

static int add_name(void *ctx, const char *name)
{
	return json_object_array_add(ctx, STR(name));
}

struct json_object *kl_unavailable_json(uint32_t attached, const char *arch)
{
	struct json_object *a = json_object_new_array();

	if (a)
		kl_snap_each_unavailable(attached, arch, add_name, a);
	return a;
}

/* One histogram object: unit, count, sum, p50..p999, buckets. */
static struct json_object *hist_json(const struct snap_hist *h)
{
	struct json_object *o = json_object_new_object(), *bk;

	if (!o)
		return NULL;
	ADD(o, "unit", STR("ns"));
	ADD(o, "count", U64(h->count));
	ADD(o, "sum", U64(h->sum));
	for (size_t i = 0; i < SNAP_NPCT; i++)
		ADD(o, snap_pcts[i].name,
		    h->count ? U64((uint64_t)snap_hist_quantile(h, snap_pcts[i].q)) : NULL);
	bk = json_object_new_array();
	for (size_t i = 0; i < h->n; i++) {
		struct json_object *e = json_object_new_object();

		ADD(e, "le", U64(h->b[i].le));
		ADD(e, "count", U64(h->b[i].count));
		json_object_array_add(bk, e);
	}
	ADD(o, "buckets", bk);
	return o;
}

struct json_object *kl_hist_json(const uint64_t *b, uint64_t sum)
{
	struct snap_hist h = { 0 };
	struct json_object *o = NULL;

	if (!kl_snap_hist_from(&h, b, sum))
		o = hist_json(&h);
	snap_hist_free(&h);
	return o;
}

static struct json_object *counters_json(const struct kl_snap_counters *c)
{
	struct json_object *o = json_object_new_object();

	for (unsigned int i = 0; i < KL_C_PRED_VS_ACTUAL; i++)
		if (kl_snap_has(c, i) && kl_counter_name(i))
			ADD(o, kl_counter_name(i), U64(c->c[i]));
	return o;
}

static struct json_object *share_json(uint64_t n, uint64_t total)
{
	return total ? kl_json_double((double)n / (double)total, 4) : NULL;
}

static struct json_object *prediction_json(const struct kl_snap_counters *c)
{
	struct json_object *o = json_object_new_object(), *m = json_object_new_object();
	uint64_t total, ok;

	kl_snap_pred_totals(c, &ok, &total);
	for (int p = 0; p < KL_PRED_NR; p++) {
		struct json_object *row = json_object_new_object();

		for (int a = 0; a < KL_LOAD_NR; a++)
			ADD(row, kl_load_reason_name(a), U64(c->c[KL_C_PRED_VS_ACTUAL + p * KL_LOAD_NR + a]));
		ADD(m, kl_pred_name(p), row);
	}
	ADD(o, "agreement", share_json(ok, total));
	ADD(o, "loads_compared", U64(total));
	ADD(o, "matrix", m);
	return o;
}

/*
 * pKVM state syncs of one direction: events, skipped (skip_* reasons),
 * skip_share, and per reason its count and share of the direction.  The
 * reasons the series emits in this direction are always listed; any
 * other (a newer kernel) only when it was seen.
 */
static struct json_object *pkvm_dir_json(const struct kl_snap_counters *c, unsigned int d)
{
	struct json_object *o = json_object_new_object(), *rs = json_object_new_object();
	const uint64_t *row = c->c + KL_C_PKVM_SYNC + d * KL_PKVM_REASON_NR;
	uint64_t total = 0, skip = 0;

	for (unsigned int r = 0; r < KL_PKVM_REASON_NR; r++) {
		total += row[r];
		if (kl_pkvm_reason_is_skip(r))
			skip += row[r];
	}
	for (unsigned int r = 0; r < KL_PKVM_REASON_NR; r++) {
		struct json_object *e;

		if (!kl_snap_has(c, KL_C_PKVM_SYNC + d * KL_PKVM_REASON_NR + r))
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

static struct json_object *vcpus_json(const struct kl_snap_vm *vm)
{
	struct json_object *vcpus = json_object_new_array();

	for (size_t i = 0; i < vm->nr_vcpus; i++) {
		const struct kl_snap_vcpu *r = &vm->vcpus[i];
		struct json_object *v = json_object_new_object();

		ADD(v, "vcpu_id", json_object_new_int(r->vcpu_id));
		ADD(v, "tid", U64(r->tid));
		ADD(v, "counters", counters_json(&r->c));
		json_object_array_add(vcpus, v);
	}
	return vcpus;
}

static struct json_object *counts_json(const struct kl_snap_counts *r)
{
	struct json_object *o = json_object_new_object();

	for (size_t i = 0; i < r->nr; i++)
		ADD(o, r->v[i].name, U64(r->v[i].count));
	return o;
}

static struct json_object *reasons_json(const struct kl_snap_vm *vm)
{
	struct json_object *rs = json_object_new_object();

	if (vm->ue.present)
		ADD(rs, "userspace_exit", counts_json(&vm->ue));
	if (vm->ex.present)
		ADD(rs, "exit", counts_json(&vm->ex));
	return rs;
}

static void hists_json(const struct kl_snap_vm *vm, struct json_object *o)
{
	struct json_object *hs = json_object_new_object(), *by = json_object_new_object();

	for (unsigned int h = 0; h < KL_H_NR; h++) {
		struct json_object *split;

		if (vm->has_hist[h])
			ADD(hs, kl_hist_name(h), hist_json(&vm->hist[h]));
		if (!vm->by[h].present)
			continue;
		split = json_object_new_object();
		for (size_t i = 0; i < vm->by[h].nr; i++)
			ADD(split, vm->by[h].v[i].name, hist_json(&vm->by[h].v[i].h));
		ADD(by, kl_hist_name(h), split);
	}
	if (vm->has_hists)
		ADD(o, "histograms", hs);
	else
		json_object_put(hs);
	if (vm->has_by)
		ADD(o, "histograms_by", by);
	else
		json_object_put(by);
}

/* "kvm_stats" (since 1.3): KVM's own vCPU stats found, summed over vCPUs. */
static struct json_object *kvm_stats_json(const struct kl_snap_vm *vm)
{
	struct json_object *o = json_object_new_object();

	for (unsigned int k = 0; k < KL_KS_NR; k++)
		if (vm->kstat_has >> k & 1)
			ADD(o, kl_kstat_names[k], U64(vm->kstat[k]));
	return o;
}

static struct json_object *vm_json(const struct kl_snap_vm *vm)
{
	struct json_object *o = json_object_new_object(), *ps = NULL;

	ADD(o, "pid", U64(vm->pid));
	ADD(o, "comm", STR(vm->comm));
	ADD(o, "name", STR(vm->name));
	ADD(o, "exited", json_object_new_boolean(vm->exited));
	ADD(o, "vcpus", vcpus_json(vm));
	ADD(o, "counters", counters_json(&vm->c));
	if (vm->kstat_has)
		ADD(o, "kvm_stats", kvm_stats_json(vm));
	if (vm->has_reasons)
		ADD(o, "reasons", reasons_json(vm));
	if (vm->has_pred)
		ADD(o, "prediction", prediction_json(&vm->c));
	for (unsigned int d = 0; d < KL_PKVM_DIR_NR; d++) {
		if (!vm->has_pkvm[d])
			continue;
		if (!ps)
			ps = json_object_new_object();
		ADD(ps, kl_pkvm_dir_name(d), pkvm_dir_json(&vm->c, d));
	}
	if (ps)
		ADD(o, "pkvm_state_sync", ps);
	hists_json(vm, o);
	return o;
}

static struct json_object *progs_json(const struct kl_snap_overhead *oh)
{
	struct json_object *progs = json_object_new_array();

	for (size_t i = 0; i < oh->nr_progs; i++) {
		const struct kl_snap_prog *p = &oh->progs[i];
		struct json_object *e = json_object_new_object();

		ADD(e, "name", STR(p->name));
		ADD(e, "signal", STR(p->signal));
		ADD(e, "run_cnt", U64(p->run_cnt));
		ADD(e, "run_time_ns", U64(p->run_time_ns));
		ADD(e, "ns_per_event", kl_json_double(p->run_cnt ? (double)p->run_time_ns / p->run_cnt : 0, 1));
		json_object_array_add(progs, e);
	}
	return progs;
}

static struct json_object *overhead_json(const struct kl_snap *s)
{
	const struct kl_snap_overhead *oh = &s->oh;
	struct json_object *o = json_object_new_object(), *drops = json_object_new_object();

	ADD(o, "programs", progs_json(oh));
	ADD(o, "bpf_run_time_ns", U64(oh->bpf_run_time_ns));
	ADD(o, "bpf_events", U64(oh->bpf_events));
	ADD(o, "bpf_stats", STR(oh->bpf_stats));
	if (oh->has_stats_window) {	/* since 1.2 */
		ADD(o, "bpf_stats_window_ns", U64(oh->stats_window_ns));
		ADD(o, "bpf_stats_window_open", json_object_new_boolean(oh->stats_window_open));
	}
	ADD(o, "collector_cpu_ns", U64(oh->cpu_ns));
	ADD(o, "collector_cpu_pct", kl_json_double(kl_snap_cpu_pct(s), 2));
	ADD(o, "collector_rss_kb", U64(oh->rss_kb));
	ADD(o, "collector_maxrss_kb", U64(oh->maxrss_kb));
	for (int d = 0; d < KL_D_NR; d++)
		if (oh->has_drop[d])
			ADD(drops, kl_drop_name(d), U64(oh->drops[d]));
	ADD(o, "drops", drops);
	return o;
}

static void meta_json(const struct kl_snap *s, struct json_object *o)
{
	struct json_object *t = json_object_new_object();

	ADD(t, "name", STR(s->tool_name));
	ADD(t, "version", STR(s->tool_version));
	ADD(o, "tool", t);
	t = json_object_new_object();
	ADD(t, "kernel", STR(s->kernel));
	ADD(t, "arch", STR(s->arch));
	ADD(t, "hostname", STR(s->hostname));
	ADD(t, "ncpus", json_object_new_int(s->ncpus));
	ADD(o, "host", t);
	ADD(o, "start_time_ns", U64(s->start_time_ns));
	ADD(o, "duration_ns", U64(s->duration_ns));
	ADD(o, "interval_ns", U64(s->interval_ns));
	t = json_object_new_object();
	if (s->target == KL_TARGET_PID)
		ADD(t, "pid", U64(s->target_pid));
	else if (s->target == KL_TARGET_NAME)
		ADD(t, "name", STR(s->target_name));
	else
		ADD(t, "all", json_object_new_boolean(1));
	ADD(o, "target", t);
}

struct json_object *kl_snap_json(const struct kl_snap *s)
{
	struct json_object *o = json_object_new_object(), *a;

	if (!o)
		return NULL;
	ADD(o, "schema_version", STR(s->schema_version));
	meta_json(s, o);
	ADD(o, "probes", probes_json(s));
	if (s->has_probe_events)
		ADD(o, "probe_events", probe_events_json(s));
	a = json_object_new_array();
	for (size_t i = 0; i < s->nr_unavail; i++)
		json_object_array_add(a, STR(s->unavail[i]));
	ADD(o, "unavailable", a);
	if (s->oh.present)
		ADD(o, "overhead", overhead_json(s));
	a = json_object_new_array();
	for (size_t i = 0; i < s->nr_vms; i++)
		json_object_array_add(a, vm_json(&s->vms[i]));
	ADD(o, "vms", a);
	return o;
}

struct json_object *kl_snapshot_build(const struct kl_state *st)
{
	struct json_object *o = NULL;
	struct kl_snap s;

	if (!kl_snap_from_state(&s, st))
		o = kl_snap_json(&s);
	kl_snap_free(&s);
	return o;
}
