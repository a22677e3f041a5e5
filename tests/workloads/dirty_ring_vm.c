// SPDX-License-Identifier: GPL-2.0
/*
 * dirty_ring_vm: a small deterministic VMM for kvm-lazytop's host tests,
 * built on the kernel's KVM selftest library (x86_64).
 *
 * The VM runs in dirty-ring mode (KVM_CAP_DIRTY_LOG_RING_ACQ_REL, or
 * KVM_CAP_DIRTY_LOG_RING when ACQ_REL is absent).  A dedicated memslot with
 * KVM_MEM_LOG_DIRTY_PAGES holds V x N guest pages; vCPU i owns pages
 * [i*N, (i+1)*N).  Round r (1..R) of vCPU i: the guest writes one 64-bit
 * word into each of its N pages (one write per page), then exits to
 * userspace with GUEST_SYNC(r) (an x86 PIO ucall).  The vCPU's host thread
 * then harvests the vCPU's dirty ring and resets it (KVM_RESET_DIRTY_RINGS)
 * before re-entering the guest, and verifies that the ring held exactly the
 * N pages of that vCPU, each exactly once, that KVM reset exactly that many
 * entries, and that each page holds the value written in that round.
 * After round R the guest does GUEST_DONE.
 *
 * Exact, documented counts for one run (fixed mode, -r R >= 1):
 *   dirty pages per vCPU  = N x R   (ring entries harvested by that vCPU ==
 *                                    kvm_dirty_ring_push events on its thread)
 *   dirty pages, total    = V x N x R
 *   KVM_RUN ioctls / vCPU = R + 1   (R GUEST_SYNC exits + 1 GUEST_DONE exit)
 *                           + one per KVM_RUN that returned EINTR (counted,
 *                           never expected; reported as kvm_run_eintr)
 *   KVM_RUN ioctls, total = the "kvm_runs" of the RESULT line
 *   userspace exits / vCPU = R + 1, all KVM_EXIT_IO (the PIO ucalls); the
 *                           library's extra immediate-exit KVM_RUN after each
 *                           ucall is avoided (see read_ucall()).
 * The VMM counts every KVM_RUN ioctl it issues itself (completed or not)
 * and prints it; it fails (exit 1) if anything deviates from the above.
 * Only the test memslot has dirty logging, so guest stack/page-table/ucall
 * writes (memslot 0) never produce ring entries.  The ring is sized so the
 * soft limit is never reached between two exits (N + reserved entries, see
 * ring_entries_for()), i.e. KVM_EXIT_DIRTY_RING_FULL never happens (it is a
 * failure if it does).
 *
 * Loop mode (-r 0 -t SECONDS): rounds continue until SECONDS have elapsed
 * (or SIGTERM/SIGINT); each vCPU stops after its first GUEST_SYNC past the
 * deadline without re-entering the guest, so per vCPU: kvm_runs = rounds
 * (+EINTR retries) and dirty pages = N x rounds.
 *
 * Output (stdout; the selftest library also prints a "Random seed" line):
 *   READY pid=<pid> vcpus=<V> pages=<N> rounds=<R> ring_entries=<E>
 *       once the VM and its vCPUs exist, before any KVM_RUN
 *   VCPU id=<i> tid=<tid> kvm_runs=<n> kvm_run_eintr=<n> rounds=<n> dirty_pages=<n>
 *   RESULT kvm_runs=<total> dirty_pages=<total> vcpus=<V> pages=<N>
 *       rounds=<R or rounds of vCPU 0 in loop mode> dirty_pages_per_vcpu=<N*R>
 *       kvm_runs_per_vcpu=<R+1> ring_entries=<E> status=ok
 * Exit: 0 ok, 1 verification/KVM failure, 2 usage error (254 = a selftest
 * library assertion, 4 = library says KVM lacks a required capability).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "ucall_common.h"

#define TEST_SLOT		1
#define TEST_GPA		0x40000000ULL	/* 1 GiB, far above memslot 0 */
#define TEST_GVA		0xc0000000ULL
#define MAX_VCPUS		64
#define MAX_PAGES_PER_VCPU	(1u << 20)
/* KVM reserves KVM_DIRTY_RING_RSVD_ENTRIES (64) + the PML size (512). */
#define RING_RSVD_GUESS		1024

/* Shared with the guest (sync_global_to_guest). */
static uint64_t guest_npages;	/* pages per vCPU */
static uint64_t guest_rounds;	/* 0 = until told to stop */
static uint64_t guest_psize;

static inline uint64_t page_value(uint64_t vcpu, uint64_t round, uint64_t page)
{
	return (round << 40) | (vcpu << 24) | page;
}

static void guest_code(uint64_t vcpu_idx)
{
	uint64_t base = TEST_GVA + vcpu_idx * guest_npages * guest_psize;
	uint64_t r, p;

	for (r = 1; guest_rounds == 0 || r <= guest_rounds; r++) {
		for (p = 0; p < guest_npages; p++)
			*(volatile uint64_t *)(base + p * guest_psize) =
				page_value(vcpu_idx, r, p);
		GUEST_SYNC1(r);
	}
	GUEST_DONE();
}

struct vcpu_ctx {
	struct kvm_vcpu *vcpu;
	uint32_t idx;
	pthread_t thread;
	pid_t tid;
	struct kvm_dirty_gfn *ring;
	uint32_t fetch;			/* next ring index to harvest */
	uint8_t *seen;			/* per page of this vCPU, per round */
	uint64_t kvm_runs;		/* every KVM_RUN ioctl issued */
	uint64_t eintr;			/* of which returned EINTR */
	uint64_t rounds;		/* GUEST_SYNCs verified */
	uint64_t dirty;			/* ring entries harvested */
	bool done;			/* GUEST_DONE seen */
};

static struct kvm_vm *vm;
static struct vcpu_ctx ctx[MAX_VCPUS];
static uint32_t nr_vcpus = 1;
static uint64_t npages = 64, nrounds = 10;
static uint32_t ring_entries;
static uint64_t loop_seconds;
static atomic_bool stop_requested;
static atomic_int failed;
static pthread_mutex_t harvest_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t start_barrier;
static uint8_t *host_mem;
static uint64_t psize;

#define fail(fmt, ...) do {						\
	fprintf(stderr, "dirty_ring_vm: FAIL: " fmt "\n", ##__VA_ARGS__);	\
	atomic_store(&failed, 1);					\
} while (0)

static void usage(FILE *f)
{
	fprintf(f,
"usage: dirty_ring_vm [-n PAGES] [-r ROUNDS] [-v VCPUS] [-s RING_ENTRIES]\n"
"                     [-t SECONDS] [--wait-signal | --start-after FILE]\n"
"                     [--hold-ms MS]\n"
"  -n PAGES        guest pages written per vCPU per round (default 64)\n"
"  -r ROUNDS       rounds (default 10); 0 = loop until -t SECONDS elapse\n"
"  -v VCPUS        vCPUs, each with its own N pages (default 1, max %d)\n"
"  -s ENTRIES      dirty ring entries per vCPU (power of 2; default: the\n"
"                  smallest power of 2 >= PAGES + %d)\n"
"  -t SECONDS      loop mode duration (requires -r 0)\n"
"  --wait-signal   create the VM, print READY, wait for SIGUSR1, then run\n"
"  --start-after F create the VM, print READY, wait until file F exists\n"
"  --hold-ms MS    stay alive MS milliseconds after the run (VM still open)\n"
"Per vCPU: dirty pages = PAGES*ROUNDS, KVM_RUN ioctls = ROUNDS+1.\n",
		MAX_VCPUS, RING_RSVD_GUESS);
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

static uint32_t ring_entries_for(uint64_t pages)
{
	uint64_t want = pages + RING_RSVD_GUESS, e = 1;

	while (e < want)
		e <<= 1;
	return (uint32_t)e;
}

static inline bool gfn_dirty(struct kvm_dirty_gfn *g)
{
	return __atomic_load_n(&g->flags, __ATOMIC_ACQUIRE) == KVM_DIRTY_GFN_F_DIRTY;
}

static inline void gfn_collected(struct kvm_dirty_gfn *g)
{
	__atomic_store_n(&g->flags, KVM_DIRTY_GFN_F_RESET, __ATOMIC_RELEASE);
}

/*
 * Harvest vCPU c's ring after its GUEST_SYNC(round) and reset it.  The lock
 * makes "collect + KVM_RESET_DIRTY_RINGS" atomic with respect to the other
 * vCPU threads, so the reset count is exactly what this thread collected.
 */
static void harvest(struct vcpu_ctx *c, uint64_t round)
{
	uint64_t first = (uint64_t)c->idx * npages, count = 0, p;
	int cleared;

	memset(c->seen, 0, npages);
	pthread_mutex_lock(&harvest_lock);
	for (;;) {
		struct kvm_dirty_gfn *g = &c->ring[c->fetch % ring_entries];

		if (!gfn_dirty(g))
			break;
		if (g->slot != TEST_SLOT)
			fail("vcpu %u round %" PRIu64 ": ring entry for slot %u (expected %u)",
			     c->idx, round, g->slot, TEST_SLOT);
		else if (g->offset < first || g->offset >= first + npages)
			fail("vcpu %u round %" PRIu64 ": page %llu is not one of its pages [%" PRIu64 ", %" PRIu64 ")",
			     c->idx, round, (unsigned long long)g->offset, first, first + npages);
		else if (c->seen[g->offset - first]++)
			fail("vcpu %u round %" PRIu64 ": page %llu reported twice",
			     c->idx, round, (unsigned long long)g->offset);
		gfn_collected(g);
		c->fetch++;
		count++;
	}
	cleared = __vm_ioctl(vm, KVM_RESET_DIRTY_RINGS, NULL);
	pthread_mutex_unlock(&harvest_lock);

	if (cleared < 0)
		fail("KVM_RESET_DIRTY_RINGS: %s", strerror(errno));
	else if ((uint64_t)cleared != count)
		fail("vcpu %u round %" PRIu64 ": KVM reset %d entries, collected %" PRIu64,
		     c->idx, round, cleared, count);
	if (count != npages)
		fail("vcpu %u round %" PRIu64 ": harvested %" PRIu64 " dirty pages, expected %" PRIu64,
		     c->idx, round, count, npages);
	for (p = 0; p < npages; p++) {
		uint64_t v = *(volatile uint64_t *)(host_mem + (first + p) * psize);

		if (!c->seen[p]) {
			fail("vcpu %u round %" PRIu64 ": page %" PRIu64 " missing from the ring",
			     c->idx, round, first + p);
			break;
		}
		if (v != page_value(c->idx, round, p)) {
			fail("vcpu %u round %" PRIu64 ": page %" PRIu64 " holds 0x%" PRIx64 ", expected 0x%" PRIx64,
			     c->idx, round, first + p, v, page_value(c->idx, round, p));
			break;
		}
	}
	c->dirty += count;
}

/*
 * get_ucall() from the library follows every ucall with an extra
 * KVM_RUN(immediate_exit=1) (vcpu_run_complete_io), which would double the
 * KVM_RUN ioctls and add an exit per round.  Read the ucall without it: the
 * next KVM_RUN completes the pending PIO anyway.
 */
static uint64_t read_ucall(struct kvm_vcpu *vcpu, struct ucall *uc)
{
	void *addr = ucall_arch_get_ucall(vcpu);

	if (!addr) {
		memset(uc, 0, sizeof(*uc));
		return UCALL_NONE;
	}
	TEST_ASSERT(addr != (void *)-1L, /* GUEST_UCALL_FAILED */
		    "Guest failed to allocate ucall struct");
	memcpy(uc, addr, sizeof(*uc));
	return uc->cmd;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu_ctx *c = arg;
	struct kvm_run *run = c->vcpu->run;
	struct ucall uc;

	c->tid = (pid_t)syscall(SYS_gettid);
	pthread_barrier_wait(&start_barrier);

	while (!atomic_load(&failed)) {
		int ret;
		uint64_t cmd;

		c->kvm_runs++;
		ret = ioctl(c->vcpu->fd, KVM_RUN, NULL);
		if (ret < 0) {
			if (errno == EINTR) {
				c->eintr++;
				continue;
			}
			fail("vcpu %u: KVM_RUN: %s", c->idx, strerror(errno));
			break;
		}
		if (run->exit_reason == KVM_EXIT_DIRTY_RING_FULL) {
			fail("vcpu %u: KVM_EXIT_DIRTY_RING_FULL (ring of %u entries too small)",
			     c->idx, ring_entries);
			break;
		}
		cmd = read_ucall(c->vcpu, &uc);
		if (cmd == UCALL_SYNC) {
			uint64_t round = uc.args[0];

			if (round != c->rounds + 1) {
				fail("vcpu %u: GUEST_SYNC(%" PRIu64 "), expected round %" PRIu64,
				     c->idx, round, c->rounds + 1);
				break;
			}
			harvest(c, round);
			c->rounds = round;
			if (nrounds == 0 && atomic_load(&stop_requested))
				break;
		} else if (cmd == UCALL_DONE) {
			if (c->rounds != nrounds)
				fail("vcpu %u: GUEST_DONE after %" PRIu64 " rounds, expected %" PRIu64,
				     c->idx, c->rounds, nrounds);
			c->done = true;
			break;
		} else if (cmd == UCALL_ABORT) {
			REPORT_GUEST_ASSERT(uc);
		} else {
			fail("vcpu %u: unexpected exit %s (ucall %" PRIu64 ")",
			     c->idx, exit_reason_str(run->exit_reason), cmd);
			break;
		}
	}
	return NULL;
}

static void wait_for_start(bool wait_signal, const char *start_file)
{
	if (wait_signal) {
		sigset_t set;
		int sig;

		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		if (sigwait(&set, &sig)) {
			perror("sigwait");
			exit(1);
		}
	} else if (start_file) {
		struct stat st;

		while (stat(start_file, &st) != 0)
			usleep(10000);
	}
}

static void loop_until_deadline(void)
{
	struct timespec ts = { .tv_sec = (time_t)loop_seconds };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	/* Returns at the deadline (EAGAIN) or on SIGTERM/SIGINT. */
	while (sigtimedwait(&set, NULL, &ts) < 0 && errno == EINTR)
		;
	atomic_store(&stop_requested, true);
}

int main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "wait-signal", no_argument, NULL, 'W' },
		{ "start-after", required_argument, NULL, 'S' },
		{ "hold-ms", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	bool wait_signal = false;
	const char *start_file = NULL;
	uint64_t hold_ms = 0, v, total_runs = 0, total_dirty = 0, ring_max;
	sigset_t blocked;
	uint32_t i;
	int opt;

	while ((opt = getopt_long(argc, argv, "n:r:v:s:t:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			if (!parse_u64(optarg, &npages) || !npages || npages > MAX_PAGES_PER_VCPU)
				goto bad;
			break;
		case 'r':
			if (!parse_u64(optarg, &nrounds) || nrounds >= (1ULL << 23))
				goto bad;
			break;
		case 'v':
			if (!parse_u64(optarg, &v) || !v || v > MAX_VCPUS)
				goto bad;
			nr_vcpus = (uint32_t)v;
			break;
		case 's':
			if (!parse_u64(optarg, &v) || !v || (v & (v - 1)) || v > (1u << 20))
				goto bad;
			ring_entries = (uint32_t)v;
			break;
		case 't':
			if (!parse_u64(optarg, &loop_seconds) || !loop_seconds)
				goto bad;
			break;
		case 'W':
			wait_signal = true;
			break;
		case 'S':
			start_file = optarg;
			break;
		case 'H':
			if (!parse_u64(optarg, &hold_ms))
				goto bad;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || (nrounds == 0) != (loop_seconds != 0) ||
	    (wait_signal && start_file)) {
		fprintf(stderr, "dirty_ring_vm: -r 0 requires -t SECONDS (and -t requires -r 0); "
			"--wait-signal and --start-after are exclusive\n");
		usage(stderr);
		return 2;
	}
	if (!ring_entries)
		ring_entries = ring_entries_for(npages);
	if (ring_entries < npages + RING_RSVD_GUESS) {
		fprintf(stderr, "dirty_ring_vm: ring of %u entries is too small for %" PRIu64
			" pages per exit (need >= %" PRIu64 ")\n",
			ring_entries, npages, npages + RING_RSVD_GUESS);
		return 2;
	}

	/* SIGUSR1 (start) and, in loop mode, SIGTERM/SIGINT are taken with
	 * sigwait by the main thread: block them before any thread exists. */
	sigemptyset(&blocked);
	sigaddset(&blocked, SIGUSR1);
	if (loop_seconds) {
		sigaddset(&blocked, SIGTERM);
		sigaddset(&blocked, SIGINT);
	}
	pthread_sigmask(SIG_BLOCK, &blocked, NULL);

	if (!kvm_has_cap(KVM_CAP_DIRTY_LOG_RING_ACQ_REL) &&
	    !kvm_has_cap(KVM_CAP_DIRTY_LOG_RING)) {
		fprintf(stderr, "dirty_ring_vm: KVM has neither KVM_CAP_DIRTY_LOG_RING_ACQ_REL nor KVM_CAP_DIRTY_LOG_RING\n");
		return 1;
	}
	ring_max = kvm_check_cap(KVM_CAP_DIRTY_LOG_RING_ACQ_REL);
	if (!ring_max)
		ring_max = kvm_check_cap(KVM_CAP_DIRTY_LOG_RING);
	if ((uint64_t)ring_entries * sizeof(struct kvm_dirty_gfn) > ring_max) {
		fprintf(stderr, "dirty_ring_vm: ring of %u entries exceeds KVM's maximum of %" PRIu64
			" bytes; use fewer pages\n", ring_entries, ring_max);
		return 2;
	}

	/* Page tables for the test region come from memslot 0. */
	vm = __vm_create(VM_SHAPE_DEFAULT, nr_vcpus, nr_vcpus * npages);
	/* Dirty-ring mode must be enabled before any vCPU exists. */
	vm_enable_dirty_ring(vm, ring_entries * sizeof(struct kvm_dirty_gfn));

	psize = vm->page_size;
	if (TEST_GPA + nr_vcpus * npages * psize > 0xfee00000ULL ||
	    ((TEST_GPA + nr_vcpus * npages * psize) >> vm->page_shift) > vm->max_gfn) {
		fprintf(stderr, "dirty_ring_vm: %u x %" PRIu64 " pages do not fit in guest memory\n",
			nr_vcpus, npages);
		return 2;
	}
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, TEST_GPA, TEST_SLOT,
				    nr_vcpus * npages, KVM_MEM_LOG_DIRTY_PAGES);
	virt_map(vm, TEST_GVA, TEST_GPA, nr_vcpus * npages);
	host_mem = addr_gpa2hva(vm, TEST_GPA);

	guest_npages = npages;
	guest_rounds = nrounds;
	guest_psize = psize;
	sync_global_to_guest(vm, guest_npages);
	sync_global_to_guest(vm, guest_rounds);
	sync_global_to_guest(vm, guest_psize);

	pthread_barrier_init(&start_barrier, NULL, nr_vcpus + 1);
	for (i = 0; i < nr_vcpus; i++) {
		struct vcpu_ctx *c = &ctx[i];
		char name[16];

		c->idx = i;
		c->vcpu = vm_vcpu_add(vm, i, guest_code);
		vcpu_args_set(c->vcpu, 1, (uint64_t)i);
		c->ring = vcpu_map_dirty_ring(c->vcpu);
		c->seen = calloc(npages, 1);
		TEST_ASSERT(c->seen, "calloc");
		pthread_create(&c->thread, NULL, vcpu_thread, c);
		snprintf(name, sizeof(name), "vcpu-%u", i);
		pthread_setname_np(c->thread, name);
	}

	printf("READY pid=%d vcpus=%u pages=%" PRIu64 " rounds=%" PRIu64 " ring_entries=%u\n",
	       getpid(), nr_vcpus, npages, nrounds, ring_entries);
	fflush(stdout);
	wait_for_start(wait_signal, start_file);
	pthread_barrier_wait(&start_barrier);

	if (loop_seconds)
		loop_until_deadline();
	for (i = 0; i < nr_vcpus; i++)
		pthread_join(ctx[i].thread, NULL);

	for (i = 0; i < nr_vcpus; i++) {
		struct vcpu_ctx *c = &ctx[i];

		printf("VCPU id=%u tid=%d kvm_runs=%" PRIu64 " kvm_run_eintr=%" PRIu64
		       " rounds=%" PRIu64 " dirty_pages=%" PRIu64 "\n",
		       c->idx, c->tid, c->kvm_runs, c->eintr, c->rounds, c->dirty);
		if (c->dirty != npages * c->rounds)
			fail("vcpu %u: %" PRIu64 " dirty pages over %" PRIu64 " rounds, expected %" PRIu64,
			     c->idx, c->dirty, c->rounds, npages * c->rounds);
		if (nrounds && !c->done)
			fail("vcpu %u: never reached GUEST_DONE", c->idx);
		if (nrounds && c->kvm_runs != nrounds + 1 + c->eintr)
			fail("vcpu %u: %" PRIu64 " KVM_RUNs, expected %" PRIu64,
			     c->idx, c->kvm_runs, nrounds + 1 + c->eintr);
		total_runs += c->kvm_runs;
		total_dirty += c->dirty;
	}
	printf("RESULT kvm_runs=%" PRIu64 " dirty_pages=%" PRIu64 " vcpus=%u pages=%" PRIu64
	       " rounds=%" PRIu64 " dirty_pages_per_vcpu=%" PRIu64 " kvm_runs_per_vcpu=%" PRIu64
	       " ring_entries=%u status=%s\n",
	       total_runs, total_dirty, nr_vcpus, npages, nrounds ? nrounds : ctx[0].rounds,
	       npages * (nrounds ? nrounds : ctx[0].rounds),
	       nrounds ? nrounds + 1 : ctx[0].kvm_runs, ring_entries,
	       atomic_load(&failed) ? "FAIL" : "ok");
	fflush(stdout);

	if (hold_ms) {
		struct timespec ts = { .tv_sec = (time_t)(hold_ms / 1000),
				       .tv_nsec = (long)(hold_ms % 1000) * 1000000L };

		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
	}
	kvm_vm_free(vm);
	return atomic_load(&failed) ? 1 : 0;
bad:
	fprintf(stderr, "dirty_ring_vm: invalid value '%s' for -%c\n", optarg, opt);
	usage(stderr);
	return 2;
}
