// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_names.c - index -> JSON name tables and kernel code decoders. */
#include <assert.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "kl_names.h"

/* The counter names of SNAPSHOT.md, in enum kl_counter order. */
static const char *const expected[] = {
	"kvm_runs", "userspace_exits", "dirty_pages", "preemptions", "sched_out",
	"reload_pred_same_cpu", "reload_pred_migrated", "reload_pred_other_vcpu", "exits",
	"fast_page_faults", "fpu_loads",
	"vcpu_load_fast", "vcpu_load_first_load", "vcpu_load_other_pcpu", "vcpu_load_csr_dirty",
	"vcpu_load_cpu_reset", "vcpu_load_other_vcpu", "vcpu_put",
	"gstage_fault_fast", "gstage_fault_spurious", "gstage_fault_not_write",
	"gstage_fault_not_logging", "gstage_fault_no_leaf", "gstage_fault_huge_leaf",
	"gstage_fault_not_host_writable", "gstage_fault_inval_retry", "gstage_fault_pte_changed",
	"gstage_fault_retry_limit",
	"pte_update_events", "pte_update_retries", "pte_update_mkwrite", "pte_update_wrprotect",
	"pte_update_updated", "pte_update_noop", "pte_update_abort_not_leaf", "pte_update_abort_retries",
	/* pKVM direction x reason: NULL = a pair the series never emits (no JSON name) */
	"pkvm_sync_to_hyp_flush_dirty", NULL, NULL, NULL, NULL, NULL, NULL,
	"pkvm_sync_to_hyp_skip_hyp_current", NULL, NULL, NULL, NULL, NULL,
	"pkvm_sync_to_hyp_load_failed", "pkvm_sync_to_hyp_protected",
	NULL, "pkvm_sync_to_host_sync_trap", "pkvm_sync_to_host_sync_serror",
	"pkvm_sync_to_host_sync_exit", "pkvm_sync_to_host_sync_debug", "pkvm_sync_to_host_sync_put",
	"pkvm_sync_to_host_sync_adjust_pc", NULL, "pkvm_sync_to_host_skip_irq",
	"pkvm_sync_to_host_skip_host_current", "pkvm_sync_to_host_skip_sched_out",
	"pkvm_sync_to_host_sync_migrate", "pkvm_sync_to_host_fetch_failed", NULL, NULL,
	"guest_fault_read", "guest_fault_write", "guest_fault_exec",
	"guest_fault_translation", "guest_fault_access_flag", "guest_fault_permission",
	"guest_fault_other_status",
};
static_assert(sizeof(expected) / sizeof(expected[0]) == KL_C_PRED_VS_ACTUAL,
	      "SNAPSHOT.md counter list == enum kl_counter up to the prediction matrix");
static_assert(KL_C_NR == KL_C_PRED_VS_ACTUAL + KL_PRED_NR * KL_LOAD_NR, "matrix size");

static void test_counter_names(void **state)
{
	(void)state;
	assert_int_equal(kl_counter_names_nr, KL_C_PRED_VS_ACTUAL);
	for (unsigned int i = 0; i < KL_C_PRED_VS_ACTUAL; i++) {
		assert_true(kl_counter_requires(i) != 0);
		if (!expected[i]) {
			assert_null(kl_counter_name(i));
			continue;
		}
		assert_non_null(kl_counter_name(i));
		assert_string_equal(kl_counter_name(i), expected[i]);
		for (unsigned int j = 0; j < i; j++)
			if (kl_counter_name(j))
				assert_string_not_equal(kl_counter_name(i), kl_counter_name(j));
	}
	for (unsigned int i = KL_C_PRED_VS_ACTUAL; i < KL_C_NR + 3; i++)
		assert_null(kl_counter_name(i));
	/* spot checks of the grouped indices */
	assert_string_equal(kl_counter_name(KL_C_VCPU_LOAD + KL_LOAD_OTHER_VCPU), "vcpu_load_other_vcpu");
	assert_string_equal(kl_counter_name(KL_C_GSTAGE_FAULT + KL_FAULT_RETRY_LIMIT), "gstage_fault_retry_limit");
	assert_string_equal(kl_counter_name(KL_C_PTE_OUTCOME + KL_PTE_ABORT_RETRIES), "pte_update_abort_retries");
	assert_string_equal(kl_counter_name(KL_C_PRED + KL_PRED_OTHER_VCPU), "reload_pred_other_vcpu");
	assert_string_equal(kl_counter_name(KL_C_PKVM_SYNC + KL_PKVM_TO_HOST * KL_PKVM_REASON_NR +
					    KL_PKVM_SKIP_IRQ), "pkvm_sync_to_host_skip_irq");
	assert_string_equal(kl_counter_name(KL_C_GUEST_FAULT_STATUS + KL_GF_PERMISSION),
			    "guest_fault_permission");
}

/* pKVM state sync and guest fault tables; the series' direction of each reason. */
static void test_pkvm_names(void **state)
{
	static const char *const reasons[] = {
		"flush_dirty", "sync_trap", "sync_serror", "sync_exit", "sync_debug", "sync_put",
		"sync_adjust_pc", "skip_hyp_current", "skip_irq", "skip_host_current",
		"skip_sched_out", "sync_migrate", "fetch_failed", "load_failed", "protected",
	};
	static_assert(sizeof(reasons) / sizeof(reasons[0]) == KL_PKVM_REASON_NR, "pKVM reasons");
	unsigned int nexp = 0;

	(void)state;
	assert_string_equal(kl_pkvm_dir_name(KL_PKVM_TO_HYP), "to_hyp");
	assert_string_equal(kl_pkvm_dir_name(KL_PKVM_TO_HOST), "to_host");
	assert_null(kl_pkvm_dir_name(KL_PKVM_DIR_NR));
	for (unsigned int r = 0; r < KL_PKVM_REASON_NR; r++) {
		char name[64];

		assert_string_equal(kl_pkvm_reason_name(r), reasons[r]);
		assert_int_equal(kl_pkvm_reason_is_skip(r), !strncmp(reasons[r], "skip_", 5));
		/* each reason belongs to exactly one direction */
		assert_int_equal(kl_pkvm_reason_expected(KL_PKVM_TO_HYP, r) +
				 kl_pkvm_reason_expected(KL_PKVM_TO_HOST, r), 1);
		for (unsigned int d = 0; d < KL_PKVM_DIR_NR; d++) {
			unsigned int i = KL_C_PKVM_SYNC + d * KL_PKVM_REASON_NR + r;

			assert_int_equal(kl_counter_requires(i), KL_SIG_BIT(KL_SIG_ARM_PKVM_STATE_SYNC));
			if (!kl_pkvm_reason_expected(d, r)) {
				assert_null(kl_counter_name(i));
				continue;
			}
			nexp++;
			snprintf(name, sizeof(name), "pkvm_sync_%s_%s", kl_pkvm_dir_name(d), reasons[r]);
			assert_string_equal(kl_counter_name(i), name);
		}
	}
	assert_int_equal(nexp, KL_PKVM_REASON_NR);
	assert_true(kl_pkvm_reason_expected(KL_PKVM_TO_HYP, KL_PKVM_FLUSH_DIRTY));
	assert_true(kl_pkvm_reason_expected(KL_PKVM_TO_HOST, KL_PKVM_SYNC_PUT));
	assert_false(kl_pkvm_reason_expected(KL_PKVM_TO_HOST, KL_PKVM_REASON_NR));
	assert_false(kl_pkvm_reason_expected(KL_PKVM_DIR_NR, KL_PKVM_FLUSH_DIRTY));
	assert_null(kl_pkvm_reason_name(KL_PKVM_REASON_NR));

	assert_string_equal(kl_guest_fault_access_name(KL_GF_EXEC), "exec");
	assert_null(kl_guest_fault_access_name(KL_GF_ACCESS_NR));
	assert_string_equal(kl_guest_fault_status_name(KL_GF_ACCESS_FLAG), "access_flag");
	assert_null(kl_guest_fault_status_name(KL_GF_STATUS_NR));
	for (unsigned int a = 0; a < KL_GF_ACCESS_NR; a++)
		assert_int_equal(kl_counter_requires(KL_C_GUEST_FAULT_ACCESS + a),
				 KL_SIG_BIT(KL_SIG_ARM_GUEST_FAULT));
}

/* arm64 kvm_exit codes: ESR classes of traps, exception codes of the rest. */
static void test_arm64_exit_names(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(kl_arm64_exit_name(0x01), "WFx");
	assert_string_equal(kl_arm64_exit_name(0x16), "HVC64");
	assert_string_equal(kl_arm64_exit_name(0x18), "SYS64");
	assert_string_equal(kl_arm64_exit_name(0x20), "IABT_LOW");
	assert_string_equal(kl_arm64_exit_name(0x24), "DABT_LOW");
	assert_string_equal(kl_arm64_exit_name(0x0d), "BTI");
	assert_string_equal(kl_arm64_exit_name(0x3c), "BRK64");
	assert_null(kl_arm64_exit_name(0x02));
	assert_null(kl_arm64_exit_name(0x3f));
	assert_null(kl_arm64_exit_name(0x40));
	assert_string_equal(kl_arm64_exit_name(KL_ARM64_EXIT_NONTRAP), "IRQ");
	assert_string_equal(kl_arm64_exit_name(KL_ARM64_EXIT_NONTRAP + 1), "EL1_SERROR");
	assert_string_equal(kl_arm64_exit_name(KL_ARM64_EXIT_NONTRAP + 3), "IL");
	assert_string_equal(kl_arm64_exit_name(KL_ARM64_EXIT_NONTRAP + 0xff), "HYP_GONE");
	assert_null(kl_arm64_exit_name(KL_ARM64_EXIT_NONTRAP + 2));	/* TRAP: never a non-trap code */
	assert_null(kl_arm64_exit_name(KL_ARM64_EXIT_NONTRAP + 0x100));
	assert_string_equal(kl_exit_cause_name("aarch64", KL_ARM64_EXIT_NONTRAP, buf, sizeof(buf)), "IRQ");
	assert_string_equal(kl_exit_cause_name("arm64", 0x01, buf, sizeof(buf)), "WFx");
	assert_string_equal(kl_exit_cause_name("aarch64", 0x102, buf, sizeof(buf)), "258");
}

static void test_requirements(void **state)
{
	(void)state;
	assert_int_equal(kl_counter_requires(KL_C_DIRTY_PAGES), KL_SIG_BIT(KL_SIG_DIRTY_RING_PUSH));
	assert_int_equal(kl_counter_requires(KL_C_EXITS), KL_SIG_BIT(KL_SIG_KVM_EXIT));
	/* a KVM_RUN starts at sys_enter_ioctl and ends at kvm_userspace_exit */
	assert_int_equal(kl_counter_requires(KL_C_KVM_RUNS),
			 KL_SIG_BIT(KL_SIG_SYS_ENTER_IOCTL) | KL_SIG_BIT(KL_SIG_USERSPACE_EXIT));
	assert_true(kl_counter_requires(KL_C_PRED_VS_ACTUAL) & KL_SIG_BIT(KL_SIG_RISCV_VCPU_LOAD));
	assert_true(kl_hist_requires(KL_H_VCPU_LOAD) == KL_SIG_BIT(KL_SIG_FENTRY_VCPU_LOAD));
	assert_true(kl_hist_arch_ok(KL_H_FAULT, "riscv64"));
	assert_false(kl_hist_arch_ok(KL_H_FAULT, "x86_64"));
	assert_true(kl_hist_arch_ok(KL_H_EXIT, "x86_64"));
}

static void test_small_tables(void **state)
{
	static const char *const hists[] = {
		"fault_latency_ns", "fault_latency_fast_ns", "fault_latency_slow_ns",
		"exit_latency_ns", "vcpu_load_ns", "kvm_run_ns", "offcpu_ns",
	};
	static const char *const drops[] = {
		"vcpu_map_full", "counter_map_full", "reason_map_full", "hist_map_full", "clock_skew",
		"vcpu_slots_full", "reason_slots_full", "hist_slots_full",
	};
	static_assert(sizeof(hists) / sizeof(hists[0]) == KL_H_NR, "hist names");
	static_assert(sizeof(drops) / sizeof(drops[0]) == KL_D_NR, "drop names");

	(void)state;
	for (unsigned int h = 0; h < KL_H_NR; h++)
		assert_string_equal(kl_hist_name(h), hists[h]);
	assert_null(kl_hist_name(KL_H_NR));
	for (unsigned int d = 0; d < KL_D_NR; d++)
		assert_string_equal(kl_drop_name(d), drops[d]);
	assert_null(kl_drop_name(KL_D_NR));
	assert_string_equal(kl_load_reason_name(KL_LOAD_CSR_DIRTY), "csr_dirty");
	assert_null(kl_load_reason_name(KL_LOAD_NR));
	assert_string_equal(kl_fault_reason_name(KL_FAULT_NOT_HOST_WRITABLE), "not_host_writable");
	assert_null(kl_fault_reason_name(KL_FAULT_NR));
	assert_string_equal(kl_pred_name(KL_PRED_MIGRATED), "migrated");
	assert_null(kl_pred_name(KL_PRED_NR));
}

/* Signal names and program names are the bpf/README.md contract. */
static void test_signals(void **state)
{
	static const char *const names[KL_SIG_NR] = {
		"kvm_riscv_vcpu_load", "kvm_riscv_vcpu_put", "kvm_riscv_gstage_fault",
		"kvm_riscv_gstage_pte_update", "kvm_exit", "kvm_entry", "kvm_userspace_exit",
		"kvm_dirty_ring_push", "kvm_fpu", "fast_page_fault", "sched_switch",
		"sys_enter_ioctl", "fentry_vcpu_load",
		"kvm_arm_pkvm_state_sync", "kvm_guest_fault",
	};

	(void)state;
	for (int s = 0; s < KL_SIG_NR; s++) {
		assert_string_equal(kl_signals[s].name, names[s]);
		assert_non_null(kl_signals[s].progs[0]);
		assert_int_equal(strncmp(kl_signals[s].progs[0], "kl_", 3), 0);
		assert_int_equal(kl_signal_by_name(names[s]), s);
	}
	assert_string_equal(kl_signals[KL_SIG_FENTRY_VCPU_LOAD].progs[1], "kl_fexit_vcpu_load");
	assert_string_equal(kl_signals[KL_SIG_SYS_ENTER_IOCTL].hook, "syscalls/sys_enter_ioctl");
	/* no host-wide hook for KVM_RUN's end or for thread exits any more */
	assert_int_equal(kl_signal_by_name("sys_exit_ioctl"), -1);
	assert_int_equal(kl_signal_by_name("sched_process_exit"), -1);
	assert_string_equal(kl_signals[KL_SIG_ARM_PKVM_STATE_SYNC].progs[0], "kl_arm_pkvm_state_sync");
	assert_string_equal(kl_signals[KL_SIG_ARM_GUEST_FAULT].progs[0], "kl_arm_guest_fault");
	assert_int_equal(kl_signals[KL_SIG_ARM_GUEST_FAULT].kind, KL_HOOK_RAW_TP);
	assert_int_equal(kl_signal_by_name("nope"), -1);
}

static void test_riscv_scause(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(kl_riscv_scause_name(23), "STORE_GUEST_PAGE_FAULT");
	assert_string_equal(kl_riscv_scause_name(21), "LOAD_GUEST_PAGE_FAULT");
	assert_string_equal(kl_riscv_scause_name(20), "INST_GUEST_PAGE_FAULT");
	assert_string_equal(kl_riscv_scause_name(22), "VIRTUAL_INST_FAULT");
	assert_string_equal(kl_riscv_scause_name(10), "SUPERVISOR_SYSCALL");
	assert_string_equal(kl_riscv_scause_name((1ULL << 63) | 5), "IRQ_S_TIMER");
	assert_string_equal(kl_riscv_scause_name((1ULL << 63) | 12), "IRQ_S_GEXT");
	assert_null(kl_riscv_scause_name(11));
	assert_null(kl_riscv_scause_name(24));
	assert_null(kl_riscv_scause_name((1ULL << 63) | 4));
	assert_string_equal(kl_exit_cause_name("riscv64", 23, buf, sizeof(buf)), "STORE_GUEST_PAGE_FAULT");
	assert_string_equal(kl_exit_cause_name("riscv64", 99, buf, sizeof(buf)), "99");
	assert_string_equal(kl_exit_cause_name("x86_64", 48, buf, sizeof(buf)), "EPT_VIOLATION");
	assert_string_equal(kl_exit_cause_name("aarch64", 0x24, buf, sizeof(buf)), "DABT_LOW");
	assert_string_equal(kl_exit_cause_name("mips", 3, buf, sizeof(buf)), "3");
}

static void test_kvm_exit_names(void **state)
{
	char buf[32];

	(void)state;
	assert_int_equal(kl_kvm_exit_names_nr, 41);
	assert_string_equal(kl_kvm_exit_name(0), "KVM_EXIT_UNKNOWN");
	assert_string_equal(kl_kvm_exit_name(2), "KVM_EXIT_IO");
	assert_string_equal(kl_kvm_exit_name(6), "KVM_EXIT_MMIO");
	assert_string_equal(kl_kvm_exit_name(31), "KVM_EXIT_DIRTY_RING_FULL");
	assert_string_equal(kl_kvm_exit_name(35), "KVM_EXIT_RISCV_SBI");
	assert_string_equal(kl_kvm_exit_name(36), "KVM_EXIT_RISCV_CSR");
	assert_string_equal(kl_kvm_exit_name(39), "KVM_EXIT_MEMORY_FAULT");
	assert_null(kl_kvm_exit_name(41));
	assert_null(kl_kvm_exit_name(UINT64_MAX));
	for (uint64_t i = 0; i < 41; i++)
		assert_int_equal(strncmp(kl_kvm_exit_name(i), "KVM_EXIT_", 9), 0);
	assert_string_equal(kl_userspace_exit_name(1234, buf, sizeof(buf)), "1234");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counter_names),
		cmocka_unit_test(test_requirements),
		cmocka_unit_test(test_small_tables),
		cmocka_unit_test(test_signals),
		cmocka_unit_test(test_riscv_scause),
		cmocka_unit_test(test_kvm_exit_names),
		cmocka_unit_test(test_pkvm_names),
		cmocka_unit_test(test_arm64_exit_names),
	};

	return cmocka_run_group_tests_name("names", tests, NULL, NULL);
}
