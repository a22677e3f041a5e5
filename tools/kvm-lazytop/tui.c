// SPDX-License-Identifier: GPL-2.0-only
/*
 * tui.c - sortable ncurses live view over the per-interval JSON snapshot.
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

void tui_update(struct kl_tui *t, struct json_object *snap)
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
#include <json-c/json.h>

#include "kl_common.h"
#include "render.h"
#include "snap_stats.h"

enum view { V_VMS, V_VCPUS, V_HIST, V_PKVM, V_HELP };

struct kl_tui {
	struct json_object *snap;
	enum view view, prev_view;
	enum kl_col sort;
	int sel;		/* selected row in the VM / vCPU table */
	uint32_t sel_pid;	/* VM the vCPU / histogram views show */
	int hist_idx;		/* histogram shown with buckets in V_HIST */
};

static struct json_object *get(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;

	if (o && json_object_object_get_ex(o, k, &v))
		return v;
	return NULL;
}

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
	json_object_put(t->snap);
	free(t);
}

static struct json_object *find_vm(struct kl_tui *t)
{
	struct json_object *vms = get(t->snap, "vms");

	for (size_t i = 0; vms && i < json_object_array_length(vms); i++) {
		struct json_object *vm = json_object_array_get_idx(vms, i);

		if ((uint32_t)json_object_get_int64(get(vm, "pid")) == t->sel_pid)
			return vm;
	}
	return NULL;
}

static void draw_title(struct kl_tui *t, const char *what)
{
	struct json_object *tg = get(t->snap, "target");
	double d = json_object_get_double(get(t->snap, "duration_ns")) / 1e9;
	char tb[32];
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(tb, sizeof(tb), "%H:%M:%S", &tm);
	attron(A_BOLD);
	mvprintw(0, 0, "%s %s  %s  interval %.2fs  target %s  sort %s  [? help]", KL_TOOL_NAME, what, tb, d,
		 get(tg, "pid") ? json_object_get_string(get(tg, "pid")) :
		 get(tg, "name") ? json_object_get_string(get(tg, "name")) : "all",
		 kl_col_names[t->sort]);
	attroff(A_BOLD);
}

static void draw_footer(struct kl_tui *t)
{
	struct json_object *oh = get(t->snap, "overhead"), *un = get(t->snap, "unavailable");
	struct json_object *drops = get(oh, "drops");
	double ev = json_object_get_double(get(oh, "bpf_events"));
	double rt = json_object_get_double(get(oh, "bpf_run_time_ns"));
	double nd = 0;
	char a[24];
	int y = LINES - 2;

	if (drops) {
		json_object_object_foreach(drops, k, v) {
			(void)k;
			nd += json_object_get_double(v);
		}
	}
	attron(A_REVERSE);
	mvprintw(y, 0, " bpf %s: %.0f ev %s/ev | collector %.2f%% CPU RSS %.0f kB | drops %.0f ",
		 json_object_get_string(get(oh, "bpf_stats")), ev, snap_fmt_ns(ev > 0 ? rt / ev : NAN, a, sizeof(a)),
		 json_object_get_double(get(oh, "collector_cpu_pct")),
		 json_object_get_double(get(oh, "collector_rss_kb")), nd);
	clrtoeol();
	attroff(A_REVERSE);
	move(y + 1, 0);
	if (un && json_object_array_length(un)) {
		size_t n = json_object_array_length(un);

		printw("unavailable (%zu):", n);
		for (size_t i = 0; i < n && getcurx(stdscr) < COLS - 24; i++)
			printw(" %s", json_object_get_string(json_object_array_get_idx(un, i)));
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

static const char *const hist_order[] = {
	"fault_latency_ns", "fault_latency_fast_ns", "fault_latency_slow_ns", "exit_latency_ns",
	"vcpu_load_ns", "kvm_run_ns", "offcpu_ns",
};

/* The title line of a view of the selected VM; false when it is gone. */
static bool vm_title(struct kl_tui *t, struct json_object *vm, const char *view)
{
	if (!vm) {
		mvprintw(2, 2, "VM %u not in this interval", t->sel_pid);
		return false;
	}
	mvprintw(1, 0, "VM %u %s -- %s", t->sel_pid, json_object_get_string(get(vm, "name")),
		 view);
	return true;
}

static void draw_hists(struct kl_tui *t)
{
	struct json_object *vm = find_vm(t), *hs = get(vm, "histograms"), *h = NULL, *bk;
	char a[24], b[24], c[24], d[24];
	double p[SNAP_NPCT];
	int y = 2, nh = 0;
	const char *hname = NULL;
	double maxc = 0;

	if (!vm_title(t, vm, "histograms (Tab: next, Left: back)"))
		return;
	for (size_t i = 0; i < KL_ARRAY_SIZE(hist_order); i++)
		if (get(hs, hist_order[i]))
			nh++;
	if (!nh) {
		mvprintw(3, 2, "no histogram available with the attached signals");
		return;
	}
	t->hist_idx %= nh;
	mvprintw(++y, 2, "%-22s %10s %9s %9s %9s %9s", "histogram", "count", "p50", "p90", "p99", "p99.9");
	for (size_t i = 0, k = 0; i < KL_ARRAY_SIZE(hist_order); i++) {
		struct json_object *x = get(hs, hist_order[i]);

		if (!x)
			continue;
		if ((int)k == t->hist_idx) {
			h = x;
			hname = hist_order[i];
			attron(A_STANDOUT);
		}
		snap_json_pcts(x, p);	/* from the buckets, as report/diff/gate */
		mvprintw(++y, 2, "%-22s %10.0f %9s %9s %9s %9s", hist_order[i],
			 json_object_get_double(get(x, "count")),
			 snap_fmt_ns(p[0], a, sizeof(a)), snap_fmt_ns(p[1], b, sizeof(b)),
			 snap_fmt_ns(p[2], c, sizeof(c)), snap_fmt_ns(p[3], d, sizeof(d)));
		if ((int)k == t->hist_idx)
			attroff(A_STANDOUT);
		k++;
	}
	y += 2;
	bk = get(h, "buckets");
	mvprintw(y++, 2, "%s buckets (le = inclusive upper bound):", hname);
	for (size_t i = 0; bk && i < json_object_array_length(bk); i++) {
		double cnt = json_object_get_double(get(json_object_array_get_idx(bk, i), "count"));

		if (cnt > maxc)
			maxc = cnt;
	}
	for (size_t i = 0; bk && i < json_object_array_length(bk) && y < LINES - 3; i++, y++) {
		struct json_object *e = json_object_array_get_idx(bk, i);
		double cnt = json_object_get_double(get(e, "count"));
		uint64_t le = json_object_get_uint64(get(e, "le"));
		int w = COLS - 34, bar = maxc > 0 ? (int)(w * cnt / maxc) : 0;

		mvprintw(y, 2, "<= %9s %10.0f ", le == UINT64_MAX ? "+Inf" : snap_fmt_ns((double)le, a, sizeof(a)), cnt);
		for (int j = 0; j < bar && j < w; j++)
			addch('#');
	}
}

/* The text view's pKVM state sync table, line by line. */
static void draw_pkvm(struct kl_tui *t)
{
	struct json_object *vm = find_vm(t);
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
	if (!t->snap) {
		mvprintw(0, 0, "%s: waiting for the first interval...", KL_TOOL_NAME);
		refresh();
		return;
	}
	switch (t->view) {
	case V_VMS:
		draw_title(t, "VMs");
		if (!kl_vm_rows(t->snap, &rows, &n)) {
			kl_rows_sort(rows, n, t->sort);
			draw_table(t, rows, n);
			if (n && t->sel < (int)n)
				t->sel_pid = rows[t->sel].pid;
		}
		break;
	case V_VCPUS: {
		struct json_object *vm = find_vm(t);

		draw_title(t, "vCPUs");
		if (vm && !kl_vcpu_rows(t->snap, vm, &rows, &n)) {
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

void tui_update(struct kl_tui *t, struct json_object *snap)
{
	json_object_put(t->snap);
	t->snap = json_object_get(snap);
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
