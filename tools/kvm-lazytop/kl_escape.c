// SPDX-License-Identifier: GPL-2.0-only
/* kl_escape.c - escaping of untrusted names, see kl_escape.h. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kl_escape.h"

/* Output under construction: pieces are appended whole or not at all. */
struct esc_out {
	char *dst;
	size_t dlen;
	size_t used;	/* bytes written to dst (excluding the NUL) */
	size_t total;	/* bytes the complete output needs */
	bool full;	/* a piece did not fit: write nothing more */
	bool prom;	/* apply the exposition-format escapes too */
};

static void put_piece(struct esc_out *o, const char *p, size_t n)
{
	char tmp[16];
	size_t m = 0;

	/* a piece is at most 4 bytes; with prom escaping at most 8 */
	for (size_t i = 0; i < n; i++) {
		if (o->prom && (p[i] == '\\' || p[i] == '"'))
			tmp[m++] = '\\';
		tmp[m++] = p[i];
	}
	o->total += m;
	if (o->full || o->used + m >= o->dlen) {
		o->full = true;
		return;
	}
	memcpy(o->dst + o->used, tmp, m);
	o->used += m;
}

static void put_hex(struct esc_out *o, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char e[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };

	put_piece(o, e, sizeof(e));
}

/*
 * Length of the well-formed UTF-8 sequence at s[0..len) (2-4), with its
 * code point in *cp, or 0 if s[0] does not start one (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF).
 */
static size_t utf8_seq(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t n;
	uint32_t c, min;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2; c = s[0] & 0x1f; min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3; c = s[0] & 0x0f; min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4; c = s[0] & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* Code points that are well-formed but steer the terminal or the text flow. */
static bool cp_unsafe(uint32_t c)
{
	return (c >= 0x80 && c <= 0x9f) ||		/* C1 controls (0x9b = CSI) */
	       c == 0x200e || c == 0x200f ||		/* LRM, RLM */
	       (c >= 0x202a && c <= 0x202e) ||		/* LRE..RLO */
	       (c >= 0x2066 && c <= 0x2069);		/* LRI..PDI */
}

static size_t escape_core(char *dst, size_t dlen, const char *src, size_t len, bool prom)
{
	struct esc_out o = { .dst = dst, .dlen = dlen, .prom = prom };
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		uint32_t cp;
		size_t n;

		if (c == '\\') {
			put_piece(&o, "\\\\", 2);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			put_hex(&o, c);
			i++;
		} else if (c < 0x80) {
			put_piece(&o, (const char *)&s[i], 1);
			i++;
		} else if ((n = utf8_seq(&s[i], len - i, &cp)) == 0) {
			put_hex(&o, c);		/* resynchronise on the next byte */
			i++;
		} else if (cp_unsafe(cp)) {
			for (size_t k = 0; k < n; k++)
				put_hex(&o, s[i + k]);
			i += n;
		} else {
			put_piece(&o, (const char *)&s[i], n);
			i += n;
		}
	}
	if (dlen)
		dst[o.used] = 0;
	return o.total;
}

size_t kl_escape_mem(char *dst, size_t dlen, const char *src, size_t len)
{
	return escape_core(dst, dlen, src ? src : "", src ? len : 0, false);
}

size_t kl_escape(char *dst, size_t dlen, const char *src)
{
	return kl_escape_mem(dst, dlen, src, src ? strlen(src) : 0);
}

size_t kl_escape_prom_label(char *dst, size_t dlen, const char *src)
{
	return escape_core(dst, dlen, src ? src : "", src ? strlen(src) : 0, true);
}

void kl_fputs_markup(const char *src, FILE *f)
{
	static const char *const ent[] = {
		['<'] = "&lt;", ['>'] = "&gt;", ['&'] = "&amp;", ['"'] = "&quot;", ['\''] = "&#39;",
	};

	for (; src && *src; src++) {
		unsigned char c = (unsigned char)*src;

		if (c < sizeof(ent) / sizeof(ent[0]) && ent[c])
			fputs(ent[c], f);
		else if (c < 0x20 && c != '\t' && c != '\n')
			fputc('?', f);
		else
			fputc(c, f);
	}
}

int kl_fputs_escaped(const char *src, FILE *f)
{
	char buf[256], *p = buf;
	size_t need = kl_escape(buf, sizeof(buf), src);
	int rc;

	if (need >= sizeof(buf)) {
		p = malloc(need + 1);
		if (!p)
			return EOF;
		kl_escape(p, need + 1, src);
	}
	rc = fputs(p, f);
	if (p != buf)
		free(p);
	return rc;
}
