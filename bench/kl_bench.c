// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * kl_bench.c - helper of `make bench-tool` (bench/README.md).
 *
 *   kl-bench stats-hold              hold BPF_ENABLE_STATS(RUN_TIME) until SIGTERM
 *   kl-bench floor [HOOK...]         attach the empty programs kl_empty_<hook>
 *                                    (default: every hook that exists) until SIGTERM
 *   kl-bench progs [--hold] PID...   JSON: every BPF program attached through an fd
 *                                    of PID (raw_tp link or tracepoint perf event):
 *                                    hook, id, name, run_cnt, run_time_ns; --hold:
 *                                    take the programs now, print "holding N", read
 *                                    them at SIGTERM (PID may have exited by then)
 *   kl-bench vcpu-cpu PID            JSON: CPU ns of PID's non-main threads (polled
 *                                    until they exit)
 *   kl-bench trace [--load [--func F]] TGID OUT
 *                                    per-event trace (kl_trace.bpf.c) of KVM_RUN and
 *                                    off-CPU intervals of TGID into OUT until SIGTERM;
 *                                    --load: only kvm_arch_vcpu_load (or F, same
 *                                    arguments) fentry -> fexit
 *   kl-bench precision TRACE         JSON: exact percentiles of a trace vs the same
 *                                    values through kl_hist_bucket()+kl_hist_percentile()
 *   kl-bench scale [-v VCPUS] [-r REPS] [-b BUDGET_S] N...
 *                                    JSON: one collection interval of the collector's
 *                                    own code (kl_collector_read, kl_state_delta,
 *                                    kl_snap_from_state, render_text, rows, copy) over
 *                                    maps filled with N VMs x VCPUS vCPUs
 *
 * Every "attached"/"enabled" readiness line goes to stdout, flushed.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "kl_empty.skel.h"
#include "kl_trace.skel.h"
#include "kvm_lazytop.skel.h"

#include "collector.h"
#include "kl_hist.h"
#include "kl_model.h"
#include "kl_snapshot.h"
#include "kl_state.h"
#include "kl_stats.h"
#include "prom_internal.h"
#include "render.h"

static volatile sig_atomic_t stop;

static void on_sig(int sig)
{
	(void)sig;
	stop = 1;
}

static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_sig };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------ stats-hold */

static int cmd_stats_hold(void)
{
	int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);

	if (fd < 0) {
		fprintf(stderr, "kl-bench: bpf_enable_stats: %s\n", strerror(-fd));
		return 1;
	}
	catch_signals();
	printf("enabled\n");
	fflush(stdout);
	while (!stop)
		pause();
	close(fd);
	return 0;
}

/* ------------------------------------------------------------ floor */

static bool hook_exists(const char *hook)
{
	char p[256];

	snprintf(p, sizeof(p), "/sys/kernel/tracing/events/kvm/%s", hook);
	if (!access(p, F_OK))
		return true;
	snprintf(p, sizeof(p), "/sys/kernel/tracing/events/sched/%s", hook);
	return !access(p, F_OK);
}

static int cmd_floor(int argc, char **argv)
{
	struct kl_empty_bpf *skel = kl_empty_bpf__open();
	struct bpf_link *links[32] = { 0 };
	struct bpf_program *p;
	int n = 0, rc = 1;

	if (!skel) {
		fprintf(stderr, "kl-bench: kl_empty_bpf__open: %s\n", strerror(errno));
		return 1;
	}
	bpf_object__for_each_program(p, skel->obj) {
		const char *hook = bpf_program__name(p) + strlen("kl_empty_");
		bool want = argc == 0;

		for (int i = 0; i < argc; i++)
			want |= !strcmp(argv[i], hook);
		bpf_program__set_autoload(p, want && hook_exists(hook));
	}
	if (kl_empty_bpf__load(skel)) {
		fprintf(stderr, "kl-bench: loading kl_empty: %s\n", strerror(errno));
		goto out;
	}
	bpf_object__for_each_program(p, skel->obj) {
		if (!bpf_program__autoload(p) || n >= 32)
			continue;
		links[n] = bpf_program__attach(p);
		if (!links[n]) {
			fprintf(stderr, "kl-bench: attach %s: %s\n", bpf_program__name(p), strerror(errno));
			goto out;
		}
		n++;
	}
	catch_signals();
	printf("attached %d\n", n);
	fflush(stdout);
	while (!stop)
		pause();
	rc = 0;
out:
	for (int i = 0; i < n; i++)
		bpf_link__destroy(links[i]);
	kl_empty_bpf__destroy(skel);
	return rc;
}

/* ------------------------------------------------------------ progs */

static const char *fd_type_name(__u32 t)
{
	switch (t) {
	case BPF_FD_TYPE_RAW_TRACEPOINT: return "raw_tracepoint";
	case BPF_FD_TYPE_TRACEPOINT: return "tracepoint";
	case BPF_FD_TYPE_KPROBE: return "kprobe";
	case BPF_FD_TYPE_KRETPROBE: return "kretprobe";
	case BPF_FD_TYPE_UPROBE: return "uprobe";
	case BPF_FD_TYPE_URETPROBE: return "uretprobe";
	default: return "other";
	}
}

struct prog_ref {
	int pid;
	__u32 fd_type;
	__u32 id;
	int pfd;
	char hook[256];
};

/* every BPF program attached through an fd of PID: a reference (prog fd) to each */
static int progs_collect(int pid, struct prog_ref **refs, int *n, int *cap)
{
	char dir[64];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	d = opendir(dir);
	if (!d) {
		fprintf(stderr, "kl-bench: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		char buf[256] = "";
		__u32 len = sizeof(buf), prog_id = 0, fd_type = 0;
		__u64 off = 0, addr = 0;
		int fd = atoi(de->d_name), pfd;

		if (de->d_name[0] == '.')
			continue;
		if (bpf_task_fd_query(pid, fd, 0, buf, &len, &prog_id, &fd_type, &off, &addr))
			continue;
		pfd = bpf_prog_get_fd_by_id(prog_id);
		if (pfd < 0)
			continue;
		if (*n == *cap) {
			int ncap = *cap ? 2 * *cap : 32;
			struct prog_ref *r = realloc(*refs, ncap * sizeof(*r));

			if (!r) {
				close(pfd);
				closedir(d);
				return -1;
			}
			*refs = r;
			*cap = ncap;
		}
		(*refs)[*n] = (struct prog_ref){ .pid = pid, .fd_type = fd_type, .id = prog_id, .pfd = pfd };
		snprintf((*refs)[*n].hook, sizeof((*refs)[*n].hook), "%s", buf);
		(*n)++;
	}
	closedir(d);
	return 0;
}

/*
 * progs [--hold] PID...: run_cnt/run_time_ns of PID's programs, now or,
 * with --hold, at SIGTERM/SIGINT: the prog fds taken at start keep the
 * programs (and their counters) alive after PID has exited and detached
 * them, so a short-lived arm is read once it is done (guest benchmark).
 */
static int cmd_progs(int argc, char **argv)
{
	struct json_object *arr = json_object_new_array();
	struct prog_ref *refs = NULL;
	int n = 0, cap = 0, rc = 0;
	bool hold = argc > 0 && !strcmp(argv[0], "--hold");

	if (hold) {
		argc--;
		argv++;
	}
	for (int a = 0; a < argc; a++)
		if (progs_collect(atoi(argv[a]), &refs, &n, &cap) && hold)
			rc = 1;
	if (hold && !rc && n == 0) {
		fprintf(stderr, "kl-bench: progs --hold: no BPF program attached through the fds of the given PIDs\n");
		rc = 1;
	}
	if (hold && !rc) {
		catch_signals();
		printf("holding %d\n", n);
		fflush(stdout);
		while (!stop)
			pause();
	}
	for (int i = 0; i < n && !rc; i++) {
		struct bpf_prog_info info;
		__u32 ilen = sizeof(info);
		struct json_object *o;

		memset(&info, 0, sizeof(info));
		if (bpf_prog_get_info_by_fd(refs[i].pfd, &info, &ilen))
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "pid", json_object_new_int(refs[i].pid));
		json_object_object_add(o, "hook", json_object_new_string(refs[i].hook));
		json_object_object_add(o, "attach", json_object_new_string(fd_type_name(refs[i].fd_type)));
		json_object_object_add(o, "id", json_object_new_int64(refs[i].id));
		json_object_object_add(o, "name", json_object_new_string(info.name));
		json_object_object_add(o, "run_cnt", json_object_new_uint64(info.run_cnt));
		json_object_object_add(o, "run_time_ns", json_object_new_uint64(info.run_time_ns));
		json_object_object_add(o, "xlated_len", json_object_new_int64(info.xlated_prog_len));
		json_object_object_add(o, "jited", json_object_new_boolean(info.jited_prog_len > 0));
		json_object_array_add(arr, o);
	}
	for (int i = 0; i < n; i++)
		close(refs[i].pfd);
	free(refs);
	if (!rc)
		printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
	json_object_put(arr);
	return rc;
}

/* ------------------------------------------------------------ vcpu-cpu */

/*
 * CPU time (ns, sum_exec_runtime from /proc/PID/task/TID/schedstat) of
 * every thread of PID except its main thread, polled every 2 ms until
 * those threads are gone (joined) or SIGTERM: exited threads' CPU time
 * cannot be read afterwards, and /proc/PID/stat only has clock ticks.
 * The tail lost after the last poll is at most 2 ms of a thread's run.
 */
#define VC_MAX 256
static int cmd_vcpu_cpu(int argc, char **argv)
{
	uint32_t tids[VC_MAX];
	uint64_t ns[VC_MAX];
	int n = 0, pid, live;
	uint64_t sum = 0;

	if (argc != 1) {
		fprintf(stderr, "usage: kl-bench vcpu-cpu PID\n");
		return 2;
	}
	pid = atoi(argv[0]);
	catch_signals();
	do {
		char dir[64];
		struct dirent *de;
		DIR *d;

		snprintf(dir, sizeof(dir), "/proc/%d/task", pid);
		d = opendir(dir);
		if (!d)
			break;
		live = 0;
		while ((de = readdir(d))) {
			uint32_t tid = (uint32_t)atoi(de->d_name);
			unsigned long long v;
			char p[96];
			FILE *f;
			int i;

			if (!tid || (int)tid == pid)
				continue;
			snprintf(p, sizeof(p), "/proc/%d/task/%u/schedstat", pid, tid);
			f = fopen(p, "re");
			if (!f)
				continue;
			if (fscanf(f, "%llu", &v) != 1) {
				fclose(f);
				continue;
			}
			fclose(f);
			live++;
			for (i = 0; i < n && tids[i] != tid; i++)
				;
			if (i == n) {
				if (n == VC_MAX)
					continue;
				tids[n++] = tid;
			}
			ns[i] = v;
		}
		closedir(d);
		if (n && !live)
			break;
		usleep(2000);
	} while (!stop);
	for (int i = 0; i < n; i++)
		sum += ns[i];
	printf("{\"threads\": %d, \"cpu_ns\": %llu}\n", n, (unsigned long long)sum);
	return 0;
}

/* ------------------------------------------------------------ trace */

struct klt_event {
	__u32 kind;
	__u32 tid;
	__u64 dur_ns;
};

static int on_event(void *ctx, void *data, size_t sz)
{
	const struct klt_event *e = data;

	if (sz < sizeof(*e))
		return 0;
	static const char *const kinds[] = { "?", "kvm_run", "offcpu", "vcpu_load" };

	fprintf(ctx, "%s %u %llu\n", kinds[e->kind < KL_ARRAY_SIZE(kinds) ? e->kind : 0],
		e->tid, (unsigned long long)e->dur_ns);
	return 0;
}

static int cmd_trace(int argc, char **argv)
{
	struct kl_trace_bpf *skel;
	struct ring_buffer *rb = NULL;
	FILE *out;
	__u64 lost[2] = { 0, 0 };
	bool load = argc > 0 && !strcmp(argv[0], "--load");
	const char *func = NULL;
	int rc = 1;

	argc -= load;
	argv += load;
	if (load && argc > 1 && !strcmp(argv[0], "--func")) {
		func = argv[1];
		argc -= 2;
		argv += 2;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: kl-bench trace [--load [--func F]] TGID OUT\n");
		return 2;
	}
	out = fopen(argv[1], "w");
	if (!out) {
		fprintf(stderr, "kl-bench: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	skel = kl_trace_bpf__open();
	if (!skel)
		goto out_file;
	skel->rodata->target_tgid = (__u32)atoi(argv[0]);
	bpf_program__set_autoload(skel->progs.klt_sys_enter_ioctl, !load);
	bpf_program__set_autoload(skel->progs.klt_sys_exit_ioctl, !load);
	bpf_program__set_autoload(skel->progs.klt_sched_switch, !load);
	bpf_program__set_autoload(skel->progs.klt_load_enter, load);
	bpf_program__set_autoload(skel->progs.klt_load_exit, load);
	skel->rodata->quiet_submit = load;
	if (func && (bpf_program__set_attach_target(skel->progs.klt_load_enter, 0, func) ||
		     bpf_program__set_attach_target(skel->progs.klt_load_exit, 0, func))) {
		fprintf(stderr, "kl-bench: attach target %s: %s\n", func, strerror(errno));
		goto out;
	}
	if (kl_trace_bpf__load(skel) || kl_trace_bpf__attach(skel)) {
		fprintf(stderr, "kl-bench: kl_trace load/attach: %s\n", strerror(errno));
		goto out;
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.klt_events), on_event, out, NULL);
	if (!rb)
		goto out;
	catch_signals();
	printf("attached\n");
	fflush(stdout);
	while (!stop) {
		int n = ring_buffer__poll(rb, 100);

		if (n < 0 && n != -EINTR)
			break;
	}
	ring_buffer__consume(rb);
	for (__u32 i = 0; i < 2; i++)
		bpf_map__lookup_elem(skel->maps.klt_lost, &i, sizeof(i), &lost[i], sizeof(lost[i]), 0);
	fprintf(out, "lost %llu %llu\n", (unsigned long long)lost[0], (unsigned long long)lost[1]);
	rc = 0;
out:
	ring_buffer__free(rb);
	kl_trace_bpf__destroy(skel);
out_file:
	fclose(out);
	return rc;
}

/* ------------------------------------------------------------ precision */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct series {
	uint64_t *v;
	size_t n, cap;
};

static void series_add(struct series *s, uint64_t v)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v)
			abort();
	}
	s->v[s->n++] = v;
}

/* Nearest rank, r = ceil(q * n): the same rank rule as kl_stats.h. */
static uint64_t exact_pct(const struct series *s, unsigned int q_permille)
{
	uint64_t r = ((uint64_t)s->n * q_permille + 999) / 1000;

	if (r < 1)
		r = 1;
	return s->v[r - 1];
}

static struct json_object *series_json(struct series *s)
{
	static const unsigned int qs[] = { 500, 900, 990, 999 };
	static const char *const qn[] = { "p50", "p90", "p99", "p999" };
	struct json_object *o = json_object_new_object(), *ex = json_object_new_object(),
			   *hi = json_object_new_object();
	uint64_t *b = calloc(KL_HIST_BUCKETS, sizeof(*b)), sum = 0;

	qsort(s->v, s->n, sizeof(*s->v), cmp_u64);
	for (size_t i = 0; i < s->n; i++) {
		b[kl_hist_bucket(s->v[i])]++;
		sum += s->v[i];
	}
	json_object_object_add(o, "count", json_object_new_uint64(s->n));
	json_object_object_add(o, "sum", json_object_new_uint64(sum));
	for (size_t i = 0; s->n && i < KL_ARRAY_SIZE(qs); i++) {
		json_object_object_add(ex, qn[i], json_object_new_uint64(exact_pct(s, qs[i])));
		json_object_object_add(hi, qn[i],
				       json_object_new_uint64(kl_hist_percentile(b, KL_HIST_BUCKETS, qs[i])));
	}
	json_object_object_add(o, "exact", ex);
	json_object_object_add(o, "hist_of_trace", hi);
	free(b);
	return o;
}

static int cmd_precision(int argc, char **argv)
{
	struct series run = { 0 }, off = { 0 };
	unsigned long long lost_rb = 0, lost_map = 0;
	struct json_object *o;
	char kind[32];
	unsigned int tid;
	unsigned long long v;
	FILE *f;

	if (argc != 1) {
		fprintf(stderr, "usage: kl-bench precision TRACE\n");
		return 2;
	}
	f = fopen(argv[0], "r");
	if (!f) {
		fprintf(stderr, "kl-bench: %s: %s\n", argv[0], strerror(errno));
		return 1;
	}
	for (;;) {
		int n = fscanf(f, "%31s %u %llu", kind, &tid, &v);

		if (n == 3 && !strcmp(kind, "lost")) {
			lost_rb = tid;
			lost_map = v;
		} else if (n == 3 && !strcmp(kind, "kvm_run")) {
			series_add(&run, v);
		} else if (n == 3 && !strcmp(kind, "offcpu")) {
			series_add(&off, v);
		} else {
			break;
		}
	}
	fclose(f);
	o = json_object_new_object();
	json_object_object_add(o, "kvm_run_ns", series_json(&run));
	json_object_object_add(o, "offcpu_ns", series_json(&off));
	json_object_object_add(o, "lost_ringbuf", json_object_new_uint64(lost_rb));
	json_object_object_add(o, "lost_map", json_object_new_uint64(lost_map));
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	free(run.v);
	free(off.v);
	return 0;
}

/* ------------------------------------------------------------ scale */

/*
 * VM tgids are real processes (children that wait in pause()): the
 * collector releases a VM whose process is gone, so fake tgids would be
 * dropped after the first interval and the benchmark would time an empty
 * state.  Thread ids tgid + 1 + v are never looked up in /proc (the
 * collector checks each VM's process, not its threads).
 */
static int scale_standins(pid_t *pids, uint32_t have, uint32_t want)
{
	for (uint32_t i = have; i < want; i++) {
		pid_t p = fork();

		if (p < 0) {
			fprintf(stderr, "kl-bench: fork of VM stand-in %u: %s\n", i, strerror(errno));
			return -1;
		}
		if (!p) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;)
				pause();
		}
		pids[i] = p;
	}
	return 0;
}

static void scale_reap(const pid_t *pids, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	for (uint32_t i = 0; i < n; i++)
		waitpid(pids[i], NULL, 0);
}

#define SCALE_HISTS	4	/* per VM: kvm_run, offcpu, exit (2 codes) */
#define SCALE_REASONS	2	/* per VM: userspace_exit IO, exit code */

static uint64_t rnd_state = 88172645463325252ULL;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static int fill_batch(int fd, void *keys, void *vals, uint32_t n, const char *what)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	uint32_t count = n;
	int err;

	if (!n)
		return 0;
	err = bpf_map_update_batch(fd, keys, vals, &count, &opts);
	if (err || count != n) {
		fprintf(stderr, "kl-bench: update_batch(%s): %s (%u of %u)\n", what, strerror(-err), count, n);
		return -1;
	}
	return 0;
}

/* Fill VMs [from, to) of the maps. */
static bool scale_no_tids;	/* -T: slots name no tid / comm */

static int scale_fill(struct kvm_lazytop_bpf *skel, const pid_t *tgids, uint32_t from,
		      uint32_t to, uint32_t vcpus)
{
	const uint32_t chunk = 1024;
	struct kl_hist_key *hk = calloc(chunk, sizeof(*hk));
	struct kl_hist *hv = calloc(chunk, sizeof(*hv));
	struct kl_reason_key *rk = calloc(chunk, sizeof(*rk));
	uint64_t *rv = calloc(chunk, sizeof(*rv));
	uint32_t *hi = calloc(chunk, sizeof(*hi)), *ri = calloc(chunk, sizeof(*ri));
	uint32_t *tk = calloc(chunk, sizeof(*tk));
	struct kl_slot_info *tv = calloc(chunk, sizeof(*tv));
	struct kl_counters *sv = calloc(chunk, sizeof(*sv));
	uint32_t nh = 0, nr = 0, nt = 0;
	int err = -1;

	if (!hk || !hv || !rk || !rv || !tk || !tv || !sv || !hi || !ri)
		goto out;
	for (uint32_t vm = from; vm < to; vm++) {
		uint32_t tgid = (uint32_t)tgids[vm];

		/* row -1 of the VM (threads without a slot): a shared slot */
		tk[nt] = skel->bss->next_slot++;
		memset(&sv[nt], 0, sizeof(sv[nt]));
		sv[nt].c[KL_C_DIRTY_PAGES] = rnd() % 100000;
		memset(&tv[nt], 0, sizeof(tv[nt]));
		tv[nt].tgid = tgid;
		tv[nt].vcpu_id = KL_VCPU_UNKNOWN;
		tv[nt].flags = KL_SLOT_SHARED;
		if (++nt == chunk) {
			if (fill_batch(bpf_map__fd(skel->maps.slots), tk, sv, nt, "slots") ||
			    fill_batch(bpf_map__fd(skel->maps.slot_key), tk, tv, nt, "slot_key"))
				goto out;
			nt = 0;
		}
		for (uint32_t v = 0; v < vcpus; v++) {
			/* each vCPU thread's slot: its counters, tid and comm */
			tk[nt] = skel->bss->next_slot++;
			memset(&sv[nt], 0, sizeof(sv[nt]));
			for (int i = 0; i < KL_C_NR; i++)
				sv[nt].c[i] = rnd() % 100000;
			memset(&tv[nt], 0, sizeof(tv[nt]));
			tv[nt].tgid = tgid;
			tv[nt].vcpu_id = (int32_t)v;
			if (!scale_no_tids) {
				tv[nt].tid = tgid + 1 + v;
				snprintf(tv[nt].comm, sizeof(tv[nt].comm), "qemu-vm%u", vm % 100000);
			}
			if (++nt == chunk) {
				if (fill_batch(bpf_map__fd(skel->maps.slots), tk, sv, nt, "slots") ||
				    fill_batch(bpf_map__fd(skel->maps.slot_key), tk, tv, nt, "slot_key"))
					goto out;
				nt = 0;
			}
		}
		/* the VM's histogram and reason slots (shared by its vCPU threads) */
		for (uint32_t h = 0; h < SCALE_HISTS; h++) {
			static const uint16_t ids[SCALE_HISTS] = { KL_H_KVM_RUN, KL_H_OFFCPU, KL_H_EXIT, KL_H_EXIT };
			static const uint16_t subs[SCALE_HISTS] = { KL_SUB_ALL, KL_SUB_ALL, 30, 48 };
			struct kl_hist *x = &hv[nh];

			hi[nh] = skel->bss->next_hslot++;
			hk[nh] = (struct kl_hist_key){ .tgid = tgid, .hist = ids[h], .sub = subs[h] };
			memset(x, 0, sizeof(*x));
			/* ~4 powers of two around 2^(10+h) ns: ~32 non-empty buckets */
			for (int i = 0; i < 32; i++) {
				uint32_t b = (uint32_t)((10 + h) * KL_HIST_SUB + i);

				x->buckets[b] = 1 + rnd() % 5000;
				x->sum += x->buckets[b] * kl_hist_bucket_lo(b);
			}
			if (++nh == chunk) {
				if (fill_batch(bpf_map__fd(skel->maps.hslots), hi, hv, nh, "hslots") ||
				    fill_batch(bpf_map__fd(skel->maps.hslot_key), hi, hk, nh, "hslot_key"))
					goto out;
				nh = 0;
			}
		}
		for (uint32_t r = 0; r < SCALE_REASONS; r++) {
			ri[nr] = skel->bss->next_rslot++;
			rk[nr] = (struct kl_reason_key){ .tgid = tgid, .kind = (uint16_t)r, .code = r ? 30 : 2 };
			rv[nr] = rnd() % 100000;
			if (++nr == chunk) {
				if (fill_batch(bpf_map__fd(skel->maps.rslots), ri, rv, nr, "rslots") ||
				    fill_batch(bpf_map__fd(skel->maps.rslot_key), ri, rk, nr, "rslot_key"))
					goto out;
				nr = 0;
			}
		}
	}
	if (fill_batch(bpf_map__fd(skel->maps.slots), tk, sv, nt, "slots") ||
	    fill_batch(bpf_map__fd(skel->maps.slot_key), tk, tv, nt, "slot_key") ||
	    fill_batch(bpf_map__fd(skel->maps.hslots), hi, hv, nh, "hslots") ||
	    fill_batch(bpf_map__fd(skel->maps.hslot_key), hi, hk, nh, "hslot_key") ||
	    fill_batch(bpf_map__fd(skel->maps.rslots), ri, rv, nr, "rslots") ||
	    fill_batch(bpf_map__fd(skel->maps.rslot_key), ri, rk, nr, "rslot_key"))
		goto out;
	err = 0;
out:
	free(hk); free(hv); free(rk); free(rv); free(tk); free(tv); free(sv);
	free(hi); free(ri);
	return err;
}

static uint32_t max_u32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

enum { ST_READ, ST_DELTA, ST_SNAPSHOT, ST_PCT, ST_TEXT, ST_ROWS, ST_JSON, ST_COPY, ST_RAW, ST_PROM, ST_NR };
static const char *const st_names[ST_NR] = {
	"read_maps", "delta", "snapshot_build", "percentiles_only", "render_text", "tui_rows",
	"json_serialize", "state_swap", "raw_batch_lookup", "prom_render",
};

/* /metrics of the model (default options): body bytes and samples per VM. */
static void scale_prom(const struct kl_snap *m, uint64_t *bytes, double *per_vm)
{
	struct prom_opts o = { .openmetrics = true };
	char *buf = NULL, *l;
	size_t len = 0, n = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f || prom_write_snap(f, m, &o) | fclose(f))
		len = 0;
	for (l = buf; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		const char *vm = strstr(l, "vm_pid=\""), *eol = strchr(l, '\n');

		n += *l != '#' && vm && (!eol || vm < eol);
	}
	*bytes = len;
	*per_vm = m->nr_vms ? (double)n / m->nr_vms : 0;
	free(buf);
}

/*
 * Floor of read_maps: bpf_map_lookup_batch of the maps still read with
 * copies (`drops`; every slot array is mmap()ed), no processing.
 */
static double raw_batch_ms(struct kvm_lazytop_bpf *skel, int ncpus)
{
	struct bpf_map *maps[] = { skel->maps.drops };
	uint64_t t0 = mono_ns();

	for (size_t m = 0; m < KL_ARRAY_SIZE(maps); m++) {
		enum bpf_map_type t = bpf_map__type(maps[m]);
		size_t vsz = bpf_map__value_size(maps[m]), ksz = bpf_map__key_size(maps[m]);
		uint32_t chunk;
		uint64_t in = 0, outb = 0;
		bool first = true;
		void *k, *v;

		if (t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_PERCPU_ARRAY)
			vsz = ((vsz + 7) & ~7UL) * ncpus;
		chunk = (uint32_t)((4UL << 20) / vsz);
		chunk = chunk < 16 ? 16 : chunk > 1024 ? 1024 : chunk;
		k = malloc(chunk * ksz);
		v = malloc(chunk * vsz);
		for (;;) {
			LIBBPF_OPTS(bpf_map_batch_opts, opts);
			uint32_t count = chunk;
			int err = bpf_map_lookup_batch(bpf_map__fd(maps[m]), first ? NULL : &in, &outb, k, v,
						       &count, &opts);

			if (err)
				break;
			in = outb;
			first = false;
		}
		free(k);
		free(v);
	}
	return (mono_ns() - t0) / 1e6;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_dbl);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One interval of main.c:tick() for table output, stage by stage (ms). */
static int scale_interval(struct kl_collector *c, struct kl_state *cur, struct kl_state *prev,
			  FILE *devnull, double *ms, uint64_t *prom_bytes, double *prom_per_vm)
{
	struct render_opts ro = { .reasons = true, .overhead = true };
	struct json_object *snap;
	struct kl_snap model;
	struct kl_state d;
	struct kl_row *rows = NULL;
	size_t nrows = 0;
	uint64_t t0, t1, acc = 0;
	char line[512];

	t0 = mono_ns();
	/* main.c tick(): prev = the last cumulative state (swap, no copy); cur is rebuilt */
	kl_state_swap(cur, prev);
	t1 = mono_ns(); ms[ST_COPY] = (t1 - t0) / 1e6; t0 = t1;
	if (kl_collector_read(c, cur))
		return -1;
	t1 = mono_ns(); ms[ST_READ] = (t1 - t0) / 1e6; t0 = t1;
	if (kl_state_delta(&d, cur, prev))
		return -1;
	d.duration_ns = 1000000000ULL;
	t1 = mono_ns(); ms[ST_DELTA] = (t1 - t0) / 1e6; t0 = t1;
	/* main.c tick(): the typed snapshot the live views render */
	if (kl_snap_from_state(&model, &d))
		return -1;
	t1 = mono_ns(); ms[ST_SNAPSHOT] = (t1 - t0) / 1e6; t0 = t1;
	/* the percentile math alone (the renderers and the JSON writer do it) */
	for (size_t i = 0; i < d.nr_vms; i++)
		for (size_t h = 0; h < d.vms[i].nr_hists; h++)
			for (unsigned int q = 0; q < 4; q++)
				acc += kl_hist_percentile(d.vms[i].hists[h].b, KL_HIST_BUCKETS,
							  (unsigned int[]){ 500, 900, 990, 999 }[q]);
	t1 = mono_ns(); ms[ST_PCT] = (t1 - t0) / 1e6; t0 = t1;
	render_text(devnull, &model, &ro);
	fflush(devnull);
	t1 = mono_ns(); ms[ST_TEXT] = (t1 - t0) / 1e6; t0 = t1;
	/* what the ncurses view does per refresh, minus the curses calls */
	if (!kl_vm_rows(&model, &rows, &nrows)) {
		kl_rows_sort(rows, nrows, KL_COL_DIRTY);
		for (size_t i = 0; i < nrows; i++)
			kl_format_row(&rows[i], line, sizeof(line));
		free(rows);
	}
	t1 = mono_ns(); ms[ST_ROWS] = (t1 - t0) / 1e6; t0 = t1;
	/* what --listen / -o json pay on top: the writer and serialization */
	snap = kl_snap_json(&model);
	if (!snap)
		return -1;
	acc += strlen(json_object_to_json_string_ext(snap, JSON_C_TO_STRING_PLAIN));
	t1 = mono_ns(); ms[ST_JSON] = (t1 - t0) / 1e6; t0 = t1;
	json_object_put(snap);
	/* what --listen pays per scrape: /metrics of the whole-run model */
	t0 = mono_ns();
	scale_prom(&model, prom_bytes, prom_per_vm);
	ms[ST_PROM] = (mono_ns() - t0) / 1e6;
	kl_snap_free(&model);
	kl_state_free(&d);
	return acc == 42 ? 1 : 0;	/* keep acc alive */
}

/*
 * Kernel memory charged to the object's maps (memlock of each map fd, as
 * /proc/PID/fdinfo reports it), in total and for the per-CPU maps alone:
 * what may grow with the number of possible CPUs.
 */
static void maps_memlock(struct bpf_object *obj, uint64_t *all, uint64_t *percpu)
{
	struct bpf_map *m;

	*all = *percpu = 0;
	bpf_object__for_each_map(m, obj) {
		enum bpf_map_type t = bpf_map__type(m);
		unsigned long long v = 0;
		char path[64], line[128];
		FILE *f;

		if (bpf_map__fd(m) < 0)
			continue;
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", bpf_map__fd(m));
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "memlock: %llu", &v) == 1)
				break;
		fclose(f);
		*all += v;
		if (t == BPF_MAP_TYPE_PERCPU_ARRAY || t == BPF_MAP_TYPE_PERCPU_HASH ||
		    t == BPF_MAP_TYPE_LRU_PERCPU_HASH)
			*percpu += v;
	}
}

static int cmd_scale(int argc, char **argv)
{
	uint32_t vcpus = 64, reps = 5;
	double budget_s = 60;
	struct json_object *out = json_object_new_object(), *pts = json_object_new_array();
	FILE *devnull = fopen("/dev/null", "w");
	uint64_t t_start = mono_ns();
	int opt;
	bool stopped = false;
	double last_ms = 0;
	uint32_t last_n = 0, nstandins = 0, maxvm = 0;
	pid_t *standins;
	int ret = 1;

	while ((opt = getopt(argc + 1, argv - 1, "v:r:b:T")) != -1) {
		switch (opt) {
		case 'T': scale_no_tids = true; break;
		case 'v': vcpus = (uint32_t)atoi(optarg); break;
		case 'r': reps = (uint32_t)atoi(optarg); break;
		case 'b': budget_s = atof(optarg); break;
		default: return 2;
		}
	}
	argc -= optind - 1;
	argv += optind - 1;
	for (int a = 0; a < argc; a++)
		if ((uint32_t)atoi(argv[a]) > maxvm)
			maxvm = (uint32_t)atoi(argv[a]);
	standins = calloc(maxvm + 1, sizeof(*standins));
	if (!standins)
		return 1;
	json_object_object_add(out, "vcpus_per_vm", json_object_new_int(vcpus));
	json_object_object_add(out, "hists_per_vm", json_object_new_int(SCALE_HISTS));
	json_object_object_add(out, "reasons_per_vm", json_object_new_int(SCALE_REASONS));
	json_object_object_add(out, "ncpus", json_object_new_int(libbpf_num_possible_cpus()));
	json_object_object_add(out, "vcpus_map_filled", json_object_new_boolean(!scale_no_tids));
	for (int a = 0; a < argc; a++) {
		uint32_t nvm = (uint32_t)atoi(argv[a]);
		struct kvm_lazytop_bpf *skel;
		struct bpf_program *p;
		struct kl_collector c;
		struct kl_state cur, prev;
		struct json_object *pt = json_object_new_object(), *stj = json_object_new_object();
		double samples[ST_NR][64], tot[64];
		uint32_t ncounters = nvm * (vcpus + 1), nr = 0;	/* + row -1 per VM */
		uint64_t t0;
		bool beyond;

		json_object_object_add(pt, "vms", json_object_new_int(nvm));
		json_object_array_add(pts, pt);
		if (stopped || (mono_ns() - t_start) / 1e9 > budget_s) {
			stopped = true;
			json_object_object_add(pt, "skipped",
					       json_object_new_string("time budget of the scale run exhausted"));
			continue;
		}
		if (last_ms > 5000) {
			char why[160];

			snprintf(why, sizeof(why), "not run: %u VMs already took %.1f s per interval",
				 last_n, last_ms / 1e3);
			json_object_object_add(pt, "skipped", json_object_new_string(why));
			continue;
		}
		skel = kvm_lazytop_bpf__open();
		if (!skel)
			return 1;
		bpf_object__for_each_program(p, skel->obj)
			bpf_program__set_autoload(p, false);
		/* production sizes (collector.c size_maps on this host), grown only when too small */
		beyond = nvm * SCALE_HISTS > KL_MAX_HIST_KEYS ||
			 nvm * SCALE_REASONS > KL_MAX_REASON_KEYS || ncounters > KL_MAX_SLOTS;
		bpf_map__set_max_entries(skel->maps.row_idx, 1);
		bpf_map__set_max_entries(skel->maps.slot_key, max_u32(KL_MAX_SLOTS, ncounters));
		bpf_map__set_max_entries(skel->maps.slots, max_u32(KL_MAX_SLOTS, ncounters));
		bpf_map__set_max_entries(skel->maps.test_ts, 1);
		bpf_map__set_max_entries(skel->maps.hslots, max_u32(KL_MAX_HIST_KEYS, nvm * SCALE_HISTS));
		bpf_map__set_max_entries(skel->maps.hslot_key, max_u32(KL_MAX_HIST_KEYS, nvm * SCALE_HISTS));
		bpf_map__set_max_entries(skel->maps.hist_idx, 1);
		bpf_map__set_max_entries(skel->maps.rslots, max_u32(KL_MAX_REASON_KEYS, nvm * SCALE_REASONS));
		bpf_map__set_max_entries(skel->maps.rslot_key, max_u32(KL_MAX_REASON_KEYS, nvm * SCALE_REASONS));
		bpf_map__set_max_entries(skel->maps.reason_idx, 1);
		if (kvm_lazytop_bpf__load(skel)) {
			fprintf(stderr, "kl-bench: loading kvm_lazytop maps: %s\n", strerror(errno));
			return 1;
		}
		if (scale_standins(standins, nstandins, nvm))
			goto cleanup;
		if (nvm > nstandins)
			nstandins = nvm;
		t0 = mono_ns();
		if (scale_fill(skel, standins, 0, nvm, vcpus))
			goto cleanup;
		json_object_object_add(pt, "fill_ms", json_object_new_double((mono_ns() - t0) / 1e6));
		json_object_object_add(pt, "beyond_production_map_sizes", json_object_new_boolean(beyond));
		{
			uint64_t all, percpu;

			maps_memlock(skel->obj, &all, &percpu);
			json_object_object_add(pt, "maps_memlock_bytes", json_object_new_uint64(all));
			json_object_object_add(pt, "percpu_maps_memlock_bytes",
					       json_object_new_uint64(percpu));
		}

		memset(&c, 0, sizeof(c));
		c.skel = (struct kl_skel *)skel;
		c.stats_fd = -1;
		c.ncpus = libbpf_num_possible_cpus();
		/*
		 * As production: the table view without --vcpu needs no per-vCPU
		 * counters (threads are never looked up in /proc, VMs once each).
		 */
		c.want_vcpu_counters = false;
		if (kl_collector_map_slots(&c)) {
			fprintf(stderr, "kl-bench: mmap of the slot arrays: %s\n", strerror(errno));
			return 1;
		}
		kl_state_init(&cur);
		kl_state_init(&prev);
		snprintf(cur.arch, sizeof(cur.arch), "x86_64");
		snprintf(cur.kernel, sizeof(cur.kernel), "bench");
		cur.ncpus = c.ncpus;
		cur.interval_ns = 1000000000ULL;
		for (int s = 0; s < KL_SIG_NR; s++)
			cur.probes[s].status = s >= KL_SIG_KVM_EXIT && s <= KL_SIG_SYS_ENTER_IOCTL ?
					       KL_PROBE_ATTACHED : KL_PROBE_MISSING;
		cur.oh.stats_enabled = true;
		uint64_t prom_bytes = 0;
		double prom_per_vm = 0;
		/* interval 0 fills prev (and the collector's tid/meta caches), like the first tick */
		for (uint32_t r = 0; r <= reps && r < 64; r++) {
			double ms[ST_NR], sum = 0;
			int rc = scale_interval(&c, &cur, &prev, devnull, ms, &prom_bytes, &prom_per_vm);

			ms[ST_RAW] = raw_batch_ms(skel, c.ncpus);

			if (rc < 0) {
				fprintf(stderr, "kl-bench: scale interval failed at %u VMs\n", nvm);
				goto cleanup;
			}
			for (int s = 0; s < ST_NR; s++)
				if (s != ST_PCT && s != ST_JSON && s != ST_ROWS && s != ST_RAW && s != ST_PROM)
					sum += ms[s];
			if (r == 0) {
				json_object_object_add(pt, "first_interval_ms", json_object_new_double(sum));
				if (sum > 1000)	/* >= 1 s: the cold interval is the one sample */
					r = reps;
				else
					continue;
			}
			for (int s = 0; s < ST_NR; s++)
				samples[s][nr] = ms[s];
			tot[nr++] = sum;
			if ((mono_ns() - t_start) / 1e9 > budget_s)
				break;
		}
		json_object_object_add(pt, "samples", json_object_new_int(nr));
		last_n = nvm;
		last_ms = nr ? median(tot, nr) : 0;
		if (nr) {
			json_object_object_add(pt, "interval_ms", json_object_new_double(median(tot, nr)));
			for (int s = 0; s < ST_NR; s++)
				json_object_object_add(stj, st_names[s], json_object_new_double(median(samples[s], nr)));
		}
		json_object_object_add(pt, "stages_ms", stj);
		json_object_object_add(pt, "prom_body_bytes", json_object_new_int64((int64_t)prom_bytes));
		json_object_object_add(pt, "prom_samples_per_vm", json_object_new_double(prom_per_vm));
		json_object_object_add(pt, "vms_in_state", json_object_new_int((int)cur.nr_vms));
		if (cur.nr_vms != nvm) {	/* timing an emptier state than asked proves nothing */
			fprintf(stderr, "kl-bench: scale: %zu VMs in the collector's state, expected %u\n",
				cur.nr_vms, nvm);
			goto cleanup;
		}
		json_object_object_add(pt, "collector_tids", json_object_new_int((int)c.nr_tids));
		fprintf(stderr, "kl-bench scale: %u VMs x %u vCPUs: %s ms/interval\n", nvm, vcpus,
			nr ? json_object_to_json_string(json_object_object_get(pt, "interval_ms")) : "?");
		kl_state_free(&cur);
		kl_state_free(&prev);
		free(c.meta);
		free(c.tids);
		kvm_lazytop_bpf__destroy(skel);
	}
	json_object_object_add(out, "stage_note", json_object_new_string(
		"interval_ms = state_swap + read_maps + delta + snapshot_build + render_text (main.c tick, "
		"table output; snapshot_build = state -> typed snapshot, no JSON); percentiles_only is the "
		"percentile math alone (the renderers do it from the buckets); tui_rows and json_serialize "
		"(the JSON writer + serialization) are extra costs of the ncurses view and --listen/-o json; "
		"prom_render is one /metrics body (default options) of the interval's model"));
	json_object_object_add(out, "points", pts);
	printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
	ret = 0;
cleanup:
	scale_reap(standins, nstandins);
	free(standins);
	json_object_put(out);
	fclose(devnull);
	return ret;
}

/* ------------------------------------------------------------ main */

int main(int argc, char **argv)
{
	libbpf_set_print(quiet_print);
	if (argc < 2) {
		fprintf(stderr, "usage: kl-bench stats-hold|floor|progs|trace|precision|scale ...\n");
		return 2;
	}
	if (!strcmp(argv[1], "stats-hold"))
		return cmd_stats_hold();
	if (!strcmp(argv[1], "floor"))
		return cmd_floor(argc - 2, argv + 2);
	if (!strcmp(argv[1], "progs"))
		return cmd_progs(argc - 2, argv + 2);
	if (!strcmp(argv[1], "vcpu-cpu"))
		return cmd_vcpu_cpu(argc - 2, argv + 2);
	if (!strcmp(argv[1], "trace"))
		return cmd_trace(argc - 2, argv + 2);
	if (!strcmp(argv[1], "precision"))
		return cmd_precision(argc - 2, argv + 2);
	if (!strcmp(argv[1], "scale"))
		return cmd_scale(argc - 2, argv + 2);
	fprintf(stderr, "kl-bench: unknown command %s\n", argv[1]);
	return 2;
}
