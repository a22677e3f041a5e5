# SPDX-License-Identifier: GPL-2.0
#
# tests/unit/unit.mk - cmocka unit tests of the collector's pure logic
# (included by tools/kvm-lazytop/tool.mk).  Host build, no BPF skeleton
# needed: the pure sources are compiled again into $(KLU_OUT).
#
#   make check-unit   build and run tests/unit/test_*.c, print a summary

KLU_DIR := $(TOP)/tests/unit
KLU_OUT := $(BUILD)/unit
KLU_TESTS := $(patsubst $(KLU_DIR)/%.c,$(KLU_OUT)/%,$(sort $(wildcard $(KLU_DIR)/test_*.c)))
KLU_PURE_OBJS := $(patsubst %,$(KLU_OUT)/obj/%.o,$(KL_PURE))
KLU_CFLAGS := -std=gnu11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Werror -I$(KL_DIR) -I$(TOP)/bpf \
	$(shell pkg-config --cflags json-c cmocka 2>/dev/null) $(KLU_SAN)
KLU_LDLIBS := $(shell pkg-config --libs json-c cmocka 2>/dev/null || echo -ljson-c -lcmocka) -lm

.PHONY: check-unit
check-unit: $(KLU_TESTS)
	@pass=0; fail=0; failed=; \
	for t in $(KLU_TESTS); do \
		echo "=== $$(basename $$t)"; \
		if $$t; then pass=$$((pass+1)); else fail=$$((fail+1)); failed="$$failed $$(basename $$t)"; fi; \
	done; \
	echo "=== check-unit: $$pass test program(s) passed, $$fail failed$${failed:+:$$failed}"; \
	[ $$fail -eq 0 ]

$(KLU_OUT)/obj/%.o: $(KL_DIR)/%.c
	@mkdir -p $(@D)
	@echo "  CC      unit/obj/$*.o"
	$(Q)gcc $(KLU_CFLAGS) -MMD -MP -c $< -o $@

$(KLU_OUT)/test_%: $(KLU_DIR)/test_%.c $(KLU_PURE_OBJS)
	@mkdir -p $(@D)
	@echo "  CC      unit/test_$*"
	$(Q)gcc $(KLU_CFLAGS) $< $(KLU_PURE_OBJS) $(KLU_LDLIBS) -o $@

.SECONDARY: $(KLU_PURE_OBJS)

-include $(wildcard $(KLU_OUT)/obj/*.d)
