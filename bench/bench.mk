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
BENCH_KL_OBJS := $(addprefix $(BUILD)/$(BPF_HOST_ARCH)/kvm-lazytop.obj/,\
	collector.o kl_state.o kl_snapshot.o kl_stats.o kl_names.o kl_proc.o render_text.o)
BENCH_CFLAGS = -std=gnu11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror \
	-I$(BENCH_OUT) -I$(BUILD)/$(BPF_HOST_ARCH) -I$(TOP)/tools/kvm-lazytop -I$(TOP)/bpf \
	-I$(HOST_LIBBPF_PREFIX)/include $(shell pkg-config --cflags json-c)
BENCH_LIBBPF_A = $(firstword $(wildcard $(HOST_LIBBPF_PREFIX)/lib/libbpf.a \
	$(HOST_LIBBPF_PREFIX)/lib64/libbpf.a) $(HOST_LIBBPF_PREFIX)/lib/libbpf.a)
BENCH_LDLIBS = $(BENCH_LIBBPF_A) -lelf -lz $(shell pkg-config --libs json-c) -lm

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

bench-build: tool workloads $(BENCH_BIN)

bench-tool: deps bench-build
	@$(BENCH_DIR)/run-bench-tool.sh --full --top $(TOP) --out $(BENCH_OUT) \
		--tool $(KL_BIN) --workload $(HOST_WORKLOAD) --kl-bench $(BENCH_BIN)

bench-tool-quick: deps bench-build
	@$(BENCH_DIR)/run-bench-tool.sh --quick --top $(TOP) --out $(BENCH_OUT) \
		--tool $(KL_BIN) --workload $(HOST_WORKLOAD) --kl-bench $(BENCH_BIN)
