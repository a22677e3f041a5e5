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
#include <sys/wait.h>
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
	assert_int_equal(parse("--listen 127.0.0.1:11940 -d 1.5", &o), KL_EXIT_OK);
	assert_string_equal(o.listen, "127.0.0.1:11940");
	assert_true(o.duration_ns == 1500000000ULL);
	assert_int_equal(parse("--listen [::1]:11940", &o), KL_EXIT_OK);
	/* ":PORT" binds loopback (issue 14) */
	assert_int_equal(parse("--listen :11940", &o), KL_EXIT_OK);
	assert_string_equal(o.listen, ":11940");
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
		"-o xml", "--listen 11940", "--listen host:0", "--listen :",
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

/* -- COMMAND [ARGS]: everything after "--" is the command, options included. */
static void test_command(void **state)
{
	struct kl_opts o;

	(void)state;
	assert_int_equal(parse("-o json -O out.json -- qemu -name vm1 -d 5s --x", &o), KL_EXIT_OK);
	assert_non_null(o.cmd);
	assert_string_equal(o.cmd[0], "qemu");
	assert_string_equal(o.cmd[1], "-name");
	assert_string_equal(o.cmd[3], "-d");
	assert_string_equal(o.cmd[5], "--x");
	assert_null(o.cmd[6]);
	assert_int_equal(o.output, KL_OUT_JSON);
	assert_string_equal(o.output_file, "out.json");
	assert_true(o.duration_ns == 0);	/* -d 5s belongs to the command */
	assert_int_equal(o.target, KL_TARGET_ALL);
	assert_int_equal(parse("-- report x.json", &o), KL_EXIT_OK);	/* a command named report */
	assert_string_equal(o.cmd[0], "report");
	assert_int_equal(o.sub_argc, 0);
	assert_int_equal(parse("-o ndjson -i 250ms --until-exit -- vmm", &o), KL_EXIT_OK);
	assert_int_equal(o.output, KL_OUT_NDJSON);
	assert_true(o.interval_set);
	assert_int_equal(parse("-p 1 -- vmm", &o), KL_EXIT_USAGE);
	assert_int_equal(parse("-n vm -- vmm", &o), KL_EXIT_USAGE);
	assert_int_equal(parse("-d 5s -- vmm", &o), KL_EXIT_USAGE);
	assert_int_equal(parse("--probe -- vmm", &o), KL_EXIT_USAGE);
	assert_int_equal(parse("vmm", &o), KL_EXIT_USAGE);	/* a command needs -- */
	assert_int_equal(parse("-o json --", &o), KL_EXIT_USAGE);
	assert_int_equal(parse("-O", &o), KL_EXIT_USAGE);
}

/* Options before a subcommand: only -v; the rest is the subcommand's. */
static void test_subcommand(void **state)
{
	struct kl_opts o;

	(void)state;
	assert_int_equal(parse("-v report --html out.html a.json -V", &o), KL_EXIT_OK);
	assert_int_equal(o.verbose, 1);
	assert_int_equal(o.sub_argc, 5);
	assert_string_equal(o.sub_argv[0], "report");
	assert_string_equal(o.sub_argv[1], "--html");
	assert_string_equal(o.sub_argv[4], "-V");
	assert_int_equal(parse("diff -a a.json b.json", &o), KL_EXIT_OK);
	assert_int_equal(o.sub_argc, 4);
	assert_int_equal(parse("gate --rules r.yaml s.json", &o), KL_EXIT_OK);
	assert_string_equal(o.sub_argv[0], "gate");
	assert_int_equal(parse("-p 3 report a.json", &o), KL_EXIT_USAGE);
	assert_int_equal(parse("-o json diff a b", &o), KL_EXIT_USAGE);
	assert_int_equal(parse("-O f report a", &o), KL_EXIT_USAGE);
	assert_int_equal(parse("reports a.json", &o), KL_EXIT_USAGE);
}

/* Run kl_parse_args in a child (help/version exit): its status and stdout. */
static int parse_exit(const char *opt, char *out, size_t len)
{
	char *argv[] = { (char *)"kvm-lazytop", (char *)opt, NULL };
	int pfd[2], status;
	struct kl_opts o;
	ssize_t n, got = 0;
	pid_t pid;

	if (pipe(pfd))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		close(pfd[0]);
		_exit(kl_parse_args(2, argv, &o, NULL) == KL_EXIT_OK ? 100 : 101);
	}
	close(pfd[1]);
	while ((size_t)got < len - 1 && (n = read(pfd[0], out + got, len - 1 - got)) > 0)
		got += n;
	out[got] = 0;
	close(pfd[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* -h is --help and exits 0 (issue 14, item 8: it was exit 2). */
static void test_help_version(void **state)
{
	char out[8192];

	(void)state;
	assert_int_equal(parse_exit("-h", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "Usage: kvm-lazytop"));
	assert_non_null(strstr(out, "-- COMMAND"));
	assert_null(strstr(out, "maintainers>"));	/* the old placeholder bug address */
	assert_non_null(strstr(out, "Report bugs to kvm-lazytop <kvm-lazytop@localhost>"));
	assert_int_equal(parse_exit("--help", out, sizeof(out)), 0);
	assert_int_equal(parse_exit("-?", out, sizeof(out)), 0);
	assert_int_equal(parse_exit("-V", out, sizeof(out)), 0);
	assert_int_equal(strncmp(out, "kvm-lazytop ", 12), 0);
	assert_int_equal(parse_exit("--version", out, sizeof(out)), 0);
	assert_int_equal(parse_exit("--usage", out, sizeof(out)), 0);
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
		cmocka_unit_test(test_command),
		cmocka_unit_test(test_subcommand),
		cmocka_unit_test(test_help_version),
	};

	return cmocka_run_group_tests_name("opts", tests, NULL, NULL);
}
