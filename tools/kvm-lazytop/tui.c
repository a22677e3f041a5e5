// SPDX-License-Identifier: GPL-2.0-only
/*
 * tui.c - sortable ncurses live view over the per-interval typed snapshot.
 *
 * Views: VM table (default), per-vCPU table of the selected VM (Enter or
 * Right), histogram view of the selected VM (h), pKVM state sync table of
 * the selected VM (p, arm64), help (?).
 * Keys: s / S next / previous sort column, Up/Down (j/k) select, Left/Esc
 * back, Tab next histogram (in h), q quit.
 */
#include <stddef.h>

#include "tui.h"

#ifdef KL_NO_TUI

int tui_open(struct kl_tui **t)
{
	*t = NULL;
	return -1;
}

void tui_update(struct kl_tui *t, struct kl_snap *snap)
{
	(void)t;
	(void)snap;
}

bool tui_input(struct kl_tui *t)
{
	(void)t;
	return false;
}

void tui_close(struct kl_tui *t)
{
	(void)t;
}

#else

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curses.h>

#include "kl_common.h"
#include "kl_model.h"
#include "kl_names.h"
#include "render.h"
#include "snap_stats.h"

enum view { V_VMS, V_VCPUS, V_HIST, V_PKVM, V_HELP };

struct kl_tui {
	struct kl_snap snap;
	bool have_snap;
	enum view view, prev_view;
	enum kl_col sort;
	int sel;		/* selected row in the VM / vCPU table */
	uint32_t sel_pid;	/* VM the vCPU / histogram views show */
	int hist_idx;		/* histogram shown with buckets in V_HIST */
};

int tui_open(struct kl_tui **out)
{
	struct kl_tui *t = calloc(1, sizeof(*t));

	*out = NULL;
	if (!t)
		return -1;
	if (!initscr()) {
		free(t);
		return -1;
	}
	cbreak();
	noecho();
	nodelay(stdscr, TRUE);
	keypad(stdscr, TRUE);
	curs_set(0);
	t->sort = KL_COL_DIRTY;
	*out = t;
	return 0;
}

void tui_close(struct kl_tui *t)
{
	if (!t)
		return;
	endwin();
	kl_snap_free(&t->snap);
	free(t);
}

static const struct kl_snap_vm *find_vm(struct kl_tui *t)
{
	for (size_t i = 0; i < t->snap.nr_vms; i++)
		if (t->snap.vms[i].pid == t->sel_pid)
			return &t->snap.vms[i];
	return NULL;
}

static void draw_title(struct kl_tui *t, const char *what)
{
	const struct kl_snap *s = &t->snap;
	char tb[32], pid[16];
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(tb, sizeof(tb), "%H:%M:%S", &tm);
	attron(A_BOLD);
	snprintf(pid, sizeof(pid), "%u", s->target_pid);
	mvprintw(0, 0, "%s %s  %s  interval %.2fs  target %s  sort %s  [? help]", KL_TOOL_NAME, what, tb,
		 s->duration_ns / 1e9, s->target == KL_TARGET_PID ? pid :
		 s->target == KL_TARGET_NAME ? s->target_name : "all", kl_col_names[t->sort]);
	attroff(A_BOLD);
}

static void draw_footer(struct kl_tui *t)
{
	const struct kl_snap_overhead *oh = &t->snap.oh;
	double ev = (double)oh->bpf_events, nd = 0;
	char a[24];
	int y = LINES - 2;

	for (int d = 0; d < KL_D_NR; d++)
		nd += (double)oh->drops[d];
	attron(A_REVERSE);
	mvprintw(y, 0, " bpf %s: %.0f ev %s/ev | collector %.2f%% CPU RSS %llu kB | drops %.0f ",
		 oh->bpf_stats, ev, snap_fmt_ns(ev > 0 ? (double)oh->bpf_run_time_ns / ev : NAN, a, sizeof(a)),
		 kl_snap_cpu_pct(&t->snap), (unsigned long long)oh->rss_kb, nd);
	clrtoeol();
	attroff(A_REVERSE);
	move(y + 1, 0);
	if (t->snap.nr_unavail) {
		size_t n = t->snap.nr_unavail;

		printw("unavailable (%zu):", n);
		for (size_t i = 0; i < n && getcurx(stdscr) < COLS - 24; i++)
			printw(" %s", t->snap.unavail[i]);
		if (getcurx(stdscr) >= COLS - 24)
			printw(" ...");
	}
	clrtoeol();
}

static void draw_table(struct kl_tui *t, struct kl_row *rows, size_t n)
{
	char line[512];
	int y = 2, maxy = LINES - 3;

	kl_format_header(line, sizeof(line));
	attron(A_REVERSE);
	mvprintw(1, 0, "%-*.*s", COLS, COLS, line);
	attroff(A_REVERSE);
	if (t->sel >= (int)n)
		t->sel = n ? (int)n - 1 : 0;
	for (size_t i = 0; i < n && y < maxy; i++, y++) {
		kl_format_row(&rows[i], line, sizeof(line));
		if ((int)i == t->sel)
			attron(A_STANDOUT);
		mvprintw(y, 0, "%-*.*s", COLS, COLS, line);
		if ((int)i == t->sel)
			attroff(A_STANDOUT);
	}
	if (!n)
		mvprintw(y, 2, "(no KVM activity seen in this interval)");
}

/* The title line of a view of the selected VM; false when it is gone. */
static bool vm_title(struct kl_tui *t, const struct kl_snap_vm *vm, const char *view)
{
	if (!vm) {
		mvprintw(2, 2, "VM %u not in this interval", t->sel_pid);
		return false;
	}
	mvprintw(1, 0, "VM %u %s -- %s", t->sel_pid, vm->name, view);
	return true;
}

/* The buckets of the selected histogram h as bars. */
static void draw_buckets(const struct snap_hist *h, const char *hname, int y)
{
	double maxc = 0;
	char a[24];

	mvprintw(y++, 2, "%s buckets (le = inclusive upper bound):", hname);
	for (size_t i = 0; i < h->n; i++)
		if ((double)h->b[i].count > maxc)
			maxc = (double)h->b[i].count;
	for (size_t i = 0; i < h->n && y < LINES - 3; i++, y++) {
		double cnt = (double)h->b[i].count;
		uint64_t le = h->b[i].le;
		int w = COLS - 34, bar = maxc > 0 ? (int)(w * cnt / maxc) : 0;

		mvprintw(y, 2, "<= %9s %10.0f ", le == UINT64_MAX ? "+Inf" : snap_fmt_ns((double)le, a, sizeof(a)), cnt);
		for (int j = 0; j < bar && j < w; j++)
			addch('#');
	}
}

static void draw_hists(struct kl_tui *t)
{
	const struct kl_snap_vm *vm = find_vm(t);
	char a[24], b[24], c[24], d[24];
	int y = 2, nh = 0, sel = -1;

	if (!vm_title(t, vm, "histograms (Tab: next, Left: back)"))
		return;
	for (unsigned int h = 0; h < KL_H_NR; h++)
		nh += vm->has_hist[h];
	if (!nh) {
		mvprintw(3, 2, "no histogram available with the attached signals");
		return;
	}
	t->hist_idx %= nh;
	mvprintw(++y, 2, "%-22s %10s %9s %9s %9s %9s", "histogram", "count", "p50", "p90", "p99", "p99.9");
	for (unsigned int h = 0, k = 0; h < KL_H_NR; h++) {
		const struct snap_hist *x = &vm->hist[h];

		if (!vm->has_hist[h])
			continue;
		if ((int)k++ == t->hist_idx) {
			sel = (int)h;
			attron(A_STANDOUT);
		}
		/* from the buckets, as report/diff/gate */
		mvprintw(++y, 2, "%-22s %10llu %9s %9s %9s %9s", kl_hist_name(h), (unsigned long long)x->count,
			 snap_fmt_ns(snap_hist_quantile(x, snap_pcts[0].q), a, sizeof(a)),
			 snap_fmt_ns(snap_hist_quantile(x, snap_pcts[1].q), b, sizeof(b)),
			 snap_fmt_ns(snap_hist_quantile(x, snap_pcts[2].q), c, sizeof(c)),
			 snap_fmt_ns(snap_hist_quantile(x, snap_pcts[3].q), d, sizeof(d)));
		if (sel == (int)h)
			attroff(A_STANDOUT);
	}
	draw_buckets(&vm->hist[sel], kl_hist_name((unsigned int)sel), y + 2);
}

/* The text view's pKVM state sync table, line by line. */
static void draw_pkvm(struct kl_tui *t)
{
	const struct kl_snap_vm *vm = find_vm(t);
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *f;
	int y = 3;

	if (!vm_title(t, vm, "pKVM state sync (Left: back)"))
		return;
	f = open_memstream(&buf, &len);
	if (!f)
		return;
	if (!render_pkvm_sync(f, vm, true, ""))
		fprintf(f, "kvm_arm_pkvm_state_sync is not attached (no arm64 pKVM series kernel)\n");
	if (fclose(f)) {
		free(buf);
		return;
	}
	for (line = strtok_r(buf, "\n", &save); line && y < LINES - 3; line = strtok_r(NULL, "\n", &save))
		mvprintw(y++, 2, "%.*s", COLS > 2 ? COLS - 2 : 0, line);
	free(buf);
}

static void draw_help(void)
{
	static const char *const lines[] = {
		"kvm-lazytop live view",
		"",
		"  s / S        next / previous sort column",
		"  Up/Down j/k  select a row",
		"  Enter, Right per-vCPU view of the selected VM",
		"  h            histogram view of the selected VM (Tab: next histogram)",
		"  p            pKVM state sync table of the selected VM (arm64)",
		"  Left, Esc    back to the VM table",
		"  ?            this help",
		"  q            quit (the final summary is printed)",
		"",
		"Columns: RUN/s KVM_RUN ioctls/s, UEXIT/s exits to userspace/s, EXIT/s",
		"kvm_exit/s, DIRTY/s dirty-ring pages/s, FAST% G-stage faults taken on the",
		"fast path, TOP-MISS most frequent fast-path refusal, F-P50/F-P99 store",
		"fault latency, VCPU-LOAD reload reason mix (or the sched_switch",
		"prediction when the kernel series is absent).  '-' = unavailable,",
		"'*' after COMM = the VM exited.",
	};

	for (size_t i = 0; i < KL_ARRAY_SIZE(lines); i++)
		mvprintw(2 + (int)i, 2, "%s", lines[i]);
}

static void redraw(struct kl_tui *t)
{
	struct kl_row *rows = NULL;
	size_t n = 0;

	erase();
	if (!t->have_snap) {
		mvprintw(0, 0, "%s: waiting for the first interval...", KL_TOOL_NAME);
		refresh();
		return;
	}
	switch (t->view) {
	case V_VMS:
		draw_title(t, "VMs");
		if (!kl_vm_rows(&t->snap, &rows, &n)) {
			kl_rows_sort(rows, n, t->sort);
			draw_table(t, rows, n);
			if (n && t->sel < (int)n)
				t->sel_pid = rows[t->sel].pid;
		}
		break;
	case V_VCPUS: {
		const struct kl_snap_vm *vm = find_vm(t);

		draw_title(t, "vCPUs");
		if (vm && !kl_vcpu_rows(&t->snap, vm, &rows, &n)) {
			kl_rows_sort(rows, n, t->sort);
			draw_table(t, rows, n);
		} else {
			mvprintw(2, 2, "VM %u not in this interval", t->sel_pid);
		}
		break;
	}
	case V_HIST:
		draw_title(t, "histograms");
		draw_hists(t);
		break;
	case V_PKVM:
		draw_title(t, "pKVM state sync");
		draw_pkvm(t);
		break;
	case V_HELP:
		draw_title(t, "help");
		draw_help();
		break;
	}
	free(rows);
	draw_footer(t);
	refresh();
}

void tui_update(struct kl_tui *t, struct kl_snap *snap)
{
	kl_snap_free(&t->snap);
	t->snap = *snap;
	t->have_snap = true;
	kl_snap_init(snap);
	redraw(t);
}

bool tui_input(struct kl_tui *t)
{
	bool dirty = false;
	int ch;

	while ((ch = getch()) != ERR) {
		dirty = true;
		switch (ch) {
		case 'q':
		case 'Q':
			return true;
		case 's':
			t->sort = (t->sort + 1) % KL_COL_NR;
			break;
		case 'S':
			t->sort = (t->sort + KL_COL_NR - 1) % KL_COL_NR;
			break;
		case KEY_UP:
		case 'k':
			if (t->sel > 0)
				t->sel--;
			break;
		case KEY_DOWN:
		case 'j':
			t->sel++;
			break;
		case '\n':
		case KEY_ENTER:
		case KEY_RIGHT:
			if (t->view == V_VMS) {
				t->view = V_VCPUS;
				t->sel = 0;
			}
			break;
		case 'h':
			if (t->view == V_VMS || t->view == V_VCPUS)
				t->view = V_HIST;
			break;
		case 'p':
			if (t->view == V_VMS || t->view == V_VCPUS)
				t->view = V_PKVM;
			break;
		case '\t':
			t->hist_idx++;
			break;
		case KEY_LEFT:
		case 27:
		case KEY_BACKSPACE:
			t->view = V_VMS;
			t->sel = 0;
			break;
		case '?':
			if (t->view != V_HELP) {
				t->prev_view = t->view;
				t->view = V_HELP;
			} else {
				t->view = t->prev_view;
			}
			break;
		default:
			break;
		}
	}
	if (dirty)
		redraw(t);
	return false;
}

#endif /* KL_NO_TUI */
