# SPDX-License-Identifier: GPL-2.0
#
# tests/bpf/bpf-tests.mk - BPF tests on the build host (needs root).
#
#   make check-bpf   production programs load/attach on this kernel, then
#                    the handler logic driven with BPF_PROG_TEST_RUN
#
# Always built for the host arch, against the host skeleton and the host
# static libbpf (bpf/bpf.mk provides the variables).

BPF_TEST_DIR := $(BUILD)/$(BPF_HOST_ARCH)/tests/bpf
# the object with the kl_test_* programs (bpf.mk), same skeleton name
BPF_TEST_SKEL := $(BUILD)/$(BPF_HOST_ARCH)/test/kvm_lazytop.skel.h
BPF_TESTS := $(BPF_TEST_DIR)/test_kl_load $(BPF_TEST_DIR)/test_kl_bpf

BPF_TEST_CC ?= cc
BPF_TEST_CFLAGS = -std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Werror \
	-I$(BUILD)/$(BPF_HOST_ARCH)/test -I$(BUILD)/$(BPF_HOST_ARCH) -I$(TOP)/bpf -I$(TOP)/tests/bpf \
	$(HOST_LIBBPF_CFLAGS) -I$(KSRC)/tools/include/uapi
# bpf.mk: the kernel tree's static libbpf, or the system one (LIBBPF=system)
BPF_TEST_LDLIBS = $(HOST_LIBBPF_LIBS) -lelf -lz -lcmocka

.PHONY: check-bpf bpf-tests
bpf-tests: $(BPF_TESTS)

$(BPF_TEST_DIR)/%: $(TOP)/tests/bpf/%.c $(TOP)/tests/bpf/kl_test_util.h \
		$(BPF_TEST_SKEL) $(TOP)/bpf/kvm_lazytop.h $(TOP)/bpf/kl_hist.h
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(BPF_TEST_CC) $(BPF_TEST_CFLAGS) $< -o $@ $(BPF_TEST_LDLIBS)

check-bpf: $(BPF_TESTS)
	@if [ "$$(id -u)" != 0 ]; then echo "check-bpf: must run as root"; exit 1; fi
	@mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
	@echo "  TEST    bpf production load ($(BPF_HOST_ARCH), $$(uname -r))"
	@$(BPF_TEST_DIR)/test_kl_load
	@echo "  TEST    bpf handler logic (BPF_PROG_TEST_RUN)"
	@$(BPF_TEST_DIR)/test_kl_bpf
