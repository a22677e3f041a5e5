// SPDX-License-Identifier: GPL-2.0-only
/*
 * collector.c - the libbpf side of kvm-lazytop: probe each signal of the
 * contract (bpf/README.md) by really loading and attaching it, load the
 * usable set, enable BPF run-time stats, read the mmap()ed slot arrays.
 */
#include <errno.h>
#include <glob.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "kvm_lazytop.skel.h"
/*
 * bpf/README.md names the skeleton struct kvm_lazytop_bpf; accept a
 * skeleton generated with "name kvm_lazytop" too (header guard).
 */
#if defined(__KVM_LAZYTOP_BPF_SKEL_H__)
#define kl_skel			kvm_lazytop_bpf
#define kl_skel__open		kvm_lazytop_bpf__open
#define kl_skel__load		kvm_lazytop_bpf__load
#define kl_skel__destroy	kvm_lazytop_bpf__destroy
#else
#define kl_skel			kvm_lazytop
#define kl_skel__open		kvm_lazytop__open
#define kl_skel__load		kvm_lazytop__load
#define kl_skel__destroy	kvm_lazytop__destroy
#endif

#include "collector.h"
#include "kl_names.h"
#include "kl_proc.h"

/* libbpf's print callback takes no context: its level is the one
 * file-scope variable here (set once from the options). */
static int libbpf_verbose;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (libbpf_verbose >= 3 || (libbpf_verbose >= 2 && level <= LIBBPF_INFO))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

void kl_libbpf_log_level(int verbose)
{
	libbpf_verbose = verbose;
	libbpf_set_print(libbpf_print);
}

void kl_libbpf_version(unsigned int *major, unsigned int *minor)
{
	*major = libbpf_major_version();
	*minor = libbpf_minor_version();
}

static const char *errname(int err)
{
	const char *n = strerrorname_np(err);

	return n ? n : "?";
}

#define VLOG(v, ...) do { if ((v) > 0) fprintf(stderr, KL_TOOL_NAME ": " __VA_ARGS__); } while (0)

int kl_check_support(int verbose)
{
	int fd;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "kl_probe", 4, 4, 1, NULL);
	if (fd < 0) {
		int err = -fd;

		if (err == EPERM || err == EACCES) {
			/* caps_check_bpf() passed: the capabilities are held */
			fprintf(stderr, KL_TOOL_NAME ": bpf() refused with %s although CAP_BPF and CAP_PERFMON "
				"are held (an LSM policy or a user namespace?)\n", errname(err));
			return KL_EXIT_PRIVILEGE;
		}
		if (err == ENOSYS) {
			fprintf(stderr, KL_TOOL_NAME ": kernel without bpf() support (ENOSYS)\n");
			return KL_EXIT_NO_KERNEL;
		}
		fprintf(stderr, KL_TOOL_NAME ": bpf() map create failed: %s (%s)\n", strerror(err), errname(err));
		return KL_EXIT_ERROR;
	}
	close(fd);
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		fprintf(stderr, KL_TOOL_NAME ": kernel has no BTF (/sys/kernel/btf/vmlinux: %s); CONFIG_DEBUG_INFO_BTF=y is required\n",
			strerror(errno));
		return KL_EXIT_NO_KERNEL;
	}
	VLOG(verbose, "bpf() usable, kernel BTF present\n");
	return KL_EXIT_OK;
}

/* ---------------------------------------------------------------- probing */

/*
 * Kernel BTF without the read buffer: libbpf 1.5 reads the 5+ MiB file
 * into a malloc'd buffer and btf_new() copies it again, so a parse briefly
 * holds two copies.  Mapping the sysfs file (kernel >= 6.16; PFN-mapped,
 * not counted in RSS) and parsing from the mapping keeps one.  Used for
 * the probe's hook-existence checks (libbpf's own loads still read()).
 */
static struct btf *kl_load_vmlinux_btf(void)
{
	const char *path = "/sys/kernel/btf/vmlinux";
	struct btf *btf = NULL;
	struct stat sb;
	void *map = MAP_FAILED;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && !fstat(fd, &sb) && sb.st_size > 0)
		map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (fd >= 0)
		close(fd);
	if (map == MAP_FAILED)
		return btf__parse(path, NULL);	/* older kernels: read() copy */
	btf = btf__new(map, (uint32_t)sb.st_size);
	munmap(map, (size_t)sb.st_size);
	return btf;
}


/*
 * Reason text of a signal that is refused for want of privilege (not a
 * kernel limitation): kl_probe_privilege() finds them by this prefix.
 */
#define KL_PERM_PREFIX "permission: "

/*
 * The tracefs root, or NULL with *perm set to why the tracepoint ids
 * cannot be read when that is a privilege problem ("" otherwise: no
 * tracefs in this kernel).  Access is checked with the effective
 * capabilities (AT_EACCESS): access(2) ignores them for a non-root uid.
 */
static const char *tracefs_root(int verbose, char *perm, size_t len)
{
	static const char *const roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char p[128];
	int denied = 0;

	perm[0] = 0;
	for (size_t i = 0; i < KL_ARRAY_SIZE(roots); i++) {
		snprintf(p, sizeof(p), "%s/events", roots[i]);
		if (!faccessat(AT_FDCWD, p, R_OK | X_OK, AT_EACCESS))
			return roots[i];
		if (!denied && (errno == EACCES || errno == EPERM))
			denied = errno;
	}
	if (denied) {
		/* mounted, owner root, mode 0700: only uid 0 or a DAC override reads it */
		snprintf(perm, len, KL_PERM_PREFIX "need CAP_DAC_READ_SEARCH (or uid 0) to read tracepoint "
			 "ids under /sys/kernel/tracing (%s)", strerror(denied));
		VLOG(verbose, "tracefs: %s\n", perm);
		return NULL;
	}
	if (!mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL)) {
		VLOG(verbose, "mounted tracefs at /sys/kernel/tracing\n");
		return "/sys/kernel/tracing";
	}
	if (errno == EPERM)
		snprintf(perm, len, KL_PERM_PREFIX "tracefs is not mounted and mounting it needs "
			 "CAP_SYS_ADMIN (or: mount -t tracefs tracefs /sys/kernel/tracing)");
	VLOG(verbose, "tracefs not mounted and mount failed (%s); using BTF only\n", strerror(errno));
	return NULL;
}

struct btf_set {
	struct btf *vmlinux, *kvm;
};

static bool btf_has(struct btf_set *b, const char *name, int kind)
{
	if (b->vmlinux && btf__find_by_name_kind(b->vmlinux, name, kind) > 0)
		return true;
	return b->kvm && btf__find_by_name_kind(b->kvm, name, kind) > 0;
}

static bool hook_exists(const struct kl_signal_desc *s, const char *tfs, struct btf_set *b)
{
	char path[256];

	switch (s->kind) {
	case KL_HOOK_RAW_TP: {
		glob_t g;
		bool found = false;

		if (tfs) {
			snprintf(path, sizeof(path), "%s/events/*/%s", tfs, s->hook);
			if (!glob(path, GLOB_NOSORT, NULL, &g)) {
				found = g.gl_pathc > 0;
				globfree(&g);
			}
			if (found)
				return true;
		}
		snprintf(path, sizeof(path), "btf_trace_%s", s->hook);
		return btf_has(b, path, BTF_KIND_TYPEDEF);
	}
	case KL_HOOK_TP:
		if (!tfs)
			return false;
		snprintf(path, sizeof(path), "%s/events/%s", tfs, s->hook);
		return !faccessat(AT_FDCWD, path, F_OK, AT_EACCESS);
	case KL_HOOK_FENTRY:
		return btf_has(b, s->hook, BTF_KIND_FUNC);
	}
	return false;
}

/*
 * Map sizes: the slot arrays and their indexes from max_vcpus, max_reasons
 * and max_hists, never from the CPU count (the per-CPU maps left have a
 * fixed handful of entries); tiny: one entry each (probe loads).
 */
static void size_maps(struct bpf_object *obj, bool tiny, uint32_t max_vcpus, uint32_t max_reasons,
		      uint32_t max_hists)
{
	static const struct {
		const char *name;
		int which;	/* 0 vCPU, 1 reason, 2 histogram slots */
	} sized[] = {
		{ "slots", 0 }, { "slot_key", 0 }, { "row_idx", 0 }, { "free_slots", 0 },
		{ "rslots", 1 }, { "rslot_key", 1 }, { "reason_idx", 1 }, { "free_rslots", 1 },
		{ "hslots", 2 }, { "hslot_key", 2 }, { "hist_idx", 2 }, { "free_hslots", 2 },
	};
	uint32_t max[] = { max_vcpus, max_reasons, max_hists };
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj) {
		if (!strcmp(bpf_map__name(m), "test_ts")) {	/* tests/bpf only */
			bpf_map__set_max_entries(m, 1);
			continue;
		}
		for (size_t i = 0; i < KL_ARRAY_SIZE(sized); i++)
			if (!strcmp(bpf_map__name(m), sized[i].name))
				bpf_map__set_max_entries(m, tiny ? 1 : max[sized[i].which]);
	}
}

/*
 * Program i of signal s.  sched_switch is tp_btf (direct task field reads);
 * when the kernel refuses it the raw_tp twin is used (alt).
 */
static const char *sig_prog(int s, int i, bool alt)
{
	if (alt && s == KL_SIG_SCHED_SWITCH && i == 0)
		return "kl_sched_switch_raw";
	return kl_signals[s].progs[i];
}

/* Only the programs of signals in mask load; returns -ENOENT if one is absent. */
static int select_programs(struct bpf_object *obj, uint32_t mask, uint32_t alt, char *why, size_t len)
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, obj)
		bpf_program__set_autoload(p, false);
	for (int s = 0; s < KL_SIG_NR; s++) {
		if (!(mask & KL_SIG_BIT(s)))
			continue;
		for (int i = 0; i < KL_SIG_MAX_PROGS && kl_signals[s].progs[i]; i++) {
			const char *n = sig_prog(s, i, alt & KL_SIG_BIT(s));

			p = bpf_object__find_program_by_name(obj, n);
			if (!p) {
				snprintf(why, len, "program %s not in the BPF object", n);
				return -ENOENT;
			}
			bpf_program__set_autoload(p, true);
		}
	}
	return 0;
}

/* The verifier's complaint: the last log line before "processed N insns". */
static void verifier_reason(const char *log, char *out, size_t len)
{
	const char *end = strstr(log, "\nprocessed ");
	const char *start;

	if (!end)
		end = log + strlen(log);
	while (end > log && end[-1] == '\n')
		end--;
	for (int lines = 0; lines < 2; lines++) {
		start = end;
		while (start > log && start[-1] != '\n')
			start--;
		/* "R1 max value is outside..." follows the real error: take the first of two */
		if (lines == 0 && start > log && (start[0] == 'R' || start[0] == ' ')) {
			end = start - 1;
			continue;
		}
		break;
	}
	if (end > start)
		snprintf(out, len, "%.*s", (int)(end - start), start);
}

static void probe_one(int s, struct kl_probe *pr, bool alt, int verbose)
{
	struct kl_skel *skel;
	struct bpf_link *links[KL_SIG_MAX_PROGS] = { 0 };
	size_t log_sz = 256 << 10;	/* the verifier's last lines are what we report */
	char *log = calloc(1, log_sz);
	int err;

	skel = kl_skel__open();
	if (!skel) {
		pr->status = KL_PROBE_REFUSED;
		snprintf(pr->reason, sizeof(pr->reason), "open: %s (%s)", strerror(errno), errname(errno));
		return;
	}
	pr->alt = alt;
	if (select_programs(skel->obj, KL_SIG_BIT(s), alt ? KL_SIG_BIT(s) : 0, pr->reason, sizeof(pr->reason))) {
		pr->status = KL_PROBE_REFUSED;
		goto out;
	}
	size_maps(skel->obj, true, 1, 1, 1);
	for (int i = 0; log && i < KL_SIG_MAX_PROGS && kl_signals[s].progs[i]; i++)
		bpf_program__set_log_buf(bpf_object__find_program_by_name(skel->obj, sig_prog(s, i, alt)),
					 log, log_sz);
	err = kl_skel__load(skel);
	if (err) {
		char why[96] = "";

		if (log)
			verifier_reason(log, why, sizeof(why));
		pr->status = KL_PROBE_REFUSED;
		snprintf(pr->reason, sizeof(pr->reason), "load: %s (%s)%s%s", strerror(-err), errname(-err),
			 why[0] ? ": verifier: " : "", why);
		goto out;
	}
	for (int i = 0; i < KL_SIG_MAX_PROGS && kl_signals[s].progs[i]; i++) {
		struct bpf_program *p = bpf_object__find_program_by_name(skel->obj, sig_prog(s, i, alt));

		links[i] = bpf_program__attach(p);
		if (!links[i]) {
			err = errno;
			pr->status = KL_PROBE_REFUSED;
			snprintf(pr->reason, sizeof(pr->reason), "attach: %s (%s)", strerror(err), errname(err));
			goto out;
		}
	}
	pr->status = KL_PROBE_ATTACHED;
	pr->reason[0] = 0;
out:
	for (int i = 0; i < KL_SIG_MAX_PROGS; i++)
		bpf_link__destroy(links[i]);
	kl_skel__destroy(skel);
	free(log);
	if (verbose)
		fprintf(stderr, KL_TOOL_NAME ": probe %-28s %s%s%s\n", kl_signals[s].name,
			pr->status == KL_PROBE_ATTACHED ? "ok" : "refused", pr->reason[0] ? ": " : "", pr->reason);
}

int kl_probe_signals(struct kl_state *st, int verbose)
{
	struct btf_set b = { 0 };
	char tfs_perm[sizeof(st->probes[0].reason)];
	const char *tfs = tracefs_root(verbose, tfs_perm, sizeof(tfs_perm));

	bool exists[KL_SIG_NR];

	/*
	 * Hook existence first, then free our copy of the kernel BTF before
	 * the trial loads (libbpf parses its own copy per load): the peak RSS
	 * is set here, one vmlinux BTF at a time.
	 */
	b.vmlinux = kl_load_vmlinux_btf();
	if (!b.vmlinux)
		b.vmlinux = NULL;
	else if (!access("/sys/kernel/btf/kvm", R_OK))
		b.kvm = btf__parse_split("/sys/kernel/btf/kvm", b.vmlinux);
	for (int s = 0; s < KL_SIG_NR; s++)
		exists[s] = hook_exists(&kl_signals[s], tfs, &b);
	btf__free(b.kvm);
	btf__free(b.vmlinux);
	b.kvm = b.vmlinux = NULL;
	malloc_trim(0);
	for (int s = 0; s < KL_SIG_NR; s++) {
		struct kl_probe *pr = &st->probes[s];

		memset(pr, 0, sizeof(*pr));
		if (!exists[s] && kl_signals[s].kind == KL_HOOK_TP && tfs_perm[0]) {
			/* it may well exist: tracefs cannot be read, say why */
			pr->status = KL_PROBE_REFUSED;
			snprintf(pr->reason, sizeof(pr->reason), "%s", tfs_perm);
			VLOG(verbose, "probe %-28s refused: %s\n", kl_signals[s].name, pr->reason);
			continue;
		}
		if (!exists[s]) {
			pr->status = KL_PROBE_MISSING;
			snprintf(pr->reason, sizeof(pr->reason), "no %s %s in this kernel",
				 kl_signals[s].kind == KL_HOOK_FENTRY ? "function" : "tracepoint", kl_signals[s].hook);
			if (verbose)
				fprintf(stderr, KL_TOOL_NAME ": probe %-28s missing\n", kl_signals[s].name);
			continue;
		}
		probe_one(s, pr, false, verbose);
		if (pr->status == KL_PROBE_REFUSED && sig_prog(s, 0, true) != sig_prog(s, 0, false)) {
			if (verbose)
				fprintf(stderr, KL_TOOL_NAME ": probe %-28s trying the raw_tp program\n",
					kl_signals[s].name);
			probe_one(s, pr, true, verbose);
		}
		malloc_trim(0);
	}
	return 0;
}

int kl_probe_privilege(const struct kl_state *st)
{
	const struct kl_probe *first = NULL;
	char names[160] = "";
	size_t off = 0;

	for (int s = 0; s < KL_SIG_NR; s++) {
		const struct kl_probe *pr = &st->probes[s];

		if (pr->status != KL_PROBE_REFUSED || strncmp(pr->reason, KL_PERM_PREFIX, strlen(KL_PERM_PREFIX)))
			continue;
		if (!first)
			first = pr;
		if (off < sizeof(names))
			off += (size_t)snprintf(names + off, sizeof(names) - off, "%s%s", off ? ", " : "",
						kl_signals[s].name);
	}
	if (!first)
		return KL_EXIT_OK;
	fprintf(stderr, KL_TOOL_NAME ": %s, for %s\n", first->reason + strlen(KL_PERM_PREFIX), names);
	return KL_EXIT_PRIVILEGE;
}

/* ---------------------------------------------------------------- loading */

static struct kl_vm_meta *vm_meta(struct kl_collector *c, uint32_t pid);

static void meta_fill(struct kl_vm_meta *m)
{
	if (m->comm[0] || kl_proc_comm(m->pid, m->comm, sizeof(m->comm)))
		return;
	if (kl_proc_qemu_name(m->pid, m->name, sizeof(m->name)))
		m->name[0] = 0;
}

void kl_collector_refresh_meta(struct kl_collector *c, uint32_t pid)
{
	struct kl_vm_meta *m = vm_meta(c, pid);
	char comm[sizeof(m->comm)];

	if (!m || m->exited || kl_proc_comm(pid, comm, sizeof(comm)))
		return;	/* keep what was read while it was alive */
	snprintf(m->comm, sizeof(m->comm), "%s", comm);
	if (kl_proc_qemu_name(pid, m->name, sizeof(m->name)))
		m->name[0] = 0;
}

/*
 * Remember comm / -name of the VMs that exist at attach time, so that a VM
 * that exits before the first read still has its name in the snapshot.
 */
static void seed_meta(struct kl_collector *c)
{
	struct kl_vm_meta *m;

	if (c->target_tgid) {
		m = vm_meta(c, c->target_tgid);
		if (m)
			meta_fill(m);
		return;
	}
	{
		uint32_t pids[256];
		int n = kl_find_vms_by_name(NULL, pids, 256);

		for (int i = 0; i < n && i < 256; i++) {
			m = vm_meta(c, pids[i]);
			if (m)
				meta_fill(m);
		}
	}
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * KL_NSEC_PER_SEC + ts.tv_nsec;
}

static uint64_t cputime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * KL_NSEC_PER_SEC + ts.tv_nsec;
}

/* Open the skeleton, keep the programs of the signals in mask, load it. */
static int load_programs(struct kl_collector *c, const struct kl_state *st, uint32_t mask)
{
	uint32_t alt = 0;
	char why[160] = "";
	int err;

	c->skel = kl_skel__open();
	if (!c->skel) {
		fprintf(stderr, KL_TOOL_NAME ": opening the BPF object failed: %s\n", strerror(errno));
		return KL_EXIT_ERROR;
	}
	for (int s = 0; s < KL_SIG_NR; s++)
		if (st->probes[s].alt)
			alt |= KL_SIG_BIT(s);
	if (select_programs(c->skel->obj, mask, alt, why, sizeof(why))) {
		fprintf(stderr, KL_TOOL_NAME ": %s\n", why);
		return KL_EXIT_ERROR;
	}
	size_maps(c->skel->obj, false, c->max_vcpus, c->max_reasons, c->max_hists);
	c->skel->rodata->target_tgid = c->target_tgid;
	c->skel->rodata->have_series = !!(mask & (KL_SIG_BIT(KL_SIG_RISCV_VCPU_LOAD) |
						  KL_SIG_BIT(KL_SIG_RISCV_GSTAGE_FAULT)));
	c->skel->rodata->have_fentry = !!(mask & KL_SIG_BIT(KL_SIG_FENTRY_VCPU_LOAD));
	/* released slots are reused: the rings are as large as their arrays */
	c->skel->rodata->pool_size[KL_POOL_VCPU] = c->max_vcpus;
	c->skel->rodata->pool_size[KL_POOL_REASON] = c->max_reasons;
	c->skel->rodata->pool_size[KL_POOL_HIST] = c->max_hists;
	err = kl_skel__load(c->skel);
	if (err) {
		fprintf(stderr, KL_TOOL_NAME ": loading the BPF programs failed: %s (%s)%s\n",
			strerror(-err), errname(-err),
			c->verbose >= 2 ? "" : "; -vv shows the libbpf log");
		return -err == EPERM ? KL_EXIT_PRIVILEGE : KL_EXIT_ERROR;
	}
	return KL_EXIT_OK;
}

/* Run-time stats before attach so that every run is counted. */
static void enable_run_time_stats(struct kl_collector *c, struct kl_state *st)
{
	c->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (c->stats_fd < 0) {
		st->oh.stats_enabled = false;
		snprintf(st->oh.stats_reason, sizeof(st->oh.stats_reason), "%s (%s)%s",
			 strerror(-c->stats_fd), errname(-c->stats_fd),
			 c->stats_fd == -EPERM ? ": needs CAP_SYS_ADMIN" : "");
		VLOG(c->verbose, "BPF_ENABLE_STATS failed: %s\n", st->oh.stats_reason);
		c->stats_fd = -1;
	} else {
		st->oh.stats_enabled = true;
		c->stats_t0 = mono_ns();
	}
}

/*
 * Attach every program of signal s; on a refusal detach the ones already
 * attached and mark the probe refused.  Returns whether s is attached.
 */
static bool attach_signal(struct kl_collector *c, struct kl_probe *pr, int s)
{
	for (int i = 0; i < KL_SIG_MAX_PROGS && kl_signals[s].progs[i]; i++) {
		struct bpf_program *p = bpf_object__find_program_by_name(c->skel->obj,
									 sig_prog(s, i, pr->alt));
		int err;

		c->links[s][i] = bpf_program__attach(p);
		if (!c->links[s][i]) {
			err = errno;
			pr->status = KL_PROBE_REFUSED;
			snprintf(pr->reason, sizeof(pr->reason), "attach: %s (%s)", strerror(err), errname(err));
			for (int j = 0; j < i; j++) {
				bpf_link__destroy(c->links[s][j]);
				c->links[s][j] = NULL;
			}
			break;
		}
	}
	return pr->status == KL_PROBE_ATTACHED;
}

/*
 * Map (read only) the first n entries of BPF_F_MMAPABLE array m at *p,
 * *len bytes: the kernel maps every page of the mapping at mmap() time
 * and they count in our RSS, so only the used prefix is mapped, grown
 * (at least doubled, up to the whole array) when n outgrows it.  0 or
 * -errno (the old mapping stays).
 */
static int map_prefix(struct bpf_map *m, const void **p, size_t *len, uint32_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), vsz = (bpf_map__value_size(m) + 7) & ~7UL;
	size_t max = ((size_t)bpf_map__max_entries(m) * vsz + page - 1) & ~(page - 1);
	size_t want = ((size_t)n * vsz + page - 1) & ~(page - 1);
	void *np;

	if (want < page)
		want = page;
	if (*p && want <= *len)
		return 0;
	if (*p && want < *len * 2)
		want = *len * 2;
	if (want > max)
		want = max;
	np = mmap(NULL, want, PROT_READ, MAP_SHARED, bpf_map__fd(m), 0);
	if (np == MAP_FAILED)
		return -errno;
	if (*p)
		munmap((void *)*p, *len);
	*p = np;
	*len = want;
	return 0;
}

/* Allocated slots of an array (its next_* counter, at most max). */
static uint32_t slots_used(uint32_t next, uint32_t max)
{
	return next < max ? next : max;
}

/* Entries of an array that its mapping covers (len bytes of elements of sz). */
static uint32_t mapped(size_t len, size_t sz)
{
	return (uint32_t)(len / sz);
}

/* Map the slot arrays' used prefixes (grown as slots are taken). */
static int map_used(struct kl_collector *c)
{
	const __typeof__(*c->skel->bss) *bss = c->skel->bss;
	uint32_t ns = slots_used(bss ? bss->next_slot : 0, c->max_vcpus);
	uint32_t nr = slots_used(bss ? bss->next_rslot : 0, c->max_reasons);
	uint32_t nh = slots_used(bss ? bss->next_hslot : 0, c->max_hists);
	int err = 0;

	/* what was taken when this read started: every walk stops there */
	c->nr_slots = ns;
	c->nr_rslots = nr;
	c->nr_hslots = nh;
	err = err ? err : map_prefix(c->skel->maps.slots, (const void **)&c->slots, &c->slots_len, ns);
	err = err ? err : map_prefix(c->skel->maps.slot_key, (const void **)&c->slot_info,
				     &c->slot_info_len, ns);
	err = err ? err : map_prefix(c->skel->maps.rslots, (const void **)&c->rslots, &c->rslots_len, nr);
	err = err ? err : map_prefix(c->skel->maps.rslot_key, (const void **)&c->rslot_info,
				     &c->rslot_info_len, nr);
	err = err ? err : map_prefix(c->skel->maps.hslots, (const void **)&c->hslots, &c->hslots_len, nh);
	err = err ? err : map_prefix(c->skel->maps.hslot_key, (const void **)&c->hslot_info,
				     &c->hslot_info_len, nh);
	if (!err && (mapped(c->slots_len, sizeof(*c->slots)) < ns ||
		     mapped(c->slot_info_len, sizeof(*c->slot_info)) < ns ||
		     mapped(c->rslots_len, sizeof(*c->rslots)) < nr ||
		     mapped(c->rslot_info_len, sizeof(*c->rslot_info)) < nr ||
		     mapped(c->hslots_len, sizeof(*c->hslots)) < nh ||
		     mapped(c->hslot_info_len, sizeof(*c->hslot_info)) < nh))
		err = -ERANGE;	/* cannot happen: the value sizes are the maps' */
	return err;
}

int kl_collector_map_slots(struct kl_collector *c)
{
	int err;

	c->max_vcpus = bpf_map__max_entries(c->skel->maps.slots);
	c->max_reasons = bpf_map__max_entries(c->skel->maps.rslots);
	c->max_hists = bpf_map__max_entries(c->skel->maps.hslots);
	err = map_used(c);
	if (err)
		errno = -err;
	return err;
}

int kl_collector_open(struct kl_collector *c, struct kl_state *st, uint32_t target_tgid,
		      uint32_t max_vcpus, uint32_t max_reasons, uint32_t max_hists, int verbose)
{
	uint32_t mask = kl_state_attached(st);
	int err;

	memset(c, 0, sizeof(*c));
	c->max_vcpus = max_vcpus ? max_vcpus : KL_DEFAULT_MAX_VCPUS;
	c->max_reasons = max_reasons ? max_reasons : KL_DEFAULT_MAX_REASONS;
	c->max_hists = max_hists ? max_hists : KL_DEFAULT_MAX_HISTS;
	c->stats_window_ns = KL_DEFAULT_STATS_WINDOW_NS;
	c->stats_fd = -1;
	c->verbose = verbose;
	c->target_tgid = target_tgid;
	c->ncpus = libbpf_num_possible_cpus();
	if (c->ncpus < 1) {
		fprintf(stderr, KL_TOOL_NAME ": cannot count possible CPUs: %s\n", strerror(-c->ncpus));
		return KL_EXIT_ERROR;
	}
	if (!mask) {
		fprintf(stderr, KL_TOOL_NAME ": no usable signal on this kernel (see --probe)\n");
		return KL_EXIT_NO_KERNEL;
	}
	err = load_programs(c, st, mask);
	if (err)
		return err;
	if (kl_collector_map_slots(c)) {
		fprintf(stderr, KL_TOOL_NAME ": mmap of the BPF slot arrays failed: %s\n", strerror(errno));
		return KL_EXIT_ERROR;
	}
	enable_run_time_stats(c, st);

	mask = 0;
	for (int s = 0; s < KL_SIG_NR; s++)
		if (st->probes[s].status == KL_PROBE_ATTACHED && attach_signal(c, &st->probes[s], s))
			mask |= KL_SIG_BIT(s);
	if (!mask) {
		fprintf(stderr, KL_TOOL_NAME ": no signal could be attached (see --probe)\n");
		return KL_EXIT_NO_KERNEL;
	}
	seed_meta(c);
	c->cpu_start_ns = cputime_ns();
	VLOG(verbose, "attached %d signal(s), %d possible CPUs, target %s%u\n",
	     __builtin_popcount(mask), c->ncpus, target_tgid ? "pid " : "all VMs", target_tgid);
	return KL_EXIT_OK;
}

void kl_collector_close(struct kl_collector *c)
{
	for (int s = 0; s < KL_SIG_NR; s++)
		for (int i = 0; i < KL_SIG_MAX_PROGS; i++)
			bpf_link__destroy(c->links[s][i]);
	kl_skel__destroy(c->skel);
	if (c->stats_fd >= 0)
		close(c->stats_fd);
	free(c->meta);
	kl_hmap_free(&c->meta_idx);
	kl_hmap_free(&c->tid_map);
	if (c->slots)
		munmap((void *)c->slots, c->slots_len);
	if (c->slot_info)
		munmap((void *)c->slot_info, c->slot_info_len);
	if (c->rslots)
		munmap((void *)c->rslots, c->rslots_len);
	if (c->rslot_info)
		munmap((void *)c->rslot_info, c->rslot_info_len);
	if (c->hslots)
		munmap((void *)c->hslots, c->hslots_len);
	if (c->hslot_info)
		munmap((void *)c->hslot_info, c->hslot_info_len);
	memset(c, 0, sizeof(*c));
	c->stats_fd = -1;
}

/* ---------------------------------------------------------------- reading */

/* Add histogram v to h. */
static void hist_add(struct kl_hist_data *h, const struct kl_hist *v)
{
	for (int i = 0; i < KL_HIST_BUCKETS; i++)
		h->b[i] += v->buckets[i];
	h->sum += v->sum;
}

/*
 * The BPF side records a store-fault exit only under its exit code; the
 * fault latency histogram is that exit histogram (kvm_lazytop.bpf.c,
 * kl_on_kvm_entry()).
 */
static bool is_fault_exit_hist(const struct kl_collector *c, const struct kl_hist_key *k)
{
	uint64_t code = c->skel->rodata ? c->skel->rodata->fault_exit_code : ~0ULL;

	return k->hist == KL_H_EXIT && code != ~0ULL && k->sub == (code & 0xffff);
}

/*
 * Owner entries (slot_key, rslot_key, hslot_key) are published by BPF
 * with the tgid written last, by an atomic exchange: read the tgid with
 * acquire semantics before the rest of the entry, so that on arm64 and
 * riscv too a non-zero tgid comes with the fields written before it.
 */
#define OWNER_COPY(dst, src)						\
	({								\
		uint32_t __t = __atomic_load_n(&(src)->tgid, __ATOMIC_ACQUIRE); \
		(dst) = *(src);						\
		(dst).tgid = __t;					\
	})

/*
 * The reason counter slots (ARRAY `rslots`, [0, next_rslot)), each named
 * by its owner in `rslot_key`; mmap()ed: no copy, no syscall, nothing per
 * CPU.  Owner tgid 0: not owned (yet, or any more).
 */
static int read_rslots(struct kl_collector *c, struct kl_state *st)
{
	uint32_t n = c->nr_rslots;

	for (uint32_t i = 0; c->rslots && c->rslot_info && i < n; i++) {
		struct kl_reason_key k;
		struct kl_reason_cnt *r;
		struct kl_vm *vm;

		OWNER_COPY(k, &c->rslot_info[i]);
		if (!k.tgid || (c->target_tgid && k.tgid != c->target_tgid))
			continue;
		vm = kl_state_vm(st, k.tgid);
		r = vm ? kl_vm_reason(vm, k.kind, k.code) : NULL;
		if (!r)
			return -ENOMEM;
		r->count += c->rslots[i];
	}
	return 0;
}

/* The histogram slots (ARRAY `hslots`, owners in `hslot_key`), as above. */
static int read_hslots(struct kl_collector *c, struct kl_state *st)
{
	uint32_t n = c->nr_hslots;

	for (uint32_t i = 0; c->hslots && c->hslot_info && i < n; i++) {
		struct kl_hist_key k;
		struct kl_hist_data *h;
		struct kl_vm *vm;

		OWNER_COPY(k, &c->hslot_info[i]);
		if (!k.tgid || k.hist >= KL_H_NR || (c->target_tgid && k.tgid != c->target_tgid))
			continue;
		vm = kl_state_vm(st, k.tgid);
		h = vm ? kl_vm_hist(vm, k.hist, k.sub) : NULL;
		if (!h)
			return -ENOMEM;
		hist_add(h, &c->hslots[i]);
		if (is_fault_exit_hist(c, &k)) {
			h = kl_vm_hist(vm, KL_H_FAULT, KL_SUB_ALL);
			if (!h)
				return -ENOMEM;
			hist_add(h, &c->hslots[i]);
		}
	}
	return 0;
}

static uint64_t tid_key(uint32_t tgid, int32_t vcpu_id)
{
	return (uint64_t)tgid << 32 | (uint32_t)vcpu_id;
}

static struct kl_vm_meta *vm_meta(struct kl_collector *c, uint32_t pid)
{
	uint32_t *ix = kl_hmap_get(&c->meta_idx, pid);
	struct kl_vm_meta *m;

	if (ix)
		return &c->meta[*ix];
	if (c->nr_meta == c->cap_meta) {
		size_t ncap = c->cap_meta ? c->cap_meta * 2 : 16;
		void *p = realloc(c->meta, ncap * sizeof(*c->meta));

		if (!p)
			return NULL;
		c->meta = p;
		c->cap_meta = ncap;
	}
	if (kl_hmap_put(&c->meta_idx, pid, (uint32_t)c->nr_meta))
		return NULL;
	m = &c->meta[c->nr_meta++];
	memset(m, 0, sizeof(*m));
	m->pid = pid;
	return m;
}

/*
 * The owner of a slot (struct kl_slot_info): its tid and the comm BPF
 * captured at identification (a process that exits before the first read
 * still has a name).
 */
static void on_slot(struct kl_collector *c, const struct kl_slot_info *k)
{
	struct kl_vm_meta *m;

	if (k->tid)	/* not a shared row */
		kl_hmap_put(&c->tid_map, tid_key(k->tgid, k->vcpu_id), k->tid);
	c->nr_tids = c->tid_map.nr;
	if (!k->comm[0])
		return;
	m = vm_meta(c, k->tgid);
	if (m && !m->comm[0])
		snprintf(m->comm, sizeof(m->comm), "%.*s", (int)sizeof(k->comm), k->comm);
}

/*
 * The slots (ARRAY `slots`, [0, next_slot)): each one's counters are
 * added to the row of its (tgid, vcpu_id) from `slot_key`, which also
 * gives the vCPU thread's tid (a shared row, tid 0, adds its counters
 * only).  Both arrays are mmap()ed: no copy, no syscall, and nothing
 * per CPU.
 */
static int read_slots(struct kl_collector *c, struct kl_state *st)
{
	uint32_t n = c->nr_slots;

	if (!c->slots || !c->slot_info)
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		struct kl_slot_info k;
		const struct kl_counters *v = &c->slots[i];
		struct kl_vm *vm;
		struct kl_vcpu_row *r;

		OWNER_COPY(k, &c->slot_info[i]);
		if (!k.tgid || (c->target_tgid && k.tgid != c->target_tgid))
			continue;
		on_slot(c, &k);
		vm = kl_state_vm(st, k.tgid);
		r = vm ? kl_vm_vcpu(vm, k.vcpu_id) : NULL;
		if (!r)
			return -ENOMEM;
		for (int h = 0; h < KL_C_NR; h++)
			r->c[h] += v->c[h];
	}
	return 0;
}

static uint64_t statm_rss_kb(void)
{
	unsigned long size, rss;
	FILE *f = fopen("/proc/self/statm", "re");
	int ok;

	if (!f)
		return 0;
	ok = fscanf(f, "%lu %lu", &size, &rss) == 2;
	fclose(f);
	return ok ? (uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE) / 1024 : 0;
}

static void read_overhead(struct kl_collector *c, struct kl_state *st)
{
	struct kl_overhead *oh = &st->oh;
	struct rusage ru;
	size_t stride = 8;
	uint64_t *vals;

	/*
	 * The run-time stats add two clock reads to every program run: they
	 * are held for a measured window only.  Closing our fd needs no
	 * capability (re-enabling would: the capabilities are dropped).
	 */
	if (c->stats_fd >= 0 && c->stats_window_ns != UINT64_MAX &&
	    mono_ns() - c->stats_t0 >= c->stats_window_ns) {
		close(c->stats_fd);
		c->stats_fd = -1;
		VLOG(c->verbose, "BPF run-time stats window (%.1f s) closed\n", c->stats_window_ns / 1e9);
	}
	oh->stats_window_ns = c->stats_window_ns;
	oh->stats_window_open = c->stats_fd >= 0;
	oh->nr_progs = 0;
	for (int s = 0; s < KL_SIG_NR; s++) {
		for (int i = 0; i < KL_SIG_MAX_PROGS && kl_signals[s].progs[i]; i++) {
			struct bpf_prog_info info;
			uint32_t len = sizeof(info);
			struct bpf_program *p;
			struct kl_prog_stat *ps;

			if (!c->links[s][i] || oh->nr_progs >= KL_MAX_PROG_STATS)
				continue;
			p = bpf_object__find_program_by_name(c->skel->obj, sig_prog(s, i, st->probes[s].alt));
			memset(&info, 0, sizeof(info));
			if (!p || bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len))
				continue;
			ps = &oh->progs[oh->nr_progs++];
			snprintf(ps->name, sizeof(ps->name), "%s", bpf_program__name(p));
			ps->signal = s;
			ps->run_cnt = info.run_cnt;
			ps->run_time_ns = info.run_time_ns;
		}
	}
	vals = calloc(c->ncpus, stride);
	for (uint32_t d = 0; vals && d < KL_D_NR; d++) {
		oh->drops[d] = 0;
		if (!bpf_map__lookup_elem(c->skel->maps.drops, &d, sizeof(d), vals, stride * c->ncpus, 0))
			for (int i = 0; i < c->ncpus; i++)
				oh->drops[d] += vals[i];
	}
	free(vals);
	oh->cpu_ns = cputime_ns() - c->cpu_start_ns;
	oh->rss_kb = statm_rss_kb();
	if (!getrusage(RUSAGE_SELF, &ru))
		oh->maxrss_kb = (uint64_t)ru.ru_maxrss;
}

/* Delete every entry of hash map m whose key starts with a tgid in rel[]. */
static void release_hash(struct bpf_map *m, const uint32_t *rel, size_t nr_rel)
{
	size_t ksz = bpf_map__key_size(m), n = 0, cap = 0;
	char cur[64], nxt[64], *keys = NULL;
	void *prev = NULL;

	if (ksz > sizeof(cur))
		return;
	while (!bpf_map__get_next_key(m, prev, nxt, ksz)) {
		uint32_t tgid;

		memcpy(&tgid, nxt, sizeof(tgid));
		for (size_t i = 0; i < nr_rel; i++) {
			if (rel[i] != tgid)
				continue;
			if (n == cap) {
				size_t ncap = cap ? cap * 2 : 64;
				char *p = realloc(keys, ncap * ksz);

				if (!p)
					goto out;
				keys = p;
				cap = ncap;
			}
			memcpy(keys + n++ * ksz, nxt, ksz);
			break;
		}
		memcpy(cur, nxt, ksz);
		prev = cur;
	}
out:
	for (size_t i = 0; i < n; i++)
		bpf_map__delete_elem(m, keys + i * ksz, ksz, 0);
	free(keys);
}

/*
 * Release the slots [0, n) of pool (enum kl_pool) whose owner's tgid (the
 * owner's first member) is in rel[]: clear the owner (the collector skips
 * the slot, BPF's cached keys no longer match it), zero its value and put
 * it in the pool's ring of free slots, which BPF takes before a
 * never-used slot.  A thread slot whose thread still lives (a leader that
 * exited before its threads) is only cleared: that thread may still add
 * to it.
 */
static void release_slots(struct kl_collector *c, int pool, uint32_t n, const uint32_t *rel,
			  size_t nr_rel)
{
	struct bpf_map *owners, *values, *ring;
	const char *info;
	size_t osz;
	char none[32] = { 0 };
	void *zero;

	switch (pool) {
	case KL_POOL_VCPU:
		owners = c->skel->maps.slot_key, values = c->skel->maps.slots;
		ring = c->skel->maps.free_slots, info = (const char *)c->slot_info;
		break;
	case KL_POOL_REASON:
		owners = c->skel->maps.rslot_key, values = c->skel->maps.rslots;
		ring = c->skel->maps.free_rslots, info = (const char *)c->rslot_info;
		break;
	default:
		owners = c->skel->maps.hslot_key, values = c->skel->maps.hslots;
		ring = c->skel->maps.free_hslots, info = (const char *)c->hslot_info;
		break;
	}
	osz = bpf_map__value_size(owners);
	zero = calloc(1, bpf_map__value_size(values));
	if (!info || osz > sizeof(none) || !zero)
		goto cleanup;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t tgid, tail, at;
		bool reuse = c->skel->rodata && c->skel->rodata->pool_size[pool] && c->skel->bss;
		size_t j;

		memcpy(&tgid, info + (size_t)i * osz, sizeof(tgid));
		for (j = 0; tgid && j < nr_rel && rel[j] != tgid; j++)
			;
		if (!tgid || j == nr_rel)
			continue;
		if (pool == KL_POOL_VCPU) {
			const struct kl_slot_info *k = (const void *)(info + (size_t)i * osz);

			if (k->tid && kl_thread_alive(tgid, k->tid))
				reuse = false;
		}
		if (bpf_map__update_elem(owners, &i, sizeof(i), none, osz, 0) || !reuse ||
		    bpf_map__update_elem(values, &i, sizeof(i), zero, bpf_map__value_size(values), 0))
			continue;
		tail = c->skel->bss->free_tail[pool];
		at = tail % c->skel->rodata->pool_size[pool];
		if (!bpf_map__update_elem(ring, &at, sizeof(at), &i, sizeof(i), 0))
			__atomic_store_n(&c->skel->bss->free_tail[pool], tail + 1, __ATOMIC_RELEASE);
	}
cleanup:
	free(zero);
}

/*
 * Lifetime: a VM (not the -p / COMMAND target) that the previous read
 * found exited has had its final interval; its BPF entries (counters,
 * reasons and histogram rows, slots) are released and its name
 * forgotten, so it leaves the snapshot and /metrics, and a new process
 * that reuses its PID starts from zero.
 */
static void release_exited(struct kl_collector *c)
{
	uint32_t *rel = NULL;
	size_t nr_rel = 0;

	for (size_t i = 0; i < c->nr_meta; i++) {
		struct kl_vm_meta *m = &c->meta[i];
		uint32_t *p;

		if (!m->exited || m->pid == c->target_tgid)
			continue;
		p = realloc(rel, (nr_rel + 1) * sizeof(*rel));
		if (!p)
			break;
		rel = p;
		rel[nr_rel++] = m->pid;
		m->exited = false;
		m->comm[0] = 0;
		m->name[0] = 0;
	}
	if (!nr_rel)
		return;
	release_hash(c->skel->maps.row_idx, rel, nr_rel);
	release_hash(c->skel->maps.reason_idx, rel, nr_rel);
	release_hash(c->skel->maps.hist_idx, rel, nr_rel);
	release_slots(c, KL_POOL_VCPU, c->nr_slots, rel, nr_rel);
	release_slots(c, KL_POOL_REASON, c->nr_rslots, rel, nr_rel);
	release_slots(c, KL_POOL_HIST, c->nr_hslots, rel, nr_rel);
	c->nr_released += nr_rel;
	free(rel);
}

int kl_collector_read(struct kl_collector *c, struct kl_state *st)
{
	int err;

	err = map_used(c);	/* the slots taken since the last read */
	if (err)
		return err;
	release_exited(c);
	kl_hmap_clear(&c->tid_map);	/* refilled from slot_key */
	kl_state_clear_vms(st);
	if (c->target_tgid && !kl_state_vm(st, c->target_tgid))
		return -ENOMEM;
	err = read_rslots(c, st);
	if (!err)
		err = read_hslots(c, st);
	if (!err)
		err = read_slots(c, st);
	if (err)
		return err;
	st->no_vcpu_counters = !c->want_vcpu_counters;
	for (size_t i = 0; i < st->nr_vms; i++) {
		struct kl_vm *vm = &st->vms[i];
		struct kl_vm_meta *m = vm_meta(c, vm->pid);

		if (m && m->exited)
			vm->exited = true;
		else
			vm->exited = (c->target_exited && vm->pid == c->target_tgid) || !kl_proc_alive(vm->pid);
		if (m && !vm->exited)
			meta_fill(m);
		if (m) {
			m->exited = vm->exited;
			snprintf(vm->comm, sizeof(vm->comm), "%s", m->comm[0] ? m->comm : "?");
			snprintf(vm->name, sizeof(vm->name), "%s", m->name[0] ? m->name : vm->comm);
		}
		for (size_t j = 0; j < vm->nr_vcpus; j++) {
			uint32_t *tid = kl_hmap_get(&c->tid_map, tid_key(vm->pid, vm->vcpus[j].vcpu_id));

			if (tid)
				vm->vcpus[j].tid = *tid;
		}
		kl_vm_sum_vcpus(vm);
	}
	kl_state_sort(st);
	read_overhead(c, st);
	return 0;
}
