// SPDX-License-Identifier: GPL-2.0-only
/* kl_proc.c - /proc helpers, see kl_proc.h. */
#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kl_proc.h"

int kl_proc_exists(uint32_t pid)
{
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* State letter from a /proc/.../stat file, 0 if unreadable. */
static char stat_state(const char *path)
{
	char buf[512], *p;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');	/* comm may contain spaces and parentheses */
	return p && p[1] == ' ' ? p[2] : 0;
}

int kl_proc_alive(uint32_t pid)
{
	char path[64], st;

	if (!kl_proc_exists(pid))
		return 0;
	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	st = stat_state(path);
	return st && st != 'Z' && st != 'X';
}

int kl_thread_alive(uint32_t pid, uint32_t tid)
{
	char path[96], st;

	snprintf(path, sizeof(path), "/proc/%u/task/%u/stat", pid, tid);
	st = stat_state(path);
	return st && st != 'Z' && st != 'X';
}

int kl_proc_tgid(uint32_t pid)
{
	char path[64], line[128];
	unsigned int tgid;
	int r = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %u", &tgid) == 1) {
			r = (int)tgid;
			break;
		}
	fclose(f);
	return r;
}

int kl_proc_is_vm(uint32_t pid)
{
	char path[64], link[64];
	struct dirent *de;
	int found = 0, denied = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%u/fd", pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char fp[320];
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(fp, sizeof(fp), "%s/%s", path, de->d_name);
		n = readlink(fp, link, sizeof(link) - 1);
		/* the links need ptrace-read access to pid (proc_fd_access_allowed) */
		if (n < 0 && (errno == EACCES || errno == EPERM))
			denied = errno;
		if (n <= 0)
			continue;
		link[n] = 0;
		if (!strcmp(link, "anon_inode:kvm-vm")) {
			found = 1;
			break;
		}
	}
	closedir(d);
	return found ? 1 : -denied;
}

/* kl_proc_is_vm() result r says "a VM" (or "not readable" if unverified). */
static bool vm_state_is(int r, bool unverified)
{
	return unverified ? r == -EACCES || r == -EPERM : r == 1;
}

static ssize_t read_file(const char *path, char *buf, size_t len)
{
	ssize_t n, total = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while ((size_t)total < len - 1 && (n = read(fd, buf + total, len - 1 - total)) > 0)
		total += n;
	close(fd);
	buf[total] = 0;
	return total;
}

int kl_proc_comm(uint32_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	n = read_file(path, buf, len);
	if (n < 0)
		return (int)n;
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = 0;
	return 0;
}

int kl_bpf_jit_mode(const char *path)
{
	char buf[32], *end;
	ssize_t n = read_file(path ? path : "/proc/sys/net/core/bpf_jit_enable", buf, sizeof(buf));
	long v;

	if (n <= 0)
		return n < 0 ? (int)n : -EINVAL;
	errno = 0;
	v = strtol(buf, &end, 10);
	if (end == buf || (*end && *end != '\n') || errno || v < 0 || v > 2)
		return -EINVAL;
	return (int)v;
}

/*
 * One QemuOpts element of val[0..len) starting at *pos, with ",," read as
 * a literal comma (QEMU's escape), copied to out (cut to olen).  Sets
 * *has_eq when the element has a '=' before its end, *pos past the comma.
 */
static void qemu_opt_elem(const char *val, size_t len, size_t *pos, char *out, size_t olen,
			  bool *has_eq)
{
	size_t i = *pos, o = 0;

	*has_eq = false;
	while (i < len) {
		if (val[i] == ',') {
			if (i + 1 < len && val[i + 1] == ',') {
				i++;		/* ",," is one literal comma */
			} else {
				i++;
				break;
			}
		} else if (val[i] == '=') {
			*has_eq = true;
		}
		if (o + 1 < olen)
			out[o++] = val[i];
		i++;
	}
	if (olen)
		out[o] = 0;
	*pos = i;
}

/*
 * QEMU's -name argument: "NAME[,debug-threads=on][,process=P]" or
 * "guest=NAME,...".  As in QEMU's option parser, a first element without
 * '=' is the value of the implied key "guest", and the last guest= wins.
 */
static int qemu_name_opt(const char *val, size_t len, char *buf, size_t blen)
{
	char elem[256];
	size_t pos = 0;
	bool first = true, found = false;

	while (pos < len) {
		bool has_eq;

		qemu_opt_elem(val, len, &pos, elem, sizeof(elem), &has_eq);
		if (first && !has_eq) {
			snprintf(buf, blen, "%s", elem);
			found = true;
		} else if (!strncmp(elem, "guest=", 6)) {
			snprintf(buf, blen, "%s", elem + 6);
			found = true;
		}
		first = false;
	}
	return found && buf[0] ? 0 : -ENOENT;
}

int kl_cmdline_vm_name(const char *cmd, size_t len, char *buf, size_t blen)
{
	const char *end = cmd + len, *p = cmd;

	while (p < end) {
		const char *arg = p;
		size_t alen = strnlen(arg, end - arg);

		p = arg + alen + 1;
		if (strcmp(arg, "-name") && strcmp(arg, "--name"))
			continue;
		if (p >= end)
			return -ENOENT;
		return qemu_name_opt(p, strnlen(p, end - p), buf, blen);
	}
	return -ENOENT;
}

int kl_proc_qemu_name(uint32_t pid, char *buf, size_t len)
{
	char path[64], *cmd;
	ssize_t n;
	int err;

	cmd = malloc(65536);
	if (!cmd)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/proc/%u/cmdline", pid);
	n = read_file(path, cmd, 65536);
	err = n < 0 ? (int)n : kl_cmdline_vm_name(cmd, (size_t)n, buf, len);
	free(cmd);
	return err;
}

/*
 * Processes named name (NULL: any) whose fd table holds a kvm-vm fd
 * (unverified false), or whose fd table this process may not read
 * (unverified true).
 */
static int find_by_name(const char *name, uint32_t *pids, int max, bool unverified)
{
	struct dirent *de;
	int found = 0;
	DIR *d = opendir("/proc");

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char comm[64], qname[256];
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);

		if (*end || !pid)
			continue;
		if (!vm_state_is(kl_proc_is_vm((uint32_t)pid), unverified))
			continue;
		if (name && !(kl_proc_qemu_name((uint32_t)pid, qname, sizeof(qname)) == 0 && !strcmp(qname, name)) &&
		    !(kl_proc_comm((uint32_t)pid, comm, sizeof(comm)) == 0 && !strcmp(comm, name)))
			continue;
		if (found < max)
			pids[found] = (uint32_t)pid;
		found++;
	}
	closedir(d);
	return found;
}

int kl_find_vms_by_name(const char *name, uint32_t *pids, int max)
{
	return find_by_name(name, pids, max, false);
}

int kl_find_unverified_by_name(const char *name, uint32_t *pids, int max)
{
	return find_by_name(name, pids, max, true);
}
