// SPDX-License-Identifier: GPL-2.0-only
/* kl_opts.c - argp command line of kvm-lazytop. */
#include <argp.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "kl_opts.h"

const char *argp_program_version = KL_TOOL_NAME " " KL_TOOL_VERSION;
const char *argp_program_bug_address = "kvm-lazytop <kvm-lazytop@localhost>";

enum {
	OPT_HELP = 'h',
	OPT_HELP_ALT = '?',
	OPT_USAGE = 0x100,
	OPT_UNTIL_EXIT,
	OPT_PROBE,
	OPT_VCPU,
	OPT_LISTEN,
	OPT_MAX_VCPUS,
	OPT_STATS_WINDOW,
	OPT_PROM_VM_BUCKETS,
	OPT_MAX_REASONS,
	OPT_MAX_HISTS,
};

static const struct argp_option options[] = {
	{ "pid", 'p', "PID", 0, "Only the VM with this process id", 1 },
	{ "name", 'n', "VM-NAME", 0, "Only the VM whose qemu -name or comm is VM-NAME", 1 },
	{ "interval", 'i', "INTERVAL", 0, "Refresh/sample interval (default 1s; units ns us ms s m h)", 2 },
	{ "duration", 'd', "DURATION", 0, "Stop after DURATION (default: until interrupted)", 2 },
	{ "until-exit", OPT_UNTIL_EXIT, NULL, 0, "Stop when the target VM exits (needs -p or -n)", 2 },
	{ "output", 'o', "FORMAT", 0, "table (default), json (one snapshot at the end), "
	  "ndjson (one snapshot per interval, one per line) or prom", 3 },
	{ "output-file", 'O', "FILE", 0, "Write the output to FILE instead of stdout", 3 },
	{ "vcpu", OPT_VCPU, NULL, 0, "Per-vCPU rows in text and prom output", 3 },
	{ "listen", OPT_LISTEN, "ADDR:PORT", 0, "Serve the live snapshot over HTTP (/metrics, /snapshot.json)", 3 },
	{ "max-vcpus", OPT_MAX_VCPUS, "N", 0, "Counter slots: one per vCPU thread plus shared rows per VM "
	  "(default 4096; events beyond count in drops.vcpu_slots_full)", 4 },
	{ "max-reasons", OPT_MAX_REASONS, "N", 0, "Exit-code and KVM_EXIT_* reason counters, one per (VM, code) "
	  "(default 16384; events beyond count in drops.reason_slots_full)", 4 },
	{ "max-hists", OPT_MAX_HISTS, "N", 0, "Latency histograms, one per (VM, histogram, code) "
	  "(default 8192, 2504 bytes each; events beyond count in drops.hist_slots_full)", 4 },
	{ "stats-window", OPT_STATS_WINDOW, "DURATION", 0, "Hold the BPF run-time stats (ns/event) for DURATION "
	  "after attach (default 10s; 'run': the whole run)", 4 },
	{ "prom-vm-buckets", OPT_PROM_VM_BUCKETS, NULL, 0, "Every histogram bucket per VM in prom output "
	  "and /metrics (default: the host-wide buckets, per VM +Inf, _sum and _count)", 3 },
	{ "probe", OPT_PROBE, NULL, 0, "Print which signals attach on this kernel and exit", 4 },
	{ "verbose", 'v', NULL, 0, "Explain what is done (repeat for libbpf debug output)", 4 },
	{ "help", OPT_HELP, NULL, 0, "Give this help list", -1 },
	{ NULL, OPT_HELP_ALT, NULL, OPTION_ALIAS, NULL, -1 },
	{ "usage", OPT_USAGE, NULL, 0, "Give a short usage message", -1 },
	{ "version", 'V', NULL, 0, "Print program version", -1 },
	{ 0 }
};

static const char doc[] =
	"kvm-lazytop -- live KVM vCPU reload / dirty-page / fault latency top\v"
	"With -- COMMAND [ARGS], COMMAND is started with the programs already attached "
	"and followed until it exits; the exit status is then COMMAND's (128+N if killed "
	"by signal N, 127 if it is not found, 126 if it cannot be executed).\n\n"
	"Subcommands: report FILE.json | diff A.json B.json | gate ... (see kvm-lazytop(8)); "
	"only -v may precede them.\n\n"
	"Exit status: 0 ok, 1 runtime error, 2 usage, 3 no such process, 4 not a KVM VM, "
	"5 insufficient privilege, 6 target exited early (snapshot written), "
	"7 kernel support missing.";

static bool is_subcommand(const char *s)
{
	return !strcmp(s, "report") || !strcmp(s, "diff") || !strcmp(s, "gate");
}

/* Any option given that the collector uses (the subcommands take only -v)? */
static bool other_than_verbose(const struct kl_opts *o)
{
	return o->target != KL_TARGET_ALL || o->interval_set || o->duration_ns || o->until_exit ||
	       o->output_set || o->output_file || o->probe || o->per_vcpu || o->listen ||
	       o->prom_vm_buckets;
}

void kl_print_version(FILE *f, struct argp_state *state)
{
	if (argp_program_version_hook)
		argp_program_version_hook(f, state);
	else
		fprintf(f, "%s\n", argp_program_version);
}

struct parse_ctx {
	struct kl_opts *o;
	FILE *err;
	bool failed;
	const char *bad;	/* the argument getopt refused */
};

static const struct argp argp;

static int fail(struct argp_state *state, const char *fmt, ...)
{
	struct parse_ctx *ctx = state->input;
	va_list ap;

	if (ctx->err && !ctx->failed) {
		fprintf(ctx->err, KL_TOOL_NAME ": ");
		va_start(ap, fmt);
		vfprintf(ctx->err, fmt, ap);
		va_end(ap);
		fprintf(ctx->err, " (try --help)\n");
	}
	ctx->failed = true;
	return EINVAL;
}

int kl_parse_pid(const char *s, uint32_t *pid)
{
	unsigned long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v == 0 || v > (1UL << 22))
		return -EINVAL;
	*pid = (uint32_t)v;
	return 0;
}

int kl_parse_duration(const char *s, uint64_t *ns)
{
	static const struct { const char *sfx; double mul; } units[] = {
		{ "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 },
		{ "m", 60e9 }, { "h", 3600e9 }, { "", 1e9 },
	};
	double v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v <= 0)
		return -EINVAL;
	for (size_t i = 0; i < KL_ARRAY_SIZE(units); i++) {
		double t;

		if (strcmp(end, units[i].sfx))
			continue;
		t = v * units[i].mul;
		if (t < 1 || t > 1e19)
			return -EINVAL;
		*ns = (uint64_t)t;
		return 0;
	}
	return -EINVAL;
}

/* -o FORMAT */
static error_t parse_output(struct argp_state *state, struct kl_opts *o, const char *arg)
{
	if (!strcmp(arg, "table"))
		o->output = KL_OUT_TABLE;
	else if (!strcmp(arg, "json"))
		o->output = KL_OUT_JSON;
	else if (!strcmp(arg, "prom"))
		o->output = KL_OUT_PROM;
	else if (!strcmp(arg, "ndjson"))
		o->output = KL_OUT_NDJSON;
	else
		return fail(state, "unknown output format '%s' (table, json, ndjson, prom)", arg);
	o->output_set = true;
	return 0;
}

/* --listen ADDR:PORT */
static error_t parse_listen(struct argp_state *state, struct kl_opts *o, char *arg)
{
	const char *colon = strrchr(arg, ':');
	char *end;
	long port;

	if (!colon)	/* ":PORT" = loopback (http.c) */
		return fail(state, "--listen wants ADDR:PORT or :PORT, got '%s'", arg);
	port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || port < 1 || port > 65535)
		return fail(state, "invalid port in --listen '%s'", arg);
	o->listen = arg;
	return 0;
}

/* The non-option arguments: a subcommand, or a command after "--". */
static error_t parse_args(struct argp_state *state, struct kl_opts *o)
{
	char **rest = state->argv + state->next;

	if (state->quoted && state->next >= state->quoted) {
		/* after "--": the command to start */
		o->cmd = rest;
	} else if (is_subcommand(rest[0])) {
		if (other_than_verbose(o))
			return fail(state, "only -v may precede the subcommand '%s'", rest[0]);
		o->sub_argv = rest;
		o->sub_argc = state->argc - state->next;
	} else {
		return fail(state, "unexpected argument '%s' (a command to start goes after --)",
			    rest[0]);
	}
	state->next = state->argc;
	return 0;
}

/* Options that exclude each other, checked once all are parsed. */
static error_t check_conflicts(struct argp_state *state, const struct kl_opts *o)
{
	if (o->sub_argc)
		return 0;
	if (state->quoted && !o->cmd)
		return fail(state, "-- without a COMMAND");
	if (o->cmd) {
		if (o->target != KL_TARGET_ALL)
			return fail(state, "-p/-n and -- COMMAND are mutually exclusive");
		if (o->duration_ns)
			return fail(state, "-d and -- COMMAND are mutually exclusive "
				    "(the run lasts until COMMAND exits)");
		if (o->probe)
			return fail(state, "--probe takes no COMMAND");
		return 0;
	}
	if (o->until_exit && o->duration_ns)
		return fail(state, "-d and --until-exit are mutually exclusive");
	if (o->until_exit && o->target == KL_TARGET_ALL)
		return fail(state, "--until-exit needs a target VM (-p or -n)");
	if (o->probe && (o->duration_ns || o->until_exit || o->listen))
		return fail(state, "--probe takes no -d/--until-exit/--listen");
	return 0;
}

/* -p PID / -n NAME: one target VM */
static error_t parse_target(struct argp_state *state, struct kl_opts *o, int key, const char *arg)
{
	if (o->target == (key == 'p' ? KL_TARGET_NAME : KL_TARGET_PID))
		return fail(state, "-p and -n are mutually exclusive");
	if (key == 'p') {
		if (kl_parse_pid(arg, &o->pid))
			return fail(state, "invalid PID '%s'", arg);
		o->target = KL_TARGET_PID;
		return 0;
	}
	if (!*arg)
		return fail(state, "empty VM name");
	o->name = arg;
	o->target = KL_TARGET_NAME;
	return 0;
}

/* --max-vcpus / --max-reasons / --max-hists N, --stats-window DURATION|run */
static error_t parse_tuning(struct argp_state *state, struct kl_opts *o, int key, const char *arg)
{
	char *end;
	unsigned long n;

	if (key == OPT_STATS_WINDOW) {
		if (!strcmp(arg, "run"))
			o->stats_window_ns = UINT64_MAX;
		else if (kl_parse_duration(arg, &o->stats_window_ns))
			return fail(state, "invalid --stats-window '%s' (e.g. 10s, or run)", arg);
		return 0;
	}
	errno = 0;
	n = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || *arg == '-' || n < 1 || n > (1UL << 22))
		return fail(state, "invalid --%s '%s' (1 to 4194304)",
			    key == OPT_MAX_REASONS ? "max-reasons" :
			    key == OPT_MAX_HISTS ? "max-hists" : "max-vcpus", arg);
	if (key == OPT_MAX_REASONS)
		o->max_reasons = (uint32_t)n;
	else if (key == OPT_MAX_HISTS)
		o->max_hists = (uint32_t)n;
	else
		o->max_vcpus = (uint32_t)n;
	return 0;
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct parse_ctx *ctx = state->input;
	struct kl_opts *o = ctx->o;

	switch (key) {
	case 'p':
	case 'n':
		return parse_target(state, o, key, arg);
	case 'i':
		if (kl_parse_duration(arg, &o->interval_ns))
			return fail(state, "invalid interval '%s' (e.g. 1s, 500ms)", arg);
		if (o->interval_ns < 10000000ULL)
			return fail(state, "interval '%s' below the 10ms minimum", arg);
		o->interval_set = true;
		break;
	case 'd':
		if (kl_parse_duration(arg, &o->duration_ns))
			return fail(state, "invalid duration '%s' (e.g. 10s, 2m)", arg);
		break;
	case OPT_UNTIL_EXIT:
		o->until_exit = true;
		break;
	case 'o':
		return parse_output(state, o, arg);
	case 'O':
		if (!*arg)
			return fail(state, "empty --output-file name");
		o->output_file = arg;
		break;
	case OPT_PROBE:
		o->probe = true;
		break;
	case 'v':
		o->verbose++;
		break;
	case OPT_VCPU:
		o->per_vcpu = true;
		break;
	case OPT_LISTEN:
		return parse_listen(state, o, arg);
	case OPT_MAX_VCPUS:
	case OPT_MAX_REASONS:
	case OPT_MAX_HISTS:
	case OPT_STATS_WINDOW:
		return parse_tuning(state, o, key, arg);
	case OPT_PROM_VM_BUCKETS:
		o->prom_vm_buckets = true;
		break;
	case OPT_HELP:
	case OPT_HELP_ALT:
	case OPT_USAGE:
		argp_help(&argp, stdout, key == OPT_USAGE ? ARGP_HELP_USAGE : ARGP_HELP_STD_HELP,
			  (char *)KL_TOOL_NAME);
		exit(KL_EXIT_OK);
	case 'V':
		kl_print_version(stdout, state);
		exit(KL_EXIT_OK);
	case ARGP_KEY_ARG:
		/* not taken here: argp passes the rest as ARGP_KEY_ARGS */
		return ARGP_ERR_UNKNOWN;
	case ARGP_KEY_ARGS:
		return parse_args(state, o);
	case ARGP_KEY_ERROR:
		if (!ctx->failed && state->next > 0 && state->next <= state->argc)
			ctx->bad = state->argv[state->next - 1];
		break;
	case ARGP_KEY_END:
		return check_conflicts(state, o);
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp argp = {
	.options = options,
	.parser = parse_opt,
	.args_doc = "[-- COMMAND [ARG...]]\nreport|diff|gate ARG...",
	.doc = doc,
};

int kl_parse_args(int argc, char **argv, struct kl_opts *o, FILE *err)
{
	struct parse_ctx ctx = { .o = o, .err = err };
	int ret;

	memset(o, 0, sizeof(*o));
	o->interval_ns = KL_NSEC_PER_SEC;
	o->max_vcpus = KL_DEFAULT_MAX_VCPUS;
	o->max_reasons = KL_DEFAULT_MAX_REASONS;
	o->max_hists = KL_DEFAULT_MAX_HISTS;
	o->stats_window_ns = KL_DEFAULT_STATS_WINDOW_NS;
	o->output = KL_OUT_TABLE;
	argp_err_exit_status = KL_EXIT_USAGE;
	/*
	 * ARGP_NO_ERRS: we print exactly one line ourselves (fail()), so argp's
	 * own help is disabled too (ARGP_NO_HELP) and --help/--usage/--version
	 * are ordinary options above.
	 */
	/*
	 * ARGP_IN_ORDER: option parsing stops at the first non-option, which
	 * starts a subcommand's own arguments ("-v report --html x a.json").
	 */
	ret = argp_parse(&argp, argc, argv, ARGP_NO_ERRS | ARGP_NO_HELP | ARGP_IN_ORDER, NULL, &ctx);
	if (!ret && !ctx.failed)
		return KL_EXIT_OK;
	if (!ctx.failed && err)
		fprintf(err, KL_TOOL_NAME ": unknown option or missing argument '%s' (try --help)\n",
			ctx.bad ? ctx.bad : "?");
	return KL_EXIT_USAGE;
}

/* -h for the subcommands (argp's own help option is -? and --help). */
static error_t sub_parse_opt(int key, char *arg, struct argp_state *state)
{
	(void)arg;
	if (key != 'h')
		return ARGP_ERR_UNKNOWN;
	argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
	return 0;
}

static const struct argp_option sub_options[] = {
	{ NULL, 'h', NULL, OPTION_HIDDEN, "Give this help list", -1 },
	{ 0 }
};

static const struct argp sub_argp = { .options = sub_options, .parser = sub_parse_opt };

const struct argp_child kl_sub_children[] = {
	{ &sub_argp, 0, NULL, 0 },
	{ 0 }
};
