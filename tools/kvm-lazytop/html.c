// SPDX-License-Identifier: GPL-2.0-only
/*
 * html.c - `kvm-lazytop report --html OUT.html A.json [B.json]`: one
 * self-contained page (inline CSS + SVG, no script, no external resource)
 * comparing up to two snapshots: fast-path hit rates, slow-path reasons,
 * latency histograms (A vs B overlaid), vcpu_load reasons, pKVM state
 * syncs, exit reasons.
 *
 * Stable hooks for tests: every chart is <svg data-chart="NAME"
 * data-bars="N" data-series="S">, every bar <rect data-bar="KEY"
 * data-snap="A|B" data-value="X">, every histogram curve
 * <path data-series="A|B">.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "html_report.h"
#include "kl_escape.h"
#include "kl_model.h"
#include "kl_names.h"
#include "snapshot_read.h"

static const char *const colors[HTML_MAX_SNAPS] = { "#1f77b4", "#e6550d" };
static const char *const letters[HTML_MAX_SNAPS] = { "A", "B" };

/* One bar chart: rows x snapshots.  v[row][snap], NAN = no bar. */
struct bars {
	const char *chart, *title, *unit;
	size_t rows, nsnap;
	const char *label[64];
	double v[64][HTML_MAX_SNAPS];
	bool ratio;		/* scale to 1.0 and print as % */
};

static void bar_chart(FILE *o, const struct bars *b)
{
	const double lw = 230, bw = 420, bh = 14, gap = 8;
	double max = 0, h, y = 10;
	size_t r, s, nbars = 0;

	for (r = 0; r < b->rows; r++)
		for (s = 0; s < b->nsnap; s++)
			if (!isnan(b->v[r][s])) {
				nbars++;
				if (b->v[r][s] > max)
					max = b->v[r][s];
			}
	if (b->ratio)
		max = 1;
	if (max <= 0)
		max = 1;
	h = 20 + (double)b->rows * ((double)b->nsnap * bh + gap);
	fprintf(o, "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" data-chart=\"%s\" data-bars=\"%zu\" data-series=\"%zu\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n",
		b->chart, nbars, b->nsnap, lw + bw + 110, h, lw + bw + 110, h);
	fputs("<title>", o);
	kl_fputs_markup(b->title, o);
	fputs("</title>\n", o);
	for (r = 0; r < b->rows; r++) {
		fprintf(o, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" class=\"lbl\">", lw - 8,
			y + (double)b->nsnap * bh / 2 + 4);
		kl_fputs_markup(b->label[r], o);
		fputs("</text>\n", o);
		for (s = 0; s < b->nsnap; s++, y += bh) {
			double v = b->v[r][s], w;

			if (isnan(v)) {
				fprintf(o, "<text x=\"%.0f\" y=\"%.1f\" class=\"na\">%s: n/a</text>\n",
					lw + 4, y + bh - 3, letters[s]);
				continue;
			}
			w = v / max * bw;
			if (v > 0 && w < 1)
				w = 1;
			fputs("<rect class=\"bar\" data-bar=\"", o);
			kl_fputs_markup(b->label[r], o);
			fprintf(o, "\" data-snap=\"%s\" data-value=\"%.9g\" x=\"%.0f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\" fill=\"%s\"><title>%s ",
				letters[s], v, lw, y + 1, w, bh - 2, colors[s], letters[s]);
			kl_fputs_markup(b->label[r], o);
			if (b->ratio)
				fprintf(o, ": %.2f%%</title></rect>\n", v * 100);
			else
				fprintf(o, ": %.9g</title></rect>\n", v);
			fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" class=\"val\">", lw + w + 4, y + bh - 3);
			if (b->ratio)
				fprintf(o, "%.2f%%", v * 100);
			else
				fprintf(o, "%.9g", v);
			fputs("</text>\n", o);
		}
		y += gap;
	}
	fputs("</svg>\n", o);
}

static bool family_sum(const struct kl_snap *s, const struct snap_family *f,
		       bool fast_only, uint64_t *out)
{
	const char *const *m;
	uint64_t v;

	*out = 0;
	for (m = f->members; *m; m++) {
		if (!kl_snap_counter_sum_name(s, *m, &v))
			return false;
		if (!fast_only || snap_family_is_fast(f, *m))
			*out += v;
	}
	return true;
}

static void unavailable_note(FILE *o, const char *what)
{
	fputs("<p class=\"unavail\">", o);
	kl_fputs_markup(what, o);
	fputs("</p>\n", o);
}

static void section_hit_rates(FILE *o, const struct kl_snap *s, size_t n)
{
	struct bars b = { .chart = "hit-rates", .title = "Fast-path hit rates",
			  .nsnap = n, .ratio = true };
	size_t f, i;

	fputs("<section id=\"hit-rates\"><h2>Fast-path hit rates</h2>\n"
	      "<p class=\"note\">Share of each reason family that took the fast path "
	      "(vcpu_load: fast; gstage_fault: fast+spurious; reload prediction: same_cpu; "
	      "contended PTE updates: updated; pKVM state syncs: skip_*), and reload-prediction "
	      "agreement.</p>\n", o);
	for (f = 0; f < snap_nfamilies; f++) {
		const struct snap_family *fam = &snap_families[f];
		bool any = false;

		if (!fam->fast[0])
			continue;
		b.label[b.rows] = fam->name;
		for (i = 0; i < n; i++) {
			uint64_t fast, tot;

			b.v[b.rows][i] = NAN;
			if (family_sum(&s[i], fam, true, &fast) && family_sum(&s[i], fam, false, &tot) && tot) {
				b.v[b.rows][i] = (double)fast / (double)tot;
				any = true;
			}
		}
		if (any)
			b.rows++;
	}
	{
		bool any = false;

		b.label[b.rows] = "prediction_agreement";
		for (i = 0; i < n; i++) {
			double num = 0, den = 0;

			b.v[b.rows][i] = NAN;
			for (size_t v = 0; v < s[i].nr_vms; v++) {
				uint64_t ok, c;

				if (!s[i].vms[v].has_pred)
					continue;
				/* the agreement as stored, weighted by the loads compared */
				kl_snap_pred_totals(&s[i].vms[v].c, &ok, &c);
				if (c) {
					num += kl_snap_share(ok, c) * (double)c;
					den += (double)c;
				}
			}
			if (den > 0) {
				b.v[b.rows][i] = num / den;
				any = true;
			}
		}
		if (any)
			b.rows++;
	}
	if (!b.rows)
		unavailable_note(o, "No hit-rate family is available in these snapshots (the kernel series' tracepoints are not attached).");
	bar_chart(o, &b);
	fputs("</section>\n", o);
}

/*
 * Add a row labelled label: counter name summed over each snapshot's VMs
 * (NaN where a snapshot lacks it).  Returns whether any snapshot has it.
 */
static bool add_counter_row(struct bars *b, const struct kl_snap *s, const char *name,
			    const char *label)
{
	bool any = false;
	size_t i;

	b->label[b->rows] = label;
	for (i = 0; i < b->nsnap; i++) {
		uint64_t v;

		b->v[b->rows][i] = NAN;
		if (kl_snap_counter_sum_name(&s[i], name, &v)) {
			b->v[b->rows][i] = (double)v;
			any = true;
		}
	}
	b->rows++;
	return any;
}

/* The chart and the section's end; without data (!any) the note instead. */
static void end_counter_section(FILE *o, struct bars *b, bool any, const char *unavail)
{
	if (!any) {
		b->rows = 0;
		unavailable_note(o, unavail);
	}
	bar_chart(o, b);
	fputs("</section>\n", o);
}

static void section_family(FILE *o, const struct kl_snap *s, size_t n,
			   const char *id, const char *title, const char *family,
			   bool slow_only, const char *unavail)
{
	const struct snap_family *fam = snap_family_named(family);
	struct bars b = { .chart = id, .title = title, .nsnap = n };
	const char *const *m;
	bool any = false;

	fprintf(o, "<section id=\"%s\"><h2>", id);
	kl_fputs_markup(title, o);
	fputs("</h2>\n", o);
	for (m = fam->members; *m; m++) {
		if (slow_only && snap_family_is_fast(fam, *m))
			continue;
		if (add_counter_row(&b, s, *m, *m + strlen(fam->prefix)))
			any = true;
	}
	end_counter_section(o, &b, any, unavail);
}

/* arm64 pKVM state syncs: both direction families in one chart. */
static void section_pkvm(FILE *o, const struct kl_snap *s, size_t n)
{
	static const char *const fams[] = { "pkvm_sync_to_hyp", "pkvm_sync_to_host" };
	struct bars b = { .chart = "pkvm-sync", .title = "pKVM state syncs by direction and reason",
			  .nsnap = n };
	bool any = false;
	size_t f;

	fputs("<section id=\"pkvm-sync\"><h2>pKVM state syncs (arm64)</h2>\n"
	      "<p class=\"note\">kvm_arm_pkvm_state_sync by direction and reason; skip_* = the "
	      "context copy between host and hypervisor was not needed (their share per direction "
	      "is in the hit rates).</p>\n", o);
	for (f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
		const struct snap_family *fam = snap_family_named(fams[f]);
		const char *const *m;

		for (m = fam ? fam->members : NULL; m && *m && b.rows < 64; m++)
			if (add_counter_row(&b, s, *m, *m + strlen("pkvm_sync_")))
				any = true;
	}
	end_counter_section(o, &b, any,
			    "unavailable: kvm_arm_pkvm_state_sync is not attached in these snapshots");
}

/* Reason key summed over the VMs of s; NAN when no VM has the reasons object. */
static double reason_total(const struct kl_snap *s, int kind, const char *key)
{
	uint64_t sum;

	return kl_snap_reason_sum(s, kind, key, &sum) ? (double)sum : NAN;
}

static void section_reasons(FILE *o, const struct kl_snap *s, size_t n,
			    int kind, const char *id, const char *title)
{
	struct bars b = { .chart = id, .title = title, .nsnap = n };
	struct kl_snap_counts keys = { 0 };

	fprintf(o, "<section id=\"%s\"><h2>", id);
	kl_fputs_markup(title, o);
	fputs("</h2>\n", o);
	if (kl_snap_reason_keys(s, n, kind, &keys))
		keys.nr = 0;
	for (size_t k = 0; k < keys.nr && b.rows < 64; k++) {
		b.label[b.rows] = keys.v[k].name;
		for (size_t i = 0; i < n; i++)
			b.v[b.rows][i] = reason_total(&s[i], kind, keys.v[k].name);
		b.rows++;
	}
	if (!b.rows)
		unavailable_note(o, "No reasons recorded in these snapshots.");
	bar_chart(o, &b);
	free(keys.v);
	fputs("</section>\n", o);
}

/* Overlaid histograms: share of samples per bucket, log2 x axis. */
static void hist_chart(FILE *o, const char *name, struct snap_hist *h,
		       const bool *has, size_t n)
{
	const double W = 640, H = 220, L = 50, R = 10, T = 10, B = 30;
	double xmin = 1e300, xmax = 0, ymax = 0;
	size_t i, j, nseries = 0;

	for (i = 0; i < n; i++) {
		if (!has[i] || !h[i].count)
			continue;
		nseries++;
		for (j = 0; j < h[i].n; j++) {
			double lo = (double)snap_bucket_lo(h[i].b[j].le);
			double hi = h[i].b[j].le == UINT64_MAX ? lo * 2 : (double)h[i].b[j].le + 1;
			double y = (double)h[i].b[j].count / (double)h[i].count;

			if (!h[i].b[j].count)
				continue;
			xmin = fmin(xmin, log2(lo + 1));
			xmax = fmax(xmax, log2(hi + 1));
			ymax = fmax(ymax, y);
		}
	}
	if (xmax <= xmin) {
		xmin = 0;
		xmax = 1;
	}
	if (ymax <= 0)
		ymax = 1;
	fprintf(o, "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" data-chart=\"hist-%s\" data-series=\"%zu\" data-bars=\"0\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n<title>",
		name, nseries, W, H, W, H);
	kl_fputs_markup(name, o);
	fputs("</title>\n", o);
	fprintf(o, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" class=\"axis\"/>\n", L, H - B, W - R, H - B);
	fprintf(o, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" class=\"axis\"/>\n", L, T, L, H - B);
	/* x ticks at powers of ten */
	for (i = 0; i < 13; i++) {
		double v = pow(10, (double)i), x;
		char buf[32];

		if (log2(v + 1) < xmin || log2(v + 1) > xmax)
			continue;
		x = L + (log2(v + 1) - xmin) / (xmax - xmin) * (W - L - R);
		fprintf(o, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" class=\"tick\"/>"
			"<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" class=\"lbl\">%s</text>\n",
			x, H - B, x, H - B + 4, x, H - B + 16, snap_fmt_ns(v, buf, sizeof(buf)));
	}
	fprintf(o, "<text x=\"4\" y=\"%.0f\" class=\"lbl\">%.0f%%</text>\n", T + 10, ymax * 100);
	for (i = 0; i < n; i++) {
		double px = L, py = H - B;

		if (!has[i] || !h[i].count)
			continue;
		fprintf(o, "<path data-series=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" d=\"M%.1f %.1f",
			letters[i], colors[i], px, py);
		for (j = 0; j < h[i].n; j++) {
			double lo = (double)snap_bucket_lo(h[i].b[j].le);
			double hi = h[i].b[j].le == UINT64_MAX ? lo * 2 : (double)h[i].b[j].le + 1;
			double y = (double)h[i].b[j].count / (double)h[i].count;
			double x0 = L + (log2(lo + 1) - xmin) / (xmax - xmin) * (W - L - R);
			double x1 = L + (log2(hi + 1) - xmin) / (xmax - xmin) * (W - L - R);
			double yy = H - B - y / ymax * (H - T - B);

			fprintf(o, " L%.1f %.1f L%.1f %.1f L%.1f %.1f L%.1f %.1f", x0, H - B, x0, yy,
				x1, yy, x1, H - B);
		}
		fputs("\"/>\n", o);
	}
	fputs("</svg>\n", o);
}

static int section_hists(FILE *o, const struct kl_snap *s, size_t n)
{
	fputs("<section id=\"latency\"><h2>Latency histograms</h2>\n"
	      "<p class=\"note\">Share of samples per bucket (log scale), snapshots overlaid.</p>\n", o);
	for (unsigned int hi = 0; hi < KL_H_NR; hi++) {
		const char *name = kl_hist_name(hi);
		struct snap_hist h[HTML_MAX_SNAPS];
		bool has[HTML_MAX_SNAPS] = { false }, any = false, unav = false;
		size_t i;

		for (i = 0; i < n; i++) {
			int r = kl_snap_hist_sum(&s[i], hi, &h[i]);

			if (r < 0) {
				fprintf(stderr, "report: out of memory\n");
				while (i--)
					snap_hist_free(&h[i]);
				return -1;
			}
			has[i] = r > 0;
			any = any || (r > 0 && h[i].count);
			unav = unav || kl_snap_unavailable(&s[i], name);
		}
		fprintf(o, "<h3>%s</h3>\n", name);
		if (any) {
			fputs("<table class=\"pct\"><tr><th></th><th>count</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th></tr>\n", o);
			for (i = 0; i < n; i++) {
				char v[32];

				if (!has[i])
					continue;
				fprintf(o, "<tr><td style=\"color:%s\">%s</td><td>%llu</td>",
					colors[i], letters[i], (unsigned long long)h[i].count);
				for (size_t q = 0; q < SNAP_NPCT; q++)
					fprintf(o, "<td>%s</td>", snap_fmt_ns(snap_hist_quantile(&h[i],
						snap_pcts[q].q), v, sizeof(v)));
				fputs("</tr>\n", o);
			}
			fputs("</table>\n", o);
			hist_chart(o, name, h, has, n);
		} else {
			unavailable_note(o, unav ? "unavailable: the probes this histogram needs are not attached"
					      : "no samples");
		}
		for (i = 0; i < n; i++)
			if (has[i])
				snap_hist_free(&h[i]);
	}
	fputs("</section>\n", o);
	return 0;
}

static void header(FILE *o, const struct kl_snap *s, const char *const *names,
		   size_t n)
{
	size_t i;

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<title>kvm-lazytop report</title>\n<style>\n"
	      "body{font-family:sans-serif;margin:1.5em;color:#222;background:#fff}\n"
	      "h1{font-size:1.4em}h2{font-size:1.15em;border-bottom:1px solid #ccc;margin-top:1.5em}\n"
	      "h3{font-size:1em;margin:1em 0 .3em}\n"
	      ".lbl,.val,.na{font-size:11px;fill:#333}.na{fill:#999}\n"
	      ".axis{stroke:#444}.tick{stroke:#888}.note{color:#555;font-size:.9em}\n"
	      ".unavail{color:#a33;font-style:italic}\n"
	      "table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ddd;padding:2px 8px;text-align:right}\n"
	      ".swatch{display:inline-block;width:12px;height:12px;margin-right:4px}\n"
	      "</style></head><body>\n<h1>kvm-lazytop report</h1>\n<ul class=\"legend\">\n", o);
	for (i = 0; i < n; i++) {
		double d = s[i].has_duration ? (double)s[i].duration_ns : NAN;

		fprintf(o, "<li><span class=\"swatch\" style=\"background:%s\"></span><b>%s</b>: ",
			colors[i], letters[i]);
		kl_fputs_markup(names[i], o);
		fputs(" &mdash; ", o);
		kl_fputs_markup(s[i].hostname[0] ? s[i].hostname : "?", o);
		fputs(", ", o);
		kl_fputs_markup(s[i].arch[0] ? s[i].arch : "?", o);
		fputs(", kernel ", o);
		kl_fputs_markup(s[i].kernel[0] ? s[i].kernel : "?", o);
		fprintf(o, ", %.2f s, %zu VM(s)</li>\n", d / 1e9, s[i].nr_vms);
	}
	fputs("</ul>\n", o);
}

static void unavailable_list(FILE *o, const struct kl_snap *s, size_t n)
{
	size_t i, j;

	fputs("<section id=\"unavailable\"><h2>Unavailable on the measured host</h2>\n<ul>\n", o);
	for (i = 0; i < n; i++) {
		fprintf(o, "<li>%s: ", letters[i]);
		for (j = 0; j < s[i].nr_unavail; j++) {
			fputs(j ? ", " : "", o);
			kl_fputs_markup(s[i].unavail[j], o);
		}
		if (!s[i].nr_unavail)
			fputs("(none)", o);
		fputs("</li>\n", o);
	}
	fputs("</ul></section>\n", o);
}

int html_write(FILE *o, const struct kl_snap *snaps,
	       const char *const *names, size_t n)
{
	if (n < 1 || n > HTML_MAX_SNAPS)
		return -1;
	header(o, snaps, names, n);
	section_hit_rates(o, snaps, n);
	section_family(o, snaps, n, "slow-path", "Slow-path reasons (G-stage faults that missed the fast path)",
		       "gstage_fault", true,
		       "unavailable: kvm_riscv_gstage_fault is not attached in these snapshots");
	if (section_hists(o, snaps, n))
		return -1;
	section_family(o, snaps, n, "vcpu-load", "vcpu_load reasons", "vcpu_load", false,
		       "unavailable: kvm_riscv_vcpu_load is not attached in these snapshots");
	section_pkvm(o, snaps, n);
	section_reasons(o, snaps, n, 0, "userspace-exits", "Exits to the VMM by reason");
	section_reasons(o, snaps, n, 1, "exit-reasons", "Guest exits by cause");
	unavailable_list(o, snaps, n);
	fputs("<footer class=\"note\">Generated by kvm-lazytop report --html.</footer>\n</body></html>\n", o);
	return ferror(o) ? -1 : 0;
}
