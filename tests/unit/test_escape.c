// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_escape.c - escaping of untrusted names (kl_escape.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kl_escape.h"

static void expect(const char *in, const char *want)
{
	char buf[256];
	size_t n = kl_escape(buf, sizeof(buf), in);

	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
}

static void test_plain(void **state)
{
	(void)state;
	expect("", "");
	expect(NULL, "");
	expect("qemu-system-x86", "qemu-system-x86");
	expect("guest 1 (test)", "guest 1 (test)");
	/* well-formed UTF-8 stays as is: é, €, U+1F600 */
	expect("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

static void test_controls(void **state)
{
	(void)state;
	/* the name of issue 14: sets the window title, clears the screen */
	expect("\x1b]0;pwned\a\x1b[2J", "\\x1b]0;pwned\\x07\\x1b[2J");
	expect("a\nb\tc\rd", "a\\x0ab\\x09c\\x0dd");
	expect("\x7f", "\\x7f");
	expect("\x01\x1f ", "\\x01\\x1f ");
	/* a backslash is doubled: "\x1b" typed literally is not an escape */
	expect("a\\x1b", "a\\\\x1b");
}

static void test_bad_utf8(void **state)
{
	(void)state;
	expect("\x80", "\\x80");			/* stray continuation */
	expect("\xc3", "\\xc3");			/* truncated */
	expect("\xc3(", "\\xc3(");
	expect("\xc0\xaf", "\\xc0\\xaf");		/* overlong '/' */
	expect("\xe0\x80\xaf", "\\xe0\\x80\\xaf");	/* overlong, 3 bytes */
	expect("\xed\xa0\x80", "\\xed\\xa0\\x80");	/* surrogate U+D800 */
	expect("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80");	/* > U+10FFFF */
	expect("\xff\xfe", "\\xff\\xfe");
}

static void test_c1_bidi(void **state)
{
	(void)state;
	expect("\xc2\x9b" "2J", "\\xc2\\x9b2J");	/* U+009B CSI */
	expect("\xc2\x85", "\\xc2\\x85");		/* U+0085 NEL */
	expect("\xc2\xa0", "\xc2\xa0");			/* U+00A0 is printable */
	expect("a\xe2\x80\xae" "b", "a\\xe2\\x80\\xaeb");	/* U+202E RLO */
	expect("\xe2\x81\xa6", "\\xe2\\x81\\xa6");	/* U+2066 LRI */
	expect("\xe2\x80\x8f", "\\xe2\\x80\\x8f");	/* U+200F RLM */
}

static void test_mem_nul(void **state)
{
	char buf[32];

	(void)state;
	assert_int_equal(kl_escape_mem(buf, sizeof(buf), "a\0b", 3), 6);
	assert_string_equal(buf, "a\\x00b");
}

/* Truncation never splits an escape or a UTF-8 sequence; size is reported. */
static void test_truncation(void **state)
{
	char buf[8];

	(void)state;
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(kl_escape(buf, 6, "ab\x1b" "cd"), 8);
	assert_string_equal(buf, "ab");		/* "\x1b" needs 4, only 3 left */
	assert_int_equal(kl_escape(buf, 7, "ab\x1b" "cd"), 8);
	assert_string_equal(buf, "ab\\x1b");
	assert_int_equal(kl_escape(buf, 4, "a\xe2\x82\xac"), 4);
	assert_string_equal(buf, "a");		/* the euro sign needs 3 bytes */
	assert_int_equal(kl_escape(buf, 1, "abc"), 3);
	assert_string_equal(buf, "");
	assert_int_equal(kl_escape(NULL, 0, "\x1b"), 4);	/* size query */
}

static void test_prom_label(void **state)
{
	char buf[128];

	(void)state;
	assert_int_equal(kl_escape_prom_label(buf, sizeof(buf), "vm-1"), 4);
	assert_string_equal(buf, "vm-1");
	kl_escape_prom_label(buf, sizeof(buf), "a\x1b[2J\"b\nc\\d");
	assert_string_equal(buf, "a\\\\x1b[2J\\\"b\\\\x0ac\\\\\\\\d");
	kl_escape_prom_label(buf, sizeof(buf), "\xff");
	assert_string_equal(buf, "\\\\xff");
	/* truncation keeps whole pieces here too */
	assert_int_equal(kl_escape_prom_label(buf, 5, "a\""), 3);
	assert_string_equal(buf, "a\\\"");
	assert_int_equal(kl_escape_prom_label(buf, 3, "a\""), 3);
	assert_string_equal(buf, "a");
}

static void test_fputs(void **state)
{
	char out[4096] = "", *longname = malloc(600);
	FILE *f = fmemopen(out, sizeof(out), "w");

	(void)state;
	assert_non_null(f);
	assert_non_null(longname);
	memset(longname, '\x1b', 599);
	longname[599] = 0;
	assert_true(kl_fputs_escaped(longname, f) >= 0);
	fclose(f);
	assert_int_equal(strlen(out), 599 * 4);
	assert_null(strchr(out, '\x1b'));
	free(longname);
}

/* JUnit and report --html share one markup escape. */
static void test_markup(void **state)
{
	char out[256] = "";
	FILE *f = fmemopen(out, sizeof(out), "w");

	(void)state;
	assert_non_null(f);
	kl_fputs_markup("<a href=\"x\">O'Brien & co</a>\t\n\x01\x1b", f);
	kl_fputs_markup(NULL, f);
	fclose(f);
	assert_string_equal(out, "&lt;a href=&quot;x&quot;&gt;O&#39;Brien &amp; co&lt;/a&gt;\t\n??");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_controls),
		cmocka_unit_test(test_bad_utf8),
		cmocka_unit_test(test_c1_bidi),
		cmocka_unit_test(test_mem_nul),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_prom_label),
		cmocka_unit_test(test_fputs),
		cmocka_unit_test(test_markup),
	};

	return cmocka_run_group_tests_name("escape", tests, NULL, NULL);
}
