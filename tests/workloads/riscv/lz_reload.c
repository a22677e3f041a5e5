// SPDX-License-Identifier: GPL-2.0
/*
 * lz_reload - a small riscv64 VMM on the KVM selftest library that drives
 * one kvm_arch_vcpu_load() reason of the lazy CSR restore series on purpose.
 *
 * usage: lz_reload MODE [-n ROUNDS] [-c CPU] [-C CPU2] [-s SPIN] [-t SECONDS] [-T] [-S]
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
 *   same-cpu    csr-dirty with KVM_GET_ONE_REG(sscratch) instead: the same
 *               ioctls, but nothing changes -> FAST in the KVM_RUN ioctl
 *               itself (fast reloads the scheduler's preempt notifier)
 *   hog         spin on CPU for SECONDS (no VM)
 *
 * Every KVM_RUN must end in the guest's GUEST_SYNC ucall.  Prints one
 * summary line "lz_reload MODE rounds=N loads_driven=N elapsed_ms=N", then
 * "lz_reload MODE stats vcpu_load_fast=N vcpu_load_slow=N": the change of
 * the vCPU stats of the series over the run, summed over the vCPUs (-1
 * where the kernel has no such stat), which says which reload the rounds
 * really took without any tracing.  -T also times every KVM_RUN ioctl in
 * user space (no BPF, no tracefs) and prints "lz_reload MODE kvm_run_ns
 * n=N p10=N p50=N p90=N": the observer-free view of the load cost.  -S
 * prints, before the VM goes away, "lz_reload kvmstat NAME VALUE" for
 * every stat file of its debugfs directories (/sys/kernel/debug/kvm/
 * PID-FD/, summed over the process's VMs), for tools/kvm/kvm_stat on the
 * host (tests/e2e/demo/kvm_stat_view.py).
 *
 * Build: static, riscv64-linux-gnu-gcc -std=gnu11 (the selftest headers use
 * typeof) -Wall -Wextra -Werror, linked with the selftests' libkvm objects.
 */
#define _GNU_SOURCE
#include <dirent.h>
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
#include <sys/stat.h>

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
/* Per-thread KVM_RUN timings (-T): ns[] has room for every round. */
struct timing {
	uint64_t *ns;
	long n;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void run_once(struct kvm_vcpu *vcpu, struct timing *tm)
{
	struct kvm_run *run = vcpu->run;
	struct ucall uc;
	uint64_t t0 = tm ? mono_ns() : 0;
	int rc;

	do {
		rc = __vcpu_run(vcpu);
	} while (rc == -1 && errno == EINTR);
	if (tm)
		tm->ns[tm->n++] = mono_ns() - t0;
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
	struct timing *tm;
};

static void *pingpong_thread(void *arg)
{
	struct pingpong *p = arg;

	pin(p->cpu);
	for (long i = 0; i < p->rounds; i++) {
		sem_wait(p->mine);
		run_once(p->vcpu, p->tm);
		sem_post(p->theirs);
	}
	return NULL;
}

/* The vCPU stats fd of each vCPU and its descriptors (KVM_GET_STATS_FD). */
struct vcpu_stats {
	int fd;
	struct kvm_stats_header hdr;
	struct kvm_stats_desc *desc;
};

static void stats_open(struct vcpu_stats *st, struct kvm_vcpu *vcpu)
{
	st->fd = vcpu_get_stats_fd(vcpu);
	read_stats_header(st->fd, &st->hdr);
	st->desc = read_stats_descriptors(st->fd, &st->hdr);
}

/* Value of stat name, or -1 when the kernel does not have it. */
static long long stats_read(struct vcpu_stats *st, const char *name)
{
	struct kvm_stats_desc *d;
	uint64_t v;

	for (uint32_t i = 0; i < st->hdr.num_desc; i++) {
		d = get_stats_descriptor(st->desc, i, &st->hdr);
		if (strcmp(d->name, name))
			continue;
		read_stat_data(st->fd, &st->hdr, d, &v, 1);
		return (long long)v;
	}
	return -1;
}

static const char *const load_stats[] = { "vcpu_load_fast", "vcpu_load_slow" };

/* at[k] = sum over the nr vCPUs of load_stats[k], or -1 if absent */
static void stats_sum(struct vcpu_stats *st, int nr, long long at[2])
{
	for (int k = 0; k < 2; k++) {
		at[k] = 0;
		for (int i = 0; i < nr && at[k] >= 0; i++) {
			long long v = stats_read(&st[i], load_stats[k]);

			at[k] = v < 0 ? -1 : at[k] + v;
		}
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank, r = ceil(q * n / 100). */
static uint64_t pct(const uint64_t *v, long n, int q)
{
	long r = (n * q + 99) / 100;

	return v[r < 1 ? 0 : r - 1];
}

static void print_timing(const char *mode, struct timing *tm, int nr)
{
	long n = 0;
	uint64_t *all;

	for (int i = 0; i < nr; i++)
		n += tm[i].n;
	if (!n)
		return;
	all = malloc(n * sizeof(*all));
	TEST_ASSERT(all, "malloc");
	n = 0;
	for (int i = 0; i < nr; i++)
		for (long j = 0; j < tm[i].n; j++)
			all[n++] = tm[i].ns[j];
	qsort(all, n, sizeof(*all), cmp_u64);
	printf("lz_reload %s kvm_run_ns n=%ld p10=%lu p50=%lu p90=%lu\n", mode, n,
	       (unsigned long)pct(all, n, 10), (unsigned long)pct(all, n, 50),
	       (unsigned long)pct(all, n, 90));
	free(all);
}

/* Sum of file name over the dirs PID-* of KVM's debugfs, -1 if none */
static long long debugfs_sum(const char *name)
{
	const char *top = "/sys/kernel/debug/kvm";
	char prefix[32], path[600], buf[32];
	struct dirent *e;
	long long sum = -1;
	DIR *d = opendir(top);

	if (!d)
		return -1;
	snprintf(prefix, sizeof(prefix), "%d-", getpid());
	while ((e = readdir(d))) {
		FILE *f;

		if (strncmp(e->d_name, prefix, strlen(prefix)))
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s", top, e->d_name, name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f))
			sum = (sum < 0 ? 0 : sum) + strtoll(buf, NULL, 10);
		fclose(f);
	}
	closedir(d);
	return sum;
}

/* -S: every stat file of our VMs' debugfs directories (names from the first) */
static void print_debugfs(void)
{
	const char *top = "/sys/kernel/debug/kvm";
	char prefix[32], path[512];
	struct dirent *e, *f;
	DIR *d = opendir(top), *vd = NULL;

	TEST_ASSERT(d, "opendir %s: %s", top, strerror(errno));
	snprintf(prefix, sizeof(prefix), "%d-", getpid());
	while (!vd && (e = readdir(d))) {
		if (strncmp(e->d_name, prefix, strlen(prefix)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", top, e->d_name);
		vd = opendir(path);
	}
	closedir(d);
	TEST_ASSERT(vd, "no %s/%s* directory", top, prefix);
	while ((f = readdir(vd))) {
		if (f->d_type == DT_REG)
			printf("lz_reload kvmstat %s %lld\n", f->d_name, debugfs_sum(f->d_name));
	}
	closedir(vd);
}

static void usage(void)
{
	fprintf(stderr, "usage: lz_reload fast|other-vcpu|other-pcpu|csr-dirty|same-cpu|hog "
		"[-n ROUNDS] [-c CPU] [-C CPU2] [-s SPIN] [-t SECONDS] [-T] [-S]\n");
	exit(2);
}

/* One round of csr-dirty (set) or same-cpu (get): the same two ioctls. */
static void reg_round(struct kvm_vcpu *vcpu, bool set, uint64_t *val,
		      struct timing *tm)
{
	uint64_t id = RISCV_GENERAL_CSR_REG(sscratch);

	if (set)
		vcpu_set_reg(vcpu, id, *val);
	else
		vcpu_get_reg(vcpu, id, val);
	run_once(vcpu, tm);
}

int main(int argc, char **argv)
{
	long rounds = 2000;
	int cpu = 1, cpu2 = 0, opt, nr = 1;
	uint64_t spin = 0, spin_set = 0, val;
	double seconds = 5, t0;
	const char *mode;
	struct kvm_vcpu *vcpus[2];
	struct vcpu_stats st[2];
	struct timing tm[2] = {};
	bool timed = false, dfs = false;
	long long before[2], after[2];
	struct kvm_vm *vm;
	long loads = 0;

	if (argc < 2)
		usage();
	mode = argv[1];
	optind = 2;
	while ((opt = getopt(argc, argv, "n:c:C:s:t:TS")) != -1) {
		switch (opt) {
		case 'n': rounds = atol(optarg); break;
		case 'c': cpu = atoi(optarg); break;
		case 'C': cpu2 = atoi(optarg); break;
		case 's': spin = strtoull(optarg, NULL, 0); spin_set = 1; break;
		case 't': seconds = atof(optarg); break;
		case 'T': timed = true; break;
		case 'S': dfs = true; break;
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
	if (rounds < 1)
		usage();
	for (int i = 0; timed && i < 2; i++) {
		tm[i].ns = calloc(rounds, sizeof(*tm[i].ns));
		TEST_ASSERT(tm[i].ns, "calloc");
	}
#define TM(i) (timed ? &tm[i] : NULL)

	if (!strcmp(mode, "fast")) {
		pthread_t h;

		guest_spin = spin_set ? spin : 200000;
		vm = vm_create_with_one_vcpu(&vcpus[0], guest_code);
		sync_global_to_guest(vm, guest_spin);
		stats_open(&st[0], vcpus[0]);
		stats_sum(st, nr, before);
		pin(cpu);
		pthread_create(&h, NULL, hog_thread, &cpu);
		for (long i = 0; i < rounds; i++)
			run_once(vcpus[0], TM(0));
		atomic_store(&hog_stop, 1);
		pthread_join(h, NULL);
		loads = rounds;
	} else if (!strcmp(mode, "other-vcpu")) {
		sem_t a, b;
		struct pingpong p[2];
		pthread_t t[2];

		guest_spin = spin;
		nr = 2;
		vm = vm_create_with_vcpus(2, guest_code, vcpus);
		sync_global_to_guest(vm, guest_spin);
		for (int i = 0; i < 2; i++)
			stats_open(&st[i], vcpus[i]);
		stats_sum(st, nr, before);
		sem_init(&a, 0, 1);
		sem_init(&b, 0, 0);
		p[0] = (struct pingpong){ vcpus[0], &a, &b, cpu, rounds, TM(0) };
		p[1] = (struct pingpong){ vcpus[1], &b, &a, cpu, rounds, TM(1) };
		for (int i = 0; i < 2; i++)
			pthread_create(&t[i], NULL, pingpong_thread, &p[i]);
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		loads = 2 * rounds;
	} else if (!strcmp(mode, "other-pcpu")) {
		guest_spin = spin;
		vm = vm_create_with_one_vcpu(&vcpus[0], guest_code);
		sync_global_to_guest(vm, guest_spin);
		stats_open(&st[0], vcpus[0]);
		stats_sum(st, nr, before);
		for (long i = 0; i < rounds; i++) {
			pin(i & 1 ? cpu2 : cpu);
			run_once(vcpus[0], TM(0));
		}
		loads = rounds;
	} else if (!strcmp(mode, "csr-dirty") || !strcmp(mode, "same-cpu")) {
		bool set = !strcmp(mode, "csr-dirty");

		guest_spin = spin;
		vm = vm_create_with_one_vcpu(&vcpus[0], guest_code);
		sync_global_to_guest(vm, guest_spin);
		stats_open(&st[0], vcpus[0]);
		pin(cpu);
		vcpu_get_reg(vcpus[0], RISCV_GENERAL_CSR_REG(sscratch), &val);
		/* the first KVM_RUN does the first-run set-up: not counted */
		reg_round(vcpus[0], set, &val, NULL);
		stats_sum(st, nr, before);
		for (long i = 0; i < rounds; i++)
			reg_round(vcpus[0], set, &val, TM(0));
		loads = rounds + 1;
	} else {
		usage();
		return 2;
	}
#undef TM
	stats_sum(st, nr, after);
	if (dfs)
		print_debugfs();
	for (int i = 0; i < nr; i++) {
		close(st[i].fd);
		free(st[i].desc);
	}
	kvm_vm_free(vm);
	printf("lz_reload %s rounds=%ld loads_driven=%ld elapsed_ms=%.0f\n",
	       mode, rounds, loads, now_ms() - t0);
	printf("lz_reload %s stats vcpu_load_fast=%lld vcpu_load_slow=%lld\n", mode,
	       before[0] < 0 ? -1 : after[0] - before[0],
	       before[1] < 0 ? -1 : after[1] - before[1]);
	if (timed)
		print_timing(mode, tm, nr);
	for (int i = 0; i < 2; i++)
		free(tm[i].ns);
	return 0;
}
