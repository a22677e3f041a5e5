/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * commands.h - entry points the collector (main.c) dispatches to but that
 * live in the exporter files (report/diff/gate, Prometheus, HTTP).
 * Every build links all of them (tool.mk): a missing one is a link error.
 *
 * Threading: the collector is single-threaded except for http_serve(),
 * whose server thread(s) call the snapshot callback.
 */
#ifndef __KL_COMMANDS_H
#define __KL_COMMANDS_H

#include <stdbool.h>
#include <stdio.h>

struct json_object;

/*
 * Subcommands: `kvm-lazytop report ...` calls cmd_report(argc, argv) with
 * argv[0] = "report" (same for diff and gate).  Return value = process
 * exit status.  No BPF is loaded and no privilege is needed for these.
 * The text renderer for `report` is render_text() (render.h).
 */
int cmd_report(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_gate(int argc, char **argv);

/*
 * Prometheus text exposition of one snapshot (SNAPSHOT.md).  `-o prom`
 * calls it once at the end of the run with the whole-run snapshot.
 * per_vcpu = --vcpu.  Returns 0, or non-zero on error (then the collector
 * exits 1).
 */
int prom_write(FILE *out, struct json_object *snap, bool per_vcpu);

/*
 * Snapshot provider for the HTTP exporter.  Returns a NEW reference the
 * caller owns (json_object_put() it when done), or NULL if no snapshot is
 * available yet / out of memory (serve 503).  Thread-safe: the collector
 * takes its own mutex and hands out a deep copy of the latest cumulative
 * (since start) snapshot, republished after every interval, so the server
 * may call it from any thread at any time until http_stop() returns.
 */
typedef struct json_object *(*kl_snapshot_fn)(void *ctx);

struct kl_http;		/* opaque, owned by the exporter */

struct kl_http_opts {
	const char *addr;	/* "ADDR:PORT" from --listen, e.g. ":11940", "0.0.0.0:11940", "[::1]:11940" */
	kl_snapshot_fn snapshot;
	void *ctx;		/* passed back to snapshot() */
	bool per_vcpu;		/* --vcpu: per-vCPU series in /metrics */
	int verbose;		/* -v count */
};

/*
 * Start serving in the background (own thread(s), e.g. MHD internal
 * polling thread) and return immediately.  On success returns 0 and sets
 * *srv; on failure prints ONE line "kvm-lazytop: ..." on stderr and
 * returns an exit code (1 runtime error such as bind failure, 2 bad
 * address).
 */
int http_serve(const struct kl_http_opts *opts, struct kl_http **srv);
/* Stop the server and free it; after return snapshot() is never called. NULL ok. */
void http_stop(struct kl_http *srv);

#endif /* __KL_COMMANDS_H */
