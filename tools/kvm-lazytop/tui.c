// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tui.c - placeholder, replaced below */
#include "tui.h"
int tui_open(struct kl_tui **t) { *t = 0; return -1; }
void tui_update(struct kl_tui *t, struct json_object *snap) { (void)t; (void)snap; }
bool tui_input(struct kl_tui *t) { (void)t; return false; }
void tui_close(struct kl_tui *t) { (void)t; }
