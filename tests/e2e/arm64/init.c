// SPDX-License-Identifier: GPL-2.0
/*
 * Minimal /init for the kvm-lazytop arm64 boot test (static, no libc
 * beyond what a static glibc link brings in).
 *
 * 1. mounts /proc, /sys, /dev (devtmpfs) and tracefs;
 * 2. prints the kernel log lines that matter for KVM, prefixed with
 *    "DMESG: " (all of them with init.dmesg=all on the command line);
 *    then prints the files named by init.show=PATH arguments;
 * 3. if /etc/selftests.list exists, runs each line of it
 *    ("<timeout-seconds> [+option...] <path> [args...]"), each test in
 *    its own process with its own time limit, printing a "SELFTEST:"
 *    verdict line, and when the kvm_arm_pkvm_state_sync event exists, a
 *    "PKVM-SYNC:" line per (direction, reason) seen during the test.
 *    Options, between the time limit and the path:
 *      +as=NAME   report the test as NAME (default: the path's basename),
 *                 so one binary can appear twice with different args;
 *      +gdbg      also trace kvm_arm_setup_debug, which gives the vCPU's
 *                 guest_debug flags at every entry, and count the exits
 *                 of runs made with guest debug on, per reason, as
 *                 direction "to_host_gdbg" (plus "gdbg_runs setup_debug");
 *      +lazytop   run /selftests/kvm-lazytop -p <pid> --until-exit -o json
 *                 beside the test: init waits until the test owns a
 *                 KVM VM fd, stops it (SIGSTOP to its process group),
 *                 starts the collector, resumes the test once the
 *                 collector says it attached, and prints the snapshot
 *                 as "LAZYTOP-OUT:" lines plus a "LAZYTOP:" status line;
 *    With init.notrace on the command line nothing is traced;
 * 4. powers the machine off.
 *
 * Every line this program prints starts with a fixed tag so that the
 * host side can grep the serial console.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TRACEFS		"/sys/kernel/tracing"
#define SYNC_EVENT	TRACEFS "/events/kvm/kvm_arm_pkvm_state_sync"
#define DEBUG_EVENT	TRACEFS "/events/kvm/kvm_arm_setup_debug"
#define LAZYTOP		"/selftests/kvm-lazytop"
#define MAX_ARGS	32
#define MAX_TASKS	64

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

static void mount_one(const char *src, const char *dst, const char *type)
{
	mkdir(dst, 0755);
	if (mount(src, dst, type, 0, NULL) && errno != EBUSY)
		say("INIT: mount %s on %s failed: %s\n", type, dst,
		    strerror(errno));
}

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

/* Read a whole (procfs/tracefs) file; the caller frees. */
static char *read_file(const char *path, size_t *len)
{
	size_t cap = 1 << 16, used = 0;
	char *buf = malloc(cap + 1);
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0 || !buf) {
		if (fd >= 0)
			close(fd);
		free(buf);
		return NULL;
	}
	while ((n = read(fd, buf + used, cap - used)) > 0) {
		used += n;
		if (used == cap) {
			char *bigger = realloc(buf, 2 * cap + 1);

			if (!bigger)
				break;
			buf = bigger;
			cap *= 2;
		}
	}
	close(fd);
	buf[used] = '\0';
	if (len)
		*len = used;
	return buf;
}

static int cmdline_has(const char *word)
{
	char *cmd = read_file("/proc/cmdline", NULL);
	int found = 0;
	char *tok, *save;

	if (!cmd)
		return 0;
	for (tok = strtok_r(cmd, " \n", &save); tok;
	     tok = strtok_r(NULL, " \n", &save))
		if (!strcmp(tok, word))
			found = 1;
	free(cmd);
	return found;
}

/*
 * init.show=PATH (may be repeated): print a file, e.g. a tracepoint's
 * format or /sys/kernel/btf/vmlinux's size, with a "SHOW: " prefix.
 */
static void show_files(void)
{
	char *cmd = read_file("/proc/cmdline", NULL);
	char *tok, *save;

	if (!cmd)
		return;
	for (tok = strtok_r(cmd, " \n", &save); tok;
	     tok = strtok_r(NULL, " \n", &save)) {
		const char *path;
		struct stat st;
		char *body, *line, *lsave;

		if (strncmp(tok, "init.show=", 10))
			continue;
		path = tok + 10;
		if (stat(path, &st)) {
			say("SHOW: %s: %s\n", path, strerror(errno));
			continue;
		}
		say("SHOW: %s (%lld bytes)\n", path, (long long)st.st_size);
		if (strncmp(path, "/sys/kernel/btf/", 16) == 0)
			continue;	/* binary */
		body = read_file(path, NULL);
		if (!body)
			continue;
		for (line = strtok_r(body, "\n", &lsave); line;
		     line = strtok_r(NULL, "\n", &lsave))
			say("SHOW: %s\n", line);
		free(body);
	}
	free(cmd);
}

static int interesting(const char *line)
{
	static const char * const keys[] = {
		"kvm", "KVM", "pKVM", "Protected", "VHE", "hyp", "GIC",
		"PSCI", "CPU features", "Linux version", "Kernel command line",
		"BUG", "WARNING", "Oops", "panic", "Call trace",
	};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strstr(line, keys[i]))
			return 1;
	return 0;
}

static void print_dmesg(int all)
{
	int size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	char *buf, *line, *save;
	int n;

	if (size <= 0)
		size = 1 << 20;
	buf = malloc(size + 1);
	if (!buf)
		return;
	n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, size);
	if (n < 0) {
		say("INIT: klogctl: %s\n", strerror(errno));
		free(buf);
		return;
	}
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (all || interesting(line))
			say("DMESG: %s\n", line);
	free(buf);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- tracepoint accounting ------------------------------------------ */

struct sync_count {
	char key[64];		/* "<dir> <reason>" */
	unsigned long n;
};

/* Last guest_debug flags seen at kvm_arm_setup_debug, per task. */
struct task_debug {
	int pid;
	unsigned int flags;
};

static int tracing_ready;

static void tracing_setup(void)
{
	struct stat st;

	if (stat(SYNC_EVENT, &st))
		return;
	write_file(TRACEFS "/tracing_on", "0");
	write_file(TRACEFS "/buffer_size_kb", "16384");
	if (write_file(SYNC_EVENT "/enable", "1")) {
		say("INIT: cannot enable kvm_arm_pkvm_state_sync\n");
		return;
	}
	tracing_ready = 1;
	say("INIT: tracing kvm_arm_pkvm_state_sync\n");
}

static void tracing_start(int gdbg)
{
	if (!tracing_ready)
		return;
	if (gdbg && write_file(DEBUG_EVENT "/enable", "1"))
		say("INIT: cannot enable kvm_arm_setup_debug\n");
	write_file(TRACEFS "/trace", "");
	write_file(TRACEFS "/tracing_on", "1");
}

static void count_key(struct sync_count *counts, int *nr, int max,
		      const char *dir, const char *reason)
{
	char key[64];
	int i;

	snprintf(key, sizeof(key), "%s %s", dir, reason);
	for (i = 0; i < *nr; i++)
		if (!strcmp(counts[i].key, key))
			break;
	if (i == *nr) {
		if (*nr == max)
			return;
		strcpy(counts[(*nr)++].key, key);
	}
	counts[i].n++;
}

/*
 * The task pid of a trace line: "  comm-PID  [CPU] flags  ts: event: ...".
 * comm may hold '-' (e.g. "debug-exceptio"), so take the last '-' before
 * the " [" of the CPU field.
 */
static int trace_pid(const char *line)
{
	const char *cpu = strstr(line, " [");
	const char *p;

	if (!cpu)
		return -1;
	p = cpu;
	while (p > line && p[-1] == ' ')
		p--;
	while (p > line && isdigit((unsigned char)p[-1]))
		p--;
	if (p == line || p[-1] != '-' || !isdigit((unsigned char)*p))
		return -1;
	return atoi(p);
}

/*
 * Event lines end in "vcpu <id> <dir> <reason> exit <code>": count them
 * per (dir, reason). With gdbg, kvm_arm_setup_debug lines ("flags: 0x..")
 * tell, per task, whether the run that follows has guest debug on; the
 * exits of such runs (code != -1) are counted again as "to_host_gdbg".
 * Lost events are reported by tracefs in per_cpu stats; print the
 * overrun totals so a truncated count is visible.
 */
static void tracing_report(const char *test, int gdbg)
{
	struct sync_count counts[48];
	struct task_debug tasks[MAX_TASKS];
	int nr = 0, ntasks = 0, i, cpu;
	unsigned long gdbg_runs = 0;
	char *buf, *line, *save;
	const int max = sizeof(counts) / sizeof(counts[0]);

	if (!tracing_ready)
		return;
	write_file(TRACEFS "/tracing_on", "0");
	if (gdbg)
		write_file(DEBUG_EVENT "/enable", "0");
	buf = read_file(TRACEFS "/trace", NULL);
	if (!buf)
		return;
	memset(counts, 0, sizeof(counts));
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char dir[24], reason[32];
		unsigned int vcpu, flags;
		int code, pid;
		char *p;

		if (line[0] == '#')
			continue;
		if (gdbg && (p = strstr(line, "kvm_arm_setup_debug: "))) {
			p = strstr(p, "flags: ");
			pid = trace_pid(line);
			if (!p || pid < 0 || sscanf(p, "flags: %x", &flags) != 1)
				continue;
			for (i = 0; i < ntasks; i++)
				if (tasks[i].pid == pid)
					break;
			if (i == ntasks) {
				if (ntasks == MAX_TASKS)
					continue;
				tasks[ntasks++].pid = pid;
			}
			tasks[i].flags = flags;
			if (flags)
				gdbg_runs++;
			continue;
		}
		p = strstr(line, "kvm_arm_pkvm_state_sync: ");
		if (!p)
			continue;
		p += strlen("kvm_arm_pkvm_state_sync: ");
		if (sscanf(p, "vcpu %u %23s %31s exit %d", &vcpu, dir, reason,
			   &code) != 4)
			continue;
		count_key(counts, &nr, max, dir, reason);
		if (!gdbg || code == -1 || strcmp(dir, "to_host"))
			continue;
		pid = trace_pid(line);
		for (i = 0; i < ntasks; i++)
			if (tasks[i].pid == pid)
				break;
		/* unknown (setup event lost): not counted either way */
		if (i < ntasks && tasks[i].flags)
			count_key(counts, &nr, max, "to_host_gdbg", reason);
	}
	free(buf);
	for (i = 0; i < nr; i++)
		say("PKVM-SYNC: %s %s %lu\n", test, counts[i].key, counts[i].n);
	if (!nr)
		say("PKVM-SYNC: %s none 0\n", test);
	if (gdbg)
		say("PKVM-SYNC: %s gdbg_runs setup_debug %lu\n", test, gdbg_runs);

	for (cpu = 0; cpu < 64; cpu++) {
		char path[96];
		char *o;

		snprintf(path, sizeof(path), TRACEFS "/per_cpu/cpu%d/stats", cpu);
		buf = read_file(path, NULL);
		if (!buf)
			break;
		o = strstr(buf, "overrun: ");
		if (o && strtoul(o + 9, NULL, 10))
			say("PKVM-SYNC: %s overrun cpu%d %lu\n", test, cpu,
			    strtoul(o + 9, NULL, 10));
		free(buf);
	}
}

/* ---- kvm-lazytop beside a test ------------------------------------- */

/* 1 if the process holds a KVM VM fd, 0 if not, -1 if it is gone. */
static int has_vm_fd(pid_t pid)
{
	char dir[64], path[320], link[64];
	struct dirent *d;
	DIR *fds;
	int found = 0;
	ssize_t n;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	fds = opendir(dir);
	if (!fds)
		return -1;
	while (!found && (d = readdir(fds))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		found = !strcmp(link, "anon_inode:kvm-vm");
	}
	closedir(fds);
	return found;
}

static int file_has(const char *path, const char *word)
{
	char *body = read_file(path, NULL);
	int found = body && strstr(body, word);

	free(body);
	return found;
}

static void print_file(const char *tag, const char *test, const char *path)
{
	char *body = read_file(path, NULL);
	char *line, *save;

	if (!body)
		return;
	for (line = strtok_r(body, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		say("%s %s %s\n", tag, test, line);
	free(body);
}

struct lazytop {
	pid_t pid;		/* 0: not started */
	char out[96], err[96];
	const char *why;	/* why it was not started */
	int retries;		/* starts refused with "not a KVM VM" */
};

/* kvm-lazytop's exit status for a process without a VM fd (kl_common.h) */
#define LAZYTOP_EXIT_NOT_VM	4
#define LAZYTOP_MAX_RETRIES	20

/*
 * Called while the test runs: once the test holds a VM fd, freeze it,
 * start the collector and let the test go on when the collector has
 * attached (its -v output says "attached N signal(s)") or gave up.
 * Returns the seconds the test spent stopped.
 */
static double lazytop_attach(struct lazytop *lt, const char *test, pid_t target)
{
	char pidarg[16];
	double t0;
	int fd;

	if (access(LAZYTOP, X_OK)) {
		lt->why = "missing";
		return 0;
	}
	if (kill(-target, SIGSTOP)) {
		lt->why = "stop-failed";
		return 0;
	}
	t0 = now();
	snprintf(lt->out, sizeof(lt->out), "/tmp/lazytop-%s.json", test);
	snprintf(lt->err, sizeof(lt->err), "/tmp/lazytop-%s.err", test);
	snprintf(pidarg, sizeof(pidarg), "%d", target);
	lt->pid = fork();
	if (lt->pid == 0) {
		setpgid(0, 0);
		fd = open(lt->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0)
			dup2(fd, 1);
		fd = open(lt->err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0)
			dup2(fd, 2);
		execl(LAZYTOP, "kvm-lazytop", "-v", "-p", pidarg,
		      "--until-exit", "-o", "json", (char *)NULL);
		_exit(127);
	}
	if (lt->pid < 0) {
		lt->pid = 0;
		lt->why = "fork-failed";
	} else {
		/* BPF loading under TCG takes a while: allow two minutes. */
		while (now() - t0 < 120) {
			int status;

			if (file_has(lt->err, "attached "))
				break;
			if (waitpid(lt->pid, &status, WNOHANG) == lt->pid) {
				lt->pid = 0;
				/*
				 * A test that creates one VM after another (arch_timer)
				 * can be between two VMs when it is stopped, after the
				 * VM fd was seen: the caller polls for the next VM.
				 */
				if (WIFEXITED(status) && WEXITSTATUS(status) == LAZYTOP_EXIT_NOT_VM &&
				    ++lt->retries <= LAZYTOP_MAX_RETRIES)
					break;
				lt->why = "exited-before-attach";
				break;
			}
			usleep(20 * 1000);
		}
	}
	kill(-target, SIGCONT);
	if (!lt->pid && !lt->why)
		say("LAZYTOP-RETRY: %s not a KVM VM any more when stopped (%d)\n", test, lt->retries);
	say("LAZYTOP-ATTACH: %s %.1fs\n", test, now() - t0);
	return now() - t0;
}

/* After the test: the collector should see its target go and exit. */
static void lazytop_finish(struct lazytop *lt, const char *test)
{
	double t0 = now();
	int status = 0, sent = 0;
	pid_t w = 0;

	if (!lt->pid) {
		say("LAZYTOP: %s rc=%s\n", test, lt->why ? lt->why : "no-vm");
		if (lt->err[0])
			print_file("LAZYTOP-ERR:", test, lt->err);
		return;
	}
	while ((w = waitpid(lt->pid, &status, WNOHANG)) != lt->pid) {
		if (now() - t0 > 60 && sent == 0) {
			kill(lt->pid, SIGINT);
			sent = 1;
		} else if (now() - t0 > 90 && sent == 1) {
			kill(-lt->pid, SIGKILL);
			sent = 2;
		}
		usleep(50 * 1000);
	}
	if (WIFEXITED(status))
		say("LAZYTOP: %s rc=%d%s\n", test, WEXITSTATUS(status),
		    sent ? " (interrupted)" : "");
	else
		say("LAZYTOP: %s rc=signal-%d\n", test, WTERMSIG(status));
	print_file("LAZYTOP-OUT:", test, lt->out);
	print_file("LAZYTOP-ERR:", test, lt->err);
}

/* ---- selftests ------------------------------------------------------ */

static void run_one(char *spec)
{
	char *argv[MAX_ARGS + 1], *save, *name = NULL;
	int argc = 0, status = 0, timeout, gdbg = 0, want_lazytop = 0;
	struct lazytop lt = { 0 };
	double t0 = now(), limit;
	pid_t pid, w = 0;
	char *tok;

	tok = strtok_r(spec, " \t", &save);
	if (!tok)
		return;
	timeout = atoi(tok);
	while ((tok = strtok_r(NULL, " \t", &save)) && tok[0] == '+') {
		if (!strncmp(tok, "+as=", 4))
			name = tok + 4;
		else if (!strcmp(tok, "+gdbg"))
			gdbg = 1;
		else if (!strcmp(tok, "+lazytop"))
			want_lazytop = 1;
		else
			say("INIT: unknown list option %s\n", tok);
	}
	while (tok && argc < MAX_ARGS) {
		argv[argc++] = tok;
		tok = strtok_r(NULL, " \t", &save);
	}
	argv[argc] = NULL;
	if (!argc || timeout <= 0)
		return;
	if (!name) {
		name = strrchr(argv[0], '/');
		name = name ? name + 1 : argv[0];
	}
	limit = timeout;

	say("SELFTEST-START: %s\n", name);
	tracing_start(gdbg);
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		execv(argv[0], argv);
		say("INIT: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (pid < 0) {
		say("SELFTEST: %s rc=fork-failed\n", name);
		return;
	}
	setpgid(pid, pid);	/* both sides: no race with kill(-pid) */
	while (now() - t0 < limit) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (want_lazytop && !lt.pid && !lt.why) {
			/* poll fast until the VM exists, then attach */
			if (has_vm_fd(pid) == 1)
				limit += lazytop_attach(&lt, name, pid);
			else
				usleep(2 * 1000);
			continue;
		}
		usleep(100 * 1000);
	}
	if (w != pid) {
		kill(-pid, SIGKILL);
		waitpid(pid, &status, 0);
		say("SELFTEST: %s rc=timeout time=%.1fs\n", name, now() - t0);
	} else if (WIFEXITED(status)) {
		/* kselftest convention: 4 means skipped */
		say("SELFTEST: %s rc=%d%s time=%.1fs\n", name,
		    WEXITSTATUS(status),
		    WEXITSTATUS(status) == 4 ? " (skip)" : "", now() - t0);
	} else {
		say("SELFTEST: %s rc=signal-%d time=%.1fs\n", name,
		    WTERMSIG(status), now() - t0);
	}
	tracing_report(name, gdbg);
	if (want_lazytop)
		lazytop_finish(&lt, name);
}

static void run_selftests(void)
{
	char *list = read_file("/etc/selftests.list", NULL);
	char *line, *save;

	if (!list)
		return;
	/* init.notrace: benchmarks, where tracing would tax one kernel only */
	if (!cmdline_has("init.notrace"))
		tracing_setup();
	for (line = strtok_r(list, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char copy[512];

		if (line[0] == '#' || !line[0])
			continue;
		snprintf(copy, sizeof(copy), "%s", line);
		run_one(copy);
	}
	free(list);
	say("SELFTEST-DONE\n");
}

int main(void)
{
	struct utsname u;

	mount_one("proc", "/proc", "proc");
	mount_one("sysfs", "/sys", "sysfs");
	mount_one("devtmpfs", "/dev", "devtmpfs");
	mount_one("tracefs", TRACEFS, "tracefs");
	mount_one("debugfs", "/sys/kernel/debug", "debugfs");
	mkdir("/tmp", 01777);
	mount_one("tmpfs", "/tmp", "tmpfs");

	/* kselftests chdir and open files relative to their directory. */
	setenv("PATH", "/selftests:/bin", 1);
	if (!uname(&u))
		say("INIT: %s %s %s\n", u.sysname, u.release, u.machine);

	print_dmesg(cmdline_has("init.dmesg=all"));
	show_files();
	if (access("/dev/kvm", R_OK | W_OK) == 0)
		say("INIT: /dev/kvm present\n");
	else
		say("INIT: /dev/kvm missing: %s\n", strerror(errno));

	run_selftests();

	/* Anything the tests made the kernel say (WARN, BUG...). */
	say("INIT: kernel log after tests follows\n");
	print_dmesg(0);
	say("INIT: powering off\n");
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
