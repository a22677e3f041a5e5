/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * kl_core.h - the few kernel types the BPF programs touch, declared
 * locally with preserve_access_index so one source compiles for x86_64,
 * riscv64 and arm64 without a vmlinux.h.  Only the fields we read are
 * listed; libbpf relocates their offsets against the running kernel's
 * BTF (CO-RE).  Nothing here may be used on the host side.
 */
#ifndef __KL_CORE_H
#define __KL_CORE_H

#include <linux/types.h>
#include <linux/bpf.h>

#include "kvm_lazytop.h"

#define KL_CORE __attribute__((preserve_access_index))

typedef _Bool bool;
#define true 1
#define false 0

struct hlist_node;
struct hlist_head {
	struct hlist_node *first;
} KL_CORE;

/* the vCPU file check (kl_file_vcpu_id) */
struct qstr {
	const unsigned char *name;
} KL_CORE;

struct dentry {
	struct qstr d_name;
} KL_CORE;

struct path {
	struct dentry *dentry;
} KL_CORE;

struct super_block {
	unsigned long s_magic;
} KL_CORE;

struct inode {
	struct super_block *i_sb;
} KL_CORE;

struct file {
	struct path f_path;
	struct inode *f_inode;
	void *private_data;
} KL_CORE;

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
} KL_CORE;

struct files_struct {
	struct fdtable *fdt;
} KL_CORE;

/* CONFIG_THREAD_INFO_IN_TASK (x86, arm64, riscv, ...): first in task_struct */
struct thread_info {
	unsigned int cpu;	/* task_cpu() since 5.16 */
} KL_CORE;

struct bpf_local_storage;

struct task_struct {
	struct thread_info thread_info;
	unsigned int cpu;	/* task_cpu() before 5.16 */
	int pid;
	int tgid;
	struct files_struct *files;
	struct hlist_head preempt_notifiers;	/* CONFIG_PREEMPT_NOTIFIERS */
	struct task_struct *group_leader;
	char comm[16];
	struct bpf_local_storage *bpf_storage;	/* CONFIG_BPF_SYSCALL */
} KL_CORE;

/* embedded in struct kvm_vcpu (CONFIG_HAVE_KVM_DIRTY_RING) */
struct kvm_dirty_ring {
	__u32 dirty_index;
} KL_CORE;

struct kvm_vcpu {
	int vcpu_id;
	struct kvm_dirty_ring dirty_ring;
} KL_CORE;

/* riscv: argument of the kvm_exit tracepoint */
struct kvm_cpu_trap {
	unsigned long scause;
} KL_CORE;

/* x86: exit reason lives in the vendor vCPU that embeds struct kvm_vcpu */
union vmx_exit_reason {
	__u32 full;
} KL_CORE;

struct vcpu_vmx {
	union vmx_exit_reason exit_reason;
} KL_CORE;

struct vmcb_control_area {
	__u64 exit_code;
} KL_CORE;

struct vmcb {
	struct vmcb_control_area control;
} KL_CORE;

struct vcpu_svm {
	struct vmcb *vmcb;
} KL_CORE;

/*
 * Enums of the kernel series (arch/riscv/kvm/trace.h), expanded from the
 * name table of kvm_lazytop.h (its lines keep the kernel's order).  The
 * numeric values are only our local view: the BPF code always asks the
 * running kernel for the real value with bpf_core_enum_value().
 */
#define KL_KVM_ENUM_ITEM(kprefix, p, e, ...)	kprefix##e,

enum kvm_riscv_vcpu_load_reason {
	KL_LOAD_REASONS(KL_KVM_ENUM_ITEM, KVM_RISCV_VCPU_LOAD_)
};

enum kvm_riscv_gstage_fault_reason {
	KL_FAULT_REASONS(KL_KVM_ENUM_ITEM, KVM_RISCV_GSTAGE_FAULT_)
};

enum kvm_riscv_gstage_pte_op {
	KL_PTE_OPS(KL_KVM_ENUM_ITEM, KVM_RISCV_GSTAGE_PTE_)
};

enum kvm_riscv_gstage_pte_outcome {
	KL_PTE_OUTCOMES(KL_KVM_ENUM_ITEM, KVM_RISCV_GSTAGE_PTE_)
};

/*
 * Enums of the arm64 pKVM series (asm/kvm_host.h, kernel/patches/arm64
 * 0003).  The tracepoint passes them as unsigned int, so the kernel's BTF
 * may lack them (an enum that types nothing is not emitted): the contract
 * order below is then assumed, see KL_EV().
 */
enum kvm_pkvm_state_dir {
	KL_PKVM_DIRS(KL_KVM_ENUM_ITEM, KVM_PKVM_)
};

enum kvm_pkvm_state_reason {
	KL_PKVM_REASONS(KL_KVM_ENUM_ITEM, KVM_PKVM_)
};

/* Fixed layout of the syscalls:sys_{enter,exit}_* tracepoint records. */
struct kl_sys_enter_ctx {
	__u64 common;			/* struct trace_entry */
	long id;
	unsigned long args[6];
};

struct kl_sys_exit_ctx {
	__u64 common;
	long id;
	long ret;
};

#define KL_KVM_RUN		0xae80	/* _IO(KVMIO, 0x80) */
#define KL_ANON_INODE_FS_MAGIC	0x09041934	/* uapi/linux/magic.h */
#define KL_KVM_ISA_VMX		1
#define KL_KVM_ISA_SVM		2
#define KL_TASK_RUNNING		0
#define KL_EEXIST		17

/* arm64 (asm/kvm_asm.h, asm/esr.h) */
#define KL_ARM_EXIT_SERROR_BIT	31	/* ARM_EXIT_WITH_SERROR_BIT */
#define KL_ARM_EXCEPTION_TRAP	2
#define KL_ESR_EC_SHIFT		26
#define KL_ESR_EC_MASK		0x3f
#define KL_ESR_EC_IABT_LOW	0x20
#define KL_ESR_EC_DABT_LOW	0x24
#define KL_ESR_WNR		(1UL << 6)	/* data abort: write not read */
#define KL_ESR_FSC_TYPE		0x3c
#define KL_ESR_FSC_TRANS	0x04
#define KL_ESR_FSC_ACCESS	0x08
#define KL_ESR_FSC_PERM		0x0c

/* Exit code of a store guest-page fault (fault_latency_ns). */
#if defined(__TARGET_ARCH_riscv)
#define KL_DEFAULT_FAULT_CODE	23ULL	/* EXC_STORE_GUEST_PAGE_FAULT */
#else
#define KL_DEFAULT_FAULT_CODE	(~0ULL)	/* no store-specific exit code */
#endif

#endif /* __KL_CORE_H */
