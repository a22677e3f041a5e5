// SPDX-License-Identifier: GPL-2.0-only
/*
 * gate_parse.c - the rule language of `kvm-lazytop gate` (gate-rules.7):
 * tokenizer, parser, predefined shares, and the name checks.  A name the
 * snapshot format does not define is an error that lists the close names,
 * never a metric that silently reads as 0.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gate.h"
#include "kl_names.h"

/* ---- predefined shares -------------------------------------------------- */

const struct gate_share gate_shares[] = {
	{ "gstage_logged_write_fast", "gstage_fault_fast",
	  "(gstage_fault_* - gstage_fault_not_write - gstage_fault_not_logging)",
	  "riscv: FAST among the store faults taken while dirty logging is on "
	  "(populate faults with logging off and loads are not counted)" },
	{ "gstage_fast_path", "(gstage_fault_fast + gstage_fault_spurious)",
	  "gstage_fault_*",
	  "riscv: G-stage faults handled by the fast path (FAST or SPURIOUS) among all" },
	{ "vcpu_load_fast", "vcpu_load_fast", "vcpu_load_*",
	  "riscv: loads that skipped the CSR/HGATP restore among all loads" },
	{ "vcpu_load_resident_fast", "vcpu_load_fast",
	  "(vcpu_load_fast + vcpu_load_csr_dirty)",
	  "riscv: FAST among the loads that found the vCPU's own state still on "
	  "the CPU (not first load, same pCPU, no reset, no other vCPU in between)" },
	{ "pte_update_updated", "pte_update_updated",
	  "(pte_update_updated + pte_update_noop + pte_update_abort_not_leaf + "
	  "pte_update_abort_retries)",
	  "riscv: G-stage PTE updates that changed the PTE among all outcomes" },
	{ "reload_pred_same_cpu", "reload_pred_same_cpu", "reload_pred_*",
	  "any arch: loads predicted same-CPU (no reload needed) among all loads" },
	{ "pkvm_to_hyp_skip", "pkvm_sync_to_hyp_skip_hyp_current", "pkvm_sync_to_hyp_*",
	  "arm64 pKVM: guest entries that skipped the host-to-hyp state copy" },
	{ "pkvm_to_host_skip",
	  "(pkvm_sync_to_host_skip_irq + pkvm_sync_to_host_skip_host_current)",
	  "pkvm_sync_to_host_*",
	  "arm64 pKVM: hyp-to-host syncs that skipped the full state copy" },
};
const size_t gate_nshares = sizeof(gate_shares) / sizeof(gate_shares[0]);

/* ---- suggestions -------------------------------------------------------- */

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[GATE_NAME_MAX + 1];

	if (la > GATE_NAME_MAX || lb > GATE_NAME_MAX)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j], best;

			best = diag + (tolower((unsigned char)a[i - 1]) !=
				       tolower((unsigned char)b[j - 1]));
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

void gate_suggest(const char *name, const char *const *cands, size_t ncands,
		  char *buf, size_t len)
{
	enum { MAXS = 4 };
	const char *best[MAXS];
	size_t bd[MAXS], nb = 0, i, k, lim, used;

	if (!len)
		return;
	buf[0] = 0;
	lim = strlen(name) / 3;
	if (lim < 2)
		lim = 2;
	for (i = 0; i < ncands; i++) {
		size_t d;

		if (!cands[i])
			continue;
		d = edit_distance(name, cands[i]);
		if (d > lim || d == 0)
			continue;
		for (k = 0; k < nb; k++)
			if (!strcmp(best[k], cands[i]))
				break;
		if (k < nb)
			continue;
		/* insert sorted by distance, keep MAXS */
		for (k = nb; k > 0 && bd[k - 1] > d; k--) {
			if (k < MAXS) {
				best[k] = best[k - 1];
				bd[k] = bd[k - 1];
			}
		}
		if (k < MAXS) {
			best[k] = cands[i];
			bd[k] = d;
			if (nb < MAXS)
				nb++;
		}
	}
	if (!nb)
		return;
	used = (size_t)snprintf(buf, len, "; did you mean ");
	for (k = 0; k < nb && used < len; k++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", k ? ", " : "",
					 best[k]);
	if (used < len)
		snprintf(buf + used, len - used, "?");
}

/* Every name a rule may start with (no statistic suffix). */
static size_t top_names(const char **out, size_t max)
{
	const char *const *p;
	size_t n = 0;

	for (p = snap_counter_names; *p && n < max; p++)
		out[n++] = *p;
	for (p = snap_hist_names; *p && n < max; p++)
		out[n++] = *p;
	if (n < max)
		out[n++] = "prediction.agreement";
	return n;
}

/* ---- exit reason names -------------------------------------------------- */

#define REASON_CANDS 640

static size_t reason_names(const char *kind, const char *arch, const char **out,
			   size_t max)
{
	bool any = !arch;
	size_t n = 0;
	uint64_t c;

	if (!strcmp(kind, "userspace_exit")) {
		for (c = 0; c < 256 && n < max; c++)
			if (kl_kvm_exit_name(c))
				out[n++] = kl_kvm_exit_name(c);
		return n;
	}
	if (any || !strcmp(arch, "riscv64")) {
		for (c = 0; c < 64 && n < max; c++) {
			if (kl_riscv_scause_name(c))
				out[n++] = kl_riscv_scause_name(c);
			if (kl_riscv_scause_name(c | (1ULL << 63)) && n < max)
				out[n++] = kl_riscv_scause_name(c | (1ULL << 63));
		}
	}
	if (any || !strcmp(arch, "x86_64"))
		for (c = 0; c < 256 && n < max; c++)
			if (kl_x86_exit_name(c))
				out[n++] = kl_x86_exit_name(c);
	if (any || !strcmp(arch, "aarch64") || !strcmp(arch, "arm64"))
		for (c = 0; c < 0x140 && n < max; c++)
			if (kl_arm64_exit_name(c))
				out[n++] = kl_arm64_exit_name(c);
	return n;
}

bool gate_reason_known(const char *kind, const char *name, const char *arch)
{
	const char *cands[REASON_CANDS];
	size_t n, i;

	if (*name && strspn(name, "0123456789") == strlen(name))
		return true;
	if (arch && strcmp(arch, "riscv64") && strcmp(arch, "x86_64") &&
	    strcmp(arch, "aarch64") && strcmp(arch, "arm64"))
		arch = NULL;	/* unknown arch: any table */
	n = reason_names(kind, arch, cands, REASON_CANDS);
	for (i = 0; i < n; i++)
		if (!strcmp(cands[i], name))
			return true;
	return false;
}

/* ---- tokenizer ---------------------------------------------------------- */

#define MAX_TOK 64

struct toks {
	char s[MAX_TOK][GATE_NAME_MAX];
	int n;
};

static bool ident_start(int c)
{
	return isalpha(c) || c == '_';
}

static bool ident_char(int c)
{
	return isalnum(c) || c == '_' || c == '.' || c == '*' || c == '?' ||
	       c == '[' || c == ']' || c == '-' || c == ':';
}

/* Split one rule line into tokens; -1 with err on a lexical error. */
static int tokenize(const char *line, struct toks *t, char *err, size_t errlen)
{
	const char *p = line;

	t->n = 0;
	while (*p) {
		const char *st = p;
		size_t len;

		if (isspace((unsigned char)*p)) {
			p++;
			continue;
		}
		if (t->n >= MAX_TOK) {
			gate_seterr(err, errlen, "too many tokens");
			return -1;
		}
		if (ident_start((unsigned char)*p)) {
			while (*p && ident_char((unsigned char)*p))
				p++;
		} else if (isdigit((unsigned char)*p) || *p == '.' ||
			   ((*p == '-' || *p == '+') &&
			    (isdigit((unsigned char)p[1]) || p[1] == '.'))) {
			p++;
			while (*p && (isalnum((unsigned char)*p) || *p == '.' ||
				      ((*p == '-' || *p == '+') && (p[-1] == 'e' || p[-1] == 'E'))))
				p++;
		} else if ((*p == '<' || *p == '>' || *p == '=' || *p == '!') && p[1] == '=') {
			p += 2;
		} else if (strchr("<>/*()+-,", *p)) {
			p++;
		} else {
			gate_seterr(err, errlen, "unexpected character '%c'",
			       isprint((unsigned char)*p) ? *p : '?');
			return -1;
		}
		len = (size_t)(p - st);
		if (len >= GATE_NAME_MAX) {
			gate_seterr(err, errlen, "token too long");
			return -1;
		}
		memcpy(t->s[t->n], st, len);
		t->s[t->n++][len] = 0;
	}
	return 0;
}

static bool parse_num(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return *s && !*end && !errno && isfinite(*out);
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end || errno)
		return false;
	*out = v;
	return true;
}

/* ---- terms -------------------------------------------------------------- */

static bool is_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static bool glob_matches_any(const char *pat)
{
	const char *const *p;

	for (p = snap_counter_names; *p; p++)
		if (!fnmatch(pat, *p, 0))
			return true;
	return false;
}

/* "p99" -> 0.99, "p999" -> 0.999, "p50" -> 0.5, "p99.9" -> 0.999, p100 -> 1 */
static bool parse_quantile(const char *s, double *q)
{
	size_t nd;
	double v;

	if (*s != 'p' || !isdigit((unsigned char)s[1]))
		return false;
	s++;
	if (strchr(s, '.')) {
		if (!parse_num(s, &v) || v < 0 || v > 100)
			return false;
		*q = v / 100;
		return true;
	}
	nd = strlen(s);
	if (nd < 2 || strspn(s, "0123456789") != nd || nd > 9)
		return false;
	if (!strcmp(s, "100")) {
		*q = 1;
		return true;
	}
	*q = strtod(s, NULL) / pow(10, (double)nd);
	return true;
}

static const char *const overhead_keys[] = {
	"bpf_run_time_ns", "bpf_events", "collector_cpu_ns", "collector_cpu_pct",
	"collector_rss_kb", "collector_maxrss_kb", NULL,
};

static bool in_list(const char *s, const char *const *l)
{
	for (; *l; l++)
		if (!strcmp(s, *l))
			return true;
	return false;
}

static int parse_overhead(const char *tok, struct gate_term *t, char *err,
			  size_t errlen)
{
	const char *k = tok + 9, *drops[KL_D_NR + 1];
	char sug[200];
	unsigned int d;

	t->kind = GT_OVERHEAD;
	if (!strncmp(k, "drops.", 6)) {
		for (d = 0; d < KL_D_NR; d++)
			drops[d] = kl_drop_name(d);
		drops[KL_D_NR] = NULL;
		snprintf(t->name, sizeof(t->name), "drops");
		snprintf(t->sub, sizeof(t->sub), "%s", k + 6);
		if (!in_list(t->sub, drops)) {
			gate_suggest(t->sub, drops, KL_D_NR, sug, sizeof(sug));
			gate_seterr(err, errlen, "unknown overhead.drops key '%s'%s", t->sub,
			       *sug ? sug : " (see SNAPSHOT.md \"drops\")");
			return -1;
		}
		return 0;
	}
	snprintf(t->name, sizeof(t->name), "%s", k);
	if (!in_list(t->name, overhead_keys)) {
		gate_suggest(t->name, overhead_keys,
			     sizeof(overhead_keys) / sizeof(overhead_keys[0]) - 1, sug,
			     sizeof(sug));
		gate_seterr(err, errlen, "unknown overhead key '%s'%s", t->name,
		       *sug ? sug : " (bpf_run_time_ns, bpf_events, collector_cpu_ns, collector_cpu_pct, collector_rss_kb, collector_maxrss_kb, drops.KEY)");
		return -1;
	}
	return 0;
}

static int parse_reason(const char *tok, struct gate_term *t, char *err,
			size_t errlen)
{
	static const char *const kinds[] = { "userspace_exit", "exit", NULL };
	const char *k = tok + 8, *d2 = strchr(k, '.');
	const char *cands[REASON_CANDS];
	char sug[200];
	size_t n;

	t->kind = GT_REASON;
	snprintf(t->name, sizeof(t->name), "%.*s", d2 ? (int)(d2 - k) : (int)strlen(k), k);
	if (!in_list(t->name, kinds)) {
		gate_suggest(t->name, kinds, 2, sug, sizeof(sug));
		gate_seterr(err, errlen, "unknown reason kind 'reasons.%s'%s (reasons.userspace_exit.NAME or reasons.exit.NAME)",
		       t->name, sug);
		return -1;
	}
	if (!d2 || !d2[1]) {
		gate_seterr(err, errlen, "'%s' needs a reason name (reasons.%s.NAME)", tok, t->name);
		return -1;
	}
	snprintf(t->sub, sizeof(t->sub), "%s", d2 + 1);
	if (!gate_reason_known(t->name, t->sub, NULL)) {
		n = reason_names(t->name, NULL, cands, REASON_CANDS);
		gate_suggest(t->sub, cands, n, sug, sizeof(sug));
		gate_seterr(err, errlen, "unknown %s reason '%s'%s", t->name, t->sub,
		       *sug ? sug : !strcmp(t->name, "exit") ?
		       " (a decoded exit cause of riscv64, x86_64 or arm64, or its decimal code)" :
		       " (a KVM_EXIT_* name or its decimal code)");
		return -1;
	}
	return 0;
}

/* tok is HIST.STAT (dot: its first '.'): a histogram statistic. */
static int parse_hist_term(const char *tok, const char *dot, struct gate_term *t,
			   char *err, size_t errlen)
{
	const char *st = dot + 1;
	const char *names[128];
	char sug[200];
	size_t n;

	snprintf(t->name, sizeof(t->name), "%.*s", (int)(dot - tok), tok);
	if (snap_known_counter(t->name)) {
		gate_seterr(err, errlen, "'%s' is a counter, it has no '.%s' (statistics are for histograms)",
		       t->name, st);
		return -1;
	}
	if (!snap_known_hist(t->name)) {
		n = top_names(names, 128);
		gate_suggest(t->name, names, n, sug, sizeof(sug));
		gate_seterr(err, errlen, "unknown histogram '%s'%s", t->name,
		       *sug ? sug : " (see gate-rules(7) for the histograms)");
		return -1;
	}
	t->kind = GT_HIST;
	if (!strcmp(st, "count"))
		t->hstat = GH_COUNT;
	else if (!strcmp(st, "sum"))
		t->hstat = GH_SUM;
	else if (!strcmp(st, "mean"))
		t->hstat = GH_MEAN;
	else if (parse_quantile(st, &t->q))
		t->hstat = GH_QUANTILE;
	else {
		gate_seterr(err, errlen, "unknown histogram statistic '%s' (count, sum, mean, pNN)", st);
		return -1;
	}
	return 0;
}

/* tok is a counter name or a glob over counter names. */
static int parse_counter_term(const char *tok, struct gate_term *t, char *err,
			      size_t errlen)
{
	const char *names[128];
	char sug[200];
	size_t n;

	t->kind = GT_COUNTER;
	snprintf(t->name, sizeof(t->name), "%s", tok);
	if (is_glob(tok)) {
		if (!glob_matches_any(tok)) {
			const char *fams[16];
			char pats[16][GATE_NAME_MAX];
			size_t f;

			for (f = 0; f < snap_nfamilies && f < 16; f++) {
				snprintf(pats[f], sizeof(pats[f]), "%s*", snap_families[f].prefix);
				fams[f] = pats[f];
			}
			gate_suggest(tok, fams, f, sug, sizeof(sug));
			gate_seterr(err, errlen, "no counter matches '%s'%s", tok, sug);
			return -1;
		}
		return 0;
	}
	if (snap_known_hist(tok)) {
		gate_seterr(err, errlen, "'%s' is a histogram: use %s.count, .sum, .mean or .pNN",
		       tok, tok);
		return -1;
	}
	if (!snap_known_counter(tok)) {
		n = top_names(names, 128);
		gate_suggest(tok, names, n, sug, sizeof(sug));
		gate_seterr(err, errlen, "unknown counter '%s'%s", tok,
		       *sug ? sug : " (see SNAPSHOT.md for the counters)");
		return -1;
	}
	return 0;
}

static int parse_term(const char *tok, struct gate_term *t, char *err,
		      size_t errlen)
{
	const char *dot;

	memset(t, 0, sizeof(*t));
	if (!ident_start((unsigned char)*tok)) {
		gate_seterr(err, errlen, "expected a metric, got '%s'", tok);
		return -1;
	}
	if (!strncmp(tok, "overhead.", 9))
		return parse_overhead(tok, t, err, errlen);
	if (!strncmp(tok, "reasons.", 8))
		return parse_reason(tok, t, err, errlen);
	if (!strcmp(tok, "prediction.agreement")) {
		t->kind = GT_AGREEMENT;
		snprintf(t->name, sizeof(t->name), "%s", tok);
		return 0;
	}
	if (!strncmp(tok, "share.", 6)) {
		gate_seterr(err, errlen, "'%s' is a whole left-hand side: it cannot be divided or added", tok);
		return -1;
	}
	dot = strchr(tok, '.');
	if (dot && !is_glob(tok))
		return parse_hist_term(tok, dot, t, err, errlen);
	return parse_counter_term(tok, t, err, errlen);
}

/* ---- rules -------------------------------------------------------------- */

struct pstate {
	struct toks *t;
	int i;
	char *err;
	size_t errlen;
};

static const char *peek(const struct pstate *ps)
{
	return ps->i < ps->t->n ? ps->t->s[ps->i] : "";
}

static bool summable(const struct gate_term *t)
{
	return t->kind == GT_COUNTER || t->kind == GT_REASON ||
	       (t->kind == GT_HIST && (t->hstat == GH_COUNT || t->hstat == GH_SUM));
}

/* side := TERM | '(' TERM { ('+' | '-') TERM } ')' */
static int parse_side(struct pstate *ps, struct gate_expr *e)
{
	memset(e, 0, sizeof(*e));
	if (strcmp(peek(ps), "(")) {
		if (ps->i >= ps->t->n) {
			gate_seterr(ps->err, ps->errlen, "expected a metric");
			return -1;
		}
		e->n = 1;
		e->sign[0] = 1;
		return parse_term(ps->t->s[ps->i++], &e->t[0], ps->err, ps->errlen);
	}
	ps->i++;
	for (;;) {
		signed char sign = 1;

		if (e->n) {
			if (!strcmp(peek(ps), ")")) {
				ps->i++;
				return 0;
			}
			if (strcmp(peek(ps), "+") && strcmp(peek(ps), "-")) {
				gate_seterr(ps->err, ps->errlen, "expected '+', '-' or ')' in a sum, got '%s'",
				       peek(ps));
				return -1;
			}
			sign = !strcmp(peek(ps), "-") ? -1 : 1;
			ps->i++;
		}
		if (e->n >= GATE_MAX_SUM) {
			gate_seterr(ps->err, ps->errlen, "more than %d terms in a sum", GATE_MAX_SUM);
			return -1;
		}
		if (ps->i >= ps->t->n || !strcmp(peek(ps), ")")) {
			gate_seterr(ps->err, ps->errlen, "expected a metric in the sum");
			return -1;
		}
		if (parse_term(ps->t->s[ps->i++], &e->t[e->n], ps->err, ps->errlen))
			return -1;
		if (!summable(&e->t[e->n])) {
			gate_seterr(ps->err, ps->errlen,
			       "only counters, reasons and HIST.count / HIST.sum can be added");
			return -1;
		}
		e->sign[e->n++] = sign;
	}
}

static int parse_share(const char *tok, struct gate_rule *r, char *err,
		       size_t errlen)
{
	const char *names[32];
	char full[32][GATE_NAME_MAX];
	const struct gate_share *sh = NULL;
	struct toks t;
	struct pstate ps = { &t, 0, err, errlen };
	char sug[200];
	size_t i;

	for (i = 0; i < gate_nshares && i < 32; i++) {
		snprintf(full[i], sizeof(full[i]), "share.%s", gate_shares[i].name);
		names[i] = full[i];
		if (!strcmp(tok + 6, gate_shares[i].name))
			sh = &gate_shares[i];
	}
	if (!sh) {
		gate_suggest(tok, names, i, sug, sizeof(sug));
		gate_seterr(err, errlen, "unknown share '%s'%s", tok,
		       *sug ? sug : " (see gate-rules(7) SHARES)");
		return -1;
	}
	snprintf(r->share, sizeof(r->share), "%s", sh->name);
	if (tokenize(sh->num, &t, err, errlen) || parse_side(&ps, &r->num))
		return -1;
	ps.i = 0;
	if (tokenize(sh->den, &t, err, errlen) || parse_side(&ps, &r->den))
		return -1;
	r->has_den = true;
	return 0;
}

static int parse_family(struct gate_rule *r, char *err, size_t errlen)
{
	const struct snap_family *f;
	const char *const *m;

	if (r->num.n != 1 || r->num.t[0].kind != GT_COUNTER || is_glob(r->num.t[0].name) ||
	    !(f = snap_family_of(r->num.t[0].name))) {
		gate_seterr(err, errlen, "'ratio' needs a counter of a reason family (vcpu_load_*, gstage_fault_*, reload_pred_*, pte_update_*, pkvm_sync_*, guest_fault_*)");
		return -1;
	}
	memset(&r->den, 0, sizeof(r->den));
	for (m = f->members; *m && r->den.n < GATE_MAX_SUM; m++) {
		r->den.t[r->den.n].kind = GT_COUNTER;
		snprintf(r->den.t[r->den.n].name, GATE_NAME_MAX, "%s", *m);
		r->den.sign[r->den.n++] = 1;
	}
	r->has_den = true;
	return 0;
}

static bool parse_op(const char *s, enum gate_op *op)
{
	static const char *const ops[] = { "<", "<=", ">", ">=", "==", "!=" };
	int i;

	for (i = 0; i < 6; i++)
		if (!strcmp(s, ops[i])) {
			*op = (enum gate_op)i;
			return true;
		}
	return false;
}

const char *gate_op_str(enum gate_op op)
{
	static const char *const ops[] = { "<", "<=", ">", ">=", "==", "!=" };

	return (unsigned)op < 6 ? ops[op] : "?";
}

/* optional [ '(' KIND { ',' KIND } ')' ], KIND = unavailable | no_events */
static int parse_optional(struct pstate *ps, struct gate_rule *r)
{
	static const char *const kinds[] = { "unavailable", "no_events", NULL };
	char sug[200];

	if (strcmp(peek(ps), "(")) {
		r->optional |= GATE_OPT_UNAVAILABLE;
		return 0;
	}
	ps->i++;
	for (;;) {
		const char *k = peek(ps);

		if (!strcmp(k, "unavailable")) {
			r->optional |= GATE_OPT_UNAVAILABLE;
		} else if (!strcmp(k, "no_events")) {
			r->optional |= GATE_OPT_NO_EVENTS;
		} else {
			gate_suggest(k, kinds, 2, sug, sizeof(sug));
			gate_seterr(ps->err, ps->errlen, "optional(...) takes unavailable and/or no_events, got '%s'%s",
			       k, sug);
			return -1;
		}
		ps->i++;
		if (!strcmp(peek(ps), ")")) {
			ps->i++;
			return 0;
		}
		if (strcmp(peek(ps), ",")) {
			gate_seterr(ps->err, ps->errlen, "expected ',' or ')' in optional(...)");
			return -1;
		}
		ps->i++;
	}
}

/* lhs: share.X | SIDE [/ SIDE | ratio] */
static int parse_lhs(struct pstate *ps, struct gate_rule *r)
{
	const struct toks *t = ps->t;

	if (!strncmp(t->s[0], "share.", 6)) {
		if (parse_share(t->s[0], r, ps->err, ps->errlen))
			return -1;
		ps->i = 1;
		return 0;
	}
	if (parse_side(ps, &r->num))
		return -1;
	if (!strcmp(peek(ps), "/")) {
		ps->i++;
		if (ps->i >= t->n) {
			gate_seterr(ps->err, ps->errlen, "expected a metric after '/'");
			return -1;
		}
		if (parse_side(ps, &r->den))
			return -1;
		r->has_den = true;
	} else if (!strcmp(peek(ps), "ratio")) {
		ps->i++;
		if (parse_family(r, ps->err, ps->errlen))
			return -1;
	}
	return 0;
}

/* OP rhs, rhs: NUM | NUM * baseline | baseline [* NUM] */
static int parse_rhs(struct pstate *ps, struct gate_rule *r)
{
	const struct toks *t = ps->t;

	if (ps->i >= t->n || !parse_op(t->s[ps->i], &r->op)) {
		gate_seterr(ps->err, ps->errlen,
			    "expected a comparison (<, <=, >, >=, ==, !=) after the metric%s%s%s",
			    ps->i < t->n ? ", got '" : "", ps->i < t->n ? t->s[ps->i] : "",
			    ps->i < t->n ? "'" : "");
		return -1;
	}
	ps->i++;
	if (ps->i >= t->n) {
		gate_seterr(ps->err, ps->errlen, "expected a value after the comparison");
		return -1;
	}
	if (!strcmp(t->s[ps->i], "baseline")) {
		r->vs_baseline = true;
		r->factor = 1;
		ps->i++;
		if (!strcmp(peek(ps), "*")) {
			if (ps->i + 1 >= t->n || !parse_num(t->s[ps->i + 1], &r->factor)) {
				gate_seterr(ps->err, ps->errlen, "expected a number after 'baseline *'");
				return -1;
			}
			ps->i += 2;
		}
	} else if (parse_num(t->s[ps->i], &r->factor)) {
		ps->i++;
		if (!strcmp(peek(ps), "*")) {
			if (ps->i + 1 >= t->n || strcmp(t->s[ps->i + 1], "baseline")) {
				gate_seterr(ps->err, ps->errlen, "expected 'baseline' after '*'");
				return -1;
			}
			r->vs_baseline = true;
			ps->i += 2;
		}
	} else {
		gate_seterr(ps->err, ps->errlen, "expected a number or 'baseline', got '%s'",
			    t->s[ps->i]);
		return -1;
	}
	return 0;
}

/* The clauses after the rhs: min_samples N, alpha X, optional[(...)]. */
static int parse_clauses(struct pstate *ps, struct gate_rule *r)
{
	static const char *const clauses[] = { "min_samples", "alpha", "optional", NULL };
	const struct toks *t = ps->t;
	char sug[200];

	while (ps->i < t->n) {
		const char *c = t->s[ps->i];

		if (!strcmp(c, "min_samples")) {
			if (ps->i + 1 >= t->n || !parse_u64(t->s[ps->i + 1], &r->min_samples)) {
				gate_seterr(ps->err, ps->errlen, "min_samples needs a non-negative integer");
				return -1;
			}
			ps->i += 2;
		} else if (!strcmp(c, "alpha")) {
			if (ps->i + 1 >= t->n || !parse_num(t->s[ps->i + 1], &r->alpha) ||
			    r->alpha <= 0 || r->alpha >= 1) {
				gate_seterr(ps->err, ps->errlen, "alpha needs a number in (0, 1)");
				return -1;
			}
			ps->i += 2;
		} else if (!strcmp(c, "optional")) {
			ps->i++;
			if (parse_optional(ps, r))
				return -1;
		} else {
			gate_suggest(c, clauses, 3, sug, sizeof(sug));
			gate_seterr(ps->err, ps->errlen,
				    "unexpected '%s'%s (clauses: min_samples N, alpha X, optional[(unavailable,no_events)])",
				    c, sug);
			return -1;
		}
	}
	return 0;
}

static int parse_rule(const char *line, struct gate_rule *r, char *err,
		      size_t errlen)
{
	struct toks t;
	struct pstate ps = { &t, 0, err, errlen };

	if (tokenize(line, &t, err, errlen))
		return -1;
	memset(r, 0, sizeof(*r));
	r->alpha = 0.01;
	if (t.n < 3) {
		gate_seterr(err, errlen, "expected 'METRIC OP VALUE'");
		return -1;
	}
	if (parse_lhs(&ps, r) || parse_rhs(&ps, r) || parse_clauses(&ps, r))
		return -1;
	return 0;
}

int gate_parse(const char *buf, size_t len, struct gate_rules *out, char *err,
	       size_t errlen)
{
	size_t pos = 0, cap = 0;
	int lineno = 0;

	memset(out, 0, sizeof(*out));
	if (len > GATE_MAX_INPUT) {
		gate_seterr(err, errlen, "rules file larger than %u bytes", GATE_MAX_INPUT);
		return -1;
	}
	if (memchr(buf, 0, len)) {
		gate_seterr(err, errlen, "rules file contains a NUL byte");
		return -1;
	}
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		char line[GATE_TEXT_MAX], *s, *e, *hash, msg[300];

		lineno++;
		if (ll >= sizeof(line)) {
			gate_seterr(err, errlen, "%d: line longer than %d characters", lineno,
			       GATE_TEXT_MAX - 1);
			goto fail;
		}
		memcpy(line, buf + pos, ll);
		line[ll] = 0;
		pos += ll + (nl ? 1 : 0);
		hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		for (s = line; isspace((unsigned char)*s); s++)
			;
		for (e = s + strlen(s); e > s && isspace((unsigned char)e[-1]); e--)
			;
		*e = 0;
		if (!*s)
			continue;
		if (out->n >= GATE_MAX_RULES) {
			gate_seterr(err, errlen, "%d: more than %d rules", lineno, GATE_MAX_RULES);
			goto fail;
		}
		if (out->n == cap) {
			struct gate_rule *nr;

			cap = cap ? cap * 2 : 16;
			nr = realloc(out->r, cap * sizeof(*nr));
			if (!nr) {
				gate_seterr(err, errlen, "out of memory");
				goto fail;
			}
			out->r = nr;
		}
		if (parse_rule(s, &out->r[out->n], msg, sizeof(msg))) {
			gate_seterr(err, errlen, "%d: %s", lineno, msg);
			goto fail;
		}
		out->r[out->n].line = lineno;
		snprintf(out->r[out->n].text, GATE_TEXT_MAX, "%s", s);
		out->n++;
	}
	return 0;
fail:
	gate_rules_free(out);
	return -1;
}

void gate_rules_free(struct gate_rules *rules)
{
	free(rules->r);
	rules->r = NULL;
	rules->n = 0;
}

bool gate_needs_baseline(const struct gate_rules *rules)
{
	size_t i;

	for (i = 0; i < rules->n; i++)
		if (rules->r[i].vs_baseline)
			return true;
	return false;
}
