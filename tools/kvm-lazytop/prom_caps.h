/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * prom_caps.h - capability drop after BPF attach (prom_caps.c).
 *
 * The collector calls caps_drop_after_attach() once, after every BPF
 * program is attached, BPF stats are enabled and the --listen socket is
 * bound, and before the sampling loop.  Non-zero = the drop failed (a
 * line was printed); the collector should exit 1 rather than run with
 * more privilege than it needs.
 */
#ifndef KL_PROM_CAPS_H
#define KL_PROM_CAPS_H

#include <stdbool.h>
#include <sys/capability.h>

int caps_drop_after_attach(void);
/*
 * Before any BPF: the capabilities bpf() and the perf events need on this
 * kernel are effective, else print ONE line naming the missing ones and
 * what is held, and return KL_EXIT_PRIVILEGE.  0 if all are there.
 */
int caps_check_bpf(void);
/* c is in the effective set. */
bool caps_have(cap_value_t c);
/* The capabilities this kernel still needs after attach (see .c). */
int caps_keep_for_kernel(cap_value_t *keep, int max);
/* Drop everything but keep[0..nkeep) from every set, irreversibly. */
int caps_drop_keep(const cap_value_t *keep, int nkeep);

#endif /* KL_PROM_CAPS_H */
