// SPDX-License-Identifier: GPL-2.0-only
/* kl_model.c - the typed snapshot (kl_model.h): lifetime and look-ups. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kl_model.h"
#include "kl_names.h"

void kl_snap_init(struct kl_snap *s)
{
	memset(s, 0, sizeof(*s));
}

static void vm_free(struct kl_snap_vm *vm)
{
	for (unsigned int h = 0; h < KL_H_NR; h++) {
		snap_hist_free(&vm->hist[h]);
		for (size_t i = 0; i < vm->by[h].nr; i++)
			snap_hist_free(&vm->by[h].v[i].h);
		free(vm->by[h].v);
	}
	free(vm->vcpus);
	free(vm->ue.v);
	free(vm->ex.v);
}

void kl_snap_free(struct kl_snap *s)
{
	for (size_t i = 0; i < s->nr_vms; i++)
		vm_free(&s->vms[i]);
	free(s->vms);
	free(s->unavail);
	free(s->oh.progs);
	kl_snap_init(s);
}

double kl_snap_share(uint64_t n, uint64_t total)
{
	char buf[32];

	if (!total)
		return NAN;
	snprintf(buf, sizeof(buf), "%.4f", (double)n / (double)total);
	return strtod(buf, NULL);
}

double kl_snap_cpu_pct(const struct kl_snap *s)
{
	char buf[48];

	/* the value the snapshot stores: 2 decimals */
	snprintf(buf, sizeof(buf), "%.2f",
		 s->duration_ns ? 100.0 * (double)s->oh.cpu_ns / (double)s->duration_ns : 0);
	return strtod(buf, NULL);
}

bool kl_snap_unavailable(const struct kl_snap *s, const char *name)
{
	for (size_t i = 0; i < s->nr_unavail; i++)
		if (!strcmp(s->unavail[i], name))
			return true;
	return false;
}

int kl_snap_counter_index(const char *name)
{
	for (unsigned int i = 0; i < KL_C_PRED_VS_ACTUAL; i++) {
		const char *n = kl_counter_name(i);

		if (n && !strcmp(n, name))
			return (int)i;
	}
	return -1;
}

bool kl_snap_counter_sum(const struct kl_snap *s, unsigned int i, uint64_t *out)
{
	bool found = false;

	*out = 0;
	for (size_t v = 0; v < s->nr_vms; v++) {
		if (!kl_snap_has(&s->vms[v].c, i))
			continue;
		*out += s->vms[v].c.c[i];
		found = true;
	}
	/* No VM at all: a counter that is not unavailable reads as 0. */
	return found || (!s->nr_vms && !(kl_counter_name(i) && kl_snap_unavailable(s, kl_counter_name(i))));
}

bool kl_snap_counter_sum_name(const struct kl_snap *s, const char *name, uint64_t *out)
{
	int i = kl_snap_counter_index(name);

	*out = 0;
	return i >= 0 && kl_snap_counter_sum(s, (unsigned int)i, out);
}

int kl_snap_hist_sum(const struct kl_snap *s, unsigned int h, struct snap_hist *out)
{
	int found = 0;

	memset(out, 0, sizeof(*out));
	for (size_t v = 0; v < s->nr_vms; v++) {
		if (!s->vms[v].has_hist[h])
			continue;
		if (snap_hist_merge(out, &s->vms[v].hist[h])) {
			snap_hist_free(out);
			return -1;
		}
		found = 1;
	}
	return found;
}

void kl_snap_pred_totals(const struct kl_snap_counters *c, uint64_t *ok, uint64_t *total)
{
	static const int agree[KL_PRED_NR] = {
		[KL_PRED_SAME_CPU] = KL_LOAD_FAST,
		[KL_PRED_MIGRATED] = KL_LOAD_OTHER_PCPU,
		[KL_PRED_OTHER_VCPU] = KL_LOAD_OTHER_VCPU,
	};

	*ok = *total = 0;
	for (int p = 0; p < KL_PRED_NR; p++) {
		for (int a = 0; a < KL_LOAD_NR; a++) {
			uint64_t n = c->c[KL_C_PRED_VS_ACTUAL + p * KL_LOAD_NR + a];

			*total += n;
			if (a == agree[p])
				*ok += n;
		}
	}
}

bool kl_snap_has_pkvm(const struct kl_snap *s)
{
	for (size_t v = 0; v < s->nr_vms; v++)
		for (unsigned int d = 0; d < KL_PKVM_DIR_NR; d++)
			if (s->vms[v].has_pkvm[d])
				return true;
	return false;
}

void *kl_snap_push(void *v, size_t *nr, size_t size)
{
	void **arr = v;
	char *p = realloc(*arr, (*nr + 1) * size);

	if (!p)
		return NULL;
	*arr = p;
	memset(p + *nr * size, 0, size);
	return p + (*nr)++ * size;
}

const struct kl_snap_counts *kl_snap_vm_reasons(const struct kl_snap_vm *vm, int kind)
{
	return kind ? &vm->ex : &vm->ue;
}

int kl_snap_reason_keys(const struct kl_snap *s, size_t n, int kind, struct kl_snap_counts *keys)
{
	uint64_t x;

	for (size_t i = 0; i < n; i++) {
		for (size_t v = 0; v < s[i].nr_vms; v++) {
			const struct kl_snap_counts *r = kl_snap_vm_reasons(&s[i].vms[v], kind);

			for (size_t j = 0; j < r->nr; j++) {
				struct kl_snap_count *p;

				if (kl_snap_count_get(keys, r->v[j].name, &x))
					continue;
				p = kl_snap_push(&keys->v, &keys->nr, sizeof(*p));
				if (!p)
					return -1;
				*p = r->v[j];
			}
		}
	}
	return 0;
}

bool kl_snap_reason_sum(const struct kl_snap *s, int kind, const char *key, uint64_t *sum)
{
	bool has = false;
	uint64_t x;

	*sum = 0;
	for (size_t v = 0; v < s->nr_vms; v++) {
		const struct kl_snap_counts *r = kl_snap_vm_reasons(&s->vms[v], kind);

		has = has || r->present;
		if (kl_snap_count_get(r, key, &x))
			*sum += x;
	}
	return has;
}

bool kl_snap_count_get(const struct kl_snap_counts *r, const char *name, uint64_t *out)
{
	for (size_t i = 0; i < r->nr; i++) {
		if (!strcmp(r->v[i].name, name)) {
			*out = r->v[i].count;
			return true;
		}
	}
	return false;
}
