/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kl_opts.h - command line parsing (pure: no BPF, no /proc).
 */
#ifndef __KL_OPTS_H
#define __KL_OPTS_H

#include <argp.h>
#include <stdio.h>
#include "kl_common.h"

/*
 * Parse argv into *o (defaults applied first).  Returns KL_EXIT_OK, or
 * KL_EXIT_USAGE after writing ONE line "kvm-lazytop: ..." to err (NULL =
 * silent).  -h/--help/--usage/-V/--version print to stdout and exit(0).
 * Parsing stops at "--" (o->cmd = the command to start) or at a
 * subcommand name (o->sub_argv/sub_argc = "report" and its arguments;
 * only -v may precede it).
 */
int kl_parse_args(int argc, char **argv, struct kl_opts *o, FILE *err);

/*
 * --version text: argp_program_version_hook when the program sets one
 * (main.c adds the libbpf version), else argp_program_version.
 */
void kl_print_version(FILE *f, struct argp_state *state);

/* argp children of the subcommands' parsers: -h = --help. */
extern const struct argp_child kl_sub_children[];

/*
 * "1.5s", "250ms", "2m", "1h", "100us", "10" (seconds) -> ns.  Returns 0
 * or -EINVAL (empty, junk, negative, zero, overflow).
 */
int kl_parse_duration(const char *s, uint64_t *ns);
/* Strict decimal PID in [1, 2^22]. Returns 0 or -EINVAL. */
int kl_parse_pid(const char *s, uint32_t *pid);

#endif
