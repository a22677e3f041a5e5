/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tui.h - sortable ncurses live view, fed the per-interval typed snapshot
 * (kl_model.h; no JSON on the way).
 * Built without ncurses (-DKL_NO_TUI, e.g. the static riscv64 binary)
 * tui_open() fails and the collector prints plain text instead.
 */
#ifndef __KL_TUI_H
#define __KL_TUI_H

#include <stdbool.h>

struct kl_snap;
struct kl_tui;

/* 0 and *t on success, -1 if no terminal UI is available. */
int tui_open(struct kl_tui **t);
/* Show a new interval snapshot: takes its contents over (snap is left empty). */
void tui_update(struct kl_tui *t, struct kl_snap *snap);
/* Process pending keys; returns true when the user asked to quit. */
bool tui_input(struct kl_tui *t);
void tui_close(struct kl_tui *t);

#endif
