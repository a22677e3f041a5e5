// SPDX-License-Identifier: GPL-2.0
/*
 * kl_exports_tool.c - test driver for the exporter code without BPF:
 *   kl-exports report|diff|gate ARGS...    the real subcommands
 *   kl-exports prom [--vcpu] [--om] [--vm-buckets] FILE.json
 *   kl-exports serve ADDR FILE.json [--vcpu]  /metrics from FILE.json, re-read
 *                                          on every scrape, until SIGTERM
 *   kl-exports caps                          caps_drop_after_attach(), then
 *                                          print Cap* lines of /proc/self/status
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "prom_caps.h"
#include "prom_internal.h"
#include "kl_model.h"

static volatile sig_atomic_t stop;
static void on_sig(int s) { (void)s; stop = 1; }

static const struct kl_snap *file_snapshot(void *ctx)
{
	struct kl_snap *s = malloc(sizeof(*s));
	char err[256];

	if (s && kl_snap_load(s, ctx, err, sizeof(err))) {
		fprintf(stderr, "serve: %s\n", err);
		free(s);
		s = NULL;
	}
	return s;
}

static void file_snapshot_put(void *ctx, const struct kl_snap *s)
{
	(void)ctx;
	kl_snap_free((struct kl_snap *)s);
	free((struct kl_snap *)s);
}

static int prom_file(int argc, char **argv)
{
	struct prom_opts o = { 0 };
	const char *file = NULL;
	struct kl_snap s;
	char err[256];
	int i, rc;

	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--vcpu"))
			o.per_vcpu = true;
		else if (!strcmp(argv[i], "--om"))
			o.openmetrics = true;
		else if (!strcmp(argv[i], "--vm-buckets"))
			o.vm_buckets = true;
		else
			file = argv[i];
	}
	if (!file)
		return 2;
	if (kl_snap_load(&s, file, err, sizeof(err))) {
		fprintf(stderr, "prom: %s\n", err);
		return 2;
	}
	rc = prom_write_snap(stdout, &s, &o);
	kl_snap_free(&s);
	return rc ? 1 : 0;
}

static void print_caps(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "Cap", 3) || !strncmp(line, "NoNewPrivs", 10))
			fputs(line, stdout);
	if (f)
		fclose(f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: kl-exports report|diff|gate|prom|serve|caps ...\n");
		return 2;
	}
	if (!strcmp(argv[1], "report"))
		return cmd_report(argc - 1, argv + 1);
	if (!strcmp(argv[1], "diff"))
		return cmd_diff(argc - 1, argv + 1);
	if (!strcmp(argv[1], "gate"))
		return cmd_gate(argc - 1, argv + 1);
	if (!strcmp(argv[1], "prom"))
		return prom_file(argc, argv);
	if (!strcmp(argv[1], "serve") && argc >= 4) {
		struct kl_http_opts o = {
			.addr = argv[2], .snapshot = file_snapshot,
			.put = file_snapshot_put, .ctx = argv[3],
			.per_vcpu = argc > 4 && !strcmp(argv[4], "--vcpu"),
		};
		struct kl_http *h;
		int rc;

		signal(SIGTERM, on_sig);
		signal(SIGINT, on_sig);
		rc = http_serve(&o, &h);
		if (rc)
			return rc;
		printf("LISTENING %s pid=%d\n", argv[2], (int)getpid());
		fflush(stdout);
		while (!stop)
			pause();
		http_stop(h);
		return 0;
	}
	if (!strcmp(argv[1], "caps")) {
		int rc = caps_drop_after_attach();

		print_caps();
		return rc ? 1 : 0;
	}
	fprintf(stderr, "kl-exports: unknown command %s\n", argv[1]);
	return 2;
}
