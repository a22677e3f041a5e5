// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * empty.bpf.c - programs that do nothing, attached to the same hooks as
 * kvm_lazytop.bpf.c.  Their run time is the benchmark floor: the cost of
 * the hook itself, against which kvm-lazytop's per-event cost is judged.
 * Skeleton: struct kl_empty_bpf; userspace enables the ones that exist.
 */
#include "kl_core.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define KL_EMPTY(name, hook)			\
	SEC("raw_tp/" #hook)			\
	int name(void *ctx)			\
	{					\
		return 0;			\
	}

KL_EMPTY(kl_empty_kvm_dirty_ring_push, kvm_dirty_ring_push)
KL_EMPTY(kl_empty_kvm_fpu, kvm_fpu)
KL_EMPTY(kl_empty_sched_switch, sched_switch)
KL_EMPTY(kl_empty_kvm_exit, kvm_exit)
KL_EMPTY(kl_empty_kvm_entry, kvm_entry)
KL_EMPTY(kl_empty_kvm_userspace_exit, kvm_userspace_exit)
KL_EMPTY(kl_empty_kvm_riscv_vcpu_load, kvm_riscv_vcpu_load)
KL_EMPTY(kl_empty_kvm_riscv_vcpu_put, kvm_riscv_vcpu_put)
KL_EMPTY(kl_empty_kvm_riscv_gstage_fault, kvm_riscv_gstage_fault)
KL_EMPTY(kl_empty_kvm_riscv_gstage_pte_update, kvm_riscv_gstage_pte_update)
KL_EMPTY(kl_empty_kvm_arm_pkvm_state_sync, kvm_arm_pkvm_state_sync)
KL_EMPTY(kl_empty_kvm_guest_fault, kvm_guest_fault)
