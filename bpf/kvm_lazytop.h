/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * kvm_lazytop.h - types shared by the BPF programs and the collector.
 *
 * CONTRACT: bpf/README.md defines the map names, program names, SEC()s and
 * semantics that bpf/ and tools/kvm-lazytop/ both code against. Read it.
 *
 * Everything here is plain C that compiles both with clang -target bpf and
 * with the host C compiler: fixed-width integers, no pointers, no padding
 * holes (every struct is a multiple of 8 bytes and fields are ordered by
 * size).  Userspace must not depend on the numeric value of any kernel
 * enum; the BPF side translates kernel values (read with CO-RE enum
 * relocations) into the indices defined here.
 */
#ifndef __KVM_LAZYTOP_H
#define __KVM_LAZYTOP_H

#define KL_SCHEMA_VERSION	"1.1"

/* Log-linear latency histogram, see bpf/kl_hist.h for the math. */
#define KL_HIST_SUB_BITS	3
#define KL_HIST_SUB		(1 << KL_HIST_SUB_BITS)	/* sub-buckets per 2^n */
#define KL_HIST_MAX_POW		40			/* values >= 2^41 clamp */
#define KL_HIST_BUCKETS		((KL_HIST_MAX_POW - KL_HIST_SUB_BITS + 2) * KL_HIST_SUB)

/* Map sizes; userspace may resize them before load. */
#define KL_MAX_VCPU_THREADS	65536
#define KL_MAX_COUNTER_KEYS	65536
#define KL_MAX_REASON_KEYS	16384
#define KL_MAX_HIST_KEYS	8192
#define KL_MAX_CPUS		1024

/* Reason index for "no vCPU id known yet". */
#define KL_VCPU_UNKNOWN		(-1)

/*
 * Per-vCPU counters.  The JSON name of each one is in kl_names.c; the
 * per-reason groups follow the order of the kernel series' enums, so
 * KL_C_VCPU_LOAD + reason_index is the counter for that reason.
 */
enum kl_vcpu_load_reason {
	KL_LOAD_FAST,
	KL_LOAD_FIRST_LOAD,
	KL_LOAD_OTHER_PCPU,
	KL_LOAD_CSR_DIRTY,
	KL_LOAD_CPU_RESET,
	KL_LOAD_OTHER_VCPU,
	KL_LOAD_NR,
};

enum kl_gstage_fault_reason {
	KL_FAULT_FAST,
	KL_FAULT_SPURIOUS,
	KL_FAULT_NOT_WRITE,
	KL_FAULT_NOT_LOGGING,
	KL_FAULT_NO_LEAF,
	KL_FAULT_HUGE_LEAF,
	KL_FAULT_NOT_HOST_WRITABLE,
	KL_FAULT_INVAL_RETRY,
	KL_FAULT_PTE_CHANGED,
	KL_FAULT_RETRY_LIMIT,
	KL_FAULT_NR,
};

enum kl_pte_op {
	KL_PTE_OP_MKWRITE,
	KL_PTE_OP_WRPROTECT,
	KL_PTE_OP_NR,
};

enum kl_pte_outcome {
	KL_PTE_UPDATED,
	KL_PTE_NOOP,
	KL_PTE_ABORT_NOT_LEAF,
	KL_PTE_ABORT_RETRIES,
	KL_PTE_OUTCOME_NR,
};

/*
 * arm64 pKVM: direction x reason of the kvm_arm_pkvm_state_sync
 * tracepoint (kernel/patches/arm64/0003), in the order of the series'
 * enum kvm_pkvm_state_dir / enum kvm_pkvm_state_reason.
 */
enum kl_pkvm_dir {
	KL_PKVM_TO_HYP,		/* entry: host -> hypervisor */
	KL_PKVM_TO_HOST,	/* exit, vcpu put, adjust_pc: hypervisor -> host */
	KL_PKVM_DIR_NR,
};

enum kl_pkvm_reason {
	KL_PKVM_FLUSH_DIRTY,
	KL_PKVM_SYNC_TRAP,
	KL_PKVM_SYNC_SERROR,
	KL_PKVM_SYNC_EXIT,
	KL_PKVM_SYNC_DEBUG,
	KL_PKVM_SYNC_PUT,
	KL_PKVM_SYNC_ADJUST_PC,
	KL_PKVM_SKIP_HYP_CURRENT,
	KL_PKVM_SKIP_IRQ,
	KL_PKVM_SKIP_HOST_CURRENT,
	KL_PKVM_REASON_NR,
};

/* arm64 kvm_guest_fault, decoded from its ESR (hsr) argument. */
enum kl_guest_fault_access {
	KL_GF_READ,		/* data abort, WnR clear */
	KL_GF_WRITE,		/* data abort, WnR set */
	KL_GF_EXEC,		/* instruction abort */
	KL_GF_ACCESS_NR,
};

enum kl_guest_fault_status {
	KL_GF_TRANSLATION,	/* FSC 0b0001xx */
	KL_GF_ACCESS_FLAG,	/* FSC 0b0010xx */
	KL_GF_PERMISSION,	/* FSC 0b0011xx */
	KL_GF_OTHER_STATUS,	/* any other fault status code */
	KL_GF_STATUS_NR,
};

/* Reload prediction classes, computed from sched_switch on any kernel. */
enum kl_reload_pred {
	KL_PRED_SAME_CPU,	/* same CPU, no other vCPU ran here: eligible */
	KL_PRED_MIGRATED,	/* the vCPU's state is on another CPU */
	KL_PRED_OTHER_VCPU,	/* another vCPU was loaded here meanwhile */
	KL_PRED_NR,
};

enum kl_counter {
	KL_C_KVM_RUNS,			/* KVM_RUN ioctls completed */
	KL_C_USERSPACE_EXITS,		/* kvm_userspace_exit */
	KL_C_DIRTY_PAGES,		/* kvm_dirty_ring_push */
	KL_C_PREEMPTIONS,		/* involuntary switch-outs inside KVM_RUN */
	KL_C_SCHED_OUT,			/* all switch-outs inside KVM_RUN */
	KL_C_PRED,			/* + enum kl_reload_pred */
	KL_C_EXITS = KL_C_PRED + KL_PRED_NR,	/* kvm_exit */
	KL_C_FAST_PAGE_FAULTS,		/* x86 kvmmmu:fast_page_fault */
	KL_C_FPU_LOADS,			/* x86 kvm_fpu load=1 */
	KL_C_VCPU_LOAD,			/* + enum kl_vcpu_load_reason */
	KL_C_VCPU_PUT = KL_C_VCPU_LOAD + KL_LOAD_NR,
	KL_C_GSTAGE_FAULT,		/* + enum kl_gstage_fault_reason */
	KL_C_PTE_UPDATE_EVENTS = KL_C_GSTAGE_FAULT + KL_FAULT_NR,
	KL_C_PTE_UPDATE_RETRIES,	/* sum of the retries argument */
	KL_C_PTE_OP,			/* + enum kl_pte_op */
	KL_C_PTE_OUTCOME = KL_C_PTE_OP + KL_PTE_OP_NR, /* + kl_pte_outcome */
	/*
	 * Appended for arm64 (before the matrix, so every plain counter stays
	 * below KL_C_PRED_VS_ACTUAL): pKVM state syncs,
	 * + dir * KL_PKVM_REASON_NR + reason; kvm_guest_fault by access and
	 * by fault status class.
	 */
	KL_C_PKVM_SYNC = KL_C_PTE_OUTCOME + KL_PTE_OUTCOME_NR,
	KL_C_GUEST_FAULT_ACCESS = KL_C_PKVM_SYNC + KL_PKVM_DIR_NR * KL_PKVM_REASON_NR,
	KL_C_GUEST_FAULT_STATUS = KL_C_GUEST_FAULT_ACCESS + KL_GF_ACCESS_NR,
	/* prediction vs actual: + pred * KL_LOAD_NR + actual reason */
	KL_C_PRED_VS_ACTUAL = KL_C_GUEST_FAULT_STATUS + KL_GF_STATUS_NR,
	KL_C_NR = KL_C_PRED_VS_ACTUAL + KL_PRED_NR * KL_LOAD_NR,
};

/* Key of the per-CPU "counters" hash: one row per (VM, vCPU). */
struct kl_counter_key {
	__u32 tgid;
	__s32 vcpu_id;		/* KL_VCPU_UNKNOWN until identified */
};

struct kl_counters {
	__u64 c[KL_C_NR];
};

/* Counters indexed by an open-ended kernel reason code. */
enum kl_reason_kind {
	KL_R_USERSPACE_EXIT,	/* code = KVM_EXIT_* */
	KL_R_EXIT,		/* code = riscv scause / x86 exit reason / arm64 code below */
	KL_R_NR,
};

/*
 * arm64 kvm_exit code: the ESR_ELx exception class (0..0x3f) of a trap
 * exit (ARM_EXCEPTION_TRAP); any other exit has no valid class and is
 * KL_ARM64_EXIT_NONTRAP + ARM_EXCEPTION_CODE(ret): + 0 IRQ, + 1 EL1
 * SError, + 3 illegal exception return, + 0xff anything larger
 * (ARM_EXCEPTION_HYP_GONE).
 */
#define KL_ARM64_EXIT_NONTRAP	0x100

struct kl_reason_key {
	__u32 tgid;
	__u16 kind;		/* enum kl_reason_kind */
	__u16 pad;
	__u64 code;
};

/* Histograms. */
enum kl_hist_id {
	KL_H_FAULT,		/* store guest-page-fault exit -> entry */
	KL_H_FAULT_FAST,	/* same, fault path FAST/SPURIOUS */
	KL_H_FAULT_SLOW,	/* same, fault path refused */
	KL_H_EXIT,		/* exit -> entry, sub = exit code (low 16 bits) */
	KL_H_VCPU_LOAD,		/* kvm_arch_vcpu_load, sub = load reason or 0xffff */
	KL_H_KVM_RUN,		/* KVM_RUN ioctl duration */
	KL_H_OFFCPU,		/* switch-out -> switch-in inside KVM_RUN */
	KL_H_NR,
};

#define KL_SUB_ALL		0xffff

struct kl_hist_key {
	__u32 tgid;
	__u16 hist;		/* enum kl_hist_id */
	__u16 sub;		/* KL_SUB_ALL when not split */
};

struct kl_hist {
	__u64 buckets[KL_HIST_BUCKETS];
	__u64 sum;		/* in the histogram's unit (ns) */
};

/* Tool health, per CPU array indexed by enum kl_drop. */
enum kl_drop {
	KL_D_VCPU_MAP_FULL,
	KL_D_COUNTER_MAP_FULL,
	KL_D_REASON_MAP_FULL,
	KL_D_HIST_MAP_FULL,
	KL_D_CLOCK_SKEW,	/* end timestamp before start: dropped sample */
	KL_D_NR,
};

/* Per-thread state of a vCPU thread (plain hash, keyed by tid). */
/* The exit a vCPU thread is handling (kvm_exit -> kvm_entry). */
struct kl_pending_exit {
	__u64 start_ns;		/* kvm_exit time, 0 when in guest */
	__u64 code;		/* cause of the pending exit */
	__u32 fault_path;	/* 0 none, 1 fast, 2 slow (for this exit) */
	__u32 unused;
};

struct kl_vcpu_state {
	__u64 run_start_ns;	/* KVM_RUN entry, 0 when not in KVM_RUN */
	__u64 off_start_ns;	/* switch-out time inside KVM_RUN, or 0 */
	struct kl_pending_exit exit;	/* see kl_exit_of() in kl_helpers.bpf.h */
	__u64 load_start_ns;	/* fentry kvm_arch_vcpu_load */
	__u32 tgid;
	__s32 vcpu_id;
	__s32 last_cpu;		/* CPU this vCPU was last loaded on, or -1 */
	__u32 pending_pred;	/* prediction awaiting the actual reason + 1 */
	__u32 pad;		/* kvm_riscv_vcpu_load reason + 1, load to fexit */
	/* appended (bpf/README.md "Maps": vcpus) */
	__u32 flags;		/* KL_VS_* */
	__u32 slot;		/* internal: hot-counter slot + 1, 0 none, ~0 none available */
	char comm[16];		/* process (group leader) comm at identification */
};

/* kl_vcpu_state.flags */
#define KL_VS_EXITED		1	/* thread exited: userspace reaps the entry after reading it */

/*
 * Hot-path counters of identified vCPU threads: per-CPU ARRAY `hot`
 * indexed by the thread's slot (allocated once at identification; ARRAY
 * `slot_key` maps slot -> (tgid, vcpu_id)).  Userspace adds them to the
 * `counters` row of the same key.
 */
enum kl_hot_idx {
	KL_HOT_DIRTY_PAGES,
	KL_HOT_FPU_LOADS,
	KL_HOT_USERSPACE_EXITS,
	KL_HOT_FAST_PAGE_FAULTS,
	KL_HOT_SCHED_OUT,
	KL_HOT_PREEMPTIONS,
	KL_HOT_PRED,			/* + enum kl_reload_pred */
	KL_HOT_KVM_RUNS = KL_HOT_PRED + KL_PRED_NR,
	KL_HOT_EXITS,			/* kvm_exit */
	KL_HOT_GSTAGE_FAST,		/* kvm_riscv_gstage_fault, path FAST */
	KL_HOT_NR,
};

struct kl_hot_counters {
	__u64 c[KL_HOT_NR];
};

#define KL_MAX_SLOTS		KL_MAX_VCPU_THREADS

/* Per-CPU: the vCPU thread last loaded on this CPU (tid, 0 = none). */
struct kl_cpu_state {
	__u32 last_vcpu_tid;
	__u32 pad;
};

#endif /* __KVM_LAZYTOP_H */
