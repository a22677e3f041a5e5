# SPDX-License-Identifier: GPL-2.0
#
# bench/kernel/bench.mk - `make bench-kernel` (included from
# tests/e2e/demo/demo.mk).  Base vs patched dirty_log_perf_test in
# interleaved QEMU boots; see bench/kernel/run-bench.sh for the knobs
# (BENCH_BOOTS, BENCH_CONFIGS).  Output: build/bench/kernel.md, kernel.json.

.PHONY: bench-kernel
bench-kernel: demo-prereqs
	@mkdir -p $(BUILD)/bench
	@BENCH_BOOTS=$(or $(BENCH_BOOTS),3) $(TOP)/bench/kernel/run-bench.sh $(BUILD)/bench/kernel-run
	@cp $(BUILD)/bench/kernel-run/kernel.md $(BUILD)/bench/kernel-run/kernel.json $(BUILD)/bench/
	@echo "  BENCH    $(BUILD)/bench/kernel.md $(BUILD)/bench/kernel.json"
