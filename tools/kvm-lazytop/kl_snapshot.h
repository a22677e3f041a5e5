/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kl_snapshot.h - the ONE JSON writer of the snapshot of SNAPSHOT.md
 * (schema KL_SCHEMA_VERSION): kl_snap_json() (kl_model.h) writes a typed
 * snapshot; kl_snapshot_build() is state -> model -> JSON for the outputs
 * that want JSON (--json, -o ndjson, --listen, the exports).
 */
#ifndef __KL_SNAPSHOT_H
#define __KL_SNAPSHOT_H

#include <json-c/json.h>
#include "kl_state.h"

/* New reference (json_object_put() it), NULL on allocation failure. */
struct json_object *kl_snapshot_build(const struct kl_state *st);

/* {"<signal>": "attached" | "missing" | "refused: <reason>"} */
struct json_object *kl_probes_json(const struct kl_state *st);
/* {"<attached signal>": BPF run count | null}: snapshot "probe_events". */
struct json_object *kl_probe_events_json(const struct kl_state *st);
/* ["<metric>", ...] that cannot be produced with the attached signals. */
struct json_object *kl_unavailable_json(uint32_t attached, const char *arch);
/* One histogram object: unit, count, sum, p50..p999, buckets. */
struct json_object *kl_hist_json(const uint64_t *buckets, uint64_t sum);
/* "attached" / "missing" / "refused: why" for one probe (static or buf). */
const char *kl_probe_text(const struct kl_probe *p, char *buf, size_t len);

/* Double with a fixed number of decimals in the serialized text. */
struct json_object *kl_json_double(double v, int decimals);

#endif
