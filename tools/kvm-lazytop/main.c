// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * main.c - kvm-lazytop: argument handling, target validation, the
 * collection loop and the choice of view.  See kvm-lazytop.8.
 */
#include <errno.h>
#include <locale.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <malloc.h>

#include <json-c/json.h>

#include "collector.h"
#include "commands.h"
#include "kl_escape.h"
#include "kl_names.h"
#include "kl_opts.h"
#include "kl_proc.h"
#include "kl_snapshot.h"
#include "prom_caps.h"
#include "render.h"
#include "tui.h"

/* Set from SIGINT/SIGTERM; the only mutable global besides the options. */
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * KL_NSEC_PER_SEC + ts.tv_nsec;
}

/* Latest whole-run snapshot for the HTTP exporter. */
struct publisher {
	pthread_mutex_t lock;
	struct json_object *latest;
};

static struct json_object *publisher_get(void *ctx)
{
	struct publisher *p = ctx;
	struct json_object *copy = NULL;

	pthread_mutex_lock(&p->lock);
	if (p->latest && json_object_deep_copy(p->latest, &copy, NULL))
		copy = NULL;
	pthread_mutex_unlock(&p->lock);
	return copy;
}

static void publisher_set(struct publisher *p, struct json_object *snap)
{
	struct json_object *old;

	json_object_get(snap);
	pthread_mutex_lock(&p->lock);
	old = p->latest;
	p->latest = snap;
	pthread_mutex_unlock(&p->lock);
	json_object_put(old);
}

static void fill_host(struct kl_state *st, const struct kl_opts *o)
{
	struct utsname u;

	if (!uname(&u)) {
		snprintf(st->kernel, sizeof(st->kernel), "%s", u.release);
		snprintf(st->arch, sizeof(st->arch), "%s", u.machine);
		snprintf(st->hostname, sizeof(st->hostname), "%s", u.nodename);
	}
	st->ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	st->interval_ns = o->interval_ns;
	st->target = o->target;
	st->target_pid = o->pid;
	if (o->name)
		snprintf(st->target_name, sizeof(st->target_name), "%s", o->name);
}

/* Resolve and validate -p / -n before any BPF is loaded. */
static int check_target(struct kl_opts *o)
{
	char comm[64] = "?", ecomm[4 * sizeof(comm)];
	int r;

	if (o->target == KL_TARGET_NAME) {
		uint32_t pids[8];
		int n = kl_find_vms_by_name(o->name, pids, 8);

		if (n < 0) {
			fprintf(stderr, KL_TOOL_NAME ": cannot scan /proc: %s\n", strerror(-n));
			return KL_EXIT_ERROR;
		}
		if (n == 0) {
			fprintf(stderr, KL_TOOL_NAME ": no KVM VM named '%s' (qemu -name or comm)\n", o->name);
			return KL_EXIT_NO_PROCESS;
		}
		if (n > 1) {
			fprintf(stderr, KL_TOOL_NAME ": VM name '%s' is ambiguous (%d VMs, e.g. pids %u and %u); use -p\n",
				o->name, n, pids[0], pids[1]);
			return KL_EXIT_USAGE;
		}
		o->pid = pids[0];
		return KL_EXIT_OK;
	}
	if (o->target != KL_TARGET_PID)
		return KL_EXIT_OK;
	if (!kl_proc_exists(o->pid)) {
		fprintf(stderr, KL_TOOL_NAME ": no such process: %u\n", o->pid);
		return KL_EXIT_NO_PROCESS;
	}
	r = kl_proc_is_vm(o->pid);
	if (r == 0) {
		kl_proc_comm(o->pid, comm, sizeof(comm));
		kl_escape(ecomm, sizeof(ecomm), comm);
		fprintf(stderr, KL_TOOL_NAME ": process %u (%s) is not a KVM VM (no anon_inode:kvm-vm fd)\n",
			o->pid, ecomm);
		return KL_EXIT_NOT_VM;
	}
	if (r < 0) {
		if (r == -ENOENT) {
			fprintf(stderr, KL_TOOL_NAME ": no such process: %u\n", o->pid);
			return KL_EXIT_NO_PROCESS;
		}
		if (o->verbose)
			fprintf(stderr, KL_TOOL_NAME ": cannot inspect /proc/%u/fd (%s); not checking it is a VM\n",
				o->pid, strerror(-r));
	}
	return KL_EXIT_OK;
}

static int print_probes(const struct kl_state *st, const struct kl_opts *o)
{
	char buf[200];

	if (o->output == KL_OUT_JSON) {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "schema_version", json_object_new_string(KL_SCHEMA_VERSION));
		json_object_object_add(j, "kernel", json_object_new_string(st->kernel));
		json_object_object_add(j, "arch", json_object_new_string(st->arch));
		json_object_object_add(j, "probes", kl_probes_json(st));
		json_object_object_add(j, "unavailable", kl_unavailable_json(kl_state_attached(st), st->arch));
		printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(j);
		return KL_EXIT_OK;
	}
	printf("%-28s %-10s %s\n", "SIGNAL", "HOOK", "STATUS");
	for (int s = 0; s < KL_SIG_NR; s++) {
		static const char *const kinds[] = { "raw_tp", "tracepoint", "fentry" };

		printf("%-28s %-10s %s\n", kl_signals[s].name, kinds[kl_signals[s].kind],
		       kl_probe_text(&st->probes[s], buf, sizeof(buf)));
	}
	{
		struct json_object *un = kl_unavailable_json(kl_state_attached(st), st->arch);
		size_t n = json_object_array_length(un);

		printf("unavailable metrics (%zu):", n);
		for (size_t i = 0; i < n; i++)
			printf("%s %s", i ? "," : "", json_object_get_string(json_object_array_get_idx(un, i)));
		printf("\n");
		json_object_put(un);
	}
	return KL_EXIT_OK;
}

static int write_json(struct json_object *snap)
{
	const char *s = json_object_to_json_string_ext(snap, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_NOSLASHESCAPE);

	if (!s || printf("%s\n", s) < 0 || fflush(stdout)) {
		fprintf(stderr, KL_TOOL_NAME ": writing the snapshot failed: %s\n", strerror(errno));
		return KL_EXIT_ERROR;
	}
	return KL_EXIT_OK;
}

struct run {
	struct kl_opts *o;
	struct kl_collector col;
	struct kl_state cur, prev;	/* cumulative: now, previous interval */
	uint64_t start_mono, start_real, last_mono;
	struct kl_tui *tui;
	struct publisher pub;
	struct kl_http *http;
	int pidfd;
	bool target_gone;
};

/* Interval snapshot (cur - prev) or whole-run snapshot (cur). */
static struct json_object *make_snapshot(struct run *r, bool whole, uint64_t now_mono)
{
	struct kl_state d;
	struct json_object *j;

	if (whole) {
		r->cur.start_time_ns = r->start_real;
		r->cur.duration_ns = now_mono - r->start_mono;
		return kl_snapshot_build(&r->cur);
	}
	if (kl_state_delta(&d, &r->cur, &r->prev))
		return NULL;
	d.start_time_ns = r->start_real + (r->last_mono - r->start_mono);
	d.duration_ns = now_mono - r->last_mono;
	j = kl_snapshot_build(&d);
	kl_state_free(&d);
	return j;
}

static int tick(struct run *r, bool show)
{
	uint64_t now = now_ns(CLOCK_MONOTONIC);
	struct json_object *snap, *whole;
	int err;

	/* prev = the last cumulative state (no copy); cur is rebuilt by the read */
	kl_state_swap(&r->cur, &r->prev);
	err = kl_collector_read(&r->col, &r->cur);
	if (err) {
		fprintf(stderr, KL_TOOL_NAME ": reading BPF maps failed: %s\n", strerror(-err));
		return KL_EXIT_ERROR;
	}
	if (show && r->o->output == KL_OUT_TABLE) {
		snap = make_snapshot(r, false, now);
		if (!snap)
			return KL_EXIT_ERROR;
		if (r->tui) {
			tui_update(r->tui, snap);
		} else {
			struct render_opts ro = { .per_vcpu = r->o->per_vcpu, .reasons = true, .overhead = true };

			render_text(stdout, snap, &ro);
			printf("\n");
			fflush(stdout);
		}
		json_object_put(snap);
	}
	if (r->o->listen) {
		whole = make_snapshot(r, true, now);
		if (whole) {
			publisher_set(&r->pub, whole);
			json_object_put(whole);
		}
	}
	r->last_mono = now;
	return KL_EXIT_OK;
}

static bool target_alive(struct run *r)
{
	if (r->o->target == KL_TARGET_ALL)
		return true;
	if (r->pidfd >= 0) {
		struct pollfd p = { .fd = r->pidfd, .events = POLLIN };

		if (poll(&p, 1, 0) > 0)
			r->col.target_exited = true;	/* the snapshot says exited too */
		return !r->col.target_exited;
	}
	if (!kl_proc_alive(r->o->pid))
		r->col.target_exited = true;
	return !r->col.target_exited;
}

static int loop(struct run *r)
{
	const struct kl_opts *o = r->o;
	uint64_t end = o->duration_ns ? r->start_mono + o->duration_ns : 0;
	uint64_t next = r->start_mono + o->interval_ns;
	int rc;

	while (!stop_requested) {
		struct pollfd pfd[2];
		uint64_t now = now_ns(CLOCK_MONOTONIC), wake = next;
		int n = 0, timeout;

		if (end && end < wake)
			wake = end;
		if (now >= wake) {
			if (end && now >= end)
				break;
			rc = tick(r, true);
			if (rc)
				return rc;
			while (next <= now)
				next += o->interval_ns;
			continue;
		}
		if (r->pidfd >= 0)
			pfd[n++] = (struct pollfd){ .fd = r->pidfd, .events = POLLIN };
		if (r->tui)
			pfd[n++] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
		timeout = (int)((wake - now + 999999) / 1000000);
		if (poll(pfd, n, timeout) < 0 && errno != EINTR) {
			fprintf(stderr, KL_TOOL_NAME ": poll: %s\n", strerror(errno));
			return KL_EXIT_ERROR;
		}
		if (r->tui && tui_input(r->tui))
			break;
		if (r->pidfd < 0 && o->target != KL_TARGET_ALL && !target_alive(r))
			r->target_gone = true;
		if (r->pidfd >= 0 && !target_alive(r))
			r->target_gone = true;
		if (r->target_gone)
			break;
	}
	return KL_EXIT_OK;
}

static int run(struct kl_opts *o, struct kl_state *st)
{
	struct run r = { .o = o, .pidfd = -1 };
	struct json_object *final = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	int rc;

	pthread_mutex_init(&r.pub.lock, NULL);
	r.cur = *st;	/* takes over probes and metadata */
	kl_state_init(&r.prev);
	rc = kl_collector_open(&r.col, &r.cur, o->target != KL_TARGET_ALL ? o->pid : 0, o->verbose);
	if (rc)
		goto cleanup;
	/* per-vCPU counters only when a view shows them (decided below for the TUI) */
	r.col.want_vcpu_counters = o->per_vcpu || o->output != KL_OUT_TABLE || o->listen;
	/* tick() swaps cur and prev: prev starts with the same metadata */
	if (kl_state_copy(&r.prev, &r.cur)) {
		rc = KL_EXIT_ERROR;
		goto cleanup;
	}
	/* load-time buffers (BTF, ELF, verifier logs) go back to the system */
	malloc_trim(0);
	if (!o->listen && caps_drop_after_attach()) {
		rc = KL_EXIT_ERROR;
		goto cleanup;
	}

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (o->target != KL_TARGET_ALL) {
		r.pidfd = (int)syscall(SYS_pidfd_open, (pid_t)o->pid, 0);
		if (r.pidfd < 0 && o->verbose)
			fprintf(stderr, KL_TOOL_NAME ": pidfd_open: %s; polling kill(pid, 0)\n", strerror(errno));
		if (!target_alive(&r)) {
			r.target_gone = true;
		}
	}
	if (o->listen) {
		struct kl_http_opts ho = { .addr = o->listen, .snapshot = publisher_get, .ctx = &r.pub,
					   .per_vcpu = o->per_vcpu, .verbose = o->verbose };

		rc = http_serve(&ho, &r.http);
		if (rc)
			goto cleanup;
		if (caps_drop_after_attach()) {
			rc = KL_EXIT_ERROR;
			goto cleanup;
		}
	}
	if (o->output == KL_OUT_TABLE && isatty(STDOUT_FILENO) && isatty(STDIN_FILENO) &&
	    tui_open(&r.tui) && o->verbose)
		fprintf(stderr, KL_TOOL_NAME ": no terminal UI, printing text\n");
	if (r.tui)	/* the vCPU drill-down reads per-vCPU counters */
		r.col.want_vcpu_counters = true;

	r.start_mono = r.last_mono = now_ns(CLOCK_MONOTONIC);
	r.start_real = now_ns(CLOCK_REALTIME);
	if (!r.target_gone) {
		rc = loop(&r);
		if (rc)
			goto cleanup;
	}

	/* Final read: nothing the maps hold is lost, even if the VM is gone. */
	rc = tick(&r, false);
	if (rc)
		goto cleanup;
	if (r.tui) {
		tui_close(r.tui);
		r.tui = NULL;
	}
	if (!r.target_gone && o->target != KL_TARGET_ALL && !target_alive(&r))
		r.target_gone = true;
	final = make_snapshot(&r, true, now_ns(CLOCK_MONOTONIC));
	if (!final) {
		rc = KL_EXIT_ERROR;
		goto cleanup;
	}
	switch (o->output) {
	case KL_OUT_JSON:
		rc = write_json(final);
		break;
	case KL_OUT_PROM:
		rc = prom_write(stdout, final, o->per_vcpu);
		if (rc == 0)
			fflush(stdout);
		else if (rc != KL_EXIT_USAGE)
			rc = KL_EXIT_ERROR;
		break;
	default: {
		struct render_opts ro = { .per_vcpu = o->per_vcpu, .histograms = true, .reasons = true,
					  .overhead = true, .title = KL_TOOL_NAME " summary (whole run)" };

		render_text(stdout, final, &ro);
		fflush(stdout);
		rc = KL_EXIT_OK;
	}
	}
	if (!rc && r.target_gone) {
		if (o->until_exit) {
			if (o->verbose)
				fprintf(stderr, KL_TOOL_NAME ": target %u exited\n", o->pid);
		} else {
			fprintf(stderr, KL_TOOL_NAME ": target %u exited while attached (final snapshot written)\n",
				o->pid);
			rc = KL_EXIT_TARGET_GONE;
		}
	}
cleanup:
	if (r.tui)
		tui_close(r.tui);
	http_stop(r.http);
	if (r.pidfd >= 0)
		close(r.pidfd);
	json_object_put(final);
	json_object_put(r.pub.latest);
	kl_collector_close(&r.col);
	kl_state_free(&r.cur);
	kl_state_free(&r.prev);
	pthread_mutex_destroy(&r.pub.lock);
	kl_state_init(st);	/* ownership moved to r.cur */
	return rc;
}

int main(int argc, char **argv)
{
	struct kl_opts opts;
	struct kl_state st;
	int rc;

	if (argc > 1) {
		if (!strcmp(argv[1], "report"))
			return cmd_report(argc - 1, argv + 1);
		if (!strcmp(argv[1], "diff"))
			return cmd_diff(argc - 1, argv + 1);
		if (!strcmp(argv[1], "gate"))
			return cmd_gate(argc - 1, argv + 1);
	}
	setlocale(LC_ALL, "");
	rc = kl_parse_args(argc, argv, &opts, stderr);
	if (rc)
		return rc;
	kl_libbpf_log_level(opts.verbose);

	if (!opts.probe) {
		rc = check_target(&opts);
		if (rc)
			return rc;
	}
	rc = kl_check_support(opts.verbose);
	if (rc)
		return rc;
	if (kl_bpf_jit_mode(NULL) == 0)
		fprintf(stderr, KL_TOOL_NAME ": warning: BPF JIT is off (net.core.bpf_jit_enable = 0): "
			"programs run interpreted, slower, and 6.x riscv64/arm64 interpreters mis-run "
			"JIT-inlined helpers; enable it: sysctl -w net.core.bpf_jit_enable=1\n");

	kl_state_init(&st);
	fill_host(&st, &opts);
	rc = kl_probe_signals(&st, opts.verbose);
	if (rc) {
		fprintf(stderr, KL_TOOL_NAME ": probing failed: %s\n", strerror(-rc));
		rc = KL_EXIT_ERROR;
		goto out;
	}
	if (opts.probe) {
		rc = print_probes(&st, &opts);
		goto out;
	}
	rc = run(&opts, &st);
out:
	kl_state_free(&st);
	return rc;
}
