# SPDX-License-Identifier: GPL-2.0
#
# tests/unit/unit.mk - cmocka unit tests of the collector's pure logic
# (included by tools/kvm-lazytop/tool.mk).  Host build, no BPF skeleton
# needed: each test links the tool's own objects from $(KL_LIB) (the
# linker takes the ones it uses, never collector.o), so nothing of the
# tool is compiled again here.
#
#   make check-unit   build and run tests/unit/test_*.c and the make demo
#                     summary's tests (tests/e2e/demo/test_lzdemo.py)

KLU_DIR := $(TOP)/tests/unit
KLU_OUT := $(BUILD)/unit
KLU_TESTS := $(patsubst $(KLU_DIR)/%.c,$(KLU_OUT)/%,$(sort $(wildcard $(KLU_DIR)/test_*.c)))
# The test sources themselves: the tool's flags plus cmocka.
KL_TEST_CFLAGS = $(KL_CFLAGS) $(shell pkg-config --cflags cmocka)
KL_TEST_LDLIBS = $(shell pkg-config --libs cmocka) $(KL_LIB_LDLIBS)

.PHONY: check-unit
check-unit: $(KLU_TESTS)
	@pass=0; fail=0; failed=; \
	for t in $(KLU_TESTS); do \
		echo "=== $$(basename $$t)"; \
		if $$t; then pass=$$((pass+1)); else fail=$$((fail+1)); failed="$$failed $$(basename $$t)"; fi; \
	done; \
	echo "=== test_lzdemo.py (make demo summary)"; \
	if python3 $(TOP)/tests/e2e/demo/test_lzdemo.py; then pass=$$((pass+1)); \
	else fail=$$((fail+1)); failed="$$failed test_lzdemo.py"; fi; \
	echo "=== check-unit: $$pass test program(s) passed, $$fail failed$${failed:+:$$failed}"; \
	[ $$fail -eq 0 ]

$(KLU_OUT)/test_%: $(KLU_DIR)/test_%.c $(KL_LIB)
	$(kl_host_only)
	@mkdir -p $(@D)
	@echo "  CC      unit/test_$*"
	$(Q)$(KL_CC) $(KL_TEST_CFLAGS) -MMD -MP $< $(KL_EXTRA_LDFLAGS) $(KL_LIB) $(KL_TEST_LDLIBS) -o $@

-include $(wildcard $(KLU_OUT)/*.d)
