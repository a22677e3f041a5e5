/* SPDX-License-Identifier: GPL-2.0-only */
/* html_report.h - self-contained HTML report of 1 or 2 snapshots (html.c). */
#ifndef KL_HTML_REPORT_H
#define KL_HTML_REPORT_H

#include <stddef.h>
#include <stdio.h>

struct kl_snap;

#define HTML_MAX_SNAPS	2

/* snaps[0] is "A", snaps[1] (optional) "B" (typed snapshots, kl_model.h). 0 ok, -1 error. */
int html_write(FILE *out, const struct kl_snap *snaps,
	       const char *const *names, size_t n);

#endif /* KL_HTML_REPORT_H */
