// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-lazytop e2e guest /init.
 *
 * Mounts the pseudo filesystems, runs the line-oriented scenario in
 * /scenario (language: tests/e2e/README.md), records every command's exit
 * status and output under /tmp/results, then writes all results as one
 * framed archive to the results disk and powers off.
 *
 * Results disk: the virtio-blk device whose first 8 bytes are "LZTRDISK"
 * (written by the host).  Archive layout, all integers little-endian:
 *
 *   header   "LZTRES01"  u32 version(1)  u32 0
 *   file     "FILE"  u32 name_len  u64 data_len  name  data   (repeated)
 *   trailer  "TRLR"  u32 file_count  u64 bytes_before_trailer
 *            u32 crc32(all bytes before trailer)  "LZTREND!"
 *
 * Build: riscv64-linux-gnu-gcc -static -O2 -std=c11 -Wall -Wextra -Werror
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RESULTS_DIR "/tmp/results"
#define TRACEFS "/sys/kernel/tracing"
#define DISK_MAGIC "LZTRDISK"
#define MAX_JOBS 128
#define MAX_ARGS 256
#define MAX_LINE 8192
#define DEFAULT_TIMEOUT_S 600

struct job {
	char name[64];
	pid_t pid;
	int done;
	int status;          /* wait status once done */
	int timed_out;       /* 1: own timeout, 2: killed at end of scenario */
	double start;        /* monotonic seconds */
	double deadline;     /* 0 = none */
	double elapsed;
};

static struct job jobs[MAX_JOBS];
static int njobs;
static int nauto;
static FILE *statusf;    /* RESULTS_DIR/status */
static FILE *logf;       /* RESULTS_DIR/init.log */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One line to the console (the live stream) and to init.log. */
static void say(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "lazytop-init: %s\n", buf);
	if (logf) {
		fprintf(logf, "%.3f %s\n", now(), buf);
		fflush(logf);
	}
}

static void record(const char *name, const char *state, double elapsed)
{
	if (!statusf)
		return;
	fprintf(statusf, "%s\t%s\t%.0f\n", name, state, elapsed * 1000);
	fflush(statusf);
}

static int write_file(const char *path, const char *text, int append)
{
	int fd = open(path, O_WRONLY | (append ? O_APPEND : O_TRUNC) | O_CREAT, 0644);
	ssize_t n;
	size_t len = strlen(text);

	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	if (n < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	if (close(fd) < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static void do_mount(const char *src, const char *dst, const char *type,
		     const char *opts)
{
	mkdir(dst, 0755);
	if (mount(src, dst, type, 0, opts) < 0 && errno != EBUSY)
		say("mount %s on %s failed: %s", type, dst, strerror(errno));
}

static void loopback_up(void)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			say("lo up: %s", strerror(errno));
	}
	close(s);
}

/* ---- jobs ---------------------------------------------------------- */

static struct job *find_job(const char *name)
{
	for (int i = 0; i < njobs; i++)
		if (!strcmp(jobs[i].name, name))
			return &jobs[i];
	return NULL;
}

static void finish(struct job *j)
{
	char state[64];

	j->elapsed = now() - j->start;
	if (j->timed_out)
		snprintf(state, sizeof(state), j->timed_out == 1 ? "timeout" : "killed-at-end");
	else if (WIFEXITED(j->status))
		snprintf(state, sizeof(state), "exit=%d", WEXITSTATUS(j->status));
	else if (WIFSIGNALED(j->status))
		snprintf(state, sizeof(state), "signal=%d", WTERMSIG(j->status));
	else
		snprintf(state, sizeof(state), "status=%d", j->status);
	record(j->name, state, j->elapsed);
	say("%s: %s (%.0f ms)", j->name, state, j->elapsed * 1000);
}

/* Reap every exited child; as PID 1 this also collects orphans. */
static void reap(void)
{
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (int i = 0; i < njobs; i++) {
			if (jobs[i].pid == pid && !jobs[i].done) {
				jobs[i].done = 1;
				jobs[i].status = st;
				finish(&jobs[i]);
			}
		}
	}
}

static void enforce_deadlines(void)
{
	double t = now();

	for (int i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];

		if (!j->done && j->deadline > 0 && t > j->deadline && !j->timed_out) {
			j->timed_out = 1;
			kill(-j->pid, SIGKILL);
			kill(j->pid, SIGKILL);
		}
	}
}

static void msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void wait_job(struct job *j)
{
	while (!j->done) {
		reap();
		enforce_deadlines();
		if (!j->done)
			msleep(5);
	}
}

/* Sleep while still reaping children and enforcing their timeouts. */
static void idle(long ms)
{
	double end = now() + ms / 1000.0;

	while (now() < end) {
		reap();
		enforce_deadlines();
		msleep(5);
	}
}

/* ---- tokenizer and substitution ------------------------------------ */

/*
 * Split a line into words: whitespace separates, '...' and "..." quote,
 * backslash escapes the next character outside single quotes.  A word
 * starting with '#' starts a comment.  Returns the number of words.
 */
static int tokenize(char *line, char **argv, int max)
{
	int argc = 0;
	char *r = line, *w = line;

	for (;;) {
		while (isspace((unsigned char)*r))
			r++;
		if (!*r || *r == '#')
			break;
		if (argc == max - 1)
			return -1;
		argv[argc++] = w;
		while (*r && !isspace((unsigned char)*r)) {
			if (*r == '\'') {
				r++;
				while (*r && *r != '\'')
					*w++ = *r++;
				if (*r)
					r++;
			} else if (*r == '"') {
				r++;
				while (*r && *r != '"') {
					if (*r == '\\' && r[1])
						r++;
					*w++ = *r++;
				}
				if (*r)
					r++;
			} else {
				if (*r == '\\' && r[1])
					r++;
				*w++ = *r++;
			}
		}
		if (*r)
			r++;
		*w++ = '\0';
	}
	argv[argc] = NULL;
	return argc;
}

/* Expand %pid:NAME% and %results% in a word; returns malloc'd string. */
static char *expand(const char *in, int *err)
{
	size_t cap = strlen(in) + 64, len = 0;
	char *out = malloc(cap);

	if (!out)
		abort();
	while (*in) {
		char piece[64];
		const char *add = NULL;
		size_t addlen = 0;

		if (!strncmp(in, "%pid:", 5) && strchr(in + 5, '%')) {
			const char *end = strchr(in + 5, '%');
			char name[64];
			struct job *j;

			snprintf(name, sizeof(name), "%.*s", (int)(end - in - 5), in + 5);
			j = find_job(name);
			if (!j) {
				say("unknown job '%s' in %%pid:%s%%", name, name);
				*err = 1;
				snprintf(piece, sizeof(piece), "0");
			} else {
				snprintf(piece, sizeof(piece), "%d", (int)j->pid);
			}
			add = piece;
			addlen = strlen(piece);
			in = end + 1;
		} else if (!strncmp(in, "%results%", 9)) {
			add = RESULTS_DIR;
			addlen = strlen(add);
			in += 9;
		} else {
			add = in;
			addlen = 1;
			in++;
		}
		if (len + addlen + 1 > cap) {
			cap = (len + addlen + 1) * 2;
			out = realloc(out, cap);
			if (!out)
				abort();
		}
		memcpy(out + len, add, addlen);
		len += addlen;
	}
	out[len] = '\0';
	return out;
}

/* Relative paths in echo/copy/count are relative to tracefs. */
static void tracefs_path(const char *p, char *buf, size_t sz)
{
	if (p[0] == '/')
		snprintf(buf, sz, "%s", p);
	else
		snprintf(buf, sz, "%s/%s", TRACEFS, p);
}

static int valid_name(const char *n)
{
	if (!*n || strlen(n) >= 64 || n[0] == '.')
		return 0;
	for (; *n; n++)
		if (!isalnum((unsigned char)*n) && !strchr("._-", *n))
			return 0;
	return 1;
}

/* ---- commands ------------------------------------------------------ */

static int cmd_run(int argc, char **argv)
{
	const char *bg = NULL, *name = NULL;
	int cpu = -1, i;
	double timeout = DEFAULT_TIMEOUT_S;
	char out[128], errp[128];
	struct job *j;
	pid_t pid;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--bg") && i + 1 < argc)
			bg = name = argv[++i];
		else if (!strcmp(argv[i], "--name") && i + 1 < argc)
			name = argv[++i];
		else if (!strcmp(argv[i], "--cpu") && i + 1 < argc)
			cpu = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout = atof(argv[++i]);
		else {
			say("run: unknown option '%s'", argv[i]);
			return -1;
		}
	}
	if (i >= argc - 1) {
		say("run: missing '-- argv...'");
		return -1;
	}
	argv += i + 1;
	if (njobs == MAX_JOBS) {
		say("run: too many jobs");
		return -1;
	}
	j = &jobs[njobs];
	memset(j, 0, sizeof(*j));
	if (name)
		snprintf(j->name, sizeof(j->name), "%s", name);
	else
		snprintf(j->name, sizeof(j->name), "cmd%02d", ++nauto);
	if (!valid_name(j->name) || find_job(j->name)) {
		say("run: bad or duplicate job name '%s'", j->name);
		return -1;
	}
	snprintf(out, sizeof(out), RESULTS_DIR "/%s.stdout", j->name);
	snprintf(errp, sizeof(errp), RESULTS_DIR "/%s.stderr", j->name);
	say("%s: run%s %s", j->name, bg ? " (bg)" : "", argv[0]);

	j->start = now();
	j->deadline = timeout > 0 ? j->start + timeout : 0;
	pid = fork();
	if (pid < 0) {
		say("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int fe = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int fi = open("/dev/null", O_RDONLY);
		sigset_t none;

		setpgid(0, 0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (fo < 0 || fe < 0 || fi < 0)
			_exit(126);
		dup2(fi, 0);
		dup2(fo, 1);
		dup2(fe, 2);
		if (cpu >= 0) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(cpu, &set);
			if (sched_setaffinity(0, sizeof(set), &set) < 0) {
				dprintf(2, "init: sched_setaffinity(%d): %s\n",
					cpu, strerror(errno));
				_exit(126);
			}
		}
		/*
		 * Resolve PATH ourselves and pass the full path as argv[0]:
		 * KVM selftests open their own ELF via argv[0].
		 */
		if (!strchr(argv[0], '/')) {
			static char full[512];
			char path[1024], *save = NULL;

			snprintf(path, sizeof(path), "%s", getenv("PATH"));
			for (char *d = strtok_r(path, ":", &save); d;
			     d = strtok_r(NULL, ":", &save)) {
				snprintf(full, sizeof(full), "%s/%s", d, argv[0]);
				if (access(full, X_OK) == 0) {
					argv[0] = full;
					break;
				}
			}
		}
		execv(argv[0], argv);
		dprintf(2, "init: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	j->pid = pid;
	njobs++;
	if (!bg)
		wait_job(j);
	return 0;
}

static int cmd_echo(int argc, char **argv)
{
	int i, append;
	char text[MAX_LINE] = "", path[512];
	size_t len = 0;
	int rc;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], ">") || !strcmp(argv[i], ">>"))
			break;
	if (i != argc - 2) {
		say("echo: expected 'echo TEXT > FILE'");
		return -1;
	}
	append = !strcmp(argv[i], ">>");
	for (int k = 1; k < i; k++)
		len += snprintf(text + len, sizeof(text) - len, "%s%s",
				k > 1 ? " " : "", argv[k]);
	snprintf(text + len, sizeof(text) - len, "\n");
	tracefs_path(argv[i + 1], path, sizeof(path));
	rc = write_file(path, text, append);
	if (rc < 0) {
		say("echo > %s: %s", path, strerror(-rc));
		return -1;
	}
	return 0;
}

/* Copy SRC (possibly a pseudo file of unknown size) to fd. */
static int copy_to_fd(const char *src, int out)
{
	char buf[65536];
	int in = open(src, O_RDONLY | O_NONBLOCK);
	ssize_t n;

	if (in < 0)
		return -errno;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n) {
			close(in);
			return -EIO;
		}
	close(in);
	return (n < 0 && errno != EAGAIN) ? -errno : 0;
}

static int cmd_copy(int argc, char **argv)
{
	char src[512], dst[256];
	int fd, rc;

	if (argc != 3 || !valid_name(argv[2])) {
		say("copy: expected 'copy SRC RESULTNAME'");
		return -1;
	}
	tracefs_path(argv[1], src, sizeof(src));
	snprintf(dst, sizeof(dst), RESULTS_DIR "/%s", argv[2]);
	fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	rc = copy_to_fd(src, fd);
	close(fd);
	if (rc < 0) {
		say("copy %s: %s", src, strerror(-rc));
		return -1;
	}
	return 0;
}

/* count NAME FILE [SUBSTR]: append "NAME <lines containing SUBSTR>" to counts. */
static int cmd_count(int argc, char **argv)
{
	char path[512], line[4096];
	const char *needle;
	long n = 0;
	FILE *f, *c;
	int fd;

	if (argc < 3 || argc > 4) {
		say("count: expected 'count NAME FILE [SUBSTRING]'");
		return -1;
	}
	needle = argc == 4 ? argv[3] : "";
	tracefs_path(argv[2], path, sizeof(path));
	fd = open(path, O_RDONLY | O_NONBLOCK);
	if (fd < 0 || !(f = fdopen(fd, "r"))) {
		say("count %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' && !*needle)
			continue;       /* trace header */
		if (strstr(line, needle))
			n++;
	}
	fclose(f);
	c = fopen(RESULTS_DIR "/counts", "a");
	if (!c)
		return -1;
	fprintf(c, "%s\t%ld\n", argv[1], n);
	fclose(c);
	say("count %s = %ld", argv[1], n);
	return 0;
}

static int cmd_cpu(int online, int argc, char **argv)
{
	char path[128];
	int rc;

	if (argc != 2) {
		say("%s: expected a cpu number", argv[0]);
		return -1;
	}
	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/online", atoi(argv[1]));
	rc = write_file(path, online ? "1\n" : "0\n", 0);
	if (rc < 0) {
		say("%s %s: %s", argv[0], argv[1], strerror(-rc));
		return -1;
	}
	return 0;
}

static int dump_dmesg(const char *name)
{
	int size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	char *buf, path[256];
	int n;
	FILE *f;

	if (size <= 0)
		size = 1 << 20;
	buf = malloc(size);
	if (!buf)
		return -1;
	n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, size);
	if (n < 0) {
		free(buf);
		return -1;
	}
	snprintf(path, sizeof(path), RESULTS_DIR "/%s", name);
	f = fopen(path, "w");
	if (!f) {
		free(buf);
		return -1;
	}
	/* Drop the "<N>" priority prefix of each line, like dmesg(1). */
	for (int i = 0; i < n;) {
		int s = i;

		if (buf[i] == '<') {
			while (i < n && buf[i] != '>' && buf[i] != '\n')
				i++;
			if (i < n && buf[i] == '>')
				s = i + 1;
			else
				i = s;
		}
		while (i < n && buf[i] != '\n')
			i++;
		fwrite(buf + s, 1, i - s, f);
		fputc('\n', f);
		i++;
	}
	fclose(f);
	free(buf);
	return 0;
}

static int execute(int argc, char **argv)
{
	const char *c = argv[0];

	if (!strcmp(c, "run"))
		return cmd_run(argc, argv);
	if (!strcmp(c, "wait")) {
		struct job *j;

		if (argc != 2 || !(j = find_job(argv[1]))) {
			say("wait: unknown job");
			return -1;
		}
		wait_job(j);
		return 0;
	}
	if (!strcmp(c, "kill")) {
		struct job *j;
		int sig = argc > 2 ? atoi(argv[2]) : SIGTERM;

		if (argc < 2 || !(j = find_job(argv[1]))) {
			say("kill: unknown job");
			return -1;
		}
		if (!j->done)
			kill(j->pid, sig);
		return 0;
	}
	if (!strcmp(c, "sleep")) {
		if (argc != 2)
			return -1;
		idle(atol(argv[1]));
		return 0;
	}
	if (!strcmp(c, "echo"))
		return cmd_echo(argc, argv);
	if (!strcmp(c, "copy"))
		return cmd_copy(argc, argv);
	if (!strcmp(c, "count"))
		return cmd_count(argc, argv);
	if (!strcmp(c, "cpu-offline"))
		return cmd_cpu(0, argc, argv);
	if (!strcmp(c, "cpu-online"))
		return cmd_cpu(1, argc, argv);
	if (!strcmp(c, "dmesg"))
		return dump_dmesg(argc > 1 ? argv[1] : "dmesg");
	if (!strcmp(c, "log")) {
		char text[MAX_LINE] = "";
		size_t len = 0;

		for (int k = 1; k < argc; k++)
			len += snprintf(text + len, sizeof(text) - len, "%s%s",
					k > 1 ? " " : "", argv[k]);
		say("%s", text);
		return 0;
	}
	say("unknown command '%s'", c);
	return -1;
}

static void run_scenario(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[MAX_LINE];
	int lineno = 0;

	if (!f) {
		say("no scenario %s: %s", path, strerror(errno));
		record("scenario", "missing", 0);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char *words[MAX_ARGS], *exp[MAX_ARGS];
		int argc, err = 0;
		char label[32];

		lineno++;
		line[strcspn(line, "\n")] = '\0';
		argc = tokenize(line, words, MAX_ARGS);
		if (argc == 0)
			continue;
		snprintf(label, sizeof(label), "line%d", lineno);
		if (argc < 0) {
			say("%s: too many words", label);
			record(label, "error", 0);
			continue;
		}
		for (int i = 0; i < argc; i++)
			exp[i] = expand(words[i], &err);
		exp[argc] = NULL;
		if (err || execute(argc, exp) < 0) {
			say("%s: '%s' failed", label, exp[0]);
			record(label, "error", 0);
		}
		for (int i = 0; i < argc; i++)
			free(exp[i]);
	}
	fclose(f);
}

/* ---- archive ------------------------------------------------------- */

static uint32_t crc_table[256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

struct sink {
	int fd;
	uint32_t crc;        /* running, pre-inverted */
	uint64_t bytes;
	uint64_t limit;
	int error;
};

static void put(struct sink *s, const void *p, size_t n)
{
	const unsigned char *b = p;

	if (s->error)
		return;
	if (s->bytes + n > s->limit) {
		s->error = ENOSPC;
		return;
	}
	for (size_t i = 0; i < n; i++)
		s->crc = crc_table[(s->crc ^ b[i]) & 0xff] ^ (s->crc >> 8);
	while (n) {
		ssize_t w = write(s->fd, b, n);

		if (w <= 0) {
			s->error = w < 0 ? errno : EIO;
			return;
		}
		b += w;
		n -= w;
		s->bytes += w;
	}
}

static void put32(struct sink *s, uint32_t v)
{
	unsigned char b[4] = { v, v >> 8, v >> 16, v >> 24 };

	put(s, b, 4);
}

static void put64(struct sink *s, uint64_t v)
{
	put32(s, (uint32_t)v);
	put32(s, (uint32_t)(v >> 32));
}

static int archive_dir(struct sink *s, const char *dir, const char *prefix)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort), files = 0;

	if (n < 0)
		return 0;
	for (int i = 0; i < n; i++) {
		char path[512], name[512];
		struct stat st;

		if (ents[i]->d_name[0] == '.') {
			free(ents[i]);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		snprintf(name, sizeof(name), "%s%s", prefix, ents[i]->d_name);
		free(ents[i]);
		if (lstat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			char sub[520];

			snprintf(sub, sizeof(sub), "%s/", name);
			files += archive_dir(s, path, sub);
		} else if (S_ISREG(st.st_mode)) {
			char buf[65536];
			int fd = open(path, O_RDONLY);
			uint64_t left = st.st_size;

			if (fd < 0)
				continue;
			put(s, "FILE", 4);
			put32(s, strlen(name));
			put64(s, st.st_size);
			put(s, name, strlen(name));
			while (left) {
				ssize_t r = read(fd, buf, left < sizeof(buf) ? left : sizeof(buf));

				if (r <= 0) {   /* shrank under us: pad to keep framing */
					memset(buf, 0, sizeof(buf));
					r = left < sizeof(buf) ? left : sizeof(buf);
				}
				put(s, buf, r);
				left -= r;
			}
			close(fd);
			files++;
		}
	}
	free(ents);
	return files;
}

static int find_results_disk(char *dev, size_t sz, uint64_t *size)
{
	DIR *d = opendir("/sys/block");
	struct dirent *e;
	int found = 0;

	if (!d)
		return 0;
	while (!found && (e = readdir(d))) {
		char magic[8];
		int fd;

		if (strncmp(e->d_name, "vd", 2))
			continue;
		snprintf(dev, sz, "/dev/%.32s", e->d_name);
		fd = open(dev, O_RDONLY);
		if (fd < 0)
			continue;
		if (read(fd, magic, 8) == 8 && !memcmp(magic, DISK_MAGIC, 8)) {
			found = 1;
			if (ioctl(fd, _IOR(0x12, 114, size_t) /* BLKGETSIZE64 */, size) < 0)
				*size = 0;
		}
		close(fd);
	}
	closedir(d);
	return found;
}

/* Archive DIR to DEV (found by marker when NULL); 0 on success. */
static int write_results(const char *dir, const char *devpath, uint64_t size)
{
	char dev[64];
	struct sink s = { 0 };
	int files;

	if (devpath) {
		snprintf(dev, sizeof(dev), "%s", devpath);
	} else if (!find_results_disk(dev, sizeof(dev), &size)) {
		say("no results disk (virtio-blk starting with " DISK_MAGIC ")");
		return -1;
	}
	s.fd = open(dev, O_WRONLY);
	if (s.fd < 0) {
		say("open %s: %s", dev, strerror(errno));
		return -1;
	}
	s.crc = 0xffffffffu;
	s.limit = size ? size : UINT64_MAX;
	/* Leave room for the trailer so overflow is reported, not silent. */
	if (s.limit > 32)
		s.limit -= 32;
	put(&s, "LZTRES01", 8);
	put32(&s, 1);
	put32(&s, 0);
	files = archive_dir(&s, dir, "");
	if (s.error) {
		say("results archive: %s after %llu bytes (disk %llu bytes); no trailer written",
		    strerror(s.error), (unsigned long long)s.bytes, (unsigned long long)size);
	} else {
		uint32_t crc = s.crc ^ 0xffffffffu;
		uint64_t before = s.bytes;

		s.limit += 32;
		put(&s, "TRLR", 4);
		put32(&s, files);
		put64(&s, before);
		put32(&s, crc);
		put(&s, "LZTREND!", 8);
		say("results: %d files, %llu bytes -> %s", files,
		    (unsigned long long)s.bytes, dev);
	}
	if (fsync(s.fd) < 0 && errno != EINVAL)
		say("fsync %s: %s", dev, strerror(errno));
	close(s.fd);
	return s.error ? -1 : 0;
}

int main(int argc, char **argv)
{
	/*
	 * Host-side test hook (never used as PID 1):
	 *   init --pack DIR FILE SIZE   archive DIR into FILE, limited to SIZE
	 */
	if (getpid() != 1 && argc == 5 && !strcmp(argv[1], "--pack")) {
		crc_init();
		return write_results(argv[2], argv[3], strtoull(argv[4], NULL, 0)) ? 1 : 0;
	}
	setenv("PATH", "/bin:/sbin:/usr/bin:/usr/sbin:/selftests", 1);
	setenv("HOME", "/tmp", 1);
	setenv("TERM", "dumb", 1);
	umask(022);

	do_mount("proc", "/proc", "proc", NULL);
	do_mount("sysfs", "/sys", "sysfs", NULL);
	do_mount("devtmpfs", "/dev", "devtmpfs", NULL);
	do_mount("tmpfs", "/tmp", "tmpfs", "mode=1777");
	do_mount("tracefs", TRACEFS, "tracefs", NULL);
	do_mount("debugfs", "/sys/kernel/debug", "debugfs", NULL);
	do_mount("bpffs", "/sys/fs/bpf", "bpf", "mode=0700");
	do_mount("cgroup2", "/sys/fs/cgroup", "cgroup2", NULL);
	loopback_up();

	/* stdio to the console even if the kernel gave us none. */
	if (fcntl(2, F_GETFD) < 0) {
		int fd = open("/dev/console", O_RDWR);

		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
	}
	crc_init();
	mkdir(RESULTS_DIR, 0755);
	statusf = fopen(RESULTS_DIR "/status", "w");
	logf = fopen(RESULTS_DIR "/init.log", "w");
	say("start");

	run_scenario("/scenario");

	/* Stop whatever is still running, then collect. */
	for (int i = 0; i < njobs; i++)
		if (!jobs[i].done) {
			jobs[i].timed_out = 2;
			kill(-jobs[i].pid, SIGKILL);
			kill(jobs[i].pid, SIGKILL);
		}
	for (int i = 0; i < njobs; i++)
		wait_job(&jobs[i]);
	dump_dmesg("dmesg");
	record("init", "done", 0);
	say("scenario finished");
	if (statusf)
		fclose(statusf);
	statusf = NULL;
	if (logf)
		fclose(logf);
	logf = NULL;
	write_results(RESULTS_DIR, NULL, 0);
	sync();
	fprintf(stderr, "lazytop-init: power off\n");
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}
