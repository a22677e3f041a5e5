# SPDX-License-Identifier: GPL-2.0
#
# Exports: Prometheus/OpenMetrics exposition, /metrics exporter, snapshot
# report/diff/gate/HTML, Grafana dashboard and Prometheus rules.
#
#   make check-exports        unit + golden + fuzz + host (Prometheus, wrk,
#                             malformed requests, capabilities, Chromium, schema)
#   make check-exports-unit   cmocka unit tests (tests/unit/exports)
#   make check-exports-golden gate/diff/report/prom golden outputs + exit codes,
#                             gate defects and doc examples (run-gate-checks.sh)
#   make check-exports-bad    snapshots with a wrong type or value: report,
#                             diff, gate and HTML exit 2 with one line naming
#                             the JSON path (tests/unit/exports/run-bad-snapshots.sh)
#   make check-exports-host   integration (tests/host/exports/run-exports-tests.sh)
#   make check-dashboards     the committed dashboard JSON equals the
#                             generator's output; datasource variable,
#                             (vm_pid, vm_name) grouping, panels, units;
#                             promtool check/test of the rules and alerts
#   make dashboards           regenerate dashboards/kvm-lazytop.json
#   make fuzz                 libFuzzer pass over the rule parser, the
#                             snapshot reader and (structure-aware) the
#                             report/diff/gate/HTML readers (FUZZ_SECONDS
#                             each, default 20)
#   make exports-tools        build the test driver and the unit test binary
#
# Needs (Debian): libjson-c-dev libmicrohttpd-dev libcap-dev libcmocka-dev
# clang (libFuzzer), prometheus (promtool), wrk, chromium, python3-jsonschema,
# python3-pil, netcat-openbsd.

EXPORTS_SRCDIR := $(TOP)/tools/kvm-lazytop
EXPORTS_OUT := $(BUILD)/$(HOST_ARCH)/exports
EXPORTS_TESTDIR := $(TOP)/tests/unit/exports
EXPORTS_HOSTDIR := $(TOP)/tests/host/exports
# The test binaries link the tool's own objects ($(KL_LIB), tool.mk) with
# the unit tests' flags (tests/unit/unit.mk): no tool source is compiled
# here except for the fuzzers below.
FUZZ_SECONDS ?= 20
EXPORTS_KL := $(EXPORTS_OUT)/kl-exports
EXPORTS_UNIT := $(EXPORTS_OUT)/test_exports
EXPORTS_PROM_UNIT := $(EXPORTS_OUT)/test_prom
EXPORTS_FUZZERS := $(EXPORTS_OUT)/fuzz_rules $(EXPORTS_OUT)/fuzz_snapshot \
	$(EXPORTS_OUT)/fuzz_readers
# The one justified second build: libFuzzer needs every source it explores
# compiled with -fsanitize=fuzzer (coverage feedback) and ASan/UBSan, so
# the fuzzers compile these sources themselves, with clang.  The lists
# name the sources a fuzzer links (a missing one is a link error).
EXPORTS_FUZZ_SRCS := snapshot_read.c snap_stats.c kl_stats.c prom.c gate.c gate_parse.c gate_eval.c kl_names.c \
	kl_escape.c kl_opts.c kl_model.c kl_snap_read.c
# fuzz_readers: the real report/diff/gate/HTML commands on snapshot files
EXPORTS_READERS := $(EXPORTS_FUZZ_SRCS) report.c diff.c html.c render_text.c
EXPORTS_HDRS := $(wildcard $(EXPORTS_SRCDIR)/*.h) $(TOP)/bpf/kvm_lazytop.h
EXPORTS_TOOL ?= $(BUILD)/$(HOST_ARCH)/kvm-lazytop
EXPORTS_WORKLOAD ?= $(BUILD)/$(HOST_ARCH)/dirty_ring_vm

.PHONY: check-exports check-exports-unit check-exports-golden \
	check-exports-bad check-exports-host fuzz exports-tools dashboards check-dashboards

dashboards:
	@python3 $(TOP)/dashboards/gen-dashboard.py
	@echo "  GEN     dashboards/kvm-lazytop.json"

# The drift check must catch a drift: it is also run on a copy of
# dashboards/ whose JSON was edited by hand, and must fail there.
check-dashboards:
	@echo "  CHECK   dashboards"
	@python3 $(EXPORTS_HOSTDIR)/dashboard_check.py $(TOP)/dashboards
	@tmp=$$(mktemp -d) && cp -r $(TOP)/dashboards/. $$tmp/ && \
		sed -i '0,/"title": "kvm-lazytop"/s//"title": "kvm-lazytop (edited)"/' $$tmp/kvm-lazytop.json && \
		if python3 $(EXPORTS_HOSTDIR)/dashboard_check.py $$tmp >$$tmp/out.txt 2>&1 || \
		   ! grep -q 'FAIL generated' $$tmp/out.txt; then \
			echo "  FAIL    dashboard_check.py accepted a hand-edited kvm-lazytop.json"; rm -rf $$tmp; exit 1; \
		fi; rm -rf $$tmp; echo "  ok   a hand-edited kvm-lazytop.json is caught"
	@promtool check rules $(TOP)/dashboards/rules/*.yml >/dev/null
	@echo "  ok   promtool check rules"
	@promtool test rules $(EXPORTS_HOSTDIR)/alerts.test.yml

exports-tools: $(EXPORTS_KL) $(EXPORTS_UNIT) $(EXPORTS_PROM_UNIT)

$(EXPORTS_KL): $(EXPORTS_TESTDIR)/kl_exports_tool.c $(KL_LIB)
	$(kl_host_only)
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(KL_CC) $(KL_TEST_CFLAGS) -MMD -MP $< $(KL_EXTRA_LDFLAGS) $(KL_LIB) $(KL_TEST_LDLIBS) -o $@

$(EXPORTS_OUT)/test_%: $(EXPORTS_TESTDIR)/test_%.c $(KL_LIB)
	$(kl_host_only)
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(KL_CC) $(KL_TEST_CFLAGS) -MMD -MP $< $(KL_EXTRA_LDFLAGS) $(KL_LIB) $(KL_TEST_LDLIBS) -o $@

-include $(wildcard $(EXPORTS_OUT)/*.d)

$(EXPORTS_OUT)/fuzz_%: $(EXPORTS_TESTDIR)/fuzz/fuzz_%.c \
		$(addprefix $(EXPORTS_SRCDIR)/,$(EXPORTS_FUZZ_SRCS)) $(EXPORTS_HDRS)
	@mkdir -p $(@D)
	@echo "  FUZZCC  $@"
	@clang -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -O1 \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-I$(EXPORTS_SRCDIR) -o $@ $< \
		$(addprefix $(EXPORTS_SRCDIR)/,$(EXPORTS_FUZZ_SRCS)) -ljson-c -lm

# Structure-aware: a custom mutator edits the JSON tree of valid snapshots.
$(EXPORTS_OUT)/fuzz_readers: $(EXPORTS_TESTDIR)/fuzz/fuzz_readers.c \
		$(addprefix $(EXPORTS_SRCDIR)/,$(EXPORTS_READERS)) $(EXPORTS_HDRS)
	@mkdir -p $(@D)
	@echo "  FUZZCC  $@"
	@clang -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -O1 \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-DKL_FUZZ_DATA='"$(EXPORTS_TESTDIR)/data"' \
		-I$(EXPORTS_SRCDIR) -o $@ $< \
		$(addprefix $(EXPORTS_SRCDIR)/,$(EXPORTS_READERS)) -ljson-c -lm

check-exports-unit: $(EXPORTS_UNIT) $(EXPORTS_PROM_UNIT)
	@echo "  UNIT    exports (cmocka)"
	@cd $(TOP) && $(EXPORTS_UNIT)
	@echo "  UNIT    prom exposition (cmocka)"
	@cd $(TOP) && $(EXPORTS_PROM_UNIT)

check-exports-golden: $(EXPORTS_KL)
	@$(EXPORTS_TESTDIR)/run-golden.sh $(EXPORTS_KL)
	@$(EXPORTS_TESTDIR)/run-gate-checks.sh $(EXPORTS_KL)
	@python3 $(EXPORTS_TESTDIR)/check_percentiles.py $(EXPORTS_KL)

check-exports-bad: $(EXPORTS_KL)
	@echo "  BAD     snapshots with wrong types/values (report, diff, gate, HTML)"
	@$(EXPORTS_TESTDIR)/run-bad-snapshots.sh $(EXPORTS_KL)

# Each fuzzer runs FUZZ_SECONDS over a scratch copy of the committed corpus
# (new inputs are not written back into the tree).  Sanitizer reports go to
# files (fuzz_readers captures stderr while a command runs, which would
# swallow them) and are printed with a failure.
fuzz: $(EXPORTS_FUZZERS)
	@for f in rules snapshot readers; do \
		c=$$f; [ $$f = readers ] && c=snapshot; \
		rm -rf $(EXPORTS_OUT)/corpus-$$f $(EXPORTS_OUT)/sanitizer-$$f.* && \
		mkdir -p $(EXPORTS_OUT)/corpus-$$f && \
		cp $(EXPORTS_TESTDIR)/fuzz/corpus/$$c/* $(EXPORTS_OUT)/corpus-$$f/ && \
		echo "  FUZZ    $$f ($(FUZZ_SECONDS) s)" && \
		UBSAN_OPTIONS=log_path=$(EXPORTS_OUT)/sanitizer-$$f ASAN_OPTIONS=log_path=$(EXPORTS_OUT)/sanitizer-$$f \
		$(EXPORTS_OUT)/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
			-timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
			-artifact_prefix=$(EXPORTS_OUT)/crash-$$f- \
			$(EXPORTS_OUT)/corpus-$$f >$(EXPORTS_OUT)/fuzz-$$f.log 2>&1 || \
			{ tail -40 $(EXPORTS_OUT)/fuzz-$$f.log; cat $(EXPORTS_OUT)/sanitizer-$$f.* 2>/dev/null; \
			  echo "fuzz: $$f FAILED"; exit 1; }; \
		grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' $(EXPORTS_OUT)/fuzz-$$f.log | sed 's/^/          /'; \
	done

check-exports-host: $(EXPORTS_KL) tool workloads
	@$(EXPORTS_HOSTDIR)/run-exports-tests.sh --kl $(EXPORTS_KL) \
		--tool $(EXPORTS_TOOL) --workload $(EXPORTS_WORKLOAD) \
		--out $(EXPORTS_OUT)/host $(EXPORTS_TESTS)

check-exports:
	@$(MAKE) --no-print-directory check-dashboards
	@$(MAKE) --no-print-directory check-exports-unit
	@$(MAKE) --no-print-directory check-exports-golden
	@$(MAKE) --no-print-directory check-exports-bad
	@$(MAKE) --no-print-directory fuzz
	@$(MAKE) --no-print-directory check-exports-host
