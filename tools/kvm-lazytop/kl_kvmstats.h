/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kl_kvmstats.h - KVM's own per-vCPU counters of a VM, read without BPF.
 *
 * KVM_GET_STATS_FD cannot serve another process: every KVM vCPU/VM ioctl
 * returns -EIO unless the caller is the VM's own mm (kvm_main.c), so a
 * vCPU fd duplicated with pidfd_getfd() is of no use.  KVM publishes the
 * same binary stats in debugfs instead: /sys/kernel/debug/kvm/PID-FD/NAME
 * holds a vCPU stat summed over the VM's vCPUs.  Those files are
 * nonseekable and give their value once per open (simple_attr), so each
 * read is open + read + close.  An open stat file holds a reference on
 * the VM (kvm_debugfs_open): one "anchor" file per VM that ran keeps it,
 * and its directory, between reads, so the read after the VMM closed the
 * VM (or exited) still sees the final counts; the anchor is let go and
 * taken again after every read, so a VM the VMM closed goes then.
 *
 * Counts are cumulative from attach: a VM that existed at kl_kvmstats_open
 * starts from its values then, a VM created later from zero, as the BPF
 * counters do.
 */
#ifndef __KL_KVMSTATS_H
#define __KL_KVMSTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The stats kvm-lazytop reads (riscv series 0015), in JSON order. */
enum kl_kstat {
	KL_KS_VCPU_LOAD_FAST,
	KL_KS_VCPU_LOAD_SLOW,
	KL_KS_GSTAGE_FAULT_FAST,
	KL_KS_GSTAGE_FAULT_SLOW,
	KL_KS_GSTAGE_FAULT_NOT_HOST_WRITABLE,
	KL_KS_NR
};

/* Their debugfs and JSON names (kl_names.c, with the other name tables). */
extern const char *const kl_kstat_names[KL_KS_NR];

/* One KVM VM (one debugfs directory PID-FD). */
struct kl_kvm_dir {
	uint32_t pid;
	char name[64];			/* "PID-FD" */
	int hold;			/* anchor: an open stat file, -1 none */
	bool gone;			/* the VM went: last[] is final */
	uint64_t base[KL_KS_NR];	/* value at first sight (0 if born after attach) */
	uint64_t last[KL_KS_NR];	/* last value read */
	uint32_t has;			/* bit per enum kl_kstat found */
};

struct kl_kvmstats {
	char root[256];			/* /sys/kernel/debug/kvm */
	uint32_t target;		/* 0: every VM */
	bool verbose;
	struct kl_kvm_dir *dirs;
	size_t nr_dirs;
};

/* Cumulative counts of one process's VMs. */
struct kl_kstat_vals {
	uint32_t has;			/* bit per enum kl_kstat */
	uint64_t v[KL_KS_NR];
};

/*
 * Record the VMs present now (their current values are the baseline).
 * root NULL: the debugfs default.  Never fails: no debugfs, no KVM
 * directory or no permission just means no stats.
 */
void kl_kvmstats_open(struct kl_kvmstats *ks, const char *root, uint32_t target, bool verbose);
/* Read every known VM, then look for new ones, then close the exited. */
void kl_kvmstats_update(struct kl_kvmstats *ks);
/* The counts since attach of pid's VMs; false when none has a stat. */
bool kl_kvmstats_get(const struct kl_kvmstats *ks, uint32_t pid, struct kl_kstat_vals *out);
void kl_kvmstats_close(struct kl_kvmstats *ks);

/* "PID-FD" -> PID; 0 when the name is not a KVM VM directory. */
uint32_t kl_kvmstats_dir_pid(const char *name);
/* The decimal value of a stat file's text ("123\n"); -1 if malformed. */
int kl_kvmstats_parse(const char *buf, size_t len, uint64_t *out);

#endif
