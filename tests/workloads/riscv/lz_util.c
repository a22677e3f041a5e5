// SPDX-License-Identifier: GPL-2.0
/*
 * lz_util - small guest-side helpers for the kvm-lazytop riscv64 demo and
 * end-to-end tests (the guest has no shell).
 *
 *   lz_util gate [--vm] [--wait FILE SUBSTR] [--timeout S] -- ARGV...
 *       Optionally create an (idle, vCPU-less) KVM VM whose fd survives
 *       exec, so that `kvm-lazytop -p PID` accepts this PID right away;
 *       wait until FILE contains SUBSTR (e.g. kvm-lazytop's "attached"
 *       line on its stderr); then exec ARGV under the SAME pid.  This lets
 *       kvm-lazytop attach before the workload takes its first fault.
 *
 *   lz_util live PREFIX -- ARGV...
 *       Run ARGV with its stdout on a pipe; copy every line to our stdout
 *       and to /dev/console as "PREFIX: line", so the host can stream it.
 *
 *   lz_util tracecount [FILE]
 *       Parse a tracefs `trace` file (default /sys/kernel/tracing/trace,
 *       written with options/record-tgid on) and print one line per
 *       (event, reason, tgid, tid): "count<TAB>event<TAB>reason<TAB>tgid<TAB>tid"
 *       (reason "-" for events without one), plus "#entries<TAB>IN<TAB>WRITTEN"
 *       from the header (IN < WRITTEN means the ring buffer overwrote events).
 *
 * Build: riscv64-linux-gnu-gcc -static -O2 -std=c11 -Wall -Wextra -Werror
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KVM_CREATE_VM_IOCTL _IO(0xAE, 0x01)

static void msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int file_has(const char *path, const char *needle)
{
	char buf[65536];
	FILE *f = fopen(path, "r");
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(buf, sizeof(buf), f))
		found = strstr(buf, needle) != NULL;
	fclose(f);
	return found;
}

static int cmd_gate(int argc, char **argv)
{
	const char *wfile = NULL, *wsub = NULL;
	double timeout = 120;
	int vm = 0, i;

	for (i = 2; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--vm"))
			vm = 1;
		else if (!strcmp(argv[i], "--wait") && i + 2 < argc) {
			wfile = argv[++i];
			wsub = argv[++i];
		} else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout = atof(argv[++i]);
		else {
			fprintf(stderr, "lz_util gate: bad option %s\n", argv[i]);
			return 2;
		}
	}
	if (i >= argc - 1) {
		fprintf(stderr, "lz_util gate: missing -- ARGV\n");
		return 2;
	}
	if (vm) {
		int kvm = open("/dev/kvm", O_RDWR);
		int fd = kvm < 0 ? -1 : ioctl(kvm, KVM_CREATE_VM_IOCTL, 0);

		if (fd < 0) {
			fprintf(stderr, "lz_util gate: KVM_CREATE_VM: %s\n", strerror(errno));
			return 1;
		}
		/* keep fd (no CLOEXEC) across exec; /dev/kvm can go */
		close(kvm);
	}
	if (wfile) {
		long waited = 0;

		while (!file_has(wfile, wsub)) {
			if (waited > timeout * 1000) {
				fprintf(stderr, "lz_util gate: '%s' not in %s after %.0fs\n",
					wsub, wfile, timeout);
				return 1;
			}
			msleep(20);
			waited += 20;
		}
		fprintf(stderr, "lz_util gate: '%s' seen after %ld ms\n", wsub, waited);
	}
	execvp(argv[i + 1], argv + i + 1);
	fprintf(stderr, "lz_util gate: exec %s: %s\n", argv[i + 1], strerror(errno));
	return 127;
}

static int cmd_live(int argc, char **argv)
{
	int p[2], con, st;
	pid_t pid;
	FILE *in;
	char line[4096];
	const char *prefix;

	if (argc < 5 || strcmp(argv[3], "--")) {
		fprintf(stderr, "usage: lz_util live PREFIX -- ARGV...\n");
		return 2;
	}
	prefix = argv[2];
	if (pipe(p))
		return 1;
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execvp(argv[4], argv + 4);
		fprintf(stderr, "lz_util live: exec %s: %s\n", argv[4], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	signal(SIGTERM, SIG_IGN);	/* let the child decide; we drain */
	con = open("/dev/console", O_WRONLY | O_NOCTTY);
	in = fdopen(p[0], "r");
	while (in && fgets(line, sizeof(line), in)) {
		fputs(line, stdout);
		fflush(stdout);
		if (con >= 0)
			dprintf(con, "%s: %s%s", prefix, line,
				line[strlen(line) - 1] == '\n' ? "" : "\n");
	}
	if (waitpid(pid, &st, 0) < 0)
		return 1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

struct key {
	char event[48], reason[24];
	long tgid, tid, count;
};

static struct key *keys;
static size_t nkeys, capkeys;

static void bump(const char *ev, const char *reason, long tgid, long tid)
{
	for (size_t i = 0; i < nkeys; i++) {
		struct key *k = &keys[i];

		if (k->tgid == tgid && k->tid == tid && !strcmp(k->event, ev) &&
		    !strcmp(k->reason, reason)) {
			k->count++;
			return;
		}
	}
	if (nkeys == capkeys) {
		capkeys = capkeys ? capkeys * 2 : 64;
		keys = realloc(keys, capkeys * sizeof(*keys));
		if (!keys)
			exit(1);
	}
	memset(&keys[nkeys], 0, sizeof(keys[nkeys]));
	snprintf(keys[nkeys].event, sizeof(keys[nkeys].event), "%s", ev);
	snprintf(keys[nkeys].reason, sizeof(keys[nkeys].reason), "%s", reason);
	keys[nkeys].tgid = tgid;
	keys[nkeys].tid = tid;
	keys[nkeys].count = 1;
	nkeys++;
}

/*
 * "  comm-TID     (  TGID) [CPU] FLAGS  TS: EVENT: fields"
 * (tgid is "(-------)" when unknown -> -1)
 */
static void parse_line(char *l)
{
	char *br = strstr(l, ") [");
	char *op, *dash, *colon, *ev, *evend, *r;
	char reason[24] = "-";
	long tgid = -1, tid = -1;

	if (!br)
		return;
	*br = '\0';
	op = strrchr(l, '(');
	if (!op)
		return;
	tgid = strtol(op + 1, NULL, 10);
	if (strchr(op + 1, '-'))
		tgid = -1;
	*op = '\0';
	dash = strrchr(l, '-');
	if (dash)
		tid = strtol(dash + 1, NULL, 10);
	/* after "] flags timestamp: " comes "event: " */
	colon = strstr(br + 3, ": ");
	if (!colon)
		return;
	ev = colon + 2;
	evend = strchr(ev, ':');
	if (!evend)
		return;
	*evend = '\0';
	r = strstr(evend + 1, " reason ");
	if (r) {
		size_t n = strcspn(r + 8, " \n");

		if (n >= sizeof(reason))
			n = sizeof(reason) - 1;
		memcpy(reason, r + 8, n);
		reason[n] = '\0';
	}
	bump(ev, reason, tgid, tid);
}

static int cmd_tracecount(int argc, char **argv)
{
	const char *path = argc > 2 ? argv[2] : "/sys/kernel/tracing/trace";
	FILE *f = fopen(path, "r");
	char line[4096];
	long in = -1, written = -1;

	if (!f) {
		fprintf(stderr, "lz_util tracecount: %s: %s\n", path, strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#') {
			char *e = strstr(line, "entries-in-buffer/entries-written:");

			if (e)
				sscanf(e + 34, " %ld/%ld", &in, &written);
			continue;
		}
		parse_line(line);
	}
	fclose(f);
	printf("#entries\t%ld\t%ld\n", in, written);
	for (size_t i = 0; i < nkeys; i++)
		printf("%ld\t%s\t%s\t%ld\t%ld\n", keys[i].count, keys[i].event,
		       keys[i].reason, keys[i].tgid, keys[i].tid);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "gate"))
		return cmd_gate(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "live"))
		return cmd_live(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "tracecount"))
		return cmd_tracecount(argc, argv);
	fprintf(stderr, "usage: lz_util gate|live|tracecount ...\n");
	return 2;
}
