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
 *    ("<timeout-seconds> <path> [args...]"), each test in its own
 *    process with its own time limit, printing a "SELFTEST:" verdict
 *    line, and when the kvm_arm_pkvm_state_sync event exists, a
 *    "PKVM-SYNC:" line per (direction, reason) seen during the test;
 * 4. powers the machine off.
 *
 * Every line this program prints starts with a fixed tag so that the
 * host side can grep the serial console.
 */
#define _GNU_SOURCE
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
#define MAX_ARGS	32

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

/* ---- tracepoint accounting ------------------------------------------ */

struct sync_count {
	char key[64];		/* "<dir> <reason>" */
	unsigned long n;
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

static void tracing_start(void)
{
	if (!tracing_ready)
		return;
	write_file(TRACEFS "/trace", "");
	write_file(TRACEFS "/tracing_on", "1");
}

/*
 * Event lines end in "vcpu <id> <dir> <reason> exit <code>": count them
 * per (dir, reason). Lost events are reported by tracefs in per_cpu
 * stats; print the overrun total so a truncated count is visible.
 */
static void tracing_report(const char *test)
{
	struct sync_count counts[32];
	int nr = 0, i;
	char *buf, *line, *save;

	if (!tracing_ready)
		return;
	write_file(TRACEFS "/tracing_on", "0");
	buf = read_file(TRACEFS "/trace", NULL);
	if (!buf)
		return;
	memset(counts, 0, sizeof(counts));
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char dir[24], reason[32], key[64];
		unsigned int vcpu;
		int code;
		char *p = strstr(line, "kvm_arm_pkvm_state_sync: ");

		if (!p || line[0] == '#')
			continue;
		p += strlen("kvm_arm_pkvm_state_sync: ");
		if (sscanf(p, "vcpu %u %23s %31s exit %d", &vcpu, dir, reason,
			   &code) != 4)
			continue;
		snprintf(key, sizeof(key), "%s %s", dir, reason);
		for (i = 0; i < nr; i++)
			if (!strcmp(counts[i].key, key))
				break;
		if (i == nr) {
			if (nr == (int)(sizeof(counts) / sizeof(counts[0])))
				continue;
			strcpy(counts[nr++].key, key);
		}
		counts[i].n++;
	}
	free(buf);
	for (i = 0; i < nr; i++)
		say("PKVM-SYNC: %s %s %lu\n", test, counts[i].key, counts[i].n);
	if (!nr)
		say("PKVM-SYNC: %s none 0\n", test);

	buf = read_file(TRACEFS "/per_cpu/cpu0/stats", NULL);
	if (buf) {
		char *o = strstr(buf, "overrun: ");

		if (o && strtoul(o + 9, NULL, 10))
			say("PKVM-SYNC: %s overrun-cpu0 %lu\n", test,
			    strtoul(o + 9, NULL, 10));
		free(buf);
	}
}

/* ---- selftests ------------------------------------------------------ */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void run_one(char *spec)
{
	char *argv[MAX_ARGS + 1], *save, *name;
	int argc = 0, status = 0, timeout;
	double t0 = now();
	pid_t pid, w = 0;
	char *tok;

	tok = strtok_r(spec, " \t", &save);
	if (!tok)
		return;
	timeout = atoi(tok);
	while ((tok = strtok_r(NULL, " \t", &save)) && argc < MAX_ARGS)
		argv[argc++] = tok;
	argv[argc] = NULL;
	if (!argc || timeout <= 0)
		return;
	name = strrchr(argv[0], '/');
	name = name ? name + 1 : argv[0];

	say("SELFTEST-START: %s\n", name);
	tracing_start();
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
	while (now() - t0 < timeout) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
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
	tracing_report(name);
}

static void run_selftests(void)
{
	char *list = read_file("/etc/selftests.list", NULL);
	char *line, *save;

	if (!list)
		return;
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
