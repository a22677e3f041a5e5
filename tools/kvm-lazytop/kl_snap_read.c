// SPDX-License-Identifier: GPL-2.0-only
/*
 * kl_snap_read.c - the ONE JSON reader: a snapshot file -> typed snapshot
 * (kl_model.h).  The tree is type-checked by snap_validate() (the table of
 * snapshot_read.c), so every member decoded here has its documented type;
 * a member that is absent stays absent in the model ("has" flags).
 * Stored derived members (shares, agreement, percentiles) are not read:
 * the writer and the renderers compute them from the counts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "kl_model.h"
#include "kl_names.h"
#include "snapshot_read.h"

#define FOREACH(obj, k, v) json_object_object_foreach(obj, k, v)

static void str_into(char *dst, size_t len, struct json_object *obj, const char *key)
{
	const char *s = snap_get_str(obj, key);

	if (s)
		snprintf(dst, len, "%s", s);
}

static uint64_t u64_of(struct json_object *obj, const char *key)
{
	uint64_t v = 0;

	snap_get_u64(obj, key, &v);
	return v;
}

/*
 * Plain counters by JSON name.  Files list them in counter order, so the
 * search starts after the previous hit (*hint) and wraps around.
 */
static int counter_index(const char *name, unsigned int *hint)
{
	for (unsigned int n = 0; n < KL_C_PRED_VS_ACTUAL; n++) {
		unsigned int i = (*hint + n) % KL_C_PRED_VS_ACTUAL;
		const char *cn = kl_counter_name(i);

		if (cn && !strcmp(cn, name)) {
			*hint = i + 1;
			return (int)i;
		}
	}
	return -1;
}

static void counters_read(struct kl_snap_counters *c, struct json_object *o)
{
	unsigned int hint = 0;
	uint64_t v;

	if (!o)
		return;
	FOREACH(o, k, val) {
		int i = counter_index(k, &hint);

		if (i >= 0 && snap_json_u64(val, &v))
			kl_snap_set(c, (unsigned int)i, v);
	}
}

static int index_of(const char *(*name)(unsigned int), unsigned int nr, const char *k)
{
	for (unsigned int i = 0; i < nr; i++)
		if (name(i) && !strcmp(name(i), k))
			return (int)i;
	return -1;
}

static const char *load_name(unsigned int i) { return kl_load_reason_name(i); }
static const char *pred_name(unsigned int i) { return kl_pred_name(i); }
static const char *pkvm_name(unsigned int i) { return kl_pkvm_reason_name(i); }
static const char *dir_name(unsigned int i) { return kl_pkvm_dir_name(i); }
static const char *hist_name(unsigned int i) { return kl_hist_name(i); }
static const char *drop_name(unsigned int i) { return kl_drop_name(i); }
static const char *sig_name(unsigned int i) { return kl_signals[i].name; }

/* "prediction".matrix: [pred][actual] counts. */
static void pred_read(struct kl_snap_vm *vm, struct json_object *p)
{
	struct json_object *m = snap_get_obj(p, "matrix");
	uint64_t v;

	vm->has_pred = p != NULL;
	if (!m)
		return;
	FOREACH(m, pk, row) {
		int pi = index_of(pred_name, KL_PRED_NR, pk);

		if (pi < 0)
			continue;
		FOREACH(row, ak, val) {
			int ai = index_of(load_name, KL_LOAD_NR, ak);

			if (ai >= 0 && snap_json_u64(val, &v))
				kl_snap_set(&vm->c, KL_C_PRED_VS_ACTUAL + pi * KL_LOAD_NR + ai, v);
		}
	}
}

/* "pkvm_state_sync".<dir>.reasons.<reason>.count */
static void pkvm_read(struct kl_snap_vm *vm, struct json_object *ps)
{
	uint64_t v;

	if (!ps)
		return;
	FOREACH(ps, dk, dir) {
		int d = index_of(dir_name, KL_PKVM_DIR_NR, dk);
		struct json_object *rs = snap_get_obj(dir, "reasons");

		if (d < 0)
			continue;
		vm->has_pkvm[d] = true;
		if (!rs)
			continue;
		FOREACH(rs, rk, e) {
			int r = index_of(pkvm_name, KL_PKVM_REASON_NR, rk);

			if (r >= 0 && snap_get_u64(e, "count", &v))
				kl_snap_set(&vm->c, KL_C_PKVM_SYNC + d * KL_PKVM_REASON_NR + r, v);
		}
	}
}

static int counts_read(struct kl_snap_counts *r, struct json_object *o)
{
	size_t n = 0;
	uint64_t v;

	r->present = o != NULL;
	if (!o || !json_object_object_length(o))
		return 0;
	r->v = calloc(json_object_object_length(o), sizeof(*r->v));
	if (!r->v)
		return -ENOMEM;
	FOREACH(o, k, val) {
		if (!snap_json_u64(val, &v))
			continue;
		snprintf(r->v[n].name, sizeof(r->v[n].name), "%s", k);
		r->v[n++].count = v;
	}
	r->nr = n;
	return 0;
}

static int hist_read(struct snap_hist *h, struct json_object *o, char *err, size_t errlen)
{
	return snap_hist_parse(o, h, err, errlen) ? -1 : 0;
}

static int by_read(struct kl_snap_hist_by *by, struct json_object *o, char *err, size_t errlen)
{
	by->present = true;
	if (!json_object_object_length(o))
		return 0;
	by->v = calloc(json_object_object_length(o), sizeof(*by->v));
	if (!by->v)
		return -1;
	FOREACH(o, k, h) {
		struct kl_snap_named_hist *e = &by->v[by->nr++];

		snprintf(e->name, sizeof(e->name), "%s", k);
		if (hist_read(&e->h, h, err, errlen))
			return -1;
	}
	return 0;
}

static int hists_read(struct kl_snap_vm *vm, struct json_object *o, char *err, size_t errlen)
{
	struct json_object *hs = snap_get_obj(o, "histograms"), *by = snap_get_obj(o, "histograms_by");

	vm->has_hists = hs != NULL;
	vm->has_by = by != NULL;
	for (unsigned int h = 0; h < KL_H_NR; h++) {
		struct json_object *x = snap_get_obj(hs, kl_hist_name(h));

		vm->has_hist[h] = x != NULL;
		if (x && hist_read(&vm->hist[h], x, err, errlen))
			return -1;
	}
	if (!by)
		return 0;
	FOREACH(by, k, split) {
		int h = index_of(hist_name, KL_H_NR, k);

		if (h >= 0 && by_read(&vm->by[h], split, err, errlen))
			return -1;
	}
	return 0;
}

static int vcpus_read(struct kl_snap_vm *vm, struct json_object *arr)
{
	size_t n = arr ? json_object_array_length(arr) : 0;

	if (!n)
		return 0;
	vm->vcpus = calloc(n, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);
		struct kl_snap_vcpu *r = &vm->vcpus[vm->nr_vcpus++];
		double id = snap_num(v, "vcpu_id");

		r->vcpu_id = id == id ? (int32_t)id : -1;
		r->tid = (uint32_t)u64_of(v, "tid");
		counters_read(&r->c, snap_get_obj(v, "counters"));
	}
	return 0;
}

/* "kvm_stats": the names this kvm-lazytop knows (validated as u64s). */
static void kvm_stats_read(struct kl_snap_vm *vm, struct json_object *ks)
{
	for (unsigned int k = 0; ks && k < KL_KS_NR; k++)
		if (snap_get_u64(ks, kl_kstat_names[k], &vm->kstat[k]))
			vm->kstat_has |= 1U << k;
}

static int vm_read(struct kl_snap_vm *vm, struct json_object *o, char *err, size_t errlen)
{
	struct json_object *rs = snap_get_obj(o, "reasons");

	vm->pid = (uint32_t)u64_of(o, "pid");
	str_into(vm->comm, sizeof(vm->comm), o, "comm");
	str_into(vm->name, sizeof(vm->name), o, "name");
	snap_get_bool(o, "exited", &vm->exited);
	counters_read(&vm->c, snap_get_obj(o, "counters"));
	kvm_stats_read(vm, snap_get_obj(o, "kvm_stats"));
	pred_read(vm, snap_get_obj(o, "prediction"));
	pkvm_read(vm, snap_get_obj(o, "pkvm_state_sync"));
	vm->has_reasons = rs != NULL;
	if (vcpus_read(vm, snap_get_arr(o, "vcpus")) ||
	    counts_read(&vm->ue, snap_get_obj(rs, "userspace_exit")) ||
	    counts_read(&vm->ex, snap_get_obj(rs, "exit"))) {
		snprintf(err, errlen, "snapshot: out of memory");
		return -1;
	}
	return hists_read(vm, o, err, errlen);
}

static int progs_read(struct kl_snap_overhead *oh, struct json_object *arr)
{
	size_t n = arr ? json_object_array_length(arr) : 0;

	if (!n)
		return 0;
	oh->progs = calloc(n, sizeof(*oh->progs));
	if (!oh->progs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(arr, i);
		struct kl_snap_prog *q = &oh->progs[oh->nr_progs++];

		str_into(q->name, sizeof(q->name), p, "name");
		str_into(q->signal, sizeof(q->signal), p, "signal");
		q->run_cnt = u64_of(p, "run_cnt");
		q->run_time_ns = u64_of(p, "run_time_ns");
	}
	return 0;
}

static int overhead_read(struct kl_snap_overhead *oh, struct json_object *o)
{
	struct json_object *drops = snap_get_obj(o, "drops");

	oh->present = o != NULL;
	if (!o)
		return 0;
	oh->bpf_run_time_ns = u64_of(o, "bpf_run_time_ns");
	oh->bpf_events = u64_of(o, "bpf_events");
	str_into(oh->bpf_stats, sizeof(oh->bpf_stats), o, "bpf_stats");
	if (json_object_object_get_ex(o, "bpf_stats_window_ns", NULL)) {
		oh->has_stats_window = true;
		oh->stats_window_ns = u64_of(o, "bpf_stats_window_ns");
		snap_get_bool(o, "bpf_stats_window_open", &oh->stats_window_open);
	}
	oh->cpu_ns = u64_of(o, "collector_cpu_ns");
	oh->rss_kb = u64_of(o, "collector_rss_kb");
	oh->maxrss_kb = u64_of(o, "collector_maxrss_kb");
	if (drops) {
		FOREACH(drops, k, v) {
			int d = index_of(drop_name, KL_D_NR, k);

			if (d >= 0 && snap_json_u64(v, &oh->drops[d]))
				oh->has_drop[d] = true;
		}
	}
	return progs_read(oh, snap_get_arr(o, "programs"));
}

static void probes_read(struct kl_snap *s, struct json_object *pr, struct json_object *pe)
{
	if (pr) {
		FOREACH(pr, k, v) {
			int i = index_of(sig_name, KL_SIG_NR, k);

			if (i >= 0) {
				s->has_probe[i] = true;
				snprintf(s->probe[i], sizeof(s->probe[i]), "%s", json_object_get_string(v));
			}
		}
	}
	s->has_probe_events = pe != NULL;
	if (!pe)
		return;
	FOREACH(pe, k, v) {
		int i = index_of(sig_name, KL_SIG_NR, k);

		if (i < 0)
			continue;
		s->has_pe[i] = true;
		s->pe_null[i] = !v;
		snap_json_u64(v, &s->pe[i]);
	}
}

static int unavail_read(struct kl_snap *s, struct json_object *arr)
{
	size_t n = arr ? json_object_array_length(arr) : 0;

	if (!n)
		return 0;
	s->unavail = calloc(n, sizeof(*s->unavail));
	if (!s->unavail)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		snprintf(s->unavail[s->nr_unavail++], sizeof(*s->unavail), "%s",
			 json_object_get_string(json_object_array_get_idx(arr, i)));
	return 0;
}

static void meta_read(struct kl_snap *s, struct json_object *o)
{
	struct json_object *tool = snap_get_obj(o, "tool"), *host = snap_get_obj(o, "host");
	struct json_object *tgt = snap_get_obj(o, "target");
	double ncpus = snap_num(host, "ncpus");

	str_into(s->schema_version, sizeof(s->schema_version), o, "schema_version");
	str_into(s->tool_name, sizeof(s->tool_name), tool, "name");
	str_into(s->tool_version, sizeof(s->tool_version), tool, "version");
	str_into(s->kernel, sizeof(s->kernel), host, "kernel");
	str_into(s->arch, sizeof(s->arch), host, "arch");
	str_into(s->hostname, sizeof(s->hostname), host, "hostname");
	s->ncpus = ncpus == ncpus ? (int)ncpus : 0;
	s->has_start = snap_get_u64(o, "start_time_ns", &s->start_time_ns);
	s->has_duration = snap_get_u64(o, "duration_ns", &s->duration_ns);
	s->interval_ns = u64_of(o, "interval_ns");
	s->target = KL_TARGET_ALL;
	if (snap_get_u64(tgt, "pid", &(uint64_t){ 0 })) {
		s->target = KL_TARGET_PID;
		s->target_pid = (uint32_t)u64_of(tgt, "pid");
	} else if (snap_get_str(tgt, "name")) {
		s->target = KL_TARGET_NAME;
		str_into(s->target_name, sizeof(s->target_name), tgt, "name");
	}
}

/* A validated tree into s. */
static int decode(struct kl_snap *s, struct json_object *o, char *err, size_t errlen)
{
	struct json_object *vms = snap_get_arr(o, "vms");
	size_t n = json_object_array_length(vms);

	meta_read(s, o);
	probes_read(s, snap_get_obj(o, "probes"), snap_get_obj(o, "probe_events"));
	s->vms = n ? calloc(n, sizeof(*s->vms)) : NULL;
	if ((n && !s->vms) || unavail_read(s, snap_get_arr(o, "unavailable")) ||
	    overhead_read(&s->oh, snap_get_obj(o, "overhead"))) {
		snprintf(err, errlen, "snapshot: out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		s->nr_vms++;
		if (vm_read(&s->vms[i], json_object_array_get_idx(vms, i), err, errlen))
			return -1;
	}
	return 0;
}

int kl_snap_read(struct kl_snap *s, struct json_object *tree, char *err, size_t errlen)
{
	kl_snap_init(s);
	if (snap_validate(tree, err, errlen))
		return -1;
	if (decode(s, tree, err, errlen)) {
		kl_snap_free(s);
		return -1;
	}
	return 0;
}

int kl_snap_load(struct kl_snap *s, const char *path, char *err, size_t errlen)
{
	struct json_object *tree = snap_load(path, err, errlen);
	char tmp[400];
	int ret = -1;

	kl_snap_init(s);
	if (!tree)
		return -1;
	if (!decode(s, tree, tmp, sizeof(tmp)))
		ret = 0;
	else
		snprintf(err, errlen, "%s: %s", path, tmp);
	if (ret)
		kl_snap_free(s);
	json_object_put(tree);
	return ret;
}
