/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gate.h - CI gate rules over kvm-lazytop snapshots (see gate-rules.7).
 */
#ifndef KL_GATE_H
#define KL_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "snapshot_read.h"

struct json_object;

#define GATE_NAME_MAX	96
#define GATE_TEXT_MAX	512
#define GATE_MAX_RULES	1024
#define GATE_MAX_INPUT	(1u << 20)

/* Exit codes of `kvm-lazytop gate`. */
enum { GATE_EXIT_PASS = 0, GATE_EXIT_FAIL = 1, GATE_EXIT_BAD_INPUT = 2 };

enum gate_op { GOP_LT, GOP_LE, GOP_GT, GOP_GE, GOP_EQ, GOP_NE };

enum gate_term_kind {
	GT_COUNTER,	/* counter name or glob, summed over matches and VMs */
	GT_FAMILY,	/* sum of the family of a counter (for "ratio") */
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

struct gate_rule {
	int line;
	char text[GATE_TEXT_MAX];	/* the rule as written, trimmed */
	struct gate_term num;
	bool has_den;
	struct gate_term den;
	enum gate_op op;
	bool vs_baseline;		/* rhs = factor * baseline */
	double factor;			/* or the constant when !vs_baseline */
	uint64_t min_samples;
	double alpha;			/* significance for the distribution test */
	bool optional;			/* unavailable metric -> skipped */
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
	char msg[400];
	const char *unit;		/* "ratio", "ns", "count", ... */
};

/* Parse rules text. 0 ok; -1 with "LINE: message" in err. */
int gate_parse(const char *buf, size_t len, struct gate_rules *out, char *err,
	       size_t errlen);
void gate_rules_free(struct gate_rules *rules);
/* True when any rule needs --baseline. */
bool gate_needs_baseline(const struct gate_rules *rules);
/* Evaluate one rule. 0 ok (result filled), -1 bad input (msg set). */
int gate_eval(const struct gate_rule *rule, struct json_object *snap,
	      struct json_object *base, struct gate_result *res);
const char *gate_op_str(enum gate_op op);

int cmd_gate(int argc, char **argv);

#endif /* KL_GATE_H */
