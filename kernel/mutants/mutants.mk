# SPDX-License-Identifier: GPL-2.0
#
# kernel/mutants/mutants.mk - mutation tests of the kernel series (included
# by the top Makefile); see kernel/mutants/README.md.
#
#   make check-kernel-mutants        every mutant of kernel/mutants/*/,
#                                    each in its own QEMU boot, plus one
#                                    control boot per architecture
#   make check-kernel-mutants MUTANTS="riscv/02-h1-csr-cpu ..."
#                                    only those
#   make check-kernel-mutants-quick  kernel/mutants/quick.list (make test)
#
# Table: $(BUILD)/mutants/{all,quick}/table.txt.  Kernels and caught
# verdicts are cached by hash under $(CACHE): an unchanged re-run boots
# nothing (MUTANTS_NOCACHE=1 boots again).

MUTANTS ?=

.PHONY: check-kernel-mutants check-kernel-mutants-quick
check-kernel-mutants: deps
	@$(TOP)/kernel/scripts/mutants.sh --out $(BUILD)/mutants/all $(MUTANTS)

check-kernel-mutants-quick: deps
	@$(TOP)/kernel/scripts/mutants.sh --quick --out $(BUILD)/mutants/quick
