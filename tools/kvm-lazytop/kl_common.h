/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kl_common.h - exit codes, signal table and options shared by every part
 * of the kvm-lazytop collector.  Pure declarations: no BPF, no I/O.
 */
#ifndef __KL_COMMON_H
#define __KL_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "../../bpf/kvm_lazytop.h"

#define KL_TOOL_NAME	"kvm-lazytop"
#define KL_TOOL_VERSION	"0.1.0"

/* Process exit codes (documented in kvm-lazytop.8, EXIT STATUS). */
enum kl_exit {
	KL_EXIT_OK = 0,		/* success */
	KL_EXIT_ERROR = 1,	/* internal / runtime error */
	KL_EXIT_USAGE = 2,	/* bad command line (argp_err_exit_status) */
	KL_EXIT_NO_PROCESS = 3,	/* -p PID / -n NAME does not exist */
	KL_EXIT_NOT_VM = 4,	/* the process holds no anon_inode:kvm-vm */
	KL_EXIT_PRIVILEGE = 5,	/* bpf() refused: need CAP_BPF+CAP_PERFMON */
	KL_EXIT_TARGET_GONE = 6,/* target exited while attached (snapshot written) */
	KL_EXIT_NO_KERNEL = 7,	/* no BTF / not a single usable signal */
};

/* Signals: one row of the program table in bpf/README.md each. */
enum kl_signal {
	KL_SIG_RISCV_VCPU_LOAD,
	KL_SIG_RISCV_VCPU_PUT,
	KL_SIG_RISCV_GSTAGE_FAULT,
	KL_SIG_RISCV_PTE_UPDATE,
	KL_SIG_KVM_EXIT,
	KL_SIG_KVM_ENTRY,
	KL_SIG_USERSPACE_EXIT,
	KL_SIG_DIRTY_RING_PUSH,
	KL_SIG_FPU,
	KL_SIG_FAST_PAGE_FAULT,
	KL_SIG_SCHED_SWITCH,
	KL_SIG_SYS_ENTER_IOCTL,
	/*
	 * sys_exit_ioctl and sched_process_exit were here until schema 1.3:
	 * kvm_userspace_exit ends a KVM_RUN, /proc tells the collector that
	 * a VM exited.
	 */
	KL_SIG_FENTRY_VCPU_LOAD,
	/* arm64 (appended: the indices above are used by bench/) */
	KL_SIG_ARM_PKVM_STATE_SYNC,	/* pKVM series tracepoint */
	KL_SIG_ARM_GUEST_FAULT,		/* kvm_guest_fault */
	KL_SIG_NR,
};

#define KL_SIG_BIT(s)	(1u << (s))
#define KL_SIG_ALL	((1u << KL_SIG_NR) - 1)

enum kl_hook_kind {
	KL_HOOK_RAW_TP,		/* raw_tp/<hook> (tracefs event or btf_trace_<hook>) */
	KL_HOOK_TP,		/* tracepoint/<category>/<name>, hook = "cat/name" */
	KL_HOOK_FENTRY,		/* fentry/fexit on kernel function <hook> */
};

#define KL_SIG_MAX_PROGS 2
struct kl_signal_desc {
	const char *name;			/* JSON probes key */
	enum kl_hook_kind kind;
	const char *hook;
	const char *progs[KL_SIG_MAX_PROGS];	/* program names, NULL-padded */
};

enum kl_probe_status {
	KL_PROBE_MISSING,	/* the kernel has no such hook */
	KL_PROBE_ATTACHED,
	KL_PROBE_REFUSED,	/* hook exists, load or attach failed */
};

struct kl_probe {
	enum kl_probe_status status;
	char reason[160];	/* for REFUSED (and detail for MISSING) */
	bool alt;		/* the signal's fallback program is used (kl_sig_prog) */
};

enum kl_output { KL_OUT_TABLE, KL_OUT_JSON, KL_OUT_PROM, KL_OUT_NDJSON };

enum kl_target_kind { KL_TARGET_ALL, KL_TARGET_PID, KL_TARGET_NAME };

/* The one options struct (the only global mutable state besides the signal flag). */
struct kl_opts {
	enum kl_target_kind target;
	uint32_t pid;			/* -p, or resolved from -n */
	const char *name;		/* -n */
	uint64_t interval_ns;		/* -i, default 1s */
	uint64_t duration_ns;		/* -d, 0 = until interrupted */
	bool until_exit;		/* --until-exit */
	enum kl_output output;		/* -o */
	bool probe;			/* --probe */
	int verbose;			/* -v (repeatable) */
	bool per_vcpu;			/* --vcpu */
	bool prom_vm_buckets;		/* --prom-vm-buckets */
	const char *listen;		/* --listen ADDR:PORT */
	uint32_t max_vcpus;		/* --max-vcpus: vCPU thread slots (BPF map size) */
	uint32_t max_reasons;		/* --max-reasons: (VM, code) reason counter slots */
	uint32_t max_hists;		/* --max-hists: (VM, histogram, code) histogram slots */
	uint64_t stats_window_ns;	/* --stats-window (UINT64_MAX: "run") */
	bool output_set;
	bool interval_set;		/* -i given */
	const char *output_file;	/* -O FILE, NULL = stdout */
	char **cmd;			/* -- COMMAND [ARGS]: NULL-terminated, into argv */
	char **sub_argv;		/* report|diff|gate ARGS: argv of the subcommand */
	int sub_argc;			/* 0 = no subcommand */
};

#define KL_NSEC_PER_SEC		1000000000ULL
/* --max-vcpus default: BPF `slots` / `slot_key` entries (~680 B each) */
#define KL_DEFAULT_MAX_VCPUS	4096
/* --max-reasons / --max-hists defaults: `rslots` and `hslots` entries */
#define KL_DEFAULT_MAX_REASONS	16384
#define KL_DEFAULT_MAX_HISTS	8192
/* --stats-window default: BPF run-time stats held this long after attach */
#define KL_DEFAULT_STATS_WINDOW_NS	(10 * KL_NSEC_PER_SEC)
#define KL_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#endif /* __KL_COMMON_H */
