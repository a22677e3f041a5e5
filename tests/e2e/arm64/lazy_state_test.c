// SPDX-License-Identifier: GPL-2.0
/*
 * lazy_state_test - check that a vCPU's register context survives the
 * pKVM lazy sync: the host must always read the guest's latest state
 * after KVM_RUN returns, and whatever it writes (KVM_SET_ONE_REG,
 * KVM_ARM_VCPU_INIT) must be what the guest runs with next, also when
 * the vCPU thread moves between physical CPUs.
 *
 * The guest spins at EL1 with the MMU off:
 *
 *		mrs	x5, cntv_cval_el0	// timer register, host-owned
 *	1:	add	x0, x0, #1		// progress counter
 *		mrs	x1, tpidr_el1		// reads a host-written sysreg
 *		mrs	x3, cntv_cval_el0	// still what we wrote last?
 *		cmp	x3, x5
 *		cinc	x4, x4, ne		// count the reverts
 *		mov	x5, x0
 *		msr	cntv_cval_el0, x5	// (the timer stays disabled)
 *		isb
 *		add	x2, x2, #1		// second counter, x0 - x2 is 0 or 1
 *		msr	tpidr_el0, x0		// writes a sysreg the host reads
 *		nop / msr dbgbvr0_el1, x0	// --debug-regs: live debug regs
 *		b	1b
 *
 * (QEMU's TCG takes interrupts between translation blocks only; the
 * timer write and the isb end one, so the guest can be interrupted
 * between the two adds as well as at the top of the loop.)
 *
 * so it only exits for host interrupts: the exits pKVM no longer copies
 * the context back for. A periodic SIGALRM makes KVM_RUN return; each
 * round the host reads x0-x4, TPIDR_EL0 and PC and checks them, every
 * few rounds it moves x0 and x2 forward and changes TPIDR_EL1, and now
 * and then it resets the vCPU. In odd rounds a second thread keeps
 * moving the vCPU thread between the CPUs while it is in KVM_RUN, so
 * that it is scheduled out with its context in the hypervisor and loaded
 * again on another CPU; in even rounds the vCPU stays where it is and
 * takes several interrupt exits in a row with the context kept in the
 * hypervisor.
 *
 * What each kind of breakage looks like:
 * - a stale hypervisor copy run after a host write, or a host copy not
 *   refreshed when KVM_RUN returns: x0 going backwards or not moving,
 *   x1 not matching, TPIDR_EL0 disagreeing with x0;
 * - a guest resumed at a stale PC (PC not mirrored at an interrupt
 *   exit): part of the loop runs twice, and x0 - x2 leaves {0, 1};
 * - the host's timer registers overwritten by the hypervisor's older
 *   copy: the guest reads back another CNTV_CVAL_EL0 than it wrote
 *   (x4 > 0).
 *
 * With --guest-debug the host also turns guest debug on
 * (KVM_SET_GUEST_DEBUG, KVM_GUESTDBG_ENABLE only: no single step, no
 * breakpoints, so the exits stay interrupt exits). The hypervisor must
 * then copy the context back on every exit; the checks are the same,
 * and tests/e2e/arm64 counts from the trace that no exit skipped.
 * With --debug-regs the guest writes DBGBVR0_EL1 on every iteration:
 * the first write of a run traps, the others run with the debug
 * registers live (DEBUG_DIRTY), and every interrupt exit of such a run
 * must sync for debug (counted from the trace by tests/e2e/arm64).
 *
 * Exit status: 0 pass, 1 fail, 4 skip (no /dev/kvm), kselftest style.
 * Static, raw KVM API, no selftest library.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
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
#include <sys/time.h>
#include <unistd.h>
#include <linux/kvm.h>

#define GUEST_BASE	0x80000000ULL
#define GUEST_SIZE	0x10000ULL
#define ROUNDS		60
#define JUMP		1000000000ULL

#define CORE_REG(field)	(KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | \
			 (offsetof(struct kvm_regs, field) / sizeof(uint32_t)))
#define REG_X(n)	CORE_REG(regs.regs[n])
#define REG_PC		CORE_REG(regs.pc)
#define REG_TPIDR_EL1	ARM64_SYS_REG(3, 0, 13, 0, 4)
#define REG_TPIDR_EL0	ARM64_SYS_REG(3, 3, 13, 0, 2)

#define GUEST_DBG_SLOT	11	/* index of the nop / msr dbgbvr0_el1 */

static uint32_t guest_code[] = {
	0xd53be345,	/*	mrs  x5, cntv_cval_el0 */
	0x91000400,	/* 1:	add  x0, x0, #1 */
	0xd538d081,	/*	mrs  x1, tpidr_el1 */
	0xd53be343,	/*	mrs  x3, cntv_cval_el0 */
	0xeb05007f,	/*	cmp  x3, x5 */
	0x9a840484,	/*	cinc x4, x4, ne */
	0xaa0003e5,	/*	mov  x5, x0 */
	0xd51be345,	/*	msr  cntv_cval_el0, x5 */
	0xd5033fdf,	/*	isb */
	0x91000442,	/*	add  x2, x2, #1 */
	0xd51bd040,	/*	msr  tpidr_el0, x0 */
	0xd503201f,	/*	nop, or msr dbgbvr0_el1, x0 (--debug-regs) */
	0x17fffff5,	/*	b    1b */
};

#define INSN_MSR_DBGBVR0_X0	0xd5100080

#define TRACEFS		"/sys/kernel/tracing"
#define SYNC_EVENT	TRACEFS "/events/kvm/kvm_arm_pkvm_state_sync"

static int failures;
static int guest_debug;
static volatile int migrator_stop;
static volatile int migrator_on;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		printf("lazy_state_test: FAIL: " __VA_ARGS__);		\
		printf("\n");						\
		failures++;						\
	}								\
} while (0)

static void die(const char *what)
{
	printf("lazy_state_test: %s: %s\n", what, strerror(errno));
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

static void vcpu_init(int vm, int vcpu)
{
	struct kvm_vcpu_init init;

	if (ioctl(vm, KVM_ARM_PREFERRED_TARGET, &init))
		die("KVM_ARM_PREFERRED_TARGET");
	if (ioctl(vcpu, KVM_ARM_VCPU_INIT, &init))
		die("KVM_ARM_VCPU_INIT");
	set_reg(vcpu, REG_PC, GUEST_BASE);
	if (guest_debug) {
		struct kvm_guest_debug dbg = { .control = KVM_GUESTDBG_ENABLE };

		if (ioctl(vcpu, KVM_SET_GUEST_DEBUG, &dbg))
			die("KVM_SET_GUEST_DEBUG");
	}
}

static void on_alarm(int sig)
{
	(void)sig;
}

static int write_str(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -1;
	ret = fputs(val, f) < 0 ? -1 : 0;
	if (fclose(f))
		ret = -1;
	return ret;
}

/*
 * --debug-regs: the series' kvm_arm_pkvm_state_sync tracepoint, enabled
 * here (tests/e2e/arm64/init.c enables it too and clears the buffer
 * before each test). 0 when on, 1 when the kernel has no such event (an
 * unpatched kernel), -1 when it cannot be turned on.
 */
static int sync_trace_on(void)
{
	if (access(SYNC_EVENT, F_OK))
		return 1;
	if (write_str(SYNC_EVENT "/enable", "1") ||
	    write_str(TRACEFS "/tracing_on", "1"))
		return -1;
	return 0;
}

/* Exit events of one reason in the trace buffer, or -1. */
static long sync_trace_count(const char *reason)
{
	char line[512], needle[64];
	long n = 0;
	FILE *f;

	f = fopen(TRACEFS "/trace", "r");
	if (!f)
		return -1;
	snprintf(needle, sizeof(needle), " to_host %s exit ", reason);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "kvm_arm_pkvm_state_sync:") && strstr(line, needle))
			n++;
	fclose(f);
	return n;
}

/*
 * Keep moving the vCPU thread between the first two CPUs while it runs,
 * so that it is scheduled out in the middle of KVM_RUN and loaded again
 * on another CPU, every few milliseconds.
 */
static void *migrator(void *arg)
{
	pid_t tid = *(pid_t *)arg;
	int ncpus = sysconf(_SC_NPROCESSORS_ONLN), n = 0;
	struct timespec pause = { .tv_nsec = 3000000 };
	cpu_set_t set;

	if (ncpus < 2)
		return NULL;
	while (!migrator_stop) {
		if (!migrator_on) {
			nanosleep(&pause, NULL);
			continue;
		}
		CPU_ZERO(&set);
		CPU_SET(n++ % 2, &set);
		sched_setaffinity(tid, sizeof(set), &set);
		nanosleep(&pause, NULL);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = GUEST_BASE,
		.memory_size = GUEST_SIZE,
	};
	uint64_t last_x0 = 0, floor_x0 = 0, tpidr_el1 = 0x1111;
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval tick = {
		.it_interval = { .tv_usec = 20000 },
		.it_value = { .tv_usec = 20000 },
	};
	int kvm, vm, vcpu, round, intr = 0, resets = 0, jumps = 0, progressed = 0;
	int debug_regs = 0, traced = 0;
	pthread_t mig;
	pid_t tid;
	struct kvm_run *run;
	void *mem;
	long mmap_size;

	if (argc == 2 && !strcmp(argv[1], "--guest-debug")) {
		guest_debug = 1;
	} else if (argc == 2 && !strcmp(argv[1], "--debug-regs")) {
		debug_regs = 1;
		guest_code[GUEST_DBG_SLOT] = INSN_MSR_DBGBVR0_X0;
	} else if (argc != 1) {
		printf("usage: lazy_state_test [--guest-debug | --debug-regs]\n");
		return 2;
	}

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		printf("lazy_state_test: skip, /dev/kvm: %s\n", strerror(errno));
		return 4;
	}
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");

	mem = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap guest memory");
	memcpy(mem, guest_code, sizeof(guest_code));
	region.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region))
		die("KVM_SET_USER_MEMORY_REGION");

	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		die("KVM_CREATE_VCPU");
	mmap_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	run = mmap(NULL, mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");

	vcpu_init(vm, vcpu);
	set_reg(vcpu, REG_TPIDR_EL1, tpidr_el1);

	if (debug_regs) {
		traced = sync_trace_on();
		if (traced < 0) {
			printf("lazy_state_test: FAIL: cannot enable %s: %s\n",
			       SYNC_EVENT, strerror(errno));
			return 1;
		}
	}

	sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART: KVM_RUN returns */
	setitimer(ITIMER_REAL, &tick, NULL);
	tid = syscall(SYS_gettid);
	if (pthread_create(&mig, NULL, migrator, &tid)) {
		printf("lazy_state_test: pthread_create failed\n");
		return 1;
	}

	for (round = 0; round < ROUNDS; round++) {
		uint64_t x0, x1, x2, x4, pc, tpidr_el0;
		int ret;

		/*
		 * Odd rounds: moved between CPUs while in KVM_RUN. Even rounds:
		 * left on one CPU, so that its interrupt exits (timer ticks)
		 * are not each followed by a fetch on the next CPU.
		 */
		migrator_on = round & 1;
		ret = ioctl(vcpu, KVM_RUN, 0);
		if (ret < 0 && errno == EINTR) {
			intr++;
		} else if (ret < 0) {
			die("KVM_RUN");
		} else if (run->exit_reason != KVM_EXIT_INTR) {
			printf("lazy_state_test: FAIL: unexpected exit reason %u\n",
			       run->exit_reason);
			return 1;
		}

		x0 = get_reg(vcpu, REG_X(0));
		x1 = get_reg(vcpu, REG_X(1));
		x2 = get_reg(vcpu, REG_X(2));
		x4 = get_reg(vcpu, REG_X(4));
		pc = get_reg(vcpu, REG_PC);
		tpidr_el0 = get_reg(vcpu, REG_TPIDR_EL0);

		CHECK(pc >= GUEST_BASE && pc < GUEST_BASE + sizeof(guest_code),
		      "round %d: pc 0x%llx outside the guest loop", round,
		      (unsigned long long)pc);
		CHECK(x0 >= floor_x0, "round %d: x0 %llu below %llu (stale context run?)",
		      round, (unsigned long long)x0, (unsigned long long)floor_x0);
		CHECK(x0 >= last_x0, "round %d: x0 went back from %llu to %llu",
		      round, (unsigned long long)last_x0, (unsigned long long)x0);
		/*
		 * Once the guest has gone round its loop since the last host
		 * write, it stopped on one of its 4 instructions: TPIDR_EL0 is
		 * x0 or x0 - 1, and x1 holds the TPIDR_EL1 the host set.
		 */
		if (x0 >= floor_x0 + 2) {
			CHECK(tpidr_el0 == x0 || tpidr_el0 + 1 == x0,
			      "round %d: tpidr_el0 %llu vs x0 %llu", round,
			      (unsigned long long)tpidr_el0,
			      (unsigned long long)x0);
			CHECK(x1 == tpidr_el1,
			      "round %d: x1 0x%llx, tpidr_el1 was set to 0x%llx",
			      round, (unsigned long long)x1,
			      (unsigned long long)tpidr_el1);
		}
		CHECK(x0 == x2 || x0 == x2 + 1,
		      "round %d: x0 %llu, x2 %llu (guest resumed at a stale PC?)",
		      round, (unsigned long long)x0, (unsigned long long)x2);
		CHECK(x4 == 0,
		      "round %d: the guest saw CNTV_CVAL_EL0 revert %llu times (hypervisor copy of a timer register written back?)",
		      round, (unsigned long long)x4);
		if (x0 > last_x0)
			progressed++;
		last_x0 = x0;

		if (round % 13 == 12) {
			/* Reset: the guest must start over from x0 == 0. */
			vcpu_init(vm, vcpu);
			CHECK(get_reg(vcpu, REG_X(0)) == 0,
			      "round %d: x0 not 0 after KVM_ARM_VCPU_INIT", round);
			tpidr_el1 = 0x2222 + round;
			set_reg(vcpu, REG_TPIDR_EL1, tpidr_el1);
			last_x0 = 0;
			floor_x0 = 0;
			resets++;
		} else if (round % 4 == 3) {
			/* Move the counter and the sysreg the guest reads. */
			floor_x0 = x0 + JUMP;
			set_reg(vcpu, REG_X(0), floor_x0);
			/* keep x0 - x2: the guest may be between the adds */
			set_reg(vcpu, REG_X(2), floor_x0 - (x0 - x2));
			tpidr_el1 = 0x5a5a0000 + round;
			set_reg(vcpu, REG_TPIDR_EL1, tpidr_el1);
			last_x0 = floor_x0;
			jumps++;
		}
	}

	migrator_stop = 1;
	pthread_join(mig, NULL);

	/*
	 * Each round gives the guest 20 ms: it must have moved on in most
	 * of them, or the host is reading a copy that is never refreshed.
	 */
	CHECK(progressed >= ROUNDS / 2,
	      "x0 advanced in only %d of %d rounds", progressed, ROUNDS);

	/*
	 * Live debug registers: a run that started with a trapped write to
	 * DBGBVR0_EL1 goes on with DEBUG_DIRTY set, and its interrupt exits
	 * must hand the context back for debug.
	 */
	if (debug_regs && traced == 0) {
		long dbg = sync_trace_count("sync_debug");
		long skip = sync_trace_count("skip_irq");

		if (dbg < 0 || skip < 0) {
			printf("lazy_state_test: FAIL: cannot read %s/trace\n", TRACEFS);
			return 1;
		}
		CHECK(dbg > 0,
		      "no interrupt exit synced for live debug registers (sync_debug %ld, skip_irq %ld)",
		      dbg, skip);
		printf("lazy_state_test --debug-regs: exits synced for debug %ld, skipped %ld\n",
		       dbg, skip);
	}

	printf("lazy_state_test%s: %d rounds (%d interrupted, %d with progress), %d jumps, %d resets, %d failures\n",
	       guest_debug ? " --guest-debug" : debug_regs ? " --debug-regs" : "", ROUNDS, intr, progressed,
	       jumps, resets, failures);
	if (failures)
		return 1;
	if (debug_regs && traced == 1) {
		printf("lazy_state_test --debug-regs: skip, no %s (unpatched kernel)\n",
		       SYNC_EVENT);
		return 4;
	}
	return 0;
}
