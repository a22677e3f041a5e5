# SPDX-License-Identifier: GPL-2.0
#
# tests/e2e/e2e.mk - riscv64 QEMU end-to-end helpers (included by the top
# Makefile; kernel/kernel.mk provides the kernel/selftest targets).
#
#   make check-riscv-smoke   boot the base kernel, run a KVM selftest,
#                            assert it passed and dmesg is clean
#   make e2e-run SCENARIO=FILE [E2E_VARIANT=base|patched] [E2E_EXTRA=...]
#                            boot any scenario, results in $(E2E_OUT)
#
# The guest /init and the scenario language: tests/e2e/README.md.

E2E_DIR := $(TOP)/tests/e2e
E2E_VARIANT ?= base
E2E_OUT ?= $(BUILD)/riscv64/e2e/$(basename $(notdir $(SCENARIO)))-$(E2E_VARIANT)
E2E_EXTRA ?=
E2E_TIMEOUT ?= 600
E2E_LIVE ?= --live
SMOKE_TESTS := kvm_create_max_vcpus arch_timer

.PHONY: check-riscv-smoke e2e-run

check-riscv-smoke: deps
	@set -e; k=$$($(KSCRIPTS)/build-kernel.sh base); \
	st=$$($(KSCRIPTS)/build-selftests.sh base $(SMOKE_TESTS)); \
	out=$(BUILD)/riscv64/e2e/smoke; rm -rf $$out; mkdir -p $$out; \
	$(KSCRIPTS)/make-initramfs.sh -o $$out/initramfs.cpio \
		--scenario $(E2E_DIR)/scenarios/smoke.scn $$st=/selftests >/dev/null; \
	$(KSCRIPTS)/run-qemu.sh --kernel $$k --initramfs $$out/initramfs.cpio \
		--results $$out --timeout $(E2E_TIMEOUT) $(E2E_LIVE); \
	$(E2E_DIR)/assert-results.sh $$out --ok kvm_create_max_vcpus --ok arch_timer \
		--count-min kvm_exit 1 --clean-dmesg

e2e-run: deps
	@set -e; k=$$($(KSCRIPTS)/build-kernel.sh $(E2E_VARIANT)); \
	st=$$($(KSCRIPTS)/build-selftests.sh $(E2E_VARIANT)); \
	rm -rf $(E2E_OUT); mkdir -p $(E2E_OUT); \
	$(KSCRIPTS)/make-initramfs.sh -o $(E2E_OUT)/initramfs.cpio \
		--scenario $(SCENARIO) $$st=/selftests $(E2E_EXTRA) >/dev/null; \
	$(KSCRIPTS)/run-qemu.sh --kernel $$k --initramfs $(E2E_OUT)/initramfs.cpio \
		--results $(E2E_OUT) --timeout $(E2E_TIMEOUT) $(E2E_LIVE)

# Host-only: archive writer vs extractor framing checks (no QEMU needed).
.PHONY: check-e2e-archive
check-e2e-archive:
	@$(E2E_DIR)/test-archive.sh
