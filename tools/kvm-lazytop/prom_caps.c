// SPDX-License-Identifier: GPL-2.0
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
 * The drop is irreversible: bounding set cleared, ambient/inheritable
 * cleared, permitted = effective = the kept set, SECBIT_NOROOT and
 * SECBIT_NO_SETUID_FIXUP locked (uid 0 regains nothing on execve) and
 * PR_SET_NO_NEW_PRIVS.
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

#include "prom_caps.h"

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

int caps_drop_keep(const cap_value_t *keep, int nkeep)
{
	cap_t caps;
	cap_value_t c;
	int i, last = (int)cap_max_bits() - 1;

	/* 1. bounding set: needs CAP_SETPCAP, which we still have. */
	for (c = 0; c <= last; c++) {
		bool kept = false;

		for (i = 0; i < nkeep; i++)
			kept = kept || keep[i] == c;
		if (!kept && CAP_IS_SUPPORTED(c) && cap_drop_bound(c) && errno != EINVAL) {
			fprintf(stderr, "kvm-lazytop: cannot drop capability %d from the bounding set: %s\n",
				c, strerror(errno));
			return -1;
		}
	}
	/* 2. ambient set. */
	if (CAP_AMBIENT_SUPPORTED() && cap_reset_ambient()) {
		fprintf(stderr, "kvm-lazytop: cannot clear ambient capabilities: %s\n", strerror(errno));
		return -1;
	}
	/* 3. root stays root but regains no capabilities on execve/setuid. */
	if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
		  SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED |
		  SECBIT_KEEP_CAPS_LOCKED, 0, 0, 0) && errno != EPERM) {
		fprintf(stderr, "kvm-lazytop: cannot set securebits: %s\n", strerror(errno));
		return -1;
	}
	/* 4. permitted = effective = keep, inheritable empty. */
	caps = cap_init();
	if (!caps)
		return -1;
	if (nkeep && (cap_set_flag(caps, CAP_PERMITTED, nkeep, keep, CAP_SET) ||
		      cap_set_flag(caps, CAP_EFFECTIVE, nkeep, keep, CAP_SET))) {
		cap_free(caps);
		return -1;
	}
	if (cap_set_proc(caps)) {
		fprintf(stderr, "kvm-lazytop: cannot drop capabilities: %s\n", strerror(errno));
		cap_free(caps);
		return -1;
	}
	cap_free(caps);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		fprintf(stderr, "kvm-lazytop: PR_SET_NO_NEW_PRIVS: %s\n", strerror(errno));
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
