# SPDX-License-Identifier: GPL-2.0
#
# kvm-lazytop: one Makefile drives everything.  Each area keeps its own
# rules in a fragment next to its sources; this file holds the shared
# variables, the dependency installer and the umbrella targets.
#
#   make demo         patched vs base RISC-V KVM in QEMU (README, first)
#   make test         everything CI checks (README, second)
#   make check-host   host-only subset (unit, BPF, host integration)
#   make check-riscv  riscv64 QEMU subset
#   make kernel       base and patched riscv64 kernels (cached)
#   make kernel-check series hygiene: apply, checkpatch, bisect builds

SHELL := /bin/bash
.DEFAULT_GOAL := all

TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
HOST_ARCH := $(shell uname -m)
ARCH ?= $(HOST_ARCH)
override ARCH := $(patsubst aarch64,arm64,$(ARCH))
CACHE ?= /var/cache/kvm-lazytop
BUILD := $(TOP)/build
export CACHE

# Debian packages every target may need; installed once per list hash.
DEB_PACKAGES := build-essential clang llvm libelf-dev zlib1g-dev pkg-config \
	libmicrohttpd-dev libjson-c-dev libcmocka-dev libncurses-dev libcap-dev \
	linux-source-6.12 gcc-riscv64-linux-gnu libc6-dev-riscv64-cross \
	qemu-system-misc opensbi bc bison flex libssl-dev dwarves cpio kmod \
	tmux jq dpkg-dev xz-utils rsync python3 procps \
	prometheus wrk chromium python3-jsonschema python3-yaml curl netcat-openbsd \
	bpftrace linux-perf file gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-system-arm \
	libbpf-dev
DEPS_STAMP := $(CACHE)/deps-$(shell echo '$(DEB_PACKAGES)' | sha256sum | cut -c1-12).stamp

.PHONY: all deps test demo check-host check-riscv clean
all: tool

deps: $(DEPS_STAMP)
$(DEPS_STAMP):
	@mkdir -p $(CACHE)
	@echo "  DEPS    installing Debian packages"
	@if ! grep -rqs '^deb-src\|^Types:.*deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then \
		echo 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main' \
			> /etc/apt/sources.list.d/kvm-lazytop-src.list; fi
	@DEBIAN_FRONTEND=noninteractive apt-get update -qq >$(CACHE)/apt.log 2>&1 || \
		{ echo "deps: apt-get update failed, see $(CACHE)/apt.log"; exit 1; }
	@DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEB_PACKAGES) >>$(CACHE)/apt.log 2>&1 || \
		{ echo "deps: apt-get install failed, see $(CACHE)/apt.log"; exit 1; }
	@touch $@

-include bpf/bpf.mk
-include tools/kvm-lazytop/tool.mk
-include tests/bpf/bpf-tests.mk
-include tests/host/host.mk
-include tests/tests.mk
-include kernel/kernel.mk
-include tests/e2e/e2e.mk
-include kernel/check.mk
-include kernel/mutants/mutants.mk
-include tests/e2e/selftests/selftests.mk
-include tests/e2e/arm64/arm64.mk
-include tests/e2e/demo/demo.mk
-include dashboards/dashboards.mk
-include bench/bench.mk

clean:
	rm -rf $(BUILD)
