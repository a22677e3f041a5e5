// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_opts.c - command line parsing: valid and invalid combinations. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "kl_opts.h"
#include "kl_proc.h"

#define MAXARGS 16

/* Parse a space-separated command line (argv[0] added), silently. */
static int parse(const char *line, struct kl_opts *o)
{
	static char buf[512];
	char *argv[MAXARGS] = { (char *)"kvm-lazytop" };
	int argc = 1;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *tok = strtok(buf, " "); tok && argc < MAXARGS - 1; tok = strtok(NULL, " "))
		argv[argc++] = tok;
	argv[argc] = NULL;
	return kl_parse_args(argc, argv, o, NULL);
}

static void test_defaults(void **state)
{
	struct kl_opts o;

	(void)state;
	assert_int_equal(parse("", &o), KL_EXIT_OK);
	assert_int_equal(o.target, KL_TARGET_ALL);
	assert_true(o.interval_ns == 1000000000ULL);
	assert_true(o.duration_ns == 0);
	assert_int_equal(o.output, KL_OUT_TABLE);
	assert_false(o.until_exit || o.probe || o.per_vcpu);
	assert_null(o.listen);
}

static void test_valid(void **state)
{
	struct kl_opts o;

	(void)state;
	assert_int_equal(parse("-p 1234 -i 250ms -d 2m -o json --vcpu -v -v", &o), KL_EXIT_OK);
	assert_int_equal(o.target, KL_TARGET_PID);
	assert_int_equal(o.pid, 1234);
	assert_true(o.interval_ns == 250000000ULL);
	assert_true(o.duration_ns == 120000000000ULL);
	assert_int_equal(o.output, KL_OUT_JSON);
	assert_true(o.per_vcpu);
	assert_int_equal(o.verbose, 2);

	assert_int_equal(parse("-n guest1 --until-exit -o prom", &o), KL_EXIT_OK);
	assert_int_equal(o.target, KL_TARGET_NAME);
	assert_string_equal(o.name, "guest1");
	assert_true(o.until_exit);
	assert_int_equal(o.output, KL_OUT_PROM);

	assert_int_equal(parse("--probe -o json", &o), KL_EXIT_OK);
	assert_true(o.probe);
	assert_int_equal(parse("--listen 127.0.0.1:9100 -d 1.5", &o), KL_EXIT_OK);
	assert_string_equal(o.listen, "127.0.0.1:9100");
	assert_true(o.duration_ns == 1500000000ULL);
	assert_int_equal(parse("--listen [::1]:9100", &o), KL_EXIT_OK);
	assert_int_equal(parse("--pid=7 --interval=1s --duration=10s --output=table", &o), KL_EXIT_OK);
	assert_int_equal(o.pid, 7);
}

static void test_invalid(void **state)
{
	static const char *const bad[] = {
		"-p 1 -n vm",		/* -p with -n */
		"-n vm -p 1",
		"-p 1 -d 5s --until-exit",	/* -d with --until-exit */
		"--until-exit",		/* needs a target */
		"-p 0", "-p -3", "-p 12abc", "-p 99999999999", "-p",
		"-i 0", "-i -1s", "-i abc", "-i 5ms", "-i 1x", "-i",
		"-d 0", "-d ''", "-d 3parsecs", "-d nan", "-d inf",
		"-o xml", "--listen 9100", "--listen :9100", "--listen host:0",
		"--listen host:70000", "--bogus", "-x", "stray-arg",
		"--probe -d 5s",
	};
	struct kl_opts o;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(bad[i], &o);

		if (rc != KL_EXIT_USAGE)
			fail_msg("'%s' parsed with rc %d, want %d", bad[i], rc, KL_EXIT_USAGE);
	}
}

static void test_one_line_error(void **state)
{
	char *argv[] = { (char *)"kvm-lazytop", (char *)"-p", (char *)"1", (char *)"-n", (char *)"x", NULL };
	struct kl_opts o;
	char buf[512] = "";
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	(void)state;
	assert_non_null(f);
	assert_int_equal(kl_parse_args(5, argv, &o, f), KL_EXIT_USAGE);
	fclose(f);
	assert_int_equal(strncmp(buf, "kvm-lazytop: ", 13), 0);
	assert_non_null(strchr(buf, '\n'));
	assert_null(strchr(strchr(buf, '\n') + 1, '\n'));	/* exactly one line */
}

static void test_durations(void **state)
{
	uint64_t ns;

	(void)state;
	assert_int_equal(kl_parse_duration("10", &ns), 0);
	assert_true(ns == 10000000000ULL);
	assert_int_equal(kl_parse_duration("100us", &ns), 0);
	assert_true(ns == 100000ULL);
	assert_int_equal(kl_parse_duration("1h", &ns), 0);
	assert_true(ns == 3600000000000ULL);
	assert_int_equal(kl_parse_duration("5ns", &ns), 0);
	assert_true(ns == 5);
	assert_int_not_equal(kl_parse_duration("0.1ns", &ns), 0);
	assert_int_not_equal(kl_parse_duration("1e30", &ns), 0);
	assert_int_not_equal(kl_parse_duration(" 1", &ns), 0);
	assert_int_not_equal(kl_parse_duration("1 s", &ns), 0);
	assert_int_not_equal(kl_parse_duration("", &ns), 0);
}

static void test_cmdline_vm_name(void **state)
{
	static const char a[] = "qemu-system-riscv64\0-m\0512\0-name\0guest-a\0-smp\0002";
	static const char b[] = "qemu\0-name\0guest=vm-b,debug-threads=on";
	static const char c[] = "qemu\0-name\0debug-threads=on,guest=vm-c";
	static const char d[] = "qemu\0-m\0512";
	static const char e[] = "qemu\0-name";
	char buf[64];

	(void)state;
	assert_int_equal(kl_cmdline_vm_name(a, sizeof(a), buf, sizeof(buf)), 0);
	assert_string_equal(buf, "guest-a");
	assert_int_equal(kl_cmdline_vm_name(b, sizeof(b), buf, sizeof(buf)), 0);
	assert_string_equal(buf, "vm-b");
	assert_int_equal(kl_cmdline_vm_name(c, sizeof(c), buf, sizeof(buf)), 0);
	assert_string_equal(buf, "vm-c");
	assert_int_not_equal(kl_cmdline_vm_name(d, sizeof(d), buf, sizeof(buf)), 0);
	assert_int_not_equal(kl_cmdline_vm_name(e, sizeof(e), buf, sizeof(buf)), 0);
}

/* QEMU's implied "guest" key: -name NAME,debug-threads=on (issue 14, item 8). */
static void test_cmdline_vm_name_qemu_opts(void **state)
{
	static const struct { const char *arg; const char *want; } cases[] = {
		{ "foo,debug-threads=on", "foo" },
		{ "foo,process=qemu-foo,debug-threads=on", "foo" },
		{ "foo", "foo" },
		{ "a,,b,debug-threads=on", "a,b" },	/* ",," is a literal comma */
		{ "guest=a,guest=b", "b" },		/* the last one wins, as in QEMU */
		{ "foo,guest=bar", "bar" },
		{ "debug-threads=on", NULL },
		{ "process=p", NULL },
		{ ",debug-threads=on", NULL },		/* empty name */
		{ "", NULL },
	};
	char cmd[128], buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = snprintf(cmd, sizeof(cmd), "qemu-system-x86_64%c-name%c%s%c-m%c512", 0, 0,
				 cases[i].arg, 0, 0);
		int rc = kl_cmdline_vm_name(cmd, (size_t)n + 1, buf, sizeof(buf));

		if (!cases[i].want) {
			if (rc == 0)
				fail_msg("-name '%s' gave name '%s', want none", cases[i].arg, buf);
			continue;
		}
		if (rc != 0 || strcmp(buf, cases[i].want))
			fail_msg("-name '%s': rc %d name '%s', want '%s'", cases[i].arg, rc,
				 rc ? "" : buf, cases[i].want);
	}
}

static void test_bpf_jit_mode(void **state)
{
	static const struct { const char *text; int want; } cases[] = {
		{ "0\n", 0 }, { "1\n", 1 }, { "2", 2 }, { "3\n", -EINVAL }, { "-1\n", -EINVAL },
		{ "x\n", -EINVAL }, { "1x\n", -EINVAL }, { "", -EINVAL },
	};
	char path[] = "/tmp/kl-jit-XXXXXX";
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fputs(cases[i].text, f);
		fclose(f);
		assert_int_equal(kl_bpf_jit_mode(path), cases[i].want);
	}
	unlink(path);
	assert_int_equal(kl_bpf_jit_mode(path), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_bpf_jit_mode),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_one_line_error),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_cmdline_vm_name),
		cmocka_unit_test(test_cmdline_vm_name_qemu_opts),
	};

	return cmocka_run_group_tests_name("opts", tests, NULL, NULL);
}
