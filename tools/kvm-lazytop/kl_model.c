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
	return s->duration_ns ? 100.0 * (double)s->oh.cpu_ns / (double)s->duration_ns : 0;
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
