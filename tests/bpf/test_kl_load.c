// SPDX-License-Identifier: GPL-2.0
/*
 * test_kl_load - load the PRODUCTION kvm_lazytop programs on this kernel.
 *
 * 1. Each production program alone (verifier acceptance), reported with
 *    its verified instruction count or the kernel's refusal.  Programs
 *    whose hook this kernel has must load; fentry/fexit may be refused
 *    (lockdown, missing BTF target): the refusal must be clean.
 * 2. Every program that loaded, together, at the default map sizes, and
 *    attached where the hook exists — the collector's real configuration.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "kl_test_util.h"
#include "kvm_lazytop.h"
#include "kvm_lazytop.skel.h"

#define MAX_PROGS 64

static struct {
	char name[64];
	char sec[96];
	bool tracing;		/* fentry/fexit */
	bool hook_exists;
	bool loaded;
} progs[MAX_PROGS];
static int nprogs;

static struct btf *vmlinux_btf;

static bool is_test_prog(const char *name)
{
	return !strncmp(name, "kl_test_", 8);
}

/* Does this kernel have the hook the program attaches to? */
static bool hook_exists(const char *sec)
{
	char buf[160];
	const char *hook = strchr(sec, '/');

	if (!hook)
		return false;
	hook++;
	if (!strncmp(sec, "tracepoint/", 11)) {
		snprintf(buf, sizeof(buf), "/sys/kernel/tracing/events/%s", hook);
		return access(buf, F_OK) == 0;
	}
	if (!strncmp(sec, "raw_tp/", 7)) {
		snprintf(buf, sizeof(buf), "btf_trace_%s", hook);
		return btf__find_by_name_kind(vmlinux_btf, buf, BTF_KIND_TYPEDEF) > 0;
	}
	/* fentry/fexit */
	return btf__find_by_name_kind(vmlinux_btf, hook, BTF_KIND_FUNC) > 0;
}

static int list_programs(void **state)
{
	struct kvm_lazytop_bpf *skel = kvm_lazytop_bpf__open();
	struct bpf_program *p;

	(void)state;
	if (!skel)
		return -1;
	vmlinux_btf = btf__load_vmlinux_btf();
	if (!vmlinux_btf) {
		kvm_lazytop_bpf__destroy(skel);
		return -1;
	}
	bpf_object__for_each_program(p, skel->obj) {
		const char *sec = bpf_program__section_name(p);

		if (is_test_prog(bpf_program__name(p)) || nprogs >= MAX_PROGS)
			continue;
		snprintf(progs[nprogs].name, sizeof(progs[nprogs].name), "%s", bpf_program__name(p));
		snprintf(progs[nprogs].sec, sizeof(progs[nprogs].sec), "%s", sec);
		progs[nprogs].tracing = !strncmp(sec, "fentry/", 7) || !strncmp(sec, "fexit/", 6);
		progs[nprogs].hook_exists = hook_exists(sec);
		nprogs++;
	}
	kvm_lazytop_bpf__destroy(skel);
	return 0;
}

static int free_btf(void **state)
{
	(void)state;
	btf__free(vmlinux_btf);
	return 0;
}

static void only(struct kvm_lazytop_bpf *skel, bool (*want)(int i))
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, skel->obj) {
		bool on = false;

		for (int i = 0; i < nprogs; i++)
			if (!strcmp(progs[i].name, bpf_program__name(p)))
				on = want(i);
		bpf_program__set_autoload(p, on);
	}
}

static int cur;
static bool want_cur(int i) { return i == cur; }
static bool want_loaded(int i) { return progs[i].loaded; }

static void shrink(struct kvm_lazytop_bpf *skel)
{
	bpf_map__set_max_entries(skel->maps.row_idx, 64);
	bpf_map__set_max_entries(skel->maps.rslots, 64);
	bpf_map__set_max_entries(skel->maps.rslot_key, 64);
	bpf_map__set_max_entries(skel->maps.reason_idx, 64);
	bpf_map__set_max_entries(skel->maps.hslots, 64);
	bpf_map__set_max_entries(skel->maps.hslot_key, 64);
	bpf_map__set_max_entries(skel->maps.hist_idx, 64);
	bpf_map__set_max_entries(skel->maps.test_ts, 1);
}

/* Each production program alone. */
static void test_each_program_verifies(void **state)
{
	int failures = 0;

	(void)state;
	for (cur = 0; cur < nprogs; cur++) {
		struct kvm_lazytop_bpf *skel = kvm_lazytop_bpf__open();
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		struct bpf_program *p;
		int err;

		assert_non_null(skel);
		only(skel, want_cur);
		shrink(skel);
		skel->rodata->have_series = true;
		skel->rodata->have_fentry = true;
		kl_log_reset();
		err = kvm_lazytop_bpf__load(skel);
		p = bpf_object__find_program_by_name(skel->obj, progs[cur].name);
		if (!err && !bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len)) {
			progs[cur].loaded = true;
			printf("  verifier: %-28s %-40s OK (%u insns verified, %u xlated)%s\n",
			       progs[cur].name, progs[cur].sec, info.verified_insns,
			       info.xlated_prog_len / 8,
			       progs[cur].hook_exists ? "" : " [hook absent here]");
		} else {
			const char *why = strstr(kl_log, "libbpf: prog '");

			printf("  verifier: %-28s %-40s REFUSED (%s)%s\n", progs[cur].name,
			       progs[cur].sec, strerror(err < 0 ? -err : err),
			       progs[cur].tracing ? " [fentry/fexit: tolerated]" : "");
			if (!progs[cur].tracing) {
				failures++;
				fprintf(stderr, "%s\n", why ? why : kl_log);
			}
		}
		kvm_lazytop_bpf__destroy(skel);
	}
	assert_int_equal(failures, 0);
}

/* All loadable programs at once, default map sizes, attached where possible. */
static void test_all_together_attach(void **state)
{
	struct kvm_lazytop_bpf *skel = kvm_lazytop_bpf__open();
	struct bpf_link *links[MAX_PROGS] = {};
	int attached = 0, err;

	(void)state;
	assert_non_null(skel);
	only(skel, want_loaded);
	skel->rodata->target_tgid = (__u32)getpid();
	kl_log_reset();
	err = kvm_lazytop_bpf__load(skel);
	if (err)
		fprintf(stderr, "%s\n", kl_log);
	assert_int_equal(err, 0);
	assert_int_equal(bpf_map__max_entries(skel->maps.slots), KL_MAX_SLOTS);
	assert_int_equal(bpf_map__max_entries(skel->maps.hslots), KL_MAX_HIST_KEYS);
	assert_int_equal(bpf_map__max_entries(skel->maps.rslots), KL_MAX_REASON_KEYS);

	for (int i = 0; i < nprogs; i++) {
		struct bpf_program *p;

		if (!progs[i].loaded || !progs[i].hook_exists)
			continue;
		p = bpf_object__find_program_by_name(skel->obj, progs[i].name);
		links[i] = bpf_program__attach(p);
		err = libbpf_get_error(links[i]);
		if (err) {
			links[i] = NULL;
			printf("  attach:   %-28s FAILED (%s)%s\n", progs[i].name, strerror(-err),
			       progs[i].tracing ? " [fentry/fexit: tolerated]" : "");
			if (!progs[i].tracing)
				fail_msg("attach of %s failed", progs[i].name);
		} else {
			printf("  attach:   %-28s OK\n", progs[i].name);
			attached++;
		}
	}
	/* let the attached programs run on real events for a moment */
	usleep(100 * 1000);
	for (int i = 0; i < nprogs; i++)
		bpf_link__destroy(links[i]);
	assert_true(attached > 0);
	kvm_lazytop_bpf__destroy(skel);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_program_verifies),
		cmocka_unit_test(test_all_together_attach),
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(kl_log_cb);
	return cmocka_run_group_tests_name("bpf_production_load", tests, list_programs, free_btf);
}
