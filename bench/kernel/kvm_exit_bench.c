// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_exit_bench - arm64 KVM exit round-trip timing with the raw KVM API
 * (static, no selftest library), run inside a QEMU guest by
 * bench/kernel/run-bench-arm64.sh on the base and the patched pKVM
 * kernels.
 *
 * usage: kvm_exit_bench hvc ROUNDS N | mmio COUNT | ipi COUNT | preempt COUNT
 *
 *   hvc   The guest (EL1, MMU off) issues N HVC #0 SMCCC_VERSION calls,
 *         each handled inside the host kernel (a trap exit and a
 *         re-entry, no return to user space), then one MMIO write that
 *         returns from KVM_RUN. Each KVM_RUN is timed; a round gives
 *         (time / N) ns per exit round trip. ROUNDS rounds.
 *   mmio  The guest writes to an address with no memslot in a loop:
 *         every write returns to user space (KVM_EXIT_MMIO). Each
 *         KVM_RUN is timed: a user-space exit round trip.
 *   ipi   The guest spins, storing a counter to its memory; a second
 *         thread on the other CPU sends it IPIs with
 *         membarrier(PRIVATE_EXPEDITED), which waits for the target CPU
 *         to run the IPI handler, i.e. for the guest to exit to the host
 *         on an interrupt (the exit pKVM copies lazily). Before each IPI
 *         the sender waits until the counter moves (the guest is back in
 *         guest mode after the previous exit). Each membarrier() is
 *         timed, first while the vCPU thread spins in user space
 *         ("ipi-idle", no guest), then while it runs the guest.
 *   preempt The guest spins as for ipi, its vCPU thread on CPU 1; a second
 *         thread on CPU 1 too sleeps 50 us at a time. Each wake-up is a
 *         timer interrupt exit, then the sleeper preempts the vCPU
 *         thread (vcpu_put() while scheduled out) and the vCPU thread is
 *         loaded again when it sleeps: the put/load path under pKVM.
 *         Each sleep is timed (ns per sleep-wake cycle), and the guest's
 *         counter gives its progress over the run (guest_iters).
 *
 * Output, one line per workload, for the host to parse:
 *   BENCH: <workload> n=<samples> median_ns=<m> p10_ns=<a> p90_ns=<b> [exits=<e>]
 * Exit status 0 ok, 1 error, 2 usage, 4 skip (no /dev/kvm).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/membarrier.h>
#include <pthread.h>
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
#include <time.h>
#include <unistd.h>

#define GUEST_BASE	0x80000000ULL
#define GUEST_SIZE	0x10000ULL
#define MMIO_ADDR	0x10000000ULL	/* no memslot: KVM_EXIT_MMIO */
#define SMCCC_VERSION	0x80000000ULL	/* handled in the host kernel */
#define COUNTER_OFF	0x8000		/* guest_spin's counter, in the memslot */

#define CORE_REG(field)	(KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | \
			 (offsetof(struct kvm_regs, field) / sizeof(uint32_t)))
#define REG_X(n)	CORE_REG(regs.regs[n])
#define REG_PC		CORE_REG(regs.pc)

/*
 * Guest code, position independent. HVC clobbers x0-x3 (SMCCC results),
 * so the loop state lives in x6-x10: x7 = N, x8 = MMIO address, x9 =
 * function id, x10 = the counter's guest physical address.
 */
extern const uint32_t guest_hvc[], guest_hvc_end[];
extern const uint32_t guest_mmio[], guest_mmio_end[];
extern const uint32_t guest_spin[], guest_spin_end[];
__asm__(
	".pushsection .rodata\n"
	".balign 4\n"
	".global guest_hvc, guest_hvc_end\n"
	"guest_hvc:\n"
	"1:	mov	x6, x7\n"
	"2:	mov	x0, x9\n"
	"	hvc	#0\n"
	"	subs	x6, x6, #1\n"
	"	b.ne	2b\n"
	"	str	xzr, [x8]\n"
	"	b	1b\n"
	"guest_hvc_end:\n"
	".global guest_mmio, guest_mmio_end\n"
	"guest_mmio:\n"
	"1:	str	xzr, [x8]\n"
	"	b	1b\n"
	"guest_mmio_end:\n"
	".global guest_spin, guest_spin_end\n"
	"guest_spin:\n"
	"1:	add	x0, x0, #1\n"
	"	str	x0, [x10]\n"
	"	b	1b\n"
	"guest_spin_end:\n"
	".popsection\n");

struct vm {
	int kvm, vm, vcpu;
	struct kvm_run *run;
	char *mem;
};

static void die(const char *what)
{
	printf("kvm_exit_bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void set_reg(int vcpu, uint64_t id, uint64_t val)
{
	struct kvm_one_reg reg = { .id = id, .addr = (uintptr_t)&val };

	if (ioctl(vcpu, KVM_SET_ONE_REG, &reg))
		die("KVM_SET_ONE_REG");
}

static void pin(int cpu)
{
	cpu_set_t set;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void vm_create(struct vm *v, const uint32_t *code, const uint32_t *end)
{
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = GUEST_BASE,
		.memory_size = GUEST_SIZE,
	};
	struct kvm_vcpu_init init;
	long mmap_size;
	void *mem;

	v->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (v->kvm < 0) {
		printf("kvm_exit_bench: skip, /dev/kvm: %s\n", strerror(errno));
		exit(4);
	}
	v->vm = ioctl(v->kvm, KVM_CREATE_VM, 0);
	if (v->vm < 0)
		die("KVM_CREATE_VM");
	mem = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap guest memory");
	memcpy(mem, code, (const char *)end - (const char *)code);
	v->mem = mem;
	region.userspace_addr = (uintptr_t)mem;
	if (ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &region))
		die("KVM_SET_USER_MEMORY_REGION");
	v->vcpu = ioctl(v->vm, KVM_CREATE_VCPU, 0);
	if (v->vcpu < 0)
		die("KVM_CREATE_VCPU");
	mmap_size = ioctl(v->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	v->run = mmap(NULL, mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->vcpu, 0);
	if (v->run == MAP_FAILED)
		die("mmap kvm_run");
	if (ioctl(v->vm, KVM_ARM_PREFERRED_TARGET, &init))
		die("KVM_ARM_PREFERRED_TARGET");
	if (ioctl(v->vcpu, KVM_ARM_VCPU_INIT, &init))
		die("KVM_ARM_VCPU_INIT");
	set_reg(v->vcpu, REG_PC, GUEST_BASE);
	set_reg(v->vcpu, REG_X(8), MMIO_ADDR);
	set_reg(v->vcpu, REG_X(9), SMCCC_VERSION);
	set_reg(v->vcpu, REG_X(10), GUEST_BASE + COUNTER_OFF);
}

/* One KVM_RUN that must end in the guest's MMIO write. */
static void run_to_mmio(struct vm *v)
{
	if (ioctl(v->vcpu, KVM_RUN, 0))
		die("KVM_RUN");
	if (v->run->exit_reason != KVM_EXIT_MMIO ||
	    v->run->mmio.phys_addr != MMIO_ADDR) {
		printf("kvm_exit_bench: unexpected exit reason %u\n",
		       v->run->exit_reason);
		exit(1);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *what, uint64_t *s, long n, long exits)
{
	qsort(s, n, sizeof(*s), cmp_u64);
	printf("BENCH: %s n=%ld median_ns=%llu p10_ns=%llu p90_ns=%llu", what, n,
	       (unsigned long long)s[n / 2],
	       (unsigned long long)s[n / 10],
	       (unsigned long long)s[n * 9 / 10]);
	if (exits >= 0)
		printf(" exits=%ld", exits);
	printf("\n");
	fflush(stdout);
}

static void bench_hvc(long rounds, long n)
{
	uint64_t *s = calloc(rounds, sizeof(*s));
	struct vm v;
	long i;

	if (!s)
		die("calloc");
	vm_create(&v, guest_hvc, guest_hvc_end);
	set_reg(v.vcpu, REG_X(7), n);
	pin(1);
	run_to_mmio(&v);	/* warm up: fault the code page in */
	for (i = 0; i < rounds; i++) {
		uint64_t t0 = now_ns();

		run_to_mmio(&v);
		s[i] = (now_ns() - t0) / n;
	}
	report("hvc", s, rounds, rounds * (n + 1));
}

static void bench_mmio(long count)
{
	uint64_t *s = calloc(count, sizeof(*s));
	struct vm v;
	long i;

	if (!s)
		die("calloc");
	vm_create(&v, guest_mmio, guest_mmio_end);
	pin(1);
	run_to_mmio(&v);
	for (i = 0; i < count; i++) {
		uint64_t t0 = now_ns();

		run_to_mmio(&v);
		s[i] = now_ns() - t0;
	}
	report("mmio", s, count, count);
}

/* ---- ipi ---------------------------------------------------------------- */

static volatile int phase;	/* 0 setup, 1 spin in user space, 2 run guest, 3 stop */
static volatile int in_phase;	/* the vCPU thread's acknowledgement */
static volatile int vcpu_done;
static struct vm ipi_vm;

static void on_usr1(int sig)
{
	(void)sig;
}

static void *vcpu_thread(void *arg)
{
	(void)arg;
	pin(1);
	in_phase = 1;
	while (phase == 1)
		;	/* spin in user space on CPU 1 */
	in_phase = 2;
	while (phase == 2) {
		/* returns on SIGUSR1 (EINTR) only */
		if (ioctl(ipi_vm.vcpu, KVM_RUN, 0) && errno != EINTR)
			die("KVM_RUN");
	}
	vcpu_done = 1;
	return NULL;
}

static int membarrier(int cmd)
{
	return syscall(__NR_membarrier, cmd, 0, 0);
}

/*
 * in_guest: before each IPI wait until the guest's counter moves, so the
 * IPI finds the vCPU in guest mode, not still in the host after the
 * previous exit; give up on a sample after 100 ms (counted as "stale").
 * Otherwise leave 200 us between IPIs.
 */
static void time_ipis(const char *what, long count, int in_guest)
{
	volatile uint64_t *ctr = (volatile uint64_t *)(ipi_vm.mem + COUNTER_OFF);
	uint64_t *s = calloc(count, sizeof(*s));
	long i, stale = 0;

	if (!s)
		die("calloc");
	for (i = 0; i < count; i++) {
		uint64_t t0 = now_ns(), c0 = *ctr;

		if (in_guest) {
			while (*ctr == c0 && now_ns() - t0 < 100000000ULL)
				;
			stale += *ctr == c0;
		} else {
			while (now_ns() - t0 < 200000)
				;
		}
		t0 = now_ns();

		if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED))
			die("membarrier");
		s[i] = now_ns() - t0;
	}
	report(what, s, count, -1);
	if (stale)
		printf("kvm_exit_bench: %s: %ld IPIs sent without seeing the guest run\n",
		       what, stale);
	free(s);
}

/* Phase 3 ends the vCPU thread's loop; kick it out of KVM_RUN and join it. */
static void stop_vcpu_thread(pthread_t t)
{
	phase = 3;
	/* a signal just before KVM_RUN would be missed: immediate_exit too */
	ipi_vm.run->immediate_exit = 1;
	while (!vcpu_done) {
		pthread_kill(t, SIGUSR1);
		usleep(10000);
	}
	pthread_join(t, NULL);
}

static void bench_ipi(long count)
{
	struct sigaction sa = { .sa_handler = on_usr1 };	/* no SA_RESTART */
	pthread_t t;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		printf("kvm_exit_bench: ipi needs 2 CPUs\n");
		exit(1);
	}
	if (membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED))
		die("membarrier register");
	sigaction(SIGUSR1, &sa, NULL);
	vm_create(&ipi_vm, guest_spin, guest_spin_end);
	pin(0);
	phase = 1;
	if (pthread_create(&t, NULL, vcpu_thread, NULL))
		die("pthread_create");
	while (in_phase != 1)
		;
	usleep(10000);
	time_ipis("ipi-idle", count, 0);
	phase = 2;
	while (in_phase != 2)
		;
	usleep(50000);	/* let the guest get going */
	time_ipis("ipi", count, 1);
	stop_vcpu_thread(t);
}

/* ---- preempt ------------------------------------------------------------ */

static void bench_preempt(long count)
{
	volatile uint64_t *ctr;
	struct sigaction sa = { .sa_handler = on_usr1 };	/* no SA_RESTART */
	struct timespec nap = { .tv_nsec = 50000 };
	uint64_t *s = calloc(count, sizeof(*s));
	uint64_t c0, t_all;
	pthread_t t;
	long i;

	if (!s)
		die("calloc");
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		printf("kvm_exit_bench: preempt needs 2 CPUs\n");
		exit(1);
	}
	sigaction(SIGUSR1, &sa, NULL);
	vm_create(&ipi_vm, guest_spin, guest_spin_end);
	ctr = (volatile uint64_t *)(ipi_vm.mem + COUNTER_OFF);
	phase = 2;	/* straight into the guest */
	if (pthread_create(&t, NULL, vcpu_thread, NULL))
		die("pthread_create");
	while (in_phase != 2)
		;
	pin(1);		/* share CPU 1 with the vCPU thread */
	usleep(50000);	/* let the guest get going */
	c0 = *ctr;
	t_all = now_ns();
	for (i = 0; i < count; i++) {
		uint64_t t0 = now_ns();

		nanosleep(&nap, NULL);
		s[i] = now_ns() - t0;
	}
	t_all = now_ns() - t_all;
	report("preempt", s, count, -1);
	printf("kvm_exit_bench: preempt: guest_iters=%llu in %llu ns\n",
	       (unsigned long long)(*ctr - c0), (unsigned long long)t_all);
	stop_vcpu_thread(t);
	free(s);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && !strcmp(argv[1], "hvc"))
		bench_hvc(atol(argv[2]), atol(argv[3]));
	else if (argc == 3 && !strcmp(argv[1], "mmio"))
		bench_mmio(atol(argv[2]));
	else if (argc == 3 && !strcmp(argv[1], "ipi"))
		bench_ipi(atol(argv[2]));
	else if (argc == 3 && !strcmp(argv[1], "preempt"))
		bench_preempt(atol(argv[2]));
	else {
		printf("usage: kvm_exit_bench hvc ROUNDS N | mmio COUNT | ipi COUNT | preempt COUNT\n");
		return 2;
	}
	return 0;
}
