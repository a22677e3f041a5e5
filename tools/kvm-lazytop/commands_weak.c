// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * commands_weak.c - fallbacks for the exporter entry points of commands.h,
 * replaced by the strong definitions when those files are built.
 */
#include <stdio.h>

#include "commands.h"
#include "kl_common.h"

static int not_built(const char *what)
{
	fprintf(stderr, KL_TOOL_NAME ": %s not built\n", what);
	return KL_EXIT_USAGE;
}

__attribute__((weak)) int cmd_report(int argc, char **argv)
{
	(void)argc; (void)argv;
	return not_built("report");
}

__attribute__((weak)) int cmd_diff(int argc, char **argv)
{
	(void)argc; (void)argv;
	return not_built("diff");
}

__attribute__((weak)) int cmd_gate(int argc, char **argv)
{
	(void)argc; (void)argv;
	return not_built("gate");
}

__attribute__((weak)) int prom_write(FILE *out, struct json_object *snap, bool per_vcpu)
{
	(void)out; (void)snap; (void)per_vcpu;
	return not_built("prometheus output (-o prom)");
}

__attribute__((weak)) int http_serve(const struct kl_http_opts *opts, struct kl_http **srv)
{
	(void)opts;
	*srv = NULL;
	return not_built("HTTP exporter (--listen)");
}

__attribute__((weak)) void http_stop(struct kl_http *srv)
{
	(void)srv;
}
