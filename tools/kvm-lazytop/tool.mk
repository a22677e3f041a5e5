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
#
# Every tools/kvm-lazytop/*.c is compiled (wildcard), so exporter files
# added later are built and their strong symbols replace commands_weak.c.

KL_DIR := $(TOP)/tools/kvm-lazytop
KL_OUT := $(BUILD)/$(ARCH)/kvm-lazytop.obj
KL_BIN := $(BUILD)/$(ARCH)/kvm-lazytop
KL_SRCS := $(sort $(wildcard $(KL_DIR)/*.c))
KL_OBJS := $(patsubst $(KL_DIR)/%.c,$(KL_OUT)/%.o,$(KL_SRCS))

# Pure logic (no libbpf, no skeleton): also linked into the unit tests.
KL_PURE := kl_names kl_stats kl_state kl_snapshot kl_opts kl_proc render_text snapshot_read snap_stats commands_weak kl_escape

KL_WARN := -Wall -Wextra -Werror
# KL_EXTRA_CFLAGS / KL_EXTRA_LDFLAGS: e.g. -fsanitize=address,undefined
KL_BASE_CFLAGS = -std=gnu11 -D_GNU_SOURCE -O2 -g $(KL_WARN) -I$(KL_DIR) -I$(TOP)/bpf $(KL_EXTRA_CFLAGS)
# libbpf installs into lib/ or lib64/ depending on the host convention.
kl_libbpf_a = $(firstword $(wildcard $(LIBBPF_PREFIX)/lib/libbpf.a $(LIBBPF_PREFIX)/lib64/libbpf.a) \
		$(LIBBPF_PREFIX)/lib/libbpf.a)
# Exporter files decide whether libmicrohttpd / libcap are needed.
kl_need_mhd = $(shell grep -ls 'microhttpd.h' $(KL_SRCS) >/dev/null && echo y)
kl_need_cap = $(shell grep -ls 'sys/capability.h' $(KL_SRCS) >/dev/null && echo y)

ifeq ($(ARCH),$(HOST_ARCH))
KL_CC ?= gcc
KL_PKGS := json-c ncursesw libcap
# libmicrohttpd is dlopen()ed by http.c for --listen only (not resident during the BPF load)
kl_mhd_soname = $(shell readelf -d $$(pkg-config --variable=libdir libmicrohttpd)/libmicrohttpd.so 2>/dev/null | \
	sed -n 's/.*soname: \[\(.*\)\]/\1/p')
# libbpf: bpf.mk's HOST_LIBBPF_* (the static kernel-tree one, or LIBBPF=system)
KL_CFLAGS = $(KL_BASE_CFLAGS) -I$(BUILD)/$(ARCH) $(HOST_LIBBPF_CFLAGS) \
	$(shell pkg-config --cflags $(KL_PKGS) $(if $(kl_need_mhd),libmicrohttpd)) -DKL_HAVE_LIBCAP \
	$(if $(kl_need_mhd),-DKL_MHD_DLOPEN $(if $(kl_mhd_soname),-DKL_MHD_SONAME='"$(kl_mhd_soname)"'))
KL_LDLIBS = $(HOST_LIBBPF_LIBS) -lelf -lz \
	$(shell pkg-config --libs $(KL_PKGS)) -ldl -lpthread -lm
KL_LDFLAGS :=
KL_DEPS_READY :=
else
# Cross: everything static; json-c, libcap, microhttpd cross-built.
KL_CROSS := $(patsubst arm64,aarch64,$(ARCH))-linux-gnu-
KL_CC ?= $(KL_CROSS)gcc
KL_USERLIBS = $(call kl_lazy,KL_USERLIBS,$(TOP)/tools/deps/build-cross-userlibs.sh $(ARCH))
KL_CROSSLIBS = $(call kl_lazy,KL_CROSSLIBS,$(TOP)/tools/deps/build-cross-libs.sh $(ARCH))
KL_CFLAGS = $(KL_BASE_CFLAGS) -I$(BUILD)/$(ARCH) -I$(LIBBPF_PREFIX)/include \
	-I$(KL_USERLIBS)/include -I$(KL_CROSSLIBS)/include -DKL_NO_TUI
KL_LDFLAGS = -static -L$(KL_USERLIBS)/lib -L$(KL_CROSSLIBS)/lib
KL_LDLIBS = $(kl_libbpf_a) -ljson-c $(if $(kl_need_mhd),-lmicrohttpd) $(if $(kl_need_cap),-lcap) \
	-lelf -lz -lpthread -lm
endif

.PHONY: tool tool-clean
tool: $(KL_BIN)

$(KL_OUT)/%.o: $(KL_DIR)/%.c $(BPF_SKEL) | $(KL_OUT)
	@echo "  CC      $(@:$(BUILD)/%=%)"
	$(Q)$(KL_CC) $(KL_CFLAGS) -MMD -MP -c $< -o $@

$(KL_OUT):
	@mkdir -p $@

$(KL_BIN): $(KL_OBJS)
	@echo "  LINK    $(@:$(BUILD)/%=%)"
	$(Q)$(KL_CC) $(KL_LDFLAGS) $(KL_EXTRA_LDFLAGS) $(KL_OBJS) $(KL_LDLIBS) -o $@

tool-clean:
	rm -rf $(KL_OUT) $(KL_BIN)

-include $(wildcard $(KL_OUT)/*.d)
-include $(TOP)/tests/unit/unit.mk
-include $(KL_DIR)/packaging/packaging.mk
