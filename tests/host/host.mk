# SPDX-License-Identifier: GPL-2.0
#
# Host (x86_64) integration tests of kvm-lazytop against a deterministic
# dirty-ring VMM built on the kernel's KVM selftest library.
#
#   make workloads        build $(BUILD)/x86_64/dirty_ring_vm
#   make check-host-int   exact counts, isolation, live view, bad input, probe
#   make check-host-cost  60 s collector CPU/RSS cost run (<= 1% of one core)
#   make check-doc-examples  every command example of README.md and the man
#                         pages, run against the host workload
#                         (tests/host/doc-examples.sh)
#
# Both check targets fail loudly on any missing prerequisite (no skips).
# Extra arguments for the driver: make check-host-int HOST_TESTS="exact probe"

HOST_WORKLOAD := $(BUILD)/x86_64/dirty_ring_vm
HOST_TOOL := $(BUILD)/x86_64/kvm-lazytop
HOST_TEST_OUT := $(BUILD)/x86_64/host-tests
HOST_TESTS ?=

.PHONY: workloads check-host-int check-host-cost check-doc-examples

workloads: $(HOST_WORKLOAD)

# The selftest library is built (and cached by hash) by build-kvmlib.sh; it
# prints its prefix holding the objects and the flags programs must use.
$(HOST_WORKLOAD): $(TOP)/tests/workloads/dirty_ring_vm.c $(TOP)/tests/workloads/build-kvmlib.sh
	@mkdir -p $(@D)
	@kl=$$(CACHE=$(CACHE) $(TOP)/tests/workloads/build-kvmlib.sh x86_64) || exit 1; \
	echo "  CC      $@"; \
	$(CC) -std=gnu11 -Wall -Wextra -Werror -O2 -g $$(cat $$kl/cflags) \
		-c $< -o $@.o && \
	$(CC) -pthread -no-pie -o $@ $@.o $$(cat $$kl/objs) -ldl

check-host-int: tool workloads
	@$(TOP)/tests/host/run-host-tests.sh --tool $(HOST_TOOL) \
		--workload $(HOST_WORKLOAD) --out $(HOST_TEST_OUT) int $(HOST_TESTS)

check-host-cost: tool workloads
	@$(TOP)/tests/host/run-host-tests.sh --tool $(HOST_TOOL) \
		--workload $(HOST_WORKLOAD) --out $(HOST_TEST_OUT) cost

check-doc-examples: tool workloads
	@$(TOP)/tests/host/doc-examples.sh --top $(TOP) --tool $(HOST_TOOL) \
		--workload $(HOST_WORKLOAD) --out $(BUILD)/x86_64/doc-examples
