// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_name_table.c - every table expanded from the name table of
 * bpf/kvm_lazytop.h agrees with the others: the counter names of
 * kl_names.c, the known names and the families of snapshot_read.c, the
 * fast/slow split, and the pKVM direction / skip classification.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "kl_names.h"
#include "snapshot_read.h"

/* snap_counter_names is the enum order of the named counters. */
static void test_known_counters_in_enum_order(void **state)
{
	const char *const *n = snap_counter_names;
	unsigned int i;

	(void)state;
	for (i = 0; i < KL_C_PRED_VS_ACTUAL; i++) {
		if (!kl_counter_name(i))
			continue;
		assert_non_null(*n);
		assert_string_equal(*n, kl_counter_name(i));
		n++;
	}
	assert_null(*n);
	for (i = 0; i < KL_H_NR; i++)
		assert_string_equal(snap_hist_names[i], kl_hist_name(i));
	assert_null(snap_hist_names[KL_H_NR]);
}

static size_t count(const char *const *l)
{
	size_t n = 0;

	while (l[n])
		n++;
	return n;
}

/* A family holds the counters of its reason group, in index order. */
static void check_family(const char *name, unsigned int base, unsigned int nr,
			 const char *(*reason)(unsigned int))
{
	const struct snap_family *f = snap_family_named(name);
	unsigned int r;

	assert_non_null(f);
	assert_int_equal(count(f->members), nr);
	for (r = 0; r < nr; r++) {
		assert_string_equal(f->members[r], kl_counter_name(base + r));
		assert_ptr_equal(snap_family_of(f->members[r]), f);
		assert_int_equal(strncmp(f->members[r], f->prefix, strlen(f->prefix)), 0);
		if (reason)
			assert_string_equal(f->members[r] + strlen(f->prefix), reason(r));
	}
}

static void test_families(void **state)
{
	(void)state;
	assert_int_equal(snap_nfamilies, 9);
	check_family("vcpu_load", KL_C_VCPU_LOAD, KL_LOAD_NR, kl_load_reason_name);
	check_family("gstage_fault", KL_C_GSTAGE_FAULT, KL_FAULT_NR, kl_fault_reason_name);
	check_family("reload_pred", KL_C_PRED, KL_PRED_NR, kl_pred_name);
	check_family("pte_update_op", KL_C_PTE_OP, KL_PTE_OP_NR, NULL);
	check_family("pte_update_outcome", KL_C_PTE_OUTCOME, KL_PTE_OUTCOME_NR, NULL);
	check_family("guest_fault_access", KL_C_GUEST_FAULT_ACCESS, KL_GF_ACCESS_NR,
		     kl_guest_fault_access_name);
	check_family("guest_fault_status", KL_C_GUEST_FAULT_STATUS, KL_GF_STATUS_NR,
		     kl_guest_fault_status_name);
	assert_null(snap_family_named("no_such_family"));
}

/* The pKVM families: the expected pairs of each direction; fast = skip_*. */
static void test_pkvm_families(void **state)
{
	unsigned int d, r;

	(void)state;
	for (d = 0; d < KL_PKVM_DIR_NR; d++) {
		const struct snap_family *f;
		const char *const *m;
		char name[64];

		snprintf(name, sizeof(name), "pkvm_sync_%s", kl_pkvm_dir_name(d));
		f = snap_family_named(name);
		assert_non_null(f);
		m = f->members;
		for (r = 0; r < KL_PKVM_REASON_NR; r++) {
			unsigned int i = KL_C_PKVM_SYNC + d * KL_PKVM_REASON_NR + r;

			if (!kl_pkvm_reason_expected(d, r)) {
				assert_null(kl_counter_name(i));
				continue;
			}
			assert_string_equal(*m, kl_counter_name(i));
			assert_int_equal(snap_family_is_fast(f, *m), kl_pkvm_reason_is_skip(r));
			assert_int_equal(kl_pkvm_reason_is_skip(r),
					 !strncmp(kl_pkvm_reason_name(r), "skip_", 5));
			m++;
		}
		assert_null(*m);
	}
	/* every reason is expected in exactly one direction */
	for (r = 0; r < KL_PKVM_REASON_NR; r++)
		assert_int_equal(kl_pkvm_reason_expected(KL_PKVM_TO_HYP, r) +
				 kl_pkvm_reason_expected(KL_PKVM_TO_HOST, r), 1);
	assert_false(kl_pkvm_reason_expected(KL_PKVM_DIR_NR, 0));
	assert_false(kl_pkvm_reason_is_skip(KL_PKVM_REASON_NR));
}

/* The fast path of each family, as the renderers count it. */
static void test_fast_split(void **state)
{
	static const struct {
		const char *family;
		const char *fast[4];
	} want[] = {
		{ "vcpu_load", { "vcpu_load_fast" } },
		{ "gstage_fault", { "gstage_fault_fast", "gstage_fault_spurious" } },
		{ "reload_pred", { "reload_pred_same_cpu" } },
		{ "pte_update_op", { NULL } },
		{ "pte_update_outcome", { "pte_update_updated" } },
		{ "pkvm_sync_to_hyp", { "pkvm_sync_to_hyp_skip_hyp_current" } },
		{ "pkvm_sync_to_host", { "pkvm_sync_to_host_skip_irq",
					 "pkvm_sync_to_host_skip_host_current",
					 "pkvm_sync_to_host_skip_sched_out" } },
		{ "guest_fault_access", { NULL } },
		{ "guest_fault_status", { NULL } },
	};
	size_t i, j;

	(void)state;
	assert_int_equal(snap_nfamilies, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < snap_nfamilies; i++) {
		const struct snap_family *f = &snap_families[i];

		assert_string_equal(f->name, want[i].family);
		for (j = 0; want[i].fast[j]; j++)
			assert_string_equal(f->fast[j], want[i].fast[j]);
		assert_null(f->fast[j]);
		for (j = 0; f->fast[j]; j++)
			assert_ptr_equal(snap_family_of(f->fast[j]), f);
	}
	assert_false(snap_family_is_fast(snap_family_named("gstage_fault"),
					 "gstage_fault_not_logging"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_counters_in_enum_order),
		cmocka_unit_test(test_families),
		cmocka_unit_test(test_pkvm_families),
		cmocka_unit_test(test_fast_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
