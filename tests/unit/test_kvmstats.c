// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * test_kvmstats.c - KVM's own vCPU stats through debugfs (kl_kvmstats.h):
 * the stat file and directory name parsers, a synthetic debugfs tree
 * (baseline at attach, VMs born later from zero, only the names found,
 * final counts kept after the VMM exited), the snapshot member
 * "kvm_stats" (writer, reader, validator) and the text report line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "kl_kvmstats.h"
#include "kl_model.h"
#include "kl_state.h"
#include "render.h"

static void test_parse(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_int_equal(kl_kvmstats_parse("123\n", 4, &v), 0);
	assert_int_equal(v, 123);
	assert_int_equal(kl_kvmstats_parse("0", 1, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(kl_kvmstats_parse("18446744073709551615\n", 21, &v), 0);
	assert_true(v == UINT64_MAX);
	v = 5;
	assert_int_equal(kl_kvmstats_parse("", 0, &v), -1);
	assert_int_equal(kl_kvmstats_parse("\n", 1, &v), -1);
	assert_int_equal(kl_kvmstats_parse("12a\n", 4, &v), -1);
	assert_int_equal(kl_kvmstats_parse("-1\n", 3, &v), -1);
	assert_int_equal(kl_kvmstats_parse("99999999999999999999\n", 21, &v), -1);
	assert_int_equal(v, 5);	/* untouched on error */
}

static void test_dir_pid(void **state)
{
	(void)state;
	assert_int_equal(kl_kvmstats_dir_pid("4599-4"), 4599);
	assert_int_equal(kl_kvmstats_dir_pid("1-12"), 1);
	assert_int_equal(kl_kvmstats_dir_pid("blocking"), 0);
	assert_int_equal(kl_kvmstats_dir_pid("0-4"), 0);
	assert_int_equal(kl_kvmstats_dir_pid("12-"), 0);
	assert_int_equal(kl_kvmstats_dir_pid("12-3x"), 0);
	assert_int_equal(kl_kvmstats_dir_pid("12"), 0);
	assert_int_equal(kl_kvmstats_dir_pid("99999999999-1"), 0);
}

static void put(const char *root, const char *dir, const char *name, const char *text)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, dir);
	mkdir(p, 0700);
	if (!name)
		return;
	snprintf(p, sizeof(p), "%s/%s/%s", root, dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A pid that no process has (a reaped child's). */
static pid_t dead_pid(void)
{
	pid_t p = fork();

	if (!p)
		_exit(0);
	assert_true(p > 0);
	waitpid(p, NULL, 0);
	return p;
}

#define OTHER_PID	4194301	/* below the largest pid_max, never one of ours */

static void test_tree(void **state)
{
	char root[] = "/tmp/kl-kvmstats-XXXXXX", me[32], late[32], other[32], gone[32];
	struct kl_kvmstats ks;
	struct kl_kstat_vals v;
	pid_t dead = dead_pid();

	(void)state;
	assert_non_null(mkdtemp(root));
	snprintf(me, sizeof(me), "%d-11", (int)getpid());
	snprintf(late, sizeof(late), "%d-12", (int)getpid());
	snprintf(other, sizeof(other), "%d-4", OTHER_PID);
	snprintf(gone, sizeof(gone), "%d-5", (int)dead);
	put(root, me, "vcpu_load_fast", "100\n");
	put(root, me, "gstage_fault_fast", "40\n");
	put(root, me, "exits", "999\n");	/* not one of ours */
	put(root, other, "vcpu_load_fast", "1\n");
	put(root, gone, "gstage_fault_slow", "2\n");
	put(root, "blocking", NULL, NULL);	/* KVM's global stats are files, a dir here */

	kl_kvmstats_open(&ks, root, 0, false);
	assert_int_equal(ks.nr_dirs, 3);
	assert_false(kl_kvmstats_get(&ks, (uint32_t)getpid() + 7, &v));
	/* at attach: present, but nothing since attach */
	assert_true(kl_kvmstats_get(&ks, (uint32_t)getpid(), &v));
	assert_int_equal(v.has, 1U << KL_KS_VCPU_LOAD_FAST | 1U << KL_KS_GSTAGE_FAULT_FAST);
	assert_int_equal(v.v[KL_KS_VCPU_LOAD_FAST], 0);

	put(root, me, "vcpu_load_fast", "130\n");
	put(root, me, "gstage_fault_fast", "45\n");
	put(root, late, "gstage_fault_fast", "8\n");	/* born after attach: from 0 */
	put(root, late, "vcpu_load_slow", "3\n");
	put(root, gone, "gstage_fault_slow", "6\n");
	kl_kvmstats_update(&ks);
	assert_int_equal(ks.nr_dirs, 4);
	assert_true(kl_kvmstats_get(&ks, (uint32_t)getpid(), &v));
	assert_int_equal(v.v[KL_KS_VCPU_LOAD_FAST], 30);
	assert_int_equal(v.v[KL_KS_GSTAGE_FAULT_FAST], 5 + 8);
	assert_int_equal(v.v[KL_KS_VCPU_LOAD_SLOW], 3);
	assert_int_equal(v.has, 1U << KL_KS_VCPU_LOAD_FAST | 1U << KL_KS_GSTAGE_FAULT_FAST |
			 1U << KL_KS_VCPU_LOAD_SLOW);
	/* the exited VMM's files were read, then closed: its counts stay */
	assert_true(kl_kvmstats_get(&ks, (uint32_t)dead, &v));
	assert_int_equal(v.v[KL_KS_GSTAGE_FAULT_SLOW], 4);
	for (size_t d = 0; d < ks.nr_dirs; d++)
		assert_true(ks.dirs[d].pid != (uint32_t)dead || (ks.dirs[d].hold == -1 && ks.dirs[d].gone));
	put(root, gone, "gstage_fault_slow", "60\n");
	kl_kvmstats_update(&ks);
	assert_true(kl_kvmstats_get(&ks, (uint32_t)dead, &v));
	assert_int_equal(v.v[KL_KS_GSTAGE_FAULT_SLOW], 4);
	kl_kvmstats_close(&ks);

	/* -p: only the target's directories */
	kl_kvmstats_open(&ks, root, OTHER_PID, false);
	assert_int_equal(ks.nr_dirs, 1);
	kl_kvmstats_close(&ks);
	/* no debugfs: no stats, no error */
	kl_kvmstats_open(&ks, "/nonexistent/kvm", 0, false);
	kl_kvmstats_update(&ks);
	assert_int_equal(ks.nr_dirs, 0);
	kl_kvmstats_close(&ks);
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		assert_int_equal(system(cmd), 0);
	}
}

/* state -> model -> JSON -> model -> text. */
static void test_snapshot(void **state)
{
	struct kl_state st;
	struct kl_snap s, back;
	struct json_object *j, *ks;
	struct kl_vm *vm;
	char err[256], *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	kl_state_init(&st);
	snprintf(st.arch, sizeof(st.arch), "riscv64");
	st.ncpus = 1;
	vm = kl_state_vm(&st, 42);
	vm->kstat_has = 1U << KL_KS_VCPU_LOAD_FAST | 1U << KL_KS_VCPU_LOAD_SLOW |
			1U << KL_KS_GSTAGE_FAULT_FAST | 1U << KL_KS_GSTAGE_FAULT_SLOW |
			1U << KL_KS_GSTAGE_FAULT_NOT_HOST_WRITABLE;
	for (int k = 0; k < KL_KS_NR; k++)
		vm->kstat[k] = 10 + (uint64_t)k;
	kl_state_vm(&st, 43);	/* no stats: no member */
	assert_int_equal(kl_snap_from_state(&s, &st), 0);
	j = kl_snap_json(&s);
	assert_non_null(j);
	assert_string_equal(json_object_get_string(json_object_object_get(j, "schema_version")), KL_SCHEMA_VERSION);
	ks = json_object_object_get(json_object_array_get_idx(json_object_object_get(j, "vms"), 0), "kvm_stats");
	assert_string_equal(json_object_to_json_string_ext(ks, JSON_C_TO_STRING_PLAIN),
			    "{\"vcpu_load_fast\":10,\"vcpu_load_slow\":11,\"gstage_fault_fast\":12,"
			    "\"gstage_fault_slow\":13,\"gstage_fault_not_host_writable\":14}");
	assert_null(json_object_object_get(json_object_array_get_idx(json_object_object_get(j, "vms"), 1),
					   "kvm_stats"));
	if (kl_snap_read(&back, j, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(back.vms[0].kstat_has, s.vms[0].kstat_has);
	assert_memory_equal(back.vms[0].kstat, s.vms[0].kstat, sizeof(back.vms[0].kstat));
	assert_int_equal(back.vms[1].kstat_has, 0);
	f = open_memstream(&buf, &len);
	assert_int_equal(render_text(f, &back, NULL), 0);
	fclose(f);
	assert_non_null(strstr(buf, "    kvm stats: vcpu_load fast 10 slow 11; gstage_fault fast 12 slow 13 "
				"not_host_writable 14\n"));
	assert_null(strstr(strstr(buf, "kvm stats:") + 1, "kvm stats:"));	/* VM 43: none */
	free(buf);
	kl_snap_free(&back);
	/* a wrong type fails with the validator's one-line path */
	json_object_object_add(ks, "vcpu_load_fast", json_object_new_string("x"));
	assert_int_equal(kl_snap_read(&back, j, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "vms[0].kvm_stats.vcpu_load_fast: expected"));
	json_object_put(j);
	kl_snap_free(&s);
	kl_state_free(&st);
}

/* A VM whose stats are all zero is never held open (see drop_idle). */
static void test_idle_not_held(void **state)
{
	char root[] = "/tmp/kl-kvmstats-XXXXXX", vm[32], cmd[600];
	struct kl_kvmstats ks;
	struct kl_kstat_vals v;

	(void)state;
	assert_non_null(mkdtemp(root));
	snprintf(vm, sizeof(vm), "%d-10", (int)getpid());
	put(root, vm, "vcpu_load_fast", "0\n");	/* lz_util gate's VM: no vCPU */
	put(root, vm, "gstage_fault_fast", "0\n");
	kl_kvmstats_open(&ks, root, (uint32_t)getpid(), false);
	assert_int_equal(ks.nr_dirs, 0);		/* read, then let go */
	/* the VMM replaced it by a VM at the same fd number, which ran */
	put(root, vm, "vcpu_load_fast", "9\n");
	put(root, vm, "gstage_fault_fast", "4\n");
	kl_kvmstats_update(&ks);
	assert_int_equal(ks.nr_dirs, 1);		/* now held: its final counts */
	assert_true(ks.dirs[0].hold >= 0);
	assert_true(kl_kvmstats_get(&ks, (uint32_t)getpid(), &v));
	assert_int_equal(v.v[KL_KS_VCPU_LOAD_FAST], 9);	/* from zero */
	assert_int_equal(v.v[KL_KS_GSTAGE_FAULT_FAST], 4);
	kl_kvmstats_close(&ks);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_dir_pid),
		cmocka_unit_test(test_tree),
		cmocka_unit_test(test_idle_not_held),
		cmocka_unit_test(test_snapshot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
