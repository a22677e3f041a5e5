// SPDX-License-Identifier: GPL-2.0-only
/*
 * kl_kvmstats.c - KVM's per-vCPU binary stats of a VM through debugfs
 * (see kl_kvmstats.h for why not KVM_GET_STATS_FD).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kl_common.h"
#include "kl_kvmstats.h"

#define KL_KVM_DEBUGFS "/sys/kernel/debug/kvm"

uint32_t kl_kvmstats_dir_pid(const char *name)
{
	char *end;
	unsigned long pid;

	if (name[0] < '1' || name[0] > '9' || strlen(name) >= sizeof(((struct kl_kvm_dir *)0)->name))
		return 0;
	errno = 0;
	pid = strtoul(name, &end, 10);
	if (errno || pid > UINT32_MAX || *end != '-' || end[1] < '0' || end[1] > '9')
		return 0;
	strtoul(end + 1, &end, 10);
	return *end ? 0 : (uint32_t)pid;
}

int kl_kvmstats_parse(const char *buf, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < len && buf[i] >= '0' && buf[i] <= '9'; i++) {
		uint64_t d = (uint64_t)(buf[i] - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (!i || (i < len && buf[i] != '\n'))
		return -1;
	*out = v;
	return 0;
}

/* One stat file of a VM directory: its value, or -1 (absent, malformed). */
static int read_stat(const struct kl_kvmstats *ks, const char *dir, int k, uint64_t *v)
{
	char path[sizeof(ks->root) + 128], buf[32];
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s/%s", ks->root, dir, kl_kstat_names[k]) >= (int)sizeof(path))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n > 0 ? kl_kvmstats_parse(buf, (size_t)n, v) : -1;
}

/* Stats found, all zero: no vCPU of the VM has run (see drop_idle). */
static bool is_idle(const struct kl_kvm_dir *d)
{
	bool idle = d->has != 0;

	for (int k = 0; k < KL_KS_NR; k++)
		idle = idle && !d->last[k] && !d->base[k];
	return idle;
}

static void let_go(struct kl_kvm_dir *d)
{
	if (d->hold >= 0)
		close(d->hold);
	d->hold = -1;
}

/*
 * Read the stats (held: the VM is still there), then take the anchor
 * again: if the VMM closed the VM meanwhile, it goes now and last[] is
 * final.
 */
static void read_dir(const struct kl_kvmstats *ks, struct kl_kvm_dir *d)
{
	char path[sizeof(ks->root) + 128];
	int first = -1;

	for (int k = 0; k < KL_KS_NR && !d->gone; k++) {
		uint64_t v;

		if (!(d->has >> k & 1) || read_stat(ks, d->name, k, &v))
			continue;
		d->last[k] = v;
		if (first < 0)
			first = k;
	}
	let_go(d);
	if (d->gone || !d->has || is_idle(d))
		return;
	if (first >= 0 && snprintf(path, sizeof(path), "%s/%s/%s", ks->root, d->name,
				   kl_kstat_names[first]) < (int)sizeof(path))
		d->hold = open(path, O_RDONLY | O_CLOEXEC);
	d->gone = d->hold < 0;
}

/* Look at a VM directory newly seen; false without memory. */
static bool add_dir(struct kl_kvmstats *ks, const char *name, uint32_t pid, bool baseline)
{
	struct kl_kvm_dir *dirs = realloc(ks->dirs, (ks->nr_dirs + 1) * sizeof(*dirs));
	struct kl_kvm_dir *d;

	if (!dirs)
		return false;
	ks->dirs = dirs;
	d = &dirs[ks->nr_dirs++];
	memset(d, 0, sizeof(*d));
	d->hold = -1;
	d->pid = pid;
	memcpy(d->name, name, strlen(name) + 1);	/* short: kl_kvmstats_dir_pid() */
	for (int k = 0; k < KL_KS_NR; k++)
		if (!read_stat(ks, name, k, &d->last[k]))
			d->has |= 1U << k;
	if (baseline)
		memcpy(d->base, d->last, sizeof(d->base));
	read_dir(ks, d);	/* takes the anchor */
	if (ks->verbose && !is_idle(d))	/* an idle one: once it has run */
		fprintf(stderr, KL_TOOL_NAME ": kvm stats: %s/%s: %d of %d stats\n", ks->root, name,
			__builtin_popcount(d->has), KL_KS_NR);
	return true;
}

static bool known(const struct kl_kvmstats *ks, const char *name)
{
	for (size_t i = 0; i < ks->nr_dirs; i++)
		if (!strcmp(ks->dirs[i].name, name))
			return true;
	return false;
}

static void scan(struct kl_kvmstats *ks, bool baseline)
{
	DIR *dir = opendir(ks->root);
	struct dirent *e;

	if (!dir)
		return;
	while ((e = readdir(dir))) {
		uint32_t pid = kl_kvmstats_dir_pid(e->d_name);

		if (!pid || (ks->target && pid != ks->target) || known(ks, e->d_name))
			continue;
		if (!add_dir(ks, e->d_name, pid, baseline))
			break;
	}
	closedir(dir);
}

/*
 * A VM whose stats are all zero (no vCPU has run) is not held: an open
 * file keeps the VM, and with it its debugfs name PID-FD, alive, so a VMM
 * that closes a scratch VM and creates the next one at the same fd
 * number (QEMU's probing VM, lz_util gate's VM at exec) would get no
 * debugfs directory for it.  Zero counts lose nothing: the directory, if
 * still there, is found again by the next scan and counts from zero.
 */
static void drop_idle(struct kl_kvmstats *ks)
{
	for (size_t i = 0; i < ks->nr_dirs; i++) {
		struct kl_kvm_dir *d = &ks->dirs[i];

		if (!is_idle(d))
			continue;
		let_go(d);
		*d = ks->dirs[--ks->nr_dirs];
		i--;
	}
}

void kl_kvmstats_open(struct kl_kvmstats *ks, const char *root, uint32_t target, bool verbose)
{
	memset(ks, 0, sizeof(*ks));
	snprintf(ks->root, sizeof(ks->root), "%s", root ? root : KL_KVM_DEBUGFS);
	ks->target = target;
	ks->verbose = verbose;
	scan(ks, true);
	drop_idle(ks);
}

void kl_kvmstats_update(struct kl_kvmstats *ks)
{
	for (size_t i = 0; i < ks->nr_dirs; i++)
		read_dir(ks, &ks->dirs[i]);
	scan(ks, false);
	drop_idle(ks);
	/* after the read: the anchor kept the VM, and so its final counts */
	for (size_t i = 0; i < ks->nr_dirs; i++)
		if (kill((pid_t)ks->dirs[i].pid, 0) && errno == ESRCH) {
			let_go(&ks->dirs[i]);
			ks->dirs[i].gone = true;
		}
}

bool kl_kvmstats_get(const struct kl_kvmstats *ks, uint32_t pid, struct kl_kstat_vals *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < ks->nr_dirs; i++) {
		const struct kl_kvm_dir *d = &ks->dirs[i];

		if (d->pid != pid)
			continue;
		out->has |= d->has;
		for (int k = 0; k < KL_KS_NR; k++)
			out->v[k] += d->last[k] > d->base[k] ? d->last[k] - d->base[k] : 0;
	}
	return out->has != 0;
}

void kl_kvmstats_close(struct kl_kvmstats *ks)
{
	for (size_t i = 0; i < ks->nr_dirs; i++)
		let_go(&ks->dirs[i]);
	free(ks->dirs);
	ks->dirs = NULL;
	ks->nr_dirs = 0;
}
