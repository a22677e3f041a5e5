# SPDX-License-Identifier: GPL-2.0
#
# bench/bench.mk - kvm-lazytop overhead benchmark (issue 6), see bench/README.md.
#
#   make bench-tool        full run (<= 15 min): BPF ns/event vs empty floor vs
#                          bpftrace, workload slowdown (4 interleaved arms, 6 runs
#                          each), collector CPU/RSS (60 s, ncurses + --listen),
#                          scale curve 1..4096 VMs x 64 vCPUs, percentile precision.
#                          -> terminal table, build/bench/tool.json, build/bench/tool.md
#   make bench-tool-quick  same pipeline, 1-2 runs per arm, short durations (< 3 min);
#                          only checks that build/bench/tool.json is well-formed.
#
# Every figure is a ratio between arms measured side by side, interleaved,
# in ONE invocation (other work on the host makes absolute times meaningless).

BENCH_DIR := $(TOP)/bench
BENCH_OUT := $(BUILD)/bench
BENCH_BIN := $(BENCH_OUT)/kl-bench
BENCH_TRACE_OBJ := $(BENCH_OUT)/kl_trace.bpf.o
BENCH_TRACE_SKEL := $(BENCH_OUT)/kl_trace.skel.h
# the collector's own objects (tools/kvm-lazytop/tool.mk), linked into kl-bench
BENCH_KL_OBJS := $(addprefix $(BUILD)/$(BPF_HOST_ARCH)/kvm-lazytop.obj/,collector.o libkvm-lazytop.a)
BENCH_CFLAGS = -std=gnu11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror \
	-I$(BENCH_OUT) -I$(BUILD)/$(BPF_HOST_ARCH) -I$(TOP)/tools/kvm-lazytop -I$(TOP)/bpf \
	-I$(HOST_LIBBPF_PREFIX)/include $(shell pkg-config --cflags json-c)
BENCH_LIBBPF_A = $(firstword $(wildcard $(HOST_LIBBPF_PREFIX)/lib/libbpf.a \
	$(HOST_LIBBPF_PREFIX)/lib64/libbpf.a) $(HOST_LIBBPF_PREFIX)/lib/libbpf.a)
BENCH_LDLIBS = $(BENCH_LIBBPF_A) -lelf -lz $(KL_LIB_LDLIBS)

.PHONY: bench-tool bench-tool-quick bench-build

$(BENCH_TRACE_OBJ): $(BENCH_DIR)/kl_trace.bpf.c $(TOP)/bpf/kl_core.h
	$(bpf_check_prefix)
	@mkdir -p $(@D)
	@echo "  BPF     $(@:$(BUILD)/%=%)"
	$(Q)$(BPF_CLANG) $(call bpf_cflags,$(BPF_HOST_ARCH)) -c $< -o $@.tmp && mv $@.tmp $@

$(BENCH_TRACE_SKEL): $(BENCH_TRACE_OBJ)
	@echo "  SKEL    $(@:$(BUILD)/%=%)"
	$(Q)$(BPFTOOL) gen skeleton $< name kl_trace_bpf > $@.tmp && mv $@.tmp $@

# ARCH must be the host arch: the benchmark runs here.
$(BENCH_BIN): $(BENCH_DIR)/kl_bench.c $(BENCH_TRACE_SKEL) $(BUILD)/$(BPF_HOST_ARCH)/kl_empty.skel.h \
		$(BUILD)/$(BPF_HOST_ARCH)/kvm_lazytop.skel.h $(BENCH_KL_OBJS)
	@echo "  CC      $(@:$(BUILD)/%=%)"
	$(Q)$(CC) $(BENCH_CFLAGS) $< $(BENCH_KL_OBJS) $(BENCH_LDLIBS) -o $@

# The guest half (parts 1b/2b, bench/run-bench-guest.sh) runs kl-bench
# inside the riscv64 QEMU guest: the same source, cross-built static like
# `make ARCH=riscv64 tool` (its KL_CC/KL_CFLAGS/KL_LDLIBS and objects), so
# it is built by a sub-make with ARCH=riscv64.
BENCH_GUEST_ARCH := riscv64
BENCH_GUEST_BIN := $(BUILD)/$(BENCH_GUEST_ARCH)/kl-bench
ifeq ($(ARCH),$(BENCH_GUEST_ARCH))
BENCH_X_OUT := $(BUILD)/$(ARCH)/bench
BENCH_X_KL_OBJS := $(KL_OUT)/collector.o $(KL_LIB)

$(BENCH_X_OUT)/kl_trace.bpf.o: $(BENCH_DIR)/kl_trace.bpf.c $(TOP)/bpf/kl_core.h
	$(bpf_check_prefix)
	@mkdir -p $(@D)
	@echo "  BPF     $(@:$(BUILD)/%=%)"
	$(Q)$(BPF_CLANG) $(call bpf_cflags,$(ARCH)) -c $< -o $@.tmp && mv $@.tmp $@

$(BENCH_X_OUT)/kl_trace.skel.h: $(BENCH_X_OUT)/kl_trace.bpf.o
	@echo "  SKEL    $(@:$(BUILD)/%=%)"
	$(Q)$(BPFTOOL) gen skeleton $< name kl_trace_bpf > $@.tmp && mv $@.tmp $@

$(BENCH_GUEST_BIN): $(BENCH_DIR)/kl_bench.c $(BENCH_X_OUT)/kl_trace.skel.h $(BPF_EMPTY_SKEL) $(BPF_SKEL) \
		$(BENCH_X_KL_OBJS)
	@echo "  CC      $(@:$(BUILD)/%=%)"
	$(Q)$(KL_CC) $(KL_CFLAGS) -I$(BUILD)/$(ARCH) $(KL_LIBBPF_CFLAGS) -I$(BENCH_X_OUT) $< $(BENCH_X_KL_OBJS) $(KL_LDFLAGS) $(KL_LDLIBS) -o $@

.PHONY: bench-guest-tools
bench-guest-tools: $(KL_BIN) $(BENCH_GUEST_BIN)
endif

# riscv64 kvm-lazytop + kl-bench, kernel, workloads for the guest half
.PHONY: bench-guest-build
bench-guest-build: deps
	@$(MAKE) --no-print-directory -s ARCH=$(BENCH_GUEST_ARCH) bench-guest-tools \
		>$(CACHE)/logs/bench-guest-tools.log 2>&1 || \
		{ tail -n 20 $(CACHE)/logs/bench-guest-tools.log; \
		  echo "bench: riscv64 kvm-lazytop/kl-bench build failed (log: $(CACHE)/logs/bench-guest-tools.log)"; exit 1; }

bench-build: tool workloads $(BENCH_BIN) bench-guest-build

# Collector interval and map memory with 2 and 64 possible CPUs (two
# riscv64 boots; bench/run-bench-cpus.sh).  Output: build/bench/cpus.md.
.PHONY: bench-cpus
bench-cpus: deps bench-guest-build
	@$(KSCRIPTS)/build-kernel.sh patched >/dev/null
	@mkdir -p $(BUILD)/bench
	@set -o pipefail; $(BENCH_DIR)/run-bench-cpus.sh $(BUILD)/bench/cpus-run | tee $(BUILD)/bench/cpus.md

bench-tool: deps bench-build
	@$(BENCH_DIR)/run-bench-tool.sh --full --top $(TOP) --out $(BENCH_OUT) \
		--tool $(KL_BIN) --workload $(HOST_WORKLOAD) --kl-bench $(BENCH_BIN) \
		--guest-tool $(BUILD)/$(BENCH_GUEST_ARCH)/kvm-lazytop --guest-kl-bench $(BENCH_GUEST_BIN)

bench-tool-quick: deps bench-build
	@$(BENCH_DIR)/run-bench-tool.sh --quick --top $(TOP) --out $(BENCH_OUT) \
		--tool $(KL_BIN) --workload $(HOST_WORKLOAD) --kl-bench $(BENCH_BIN) \
		--guest-tool $(BUILD)/$(BENCH_GUEST_ARCH)/kvm-lazytop --guest-kl-bench $(BENCH_GUEST_BIN)
