// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_readers.c - structure-aware libFuzzer target for every reader of a
 * snapshot file.  The custom mutator parses the input as JSON (the corpus
 * is valid snapshots) and changes one node at a random JSON path: a type
 * swap, a deletion, a huge or negative number, NaN/Infinity, deep
 * nesting, a copy of another node, a hostile string or key.  Each input
 * then goes through the real subcommands, as a file:
 *   report --vcpu, report --html, diff (as NEW and as BASE), gate.
 * Invariants (abort() = a finding):
 *   - snap_parse() accepts it, and then report/diff/HTML exit 0 with
 *     output and nothing on stderr, gate exits 0, 1 or 2;
 *   - or snap_parse() rejects it with a one-line printable message, and
 *     then every subcommand exits 2 with exactly that one line on stderr.
 * KL_FUZZ_DATA (compile time) is tests/unit/exports/data.
 */
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "commands.h"
#include "snapshot_read.h"

#ifndef KL_FUZZ_DATA
#error "build with -DKL_FUZZ_DATA=\"tests/unit/exports/data\""
#endif

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

static char dir[64], snap_path[96], rules_path[96], html_path[96];
static const char *golden = KL_FUZZ_DATA "/golden.json";
static int out_fd = -1, err_fd = -1, saved_out = -1, saved_err = -1;

static const char rules[] =
	"kvm_runs >= 0\n"
	"gstage_fault_fast / gstage_fault_* >= 0\n"
	"vcpu_load_fast ratio >= 0\n"
	"kvm_run_ns.p99 >= 0\n"
	"exit_latency_ns.count >= 0\n"
	"overhead.collector_cpu_pct >= 0\n"
	"overhead.drops.vcpu_map_full >= 0\n"
	"reasons.userspace_exit.KVM_EXIT_MMIO >= 0\n";

static void die(const char *what)
{
	fprintf(stderr, "fuzz_readers: %s\n", what);
	abort();
}

static void write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "w");

	if (!f || (len && fwrite(buf, 1, len, f) != len) || fclose(f))
		die("cannot write a scratch file");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (access(golden, R_OK))
		die("cannot read " KL_FUZZ_DATA "/golden.json");
	snprintf(dir, sizeof(dir), "/tmp/kl-fuzz-readers.XXXXXX");
	if (!mkdtemp(dir))
		die("mkdtemp");
	snprintf(snap_path, sizeof(snap_path), "%s/s.json", dir);
	snprintf(rules_path, sizeof(rules_path), "%s/r.rules", dir);
	snprintf(html_path, sizeof(html_path), "%s/r.html", dir);
	write_file(rules_path, rules, sizeof(rules) - 1);
	out_fd = open(dir, O_TMPFILE | O_RDWR, 0600);
	err_fd = open(dir, O_TMPFILE | O_RDWR, 0600);
	saved_out = dup(1);
	saved_err = dup(2);
	if (out_fd < 0 || err_fd < 0 || saved_out < 0 || saved_err < 0)
		die("cannot set up the output capture");
	return 0;
}

/* ---- the custom mutator ------------------------------------------- */

struct slot {
	struct json_object *parent;	/* NULL: the root */
	const char *key;		/* object member, else array index */
	size_t idx;
	struct json_object *val;
};

struct slots {
	struct slot *s;
	size_t n, cap;
};

static uint64_t rnd(uint64_t *st)
{
	*st ^= *st << 13;
	*st ^= *st >> 7;
	*st ^= *st << 17;
	return *st;
}

static void add_slot(struct slots *sl, struct json_object *parent, const char *key,
		     size_t idx, struct json_object *val)
{
	if (sl->n == sl->cap) {
		struct slot *n = realloc(sl->s, (sl->cap ? sl->cap * 2 : 256) * sizeof(*n));

		if (!n)
			die("out of memory");
		sl->s = n;
		sl->cap = sl->cap ? sl->cap * 2 : 256;
	}
	sl->s[sl->n++] = (struct slot){ parent, key, idx, val };
}

static void collect(struct slots *sl, struct json_object *o)
{
	size_t i;

	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v) {
			add_slot(sl, o, k, 0, v);
			collect(sl, v);
		}
	} else if (json_object_is_type(o, json_type_array)) {
		for (i = 0; i < json_object_array_length(o); i++) {
			struct json_object *v = json_object_array_get_idx(o, i);

			add_slot(sl, o, NULL, i, v);
			collect(sl, v);
		}
	}
}

/* A value of some type, often the edge of a range. */
static struct json_object *new_value(uint64_t *st)
{
	static const char *const strs[] = {
		"", "x", "1.0", "2.0", "ns", "us", "attached", "\x1b[2J\x1b]0;t\x07", "a\nb",
		"KVM_EXIT_IOO", "-1", "NaN",
	};
	struct json_object *o;

	switch (rnd(st) % 16) {
	case 0: return NULL;
	case 1: return json_object_new_boolean(rnd(st) & 1);
	case 2: return json_object_new_int64(-1);
	case 3: return json_object_new_int64(INT64_MIN);
	case 4: return json_object_new_uint64(UINT64_MAX);
	case 5: return json_object_new_uint64((uint64_t)INT64_MAX + 1);
	case 6: return json_object_new_int64((int64_t)(rnd(st) % 5));
	case 7: return json_object_new_double(-0.5);
	case 8: return json_object_new_double(1e300);
	case 9: return json_object_new_double(NAN);
	case 10: return json_object_new_double(rnd(st) & 1 ? INFINITY : -INFINITY);
	case 11: return json_object_new_double(1.5);
	case 12: return json_object_new_string(strs[rnd(st) % (sizeof(strs) / sizeof(strs[0]))]);
	case 13: return json_object_new_array();
	case 14: return json_object_new_object();
	default:
		o = json_object_new_array();
		json_object_array_add(o, json_object_new_int64(1));
		return o;
	}
}

/* v wrapped in depth arrays / objects (the parser allows 64 levels). */
static struct json_object *nest(struct json_object *v, unsigned int depth, uint64_t *st)
{
	while (depth--) {
		struct json_object *o;

		if (rnd(st) & 1) {
			o = json_object_new_array();
			json_object_array_add(o, v);
		} else {
			o = json_object_new_object();
			json_object_object_add(o, "n", v);
		}
		v = o;
	}
	return v;
}

static void put(struct json_object **root, const struct slot *s, struct json_object *v)
{
	if (!s->parent) {
		json_object_put(*root);
		*root = v;
	} else if (s->key) {
		json_object_object_add(s->parent, s->key, v);
	} else {
		json_object_array_put_idx(s->parent, s->idx, v);
	}
}

static void mutate_one(struct json_object **root, uint64_t *st)
{
	struct slots sl = { 0 };
	struct slot s;
	struct json_object *v = NULL;
	char key[80], old[64];

	add_slot(&sl, NULL, NULL, 0, *root);
	collect(&sl, *root);
	s = sl.s[rnd(st) % sl.n];	/* [0] is the root */
	switch (rnd(st) % 8) {
	case 0:		/* type swap / edge value */
	case 1:
		put(root, &s, new_value(st));
		break;
	case 2:		/* deletion */
		if (!s.parent)
			break;
		if (s.key) {
			snprintf(key, sizeof(key), "%s", s.key);
			json_object_object_del(s.parent, key);
		} else {
			json_object_array_del_idx(s.parent, s.idx, 1);
		}
		break;
	case 3:		/* a number at the edge of its range, same path */
		switch (rnd(st) % 4) {
		case 0: v = json_object_new_int64(-(int64_t)(rnd(st) % 1000) - 1); break;
		case 1: v = json_object_new_uint64(UINT64_MAX - rnd(st) % 3); break;
		case 2: v = json_object_new_double((double)(rnd(st) % 1000) + 0.25); break;
		default: v = json_object_new_int64(0); break;
		}
		put(root, &s, v);
		break;
	case 4:		/* deep nesting around the value or around a new one */
		if (json_object_deep_copy(s.val, &v, NULL) || !v)
			v = new_value(st);
		put(root, &s, nest(v, 1 + rnd(st) % 80, st));
		break;
	case 5: {	/* a copy of another node (structure from elsewhere) */
		const struct slot *o = &sl.s[rnd(st) % sl.n];

		if (o->val == *root || json_object_deep_copy(o->val, &v, NULL))
			break;
		put(root, &s, v);
		break;
	}
	case 6:		/* rename a member: misspelt or hostile key */
		if (!s.parent || !s.key)
			break;
		snprintf(old, sizeof(old), "%s", s.key);
		v = json_object_get(s.val);
		json_object_object_del(s.parent, old);
		switch (rnd(st) % 3) {
		case 0:
			snprintf(key, sizeof(key), "%.*s", (int)(strlen(old) ? strlen(old) - 1 : 0), old);
			break;
		case 1:
			snprintf(key, sizeof(key), "\x1b[31m%s\n", old);
			break;
		default:
			snprintf(key, sizeof(key), "%s_x", old);
			break;
		}
		json_object_object_add(s.parent, key, v);
		break;
	default:	/* an extra member / element */
		if (json_object_is_type(s.val, json_type_object))
			json_object_object_add(s.val, "extra", new_value(st));
		else if (json_object_is_type(s.val, json_type_array))
			json_object_array_add(s.val, new_value(st));
		else
			put(root, &s, new_value(st));
		break;
	}
	free(sl.s);
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	struct json_tokener *tok = json_tokener_new_ex(64);
	struct json_object *root;
	uint64_t st = seed | 1ull << 40;
	const char *text;
	size_t len, n;

	if (!tok)
		die("out of memory");
	root = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(root, json_type_object) || rnd(&st) % 16 == 0) {
		/* not a JSON object any more: plain byte mutations */
		json_object_put(root);
		json_tokener_free(tok);
		return LLVMFuzzerMutate(data, size, max_size);
	}
	json_tokener_free(tok);
	for (n = 1 + rnd(&st) % 3; n; n--)
		mutate_one(&root, &st);
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
	len = text ? strlen(text) : 0;
	if (!text || len > max_size) {
		json_object_put(root);
		return LLVMFuzzerMutate(data, size, max_size);
	}
	memcpy(data, text, len);
	json_object_put(root);
	return len;
}

/* ---- the readers ---------------------------------------------------- */

struct run {
	int rc;
	size_t out_len;
	char err[1024];
	size_t err_len;
};

static void capture_reset(int fd)
{
	if (ftruncate(fd, 0) || lseek(fd, 0, SEEK_SET))
		die("cannot reset the capture file");
}

/* Run a subcommand with stdout and stderr captured. */
static void run(int (*cmd)(int, char **), struct run *r, int argc, const char **argv)
{
	ssize_t n;

	capture_reset(out_fd);
	capture_reset(err_fd);
	fflush(stdout);
	fflush(stderr);
	if (dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
		die("dup2");
	r->rc = cmd(argc, (char **)argv);
	fflush(stdout);
	fflush(stderr);
	if (dup2(saved_out, 1) < 0 || dup2(saved_err, 2) < 0)
		die("dup2");
	r->out_len = (size_t)lseek(out_fd, 0, SEEK_END);
	n = pread(err_fd, r->err, sizeof(r->err) - 1, 0);
	r->err_len = n > 0 ? (size_t)n : 0;
	r->err[r->err_len] = 0;
}

/* len bytes of printable ASCII (no terminal control, no newline) */
static bool printable(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* Exactly one non-empty line of printable ASCII, ending in a newline. */
static bool one_line(const char *s, size_t len)
{
	return len > 1 && s[len - 1] == '\n' && printable(s, len - 1);
}

/* valid: exit 0, nothing on stderr, output on stdout when want_out;
 * else exit 2 and one line on stderr holding snap_parse()'s message. */
static void check(const char *what, const struct run *r, bool valid, bool want_out,
		  const char *msg)
{
	if (valid) {
		if (r->rc != 0 || (want_out && !r->out_len) || r->err_len) {
			fprintf(stderr, "fuzz_readers: %s on a valid snapshot: exit %d, %zu bytes out, stderr '%s'\n",
				what, r->rc, r->out_len, r->err);
			abort();
		}
		return;
	}
	if (r->rc != 2 || !one_line(r->err, r->err_len) || !strstr(r->err, msg)) {
		fprintf(stderr, "fuzz_readers: %s on a bad snapshot: exit %d, stderr '%s', want one line with '%s'\n",
			what, r->rc, r->err, msg);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *report[] = { "report", "--vcpu", snap_path, NULL };
	const char *html[] = { "report", "--html", html_path, golden, snap_path, NULL };
	const char *diff_new[] = { "diff", golden, snap_path, NULL };
	const char *diff_base[] = { "diff", snap_path, golden, NULL };
	const char *gate[] = { "gate", "--rules", rules_path, snap_path, NULL };
	struct json_object *s;
	char err[512] = "";
	struct run r;
	bool valid;

	s = snap_parse((const char *)data, size, err, sizeof(err));
	valid = s != NULL;
	json_object_put(s);
	if (!valid && (!*err || !printable(err, strlen(err))))
		die("snap_parse() failed without a one-line printable message");
	write_file(snap_path, data, size);

	run(cmd_report, &r, 3, report);
	check("report --vcpu", &r, valid, true, err);
	run(cmd_report, &r, 5, html);		/* the page goes to html_path */
	check("report --html", &r, valid, false, err);
	run(cmd_diff, &r, 3, diff_new);
	check("diff (as NEW)", &r, valid, true, err);
	run(cmd_diff, &r, 3, diff_base);
	check("diff (as BASE)", &r, valid, true, err);
	run(cmd_gate, &r, 4, gate);
	if (valid ? r.rc < 0 || r.rc > 2 || (r.rc == 2 && !one_line(r.err, r.err_len))
		  : r.rc != 2 || !one_line(r.err, r.err_len) || !strstr(r.err, err)) {
		fprintf(stderr, "fuzz_readers: gate: exit %d, stderr '%s' (snapshot %s)\n",
			r.rc, r.err, valid ? "valid" : err);
		abort();
	}
	return 0;
}
