# SPDX-License-Identifier: GPL-2.0
#
# tools/kvm-lazytop/tool.mk - the userspace collector (included by the top
# Makefile after bpf/bpf.mk, which provides BPF_SKEL and LIBBPF_PREFIX).
#
#   make tool                 build/$(ARCH)/kvm-lazytop (host: dynamic
#                             json-c/ncursesw/libcap, static libbpf)
#   make ARCH=riscv64 tool    static riscv64 binary, plain-text view only
#   make ARCH=arm64 tool      the same for aarch64 (build/arm64/kvm-lazytop)
#                             (json-c, libcap, libmicrohttpd from
#                             tools/deps/build-cross-userlibs.sh; zlib and
#                             libelf from tools/deps/build-cross-libs.sh)
#   make check-unit           cmocka unit tests (tests/unit/unit.mk)
#   make check-licence        SPDX lines of the tool, COPYING, LICENSES/ and
#                             the BPF objects' licence strings agree
#                             (tests/licence/check-licence.sh)
#   make check-build          each source compiled once, only collector.o
#                             depends on the skeleton, no weak fallbacks,
#                             no grepped dependencies (tests/build/check-build.sh)
#
# Every tools/kvm-lazytop/*.c is compiled exactly once, with the flags
# below, into $(KL_OUT); a source file added later is picked up by the
# wildcard.  The tool links every object.  Every object but main.o and
# collector.o (the BPF side) also goes into the archive $(KL_LIB), which
# the unit tests (tests/unit/unit.mk), the exports tests
# (dashboards/dashboards.mk) and kl-bench (bench/bench.mk, with
# collector.o) link: the linker takes from it the objects a test needs,
# so each test runs the very code the tool runs, and no test but kl-bench
# waits for the BPF skeleton.  Only the libFuzzer targets compile sources
# again (they need -fsanitize=fuzzer instrumentation, see dashboards.mk).
#
# Library dependencies are stated here, per object:
#   collector.o   the BPF skeleton (its only user) and libbpf (+ libelf, zlib)
#   http.o        libmicrohttpd (host: headers only, dlopen()ed at --listen)
#   prom_caps.o   libcap
#   tui.o         ncursesw (host; the static cross builds define KL_NO_TUI)
#   everything    json-c, libm, libpthread

KL_DIR := $(TOP)/tools/kvm-lazytop
KL_OUT := $(BUILD)/$(ARCH)/kvm-lazytop.obj
KL_BIN := $(BUILD)/$(ARCH)/kvm-lazytop
KL_LIB := $(KL_OUT)/libkvm-lazytop.a
KL_SRCS := $(sort $(wildcard $(KL_DIR)/*.c))
KL_OBJS := $(patsubst $(KL_DIR)/%.c,$(KL_OUT)/%.o,$(KL_SRCS))
KL_LIB_OBJS := $(filter-out $(KL_OUT)/main.o $(KL_OUT)/collector.o,$(KL_OBJS))

KL_WARN := -Wall -Wextra -Werror
# KL_EXTRA_CFLAGS / KL_EXTRA_LDFLAGS: e.g. -fsanitize=address,undefined
# (they apply to the tool's objects and to the tests linking them alike)
KL_BASE_CFLAGS = -std=gnu11 -D_GNU_SOURCE -O2 -g $(KL_WARN) -I$(KL_DIR) -I$(TOP)/bpf $(KL_EXTRA_CFLAGS)
# libbpf installs into lib/ or lib64/ depending on the host convention.
kl_libbpf_a = $(firstword $(wildcard $(LIBBPF_PREFIX)/lib/libbpf.a $(LIBBPF_PREFIX)/lib64/libbpf.a) \
		$(LIBBPF_PREFIX)/lib/libbpf.a)

ifeq ($(ARCH),$(HOST_ARCH))
KL_CC ?= gcc
# libmicrohttpd is dlopen()ed by http.c for --listen only (not resident during the BPF load)
kl_mhd_soname = $(shell readelf -d $$(pkg-config --variable=libdir libmicrohttpd)/libmicrohttpd.so 2>/dev/null | \
	sed -n 's/.*soname: \[\(.*\)\]/\1/p')
KL_CFLAGS := $(KL_BASE_CFLAGS) $(shell pkg-config --cflags json-c)
# libbpf: bpf.mk's HOST_LIBBPF_* (the static kernel-tree one, or LIBBPF=system)
KL_LIBBPF_CFLAGS = $(HOST_LIBBPF_CFLAGS)
KL_MHD_CFLAGS = $(shell pkg-config --cflags libmicrohttpd) -DKL_MHD_DLOPEN \
	$(if $(kl_mhd_soname),-DKL_MHD_SONAME='"$(kl_mhd_soname)"')
KL_CAP_CFLAGS = $(shell pkg-config --cflags libcap)
KL_TUI_CFLAGS = $(shell pkg-config --cflags ncursesw)
# Split so that tests linking $(KL_LIB) need no libbpf (collector.o's).
KL_LIB_LDLIBS = $(shell pkg-config --libs json-c ncursesw libcap) -ldl -lpthread -lm
KL_LDLIBS = $(HOST_LIBBPF_LIBS) -lelf -lz $(KL_LIB_LDLIBS)
KL_LDFLAGS :=
else
# Cross: everything static; json-c, libcap, microhttpd cross-built.
KL_CROSS := $(patsubst arm64,aarch64,$(ARCH))-linux-gnu-
KL_CC ?= $(KL_CROSS)gcc
KL_USERLIBS = $(call kl_lazy,KL_USERLIBS,$(TOP)/tools/deps/build-cross-userlibs.sh $(ARCH))
KL_CROSSLIBS = $(call kl_lazy,KL_CROSSLIBS,$(TOP)/tools/deps/build-cross-libs.sh $(ARCH))
KL_CFLAGS = $(KL_BASE_CFLAGS) -I$(KL_USERLIBS)/include
KL_LIBBPF_CFLAGS = -I$(LIBBPF_PREFIX)/include -I$(KL_CROSSLIBS)/include
KL_MHD_CFLAGS :=
KL_CAP_CFLAGS :=
KL_TUI_CFLAGS := -DKL_NO_TUI
KL_LDFLAGS = -static -L$(KL_USERLIBS)/lib -L$(KL_CROSSLIBS)/lib
KL_LIB_LDLIBS := -ljson-c -lmicrohttpd -lcap -lpthread -lm
KL_LDLIBS = $(kl_libbpf_a) -lelf -lz $(KL_LIB_LDLIBS)
endif

# Per-object flags: the dependencies listed at the top of this file.
$(KL_OUT)/collector.o: KL_OBJ_CFLAGS = -I$(BUILD)/$(ARCH) $(KL_LIBBPF_CFLAGS)
$(KL_OUT)/http.o: KL_OBJ_CFLAGS = $(KL_MHD_CFLAGS)
$(KL_OUT)/prom_caps.o: KL_OBJ_CFLAGS = $(KL_CAP_CFLAGS)
$(KL_OUT)/tui.o: KL_OBJ_CFLAGS = $(KL_TUI_CFLAGS)
# The skeleton is generated, so -MMD cannot know it before the first build.
$(KL_OUT)/collector.o: $(BPF_SKEL)

.PHONY: tool tool-clean
tool: $(KL_BIN)

$(KL_OUT)/%.o: $(KL_DIR)/%.c | $(KL_OUT)
	@echo "  CC      $(@:$(BUILD)/%=%)"
	$(Q)$(KL_CC) $(KL_CFLAGS) $(KL_OBJ_CFLAGS) -MMD -MP -c $< -o $@

$(KL_OUT):
	@mkdir -p $@

$(KL_LIB): $(KL_LIB_OBJS)
	@echo "  AR      $(@:$(BUILD)/%=%)"
	$(Q)rm -f $@ && ar rcs $@ $^

$(KL_BIN): $(KL_OBJS)
	@echo "  LINK    $(@:$(BUILD)/%=%)"
	$(Q)$(KL_CC) $(KL_LDFLAGS) $(KL_EXTRA_LDFLAGS) $(KL_OBJS) $(KL_LDLIBS) -o $@

# The tests built from $(KL_LIB) run on this machine: host objects only.
kl_host_only = $(if $(filter $(HOST_ARCH),$(ARCH)),,\
	$(error $@ runs on the build host: drop ARCH=$(ARCH)))

tool-clean:
	rm -rf $(KL_OUT) $(KL_BIN)

.PHONY: check-licence check-build
check-build: $(KL_BIN)
	$(kl_host_only)
	@echo "  CHECK   build graph"
	@$(TOP)/tests/build/check-build.sh $(TOP)

check-licence: $(BUILD)/$(BPF_HOST_ARCH)/kvm_lazytop.bpf.o $(BUILD)/$(BPF_HOST_ARCH)/kl_empty.bpf.o
	@echo "  CHECK   licence"
	@$(TOP)/tests/licence/check-licence.sh $(TOP) $^

-include $(wildcard $(KL_OUT)/*.d)
-include $(TOP)/tests/unit/unit.mk
-include $(KL_DIR)/packaging/packaging.mk
