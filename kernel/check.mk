# SPDX-License-Identifier: GPL-2.0
#
# kernel/check.mk - hygiene of the riscv KVM patch series (included by the
# top Makefile):
#
#   make kernel-check   the series applies to the pristine Debian tree,
#                       checkpatch --strict is clean (CHECKs only if listed
#                       in kernel/patches/riscv/checkpatch-allow.txt), every
#                       prefix builds for riscv64 (bisectable) and W=1 adds
#                       no warning in arch/riscv/kvm/
#
# kernel/scripts/check-series.sh does the work; a pass is cached by the
# hash of its inputs, so an unchanged re-run is instant.  Logs:
# $(CACHE)/logs/kernel-check-*.log.  KERNEL_CHECK_PATCHES=DIR checks
# another series directory.

KERNEL_CHECK_PATCHES ?= $(TOP)/kernel/patches/riscv

.PHONY: kernel-check
kernel-check: deps
	@$(TOP)/kernel/scripts/check-series.sh $(KERNEL_CHECK_PATCHES)
