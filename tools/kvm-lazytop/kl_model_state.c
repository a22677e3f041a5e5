// SPDX-License-Identifier: GPL-2.0-only
/*
 * kl_model_state.c - collected state -> typed snapshot (kl_model.h), once
 * per interval.  Decides what a snapshot holds: which members the
 * attached signals can produce, which vCPU rows are listed, the decoded
 * reason names.  Pure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kl_model.h"
#include "kl_names.h"
#include "kl_snapshot.h"
#include "kl_state.h"
#include "kl_stats.h"
#include "../../bpf/kl_hist.h"

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

int kl_snap_each_unavailable(uint32_t attached, const char *arch,
			     int (*fn)(void *ctx, const char *name), void *ctx)
{
	static const struct { unsigned int sig; const char *name; } other[] = {
		{ KL_SIG_USERSPACE_EXIT, "reasons.userspace_exit" },
		{ KL_SIG_KVM_EXIT, "reasons.exit" },
	};
	int err = 0;

	for (unsigned int i = 0; i < KL_C_PRED_VS_ACTUAL && !err; i++)
		if (kl_counter_name(i) && !have(attached, kl_counter_requires(i)))
			err = fn(ctx, kl_counter_name(i));
	for (unsigned int h = 0; h < KL_H_NR && !err; h++)
		if (!hist_available(h, attached, arch))
			err = fn(ctx, kl_hist_name(h));
	for (size_t i = 0; i < KL_ARRAY_SIZE(other) && !err; i++)
		if (!have(attached, KL_SIG_BIT(other[i].sig)))
			err = fn(ctx, other[i].name);
	if (!err && !pred_available(attached))
		err = fn(ctx, "prediction");
	if (!err && !pkvm_available(attached))
		err = fn(ctx, "pkvm_state_sync");
	return err;
}

static int add_unavailable(void *ctx, const char *name)
{
	struct kl_snap *s = ctx;
	char *p = kl_snap_push(&s->unavail, &s->nr_unavail, sizeof(*s->unavail));

	if (!p)
		return -ENOMEM;
	snprintf(p, sizeof(*s->unavail), "%s", name);
	return 0;
}

/* The plain counters the attached signals produce (JSON "counters"). */
static void counters_from(struct kl_snap_counters *out, const uint64_t *c, uint32_t attached)
{
	for (unsigned int i = 0; i < KL_C_PRED_VS_ACTUAL; i++)
		if (kl_counter_name(i) && have(attached, kl_counter_requires(i)))
			kl_snap_set(out, i, c[i]);
}

/*
 * The pKVM pairs and the prediction matrix, when their signals are
 * attached.  A pKVM reason the series does not emit in a direction is
 * listed only when it was seen (a newer kernel).
 */
static void derived_from(struct kl_snap_vm *m, const uint64_t *c, uint32_t attached)
{
	unsigned int i;

	for (unsigned int d = 0; pkvm_available(attached) && d < KL_PKVM_DIR_NR; d++) {
		m->has_pkvm[d] = true;
		for (unsigned int r = 0; r < KL_PKVM_REASON_NR; r++) {
			i = KL_C_PKVM_SYNC + d * KL_PKVM_REASON_NR + r;
			if (kl_pkvm_reason_expected(d, r) || c[i])
				kl_snap_set(&m->c, i, c[i]);
		}
	}
	m->has_pred = pred_available(attached);
	for (i = 0; m->has_pred && i < KL_PRED_NR * KL_LOAD_NR; i++)
		kl_snap_set(&m->c, KL_C_PRED_VS_ACTUAL + i, c[KL_C_PRED_VS_ACTUAL + i]);
}

/*
 * vcpus[]: identified vCPU threads only.  Events of threads not (yet)
 * identified (row vcpu_id -1) and rows whose thread was never seen
 * (tid 0: vcpus map full) count in the VM's counters only.
 */
static int vcpus_from(struct kl_snap_vm *m, const struct kl_state *st, const struct kl_vm *vm,
		      uint32_t attached)
{
	m->vcpus = vm->nr_vcpus ? calloc(vm->nr_vcpus, sizeof(*m->vcpus)) : NULL;
	if (vm->nr_vcpus && !m->vcpus)
		return -ENOMEM;
	for (size_t i = 0; i < vm->nr_vcpus; i++) {
		const struct kl_vcpu_row *r = &vm->vcpus[i];
		struct kl_snap_vcpu *v;

		if (r->vcpu_id < 0 || !r->tid)
			continue;
		v = &m->vcpus[m->nr_vcpus++];
		v->vcpu_id = r->vcpu_id;
		v->tid = r->tid;
		if (!st->no_vcpu_counters)
			counters_from(&v->c, r->c, attached);
	}
	return 0;
}

static int push_count(struct kl_snap_counts *r, const char *name, uint64_t n)
{
	struct kl_snap_count *p = kl_snap_push(&r->v, &r->nr, sizeof(*p));

	if (!p)
		return -ENOMEM;
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->count = n;
	return 0;
}

/* reasons: the VM's exit and userspace-exit counts by decoded reason. */
static int reasons_from(struct kl_snap_vm *m, const struct kl_state *st, const struct kl_vm *vm,
			uint32_t attached)
{
	char buf[32];

	m->has_reasons = true;
	m->ue.present = have(attached, KL_SIG_BIT(KL_SIG_USERSPACE_EXIT));
	m->ex.present = have(attached, KL_SIG_BIT(KL_SIG_KVM_EXIT));
	for (size_t i = 0; i < vm->nr_reasons; i++) {
		const struct kl_reason_cnt *r = &vm->reasons[i];
		bool ue = r->kind == KL_R_USERSPACE_EXIT;
		struct kl_snap_counts *dst = ue ? &m->ue : r->kind == KL_R_EXIT ? &m->ex : NULL;

		if (!dst || !dst->present || !r->count)
			continue;
		if (push_count(dst, ue ? kl_userspace_exit_name(r->code, buf, sizeof(buf)) :
			       kl_exit_cause_name(st->arch, r->code, buf, sizeof(buf)), r->count))
			return -ENOMEM;
	}
	return 0;
}

/* The non-empty buckets of a collector histogram as a snap_hist. */
int kl_snap_hist_from(struct snap_hist *out, const uint64_t *b, uint64_t sum)
{
	size_t n = 0;

	out->n = 0;
	out->count = kl_hist_count(b, KL_HIST_BUCKETS);
	out->sum = sum;
	for (unsigned int i = 0; i < KL_HIST_BUCKETS; i++)
		n += b[i] != 0;
	out->b = n ? calloc(n, sizeof(*out->b)) : NULL;
	if (n && !out->b)
		return -ENOMEM;
	for (unsigned int i = 0; i < KL_HIST_BUCKETS; i++) {
		if (!b[i])
			continue;
		out->b[out->n].le = kl_hist_bucket_le(i);
		out->b[out->n++].count = b[i];
	}
	return 0;
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

static int push_by(struct kl_snap_hist_by *by, const char *name, const struct kl_hist_data *d)
{
	struct kl_snap_named_hist *p = kl_snap_push(&by->v, &by->nr, sizeof(*p));

	if (!p)
		return -ENOMEM;
	snprintf(p->name, sizeof(p->name), "%s", name);
	return kl_snap_hist_from(&p->h, d->b, d->sum);
}

/*
 * Histogram h of the VM, summed over its sub-keys; for the split
 * histograms (exit, vcpu_load) also one per non-empty sub-key.
 */
static int vm_hist_from(struct kl_snap_vm *m, const struct kl_state *st, const struct kl_vm *vm,
			unsigned int h)
{
	struct kl_hist_data tmp;
	char buf[32];

	memset(&tmp, 0, sizeof(tmp));
	m->by[h].present = h == KL_H_EXIT || h == KL_H_VCPU_LOAD;
	for (size_t i = 0; i < vm->nr_hists; i++) {
		const struct kl_hist_data *d = &vm->hists[i];

		if (d->hist != h)
			continue;
		for (int b = 0; b < KL_HIST_BUCKETS; b++)
			tmp.b[b] += d->b[b];
		tmp.sum += d->sum;
		if (m->by[h].present && kl_hist_count(d->b, KL_HIST_BUCKETS) &&
		    push_by(&m->by[h], hist_sub_name(st, h, d->sub, buf, sizeof(buf)), d))
			return -ENOMEM;
	}
	m->has_hist[h] = true;
	return kl_snap_hist_from(&m->hist[h], tmp.b, tmp.sum);
}

static int vm_from(struct kl_snap_vm *m, const struct kl_state *st, const struct kl_vm *vm,
		   uint32_t attached)
{
	m->pid = vm->pid;
	snprintf(m->comm, sizeof(m->comm), "%s", vm->comm);
	snprintf(m->name, sizeof(m->name), "%s", vm->name[0] ? vm->name : vm->comm);
	m->exited = vm->exited;
	m->kstat_has = vm->kstat_has;
	memcpy(m->kstat, vm->kstat, sizeof(m->kstat));
	counters_from(&m->c, vm->c, attached);
	derived_from(m, vm->c, attached);
	if (vcpus_from(m, st, vm, attached) || reasons_from(m, st, vm, attached))
		return -ENOMEM;
	m->has_hists = m->has_by = true;
	for (unsigned int h = 0; h < KL_H_NR; h++)
		if (hist_available(h, attached, st->arch) && vm_hist_from(m, st, vm, h))
			return -ENOMEM;
	return 0;
}

void kl_snap_probes_from(struct kl_snap *s, const struct kl_state *st)
{
	char buf[sizeof(s->probe[0])];

	s->has_probe_events = true;
	for (int i = 0; i < KL_SIG_NR; i++) {
		s->has_probe[i] = true;
		snprintf(s->probe[i], sizeof(s->probe[i]), "%s",
			 kl_probe_text(&st->probes[i], buf, sizeof(buf)));
		if (st->probes[i].status != KL_PROBE_ATTACHED)
			continue;
		s->has_pe[i] = true;
		s->pe_null[i] = !st->oh.stats_enabled;
		for (size_t p = 0; !s->pe_null[i] && p < st->oh.nr_progs; p++)
			if (st->oh.progs[p].signal == i)
				s->pe[i] += st->oh.progs[p].run_cnt;
	}
}

static int overhead_from(struct kl_snap *s, const struct kl_state *st)
{
	const struct kl_overhead *oh = &st->oh;
	struct kl_snap_overhead *o = &s->oh;

	o->present = true;
	o->progs = oh->nr_progs ? calloc(oh->nr_progs, sizeof(*o->progs)) : NULL;
	if (oh->nr_progs && !o->progs)
		return -ENOMEM;
	for (size_t i = 0; i < oh->nr_progs; i++) {
		const struct kl_prog_stat *p = &oh->progs[i];
		struct kl_snap_prog *q = &o->progs[o->nr_progs++];

		snprintf(q->name, sizeof(q->name), "%s", p->name);
		snprintf(q->signal, sizeof(q->signal), "%s", p->signal >= 0 && p->signal < KL_SIG_NR ?
			 kl_signals[p->signal].name : "?");
		q->run_cnt = p->run_cnt;
		q->run_time_ns = p->run_time_ns;
		o->bpf_run_time_ns += p->run_time_ns;
		o->bpf_events += p->run_cnt;
	}
	if (oh->stats_enabled)
		snprintf(o->bpf_stats, sizeof(o->bpf_stats), "enabled");
	else
		snprintf(o->bpf_stats, sizeof(o->bpf_stats), "unavailable: %s",
			 oh->stats_reason[0] ? oh->stats_reason : "unknown");
	if (oh->stats_enabled) {
		o->has_stats_window = true;
		o->stats_window_ns = oh->stats_window_ns == UINT64_MAX ? 0 : oh->stats_window_ns;
		o->stats_window_open = oh->stats_window_open;
	}
	o->cpu_ns = oh->cpu_ns;
	o->rss_kb = oh->rss_kb;
	o->maxrss_kb = oh->maxrss_kb;
	for (int d = 0; d < KL_D_NR; d++) {
		o->has_drop[d] = true;
		o->drops[d] = oh->drops[d];
	}
	return 0;
}

static void meta_from(struct kl_snap *s, const struct kl_state *st)
{
	snprintf(s->schema_version, sizeof(s->schema_version), "%s", KL_SCHEMA_VERSION);
	snprintf(s->tool_name, sizeof(s->tool_name), "%s", KL_TOOL_NAME);
	snprintf(s->tool_version, sizeof(s->tool_version), "%s", KL_TOOL_VERSION);
	snprintf(s->kernel, sizeof(s->kernel), "%s", st->kernel);
	snprintf(s->arch, sizeof(s->arch), "%s", st->arch);
	snprintf(s->hostname, sizeof(s->hostname), "%s", st->hostname);
	s->ncpus = st->ncpus;
	s->has_start = s->has_duration = true;
	s->start_time_ns = st->start_time_ns;
	s->duration_ns = st->duration_ns;
	s->interval_ns = st->interval_ns;
	s->target = st->target;
	s->target_pid = st->target_pid;
	snprintf(s->target_name, sizeof(s->target_name), "%s", st->target_name);
}

int kl_snap_from_state(struct kl_snap *s, const struct kl_state *st)
{
	uint32_t attached = kl_state_attached(st);

	kl_snap_init(s);
	meta_from(s, st);
	kl_snap_probes_from(s, st);
	if (kl_snap_each_unavailable(attached, st->arch, add_unavailable, s) ||
	    overhead_from(s, st))
		goto nomem;
	s->vms = st->nr_vms ? calloc(st->nr_vms, sizeof(*s->vms)) : NULL;
	if (st->nr_vms && !s->vms)
		goto nomem;
	for (size_t i = 0; i < st->nr_vms; i++) {
		s->nr_vms++;
		if (vm_from(&s->vms[i], st, &st->vms[i], attached))
			goto nomem;
	}
	return 0;
nomem:
	kl_snap_free(s);
	return -ENOMEM;
}
