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
#   make check-riscv-seed-only   the series' new tests on the seed-only
#                                kernel, where they must FAIL
#
# Results: $(BUILD)/riscv64/selftests/{patched-debug,base,seed-only}/,
# table and counts in $(BUILD)/riscv64/selftests/summary.txt.

SELFTESTS_DIR := $(TOP)/tests/e2e/selftests

.PHONY: check-riscv-selftests check-riscv-seed-only
check-riscv-selftests: deps
	@SELFTESTS_OUT=$(BUILD)/riscv64/selftests $(SELFTESTS_DIR)/run-suite.sh selftests

check-riscv-seed-only: deps
	@SELFTESTS_OUT=$(BUILD)/riscv64/selftests $(SELFTESTS_DIR)/run-suite.sh seed-only
