// SPDX-License-Identifier: GPL-2.0-only
/*
 * report.c - `kvm-lazytop report [--vcpu] FILE.json...` renders saved
 * snapshots with the live text view (render_text, from the typed snapshot
 * the JSON reader makes of each file), on any architecture;
 * `kvm-lazytop report --html OUT.html A.json [B.json]` writes the HTML
 * comparison page (html.c).  Exit 0, 2 on bad input, 1 on write errors.
 */
#include <argp.h>
#include <errno.h>
#include <string.h>

#include "commands.h"
#include "html_report.h"
#include "kl_opts.h"
#include "kl_common.h"
#include "kl_model.h"
#include "render.h"

struct report_args {
	const char *html;
	bool per_vcpu;
	const char *files[16];
	size_t n;
};

/* --vcpu has no short form: -V is --version, as everywhere in kvm-lazytop */
enum { REPORT_OPT_VCPU = 0x100 };

static const struct argp_option report_options[] = {
	{ "html", 'H', "OUT.html", 0, "Write a self-contained HTML page comparing A.json [B.json]", 0 },
	{ "vcpu", REPORT_OPT_VCPU, NULL, 0, "Text view: a row per vCPU", 0 },
	{ 0 }
};

static error_t report_parse_opt(int key, char *arg, struct argp_state *state)
{
	struct report_args *a = state->input;

	switch (key) {
	case 'H': a->html = arg; break;
	case REPORT_OPT_VCPU: a->per_vcpu = true; break;
	case ARGP_KEY_ARG:
		if (a->n >= 16)
			argp_error(state, "at most 16 snapshots");
		a->files[a->n++] = arg;
		break;
	case ARGP_KEY_END:
		if (!a->n)
			argp_error(state, "missing FILE.json");
		if (a->html && a->n > HTML_MAX_SNAPS)
			argp_error(state, "--html compares at most %d snapshots", HTML_MAX_SNAPS);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* --html: one page comparing the snapshots (html.c). */
static int report_html(const struct report_args *a, const struct kl_snap *snaps)
{
	FILE *f = fopen(a->html, "w");
	int rc = 0;

	if (!f) {
		fprintf(stderr, KL_TOOL_NAME ": %s: %s\n", a->html, strerror(errno));
		return 1;
	}
	if (html_write(f, snaps, a->files, a->n)) {
		fprintf(stderr, KL_TOOL_NAME ": cannot render %s\n", a->html);
		rc = 1;
	}
	if (fclose(f) && !rc) {
		fprintf(stderr, KL_TOOL_NAME ": %s: %s\n", a->html, strerror(errno));
		rc = 1;
	}
	return rc;
}

/* Text: the live view of each snapshot. */
static int report_text(const struct report_args *a, const struct kl_snap *snaps)
{
	for (size_t i = 0; i < a->n; i++) {
		struct render_opts o = {
			.per_vcpu = a->per_vcpu, .histograms = true, .reasons = true,
			.overhead = true, .title = a->n > 1 ? a->files[i] : NULL,
		};

		if (i)
			putchar('\n');
		if (render_text(stdout, &snaps[i], &o)) {
			fprintf(stderr, KL_TOOL_NAME ": %s: out of memory\n", a->files[i]);
			return 1;
		}
	}
	return fflush(stdout) ? 1 : 0;
}

int cmd_report(int argc, char **argv)
{
	static const struct argp argp = {
		report_options, report_parse_opt, "FILE.json...\n--html OUT.html A.json [B.json]",
		"Render saved kvm-lazytop snapshots as text, or as one HTML page.\v"
		"Exit status: 0, 1 write error, 2 bad input.", kl_sub_children, NULL, NULL
	};
	struct report_args a = { 0 };
	struct kl_snap snaps[16];
	char err[512];
	size_t i, nr;
	int rc = 0;

	argp_err_exit_status = 2;
	if (argp_parse(&argp, argc, argv, 0, NULL, &a))
		return 2;
	/* every file through the JSON reader first: a bad one prints nothing */
	for (nr = 0; nr < a.n; nr++) {
		if (kl_snap_load(&snaps[nr], a.files[nr], err, sizeof(err))) {
			fprintf(stderr, KL_TOOL_NAME ": %s\n", err);
			rc = 2;
			break;
		}
	}
	if (!rc)
		rc = a.html ? report_html(&a, snaps) : report_text(&a, snaps);
	for (i = 0; i < nr; i++)
		kl_snap_free(&snaps[i]);
	return rc;
}
