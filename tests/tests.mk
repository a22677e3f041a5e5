# SPDX-License-Identifier: GPL-2.0
#
# Umbrella test targets.  `make test` is what CI runs: every check, with
# nothing skipped; a missing prerequisite fails the run.
#
#   check-host   unit, licence, build graph, BPF (BPF_PROG_TEST_RUN),
#                host integration, exports, packaging (install, service,
#                LIBBPF=system, CI example) and every command example of
#                the README and man pages
#   check-riscv  riscv64 QEMU: kernel selftests + kvm-lazytop end to end
#   check-arm64  arm64 QEMU, pKVM: patched-kernel selftests vs the recorded
#                base verdicts (tests/e2e/arm64/arm64.mk)
#   check-kernel-mutants-quick  kernel/mutants/quick.list: a fix removed
#                must be caught by its test (kernel/mutants/mutants.mk)
#   test         deps + check-host + check-riscv + check-arm64 + quick
#                mutants + bench smoke
#
# `make kernel-check` (series hygiene: checkpatch, every prefix builds, W=1)
# is separate: its bisect builds alone would push a cold CI run past its
# 90 minutes.

.PHONY: test check-host check-riscv

check-host: deps
	@$(MAKE) --no-print-directory check-unit
	@$(MAKE) --no-print-directory check-licence
	@$(MAKE) --no-print-directory check-build
	@$(MAKE) --no-print-directory check-bpf
	@$(MAKE) --no-print-directory check-host-int
	@$(MAKE) --no-print-directory check-exports
	@$(MAKE) --no-print-directory check-packaging
	@$(MAKE) --no-print-directory check-doc-examples
	@$(MAKE) --no-print-directory check-host-cost

check-riscv: deps
	@$(MAKE) --no-print-directory check-e2e-archive
	@$(MAKE) --no-print-directory check-e2e-analyze
	@$(MAKE) --no-print-directory check-riscv-selftests
	@$(MAKE) --no-print-directory check-riscv-e2e

# The kernel and cross builds of the QEMU checks start in the background
# (tests/prefetch.sh) while check-host runs, and go on beside the QEMU
# checks, which find them in the cache, wait on the build's lock, or build
# them themselves if a prefetch step failed.
test: deps
	@start=$$(date +%s); fails=0; mkdir -p $(BUILD); \
	$(TOP)/tests/prefetch.sh $(BUILD)/prefetch.log & pf=$$!; \
	for t in check-host check-riscv check-arm64 check-arm64-nvhe check-kernel-mutants-quick \
		bench-tool-quick; do \
		echo "=== make $$t"; \
		if $(MAKE) --no-print-directory $$t; then echo "=== $$t: PASS"; \
		else echo "=== $$t: FAIL"; fails=$$((fails+1)); fi; \
	done; \
	wait $$pf; cat $(BUILD)/prefetch.log; \
	echo "=== make test: $$((6-fails)) passed, $$fails failed ($$(( $$(date +%s)-start ))s)"; \
	[ $$fails -eq 0 ]
