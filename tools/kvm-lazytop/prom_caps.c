// SPDX-License-Identifier: GPL-2.0-only
/*
 * prom_caps.c - drop every capability once the BPF programs are attached
 * (modelled on ebpf_exporter's --capabilities.keep).
 *
 * What a running kvm-lazytop still does after attach, and what it needs:
 *  - reads/updates/deletes BPF map elements and reads program info
 *    (run_cnt, run_time_ns) through fds it already holds.  Since Linux 6.5
 *    ("bpf: Move unprivileged checks into map_create() and bpf_prog_load()")
 *    these commands check only the fd's mode, no capability.  Older kernels
 *    refuse every bpf() command without bpf_capable() while
 *    kernel.unprivileged_bpf_disabled != 0, so there CAP_BPF (CAP_SYS_ADMIN
 *    before 5.8, which has no CAP_BPF) is kept.
 *  - keeps kernel BPF stats on by holding the BPF_ENABLE_STATS fd it got at
 *    start (CAP_SYS_ADMIN was only needed to obtain it).
 *  - reads /proc/PID/{comm,cmdline,stat,task} of VMs (world readable) and
 *    /proc/self (its own CPU time and RSS).
 *  - serves /metrics on a socket bound before the drop (no
 *    CAP_NET_BIND_SERVICE needed afterwards).
 * Nothing else: no new programs, no attach, no perf events.
 *
 * The drop is irreversible: ambient/inheritable cleared, permitted =
 * effective = the kept set and PR_SET_NO_NEW_PRIVS (execve grants
 * nothing: not file capabilities, not setuid, not uid 0's implicit set).
 * With CAP_SETPCAP the bounding set is cleared too and SECBIT_NOROOT /
 * SECBIT_NO_SETUID_FIXUP are locked.  Without CAP_SETPCAP (the least
 * privilege of kvm-lazytop.8, PRIVILEGES) those two steps are skipped:
 * they cannot be done, and no_new_privs already covers what they add.
 *
 * caps_check_bpf() runs before anything is loaded: it names the missing
 * capability instead of letting bpf() fail with a bare EPERM later.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/utsname.h>

#include <linux/securebits.h>
#include <sys/capability.h>
#include <sys/resource.h>

#include "kl_common.h"
#include "prom_caps.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static int kernel_version(void)
{
	struct utsname u;
	int maj = 0, min = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &maj, &min) != 2)
		return 0;
	return maj * 1000 + min;
}

static int unpriv_bpf_disabled(void)
{
	FILE *f = fopen("/proc/sys/kernel/unprivileged_bpf_disabled", "r");
	int v = 1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = 1;
		fclose(f);
	}
	return v;
}

int caps_keep_for_kernel(cap_value_t *keep, int max)
{
	int kv = kernel_version(), n = 0;

	if (max < 1)
		return 0;
	if (kv && kv < 6005 && unpriv_bpf_disabled())
		keep[n++] = (kv >= 5008) ? CAP_BPF : CAP_SYS_ADMIN;
	return n;
}

/* Is c in this process's set (CAP_EFFECTIVE or CAP_PERMITTED)? */
static bool cap_in(cap_value_t c, cap_flag_t set)
{
	cap_flag_value_t v = CAP_CLEAR;
	cap_t caps;

	if (!CAP_IS_SUPPORTED(c))
		return false;
	caps = cap_get_proc();
	if (!caps)
		return false;
	if (cap_get_flag(caps, c, set, &v))
		v = CAP_CLEAR;
	cap_free(caps);
	return v == CAP_SET;
}

bool caps_have(cap_value_t c)
{
	return cap_in(c, CAP_EFFECTIVE);
}

int caps_drop_keep(const cap_value_t *keep, int nkeep)
{
	cap_value_t kept[8];
	cap_value_t c;
	cap_t caps;
	int i, n = 0, last = (int)cap_max_bits() - 1;
	bool setpcap = caps_have(CAP_SETPCAP);

	/* only what is still permitted can be kept (cap_set_proc cannot add) */
	for (i = 0; i < nkeep && n < (int)KL_ARRAY_SIZE(kept); i++)
		if (cap_in(keep[i], CAP_PERMITTED))
			kept[n++] = keep[i];
	/* 1. bounding set: only with CAP_SETPCAP; no_new_privs covers the rest. */
	for (c = 0; setpcap && c <= last; c++) {
		bool keep_c = false;

		for (i = 0; i < n; i++)
			keep_c = keep_c || kept[i] == c;
		if (!keep_c && CAP_IS_SUPPORTED(c) && cap_drop_bound(c) && errno != EINVAL) {
			fprintf(stderr, KL_TOOL_NAME ": cannot drop capability %d from the bounding set: %s\n",
				c, strerror(errno));
			return -1;
		}
	}
	/* 2. ambient set (allowed without any capability). */
	if (CAP_AMBIENT_SUPPORTED() && cap_reset_ambient()) {
		fprintf(stderr, KL_TOOL_NAME ": cannot clear ambient capabilities: %s\n", strerror(errno));
		return -1;
	}
	/* 3. root stays root but regains no capabilities on execve/setuid. */
	if (setpcap && prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
			     SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED |
			     SECBIT_KEEP_CAPS_LOCKED, 0, 0, 0) && errno != EPERM) {
		fprintf(stderr, KL_TOOL_NAME ": cannot set securebits: %s\n", strerror(errno));
		return -1;
	}
	/* 4. permitted = effective = kept, inheritable empty (never needs a capability). */
	caps = cap_init();
	if (!caps)
		return -1;
	if (n && (cap_set_flag(caps, CAP_PERMITTED, n, kept, CAP_SET) ||
		  cap_set_flag(caps, CAP_EFFECTIVE, n, kept, CAP_SET))) {
		cap_free(caps);
		return -1;
	}
	if (cap_set_proc(caps)) {
		fprintf(stderr, KL_TOOL_NAME ": cannot drop capabilities: %s\n", strerror(errno));
		cap_free(caps);
		return -1;
	}
	cap_free(caps);
	/* 5. execve can grant nothing back (file caps, setuid, uid 0's set). */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		fprintf(stderr, KL_TOOL_NAME ": PR_SET_NO_NEW_PRIVS: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

int caps_drop_after_attach(void)
{
	cap_value_t keep[2];
	int n = caps_keep_for_kernel(keep, 2);

	return caps_drop_keep(keep, n);
}

/* " CAP_X, CAP_Y" of the capabilities kvm-lazytop cares about that are held. */
static void held_list(char *buf, size_t len)
{
	static const struct { cap_value_t c; const char *name; } caps[] = {
		{ CAP_BPF, "CAP_BPF" }, { CAP_PERFMON, "CAP_PERFMON" },
		{ CAP_SYS_ADMIN, "CAP_SYS_ADMIN" }, { CAP_SYS_RESOURCE, "CAP_SYS_RESOURCE" },
		{ CAP_DAC_READ_SEARCH, "CAP_DAC_READ_SEARCH" }, { CAP_SYS_PTRACE, "CAP_SYS_PTRACE" },
	};
	size_t off = 0;

	buf[0] = 0;
	for (size_t i = 0; i < KL_ARRAY_SIZE(caps) && off < len; i++)
		if (caps_have(caps[i].c))
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? ", " : "", caps[i].name);
	if (!buf[0])
		snprintf(buf, len, "none");
}

int caps_check_bpf(void)
{
	int kv = kernel_version();
	bool admin = caps_have(CAP_SYS_ADMIN);
	const char *need = NULL;
	char held[160];
	struct rlimit rl;

	if (!CAP_IS_SUPPORTED(CAP_BPF) || (kv && kv < 5008)) {
		/* before Linux 5.8 bpf() and perf events wanted CAP_SYS_ADMIN */
		if (!admin)
			need = "CAP_SYS_ADMIN (this kernel has no CAP_BPF/CAP_PERFMON)";
	} else if (!admin && !(caps_have(CAP_BPF) && caps_have(CAP_PERFMON))) {
		need = "CAP_BPF and CAP_PERFMON";
	}
	/*
	 * Before 5.11 BPF memory is charged to RLIMIT_MEMLOCK; libbpf raises
	 * it to infinity, which needs CAP_SYS_RESOURCE unless the hard limit
	 * already is.
	 */
	if (!need && kv && kv < 5011 && !caps_have(CAP_SYS_RESOURCE) &&
	    !getrlimit(RLIMIT_MEMLOCK, &rl) && rl.rlim_max != RLIM_INFINITY)
		need = "CAP_SYS_RESOURCE (RLIMIT_MEMLOCK before Linux 5.11)";
	if (!need)
		return KL_EXIT_OK;
	held_list(held, sizeof(held));
	fprintf(stderr, KL_TOOL_NAME ": need %s to load BPF programs (have: %s)\n", need, held);
	return KL_EXIT_PRIVILEGE;
}
