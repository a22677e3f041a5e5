# SPDX-License-Identifier: GPL-2.0
#
# tests/e2e/arm64/arm64.mk - arm64 pKVM end to end (included from the top
# Makefile).  See tests/e2e/arm64/check-arm64.sh.
#
#   make check-arm64       patched kernel only, selftests-quick.list,
#                          verdicts against base-verdicts.txt; dmesg and
#                          kvm_arm_pkvm_state_sync assertions (in make test)
#   make check-arm64-full  base then patched, full selftests.list, with the
#                          base-vs-patched table (not in make test)
#   make check-arm64-nvhe, check-arm64-full-nvhe
#                          the same with pKVM in nVHE mode (id-register
#                          override, see check-arm64.sh; check-arm64-nvhe
#                          is in make test)
#
# ARM64_LAZYTOP=require|off|PATH: kvm-lazytop runs beside the +lazytop
# tests and is asserted on (require, the default: a failed
# `make ARCH=arm64 tool` fails the check), is left out loudly (off), or is
# that prebuilt static binary.  Results go to build/e2e-arm64/{quick,full}/.

ARM64_E2E_OUT := $(BUILD)/e2e-arm64
ARM64_LAZYTOP ?= require
export ARM64_LAZYTOP

.PHONY: check-arm64 check-arm64-full check-arm64-nvhe check-arm64-full-nvhe
check-arm64: deps
	@$(TOP)/tests/e2e/arm64/check-arm64.sh $(ARM64_E2E_OUT)/quick

check-arm64-full: deps
	@$(TOP)/tests/e2e/arm64/check-arm64.sh --full $(ARM64_E2E_OUT)/full

check-arm64-nvhe: deps
	@$(TOP)/tests/e2e/arm64/check-arm64.sh --nvhe $(ARM64_E2E_OUT)/quick-nvhe

check-arm64-full-nvhe: deps
	@$(TOP)/tests/e2e/arm64/check-arm64.sh --full --nvhe $(ARM64_E2E_OUT)/full-nvhe
