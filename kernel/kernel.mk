# SPDX-License-Identifier: GPL-2.0
#
# kernel/kernel.mk - riscv64 kernels, KVM selftests and initramfs helpers
# (included by the top Makefile).  Everything heavy is cached under
# $(CACHE) by the scripts; the targets below always run the script (a
# cache hit costs a hash) and leave a symlink to the result under
# $(BUILD)/riscv64/:
#
#   make kernel              kernel-base + kernel-patched (riscv64 Image)
#   make kernel-debug        patched + kernel/configs/riscv64-debug.config
#   make selftests-riscv     static KVM selftests for base and patched
#   make initramfs SCENARIO=FILE [INITRAMFS_EXTRA="a b=/dst"]
#                            -> $(BUILD)/riscv64/initramfs.cpio
#   make kernel-check-build  config-only sanity check of both variants
#
# Scripts print one line per stage; logs are in $(CACHE)/logs/.

KSCRIPTS := $(TOP)/kernel/scripts
KOUT := $(BUILD)/riscv64
SCENARIO ?= $(TOP)/tests/e2e/scenarios/smoke.scn
INITRAMFS_EXTRA ?=

.PHONY: kernel kernel-base kernel-patched kernel-debug selftests-riscv \
	selftests-riscv-base selftests-riscv-patched initramfs kernel-check-build

# link NAME to the directory a script printed
define kernel_link
	@mkdir -p $(KOUT)
	@d=$$($(1)) && ln -sfn "$$d" $(KOUT)/$(2) && echo "  LINK     $(KOUT)/$(2) -> $$d"
endef

kernel: kernel-base kernel-patched

kernel-base: deps
	$(call kernel_link,$(KSCRIPTS)/build-kernel.sh base,kernel-base)

kernel-patched: deps
	$(call kernel_link,$(KSCRIPTS)/build-kernel.sh patched,kernel-patched)

kernel-debug: deps
	$(call kernel_link,$(KSCRIPTS)/build-kernel.sh patched --debug,kernel-patched-debug)

selftests-riscv: selftests-riscv-base selftests-riscv-patched

selftests-riscv-base: deps
	$(call kernel_link,$(KSCRIPTS)/build-selftests.sh base,selftests-base)

selftests-riscv-patched: deps
	$(call kernel_link,$(KSCRIPTS)/build-selftests.sh patched,selftests-patched)

initramfs: deps
	@$(KSCRIPTS)/make-initramfs.sh -o $(KOUT)/initramfs.cpio \
		--scenario $(SCENARIO) $(INITRAMFS_EXTRA) >/dev/null
	@echo "  CPIO     $(KOUT)/initramfs.cpio"

# Fast sanity check: the series applies and every required config option
# survives olddefconfig, without compiling (prepare-source + config only).
kernel-check-build: deps
	@KBUILD_CONFIG_ONLY=1 $(KSCRIPTS)/build-kernel.sh base >/dev/null
	@KBUILD_CONFIG_ONLY=1 $(KSCRIPTS)/build-kernel.sh patched >/dev/null
	@KBUILD_CONFIG_ONLY=1 $(KSCRIPTS)/build-kernel.sh patched --debug >/dev/null
