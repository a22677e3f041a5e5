# SPDX-License-Identifier: GPL-2.0
#
# tests/e2e/selftests/selftests.mk - riscv64 KVM selftests in QEMU
# (included by the top Makefile):
#
#   make check-riscv-selftests   suite.list on the patched DEBUG kernel
#                                (lockdep etc., dmesg must stay clean,
#                                tracefs counts of the lazy-state
#                                tracepoints) and, minus the series' new
#                                tests, on the base kernel
#   make check-e2e-analyze       host-only: analyze.py's expect-fail mode
#                                accepts only the expected failure
#
# That the series' new tests catch what its fixes fix: make
# check-kernel-mutants (kernel/mutants/README.md).
#
# Results: $(BUILD)/riscv64/selftests/{patched-debug,base}/,
# table and counts in $(BUILD)/riscv64/selftests/summary.txt.

SELFTESTS_DIR := $(TOP)/tests/e2e/selftests

.PHONY: check-riscv-selftests check-e2e-analyze
check-riscv-selftests: deps
	@SELFTESTS_OUT=$(BUILD)/riscv64/selftests $(SELFTESTS_DIR)/run-suite.sh selftests

check-e2e-analyze:
	@$(SELFTESTS_DIR)/test-analyze.sh
