/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * gate.h - CI gate rules over kvm-lazytop snapshots (see gate-rules.7).
 *
 * gate_parse.c: rules text -> struct gate_rules (names checked, with
 *               suggestions for the close ones);
 * gate_eval.c:  one rule on a snapshot (and a baseline), typed access;
 * gate.c:       `kvm-lazytop gate`: summary, JUnit, benchmark JSON.
 */
#ifndef KL_GATE_H
#define KL_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "snapshot_read.h"

struct kl_snap;

#define GATE_NAME_MAX	96
#define GATE_TEXT_MAX	512
#define GATE_MAX_RULES	1024
#define GATE_MAX_INPUT	(1u << 20)
#define GATE_MAX_SUM	12	/* terms of one (A + B - C ...) */

/* Exit codes of `kvm-lazytop gate`. */
enum { GATE_EXIT_PASS = 0, GATE_EXIT_FAIL = 1, GATE_EXIT_BAD_INPUT = 2 };

enum gate_op { GOP_LT, GOP_LE, GOP_GT, GOP_GE, GOP_EQ, GOP_NE };

enum gate_term_kind {
	GT_COUNTER,	/* counter name or glob, summed over matches and VMs */
	GT_HIST,	/* histogram statistic */
	GT_OVERHEAD,	/* overhead.<key> or overhead.drops.<key> */
	GT_REASON,	/* reasons.<kind>.<name> */
	GT_AGREEMENT,	/* prediction.agreement */
};

enum gate_hstat { GH_COUNT, GH_SUM, GH_MEAN, GH_QUANTILE };

struct gate_term {
	enum gate_term_kind kind;
	char name[GATE_NAME_MAX];	/* counter/glob/hist/key */
	char sub[GATE_NAME_MAX];	/* reason name, overhead sub key */
	enum gate_hstat hstat;
	double q;			/* GH_QUANTILE */
};

/* t[0] (+|-) t[1] ... ; a single term when n == 1. */
struct gate_expr {
	int n;
	signed char sign[GATE_MAX_SUM];	/* +1 or -1 */
	struct gate_term t[GATE_MAX_SUM];
};

/* What `optional` covers. */
enum {
	GATE_OPT_UNAVAILABLE = 1 << 0,	/* probe not attached on this kernel */
	GATE_OPT_NO_EVENTS = 1 << 1,	/* attached, never fired / no VM */
};

struct gate_rule {
	int line;
	char text[GATE_TEXT_MAX];	/* the rule as written, trimmed */
	char share[GATE_NAME_MAX];	/* share.NAME it came from, or "" */
	struct gate_expr num;
	bool has_den;
	struct gate_expr den;
	enum gate_op op;
	bool vs_baseline;		/* rhs = factor * baseline */
	double factor;			/* or the constant when !vs_baseline */
	uint64_t min_samples;
	double alpha;			/* significance for the distribution test */
	unsigned int optional;		/* GATE_OPT_* */
};

struct gate_rules {
	struct gate_rule *r;
	size_t n;
};

enum gate_status { GATE_PASS, GATE_FAIL, GATE_SKIP };

struct gate_result {
	enum gate_status status;
	double value;			/* lhs on the snapshot */
	double base_value;		/* lhs on the baseline (vs_baseline) */
	double bound;			/* rhs */
	uint64_t samples, base_samples;
	bool has_cmp;
	struct snap_cmp cmp;		/* base vs new, when a histogram */
	enum { GATE_BAD_SNAPSHOT, GATE_BAD_BASELINE, GATE_BAD_RULE } bad_src;
					/* gate_eval -1: whose fault */
	char msg[400];
	const char *unit;		/* "ratio", "ns", "count", ... */
};

/* A predefined share: share.NAME = NUM / DEN (gate-rules.7). */
struct gate_share {
	const char *name;
	const char *num;		/* rule-language text */
	const char *den;
	const char *help;
};
extern const struct gate_share gate_shares[];
extern const size_t gate_nshares;

/* Parse rules text. 0 ok; -1 with "LINE: message" in err. */
int gate_parse(const char *buf, size_t len, struct gate_rules *out, char *err,
	       size_t errlen);
void gate_rules_free(struct gate_rules *rules);
/* True when any rule needs --baseline. */
bool gate_needs_baseline(const struct gate_rules *rules);
/*
 * Evaluate one rule.  0 ok (result filled: PASS, FAIL or SKIP); -1 bad
 * input (msg set, "path: expected X, got Y" for a wrongly typed
 * snapshot; bad_src says which input is at fault).
 */
int gate_eval(const struct gate_rule *rule, const struct kl_snap *snap,
	      const struct kl_snap *base, struct gate_result *res);
const char *gate_op_str(enum gate_op op);

/* Signals (KL_SIG_BIT mask) a term's data comes from; 0 = none (overhead). */
uint32_t gate_term_signals(const struct gate_term *t);
/* Is NAME an exit reason of kind "exit" / "userspace_exit" on arch (NULL:
 * any architecture)?  Decimal numbers always are. */
bool gate_reason_known(const char *kind, const char *name, const char *arch);
/*
 * Append to buf "; did you mean A, B?" with the candidates closest to
 * name (edit distance), or nothing when none is close.
 */
void gate_suggest(const char *name, const char *const *cands, size_t ncands,
		  char *buf, size_t len);

int cmd_gate(int argc, char **argv);

/* Shared by the gate sources: format a one-line error into err[len]. */
void gate_seterr(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* KL_GATE_H */
