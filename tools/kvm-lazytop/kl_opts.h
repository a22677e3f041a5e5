/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * kl_opts.h - command line parsing (pure: no BPF, no /proc).
 */
#ifndef __KL_OPTS_H
#define __KL_OPTS_H

#include <stdio.h>
#include "kl_common.h"

/*
 * Parse argv into *o (defaults applied first).  Returns KL_EXIT_OK, or
 * KL_EXIT_USAGE after writing ONE line "kvm-lazytop: ..." to err (NULL =
 * silent).  --help/--usage/--version print to stdout and exit(0) (argp).
 */
int kl_parse_args(int argc, char **argv, struct kl_opts *o, FILE *err);

/*
 * "1.5s", "250ms", "2m", "1h", "100us", "10" (seconds) -> ns.  Returns 0
 * or -EINVAL (empty, junk, negative, zero, overflow).
 */
int kl_parse_duration(const char *s, uint64_t *ns);
/* Strict decimal PID in [1, 2^22]. Returns 0 or -EINVAL. */
int kl_parse_pid(const char *s, uint32_t *pid);

#endif
