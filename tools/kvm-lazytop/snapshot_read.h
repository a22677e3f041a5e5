/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * snapshot_read.h - reading kvm-lazytop JSON snapshots (SNAPSHOT.md).
 *
 * The type checks of the JSON reader (kl_snap_read.c: report, diff,
 * gate, the HTML report) and the tree access of the Prometheus
 * exposition; the statistics over the histograms read here are in
 * snap_stats.h.  Everything here is read-only over a json-c tree; nothing
 * depends on the collector or on BPF, so it builds on any architecture.
 */
#ifndef KL_SNAPSHOT_READ_H
#define KL_SNAPSHOT_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "snap_stats.h"

struct json_object;

/* The only snapshot MAJOR version this reader understands. */
#define SNAP_SCHEMA_MAJOR	1

/* Largest snapshot file the reader accepts (bytes). */
#define SNAP_MAX_FILE_SIZE	(256u << 20)

/*
 * Parse a snapshot from memory / a file and validate it (snap_validate).
 * On error returns NULL and writes a one-line message (no trailing
 * newline) into err: "PATH: expected X, got Y" for a value of the wrong
 * type or range (snap_load prefixes "FILE: ").  A tree these return is
 * safe for every reader below and for kl_snap_read() (kl_model.h), which
 * turns it into the typed snapshot report, diff, gate and HTML render.
 */
struct json_object *snap_parse(const char *buf, size_t len, char *err,
			       size_t errlen);
struct json_object *snap_load(const char *path, char *err, size_t errlen);

/*
 * The envelope (top-level object, "schema_version" "MAJOR.MINOR" with
 * MAJOR == SNAP_SCHEMA_MAJOR, "vms" an array), then the whole tree against snapshot.schema.json: every
 * member that is present has its documented type and range (counters
 * non-negative integers, shares in [0, 1], finite non-negative numbers,
 * vcpu_id in [-1, INT32_MAX], pid/tid in [1, UINT32_MAX]); histograms
 * have count, sum and buckets ascending by le whose counts add up to
 * count.  Members may be absent (readers show them as not measured).
 * 0 ok; -1 with err = "PATH: expected X, got Y", e.g.
 * "vms[0].reasons.userspace_exit: expected object, got array".
 */
int snap_validate(struct json_object *snap, char *err, size_t errlen);

/* Typed getters; false when missing or of the wrong JSON type. */
bool snap_get_u64(struct json_object *obj, const char *key, uint64_t *out);
bool snap_get_num(struct json_object *obj, const char *key, double *out);
const char *snap_get_str(struct json_object *obj, const char *key);
struct json_object *snap_get_obj(struct json_object *obj, const char *key);
struct json_object *snap_get_arr(struct json_object *obj, const char *key);
bool snap_get_bool(struct json_object *obj, const char *key, bool *out);
/* Number member / value (integer or double); NAN when absent or not a number. */
double snap_num(struct json_object *obj, const char *key);
/* Non-negative JSON integer (json-c keeps values > INT64_MAX as uint64). */
bool snap_json_u64(struct json_object *v, uint64_t *out);

/* 0 ok; -1 (err set) when malformed (unsorted, counts don't add up...). */
int snap_hist_parse(struct json_object *h, struct snap_hist *out, char *err,
		    size_t errlen);
/* Counter families: the per-reason groups of SNAPSHOT.md. */
struct snap_family {
	const char *name;	/* e.g. "vcpu_load" */
	const char *prefix;	/* e.g. "vcpu_load_" */
	const char *const *members;	/* NULL terminated, full names */
	const char *const *fast;	/* members counted as "fast path" */
};
extern const struct snap_family snap_families[];
extern const size_t snap_nfamilies;
const struct snap_family *snap_family_of(const char *counter);
/* The family called name ("gstage_fault", ...), NULL if none. */
const struct snap_family *snap_family_named(const char *name);
/* Is member counted as the family's fast path (PATH FAST in the table)? */
bool snap_family_is_fast(const struct snap_family *f, const char *member);

/* Known counter and histogram names of schema 1.x (NULL terminated). */
extern const char *const snap_counter_names[];
extern const char *const snap_hist_names[];
bool snap_known_counter(const char *name);
bool snap_known_hist(const char *name);

#endif /* KL_SNAPSHOT_READ_H */
