// SPDX-License-Identifier: GPL-2.0-only
/*
 * gate.c - `kvm-lazytop gate`: evaluate CI rules over a snapshot (and a
 * baseline snapshot), print a summary, JUnit XML and github-action-benchmark
 * JSON.  Exit 0 all rules hold, 1 a rule failed, 2 bad input.
 * The rule language is documented in gate-rules.7; the parser is
 * gate_parse.c, the evaluator gate_eval.c.
 */
#include <argp.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "gate.h"
#include "kl_escape.h"
#include "kl_model.h"
#include "kl_opts.h"

#define GATE_ERR "kvm-lazytop: gate: "
/* a snapshot that does not load: the same line as report and diff print */
#define KL_ERR_PREFIX "kvm-lazytop: "

/* printf into a caller's one-line error buffer (NULL or 0 length: dropped) */
void gate_seterr(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* ---- outputs ------------------------------------------------------------ */

static int write_junit(const char *path, const struct gate_rules *rules,
		       const struct gate_result *res, const char *snapname)
{
	size_t i, nf = 0, ns = 0;
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	for (i = 0; i < rules->n; i++) {
		nf += res[i].status == GATE_FAIL;
		ns += res[i].status == GATE_SKIP;
	}
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(f, "<testsuites name=\"kvm-lazytop gate\" tests=\"%zu\" failures=\"%zu\" skipped=\"%zu\" errors=\"0\">\n",
		rules->n, nf, ns);
	fprintf(f, "  <testsuite name=\"kvm-lazytop gate: ");
	kl_fputs_markup(snapname, f);
	fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" skipped=\"%zu\" errors=\"0\">\n",
		rules->n, nf, ns);
	for (i = 0; i < rules->n; i++) {
		fprintf(f, "    <testcase classname=\"kvm-lazytop.gate\" name=\"line %d: ",
			rules->r[i].line);
		kl_fputs_markup(rules->r[i].text, f);
		fprintf(f, "\">");
		if (res[i].status == GATE_FAIL) {
			fprintf(f, "<failure message=\"");
			kl_fputs_markup(res[i].msg, f);
			fprintf(f, "\">value=%.9g bound=%.9g samples=%lld</failure>",
				res[i].value, res[i].bound,
				res[i].samples == UINT64_MAX ? -1ll : (long long)res[i].samples);
		} else if (res[i].status == GATE_SKIP) {
			fprintf(f, "<skipped message=\"");
			kl_fputs_markup(res[i].msg, f);
			fprintf(f, "\"/>");
		}
		fprintf(f, "<system-out>value=%.9g", res[i].value);
		if (rules->r[i].vs_baseline)
			fprintf(f, " baseline=%.9g", res[i].base_value);
		fprintf(f, "</system-out></testcase>\n");
	}
	fprintf(f, "  </testsuite>\n</testsuites>\n");
	return fclose(f) ? -1 : 0;
}

/* github-action-benchmark "custom*" format: [{name, unit, value, extra}]. */
static int write_bench(const char *path, const struct gate_rules *rules,
		       const struct gate_result *res, bool bigger)
{
	struct json_object *arr = json_object_new_array();
	size_t i;
	int rc;

	for (i = 0; i < rules->n; i++) {
		const struct gate_rule *r = &rules->r[i];
		bool is_bigger = r->op == GOP_GT || r->op == GOP_GE;
		struct json_object *o;
		char extra[300];

		if (is_bigger != bigger || isnan(res[i].value))
			continue;
		if (!bigger && r->op != GOP_LT && r->op != GOP_LE)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(r->text));
		json_object_object_add(o, "unit", json_object_new_string(res[i].unit));
		json_object_object_add(o, "value", json_object_new_double(res[i].value));
		snprintf(extra, sizeof(extra), "%s; bound %.6g; samples %lld%s",
			 res[i].status == GATE_PASS ? "pass" : res[i].status == GATE_SKIP ? "skipped" : "FAIL",
			 res[i].bound, res[i].samples == UINT64_MAX ? -1ll : (long long)res[i].samples,
			 r->vs_baseline ? "; vs baseline" : "");
		json_object_object_add(o, "extra", json_object_new_string(extra));
		json_object_array_add(arr, o);
	}
	rc = json_object_to_file_ext(path, arr, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	json_object_put(arr);
	return rc;
}

/* ---- command ------------------------------------------------------------ */

struct gate_args {
	const char *rules, *snapshot, *baseline, *junit, *bench, *bench_bigger;
	bool quiet;
};

static const struct argp_option gate_options[] = {
	{ "rules", 'r', "FILE", 0, "Rules file (gate-rules(7))", 0 },
	{ "baseline", 'b', "FILE", 0, "Baseline snapshot for '* baseline' rules", 0 },
	{ "junit", 'j', "FILE", 0, "Write JUnit XML", 0 },
	{ "bench-json", 'B', "FILE", 0,
	  "Write github-action-benchmark customSmallerIsBetter JSON (rules with < or <=)", 0 },
	{ "bench-json-bigger", 'G', "FILE", 0,
	  "Write customBiggerIsBetter JSON (rules with > or >=)", 0 },
	{ "quiet", 'q', NULL, 0, "Print failures and the summary line only", 0 },
	{ 0 }
};

static error_t gate_parse_opt(int key, char *arg, struct argp_state *state)
{
	struct gate_args *a = state->input;

	switch (key) {
	case 'r': a->rules = arg; break;
	case 'b': a->baseline = arg; break;
	case 'j': a->junit = arg; break;
	case 'B': a->bench = arg; break;
	case 'G': a->bench_bigger = arg; break;
	case 'q': a->quiet = true; break;
	case ARGP_KEY_ARG:
		if (a->snapshot)
			argp_error(state, "one SNAPSHOT.json only");
		a->snapshot = arg;
		break;
	case ARGP_KEY_END:
		if (!a->snapshot)
			argp_error(state, "missing SNAPSHOT.json");
		if (!a->rules)
			argp_error(state, "missing --rules FILE");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static char *read_file(const char *path, size_t max, size_t *len, char *err,
		       size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (!f) {
		gate_seterr(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(max + 1);
	if (!buf) {
		fclose(f);
		gate_seterr(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	n = fread(buf, 1, max + 1, f);
	if (ferror(f) || n > max) {
		gate_seterr(err, errlen, "%s: %s", path, n > max ? "file too large" : "read error");
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

/* Read and parse the rules file; false (after the error line) if bad. */
static bool load_rules(const char *path, struct gate_rules *rules)
{
	char err[512], *buf;
	size_t len;

	buf = read_file(path, GATE_MAX_INPUT, &len, err, sizeof(err));
	if (!buf) {
		fprintf(stderr, GATE_ERR "%s\n", err);
		return false;
	}
	if (gate_parse(buf, len, rules, err, sizeof(err))) {
		fprintf(stderr, GATE_ERR "%s:%s\n", path, err);
		free(buf);
		return false;
	}
	free(buf);
	return true;
}

/* The snapshot and, if the rules need one or it was given, the baseline. */
static bool load_snapshots(const struct gate_args *a, const struct gate_rules *rules,
			   struct kl_snap *snap, struct kl_snap **base)
{
	char err[512];

	if (kl_snap_load(snap, a->snapshot, err, sizeof(err))) {
		fprintf(stderr, KL_ERR_PREFIX "%s\n", err);
		return false;
	}
	if (gate_needs_baseline(rules) && !a->baseline) {
		fprintf(stderr, GATE_ERR "%s has rules against 'baseline' but no --baseline was given\n",
			a->rules);
		return false;
	}
	if (a->baseline) {
		if (kl_snap_load(*base, a->baseline, err, sizeof(err))) {
			fprintf(stderr, KL_ERR_PREFIX "%s\n", err);
			return false;
		}
	}
	return true;
}

/* Evaluate every rule; false (after the error line) on bad input. */
static bool eval_rules(const struct gate_args *a, const struct gate_rules *rules,
		       const struct kl_snap *snap, const struct kl_snap *base,
		       struct gate_result *res)
{
	size_t i;

	for (i = 0; i < rules->n; i++) {
		if (!gate_eval(&rules->r[i], snap, base, &res[i]))
			continue;
		if (res[i].bad_src == GATE_BAD_RULE)
			fprintf(stderr, GATE_ERR "%s:%d: %s\n", a->rules, rules->r[i].line,
				res[i].msg);
		else
			fprintf(stderr, GATE_ERR "%s: %s\n",
				res[i].bad_src == GATE_BAD_BASELINE ? a->baseline : a->snapshot,
				res[i].msg);
		return false;
	}
	return true;
}

/* One result on stdout: status line, then its numbers and message. */
static void print_result(const struct gate_args *a, const struct gate_rule *rule,
			 const struct gate_result *r)
{
	static const char *const st[] = { "PASS", "FAIL", "SKIP" };

	printf("%s  %s:%d  %s\n", st[r->status], a->rules, rule->line, rule->text);
	if (!isnan(r->value)) {
		printf("      value %.6g %s", r->value, r->unit);
		if (rule->vs_baseline)
			printf(", baseline %.6g", r->base_value);
		printf(", bound %.6g", r->bound);
		if (r->samples != UINT64_MAX)
			printf(", samples %llu", (unsigned long long)r->samples);
		putchar('\n');
	}
	if (*r->msg)
		printf("      %s\n", r->msg);
}

/* Print the results and the summary line; returns the number failed. */
static size_t print_results(const struct gate_args *a, const struct gate_rules *rules,
			    const struct gate_result *res)
{
	size_t i, npass = 0, nfail = 0, nskip = 0;

	for (i = 0; i < rules->n; i++) {
		const struct gate_result *r = &res[i];

		npass += r->status == GATE_PASS;
		nfail += r->status == GATE_FAIL;
		nskip += r->status == GATE_SKIP;
		if (a->quiet && r->status == GATE_PASS)
			continue;
		print_result(a, &rules->r[i], r);
	}
	printf("gate: %zu rules: %zu passed, %zu failed, %zu skipped\n", rules->n,
	       npass, nfail, nskip);
	return nfail;
}

/* --junit, --bench and --bench-bigger files; false (after the error line) if one fails. */
static bool write_reports(const struct gate_args *a, const struct gate_rules *rules,
			  const struct gate_result *res)
{
	if (a->junit && write_junit(a->junit, rules, res, a->snapshot)) {
		fprintf(stderr, GATE_ERR "cannot write %s: %s\n", a->junit, strerror(errno));
		return false;
	}
	if (a->bench && write_bench(a->bench, rules, res, false)) {
		fprintf(stderr, GATE_ERR "cannot write %s\n", a->bench);
		return false;
	}
	if (a->bench_bigger && write_bench(a->bench_bigger, rules, res, true)) {
		fprintf(stderr, GATE_ERR "cannot write %s\n", a->bench_bigger);
		return false;
	}
	return true;
}

int cmd_gate(int argc, char **argv)
{
	static const struct argp argp = {
		gate_options, gate_parse_opt, "--rules FILE SNAPSHOT.json",
		"Check CI rules against a kvm-lazytop snapshot.\v"
		"Exit status: 0 every rule holds, 1 a rule failed, 2 bad input. "
		"Rule syntax: gate-rules(7).", kl_sub_children, NULL, NULL
	};
	struct kl_snap snap, base_snap, *base = &base_snap;
	struct gate_args a = { 0 };
	struct gate_rules rules = { 0 };
	struct gate_result *res = NULL;
	size_t nfail;
	int rc = GATE_EXIT_BAD_INPUT;

	kl_snap_init(&snap);
	kl_snap_init(&base_snap);
	argp_err_exit_status = GATE_EXIT_BAD_INPUT;
	if (argp_parse(&argp, argc, argv, 0, NULL, &a))
		return GATE_EXIT_BAD_INPUT;
	if (!load_rules(a.rules, &rules))
		return GATE_EXIT_BAD_INPUT;
	if (!rules.n) {
		fprintf(stderr, GATE_ERR "%s: no rules\n", a.rules);
		goto out;
	}
	if (!load_snapshots(&a, &rules, &snap, &base))
		goto out;
	if (!a.baseline)
		base = NULL;
	res = calloc(rules.n, sizeof(*res));
	if (!res)
		goto out;
	if (!eval_rules(&a, &rules, &snap, base, res))
		goto out;
	nfail = print_results(&a, &rules, res);
	if (!write_reports(&a, &rules, res))
		goto out;
	rc = nfail ? GATE_EXIT_FAIL : GATE_EXIT_PASS;
out:
	free(res);
	gate_rules_free(&rules);
	kl_snap_free(&snap);
	kl_snap_free(&base_snap);
	return rc;
}
