// SPDX-License-Identifier: GPL-2.0
/* fuzz_snapshot.c - libFuzzer target: snapshot reader, then every consumer
 * of a parsed snapshot that does not need a terminal (Prometheus text,
 * histogram aggregation, quantiles, comparison). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "prom_internal.h"
#include "snapshot_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *const *n;
	struct json_object *s;
	char err[256];
	FILE *devnull;
	uint64_t v;

	s = snap_parse((const char *)data, size, err, sizeof(err));
	if (!s)
		return 0;
	devnull = fopen("/dev/null", "w");
	if (devnull) {
		prom_write_fmt(devnull, s, false, false);
		prom_write_fmt(devnull, s, true, true);
		fclose(devnull);
	}
	for (n = snap_counter_names; *n; n++)
		snap_counter_sum(s, *n, &v);
	for (n = snap_hist_names; *n; n++) {
		struct snap_hist h;
		struct snap_cmp c;

		if (snap_hist_sum(s, *n, &h, err, sizeof(err)) > 0) {
			snap_hist_quantile(&h, 0.5);
			snap_hist_quantile(&h, 0.999);
			snap_hist_compare(&h, &h, &c);
			snap_hist_free(&h);
		}
	}
	json_object_put(s);
	return 0;
}
