# SPDX-License-Identifier: GPL-2.0
#
# bench/kernel/bench.mk - `make bench-kernel` (included from
# tests/e2e/demo/demo.mk).
#
# riscv64 (default): base vs patched dirty_log_perf_test in interleaved
# QEMU boots; see bench/kernel/run-bench.sh for the knobs (BENCH_BOOTS,
# BENCH_CONFIGS).  Output: build/bench/kernel.md, kernel.json.
#
# ARCH=arm64: base vs patched pKVM exit round trips (HVC, MMIO, IPI) in
# interleaved QEMU TCG boots; see bench/kernel/run-bench-arm64.sh
# (BENCH_BOOTS, BENCH_HVC, BENCH_MMIO, BENCH_IPI).  Output:
# build/bench/kernel-arm64.md, kernel-arm64.json.

.PHONY: bench-kernel bench-reload bench-d1
# D1 fix cost alone (patched vs the series without the D1 fix, D1_BOOTS
# interleaved boots each).  Output: build/bench/d1.md, d1.json.
bench-d1: demo-prereqs
	@$(TOP)/bench/kernel/run-d1-cost.sh $(BUILD)/bench/d1-run
	@cp $(BUILD)/bench/d1-run/d1.md $(BUILD)/bench/d1-run/d1.json $(BUILD)/bench/


# vcpu_load cost per reload reason alone (one patched riscv64 boot, ~5 min):
# RELOAD_REPS, RELOAD_ROUNDS.  Output: build/bench/reload.md, reload.json.
bench-reload: demo-prereqs bench-guest-build
	@$(TOP)/bench/kernel/run-reload.sh $(BUILD)/bench/reload-run
	@mkdir -p $(BUILD)/bench
	@cp $(BUILD)/bench/reload-run/reload.md $(BUILD)/bench/reload-run/reload.json $(BUILD)/bench/

ifeq ($(ARCH),arm64)
bench-kernel: deps
	@mkdir -p $(BUILD)/bench
	@BENCH_BOOTS=$(or $(BENCH_BOOTS),3) $(TOP)/bench/kernel/run-bench-arm64.sh $(BUILD)/bench/kernel-arm64-run
	@cp $(BUILD)/bench/kernel-arm64-run/kernel-arm64.md $(BUILD)/bench/kernel-arm64-run/kernel-arm64.json $(BUILD)/bench/
	@echo "  BENCH    $(BUILD)/bench/kernel-arm64.md $(BUILD)/bench/kernel-arm64.json"
else
bench-kernel: demo-prereqs bench-guest-build
	@mkdir -p $(BUILD)/bench
	@BENCH_BOOTS=$(or $(BENCH_BOOTS),3) $(TOP)/bench/kernel/run-bench.sh $(BUILD)/bench/kernel-run
	@cp $(BUILD)/bench/kernel-run/kernel.md $(BUILD)/bench/kernel-run/kernel.json $(BUILD)/bench/
	@echo "  BENCH    $(BUILD)/bench/kernel.md $(BUILD)/bench/kernel.json"
endif
