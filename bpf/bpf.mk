# SPDX-License-Identifier: GPL-2.0
#
# bpf/bpf.mk - build the BPF objects and their libbpf skeletons.
#
#   $(BUILD)/<arch>/kvm_lazytop.bpf.o   CO-RE object, one per target arch
#   $(BUILD)/<arch>/kvm_lazytop.skel.h  struct kvm_lazytop_bpf
#   $(BUILD)/<arch>/kl_empty.bpf.o      empty programs (benchmark floor)
#   $(BUILD)/<arch>/kl_empty.skel.h     struct kl_empty_bpf
#
# The BPF object only needs the host bpftool and libbpf's BPF-side
# headers, so it never waits for a cross-built libbpf: every <arch> is
# compiled with the host prefix.  LIBBPF_PREFIX (the target's static
# libbpf, for linking the collector) is resolved only when something
# uses it.
#
# LIBBPF=system builds the host tools against the distribution's libbpf
# (Debian 12: libbpf-dev 1.1, linked shared, found with pkg-config) instead
# of the static libbpf built from the kernel tree; the BPF side then uses
# the system's <bpf/*.h> too.  bpftool (skeletons only) still comes from
# the kernel tree.  Host arch only; the outputs go to build/libbpf-system/
# (unless BUILD is given) so the two flavours never share objects.
#
# Exported: BPF_OBJ BPF_SKEL BPF_EMPTY_OBJ BPF_EMPTY_SKEL LIBBPF_PREFIX
#           HOST_LIBBPF_PREFIX BPFTOOL KSRC BPF_HOST_ARCH
#           HOST_LIBBPF_CFLAGS HOST_LIBBPF_LIBS (userspace, host arch)

# $(call kl_lazy,VAR,command): evaluate command once, on first use.
kl_lazy = $(eval $(1) := $$(shell $(2)))$($(1))

BPF_HOST_ARCH := $(patsubst aarch64,arm64,$(HOST_ARCH))

KSRC = $(call kl_lazy,KSRC,$(TOP)/kernel/scripts/fetch-source.sh)
HOST_LIBBPF_PREFIX = $(call kl_lazy,HOST_LIBBPF_PREFIX,$(TOP)/tools/deps/build-libbpf.sh $(BPF_HOST_ARCH))
LIBBPF_PREFIX = $(call kl_lazy,LIBBPF_PREFIX,$(TOP)/tools/deps/build-libbpf.sh $(ARCH))
BPFTOOL = $(HOST_LIBBPF_PREFIX)/bin/bpftool

LIBBPF ?= vendored
ifeq ($(LIBBPF),system)
ifneq ($(ARCH),$(BPF_HOST_ARCH))
$(error LIBBPF=system builds for the host arch only (ARCH=$(ARCH)))
endif
ifeq ($(origin BUILD),file)
BUILD := $(TOP)/build/libbpf-system
endif
HOST_LIBBPF_CFLAGS = $(call kl_lazy,HOST_LIBBPF_CFLAGS,pkg-config --cflags libbpf)
HOST_LIBBPF_LIBS = $(call kl_lazy,HOST_LIBBPF_LIBS,pkg-config --libs libbpf)
BPF_LIBBPF_INC :=
else ifeq ($(LIBBPF),vendored)
HOST_LIBBPF_CFLAGS = -I$(HOST_LIBBPF_PREFIX)/include
# lib/ per tools/deps/build-libbpf.sh; some libbpf installs pick lib64/
HOST_LIBBPF_LIBS = $(firstword $(wildcard $(HOST_LIBBPF_PREFIX)/lib/libbpf.a \
	$(HOST_LIBBPF_PREFIX)/lib64/libbpf.a) $(HOST_LIBBPF_PREFIX)/lib/libbpf.a)
BPF_LIBBPF_INC = -I$(HOST_LIBBPF_PREFIX)/include
else
$(error LIBBPF must be vendored or system, not '$(LIBBPF)')
endif

BPF_OBJ := $(BUILD)/$(ARCH)/kvm_lazytop.bpf.o
BPF_SKEL := $(BUILD)/$(ARCH)/kvm_lazytop.skel.h
BPF_EMPTY_OBJ := $(BUILD)/$(ARCH)/kl_empty.bpf.o
BPF_EMPTY_SKEL := $(BUILD)/$(ARCH)/kl_empty.skel.h

BPF_CLANG ?= clang
BPF_HDRS := $(TOP)/bpf/kvm_lazytop.h $(TOP)/bpf/kl_hist.h $(TOP)/bpf/kl_core.h
# the pieces kvm_lazytop.bpf.c #includes (one object, one skeleton)
BPF_PARTS := $(wildcard $(TOP)/bpf/kl_*.bpf.h)

# x86_64 -> x86, riscv64 -> riscv, arm64 -> arm64
bpf_target_arch = $(patsubst x86_64,x86,$(patsubst riscv64,riscv,$(1)))

bpf_check_prefix = @test -x "$(HOST_LIBBPF_PREFIX)/bin/bpftool" || \
	{ echo "bpf.mk: host libbpf/bpftool missing (tools/deps/build-libbpf.sh $(BPF_HOST_ARCH) failed)"; exit 1; }

bpf_cflags = -target bpf -g -O2 -Wall -Werror \
	-D__TARGET_ARCH_$(call bpf_target_arch,$(1)) \
	-I$(TOP)/bpf $(BPF_LIBBPF_INC) -I$(KSRC)/tools/include/uapi

.PHONY: bpf-obj bpf-skel
bpf-obj: $(BPF_OBJ) $(BPF_EMPTY_OBJ)
bpf-skel: $(BPF_SKEL) $(BPF_EMPTY_SKEL)

$(BUILD)/%/kvm_lazytop.bpf.o: $(TOP)/bpf/kvm_lazytop.bpf.c $(BPF_HDRS) $(BPF_PARTS)
	$(bpf_check_prefix)
	@mkdir -p $(@D)
	@echo "  BPF     $@"
	$(Q)$(BPF_CLANG) $(call bpf_cflags,$*) -mcpu=v3 -c $< -o $@.tmp && mv $@.tmp $@

# The same object with the kl_test_* programs, for tests/bpf only: the
# collector's object leaves them out (libbpf parses every program of an
# object at each open, which showed in the collector's peak RSS).
$(BUILD)/%/test/kvm_lazytop.bpf.o: $(TOP)/bpf/kvm_lazytop.bpf.c $(BPF_HDRS) $(BPF_PARTS)
	$(bpf_check_prefix)
	@mkdir -p $(@D)
	@echo "  BPF     $@"
	$(Q)$(BPF_CLANG) $(call bpf_cflags,$*) -mcpu=v3 -DKL_TEST_PROGS -c $< -o $@.tmp && mv $@.tmp $@

$(BUILD)/%/test/kvm_lazytop.skel.h: $(BUILD)/%/test/kvm_lazytop.bpf.o $(TOP)/bpf/bpf.mk
	@echo "  SKEL    $@"
	$(Q)$(BPFTOOL) gen skeleton $< name kvm_lazytop_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/%/kl_empty.bpf.o: $(TOP)/bpf/empty.bpf.c $(BPF_HDRS)
	$(bpf_check_prefix)
	@mkdir -p $(@D)
	@echo "  BPF     $@"
	$(Q)$(BPF_CLANG) $(call bpf_cflags,$*) -c $< -o $@.tmp && mv $@.tmp $@

$(BUILD)/%/kvm_lazytop.skel.h: $(BUILD)/%/kvm_lazytop.bpf.o $(TOP)/bpf/bpf.mk
	@echo "  SKEL    $@"
	$(Q)$(BPFTOOL) gen skeleton $< name kvm_lazytop_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/%/kl_empty.skel.h: $(BUILD)/%/kl_empty.bpf.o $(TOP)/bpf/bpf.mk
	@echo "  SKEL    $@"
	$(Q)$(BPFTOOL) gen skeleton $< name kl_empty_bpf > $@.tmp && mv $@.tmp $@

Q ?= @

# Relative spellings (make build/riscv64/kvm_lazytop.skel.h from $(TOP)).
build/%/kvm_lazytop.skel.h: $(BUILD)/%/kvm_lazytop.skel.h ; @:
build/%/kvm_lazytop.bpf.o: $(BUILD)/%/kvm_lazytop.bpf.o ; @:
build/%/kl_empty.skel.h: $(BUILD)/%/kl_empty.skel.h ; @:
