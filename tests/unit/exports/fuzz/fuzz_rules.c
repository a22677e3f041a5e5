// SPDX-License-Identifier: GPL-2.0
/* fuzz_rules.c - libFuzzer target: gate rule parser, then evaluation of
 * every parsed rule against a fixed small snapshot (with itself as the
 * baseline), so the evaluator sees arbitrary rules too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "gate.h"
#include "kl_model.h"

static const char snapshot[] =
	"{\"schema_version\":\"1.0\",\"unavailable\":[\"vcpu_load_ns\"],"
	"\"overhead\":{\"collector_cpu_pct\":0.5,\"drops\":{\"clock_skew\":0}},"
	"\"vms\":[{\"pid\":1,\"counters\":{\"dirty_pages\":10,\"kvm_runs\":3,"
	"\"vcpu_load_fast\":5,\"vcpu_load_first_load\":1,\"vcpu_load_other_pcpu\":0,"
	"\"vcpu_load_csr_dirty\":0,\"vcpu_load_cpu_reset\":0,\"vcpu_load_other_vcpu\":1},"
	"\"reasons\":{\"exit\":{\"X\":2}},\"prediction\":{\"agreement\":0.5,\"loads_compared\":4},"
	"\"histograms\":{\"exit_latency_ns\":{\"count\":3,\"sum\":3000,\"buckets\":["
	"{\"le\":1023,\"count\":2},{\"le\":18446744073709551615,\"count\":1}]}}}]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kl_snap snap;
	static bool loaded;
	struct gate_rules rules;
	char err[256];
	size_t i;

	if (!loaded) {
		struct json_object *tree = snap_parse(snapshot, sizeof(snapshot) - 1, err, sizeof(err));

		if (!tree || kl_snap_read(&snap, tree, err, sizeof(err)))
			abort();
		json_object_put(tree);
		loaded = true;
	}
	if (gate_parse((const char *)data, size, &rules, err, sizeof(err)))
		return 0;
	for (i = 0; i < rules.n; i++) {
		struct gate_result res;

		gate_eval(&rules.r[i], &snap, &snap, &res);
	}
	gate_rules_free(&rules);
	return 0;
}
