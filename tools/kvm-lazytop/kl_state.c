// SPDX-License-Identifier: GPL-2.0-only
/* kl_state.c - the collected state container, see kl_state.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kl_state.h"

static size_t hslot(uint64_t key, size_t cap)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	return (size_t)key & (cap - 1);
}

static int hmap_grow(struct kl_hmap *m)
{
	struct kl_hmap n = { 0 };

	n.cap = m->cap ? m->cap * 2 : 64;
	n.keys = malloc(n.cap * sizeof(*n.keys));
	n.vals = malloc(n.cap * sizeof(*n.vals));
	if (!n.keys || !n.vals) {
		free(n.keys);
		free(n.vals);
		return -ENOMEM;
	}
	memset(n.vals, 0xff, n.cap * sizeof(*n.vals));
	for (size_t i = 0; i < m->cap; i++)
		if (m->vals[i] != UINT32_MAX)
			kl_hmap_put(&n, m->keys[i], m->vals[i]);
	free(m->keys);
	free(m->vals);
	*m = n;
	return 0;
}

int kl_hmap_put(struct kl_hmap *m, uint64_t key, uint32_t val)
{
	size_t i;

	if ((m->nr + 1) * 2 > m->cap && hmap_grow(m))
		return -ENOMEM;
	for (i = hslot(key, m->cap); m->vals[i] != UINT32_MAX; i = (i + 1) & (m->cap - 1))
		if (m->keys[i] == key) {
			m->vals[i] = val;
			return 0;
		}
	m->keys[i] = key;
	m->vals[i] = val;
	m->nr++;
	return 0;
}

uint32_t *kl_hmap_get(const struct kl_hmap *m, uint64_t key)
{
	if (!m->cap)
		return NULL;
	for (size_t i = hslot(key, m->cap); m->vals[i] != UINT32_MAX; i = (i + 1) & (m->cap - 1))
		if (m->keys[i] == key)
			return &m->vals[i];
	return NULL;
}

void kl_hmap_clear(struct kl_hmap *m)
{
	if (m->cap)
		memset(m->vals, 0xff, m->cap * sizeof(*m->vals));
	m->nr = 0;
}

void kl_hmap_free(struct kl_hmap *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

void kl_state_init(struct kl_state *st)
{
	memset(st, 0, sizeof(*st));
}

static void vm_free(struct kl_vm *vm)
{
	free(vm->vcpus);
	free(vm->reasons);
	free(vm->hists);
	kl_hmap_free(&vm->vidx);
}

void kl_state_clear_vms(struct kl_state *st)
{
	for (size_t i = 0; i < st->nr_vms; i++)
		vm_free(&st->vms[i]);
	st->nr_vms = 0;
	kl_hmap_clear(&st->vm_idx);
}

void kl_state_free(struct kl_state *st)
{
	kl_state_clear_vms(st);
	free(st->vms);
	st->vms = NULL;
	st->cap_vms = 0;
	kl_hmap_free(&st->vm_idx);
}

void kl_state_swap(struct kl_state *a, struct kl_state *b)
{
	struct kl_state t = *a;

	*a = *b;
	*b = t;
}

static uint64_t vkey(int32_t id)
{
	return (uint32_t)id;
}

/* Rebuild the private indexes (after sorting or copying). */
static void reindex(struct kl_state *st)
{
	kl_hmap_clear(&st->vm_idx);
	for (size_t i = 0; i < st->nr_vms; i++) {
		struct kl_vm *vm = &st->vms[i];

		kl_hmap_put(&st->vm_idx, vm->pid, (uint32_t)i);
		kl_hmap_clear(&vm->vidx);
		for (size_t j = 0; j < vm->nr_vcpus; j++)
			kl_hmap_put(&vm->vidx, vkey(vm->vcpus[j].vcpu_id), (uint32_t)j);
	}
}

uint32_t kl_state_attached(const struct kl_state *st)
{
	uint32_t m = 0;

	for (int i = 0; i < KL_SIG_NR; i++)
		if (st->probes[i].status == KL_PROBE_ATTACHED)
			m |= KL_SIG_BIT(i);
	return m;
}

/* Grow *arr (elements of size sz) so that one more fits. */
static int grow(void **arr, size_t *cap, size_t nr, size_t sz)
{
	size_t ncap;
	void *p;

	if (nr < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 4;
	p = realloc(*arr, ncap * sz);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

struct kl_vm *kl_state_find_vm(const struct kl_state *st, uint32_t pid)
{
	uint32_t *ix = st->vm_idx.nr == st->nr_vms ? kl_hmap_get(&st->vm_idx, pid) : NULL;

	if (ix && *ix < st->nr_vms && st->vms[*ix].pid == pid)
		return &st->vms[*ix];
	if (st->vm_idx.nr == st->nr_vms && st->nr_vms)
		return NULL;	/* index complete: absent */
	for (size_t i = 0; i < st->nr_vms; i++)
		if (st->vms[i].pid == pid)
			return &st->vms[i];
	return NULL;
}

struct kl_vm *kl_state_vm(struct kl_state *st, uint32_t pid)
{
	struct kl_vm *vm = kl_state_find_vm(st, pid);

	if (vm)
		return vm;
	if (grow((void **)&st->vms, &st->cap_vms, st->nr_vms, sizeof(*vm)))
		return NULL;
	if (st->vm_idx.nr == st->nr_vms && kl_hmap_put(&st->vm_idx, pid, (uint32_t)st->nr_vms))
		kl_hmap_clear(&st->vm_idx);	/* out of memory: linear search */
	vm = &st->vms[st->nr_vms++];
	memset(vm, 0, sizeof(*vm));
	vm->pid = pid;
	return vm;
}

/* Row of vcpu_id or NULL: same position / index / linear search. */
static struct kl_vcpu_row *find_vcpu(const struct kl_vm *vm, int32_t vcpu_id, size_t hint)
{
	uint32_t *ix;

	if (hint < vm->nr_vcpus && vm->vcpus[hint].vcpu_id == vcpu_id)
		return &vm->vcpus[hint];
	ix = vm->vidx.nr == vm->nr_vcpus ? kl_hmap_get(&vm->vidx, vkey(vcpu_id)) : NULL;
	if (ix && *ix < vm->nr_vcpus && vm->vcpus[*ix].vcpu_id == vcpu_id)
		return &vm->vcpus[*ix];
	if (vm->vidx.nr == vm->nr_vcpus && vm->nr_vcpus)
		return NULL;
	for (size_t i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i].vcpu_id == vcpu_id)
			return &vm->vcpus[i];
	return NULL;
}

struct kl_vcpu_row *kl_vm_vcpu(struct kl_vm *vm, int32_t vcpu_id)
{
	struct kl_vcpu_row *r = find_vcpu(vm, vcpu_id, (size_t)(uint32_t)vcpu_id);

	if (r)
		return r;
	if (grow((void **)&vm->vcpus, &vm->cap_vcpus, vm->nr_vcpus, sizeof(*r)))
		return NULL;
	if (vm->vidx.nr == vm->nr_vcpus &&
	    kl_hmap_put(&vm->vidx, vkey(vcpu_id), (uint32_t)vm->nr_vcpus))
		kl_hmap_clear(&vm->vidx);
	r = &vm->vcpus[vm->nr_vcpus++];
	memset(r, 0, sizeof(*r));
	r->vcpu_id = vcpu_id;
	return r;
}

struct kl_reason_cnt *kl_vm_reason(struct kl_vm *vm, uint16_t kind, uint64_t code)
{
	struct kl_reason_cnt *r;

	for (size_t i = 0; i < vm->nr_reasons; i++)
		if (vm->reasons[i].kind == kind && vm->reasons[i].code == code)
			return &vm->reasons[i];
	if (grow((void **)&vm->reasons, &vm->cap_reasons, vm->nr_reasons, sizeof(*r)))
		return NULL;
	r = &vm->reasons[vm->nr_reasons++];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->code = code;
	return r;
}

struct kl_hist_data *kl_vm_hist(struct kl_vm *vm, uint16_t hist, uint16_t sub)
{
	struct kl_hist_data *h;

	for (size_t i = 0; i < vm->nr_hists; i++)
		if (vm->hists[i].hist == hist && vm->hists[i].sub == sub)
			return &vm->hists[i];
	if (grow((void **)&vm->hists, &vm->cap_hists, vm->nr_hists, sizeof(*h)))
		return NULL;
	h = &vm->hists[vm->nr_hists++];
	memset(h, 0, sizeof(*h));
	h->hist = hist;
	h->sub = sub;
	return h;
}

void kl_vm_sum_vcpus(struct kl_vm *vm)
{
	memset(vm->c, 0, sizeof(vm->c));
	for (size_t i = 0; i < vm->nr_vcpus; i++)
		for (int c = 0; c < KL_C_NR; c++)
			vm->c[c] += vm->vcpus[i].c[c];
}

static int cmp_vm(const void *a, const void *b)
{
	const struct kl_vm *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static int cmp_vcpu(const void *a, const void *b)
{
	const struct kl_vcpu_row *x = a, *y = b;

	/* unknown (-1) last */
	uint32_t ix = (uint32_t)x->vcpu_id, iy = (uint32_t)y->vcpu_id;
	return (ix > iy) - (ix < iy);
}

static int cmp_reason(const void *a, const void *b)
{
	const struct kl_reason_cnt *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind - y->kind;
	return (x->code > y->code) - (x->code < y->code);
}

static int cmp_hist(const void *a, const void *b)
{
	const struct kl_hist_data *x = a, *y = b;

	if (x->hist != y->hist)
		return x->hist - y->hist;
	return x->sub - y->sub;
}

void kl_state_sort(struct kl_state *st)
{
	if (st->nr_vms)
		qsort(st->vms, st->nr_vms, sizeof(*st->vms), cmp_vm);
	for (size_t i = 0; i < st->nr_vms; i++) {
		struct kl_vm *vm = &st->vms[i];

		if (vm->nr_vcpus)
			qsort(vm->vcpus, vm->nr_vcpus, sizeof(*vm->vcpus), cmp_vcpu);
		if (vm->nr_reasons)
			qsort(vm->reasons, vm->nr_reasons, sizeof(*vm->reasons), cmp_reason);
		if (vm->nr_hists)
			qsort(vm->hists, vm->nr_hists, sizeof(*vm->hists), cmp_hist);
	}
	reindex(st);
}

static uint64_t sub0(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static int copy_vm(struct kl_vm *dst, const struct kl_vm *src)
{
	*dst = *src;
	memset(&dst->vidx, 0, sizeof(dst->vidx));
	dst->vcpus = NULL;
	dst->reasons = NULL;
	dst->hists = NULL;
	dst->cap_vcpus = dst->nr_vcpus;
	dst->cap_reasons = dst->nr_reasons;
	dst->cap_hists = dst->nr_hists;
	if (src->nr_vcpus && !(dst->vcpus = malloc(src->nr_vcpus * sizeof(*src->vcpus))))
		goto err;
	if (src->nr_reasons && !(dst->reasons = malloc(src->nr_reasons * sizeof(*src->reasons))))
		goto err;
	if (src->nr_hists && !(dst->hists = malloc(src->nr_hists * sizeof(*src->hists))))
		goto err;
	if (src->nr_vcpus)
		memcpy(dst->vcpus, src->vcpus, src->nr_vcpus * sizeof(*src->vcpus));
	if (src->nr_reasons)
		memcpy(dst->reasons, src->reasons, src->nr_reasons * sizeof(*src->reasons));
	if (src->nr_hists)
		memcpy(dst->hists, src->hists, src->nr_hists * sizeof(*src->hists));
	return 0;
err:
	vm_free(dst);
	memset(dst, 0, sizeof(*dst));
	return -ENOMEM;
}

int kl_state_copy(struct kl_state *out, const struct kl_state *in)
{
	*out = *in;
	out->vms = NULL;
	out->nr_vms = out->cap_vms = 0;
	memset(&out->vm_idx, 0, sizeof(out->vm_idx));
	if (!in->nr_vms)
		return 0;
	out->vms = calloc(in->nr_vms, sizeof(*in->vms));
	if (!out->vms)
		return -ENOMEM;
	out->cap_vms = in->nr_vms;
	for (size_t i = 0; i < in->nr_vms; i++) {
		if (copy_vm(&out->vms[i], &in->vms[i])) {
			kl_state_free(out);
			return -ENOMEM;
		}
		out->nr_vms++;
	}
	reindex(out);
	return 0;
}

int kl_state_delta(struct kl_state *out, const struct kl_state *cur, const struct kl_state *prev)
{
	int err = kl_state_copy(out, cur);

	if (err)
		return err;
	for (size_t i = 0; i < out->nr_vms; i++) {
		struct kl_vm *vm = &out->vms[i];
		const struct kl_vm *pv = kl_state_find_vm(prev, vm->pid);

		if (!pv)
			continue;
		for (size_t j = 0; j < vm->nr_vcpus; j++) {
			struct kl_vcpu_row *r = &vm->vcpus[j];
			const struct kl_vcpu_row *p = find_vcpu(pv, r->vcpu_id, j);

			if (p)
				for (int c = 0; c < KL_C_NR; c++)
					r->c[c] = sub0(r->c[c], p->c[c]);
		}
		for (int c = 0; c < KL_C_NR; c++)
			vm->c[c] = sub0(vm->c[c], pv->c[c]);
		for (int k = 0; k < KL_KS_NR; k++)
			vm->kstat[k] = sub0(vm->kstat[k], pv->kstat[k]);
		for (size_t j = 0; j < vm->nr_reasons; j++) {
			struct kl_reason_cnt *r = &vm->reasons[j];

			for (size_t k0 = 0; k0 < pv->nr_reasons; k0++) {
				size_t k = (k0 + j) % pv->nr_reasons;	/* same position first */

				if (pv->reasons[k].kind == r->kind && pv->reasons[k].code == r->code) {
					r->count = sub0(r->count, pv->reasons[k].count);
					break;
				}
			}
		}
		for (size_t j = 0; j < vm->nr_hists; j++) {
			struct kl_hist_data *h = &vm->hists[j];

			for (size_t k0 = 0; k0 < pv->nr_hists; k0++) {
				const struct kl_hist_data *ph = &pv->hists[(k0 + j) % pv->nr_hists];

				if (ph->hist != h->hist || ph->sub != h->sub)
					continue;
				for (int b = 0; b < KL_HIST_BUCKETS; b++)
					h->b[b] = sub0(h->b[b], ph->b[b]);
				h->sum = sub0(h->sum, ph->sum);
				break;
			}
		}
	}
	for (size_t i = 0; i < out->oh.nr_progs; i++) {
		struct kl_prog_stat *p = &out->oh.progs[i];

		for (size_t k = 0; k < prev->oh.nr_progs; k++)
			if (!strcmp(prev->oh.progs[k].name, p->name)) {
				p->run_cnt = sub0(p->run_cnt, prev->oh.progs[k].run_cnt);
				p->run_time_ns = sub0(p->run_time_ns, prev->oh.progs[k].run_time_ns);
				break;
			}
	}
	for (int d = 0; d < KL_D_NR; d++)
		out->oh.drops[d] = sub0(cur->oh.drops[d], prev->oh.drops[d]);
	out->oh.cpu_ns = sub0(cur->oh.cpu_ns, prev->oh.cpu_ns);
	return 0;
}
