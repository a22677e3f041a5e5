/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * kl_arch.bpf.h - part of kvm_lazytop.bpf.c (included from there only):
 * kvm_exit and kvm_entry, the generic KVM tracepoints whose arguments
 * differ by arch.  One pair per __TARGET_ARCH_*, each reading what its
 * arch's TP_PROTO offers and calling kl_on_kvm_exit()/kl_on_kvm_entry():
 *   riscv  kvm_exit(struct kvm_cpu_trap *trap): code = trap->scause
 *   arm64  kvm_exit(ret, esr_ec, vcpu_pc): code = kl_arm64_exit_code()
 *   x86    kvm_exit(vcpu, isa): code = VMX/SVM exit reason if in BTF, else 0
 */
#ifndef __KL_ARCH_BPF_H
#define __KL_ARCH_BPF_H

#if defined(__TARGET_ARCH_riscv)
SEC("raw_tp/kvm_exit")
int BPF_PROG(kl_kvm_exit, struct kvm_cpu_trap *trap)
{
	KL_PROLOGUE();
	kl_on_kvm_exit(tid, tgid, NULL, KL_VCPU_UNKNOWN, BPF_CORE_READ(trap, scause),
		       bpf_ktime_get_ns());
	return 0;
}
#elif defined(__TARGET_ARCH_arm64)
SEC("raw_tp/kvm_exit")
int BPF_PROG(kl_kvm_exit, int ret, unsigned int esr_ec)
{
	KL_PROLOGUE();
	kl_on_kvm_exit(tid, tgid, NULL, KL_VCPU_UNKNOWN, kl_arm64_exit_code(ret, esr_ec),
		       bpf_ktime_get_ns());
	return 0;
}

SEC("raw_tp/kvm_entry")
int BPF_PROG(kl_kvm_entry)
{
	KL_PROLOGUE();
	kl_on_kvm_entry(tid, tgid, NULL, KL_VCPU_UNKNOWN, bpf_ktime_get_ns());
	return 0;
}
#elif defined(__TARGET_ARCH_x86)
/* Exit reason from the vendor vCPU when its type is in the BTF, else 0. */
static __always_inline __u64 kl_x86_exit_code(struct kvm_vcpu *vcpu, __u32 isa)
{
	if (isa == KL_KVM_ISA_VMX && bpf_core_type_exists(struct vcpu_vmx))
		return BPF_CORE_READ((struct vcpu_vmx *)vcpu, exit_reason.full) & 0xffff;
	if (isa == KL_KVM_ISA_SVM && bpf_core_type_exists(struct vcpu_svm))
		return BPF_CORE_READ((struct vcpu_svm *)vcpu, vmcb, control.exit_code);
	return 0;
}

SEC("raw_tp/kvm_exit")
int BPF_PROG(kl_kvm_exit, struct kvm_vcpu *vcpu, __u32 isa)
{
	KL_PROLOGUE();
	kl_on_kvm_exit(tid, tgid, vcpu, KL_VCPU_UNKNOWN, kl_x86_exit_code(vcpu, isa),
		       bpf_ktime_get_ns());
	return 0;
}
#else
#error "kvm_lazytop.bpf.c: build with -D__TARGET_ARCH_x86, _riscv or _arm64"
#endif

#if defined(__TARGET_ARCH_riscv) || defined(__TARGET_ARCH_x86)
/* riscv and x86 kvm_entry(vcpu): the same program */
SEC("raw_tp/kvm_entry")
int BPF_PROG(kl_kvm_entry, struct kvm_vcpu *vcpu)
{
	KL_PROLOGUE();
	kl_on_kvm_entry(tid, tgid, vcpu, KL_VCPU_UNKNOWN, bpf_ktime_get_ns());
	return 0;
}
#endif

#endif /* __KL_ARCH_BPF_H */
