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

struct kl_snap;

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
 * per_vcpu = --vcpu, vm_buckets = --prom-vm-buckets.  Returns 0, or
 * non-zero on error (then the collector exits 1).
 */
int prom_write(FILE *out, const struct kl_snap *snap, bool per_vcpu, bool vm_buckets);

/*
 * Snapshot provider for the HTTP exporter.  get() returns the latest
 * cumulative (since start) typed snapshot, read-only, held until put()
 * is called with it; or NULL if none is available yet / out of memory
 * (serve 503).  Thread-safe: the collector republishes a new snapshot
 * after every interval and frees an old one when its last holder puts
 * it, so the server may call get() from any thread at any time until
 * http_stop() returns.
 */
typedef const struct kl_snap *(*kl_snapshot_fn)(void *ctx);
typedef void (*kl_snapshot_put_fn)(void *ctx, const struct kl_snap *snap);

struct kl_http;		/* opaque, owned by the exporter */

struct kl_http_opts {
	const char *addr;	/* "ADDR:PORT" from --listen, e.g. ":11940", "0.0.0.0:11940", "[::1]:11940" */
	kl_snapshot_fn snapshot;
	kl_snapshot_put_fn put;	/* releases what snapshot() returned */
	void *ctx;		/* passed back to snapshot() and put() */
	bool per_vcpu;		/* --vcpu: per-vCPU series in /metrics */
	bool vm_buckets;	/* --prom-vm-buckets: every histogram bucket per VM */
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
