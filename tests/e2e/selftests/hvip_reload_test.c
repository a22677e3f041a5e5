// SPDX-License-Identifier: GPL-2.0
/*
 * hvip_reload_test - a guest interrupt made pending by user space must
 * survive a vCPU load that skips the CSR restore (riscv lazy CSR restore,
 * fix B2 of kernel/patches/riscv: HVIP is written on every load).
 *
 * KVM_GET_ONE_REG of the sip CSR folds pending interrupts into the
 * in-memory HVIP without marking the vCPU's CSR state dirty.  If the next
 * load on the same CPU then skipped writing HVIP, a put before the next
 * guest entry (here: KVM_RUN interrupted by a signal) would save the old
 * hardware HVIP over the memory copy, and the interrupt would be lost.
 *
 * The guest only reads sip and makes an SBI call to the experimental
 * extension range, which KVM forwards to user space:
 *
 *	loop:	lui	a7, 0x8000		// extension 0x08000000
 *		addi	a6, zero, 0		// function 0
 *		csrr	a0, sip
 *		ecall
 *		j	loop
 *
 * Host, pinned to one CPU: run the guest once (its CSRs now live on this
 * CPU), raise the VS external interrupt (KVM_INTERRUPT), read sip (the
 * fold), KVM_RUN with SIGUSR1 pending (load, no entry, put), then sip must
 * still show SEIP.
 *
 * Exit status: 0 pass, 1 fail, 4 skip (no /dev/kvm), kselftest style.
 * Static, raw KVM API, no selftest library.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/kvm.h>

#define GUEST_BASE	0x80000000UL
#define GUEST_SIZE	0x10000UL
#define SBI_EXT_TEST	0x08000000UL
#define SIP_SEIP	(1UL << 9)

#define CORE_REG(name)	(KVM_REG_RISCV | KVM_REG_SIZE_U64 | KVM_REG_RISCV_CORE | \
			 KVM_REG_RISCV_CORE_REG(name))
#define CSR_REG(name)	(KVM_REG_RISCV | KVM_REG_SIZE_U64 | KVM_REG_RISCV_CSR | \
			 KVM_REG_RISCV_CSR_GENERAL | KVM_REG_RISCV_CSR_REG(name))

static const uint32_t guest_code[] = {
	0x080008b7,	/* lui   a7, 0x8000 */
	0x00000813,	/* addi  a6, zero, 0 */
	0x14402573,	/* csrr  a0, sip */
	0x00000073,	/* ecall */
	0xff1ff06f,	/* j     loop */
};

struct test {
	int vcpu;
	struct kvm_run *run;
	int failures;
};

static void die(const char *what)
{
	printf("hvip_reload_test: FAIL: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t get_reg(int vcpu, uint64_t id)
{
	uint64_t val = 0;
	struct kvm_one_reg reg = { .id = id, .addr = (uintptr_t)&val };

	if (ioctl(vcpu, KVM_GET_ONE_REG, &reg))
		die("KVM_GET_ONE_REG");
	return val;
}

static void set_reg(int vcpu, uint64_t id, uint64_t val)
{
	struct kvm_one_reg reg = { .id = id, .addr = (uintptr_t)&val };

	if (ioctl(vcpu, KVM_SET_ONE_REG, &reg))
		die("KVM_SET_ONE_REG");
}

/* Run until the guest's SBI call; return the sip it read. */
static uint64_t run_guest(struct test *t)
{
	struct kvm_run *run = t->run;

	if (ioctl(t->vcpu, KVM_RUN, 0))
		die("KVM_RUN");
	if (run->exit_reason != KVM_EXIT_RISCV_SBI ||
	    run->riscv_sbi.extension_id != SBI_EXT_TEST) {
		printf("hvip_reload_test: FAIL: unexpected exit %u\n",
		       run->exit_reason);
		exit(1);
	}
	run->riscv_sbi.ret[0] = 0;
	run->riscv_sbi.ret[1] = 0;
	return run->riscv_sbi.args[0];
}

/* KVM_RUN with SIGUSR1 pending: the vCPU is loaded and put, not run. */
static void run_interrupted(struct test *t)
{
	struct timespec zero = { 0 };
	sigset_t set;

	syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1);
	if (ioctl(t->vcpu, KVM_RUN, 0) != -1 || errno != EINTR) {
		printf("hvip_reload_test: FAIL: KVM_RUN was not interrupted\n");
		exit(1);
	}
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (sigtimedwait(&set, NULL, &zero) != SIGUSR1) {
		printf("hvip_reload_test: FAIL: SIGUSR1 was not pending\n");
		exit(1);
	}
}

static void sigusr1(int sig)
{
	(void)sig;
}

int main(void)
{
	struct kvm_userspace_memory_region mem_region = {
		.slot = 0, .guest_phys_addr = GUEST_BASE, .memory_size = GUEST_SIZE,
	};
	struct kvm_interrupt irq = { .irq = KVM_INTERRUPT_SET };
	struct kvm_signal_mask *sigmask;
	struct test t = { 0 };
	int kvm, vm, run_size;
	cpu_set_t cpus;
	sigset_t set;
	uint64_t sip;
	void *mem;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		printf("hvip_reload_test: skip, /dev/kvm: %s\n", strerror(errno));
		return 4;
	}

	/* Stay on one CPU: every load after the first may skip the restore */
	CPU_ZERO(&cpus);
	CPU_SET(sched_getcpu(), &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus))
		die("sched_setaffinity");

	/* SIGUSR1 blocked here, unblocked while in KVM_RUN */
	signal(SIGUSR1, sigusr1);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);

	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");
	mem = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	memcpy(mem, guest_code, sizeof(guest_code));
	mem_region.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &mem_region))
		die("KVM_SET_USER_MEMORY_REGION");

	t.vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (t.vcpu < 0)
		die("KVM_CREATE_VCPU");
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < 0)
		die("KVM_GET_VCPU_MMAP_SIZE");
	t.run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, t.vcpu, 0);
	if (t.run == MAP_FAILED)
		die("mmap kvm_run");
	set_reg(t.vcpu, CORE_REG(regs.pc), GUEST_BASE);

	/* The kernel's sigset is 8 bytes on riscv64, right after len */
	sigmask = calloc(1, offsetof(struct kvm_signal_mask, sigset) + 8);
	if (!sigmask)
		die("calloc");
	sigmask->len = 8;
	if (ioctl(t.vcpu, KVM_SET_SIGNAL_MASK, sigmask))
		die("KVM_SET_SIGNAL_MASK");

	sip = run_guest(&t);
	if (sip & SIP_SEIP) {
		printf("hvip_reload_test: FAIL: guest sip 0x%lx before any interrupt\n",
		       (unsigned long)sip);
		t.failures++;
	}

	if (ioctl(t.vcpu, KVM_INTERRUPT, &irq))
		die("KVM_INTERRUPT");
	sip = get_reg(t.vcpu, CSR_REG(sip));
	if (!(sip & SIP_SEIP)) {
		printf("hvip_reload_test: FAIL: sip 0x%lx after KVM_INTERRUPT, expected SEIP\n",
		       (unsigned long)sip);
		t.failures++;
	}

	run_interrupted(&t);
	sip = get_reg(t.vcpu, CSR_REG(sip));
	if (!(sip & SIP_SEIP)) {
		printf("hvip_reload_test: FAIL: sip 0x%lx after a KVM_RUN interrupted before entry, expected SEIP: interrupt lost\n",
		       (unsigned long)sip);
		t.failures++;
	}

	/*
	 * The guest would see it too on hardware; QEMU 7.2 TCG shows the
	 * guest sip 0x0 here even on the fixed kernel, so only the vCPU
	 * state user space sees is checked, which is what the put loses.
	 */

	printf("hvip_reload_test: %d failures\n", t.failures);
	return t.failures ? 1 : 0;
}
