# SPDX-License-Identifier: GPL-2.0
#
# tools/kvm-lazytop/packaging/packaging.mk - install, uninstall and their
# checks (included by tool.mk).
#
#   make install [PREFIX=/usr/local] [DESTDIR=DIR]   build and install
#   make uninstall [PREFIX=...] [DESTDIR=...]        remove those files
#   make check-packaging   install/uninstall file list and modes, the
#                          installed binary, man pages, completion and
#                          unit (systemd-analyze verify/security), the
#                          service started with its restrictions against
#                          the host workload, LIBBPF=system build + BPF
#                          load test, and the CI example end to end
#
# Layout under $(DESTDIR)$(PREFIX) (each directory can be overridden):
#   sbin/kvm-lazytop                                   SBINDIR, 0755
#   share/man/man8/kvm-lazytop.8, man7/gate-rules.7    MANDIR, 0644
#   share/bash-completion/completions/kvm-lazytop      BASHCOMPDIR, 0644
#   lib/systemd/system/kvm-lazytop.service             SYSTEMDUNITDIR, 0644
# sbin: the collector needs CAP_BPF/CAP_PERFMON (section 8); report, diff
# and gate need no privilege but are the same binary.  systemd reads units
# from /usr/local/lib/systemd/system as well as /usr/lib/systemd/system,
# so the default unit directory follows PREFIX; a packager for /usr with
# a split /lib sets SYSTEMDUNITDIR=/lib/systemd/system.

PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
INSTALL ?= install

KL_PKG_DIR := $(KL_DIR)/packaging
KL_UNIT := $(BUILD)/$(ARCH)/kvm-lazytop.service

# The unit names the installed binary, so it depends on SBINDIR.
.PHONY: FORCE-kl-unit
$(KL_UNIT): $(KL_PKG_DIR)/kvm-lazytop.service.in FORCE-kl-unit
	@mkdir -p $(@D)
	$(Q)sed 's|@SBINDIR@|$(SBINDIR)|g' $< > $@.tmp && \
		{ cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@; }

.PHONY: install uninstall check-packaging check-install check-service \
	check-libbpf-system check-ci-example
install: $(KL_BIN) $(KL_UNIT)
	@echo "  INSTALL $(DESTDIR)$(PREFIX)"
	$(Q)$(INSTALL) -d -m 0755 $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(SYSTEMDUNITDIR)
	$(Q)$(INSTALL) -m 0755 $(KL_BIN) $(DESTDIR)$(SBINDIR)/kvm-lazytop
	$(Q)$(INSTALL) -m 0644 $(KL_DIR)/kvm-lazytop.8 $(DESTDIR)$(MANDIR)/man8/kvm-lazytop.8
	$(Q)$(INSTALL) -m 0644 $(KL_DIR)/gate-rules.7 $(DESTDIR)$(MANDIR)/man7/gate-rules.7
	$(Q)$(INSTALL) -m 0644 $(KL_DIR)/kvm-lazytop.bash-completion \
		$(DESTDIR)$(BASHCOMPDIR)/kvm-lazytop
	$(Q)$(INSTALL) -m 0644 $(KL_UNIT) $(DESTDIR)$(SYSTEMDUNITDIR)/kvm-lazytop.service

uninstall:
	@echo "  UNINST  $(DESTDIR)$(PREFIX)"
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/kvm-lazytop \
		$(DESTDIR)$(MANDIR)/man8/kvm-lazytop.8 \
		$(DESTDIR)$(MANDIR)/man7/gate-rules.7 \
		$(DESTDIR)$(BASHCOMPDIR)/kvm-lazytop \
		$(DESTDIR)$(SYSTEMDUNITDIR)/kvm-lazytop.service

KL_PKG_TEST_OUT := $(BUILD)/$(ARCH)/packaging-tests

check-install: tool
	@$(TOP)/tests/host/install.sh --top $(TOP) --tool $(KL_BIN) \
		--out $(KL_PKG_TEST_OUT)/install

check-service: tool workloads
	@$(TOP)/tests/host/service.sh --top $(TOP) --workload $(HOST_WORKLOAD) \
		--out $(KL_PKG_TEST_OUT)/service

check-libbpf-system:
	@$(TOP)/tests/host/libbpf-system.sh --top $(TOP) \
		--out $(KL_PKG_TEST_OUT)/libbpf-system

check-ci-example: tool workloads
	@$(TOP)/tests/host/ci-example.sh --top $(TOP) --tool $(KL_BIN) \
		--workload $(HOST_WORKLOAD) --out $(KL_PKG_TEST_OUT)/ci-example

check-packaging:
	@fails=0; for t in check-install check-service check-libbpf-system check-ci-example; do \
		if $(MAKE) --no-print-directory $$t; then echo "=== $$t: PASS"; \
		else echo "=== $$t: FAIL"; fails=$$((fails+1)); fi; \
	done; echo "check-packaging: $$((4-fails)) passed, $$fails failed"; [ $$fails -eq 0 ]
