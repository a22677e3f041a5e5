// SPDX-License-Identifier: GPL-2.0-only
/*
 * kl_names.c - JSON names of the collector's indices, the signal table and
 * decoders for kernel exit codes.  Pure: no I/O, linked into unit tests.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "kl_names.h"

#define SIG(s)	KL_SIG_BIT(KL_SIG_##s)
/* Inside KVM_RUN is only known when both ioctl tracepoints are attached. */
#define IN_RUN	(SIG(SYS_ENTER_IOCTL) | SIG(SYS_EXIT_IOCTL))

const struct kl_signal_desc kl_signals[KL_SIG_NR] = {
	[KL_SIG_RISCV_VCPU_LOAD]   = { "kvm_riscv_vcpu_load", KL_HOOK_RAW_TP, "kvm_riscv_vcpu_load", { "kl_riscv_vcpu_load" } },
	[KL_SIG_RISCV_VCPU_PUT]    = { "kvm_riscv_vcpu_put", KL_HOOK_RAW_TP, "kvm_riscv_vcpu_put", { "kl_riscv_vcpu_put" } },
	[KL_SIG_RISCV_GSTAGE_FAULT] = { "kvm_riscv_gstage_fault", KL_HOOK_RAW_TP, "kvm_riscv_gstage_fault", { "kl_riscv_gstage_fault" } },
	[KL_SIG_RISCV_PTE_UPDATE]  = { "kvm_riscv_gstage_pte_update", KL_HOOK_RAW_TP, "kvm_riscv_gstage_pte_update", { "kl_riscv_gstage_pte_update" } },
	[KL_SIG_KVM_EXIT]          = { "kvm_exit", KL_HOOK_RAW_TP, "kvm_exit", { "kl_kvm_exit" } },
	[KL_SIG_KVM_ENTRY]         = { "kvm_entry", KL_HOOK_RAW_TP, "kvm_entry", { "kl_kvm_entry" } },
	[KL_SIG_USERSPACE_EXIT]    = { "kvm_userspace_exit", KL_HOOK_RAW_TP, "kvm_userspace_exit", { "kl_kvm_userspace_exit" } },
	[KL_SIG_DIRTY_RING_PUSH]   = { "kvm_dirty_ring_push", KL_HOOK_RAW_TP, "kvm_dirty_ring_push", { "kl_kvm_dirty_ring_push" } },
	[KL_SIG_FPU]               = { "kvm_fpu", KL_HOOK_RAW_TP, "kvm_fpu", { "kl_kvm_fpu" } },
	[KL_SIG_FAST_PAGE_FAULT]   = { "fast_page_fault", KL_HOOK_RAW_TP, "fast_page_fault", { "kl_fast_page_fault" } },
	[KL_SIG_SCHED_SWITCH]      = { "sched_switch", KL_HOOK_RAW_TP, "sched_switch", { "kl_sched_switch" } },
	[KL_SIG_SYS_ENTER_IOCTL]   = { "sys_enter_ioctl", KL_HOOK_TP, "syscalls/sys_enter_ioctl", { "kl_sys_enter_ioctl" } },
	[KL_SIG_SYS_EXIT_IOCTL]    = { "sys_exit_ioctl", KL_HOOK_TP, "syscalls/sys_exit_ioctl", { "kl_sys_exit_ioctl" } },
	[KL_SIG_PROCESS_EXIT]      = { "sched_process_exit", KL_HOOK_RAW_TP, "sched_process_exit", { "kl_sched_process_exit" } },
	[KL_SIG_FENTRY_VCPU_LOAD]  = { "fentry_vcpu_load", KL_HOOK_FENTRY, "kvm_arch_vcpu_load", { "kl_fentry_vcpu_load", "kl_fexit_vcpu_load" } },
	[KL_SIG_ARM_PKVM_STATE_SYNC] = { "kvm_arm_pkvm_state_sync", KL_HOOK_RAW_TP, "kvm_arm_pkvm_state_sync", { "kl_arm_pkvm_state_sync" } },
	[KL_SIG_ARM_GUEST_FAULT]   = { "kvm_guest_fault", KL_HOOK_RAW_TP, "kvm_guest_fault", { "kl_arm_guest_fault" } },
};

int kl_signal_by_name(const char *name)
{
	for (int i = 0; i < KL_SIG_NR; i++)
		if (!strcmp(kl_signals[i].name, name))
			return i;
	return -1;
}

static const char *const load_reason_names[] = {
	[KL_LOAD_FAST] = "fast", [KL_LOAD_FIRST_LOAD] = "first_load",
	[KL_LOAD_OTHER_PCPU] = "other_pcpu", [KL_LOAD_CSR_DIRTY] = "csr_dirty",
	[KL_LOAD_CPU_RESET] = "cpu_reset", [KL_LOAD_OTHER_VCPU] = "other_vcpu",
};
static_assert(KL_ARRAY_SIZE(load_reason_names) == KL_LOAD_NR, "load reasons");

static const char *const fault_reason_names[] = {
	[KL_FAULT_FAST] = "fast", [KL_FAULT_SPURIOUS] = "spurious",
	[KL_FAULT_NOT_WRITE] = "not_write", [KL_FAULT_NOT_LOGGING] = "not_logging",
	[KL_FAULT_NO_LEAF] = "no_leaf", [KL_FAULT_HUGE_LEAF] = "huge_leaf",
	[KL_FAULT_NOT_HOST_WRITABLE] = "not_host_writable",
	[KL_FAULT_INVAL_RETRY] = "inval_retry", [KL_FAULT_PTE_CHANGED] = "pte_changed",
	[KL_FAULT_RETRY_LIMIT] = "retry_limit",
};
static_assert(KL_ARRAY_SIZE(fault_reason_names) == KL_FAULT_NR, "fault reasons");

static const char *const pred_names[] = {
	[KL_PRED_SAME_CPU] = "same_cpu", [KL_PRED_MIGRATED] = "migrated",
	[KL_PRED_OTHER_VCPU] = "other_vcpu",
};
static_assert(KL_ARRAY_SIZE(pred_names) == KL_PRED_NR, "predictions");

static const char *const drop_names[] = {
	[KL_D_VCPU_MAP_FULL] = "vcpu_map_full", [KL_D_COUNTER_MAP_FULL] = "counter_map_full",
	[KL_D_REASON_MAP_FULL] = "reason_map_full", [KL_D_HIST_MAP_FULL] = "hist_map_full",
	[KL_D_CLOCK_SKEW] = "clock_skew",
};
static_assert(KL_ARRAY_SIZE(drop_names) == KL_D_NR, "drops");

static const char *const pkvm_dir_names[] = {
	[KL_PKVM_TO_HYP] = "to_hyp", [KL_PKVM_TO_HOST] = "to_host",
};
static_assert(KL_ARRAY_SIZE(pkvm_dir_names) == KL_PKVM_DIR_NR, "pKVM directions");

static const char *const pkvm_reason_names[] = {
	[KL_PKVM_FLUSH_DIRTY] = "flush_dirty", [KL_PKVM_SYNC_TRAP] = "sync_trap",
	[KL_PKVM_SYNC_SERROR] = "sync_serror", [KL_PKVM_SYNC_EXIT] = "sync_exit",
	[KL_PKVM_SYNC_DEBUG] = "sync_debug", [KL_PKVM_SYNC_PUT] = "sync_put",
	[KL_PKVM_SYNC_ADJUST_PC] = "sync_adjust_pc", [KL_PKVM_SKIP_HYP_CURRENT] = "skip_hyp_current",
	[KL_PKVM_SKIP_IRQ] = "skip_irq", [KL_PKVM_SKIP_HOST_CURRENT] = "skip_host_current",
};
static_assert(KL_ARRAY_SIZE(pkvm_reason_names) == KL_PKVM_REASON_NR, "pKVM reasons");

static const char *const gf_access_names[] = {
	[KL_GF_READ] = "read", [KL_GF_WRITE] = "write", [KL_GF_EXEC] = "exec",
};
static_assert(KL_ARRAY_SIZE(gf_access_names) == KL_GF_ACCESS_NR, "guest fault access");

static const char *const gf_status_names[] = {
	[KL_GF_TRANSLATION] = "translation", [KL_GF_ACCESS_FLAG] = "access_flag",
	[KL_GF_PERMISSION] = "permission", [KL_GF_OTHER_STATUS] = "other_status",
};
static_assert(KL_ARRAY_SIZE(gf_status_names) == KL_GF_STATUS_NR, "guest fault status");

struct counter_desc {
	const char *name;
	uint32_t requires;
};

#define LOAD(r, n) [KL_C_VCPU_LOAD + KL_LOAD_##r] = { "vcpu_load_" n, SIG(RISCV_VCPU_LOAD) }
#define FAULT(r, n) [KL_C_GSTAGE_FAULT + KL_FAULT_##r] = { "gstage_fault_" n, SIG(RISCV_GSTAGE_FAULT) }
#define PTE(i, n) [i] = { "pte_update_" n, SIG(RISCV_PTE_UPDATE) }
#define SYNC(d, r) [KL_C_PKVM_SYNC + KL_PKVM_##d * KL_PKVM_REASON_NR + KL_PKVM_##r] = \
	{ "pkvm_sync_" KL_STR_##d "_" KL_STR_##r, SIG(ARM_PKVM_STATE_SYNC) }
#define KL_STR_TO_HYP "to_hyp"
#define KL_STR_TO_HOST "to_host"
#define KL_STR_FLUSH_DIRTY "flush_dirty"
#define KL_STR_SYNC_TRAP "sync_trap"
#define KL_STR_SYNC_SERROR "sync_serror"
#define KL_STR_SYNC_EXIT "sync_exit"
#define KL_STR_SYNC_DEBUG "sync_debug"
#define KL_STR_SYNC_PUT "sync_put"
#define KL_STR_SYNC_ADJUST_PC "sync_adjust_pc"
#define KL_STR_SKIP_HYP_CURRENT "skip_hyp_current"
#define KL_STR_SKIP_IRQ "skip_irq"
#define KL_STR_SKIP_HOST_CURRENT "skip_host_current"
#define GFA(a, n) [KL_C_GUEST_FAULT_ACCESS + KL_GF_##a] = { "guest_fault_" n, SIG(ARM_GUEST_FAULT) }
#define GFS(st, n) [KL_C_GUEST_FAULT_STATUS + KL_GF_##st] = { "guest_fault_" n, SIG(ARM_GUEST_FAULT) }

/*
 * Every plain counter, indexed by enum kl_counter (the prediction-vs-actual
 * matrix after KL_C_PRED_VS_ACTUAL is reported under "prediction").  The
 * pKVM direction x reason pairs that the series never emits have no entry
 * (name NULL): they are only reported in "pkvm_state_sync", when seen.
 */
static const struct counter_desc counter_descs[] = {
	[KL_C_KVM_RUNS]         = { "kvm_runs", IN_RUN },
	[KL_C_USERSPACE_EXITS]  = { "userspace_exits", SIG(USERSPACE_EXIT) },
	[KL_C_DIRTY_PAGES]      = { "dirty_pages", SIG(DIRTY_RING_PUSH) },
	[KL_C_PREEMPTIONS]      = { "preemptions", SIG(SCHED_SWITCH) | IN_RUN },
	[KL_C_SCHED_OUT]        = { "sched_out", SIG(SCHED_SWITCH) | IN_RUN },
	[KL_C_PRED + KL_PRED_SAME_CPU]   = { "reload_pred_same_cpu", SIG(SCHED_SWITCH) | IN_RUN },
	[KL_C_PRED + KL_PRED_MIGRATED]   = { "reload_pred_migrated", SIG(SCHED_SWITCH) | IN_RUN },
	[KL_C_PRED + KL_PRED_OTHER_VCPU] = { "reload_pred_other_vcpu", SIG(SCHED_SWITCH) | IN_RUN },
	[KL_C_EXITS]            = { "exits", SIG(KVM_EXIT) },
	[KL_C_FAST_PAGE_FAULTS] = { "fast_page_faults", SIG(FAST_PAGE_FAULT) },
	[KL_C_FPU_LOADS]        = { "fpu_loads", SIG(FPU) },
	LOAD(FAST, "fast"), LOAD(FIRST_LOAD, "first_load"), LOAD(OTHER_PCPU, "other_pcpu"),
	LOAD(CSR_DIRTY, "csr_dirty"), LOAD(CPU_RESET, "cpu_reset"), LOAD(OTHER_VCPU, "other_vcpu"),
	[KL_C_VCPU_PUT]         = { "vcpu_put", SIG(RISCV_VCPU_PUT) },
	FAULT(FAST, "fast"), FAULT(SPURIOUS, "spurious"), FAULT(NOT_WRITE, "not_write"),
	FAULT(NOT_LOGGING, "not_logging"), FAULT(NO_LEAF, "no_leaf"), FAULT(HUGE_LEAF, "huge_leaf"),
	FAULT(NOT_HOST_WRITABLE, "not_host_writable"), FAULT(INVAL_RETRY, "inval_retry"),
	FAULT(PTE_CHANGED, "pte_changed"), FAULT(RETRY_LIMIT, "retry_limit"),
	PTE(KL_C_PTE_UPDATE_EVENTS, "events"), PTE(KL_C_PTE_UPDATE_RETRIES, "retries"),
	PTE(KL_C_PTE_OP + KL_PTE_OP_MKWRITE, "mkwrite"), PTE(KL_C_PTE_OP + KL_PTE_OP_WRPROTECT, "wrprotect"),
	PTE(KL_C_PTE_OUTCOME + KL_PTE_UPDATED, "updated"), PTE(KL_C_PTE_OUTCOME + KL_PTE_NOOP, "noop"),
	PTE(KL_C_PTE_OUTCOME + KL_PTE_ABORT_NOT_LEAF, "abort_not_leaf"),
	PTE(KL_C_PTE_OUTCOME + KL_PTE_ABORT_RETRIES, "abort_retries"),
	/* the pairs the series emits; the others have no JSON name */
	SYNC(TO_HYP, FLUSH_DIRTY), SYNC(TO_HYP, SKIP_HYP_CURRENT),
	SYNC(TO_HOST, SYNC_TRAP), SYNC(TO_HOST, SYNC_SERROR), SYNC(TO_HOST, SYNC_EXIT),
	SYNC(TO_HOST, SYNC_DEBUG), SYNC(TO_HOST, SYNC_PUT), SYNC(TO_HOST, SYNC_ADJUST_PC),
	SYNC(TO_HOST, SKIP_IRQ), SYNC(TO_HOST, SKIP_HOST_CURRENT),
	GFA(READ, "read"), GFA(WRITE, "write"), GFA(EXEC, "exec"),
	GFS(TRANSLATION, "translation"), GFS(ACCESS_FLAG, "access_flag"),
	GFS(PERMISSION, "permission"), GFS(OTHER_STATUS, "other_status"),
};
static_assert(KL_ARRAY_SIZE(counter_descs) == KL_C_PRED_VS_ACTUAL,
	      "every counter before the prediction matrix needs a JSON name");
const size_t kl_counter_names_nr = KL_ARRAY_SIZE(counter_descs);

const char *kl_counter_name(unsigned int i)
{
	return i < KL_ARRAY_SIZE(counter_descs) ? counter_descs[i].name : NULL;
}

uint32_t kl_counter_requires(unsigned int i)
{
	if (i >= KL_C_PKVM_SYNC && i < KL_C_PKVM_SYNC + KL_PKVM_DIR_NR * KL_PKVM_REASON_NR)
		return SIG(ARM_PKVM_STATE_SYNC);	/* named or not */
	if (i < KL_ARRAY_SIZE(counter_descs))
		return counter_descs[i].requires;
	if (i < KL_C_NR)	/* prediction vs actual */
		return SIG(SCHED_SWITCH) | IN_RUN | SIG(RISCV_VCPU_LOAD);
	return KL_SIG_ALL;
}

const char *kl_load_reason_name(unsigned int r)
{
	return r < KL_LOAD_NR ? load_reason_names[r] : NULL;
}

const char *kl_fault_reason_name(unsigned int r)
{
	return r < KL_FAULT_NR ? fault_reason_names[r] : NULL;
}

const char *kl_pred_name(unsigned int p)
{
	return p < KL_PRED_NR ? pred_names[p] : NULL;
}

const char *kl_drop_name(unsigned int d)
{
	return d < KL_D_NR ? drop_names[d] : NULL;
}

const char *kl_pkvm_dir_name(unsigned int d)
{
	return d < KL_PKVM_DIR_NR ? pkvm_dir_names[d] : NULL;
}

const char *kl_pkvm_reason_name(unsigned int r)
{
	return r < KL_PKVM_REASON_NR ? pkvm_reason_names[r] : NULL;
}

bool kl_pkvm_reason_is_skip(unsigned int r)
{
	return r == KL_PKVM_SKIP_HYP_CURRENT || r == KL_PKVM_SKIP_IRQ || r == KL_PKVM_SKIP_HOST_CURRENT;
}

bool kl_pkvm_reason_expected(unsigned int d, unsigned int r)
{
	if (d == KL_PKVM_TO_HYP)
		return r == KL_PKVM_FLUSH_DIRTY || r == KL_PKVM_SKIP_HYP_CURRENT;
	return d == KL_PKVM_TO_HOST && r < KL_PKVM_REASON_NR &&
	       r != KL_PKVM_FLUSH_DIRTY && r != KL_PKVM_SKIP_HYP_CURRENT;
}

const char *kl_guest_fault_access_name(unsigned int a)
{
	return a < KL_GF_ACCESS_NR ? gf_access_names[a] : NULL;
}

const char *kl_guest_fault_status_name(unsigned int st)
{
	return st < KL_GF_STATUS_NR ? gf_status_names[st] : NULL;
}

static const struct counter_desc hist_descs[] = {
	[KL_H_FAULT]      = { "fault_latency_ns", SIG(KVM_EXIT) | SIG(KVM_ENTRY) },
	[KL_H_FAULT_FAST] = { "fault_latency_fast_ns", SIG(KVM_EXIT) | SIG(KVM_ENTRY) | SIG(RISCV_GSTAGE_FAULT) },
	[KL_H_FAULT_SLOW] = { "fault_latency_slow_ns", SIG(KVM_EXIT) | SIG(KVM_ENTRY) | SIG(RISCV_GSTAGE_FAULT) },
	[KL_H_EXIT]       = { "exit_latency_ns", SIG(KVM_EXIT) | SIG(KVM_ENTRY) },
	[KL_H_VCPU_LOAD]  = { "vcpu_load_ns", SIG(FENTRY_VCPU_LOAD) },
	[KL_H_KVM_RUN]    = { "kvm_run_ns", IN_RUN },
	[KL_H_OFFCPU]     = { "offcpu_ns", SIG(SCHED_SWITCH) | IN_RUN },
};
static_assert(KL_ARRAY_SIZE(hist_descs) == KL_H_NR, "histogram names");

const char *kl_hist_name(unsigned int h)
{
	return h < KL_H_NR ? hist_descs[h].name : NULL;
}

uint32_t kl_hist_requires(unsigned int h)
{
	return h < KL_H_NR ? hist_descs[h].requires : KL_SIG_ALL;
}

/*
 * fault_latency_* is defined on RISC-V store guest-page faults (scause 23,
 * bpf/README.md); other architectures never feed it, so it is reported as
 * unavailable there rather than as an empty histogram.
 */
bool kl_hist_arch_ok(unsigned int h, const char *arch)
{
	if (h == KL_H_FAULT || h == KL_H_FAULT_FAST || h == KL_H_FAULT_SLOW)
		return arch && !strcmp(arch, "riscv64");
	return h < KL_H_NR;
}

static const char *const kvm_exit_names[] = {
	"KVM_EXIT_UNKNOWN", "KVM_EXIT_EXCEPTION", "KVM_EXIT_IO", "KVM_EXIT_HYPERCALL",
	"KVM_EXIT_DEBUG", "KVM_EXIT_HLT", "KVM_EXIT_MMIO", "KVM_EXIT_IRQ_WINDOW_OPEN",
	"KVM_EXIT_SHUTDOWN", "KVM_EXIT_FAIL_ENTRY", "KVM_EXIT_INTR", "KVM_EXIT_SET_TPR",
	"KVM_EXIT_TPR_ACCESS", "KVM_EXIT_S390_SIEIC", "KVM_EXIT_S390_RESET", "KVM_EXIT_DCR",
	"KVM_EXIT_NMI", "KVM_EXIT_INTERNAL_ERROR", "KVM_EXIT_OSI", "KVM_EXIT_PAPR_HCALL",
	"KVM_EXIT_S390_UCONTROL", "KVM_EXIT_WATCHDOG", "KVM_EXIT_S390_TSCH", "KVM_EXIT_EPR",
	"KVM_EXIT_SYSTEM_EVENT", "KVM_EXIT_S390_STSI", "KVM_EXIT_IOAPIC_EOI", "KVM_EXIT_HYPERV",
	"KVM_EXIT_ARM_NISV", "KVM_EXIT_X86_RDMSR", "KVM_EXIT_X86_WRMSR", "KVM_EXIT_DIRTY_RING_FULL",
	"KVM_EXIT_AP_RESET_HOLD", "KVM_EXIT_X86_BUS_LOCK", "KVM_EXIT_XEN", "KVM_EXIT_RISCV_SBI",
	"KVM_EXIT_RISCV_CSR", "KVM_EXIT_NOTIFY", "KVM_EXIT_LOONGARCH_IOCSR", "KVM_EXIT_MEMORY_FAULT",
	"KVM_EXIT_TDX",
};
static_assert(KL_ARRAY_SIZE(kvm_exit_names) == 41, "KVM_EXIT_* 0..40");
const size_t kl_kvm_exit_names_nr = KL_ARRAY_SIZE(kvm_exit_names);

const char *kl_kvm_exit_name(uint64_t code)
{
	return code < KL_ARRAY_SIZE(kvm_exit_names) ? kvm_exit_names[code] : NULL;
}

static const char *const riscv_exc_names[] = {
	[0] = "INST_MISALIGNED", [1] = "INST_ACCESS", [2] = "INST_ILLEGAL",
	[3] = "BREAKPOINT", [4] = "LOAD_MISALIGNED", [5] = "LOAD_ACCESS",
	[6] = "STORE_MISALIGNED", [7] = "STORE_ACCESS", [8] = "SYSCALL",
	[9] = "HYPERVISOR_SYSCALL", [10] = "SUPERVISOR_SYSCALL",
	[12] = "INST_PAGE_FAULT", [13] = "LOAD_PAGE_FAULT", [15] = "STORE_PAGE_FAULT",
	[20] = "INST_GUEST_PAGE_FAULT", [21] = "LOAD_GUEST_PAGE_FAULT",
	[22] = "VIRTUAL_INST_FAULT", [23] = "STORE_GUEST_PAGE_FAULT",
};

static const char *const riscv_irq_names[] = {
	[1] = "IRQ_S_SOFT", [2] = "IRQ_VS_SOFT", [3] = "IRQ_M_SOFT",
	[5] = "IRQ_S_TIMER", [6] = "IRQ_VS_TIMER", [7] = "IRQ_M_TIMER",
	[9] = "IRQ_S_EXT", [10] = "IRQ_VS_EXT", [11] = "IRQ_M_EXT",
	[12] = "IRQ_S_GEXT", [13] = "IRQ_PMU_OVF",
};

const char *kl_riscv_scause_name(uint64_t scause)
{
	uint64_t cause = scause & ~(1ULL << 63);

	if (scause >> 63)
		return cause < KL_ARRAY_SIZE(riscv_irq_names) ? riscv_irq_names[cause] : NULL;
	return cause < KL_ARRAY_SIZE(riscv_exc_names) ? riscv_exc_names[cause] : NULL;
}

static const char *const vmx_names[] = {
	[0] = "EXCEPTION_NMI", [1] = "EXTERNAL_INTERRUPT", [2] = "TRIPLE_FAULT",
	[3] = "INIT_SIGNAL", [4] = "SIPI_SIGNAL", [7] = "INTERRUPT_WINDOW",
	[8] = "NMI_WINDOW", [9] = "TASK_SWITCH", [10] = "CPUID", [12] = "HLT",
	[13] = "INVD", [14] = "INVLPG", [15] = "RDPMC", [16] = "RDTSC",
	[18] = "VMCALL", [19] = "VMCLEAR", [20] = "VMLAUNCH", [21] = "VMPTRLD",
	[22] = "VMPTRST", [23] = "VMREAD", [24] = "VMRESUME", [25] = "VMWRITE",
	[26] = "VMOFF", [27] = "VMON", [28] = "CR_ACCESS", [29] = "DR_ACCESS",
	[30] = "IO_INSTRUCTION", [31] = "MSR_READ", [32] = "MSR_WRITE",
	[33] = "INVALID_STATE", [34] = "MSR_LOAD_FAIL", [36] = "MWAIT_INSTRUCTION",
	[37] = "MONITOR_TRAP_FLAG", [39] = "MONITOR_INSTRUCTION",
	[40] = "PAUSE_INSTRUCTION", [41] = "MCE_DURING_VMENTRY",
	[43] = "TPR_BELOW_THRESHOLD", [44] = "APIC_ACCESS", [45] = "EOI_INDUCED",
	[46] = "GDTR_IDTR", [47] = "LDTR_TR", [48] = "EPT_VIOLATION",
	[49] = "EPT_MISCONFIG", [50] = "INVEPT", [51] = "RDTSCP",
	[52] = "PREEMPTION_TIMER", [53] = "INVVPID", [54] = "WBINVD", [55] = "XSETBV",
	[56] = "APIC_WRITE", [57] = "RDRAND", [58] = "INVPCID", [59] = "VMFUNC",
	[60] = "ENCLS", [61] = "RDSEED", [62] = "PML_FULL", [63] = "XSAVES",
	[64] = "XRSTORS", [67] = "UMWAIT", [68] = "TPAUSE", [74] = "BUS_LOCK",
	[75] = "NOTIFY",
};

const char *kl_x86_exit_name(uint64_t code)
{
	return code < KL_ARRAY_SIZE(vmx_names) ? vmx_names[code] : NULL;
}

/* ESR_ELx_EC_* of arch/arm64/include/asm/esr.h (6.12) */
static const char *const arm64_ec_names[] = {
	[0x00] = "UNKNOWN", [0x01] = "WFx", [0x03] = "CP15_32", [0x04] = "CP15_64",
	[0x05] = "CP14_MR", [0x06] = "CP14_LS", [0x07] = "FP_ASIMD", [0x08] = "CP10_ID",
	[0x09] = "PAC", [0x0c] = "CP14_64", [0x0d] = "BTI",
	[0x0e] = "ILL", [0x11] = "SVC32", [0x12] = "HVC32", [0x13] = "SMC32",
	[0x15] = "SVC64", [0x16] = "HVC64", [0x17] = "SMC64", [0x18] = "SYS64",
	[0x19] = "SVE", [0x1a] = "ERET", [0x1c] = "FPAC", [0x1d] = "SME",
	[0x1f] = "IMP_DEF", [0x20] = "IABT_LOW", [0x21] = "IABT_CUR",
	[0x22] = "PC_ALIGN", [0x24] = "DABT_LOW", [0x25] = "DABT_CUR",
	[0x26] = "SP_ALIGN", [0x27] = "MOPS", [0x28] = "FP_EXC32", [0x2c] = "FP_EXC64",
	[0x2f] = "SERROR", [0x30] = "BREAKPT_LOW", [0x31] = "BREAKPT_CUR",
	[0x32] = "SOFTSTP_LOW", [0x33] = "SOFTSTP_CUR", [0x34] = "WATCHPT_LOW",
	[0x35] = "WATCHPT_CUR", [0x38] = "BKPT32", [0x3a] = "VECTOR32", [0x3c] = "BRK64",
};

const char *kl_arm64_ec_name(uint64_t ec)
{
	return ec < KL_ARRAY_SIZE(arm64_ec_names) ? arm64_ec_names[ec] : NULL;
}

/* Exits that are no trap: KL_ARM64_EXIT_NONTRAP + ARM_EXCEPTION_* code. */
static const char *const arm64_nontrap_names[] = {
	[0] = "IRQ", [1] = "EL1_SERROR", [3] = "IL", [0xff] = "HYP_GONE",
};

const char *kl_arm64_exit_name(uint64_t code)
{
	if (code < KL_ARM64_EXIT_NONTRAP)
		return kl_arm64_ec_name(code);
	code -= KL_ARM64_EXIT_NONTRAP;
	return code < KL_ARRAY_SIZE(arm64_nontrap_names) ? arm64_nontrap_names[code] : NULL;
}

const char *kl_exit_cause_name(const char *arch, uint64_t code, char *buf, size_t len)
{
	const char *n = NULL;

	if (arch && !strcmp(arch, "riscv64"))
		n = kl_riscv_scause_name(code);
	else if (arch && !strcmp(arch, "x86_64"))
		n = kl_x86_exit_name(code);
	else if (arch && (!strcmp(arch, "aarch64") || !strcmp(arch, "arm64")))
		n = kl_arm64_exit_name(code);
	if (n)
		return n;
	snprintf(buf, len, "%" PRIu64, code);
	return buf;
}

const char *kl_userspace_exit_name(uint64_t code, char *buf, size_t len)
{
	const char *n = kl_kvm_exit_name(code);

	if (n)
		return n;
	snprintf(buf, len, "%" PRIu64, code);
	return buf;
}
