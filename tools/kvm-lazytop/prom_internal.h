/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * prom_internal.h - Prometheus/OpenMetrics exposition (prom.c) and the
 * /metrics HTTP exporter (http.c), for the collector and the tests.
 */
#ifndef KL_PROM_INTERNAL_H
#define KL_PROM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct kl_snap;

struct prom_opts {
	bool per_vcpu;		/* a vcpu label on the per-vCPU counters */
	bool openmetrics;	/* OpenMetrics 1.0.0 (else text 0.0.4) */
	bool process;		/* live process_* metrics of this process */
	bool vm_buckets;	/* every histogram bucket per VM (--prom-vm-buckets) */
};
/*
 * The exposition of one typed snapshot (kl_model.h): Prometheus text
 * 0.0.4 (node_exporter textfile), or OpenMetrics 1.0 text when
 * o->openmetrics (ends with "# EOF").  0 ok, -1 write error.
 */
int prom_write_snap(FILE *out, const struct kl_snap *s, const struct prom_opts *o);
/* Whether an HTTP Accept header prefers OpenMetrics 1.0.0 (see prom.c). */
bool prom_accept_openmetrics(const char *accept);
/* n ns as an exact decimal number of seconds. */
void prom_fmt_ns_seconds(uint64_t ns, char *buf, size_t len);
/* The exported histogram bounds (integer ns, inclusive), ascending:
 * 2^p - 1 for p = 8..35 (28 bounds). */
size_t prom_bucket_bounds(uint64_t *b, size_t max);

#endif /* KL_PROM_INTERNAL_H */
