// SPDX-License-Identifier: GPL-2.0-only
/*
 * diff.c - `kvm-lazytop diff BASE.json NEW.json`: counter deltas (raw and
 * per second), family ratios (share of each reason, in percentage
 * points), histogram percentile shifts with a two-sample KS and
 * Mann-Whitney comparison, exit reasons and tool overhead.  Counters are
 * summed over every VM of each snapshot; both files are read into the
 * typed snapshot (kl_model.h) first.  Exit 0, or 2 on bad input.
 */
#include <argp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "kl_escape.h"
#include "kl_model.h"
#include "kl_names.h"
#include "kl_opts.h"
#include "kl_common.h"
#include "snapshot_read.h"

struct diff_args {
	const char *base, *new;
	bool all;	/* also unchanged counters */
};

static double secs(const struct kl_snap *s)
{
	return s->has_duration && s->duration_ns ? s->duration_ns / 1e9 : NAN;
}

static void pct(char *buf, size_t len, double a, double b)
{
	if (a == 0 && b == 0)
		snprintf(buf, len, "0%%");
	else if (a == 0)
		snprintf(buf, len, "new");
	else
		snprintf(buf, len, "%+.1f%%", (b - a) / a * 100);
}

static void diff_counters(FILE *o, const struct kl_snap *a, const struct kl_snap *b,
			  bool all)
{
	double sa = secs(a), sb = secs(b);
	const char *const *n;
	int shown = 0;

	fprintf(o, "\nCOUNTERS (sum over VMs)%*s%14s %14s %14s %9s %12s %12s\n", 9, "",
		"BASE", "NEW", "DELTA", "CHANGE", "BASE/s", "NEW/s");
	for (n = snap_counter_names; *n; n++) {
		uint64_t va = 0, vb = 0;
		bool ha = kl_snap_counter_sum_name(a, *n, &va), hb = kl_snap_counter_sum_name(b, *n, &vb);
		char c[32], ra[24] = "-", rb[24] = "-";

		if (!ha && !hb)
			continue;
		if (ha && hb && va == vb && !all)
			continue;
		if (ha && !isnan(sa))
			snprintf(ra, sizeof(ra), "%.1f", (double)va / sa);
		if (hb && !isnan(sb))
			snprintf(rb, sizeof(rb), "%.1f", (double)vb / sb);
		if (ha && hb) {
			/* compare rates when both durations are known */
			if (!isnan(sa) && !isnan(sb))
				pct(c, sizeof(c), (double)va / sa, (double)vb / sb);
			else
				pct(c, sizeof(c), (double)va, (double)vb);
			fprintf(o, "  %-30s %14llu %14llu %+14lld %9s %12s %12s\n", *n,
				(unsigned long long)va, (unsigned long long)vb,
				(long long)(vb - va), c, ra, rb);
		} else {
			char x[24], y[24];

			snprintf(x, sizeof(x), "%llu", (unsigned long long)va);
			snprintf(y, sizeof(y), "%llu", (unsigned long long)vb);
			fprintf(o, "  %-30s %14s %14s %14s %9s %12s %12s\n", *n,
				ha ? x : "unavailable", hb ? y : "unavailable", "-", "-", ra, rb);
		}
		shown++;
	}
	if (!shown)
		fprintf(o, "  (no counter changed; --all shows every counter)\n");
}

static void diff_ratios(FILE *o, const struct kl_snap *a, const struct kl_snap *b)
{
	size_t f;

	fprintf(o, "\nRATIOS (counter / sum of its family)%*s%10s %10s %10s\n", 13, "",
		"BASE", "NEW", "SHIFT");
	for (f = 0; f < snap_nfamilies; f++) {
		const struct snap_family *fam = &snap_families[f];
		uint64_t ta = 0, tb = 0, v;
		bool ha = false, hb = false;
		const char *const *m;

		/*
		 * A family is there when any member is: a snapshot from before a
		 * reason was added lacks it, and it had no such event.
		 */
		for (m = fam->members; *m; m++) {
			if (kl_snap_counter_sum_name(a, *m, &v)) {
				ha = true;
				ta += v;
			}
			if (kl_snap_counter_sum_name(b, *m, &v)) {
				hb = true;
				tb += v;
			}
		}
		if (!ha && !hb)
			continue;
		for (m = fam->members; *m; m++) {
			uint64_t va = 0, vb = 0;
			double ra = NAN, rb = NAN;
			char name[64], sa[16] = "-", sb[16] = "-", sh[16] = "-";

			kl_snap_counter_sum_name(a, *m, &va);
			kl_snap_counter_sum_name(b, *m, &vb);
			if (ha && ta) {
				ra = (double)va / (double)ta;
				snprintf(sa, sizeof(sa), "%.4f", ra);
			}
			if (hb && tb) {
				rb = (double)vb / (double)tb;
				snprintf(sb, sizeof(sb), "%.4f", rb);
			}
			if (!isnan(ra) && !isnan(rb))
				snprintf(sh, sizeof(sh), "%+.2fpp", (rb - ra) * 100);
			snprintf(name, sizeof(name), "%s ratio", *m);
			fprintf(o, "  %-47s %10s %10s %10s\n", name, sa, sb, sh);
		}
	}
}

/* skip_* / all events of a pKVM sync direction family, NAN if none. */
static double skip_share(const struct kl_snap *s, const struct snap_family *fam)
{
	uint64_t tot = 0, skip = 0, v;
	const char *const *m;

	for (m = fam->members; *m; m++) {
		if (!kl_snap_counter_sum_name(s, *m, &v))
			continue;	/* a reason added after s was written */
		tot += v;
		if (snap_family_is_fast(fam, *m))
			skip += v;
	}
	return tot ? (double)skip / (double)tot : NAN;
}

/* arm64 pKVM: the skip share of each direction (only when a snapshot has it). */
static void diff_pkvm(FILE *o, const struct kl_snap *a, const struct kl_snap *b)
{
	static const char *const dirs[] = { "pkvm_sync_to_hyp", "pkvm_sync_to_host" };
	size_t d, f;

	if (!kl_snap_has_pkvm(a) && !kl_snap_has_pkvm(b))
		return;
	fprintf(o, "\nPKVM STATE SYNC skip share (skip_* / all syncs)%*s%10s %10s %10s\n", 1, "",
		"BASE", "NEW", "SHIFT");
	for (d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
		for (f = 0; f < snap_nfamilies; f++) {
			double x, y;
			char sa[16] = "-", sb[16] = "-", sh[16] = "-";

			if (strcmp(snap_families[f].name, dirs[d]))
				continue;
			x = kl_snap_has_pkvm(a) ? skip_share(a, &snap_families[f]) : NAN;
			y = kl_snap_has_pkvm(b) ? skip_share(b, &snap_families[f]) : NAN;
			if (!isnan(x))
				snprintf(sa, sizeof(sa), "%.4f", x);
			if (!isnan(y))
				snprintf(sb, sizeof(sb), "%.4f", y);
			if (!isnan(x) && !isnan(y))
				snprintf(sh, sizeof(sh), "%+.2fpp", (y - x) * 100);
			fprintf(o, "  %-47s %10s %10s %10s\n", dirs[d] + strlen("pkvm_sync_"), sa, sb, sh);
		}
	}
}

static void hist_line(FILE *o, const char *label, const struct snap_hist *ha,
		      const struct snap_hist *hb)
{
	char b1[32], b2[32], r[32];
	size_t i;

	fprintf(o, "  %s: count %llu -> %llu\n", label,
		(unsigned long long)ha->count, (unsigned long long)hb->count);
	for (i = 0; i < SNAP_NPCT; i++) {
		double x = snap_hist_quantile(ha, snap_pcts[i].q);
		double y = snap_hist_quantile(hb, snap_pcts[i].q);

		if (!isnan(x) && !isnan(y) && x > 0)
			snprintf(r, sizeof(r), "x%.3f", y / x);
		else
			snprintf(r, sizeof(r), "-");
		fprintf(o, "    %-5s %10s -> %10s  %s\n", snap_pcts[i].name,
			snap_fmt_ns(x, b1, sizeof(b1)), snap_fmt_ns(y, b2, sizeof(b2)), r);
	}
	{
		double x = ha->count ? (double)ha->sum / (double)ha->count : NAN;
		double y = hb->count ? (double)hb->sum / (double)hb->count : NAN;

		fprintf(o, "    %-5s %10s -> %10s\n", "mean", snap_fmt_ns(x, b1, sizeof(b1)),
			snap_fmt_ns(y, b2, sizeof(b2)));
	}
	if (ha->count && hb->count) {
		struct snap_cmp c;

		snap_hist_compare(ha, hb, &c);
		fprintf(o, "    KS D=%.4f p=%.3g (new slower: D+=%.4f p=%.3g); Mann-Whitney P(new>base)=%.3f z=%+.2f\n",
			c.ks_d, c.ks_p, c.ks_d_plus, c.ks_p_plus, c.mw_auc, c.mw_z);
	}
}

static int diff_hists(FILE *o, const struct kl_snap *a, const struct kl_snap *b)
{
	fprintf(o, "\nHISTOGRAMS (percentile shifts, NEW/BASE)\n");
	for (unsigned int h = 0; h < KL_H_NR; h++) {
		const char *n = kl_hist_name(h);
		struct snap_hist ha, hb;
		int ra, rb;

		ra = kl_snap_hist_sum(a, h, &ha);
		rb = ra < 0 ? -1 : kl_snap_hist_sum(b, h, &hb);
		if (rb < 0) {
			fprintf(stderr, KL_TOOL_NAME ": diff: out of memory\n");
			snap_hist_free(&ha);
			return -1;
		}
		if (ra == 0 && rb == 0) {
			if (kl_snap_unavailable(a, n) || kl_snap_unavailable(b, n))
				fprintf(o, "  %s: unavailable\n", n);
			continue;
		}
		hist_line(o, n, &ha, &hb);
		snap_hist_free(&ha);
		snap_hist_free(&hb);
	}
	return 0;
}

static void diff_reasons(FILE *o, const struct kl_snap *a, const struct kl_snap *b)
{
	static const char *const kinds[] = { "userspace_exit", "exit" };

	for (int k = 0; k < 2; k++) {
		const struct kl_snap both[2] = { *a, *b };
		struct kl_snap_counts set = { 0 };

		if (kl_snap_reason_keys(both, 2, k, &set))
			fprintf(o, "\nREASONS %s: out of memory\n", kinds[k]);
		else if (set.nr)
			fprintf(o, "\nREASONS %s%*s%14s %14s %9s\n", kinds[k],
				(int)(33 - strlen(kinds[k])), "", "BASE", "NEW", "CHANGE");
		for (size_t j = 0; j < set.nr; j++) {
			const char *key = set.v[j].name;
			uint64_t x, y;
			char c[32], ek[96];

			kl_snap_reason_sum(a, k, key, &x);
			kl_snap_reason_sum(b, k, key, &y);
			pct(c, sizeof(c), (double)x, (double)y);
			kl_escape(ek, sizeof(ek), key);	/* keys of the input files */
			fprintf(o, "  %-38s %14llu %14llu %9s\n", ek,
				(unsigned long long)x, (unsigned long long)y, c);
		}
		free(set.v);
	}
}

/* The overhead values diff compares, NAN without an overhead object. */
static void overhead_vals(const struct kl_snap *s, double v[6])
{
	const struct kl_snap_overhead *oh = &s->oh;

	v[0] = (double)oh->bpf_run_time_ns;
	v[1] = (double)oh->bpf_events;
	v[2] = (double)oh->cpu_ns;
	v[3] = kl_snap_cpu_pct(s);
	v[4] = (double)oh->rss_kb;
	v[5] = (double)oh->maxrss_kb;
	for (int i = 0; !oh->present && i < 6; i++)
		v[i] = NAN;
}

static void diff_overhead(FILE *o, const struct kl_snap *a, const struct kl_snap *b)
{
	static const char *const keys[6] = {
		"bpf_run_time_ns", "bpf_events", "collector_cpu_ns", "collector_cpu_pct",
		"collector_rss_kb", "collector_maxrss_kb",
	};
	double va[6], vb[6];

	if (!a->oh.present && !b->oh.present)
		return;
	overhead_vals(a, va);
	overhead_vals(b, vb);
	fprintf(o, "\nOVERHEAD%*s%14s %14s %9s\n", 32, "", "BASE", "NEW", "CHANGE");
	for (size_t i = 0; i < 6; i++) {
		char c[32] = "-";

		if (isnan(va[i]) && isnan(vb[i]))
			continue;
		if (!isnan(va[i]) && !isnan(vb[i]))
			pct(c, sizeof(c), va[i], vb[i]);
		fprintf(o, "  %-38s %14.6g %14.6g %9s\n", keys[i], va[i], vb[i], c);
	}
}

static const struct argp_option diff_options[] = {
	{ "all", 'a', NULL, 0, "Show unchanged counters too", 0 },
	{ 0 }
};

static error_t diff_parse_opt(int key, char *arg, struct argp_state *state)
{
	struct diff_args *a = state->input;

	switch (key) {
	case 'a': a->all = true; break;
	case ARGP_KEY_ARG:
		if (!a->base)
			a->base = arg;
		else if (!a->new)
			a->new = arg;
		else
			argp_error(state, "two snapshots: BASE.json NEW.json");
		break;
	case ARGP_KEY_END:
		if (!a->new)
			argp_error(state, "two snapshots: BASE.json NEW.json");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

int cmd_diff(int argc, char **argv)
{
	static const struct argp argp = {
		diff_options, diff_parse_opt, "BASE.json NEW.json",
		"Compare two kvm-lazytop snapshots: counter deltas, ratio shifts, "
		"percentile shifts.\vExit status: 0, 1 write error, 2 bad input.",
		kl_sub_children, NULL, NULL
	};
	struct diff_args a = { 0 };
	struct kl_snap sa, sb;
	char err[512], b1[32], b2[32];
	int rc = 0;

	argp_err_exit_status = 2;
	if (argp_parse(&argp, argc, argv, 0, NULL, &a))
		return 2;
	if (kl_snap_load(&sa, a.base, err, sizeof(err))) {
		fprintf(stderr, KL_TOOL_NAME ": %s\n", err);
		return 2;
	}
	if (kl_snap_load(&sb, a.new, err, sizeof(err))) {
		fprintf(stderr, KL_TOOL_NAME ": %s\n", err);
		kl_snap_free(&sa);
		return 2;
	}
	printf("kvm-lazytop diff: BASE ");
	kl_fputs_escaped(a.base, stdout);
	printf(" -> NEW ");
	kl_fputs_escaped(a.new, stdout);
	printf("\n");
	printf("duration: %s -> %s\n", snap_fmt_ns(secs(&sa) * 1e9, b1, sizeof(b1)),
	       snap_fmt_ns(secs(&sb) * 1e9, b2, sizeof(b2)));
	diff_counters(stdout, &sa, &sb, a.all);
	diff_ratios(stdout, &sa, &sb);
	diff_pkvm(stdout, &sa, &sb);
	if (diff_hists(stdout, &sa, &sb))
		rc = 2;
	diff_reasons(stdout, &sa, &sb);
	diff_overhead(stdout, &sa, &sb);
	kl_snap_free(&sa);
	kl_snap_free(&sb);
	return rc;
}
