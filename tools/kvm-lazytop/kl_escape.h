/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kl_escape.h - make names that come from the observed system (comm,
 * cmdline, thread names, VM names; or a snapshot file given to report or
 * diff) safe to print.  Pure: no I/O beyond the FILE helper.
 *
 * Text escaping (ps(1)/perf style): every byte that could drive a terminal
 * is written as a C-style "\xNN" escape:
 *   - C0 controls 0x00-0x1f and DEL 0x7f,
 *   - bytes that are not part of a well-formed UTF-8 sequence (stray
 *     continuation bytes, overlong forms, surrogates, > U+10FFFF,
 *     truncated sequences),
 *   - the UTF-8 forms of the C1 controls U+0080-U+009F (U+009B is a CSI
 *     for some terminals) and of the bidirectional controls U+200E/F,
 *     U+202A-U+202E, U+2066-U+2069 (they reorder what follows),
 * and a backslash is written as "\\", so the output is unambiguous: any
 * "\x" in it is an escape.  Printable ASCII and other well-formed UTF-8
 * pass through unchanged.
 */
#ifndef __KL_ESCAPE_H
#define __KL_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

/*
 * Escape src (NUL-terminated; NULL is treated as "") into dst of size
 * dlen (dlen >= 1: always NUL-terminated).  When dst is too small the
 * output stops before the first escape or UTF-8 sequence that does not
 * fit whole.  Returns the length the complete escaped string has (like
 * snprintf), so a result >= dlen means it was truncated.
 */
size_t kl_escape(char *dst, size_t dlen, const char *src);

/* Same for the first len bytes of src (which may hold NULs: "\x00"). */
size_t kl_escape_mem(char *dst, size_t dlen, const char *src, size_t len);

/* Write the escaped form of src to f.  Returns what fputs() returns. */
int kl_fputs_escaped(const char *src, FILE *f);

/*
 * Text for an XML or HTML document (JUnit, report --html): < > & " and '
 * as character references (&#39; for ', valid in both), other control
 * bytes than tab and newline (not allowed in XML 1.0) as '?'.  NULL
 * writes nothing.
 */
void kl_fputs_markup(const char *src, FILE *f);

/*
 * Prometheus label value: the text escape above (so the value is valid
 * UTF-8 without controls), then the exposition format's own escapes:
 * backslash -> "\\", double quote -> "\"", newline -> "\n" (the latter
 * cannot occur after the text escape).  Write the result between the
 * double quotes of name="...".  Same dst/dlen/return rules as kl_escape().
 * Example: "a\e[2J\"b" -> a\\x1b[2J\"b (Prometheus reads a\x1b[2J"b).
 */
size_t kl_escape_prom_label(char *dst, size_t dlen, const char *src);

#endif /* __KL_ESCAPE_H */
