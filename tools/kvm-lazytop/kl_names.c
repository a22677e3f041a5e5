// SPDX-License-Identifier: GPL-2.0-only
/*
 * kl_names.c - JSON names of the collector's indices, the signal table and
 * decoders for kernel exit codes.  Pure: no I/O, linked into unit tests.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "kl_kvmstats.h"
#include "kl_names.h"

#define SIG(s)	KL_SIG_BIT(KL_SIG_##s)
/*
 * Inside KVM_RUN is only known when its start (sys_enter_ioctl) and its
 * end (kvm_userspace_exit) are both attached.
 */
#define IN_RUN	(SIG(SYS_ENTER_IOCTL) | SIG(USERSPACE_EXIT))

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

/* The JSON name of each line of a list of bpf/kvm_lazytop.h, by index. */
#define NAME_ITEM(ctx, p, e, n, ...)	[KL_##p##_##e] = n,

static const char *const load_reason_names[] = { KL_LOAD_REASONS(NAME_ITEM, _) };
static_assert(KL_ARRAY_SIZE(load_reason_names) == KL_LOAD_NR, "load reasons");

static const char *const fault_reason_names[] = { KL_FAULT_REASONS(NAME_ITEM, _) };
static_assert(KL_ARRAY_SIZE(fault_reason_names) == KL_FAULT_NR, "fault reasons");

static const char *const pred_names[] = { KL_RELOAD_PREDS(NAME_ITEM, _) };
static_assert(KL_ARRAY_SIZE(pred_names) == KL_PRED_NR, "predictions");

static const char *const drop_names[] = { KL_DROPS(NAME_ITEM, _) };
static_assert(KL_ARRAY_SIZE(drop_names) == KL_D_NR, "drops");

static const char *const pkvm_dir_names[] = { KL_PKVM_DIRS(NAME_ITEM, _) };
static_assert(KL_ARRAY_SIZE(pkvm_dir_names) == KL_PKVM_DIR_NR, "pKVM directions");

static const char *const pkvm_reason_names[] = { KL_PKVM_REASONS(NAME_ITEM, _) };
static_assert(KL_ARRAY_SIZE(pkvm_reason_names) == KL_PKVM_REASON_NR, "pKVM reasons");

/* The direction the series emits each pKVM reason in; FAST: a skip_*. */
#define DIR_ITEM(ctx, p, e, n, path, dir)	[KL_PKVM_##e] = KL_PKVM_##dir,
static const unsigned char pkvm_reason_dir[] = { KL_PKVM_REASONS(DIR_ITEM, _) };
#define SKIP_ITEM(ctx, p, e, n, path, dir)	KL_IF_FAST_##path([KL_PKVM_##e] = true,)
static const bool pkvm_reason_skip[KL_PKVM_REASON_NR] = { KL_PKVM_REASONS(SKIP_ITEM, _) };

static const char *const gf_access_names[] = { KL_GF_ACCESSES(NAME_ITEM, _) };
static_assert(KL_ARRAY_SIZE(gf_access_names) == KL_GF_ACCESS_NR, "guest fault access");

static const char *const gf_status_names[] = { KL_GF_STATUSES(NAME_ITEM, _) };
static_assert(KL_ARRAY_SIZE(gf_status_names) == KL_GF_STATUS_NR, "guest fault status");

struct counter_desc {
	const char *name;
	uint32_t requires;
};

#define ONE(e, n, req)			[KL_C_##e] = { n, req },
#define GROUP(e, pfx, list, req)	list(GROUP_ITEM, e, pfx, req)
#define GROUP_ITEM(g, pfx, req, p, e, n, ...) [KL_C_##g + KL_##p##_##e] = { pfx n, req },
#define SYNC(e, req)			KL_PKVM_SYNC_NAMES(SYNC_ITEM, req)
#define SYNC_ITEM(req, n, path, d, e) \
	[KL_C_PKVM_SYNC + KL_PKVM_##d * KL_PKVM_REASON_NR + KL_PKVM_##e] = { n, req },

/*
 * Every plain counter, indexed by enum kl_counter (the prediction-vs-actual
 * matrix after KL_C_PRED_VS_ACTUAL is reported under "prediction").  The
 * pKVM direction x reason pairs that the series never emits have no entry
 * (name NULL): they are only reported in "pkvm_state_sync", when seen.
 */
static const struct counter_desc counter_descs[] = {
	KL_COUNTER_LAYOUT(ONE, GROUP, SYNC)
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
	return r < KL_PKVM_REASON_NR && pkvm_reason_skip[r];
}

bool kl_pkvm_reason_expected(unsigned int d, unsigned int r)
{
	return r < KL_PKVM_REASON_NR && pkvm_reason_dir[r] == d;
}

const char *kl_guest_fault_access_name(unsigned int a)
{
	return a < KL_GF_ACCESS_NR ? gf_access_names[a] : NULL;
}

const char *kl_guest_fault_status_name(unsigned int st)
{
	return st < KL_GF_STATUS_NR ? gf_status_names[st] : NULL;
}

static const char *const hist_names[] = { KL_HISTS(NAME_ITEM, _) };
static_assert(KL_ARRAY_SIZE(hist_names) == KL_H_NR, "histogram names");

static const uint32_t hist_requires[KL_H_NR] = {
	[KL_H_FAULT]      = SIG(KVM_EXIT) | SIG(KVM_ENTRY),
	[KL_H_FAULT_FAST] = SIG(KVM_EXIT) | SIG(KVM_ENTRY) | SIG(RISCV_GSTAGE_FAULT),
	[KL_H_FAULT_SLOW] = SIG(KVM_EXIT) | SIG(KVM_ENTRY) | SIG(RISCV_GSTAGE_FAULT),
	[KL_H_EXIT]       = SIG(KVM_EXIT) | SIG(KVM_ENTRY),
	[KL_H_VCPU_LOAD]  = SIG(FENTRY_VCPU_LOAD),
	[KL_H_KVM_RUN]    = IN_RUN,
	[KL_H_OFFCPU]     = SIG(SCHED_SWITCH) | IN_RUN,
};

const char *kl_hist_name(unsigned int h)
{
	return h < KL_H_NR ? hist_names[h] : NULL;
}

uint32_t kl_hist_requires(unsigned int h)
{
	return h < KL_H_NR ? hist_requires[h] : KL_SIG_ALL;
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

/* KVM's own vCPU stats kvm-lazytop reads (kl_kvmstats.h): debugfs / JSON names. */
const char *const kl_kstat_names[KL_KS_NR] = {
	[KL_KS_VCPU_LOAD_FAST] = "vcpu_load_fast",
	[KL_KS_VCPU_LOAD_SLOW] = "vcpu_load_slow",
	[KL_KS_GSTAGE_FAULT_FAST] = "gstage_fault_fast",
	[KL_KS_GSTAGE_FAULT_SLOW] = "gstage_fault_slow",
	[KL_KS_GSTAGE_FAULT_NOT_HOST_WRITABLE] = "gstage_fault_not_host_writable",
};
