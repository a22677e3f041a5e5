// SPDX-License-Identifier: GPL-2.0
/* fuzz_snapshot.c - libFuzzer target: snapshot reader, then every consumer
 * of a typed snapshot that does not need a terminal (Prometheus text,
 * histogram aggregation, quantiles, comparison). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "kl_model.h"
#include "prom_internal.h"
#include "snapshot_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *const *n;
	struct json_object *s;
	struct kl_snap m;
	char err[256];
	FILE *devnull;
	uint64_t v;

	s = snap_parse((const char *)data, size, err, sizeof(err));
	if (!s)
		return 0;
	if (kl_snap_read(&m, s, err, sizeof(err))) {
		json_object_put(s);
		return 0;
	}
	devnull = fopen("/dev/null", "w");
	if (devnull) {
		struct prom_opts o = { .per_vcpu = false };

		prom_write_snap(devnull, &m, &o);
		o.per_vcpu = o.openmetrics = o.vm_buckets = true;
		prom_write_snap(devnull, &m, &o);
		fclose(devnull);
	}
	for (n = snap_counter_names; *n; n++)
		kl_snap_counter_sum_name(&m, *n, &v);
	for (unsigned int h = 0; h < KL_H_NR; h++) {
		struct snap_hist sh;
		struct snap_cmp c;

		if (kl_snap_hist_sum(&m, h, &sh) > 0) {
			snap_hist_quantile(&sh, 0.5);
			snap_hist_quantile(&sh, 0.999);
			snap_hist_compare(&sh, &sh, &c);
			snap_hist_free(&sh);
		}
	}
	kl_snap_free(&m);
	json_object_put(s);
	return 0;
}
