// SPDX-License-Identifier: GPL-2.0
/*
 * lz_reload - a small riscv64 VMM on the KVM selftest library that drives
 * one kvm_arch_vcpu_load() reason of the lazy CSR restore series on purpose.
 *
 * usage: lz_reload MODE [-n ROUNDS] [-c CPU] [-C CPU2] [-s SPIN] [-t SECONDS]
 *
 *   fast        one vCPU pinned to CPU, a CPU hog thread pinned to the same
 *               CPU preempts it while the guest spins (SPIN iterations per
 *               KVM_RUN): every reload after the first is on the same CPU
 *               with no other vCPU in between -> FAST
 *   other-vcpu  two vCPUs whose threads are pinned to CPU and hand over to
 *               each other after every KVM_RUN -> OTHER_VCPU
 *   other-pcpu  one vCPU whose thread moves between CPU and CPU2 before every
 *               KVM_RUN -> OTHER_PCPU
 *   csr-dirty   one vCPU pinned to CPU; KVM_SET_ONE_REG(sscratch) before
 *               every KVM_RUN -> CSR_DIRTY
 *   hog         spin on CPU for SECONDS (no VM)
 *
 * Every KVM_RUN must end in the guest's GUEST_SYNC ucall.  Prints one
 * summary line "lz_reload MODE rounds=N loads_driven=N elapsed_ms=N".
 *
 * Build: static, riscv64-linux-gnu-gcc -std=gnu11 (the selftest headers use
 * typeof) -Wall -Wextra -Werror, linked with the selftests' libkvm objects.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "sbi.h"
#include "test_util.h"
#include "ucall_common.h"

/* Guest: spin, then report to the host; forever. */
static uint64_t guest_spin;

static void guest_code(void)
{
	for (;;) {
		for (volatile uint64_t i = 0; i < guest_spin; i++)
			;
		GUEST_SYNC(0);
	}
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fprintf(stderr, "lz_reload: sched_setaffinity(%d): %s\n", cpu, strerror(errno));
		exit(1);
	}
}

/*
 * One KVM_RUN ioctl per round.  The library's vcpu_run() + get_ucall() cost
 * three on riscv: vcpu_run() -> assert_on_unhandled_exception() ->
 * get_ucall() -> vcpu_run_complete_io(), and our own get_ucall() a second
 * vcpu_run_complete_io(), each a KVM_RUN with immediate_exit that returns
 * -EINTR before vcpu_load().  The SBI return needs no such completion: the
 * next KVM_RUN applies it (kvm_riscv_vcpu_sbi_return()) before entering
 * the guest.  So kvm_runs == rounds (per vCPU) and every KVM_RUN loads.
 */
static void run_once(struct kvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct ucall uc;
	int rc;

	do {
		rc = __vcpu_run(vcpu);
	} while (rc == -1 && errno == EINTR);
	TEST_ASSERT(!rc, KVM_IOCTL_ERROR(KVM_RUN, rc));
	if (run->exit_reason == KVM_EXIT_RISCV_SBI &&
	    run->riscv_sbi.extension_id == KVM_RISCV_SELFTESTS_SBI_EXT &&
	    run->riscv_sbi.function_id == KVM_RISCV_SELFTESTS_SBI_UCALL) {
		/* the guest passes the host address of its ucall struct */
		memcpy(&uc, (void *)run->riscv_sbi.args[0], sizeof(uc));
		if (uc.cmd == UCALL_SYNC)
			return;
		if (uc.cmd == UCALL_ABORT)
			REPORT_GUEST_ASSERT(uc);
		TEST_FAIL("unexpected ucall %lu", uc.cmd);
	}
	TEST_FAIL("unexpected exit %s", exit_reason_str(run->exit_reason));
}

static atomic_int hog_stop;

static void *hog_thread(void *arg)
{
	pin(*(int *)arg);
	while (!atomic_load_explicit(&hog_stop, memory_order_relaxed))
		;
	return NULL;
}

static void hog(int cpu, double seconds)
{
	double end = now_ms() + seconds * 1e3;

	pin(cpu);
	while (now_ms() < end)
		for (volatile int i = 0; i < 100000; i++)
			;
}

/* other-vcpu: strict alternation of two vCPU threads on one CPU. */
struct pingpong {
	struct kvm_vcpu *vcpu;
	sem_t *mine, *theirs;
	int cpu;
	long rounds;
};

static void *pingpong_thread(void *arg)
{
	struct pingpong *p = arg;

	pin(p->cpu);
	for (long i = 0; i < p->rounds; i++) {
		sem_wait(p->mine);
		run_once(p->vcpu);
		sem_post(p->theirs);
	}
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: lz_reload fast|other-vcpu|other-pcpu|csr-dirty|hog "
		"[-n ROUNDS] [-c CPU] [-C CPU2] [-s SPIN] [-t SECONDS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	long rounds = 2000;
	int cpu = 1, cpu2 = 0, opt;
	uint64_t spin = 0, spin_set = 0;
	double seconds = 5, t0;
	const char *mode;
	struct kvm_vcpu *vcpus[2];
	struct kvm_vm *vm;
	long loads = 0;

	if (argc < 2)
		usage();
	mode = argv[1];
	optind = 2;
	while ((opt = getopt(argc, argv, "n:c:C:s:t:")) != -1) {
		switch (opt) {
		case 'n': rounds = atol(optarg); break;
		case 'c': cpu = atoi(optarg); break;
		case 'C': cpu2 = atoi(optarg); break;
		case 's': spin = strtoull(optarg, NULL, 0); spin_set = 1; break;
		case 't': seconds = atof(optarg); break;
		default: usage();
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	t0 = now_ms();

	if (!strcmp(mode, "hog")) {
		hog(cpu, seconds);
		printf("lz_reload hog cpu=%d elapsed_ms=%.0f\n", cpu, now_ms() - t0);
		return 0;
	}

	if (!strcmp(mode, "fast")) {
		pthread_t h;

		guest_spin = spin_set ? spin : 200000;
		vm = vm_create_with_one_vcpu(&vcpus[0], guest_code);
		sync_global_to_guest(vm, guest_spin);
		pin(cpu);
		pthread_create(&h, NULL, hog_thread, &cpu);
		for (long i = 0; i < rounds; i++)
			run_once(vcpus[0]);
		atomic_store(&hog_stop, 1);
		pthread_join(h, NULL);
		loads = rounds;
	} else if (!strcmp(mode, "other-vcpu")) {
		sem_t a, b;
		struct pingpong p[2];
		pthread_t t[2];

		guest_spin = spin;
		vm = vm_create_with_vcpus(2, guest_code, vcpus);
		sync_global_to_guest(vm, guest_spin);
		sem_init(&a, 0, 1);
		sem_init(&b, 0, 0);
		p[0] = (struct pingpong){ vcpus[0], &a, &b, cpu, rounds };
		p[1] = (struct pingpong){ vcpus[1], &b, &a, cpu, rounds };
		for (int i = 0; i < 2; i++)
			pthread_create(&t[i], NULL, pingpong_thread, &p[i]);
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		loads = 2 * rounds;
	} else if (!strcmp(mode, "other-pcpu")) {
		guest_spin = spin;
		vm = vm_create_with_one_vcpu(&vcpus[0], guest_code);
		sync_global_to_guest(vm, guest_spin);
		for (long i = 0; i < rounds; i++) {
			pin(i & 1 ? cpu2 : cpu);
			run_once(vcpus[0]);
		}
		loads = rounds;
	} else if (!strcmp(mode, "csr-dirty")) {
		uint64_t id = RISCV_GENERAL_CSR_REG(sscratch), val;

		guest_spin = spin;
		vm = vm_create_with_one_vcpu(&vcpus[0], guest_code);
		sync_global_to_guest(vm, guest_spin);
		pin(cpu);
		vcpu_get_reg(vcpus[0], id, &val);
		for (long i = 0; i < rounds; i++) {
			vcpu_set_reg(vcpus[0], id, val);
			run_once(vcpus[0]);
		}
		loads = rounds;
	} else {
		usage();
		return 2;
	}
	kvm_vm_free(vm);
	printf("lz_reload %s rounds=%ld loads_driven=%ld elapsed_ms=%.0f\n",
	       mode, rounds, loads, now_ms() - t0);
	return 0;
}
