// SPDX-License-Identifier: GPL-2.0-only
/*
 * main.c - kvm-lazytop: argument handling, target validation, the
 * collection loop and the choice of view.  See kvm-lazytop.8.
 */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <malloc.h>

#include <json-c/json.h>

#include "collector.h"
#include "commands.h"
#include "kl_escape.h"
#include "kl_model.h"
#include "kl_names.h"
#include "kl_opts.h"
#include "kl_proc.h"
#include "kl_snapshot.h"
#include "prom_caps.h"
#include "render.h"
#include "tui.h"

/*
 * Set from SIGINT/SIGTERM/SIGHUP: the signal number, | SIG_FROM_TTY when
 * the terminal sent it (to the whole foreground process group, so a
 * started COMMAND got it too).  The only mutable global besides the
 * options.  The signals are blocked except inside ppoll().
 */
static volatile sig_atomic_t stop_requested;
#define SIG_FROM_TTY	0x100

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	stop_requested = sig | (si && si->si_code == SI_KERNEL ? SIG_FROM_TTY : 0);
}

/* --version (argp calls it for the subcommands' --version too). */
static void print_version(FILE *f, struct argp_state *state)
{
	unsigned int major, minor;

	(void)state;
	kl_libbpf_version(&major, &minor);
	fprintf(f, KL_TOOL_NAME " " KL_TOOL_VERSION "\nlibbpf %u.%u\n", major, minor);
}

void (*argp_program_version_hook)(FILE *, struct argp_state *) = print_version;

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * KL_NSEC_PER_SEC + ts.tv_nsec;
}

/*
 * Latest whole-run typed snapshot for the HTTP exporter.  A published
 * snapshot is never changed: each holder (the publisher itself and every
 * request being served) counts as a reference, and the last put frees it.
 */
struct pub_snap {
	struct kl_snap s;	/* first: the pointer handed out */
	unsigned int refs;
};

struct publisher {
	pthread_mutex_t lock;
	struct pub_snap *latest;
};

/* Drop one reference of ps (p->lock held); the snapshot if it was the last. */
static struct pub_snap *pub_unref(struct pub_snap *ps)
{
	return ps && !--ps->refs ? ps : NULL;
}

static void pub_free(struct pub_snap *ps)
{
	if (!ps)
		return;
	kl_snap_free(&ps->s);
	free(ps);
}

static const struct kl_snap *publisher_get(void *ctx)
{
	struct publisher *p = ctx;
	struct pub_snap *ps;

	pthread_mutex_lock(&p->lock);
	ps = p->latest;
	if (ps)
		ps->refs++;
	pthread_mutex_unlock(&p->lock);
	return ps ? &ps->s : NULL;
}

static void publisher_put(void *ctx, const struct kl_snap *snap)
{
	struct publisher *p = ctx;
	struct pub_snap *ps = (struct pub_snap *)snap, *dead;

	pthread_mutex_lock(&p->lock);
	dead = pub_unref(ps);
	pthread_mutex_unlock(&p->lock);
	pub_free(dead);
}

/* Publish ps (one reference, taken over); NULL just drops the latest. */
static void publisher_set(struct publisher *p, struct pub_snap *ps)
{
	struct pub_snap *dead;

	pthread_mutex_lock(&p->lock);
	dead = pub_unref(p->latest);
	p->latest = ps;
	pthread_mutex_unlock(&p->lock);
	pub_free(dead);
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

/*
 * -n found no VM it could see: the processes of that name whose fd table
 * only CAP_SYS_PTRACE would show (another uid, or more capabilities than
 * ours) may be it.  Their names are world readable, so they are taken as
 * the candidates (-p does not check either); 0 if there are none.
 */
static int name_unverified(const struct kl_opts *o, uint32_t *pids, int max)
{
	int n = kl_find_unverified_by_name(o->name, pids, max);

	if (n > 0 && o->verbose)
		fprintf(stderr, KL_TOOL_NAME ": %d process(es) named '%s' with an unreadable /proc/PID/fd "
			"(needs CAP_SYS_PTRACE); not checking they are VMs\n", n, o->name);
	return n > 0 ? n : 0;
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
		if (n == 0)
			n = name_unverified(o, pids, 8);
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
	/* a thread id (e.g. a vCPU thread's) stands for its process */
	r = kl_proc_tgid(o->pid);
	if (r < 0) {
		fprintf(stderr, KL_TOOL_NAME ": no such process: %u\n", o->pid);
		return KL_EXIT_NO_PROCESS;
	}
	if ((uint32_t)r != o->pid) {
		if (o->verbose)
			fprintf(stderr, KL_TOOL_NAME ": %u is a thread of process %d: watching %d\n",
				o->pid, r, r);
		o->pid = (uint32_t)r;
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
			fprintf(stderr, KL_TOOL_NAME ": cannot inspect /proc/%u/fd (%s%s); not checking it is a VM\n",
				o->pid, strerror(-r), r == -EACCES || r == -EPERM ? ": needs CAP_SYS_PTRACE" : "");
	}
	return KL_EXIT_OK;
}

static int print_probes(const struct kl_state *st, const struct kl_opts *o, FILE *out)
{
	char buf[200];

	if (o->output == KL_OUT_JSON) {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "schema_version", json_object_new_string(KL_SCHEMA_VERSION));
		json_object_object_add(j, "kernel", json_object_new_string(st->kernel));
		json_object_object_add(j, "arch", json_object_new_string(st->arch));
		json_object_object_add(j, "probes", kl_probes_json(st));
		json_object_object_add(j, "unavailable", kl_unavailable_json(kl_state_attached(st), st->arch));
		fprintf(out, "%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(j);
		return KL_EXIT_OK;
	}
	fprintf(out, "%-28s %-10s %s\n", "SIGNAL", "HOOK", "STATUS");
	for (int s = 0; s < KL_SIG_NR; s++) {
		static const char *const kinds[] = { "raw_tp", "tracepoint", "fentry" };

		fprintf(out, "%-28s %-10s %s\n", kl_signals[s].name, kinds[kl_signals[s].kind],
		       kl_probe_text(&st->probes[s], buf, sizeof(buf)));
	}
	{
		struct json_object *un = kl_unavailable_json(kl_state_attached(st), st->arch);
		size_t n = json_object_array_length(un);

		fprintf(out, "unavailable metrics (%zu):", n);
		for (size_t i = 0; i < n; i++)
			fprintf(out, "%s %s", i ? "," : "", json_object_get_string(json_object_array_get_idx(un, i)));
		fprintf(out, "\n");
		json_object_put(un);
	}
	return KL_EXIT_OK;
}

/* Name of the output stream in errors: the -O file or "stdout". */
static const char *out_name(const struct kl_opts *o)
{
	return o->output_file ? o->output_file : "standard output";
}

/*
 * After writing to out: flush and check its error flag (a write error on
 * stdout, e.g. > /dev/full or a closed pipe, is exit 1, never silent).
 * One line "PREFIX: write error on NAME: reason", then KL_EXIT_ERROR.
 */
static int check_stream(FILE *out, const char *prefix, const char *name)
{
	bool failed = ferror(out);

	errno = 0;
	if (fflush(out))
		failed = true;
	if (!failed)
		return KL_EXIT_OK;
	fprintf(stderr, "%s: write error on %s%s%s\n", prefix, name,
		errno ? ": " : "", errno ? strerror(errno) : "");
	return KL_EXIT_ERROR;
}

static int check_out(FILE *out, const struct kl_opts *o)
{
	return check_stream(out, KL_TOOL_NAME, out_name(o));
}

/* One snapshot: pretty (-o json) or on one line (-o ndjson), flushed. */
static int write_json(FILE *out, struct json_object *snap, const struct kl_opts *o)
{
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE |
		    (o->output == KL_OUT_NDJSON ? JSON_C_TO_STRING_PLAIN : JSON_C_TO_STRING_PRETTY);
	const char *s = json_object_to_json_string_ext(snap, flags);

	if (!s) {
		fprintf(stderr, KL_TOOL_NAME ": cannot format the snapshot (out of memory)\n");
		return KL_EXIT_ERROR;
	}
	fputs(s, out);
	fputc('\n', out);
	return check_out(out, o);
}

struct run {
	struct kl_opts *o;
	struct kl_collector col;
	struct kl_state cur, prev;	/* cumulative: now, previous interval */
	struct kl_kvmstats ks;		/* KVM's own vCPU stats (debugfs) */
	uint64_t start_mono, start_real, last_mono;
	struct kl_tui *tui;
	struct publisher pub;
	struct kl_http *http;
	int pidfd;
	bool target_gone;
	FILE *out;		/* stdout or the -O file */
	sigset_t oldmask;	/* the mask before SIGINT/SIGTERM/SIGHUP were blocked */
	/* -- COMMAND */
	pid_t child;		/* 0: no command */
	int go_fd;		/* write a byte: the child may exec */
	int err_fd;		/* the child's execvp() errno, EOF on success */
	bool seen_vm;		/* the child held an anon_inode:kvm-vm fd */
};

/* Interval (cur - prev) or whole-run (cur) typed snapshot: 0 or -ENOMEM. */
static int make_model(struct run *r, bool whole, uint64_t now_mono, struct kl_snap *s)
{
	struct kl_state d;
	int err;

	if (whole) {
		r->cur.start_time_ns = r->start_real;
		r->cur.duration_ns = now_mono - r->start_mono;
		return kl_snap_from_state(s, &r->cur);
	}
	kl_snap_init(s);
	if (kl_state_delta(&d, &r->cur, &r->prev))
		return -ENOMEM;
	d.start_time_ns = r->start_real + (r->last_mono - r->start_mono);
	d.duration_ns = now_mono - r->last_mono;
	err = kl_snap_from_state(s, &d);
	kl_state_free(&d);
	return err;
}

/* The same as JSON, only for the outputs that want JSON (ndjson). */
static struct json_object *make_snapshot(struct run *r, bool whole, uint64_t now_mono)
{
	struct json_object *j = NULL;
	struct kl_snap s;

	if (!make_model(r, whole, now_mono, &s))
		j = kl_snap_json(&s);
	kl_snap_free(&s);
	return j;
}

/* The live table or ncurses view of one interval: straight from the model. */
static int show_table(struct run *r, uint64_t now)
{
	struct render_opts ro = { .per_vcpu = r->o->per_vcpu, .reasons = true, .overhead = true };
	struct kl_snap snap;
	int err = KL_EXIT_OK;

	if (make_model(r, false, now, &snap))
		return KL_EXIT_ERROR;
	if (r->tui) {
		tui_update(r->tui, &snap);	/* takes snap over */
	} else {
		render_text(r->out, &snap, &ro);
		fputc('\n', r->out);
		err = check_out(r->out, r->o);
	}
	kl_snap_free(&snap);
	return err;
}

/* --listen: the whole-run model becomes the one /metrics serves. */
static void publish(struct run *r, uint64_t now)
{
	struct pub_snap *ps = malloc(sizeof(*ps));

	if (!ps)
		return;
	if (make_model(r, true, now, &ps->s)) {
		free(ps);
		return;		/* out of memory: the previous one stays */
	}
	ps->refs = 1;
	publisher_set(&r->pub, ps);
}

/* KVM's own stats (debugfs) of the VMs the BPF read found. */
static void read_kvm_stats(struct run *r)
{
	kl_kvmstats_update(&r->ks);
	for (size_t i = 0; i < r->cur.nr_vms; i++) {
		struct kl_vm *vm = &r->cur.vms[i];
		struct kl_kstat_vals kv;

		if (kl_kvmstats_get(&r->ks, vm->pid, &kv)) {
			vm->kstat_has = kv.has;
			memcpy(vm->kstat, kv.v, sizeof(vm->kstat));
		}
	}
}

static int tick(struct run *r, bool show)
{
	uint64_t now = now_ns(CLOCK_MONOTONIC);
	struct json_object *snap;
	int err;

	if (r->child && !r->col.target_exited) {
		/* a started COMMAND: its comm/-name change at exec; the VM fd comes later */
		kl_collector_refresh_meta(&r->col, (uint32_t)r->child);
		if (!r->seen_vm && kl_proc_is_vm((uint32_t)r->child) == 1)
			r->seen_vm = true;
	}
	/* prev = the last cumulative state (no copy); cur is rebuilt by the read */
	kl_state_swap(&r->cur, &r->prev);
	err = kl_collector_read(&r->col, &r->cur);
	if (err) {
		fprintf(stderr, KL_TOOL_NAME ": reading BPF maps failed: %s\n", strerror(-err));
		return KL_EXIT_ERROR;
	}
	read_kvm_stats(r);
	/* with a COMMAND the table is the final summary only, unless -i was given */
	if (show && r->o->output == KL_OUT_TABLE && (!r->child || r->o->interval_set)) {
		err = show_table(r, now);
		if (err)
			return err;
	}
	if (show && r->o->output == KL_OUT_NDJSON) {
		snap = make_snapshot(r, false, now);
		if (!snap)
			return KL_EXIT_ERROR;
		err = write_json(r->out, snap, r->o);
		json_object_put(snap);
		if (err)
			return err;
	}
	if (r->o->listen)
		publish(r, now);
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

/*
 * A signal arrived?  Without a COMMAND it ends the run (true).  With one
 * it is forwarded to COMMAND, which decides when the run ends (false);
 * a signal from the terminal reached COMMAND already (same process group).
 */
static bool handle_signal(struct run *r)
{
	int v = stop_requested;

	if (!v)
		return false;
	stop_requested = 0;
	if (!r->child)
		return true;
	if (!(v & SIG_FROM_TTY))
		kill(r->child, v & 0xff);
	if (r->o->verbose)
		fprintf(stderr, KL_TOOL_NAME ": %s %s COMMAND (pid %d); waiting for it to exit\n",
			strsignal(v & 0xff), v & SIG_FROM_TTY ? "sent by the terminal to" : "forwarded to",
			(int)r->child);
	return false;
}

static int loop(struct run *r)
{
	const struct kl_opts *o = r->o;
	uint64_t end = o->duration_ns ? r->start_mono + o->duration_ns : 0;
	uint64_t next = r->start_mono + o->interval_ns;
	int rc;

	while (!handle_signal(r)) {
		struct pollfd pfd[2];
		uint64_t now = now_ns(CLOCK_MONOTONIC), wake = next;
		struct timespec ts;
		int n = 0;

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
		ts.tv_sec = (time_t)((wake - now) / KL_NSEC_PER_SEC);
		ts.tv_nsec = (long)((wake - now) % KL_NSEC_PER_SEC);
		/* the stop signals are blocked except while waiting here */
		if (ppoll(pfd, n, &ts, &r->oldmask) < 0 && errno != EINTR) {
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

/* ------------------------------------------------------ -- COMMAND [ARGS] */

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * Fork COMMAND before the BPF programs are loaded, so that its PID is the
 * target they filter on.  The child blocks until release_command() (or
 * exits quietly if kvm-lazytop gives up before: go_fd closed), then
 * execs; an execvp() error comes back through err_fd (close-on-exec: EOF
 * means the exec happened).
 */
static int spawn_command(struct run *r)
{
	int go[2] = { -1, -1 }, er[2] = { -1, -1 };
	pid_t pid;

	/* a socket: writing to a child killed meanwhile is EPIPE, not SIGPIPE */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, go) || pipe2(er, O_CLOEXEC)) {
		fprintf(stderr, KL_TOOL_NAME ": cannot start COMMAND: %s\n", strerror(errno));
		goto fail;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, KL_TOOL_NAME ": cannot start COMMAND: fork: %s\n", strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		ssize_t n;
		char c;
		int e;

		close(go[0]);
		close(er[0]);
		do
			n = read(go[1], &c, 1);
		while (n < 0 && errno == EINTR);
		if (n != 1)
			_exit(KL_EXIT_ERROR);	/* not attached: never run COMMAND */
		execvp(r->o->cmd[0], r->o->cmd);
		e = errno;
		if (write(er[1], &e, sizeof(e)) != sizeof(e))
			_exit(126);
		_exit(e == ENOENT ? 127 : 126);
	}
	close(go[1]);
	close(er[1]);
	r->child = pid;
	r->go_fd = go[0];
	r->err_fd = er[0];
	return KL_EXIT_OK;
fail:
	close_fd(&go[0]);
	close_fd(&go[1]);
	close_fd(&er[0]);
	close_fd(&er[1]);
	return KL_EXIT_ERROR;
}

static int command_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return KL_EXIT_ERROR;
}

/* COMMAND was never released: it exits without running; reap it. */
static void abort_command(struct run *r)
{
	close_fd(&r->go_fd);
	close_fd(&r->err_fd);
	while (waitpid(r->child, NULL, 0) < 0 && errno == EINTR)
		;
	r->child = 0;
}

/*
 * The programs are attached: let COMMAND exec.  Returns 0 once it did, or
 * env(1)'s status (127 not found, 126 cannot be run) after one line.
 */
static int release_command(struct run *r)
{
	char name[256];
	ssize_t n;
	int e = 0;

	if (send(r->go_fd, "g", 1, MSG_NOSIGNAL) != 1)
		e = errno;	/* the child is gone already: its status tells why */
	close_fd(&r->go_fd);
	do
		n = read(r->err_fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close_fd(&r->err_fd);
	if (n != (ssize_t)sizeof(e))
		return KL_EXIT_OK;
	kl_escape(name, sizeof(name), r->o->cmd[0]);
	fprintf(stderr, KL_TOOL_NAME ": cannot run '%s': %s\n", name, strerror(e));
	while (waitpid(r->child, NULL, 0) < 0 && errno == EINTR)
		;
	r->child = 0;
	return e == ENOENT ? 127 : 126;
}

/* Wait for COMMAND to exit, forwarding signals meanwhile: its exit status. */
static int wait_command(struct run *r)
{
	int status = 0;

	for (;;) {
		pid_t w = waitpid(r->child, &status, WNOHANG);
		struct pollfd p = { .fd = r->pidfd, .events = POLLIN };
		struct timespec ts = { .tv_nsec = 100000000 };

		if (w == r->child)
			break;
		if (w < 0 && errno != EINTR) {
			fprintf(stderr, KL_TOOL_NAME ": waitpid %d: %s\n", (int)r->child, strerror(errno));
			r->child = 0;
			return KL_EXIT_ERROR;
		}
		ppoll(&p, r->pidfd >= 0 ? 1 : 0, &ts, &r->oldmask);
		handle_signal(r);
	}
	r->child = 0;
	return command_status(status);
}

/* COMMAND never became a VM: say so (its exit status stays the result). */
static void warn_no_vm(struct run *r)
{
	for (size_t i = 0; i < r->cur.nr_vms; i++)
		if (r->cur.vms[i].pid == r->o->pid && r->cur.vms[i].c[KL_C_KVM_RUNS])
			return;
	if (r->seen_vm)
		return;
	fprintf(stderr, KL_TOOL_NAME ": warning: COMMAND (pid %u) ran no KVM VM, nothing was measured "
		"(it must be the VMM itself: exec is followed, fork is not)\n", r->o->pid);
}

/* ------------------------------------------------------------------ run */

/* -o json: the final snapshot through the JSON writer. */
static int write_final_json(struct run *r, const struct kl_snap *final)
{
	struct json_object *j = kl_snap_json(final);
	int rc;

	if (!j) {
		fprintf(stderr, KL_TOOL_NAME ": cannot build the snapshot (out of memory)\n");
		return KL_EXIT_ERROR;
	}
	rc = write_json(r->out, j, r->o);
	json_object_put(j);
	return rc;
}

/* -o prom: the final snapshot's exposition, straight from the model. */
static int write_final_prom(struct run *r, const struct kl_snap *final)
{
	const struct kl_opts *o = r->o;
	int rc = prom_write(r->out, final, o->per_vcpu, o->prom_vm_buckets);

	if (check_out(r->out, o))	/* says why when the stream failed */
		return KL_EXIT_ERROR;
	return rc ? KL_EXIT_ERROR : KL_EXIT_OK;
}

static int write_final(struct run *r, const struct kl_snap *final)
{
	const struct kl_opts *o = r->o;

	switch (o->output) {
	case KL_OUT_JSON:
		return write_final_json(r, final);
	case KL_OUT_PROM:
		return write_final_prom(r, final);
	case KL_OUT_NDJSON:
		return KL_EXIT_OK;	/* the last interval's line was the final read */
	default: {
		struct render_opts ro = { .per_vcpu = o->per_vcpu, .histograms = true, .reasons = true,
					  .overhead = true, .title = KL_TOOL_NAME " summary (whole run)" };

		render_text(r->out, final, &ro);
		return check_out(r->out, o);
	}
	}
}

/* Start COMMAND if any, load and attach the programs, keep prev in step. */
static int attach(struct run *r)
{
	struct kl_opts *o = r->o;
	int rc;

	if (o->cmd) {
		/* before the load: the programs filter on COMMAND's PID */
		rc = spawn_command(r);
		if (rc)
			return rc;
		o->pid = (uint32_t)r->child;
		r->cur.target_pid = o->pid;
	}
	rc = kl_collector_open(&r->col, &r->cur, o->target != KL_TARGET_ALL ? o->pid : 0,
			       o->max_vcpus, o->max_reasons, o->max_hists, o->verbose);
	r->col.stats_window_ns = o->stats_window_ns;
	if (rc)
		return rc;
	/* per-vCPU counters only when a view shows them (decided below for the TUI) */
	r->col.want_vcpu_counters = o->per_vcpu || o->output != KL_OUT_TABLE || o->listen;
	/* tick() swaps cur and prev: prev starts with the same metadata */
	if (kl_state_copy(&r->prev, &r->cur))
		return KL_EXIT_ERROR;
	/* the VMs there now count from here, as the BPF counters do */
	kl_kvmstats_open(&r->ks, NULL, o->target != KL_TARGET_ALL ? o->pid : 0, o->verbose);
	/* load-time buffers (BTF, ELF, verifier logs) go back to the system */
	malloc_trim(0);
	if (!o->listen && caps_drop_after_attach())
		return KL_EXIT_ERROR;
	return KL_EXIT_OK;
}

/* SIGINT, SIGTERM, SIGHUP end the run: blocked but for the waits. */
static void block_stop_signals(struct run *r)
{
	struct sigaction sa = { .sa_sigaction = on_signal, .sa_flags = SA_SIGINFO };
	sigset_t stop_sigs;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigemptyset(&stop_sigs);
	sigaddset(&stop_sigs, SIGINT);
	sigaddset(&stop_sigs, SIGTERM);
	sigaddset(&stop_sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &stop_sigs, &r->oldmask);
}

/* A pidfd on the target VM, or kill(pid, 0) polling without one. */
static void watch_target(struct run *r)
{
	const struct kl_opts *o = r->o;

	if (o->target == KL_TARGET_ALL)
		return;
	r->pidfd = (int)syscall(SYS_pidfd_open, (pid_t)o->pid, 0);
	if (r->pidfd < 0 && o->verbose)
		fprintf(stderr, KL_TOOL_NAME ": pidfd_open: %s; polling kill(pid, 0)\n", strerror(errno));
	if (!target_alive(r))
		r->target_gone = true;
}

/* The HTTP endpoint (--listen) and the terminal UI. */
static int start_views(struct run *r, FILE *out)
{
	const struct kl_opts *o = r->o;
	int rc;

	if (o->listen) {
		struct kl_http_opts ho = { .addr = o->listen, .snapshot = publisher_get, .put = publisher_put,
					   .ctx = &r->pub, .per_vcpu = o->per_vcpu,
					   .vm_buckets = o->prom_vm_buckets, .verbose = o->verbose };

		rc = http_serve(&ho, &r->http);
		if (rc)
			return rc;
		if (caps_drop_after_attach())
			return KL_EXIT_ERROR;
	}
	/* no TUI when the output is a file or when COMMAND shares the terminal */
	if (o->output == KL_OUT_TABLE && !o->cmd && out == stdout && isatty(STDOUT_FILENO) &&
	    isatty(STDIN_FILENO) && tui_open(&r->tui) && o->verbose)
		fprintf(stderr, KL_TOOL_NAME ": no terminal UI, printing text\n");
	if (r->tui)	/* the vCPU drill-down reads per-vCPU counters */
		r->col.want_vcpu_counters = true;
	return KL_EXIT_OK;
}

/* Let COMMAND run, then the interval loop until the run ends. */
static int measure(struct run *r)
{
	int rc;

	r->start_mono = r->last_mono = now_ns(CLOCK_MONOTONIC);
	r->start_real = now_ns(CLOCK_REALTIME);
	if (r->child) {
		rc = release_command(r);
		if (rc)
			return rc;
		kl_collector_refresh_meta(&r->col, r->o->pid);	/* comm after exec */
		r->target_gone = false;
	}
	if (!r->target_gone)
		return loop(r);
	return KL_EXIT_OK;
}

/* The exit status once the final snapshot is written (rc: its status). */
static int end_status(struct run *r, int rc)
{
	const struct kl_opts *o = r->o;

	if (r->child) {
		int status = wait_command(r);

		warn_no_vm(r);
		if (!rc)
			rc = status;	/* kvm-lazytop's own errors win */
	} else if (!rc && r->target_gone) {
		if (o->until_exit) {
			if (o->verbose)
				fprintf(stderr, KL_TOOL_NAME ": target %u exited\n", o->pid);
		} else {
			fprintf(stderr, KL_TOOL_NAME ": target %u exited while attached (final snapshot written)\n",
				o->pid);
			rc = KL_EXIT_TARGET_GONE;
		}
	}
	return rc;
}

/* Final read: nothing the maps hold is lost, even if the VM is gone. */
static int finish(struct run *r, struct kl_snap *final)
{
	const struct kl_opts *o = r->o;
	int rc;

	rc = tick(r, o->output == KL_OUT_NDJSON);
	if (rc)
		return rc;
	if (r->tui) {
		tui_close(r->tui);
		r->tui = NULL;
	}
	if (!r->target_gone && o->target != KL_TARGET_ALL && !target_alive(r))
		r->target_gone = true;
	if (make_model(r, true, now_ns(CLOCK_MONOTONIC), final))
		return KL_EXIT_ERROR;
	return end_status(r, write_final(r, final));
}

/* Undo what attach() and start_views() set up; COMMAND is never orphaned. */
static void teardown(struct run *r)
{
	if (r->tui)
		tui_close(r->tui);
	if (r->child && r->go_fd >= 0) {
		abort_command(r);
	} else if (r->child) {
		/* kvm-lazytop failed while COMMAND runs: it is not killed, wait for it */
		fprintf(stderr, KL_TOOL_NAME ": waiting for COMMAND (pid %d) to exit\n", (int)r->child);
		wait_command(r);
	}
	http_stop(r->http);
	if (r->pidfd >= 0)
		close(r->pidfd);
	publisher_set(&r->pub, NULL);
	kl_collector_close(&r->col);
	kl_kvmstats_close(&r->ks);
	kl_state_free(&r->cur);
	kl_state_free(&r->prev);
	pthread_mutex_destroy(&r->pub.lock);
}

static int run(struct kl_opts *o, struct kl_state *st, FILE *out)
{
	struct run r = { .o = o, .pidfd = -1, .out = out, .go_fd = -1, .err_fd = -1 };
	struct kl_snap final;
	int rc;

	kl_snap_init(&final);
	pthread_mutex_init(&r.pub.lock, NULL);
	sigprocmask(SIG_SETMASK, NULL, &r.oldmask);
	r.cur = *st;	/* takes over probes and metadata */
	kl_state_init(&r.prev);
	rc = attach(&r);
	if (rc)
		goto cleanup;
	block_stop_signals(&r);
	watch_target(&r);
	rc = start_views(&r, out);
	if (rc)
		goto cleanup;
	rc = measure(&r);
	if (rc)
		goto cleanup;
	rc = finish(&r, &final);
cleanup:
	teardown(&r);
	kl_snap_free(&final);
	kl_state_init(st);	/* ownership moved to r.cur */
	return rc;
}

/*
 * report / diff / gate: their usage and errors say "kvm-lazytop report";
 * a write error on stdout (> /dev/full) is one line and exit 1.
 */
static int run_subcommand(const struct kl_opts *o)
{
	char **argv = o->sub_argv, *name = argv[0], prog[32];
	int rc;

	snprintf(prog, sizeof(prog), KL_TOOL_NAME " %s", name);
	argv[0] = prog;
	if (!strcmp(name, "report"))
		rc = cmd_report(o->sub_argc, argv);
	else if (!strcmp(name, "diff"))
		rc = cmd_diff(o->sub_argc, argv);
	else
		rc = cmd_gate(o->sub_argc, argv);
	/* report's own check of stdout says nothing: 1 with a write error is ours to explain */
	if (rc <= KL_EXIT_ERROR && check_stream(stdout, prog, "standard output"))
		rc = KL_EXIT_ERROR;
	argv[0] = name;
	return rc;
}

int main(int argc, char **argv)
{
	struct kl_opts opts;
	struct kl_state st;
	FILE *out = stdout;
	int rc;

	rc = kl_parse_args(argc, argv, &opts, stderr);
	if (rc)
		return rc;
	if (opts.sub_argc)
		return run_subcommand(&opts);
	setlocale(LC_ALL, "");
	kl_libbpf_log_level(opts.verbose);
	if (opts.cmd) {
		/* the target is COMMAND's PID, known after the fork; it ends the run */
		opts.target = KL_TARGET_PID;
		opts.until_exit = true;
	}
	if (opts.output_file) {
		out = fopen(opts.output_file, "we");
		if (!out) {
			fprintf(stderr, KL_TOOL_NAME ": cannot write %s: %s\n", opts.output_file, strerror(errno));
			return KL_EXIT_ERROR;
		}
	}

	/* privilege first: a target we may not see must not read as "no such VM" */
	rc = caps_check_bpf();
	if (rc)
		goto out_file;
	if (!opts.probe && !opts.cmd) {
		rc = check_target(&opts);
		if (rc)
			goto out_file;
	}
	rc = kl_check_support(opts.verbose);
	if (rc)
		goto out_file;
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
		rc = print_probes(&st, &opts, out);
		if (!rc)
			rc = check_out(out, &opts);
		goto out;
	}
	rc = kl_probe_privilege(&st);
	if (rc)
		goto out;
	rc = run(&opts, &st, out);
out:
	kl_state_free(&st);
out_file:
	if (out != stdout && fclose(out) && !rc) {
		fprintf(stderr, KL_TOOL_NAME ": write error on %s: %s\n", opts.output_file, strerror(errno));
		rc = KL_EXIT_ERROR;
	}
	return rc;
}
