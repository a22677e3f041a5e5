/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the BPF test binaries. */
#ifndef KL_TEST_UTIL_H
#define KL_TEST_UTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <linux/types.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* libbpf messages go to a buffer; printed only when something fails. */
static char kl_log[1 << 16];
static size_t kl_log_len;

static int kl_log_cb(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	int n;

	if (level == LIBBPF_DEBUG)
		return 0;
	if (kl_log_len >= sizeof(kl_log) - 1)
		return 0;
	n = vsnprintf(kl_log + kl_log_len, sizeof(kl_log) - kl_log_len, fmt, ap);
	if (n > 0)
		kl_log_len += (size_t)n;
	if (kl_log_len > sizeof(kl_log) - 1)
		kl_log_len = sizeof(kl_log) - 1;
	return 0;
}

static inline void kl_log_reset(void)
{
	kl_log_len = 0;
	kl_log[0] = '\0';
}

#endif
