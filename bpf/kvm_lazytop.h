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

#define KL_SCHEMA_VERSION	"1.4"

/* Log-linear latency histogram, see bpf/kl_hist.h for the math. */
#define KL_HIST_SUB_BITS	3
#define KL_HIST_SUB		(1 << KL_HIST_SUB_BITS)	/* sub-buckets per 2^n */
#define KL_HIST_MAX_POW		40			/* values >= 2^41 clamp */
#define KL_HIST_BUCKETS		((KL_HIST_MAX_POW - KL_HIST_SUB_BITS + 2) * KL_HIST_SUB)

/* Map sizes; userspace may resize them before load. */
#define KL_MAX_VCPU_THREADS	65536
#define KL_MAX_REASON_KEYS	16384	/* reason slots (--max-reasons default) */
#define KL_MAX_HIST_KEYS	8192	/* histogram slots (--max-hists default) */
#define KL_MAX_CPUS		1024

/* Reason index for "no vCPU id known yet". */
#define KL_VCPU_UNKNOWN		(-1)

/*
 * ---- The name table ------------------------------------------------------
 *
 * Every per-reason index of the collector is ONE line of a list below, in
 * the X-macro style of the kernel's __BPF_FUNC_MAPPER and the tracepoint
 * EM() lists.  A list expands its item macro X once per line, passing its
 * own arguments (a context for X, any number of tokens) first:
 *
 *	X(ctx..., P, ENUM, "json_name", PATH)
 *
 * KL_<P>_<ENUM> is the index (the enums below are expanded from the lists,
 * in the order of the kernel series' enums, which the BPF side translates
 * with CO-RE enum relocations of the same ENUM suffix); "json_name" is
 * the reason's JSON name (a counter "<family prefix><json_name>"); PATH
 * classifies the reason: FAST (the lazy/fast path was taken), SLOW (it
 * was not) or NONE (the family has no fast path).
 *
 * A list ends with a comment line, so every entry ends with a backslash
 * and a new one is a one-line diff; lines that mirror a kernel enum keep
 * the kernel's order.
 *
 * Userspace expands the same lines into the JSON names (kl_names.c), the
 * snapshot families and the known counter names (snapshot_read.c), the
 * Prometheus descriptors (prom.c) and the fast/slow split every renderer
 * uses: adding a reason is one line here (and its test).
 */

/* kvm_riscv_vcpu_load reasons; FAST: the CSR/HGATP reload was skipped. */
#define KL_LOAD_REASONS(X, ...)						\
	X(__VA_ARGS__, LOAD, FAST,		"fast",			FAST)	\
	X(__VA_ARGS__, LOAD, FIRST_LOAD,	"first_load",		SLOW)	\
	X(__VA_ARGS__, LOAD, OTHER_PCPU,	"other_pcpu",		SLOW)	\
	X(__VA_ARGS__, LOAD, CSR_DIRTY,		"csr_dirty",		SLOW)	\
	X(__VA_ARGS__, LOAD, CPU_RESET,		"cpu_reset",		SLOW)	\
	X(__VA_ARGS__, LOAD, OTHER_VCPU,	"other_vcpu",		SLOW)	\
	/* end of KL_LOAD_REASONS */

/* kvm_riscv_gstage_fault path; FAST/SPURIOUS: the fast path handled it. */
#define KL_FAULT_REASONS(X, ...)						\
	X(__VA_ARGS__, FAULT, FAST,		"fast",			FAST)	\
	X(__VA_ARGS__, FAULT, SPURIOUS,		"spurious",		FAST)	\
	X(__VA_ARGS__, FAULT, NOT_WRITE,	"not_write",		SLOW)	\
	X(__VA_ARGS__, FAULT, NOT_LOGGING,	"not_logging",		SLOW)	\
	X(__VA_ARGS__, FAULT, NO_LEAF,		"no_leaf",		SLOW)	\
	X(__VA_ARGS__, FAULT, HUGE_LEAF,	"huge_leaf",		SLOW)	\
	X(__VA_ARGS__, FAULT, NOT_HOST_WRITABLE, "not_host_writable",	SLOW)	\
	X(__VA_ARGS__, FAULT, INVAL_RETRY,	"inval_retry",		SLOW)	\
	X(__VA_ARGS__, FAULT, PTE_CHANGED,	"pte_changed",		SLOW)	\
	X(__VA_ARGS__, FAULT, RETRY_LIMIT,	"retry_limit",		SLOW)	\
	/* end of KL_FAULT_REASONS */

/* kvm_riscv_gstage_pte_update operation and outcome. */
#define KL_PTE_OPS(X, ...)							\
	X(__VA_ARGS__, PTE_OP, MKWRITE,		"mkwrite",		NONE)	\
	X(__VA_ARGS__, PTE_OP, WRPROTECT,	"wrprotect",		NONE)	\
	/* end of KL_PTE_OPS */

#define KL_PTE_OUTCOMES(X, ...)							\
	X(__VA_ARGS__, PTE, UPDATED,		"updated",		FAST)	\
	X(__VA_ARGS__, PTE, NOOP,		"noop",			SLOW)	\
	X(__VA_ARGS__, PTE, ABORT_NOT_LEAF,	"abort_not_leaf",	SLOW)	\
	X(__VA_ARGS__, PTE, ABORT_RETRIES,	"abort_retries",	SLOW)	\
	/* end of KL_PTE_OUTCOMES */

/*
 * arm64 pKVM: direction x reason of the kvm_arm_pkvm_state_sync
 * tracepoint (kernel/patches/arm64/0003), in the order of the series'
 * enum kvm_pkvm_state_dir / enum kvm_pkvm_state_reason.  A reason line
 * has one more column: the direction the series emits it in (the other
 * direction is counted too, but has no JSON counter name).  FAST: the
 * state copy was skipped (skip_*).
 */
#define KL_PKVM_DIRS(X, ...)							\
	X(__VA_ARGS__, PKVM, TO_HYP,		"to_hyp",		NONE)	\
	X(__VA_ARGS__, PKVM, TO_HOST,		"to_host",		NONE)	\
	/* end of KL_PKVM_DIRS */

#define KL_PKVM_REASONS(X, ...)							\
	X(__VA_ARGS__, PKVM, FLUSH_DIRTY,	"flush_dirty",	SLOW, TO_HYP)	\
	X(__VA_ARGS__, PKVM, SYNC_TRAP,		"sync_trap",	SLOW, TO_HOST)	\
	X(__VA_ARGS__, PKVM, SYNC_SERROR,	"sync_serror",	SLOW, TO_HOST)	\
	X(__VA_ARGS__, PKVM, SYNC_EXIT,		"sync_exit",	SLOW, TO_HOST)	\
	X(__VA_ARGS__, PKVM, SYNC_DEBUG,	"sync_debug",	SLOW, TO_HOST)	\
	X(__VA_ARGS__, PKVM, SYNC_PUT,		"sync_put",	SLOW, TO_HOST)	\
	X(__VA_ARGS__, PKVM, SYNC_ADJUST_PC,	"sync_adjust_pc", SLOW, TO_HOST)	\
	X(__VA_ARGS__, PKVM, SKIP_HYP_CURRENT,	"skip_hyp_current", FAST, TO_HYP)	\
	X(__VA_ARGS__, PKVM, SKIP_IRQ,		"skip_irq",	FAST, TO_HOST)	\
	X(__VA_ARGS__, PKVM, SKIP_HOST_CURRENT,	"skip_host_current", FAST, TO_HOST)	\
	X(__VA_ARGS__, PKVM, SKIP_SCHED_OUT,	"skip_sched_out", FAST, TO_HOST)	\
	X(__VA_ARGS__, PKVM, SYNC_MIGRATE,	"sync_migrate",	SLOW, TO_HOST)	\
	X(__VA_ARGS__, PKVM, FETCH_FAILED,	"fetch_failed",	SLOW, TO_HOST)	\
	X(__VA_ARGS__, PKVM, LOAD_FAILED,	"load_failed",	SLOW, TO_HYP)	\
	X(__VA_ARGS__, PKVM, PROTECTED,		"protected",	SLOW, TO_HYP)	\
	/* end of KL_PKVM_REASONS */

/*
 * arm64 kvm_guest_fault, decoded from its ESR (hsr) argument: the access
 * (data abort WnR clear / set, instruction abort) and the fault status
 * class (FSC 0b0001xx, 0b0010xx, 0b0011xx, any other code).
 */
#define KL_GF_ACCESSES(X, ...)							\
	X(__VA_ARGS__, GF, READ,		"read",			NONE)	\
	X(__VA_ARGS__, GF, WRITE,		"write",		NONE)	\
	X(__VA_ARGS__, GF, EXEC,		"exec",			NONE)	\
	/* end of KL_GF_ACCESSES */

#define KL_GF_STATUSES(X, ...)							\
	X(__VA_ARGS__, GF, TRANSLATION,		"translation",		NONE)	\
	X(__VA_ARGS__, GF, ACCESS_FLAG,		"access_flag",		NONE)	\
	X(__VA_ARGS__, GF, PERMISSION,		"permission",		NONE)	\
	X(__VA_ARGS__, GF, OTHER_STATUS,	"other_status",		NONE)	\
	/* end of KL_GF_STATUSES */

/*
 * Reload prediction classes, computed from sched_switch on any kernel:
 * SAME_CPU (same CPU, no other vCPU ran here: eligible, FAST), MIGRATED
 * (the vCPU's state is on another CPU), OTHER_VCPU (another vCPU was
 * loaded here meanwhile).
 */
#define KL_RELOAD_PREDS(X, ...)							\
	X(__VA_ARGS__, PRED, SAME_CPU,		"same_cpu",		FAST)	\
	X(__VA_ARGS__, PRED, MIGRATED,		"migrated",		SLOW)	\
	X(__VA_ARGS__, PRED, OTHER_VCPU,	"other_vcpu",		SLOW)	\
	/* end of KL_RELOAD_PREDS */

/*
 * Tool health; CLOCK_SKEW: end timestamp before start, dropped sample;
 * SLOTS_FULL: an event found no counter slot, of its thread or a shared
 * row (raise --max-vcpus); COUNTER_MAP_FULL named the per-CPU hash of
 * schema 1.3 and stays 0;
 * REASON_SLOTS_FULL / HIST_SLOTS_FULL: a (VM, code) found no free reason
 * counter (raise --max-reasons) or histogram (raise --max-hists) slot,
 * the event is not counted there.  REASON_MAP_FULL and HIST_MAP_FULL
 * named the per-CPU hashes of schema 1.3 and stay 0.
 */
#define KL_DROPS(X, ...)							\
	X(__VA_ARGS__, D, VCPU_MAP_FULL,	"vcpu_map_full",	NONE)	\
	X(__VA_ARGS__, D, COUNTER_MAP_FULL,	"counter_map_full",	NONE)	\
	X(__VA_ARGS__, D, REASON_MAP_FULL,	"reason_map_full",	NONE)	\
	X(__VA_ARGS__, D, HIST_MAP_FULL,	"hist_map_full",	NONE)	\
	X(__VA_ARGS__, D, CLOCK_SKEW,		"clock_skew",		NONE)	\
	X(__VA_ARGS__, D, SLOTS_FULL,		"vcpu_slots_full",	NONE)	\
	X(__VA_ARGS__, D, REASON_SLOTS_FULL,	"reason_slots_full",	NONE)	\
	X(__VA_ARGS__, D, HIST_SLOTS_FULL,	"hist_slots_full",	NONE)	\
	/* end of KL_DROPS */

/* The enumerator of a list line: KL_<P>_<ENUM>. */
#define KL_ENUM_ITEM(ctx, P, E, ...)	KL_##P##_##E,

enum kl_vcpu_load_reason {
	KL_LOAD_REASONS(KL_ENUM_ITEM, _)
	KL_LOAD_NR,
};

enum kl_gstage_fault_reason {
	KL_FAULT_REASONS(KL_ENUM_ITEM, _)
	KL_FAULT_NR,
};

enum kl_pte_op {
	KL_PTE_OPS(KL_ENUM_ITEM, _)
	KL_PTE_OP_NR,
};

enum kl_pte_outcome {
	KL_PTE_OUTCOMES(KL_ENUM_ITEM, _)
	KL_PTE_OUTCOME_NR,
};

enum kl_pkvm_dir {
	KL_PKVM_DIRS(KL_ENUM_ITEM, _)
	KL_PKVM_DIR_NR,
};

enum kl_pkvm_reason {
	KL_PKVM_REASONS(KL_ENUM_ITEM, _)
	KL_PKVM_REASON_NR,
};

enum kl_guest_fault_access {
	KL_GF_ACCESSES(KL_ENUM_ITEM, _)
	KL_GF_ACCESS_NR,
};

enum kl_guest_fault_status {
	KL_GF_STATUSES(KL_ENUM_ITEM, _)
	KL_GF_STATUS_NR,
};

enum kl_reload_pred {
	KL_RELOAD_PREDS(KL_ENUM_ITEM, _)
	KL_PRED_NR,
};

/*
 * Per-vCPU counters.  Their JSON names and order are kl_names.h's
 * KL_COUNTER_LAYOUT; the per-reason groups are sized by the lists above,
 * so KL_C_VCPU_LOAD + reason_index is the counter for that reason.
 */
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

/* Key of the `row_idx` hash: one shared row per (VM, vCPU). */
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

/*
 * Histograms (same line format; PATH splits fault_latency by fault path):
 * FAULT store guest-page-fault exit -> entry, FAULT_FAST / FAULT_SLOW the
 * same for fault path FAST/SPURIOUS / refused; EXIT exit -> entry (sub =
 * exit code, low 16 bits); VCPU_LOAD kvm_arch_vcpu_load (sub = load
 * reason or KL_SUB_ALL); KVM_RUN the KVM_RUN ioctl; OFFCPU switch-out ->
 * switch-in inside KVM_RUN.
 */
#define KL_HISTS(X, ...)							\
	X(__VA_ARGS__, H, FAULT,		"fault_latency_ns",	NONE)	\
	X(__VA_ARGS__, H, FAULT_FAST,		"fault_latency_fast_ns", FAST)	\
	X(__VA_ARGS__, H, FAULT_SLOW,		"fault_latency_slow_ns", SLOW)	\
	X(__VA_ARGS__, H, EXIT,			"exit_latency_ns",	NONE)	\
	X(__VA_ARGS__, H, VCPU_LOAD,		"vcpu_load_ns",		NONE)	\
	X(__VA_ARGS__, H, KVM_RUN,		"kvm_run_ns",		NONE)	\
	X(__VA_ARGS__, H, OFFCPU,		"offcpu_ns",		NONE)	\
	/* end of KL_HISTS */

enum kl_hist_id {
	KL_HISTS(KL_ENUM_ITEM, _)
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
	KL_DROPS(KL_ENUM_ITEM, _)
	KL_D_NR,
};

/*
 * Per-thread state of a vCPU thread: BPF-internal, task-local storage
 * (`vcpu_ts`), never read by the collector.
 */
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
	__u32 flags;		/* KL_VS_* */
	__u32 slot;		/* hot-counter slot + 1, 0 none yet, ~0 none available */
	__u32 tid;
	char comm[16];		/* process (group leader) comm at identification */
	__s64 run_fd;		/* vCPU fd + 1 of the last KVM_RUN checked, 0 none */
};

/* kl_vcpu_state.flags */
#define KL_VS_PRESENT		1	/* test_ts only: the entry is in use */

/*
 * Value of the `slot_key` ARRAY: who owns a hot-counter slot.  Written
 * once by BPF when the slot is taken (tgid last, so a reader that sees a
 * non-zero tgid sees the rest).
 */
struct kl_slot_info {
	__u32 tgid;
	__s32 vcpu_id;
	__u32 tid;
	__u32 flags;		/* KL_SLOT_* */
	char comm[16];		/* process (group leader) comm at identification */
};

/* kl_slot_info.flags */
#define KL_SLOT_SHARED		2	/* a shared row (tid 0), see below; 1 was "exited" (1.3) */

/*
 * Slots: each identified vCPU thread gets one (allocated once); ARRAY
 * `slots` (BPF_F_MMAPABLE) holds its struct kl_counters, ARRAY `slot_key`
 * its struct kl_slot_info.  Events of a (tgid, vcpu_id) not counted by
 * its own thread (vcpu_id -1: threads not identified as a vCPU; threads
 * without a slot; events counted from another thread) go to a shared row,
 * a slot with KL_SLOT_SHARED and tid 0 found through the HASH `row_idx`.
 * Userspace adds every slot of a (tgid, vcpu_id) into its row.
 * KL_MAX_SLOTS is the default size; the collector sizes the three maps
 * from --max-vcpus.
 */
#define KL_MAX_SLOTS		4096

/*
 * Reason and histogram slots: one per (VM, kind, code) and per (VM,
 * histogram, sub), allocated once by the first event of the key and shared
 * by the VM's vCPU threads (BPF adds atomically).  ARRAY `rslots`
 * (BPF_F_MMAPABLE, __u64 count) with owner ARRAY `rslot_key` (struct
 * kl_reason_key), ARRAY `hslots` (struct kl_hist) with owner ARRAY
 * `hslot_key` (struct kl_hist_key); the owner's tgid is written last and
 * is 0 for a slot not (yet) owned.  HASHes `reason_idx` / `hist_idx` map
 * a key to its slot; BPF consults them only when the per-CPU cache
 * (struct kl_cur, KL_SCACHE entries each) misses.  Sized by the
 * collector's --max-reasons / --max-hists, never by the CPU count.
 */
/*
 * Slot pools: a slot released by the collector (its VM exited) is zeroed
 * and put in its pool's ring of free slots (ARRAY free_slots /
 * free_rslots / free_hslots, written at free_tail[pool] by the collector,
 * taken at free_head[pool] by BPF with a compare-and-swap), which BPF
 * tries before taking a never-used slot.
 */
enum kl_pool {
	KL_POOL_VCPU,		/* slots / slot_key */
	KL_POOL_REASON,		/* rslots / rslot_key */
	KL_POOL_HIST,		/* hslots / hslot_key */
	KL_POOL_NR,
};

#define KL_SCACHE_BITS		3
#define KL_SCACHE		(1 << KL_SCACHE_BITS)	/* per-CPU cached slots per kind */

/* test_ts entries (test_mode only: thread tid is test_ts[tid & test_mask]) */
#define KL_TEST_THREADS		16384

/* Per-CPU: the vCPU thread last loaded on this CPU (tid, 0 = none). */
struct kl_cpu_state {
	__u32 last_vcpu_tid;
	__u32 pad;
};

#endif /* __KVM_LAZYTOP_H */
