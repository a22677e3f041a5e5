// SPDX-License-Identifier: GPL-2.0-only
/*
 * http.c - the /metrics exporter (`kvm-lazytop --listen ADDR:PORT`),
 * libmicrohttpd.  Read-only by construction: GET and HEAD of /metrics (and
 * /snapshot.json, the same snapshot as JSON),
 * 405 for any other method, 404 for any other path; MHD answers 4xx to
 * malformed or oversized requests.  One internal polling thread, bounded
 * connections, idle timeout and per-connection memory, so a load generator
 * cannot exhaust the process, and idle connections cannot starve scrapes:
 * the limits are far above what a scraper and a few browsers use (idle
 * connections from one address block nothing until HTTP_PER_IP_CONNECTIONS)
 * and an idle connection is closed after HTTP_TIMEOUT_S, so denying
 * scrapes takes a client re-opening hundreds of connections every few
 * seconds (tests/host/exports: 100 idle connections + a scraper).
 * The format follows the Accept header: OpenMetrics 1.0.0 when preferred
 * (Prometheus asks for it), the text format 0.0.4 otherwise.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <json-c/json.h>
#include <microhttpd.h>

#include "commands.h"
#include "kl_model.h"
#include "prom_internal.h"

#ifdef KL_MHD_DLOPEN
/*
 * kvm-lazytop (dynamic build) loads libmicrohttpd and its TLS stack
 * (gnutls, p11-kit, nettle, gmp...: ~2.4 MiB resident) only for --listen,
 * and only after the BPF load: they are not resident while libbpf parses
 * the kernel BTF, which sets the peak RSS.
 */
#include <dlfcn.h>

#ifndef KL_MHD_SONAME
#define KL_MHD_SONAME "libmicrohttpd.so.12"
#endif

static struct {
	__typeof__(MHD_add_response_header) *add_response_header;
	__typeof__(MHD_create_response_from_buffer) *create_response_from_buffer;
	__typeof__(MHD_destroy_response) *destroy_response;
	__typeof__(MHD_lookup_connection_value) *lookup_connection_value;
	__typeof__(MHD_queue_response) *queue_response;
	__typeof__(MHD_start_daemon) *start_daemon;
	__typeof__(MHD_stop_daemon) *stop_daemon;
} mhd;

static int mhd_load(void)
{
	void *h;

	if (mhd.start_daemon)
		return 0;
	h = dlopen(KL_MHD_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		h = dlopen("libmicrohttpd.so", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "kvm-lazytop: --listen: cannot load libmicrohttpd: %s\n", dlerror());
		return -1;
	}
#define MHD_SYM(n) do { *(void **)&mhd.n = dlsym(h, "MHD_" #n); if (!mhd.n) goto bad; } while (0)
	MHD_SYM(add_response_header);
	MHD_SYM(create_response_from_buffer);
	MHD_SYM(destroy_response);
	MHD_SYM(lookup_connection_value);
	MHD_SYM(queue_response);
	MHD_SYM(stop_daemon);
	MHD_SYM(start_daemon);	/* last: it marks the table complete */
#undef MHD_SYM
	return 0;
bad:
	fprintf(stderr, "kvm-lazytop: --listen: libmicrohttpd lacks a symbol: %s\n", dlerror());
	mhd.start_daemon = NULL;
	dlclose(h);
	return -1;
}

#define MHD_add_response_header		mhd.add_response_header
#define MHD_create_response_from_buffer	mhd.create_response_from_buffer
#define MHD_destroy_response		mhd.destroy_response
#define MHD_lookup_connection_value	mhd.lookup_connection_value
#define MHD_queue_response		mhd.queue_response
#define MHD_start_daemon		mhd.start_daemon
#define MHD_stop_daemon			mhd.stop_daemon
#else
static int mhd_load(void)
{
	return 0;
}
#endif

#define HTTP_MAX_CONNECTIONS	512	/* lowered to fit RLIMIT_NOFILE */
#define HTTP_PER_IP_CONNECTIONS	256
#define HTTP_FD_RESERVE		128	/* BPF maps, programs, links, /proc */
#define HTTP_TIMEOUT_S		3	/* idle connection closed after */
#define HTTP_CONN_MEMORY	(32 * 1024)	/* request line + headers */
#define HTTP_BACKLOG		256

#define CT_PROM	"text/plain; version=0.0.4; charset=utf-8"
#define CT_OM	"application/openmetrics-text; version=1.0.0; charset=utf-8"

struct kl_http {
	struct MHD_Daemon *d;
	struct kl_http_opts o;
	int fd;
};

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned int code,
				  const char *text, const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(text), (void *)text,
					    MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static bool wants_openmetrics(struct MHD_Connection *c)
{
	return prom_accept_openmetrics(MHD_lookup_connection_value(c, MHD_HEADER_KIND,
								   MHD_HTTP_HEADER_ACCEPT));
}

/* The connection limit: HTTP_MAX_CONNECTIONS, or fewer if fds are short. */
static unsigned int max_connections(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur >= HTTP_MAX_CONNECTIONS + HTTP_FD_RESERVE)
		return HTTP_MAX_CONNECTIONS;
	if (rl.rlim_cur <= 2 * HTTP_FD_RESERVE)
		return (unsigned int)(rl.rlim_cur / 2);
	return (unsigned int)(rl.rlim_cur - HTTP_FD_RESERVE);
}

/* A 200 response owning buf (malloc'd, len bytes) of content type ct. */
static enum MHD_Result reply_buf(struct MHD_Connection *c, char *buf, size_t len, const char *ct)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(buf);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ct);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* /snapshot.json: the one JSON writer's text of snap. */
static enum MHD_Result reply_json(struct MHD_Connection *c, const struct kl_snap *snap)
{
	struct json_object *j = kl_snap_json(snap);
	const char *js = j ? json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN) : NULL;
	char *buf = js ? strdup(js) : NULL;

	json_object_put(j);
	if (!buf)
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "500 out of memory\n", NULL);
	return reply_buf(c, buf, strlen(buf), "application/json");
}

/* /metrics: the exposition of snap, straight from the typed snapshot. */
static enum MHD_Result reply_metrics(struct kl_http *h, struct MHD_Connection *c,
				     const struct kl_snap *snap)
{
	struct prom_opts po = { .per_vcpu = h->o.per_vcpu, .vm_buckets = h->o.vm_buckets,
				.openmetrics = wants_openmetrics(c), .process = true };
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	f = open_memstream(&buf, &len);
	if (!f)
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "500 out of memory\n", NULL);
	rc = prom_write_snap(f, snap, &po);
	rc |= fclose(f);
	if (rc) {
		free(buf);
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "500 cannot render the snapshot\n", NULL);
	}
	return reply_buf(c, buf, len, po.openmetrics ? CT_OM : CT_PROM);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c,
			       const char *url, const char *method,
			       const char *version, const char *upload_data,
			       size_t *upload_data_size, void **con_cls)
{
	struct kl_http *h = cls;
	const struct kl_snap *snap;
	enum MHD_Result ret;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "405 method not allowed: /metrics is read-only (GET, HEAD)\n",
				  "GET, HEAD");
	if (strcmp(url, "/metrics") && strcmp(url, "/snapshot.json"))
		return reply_text(c, MHD_HTTP_NOT_FOUND,
				  "404 not found: kvm-lazytop serves /metrics and /snapshot.json only\n",
				  NULL);
	snap = h->o.snapshot ? h->o.snapshot(h->o.ctx) : NULL;
	if (!snap)
		return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE,
				  "503 no snapshot yet\n", NULL);
	if (!strcmp(url, "/snapshot.json"))
		ret = reply_json(c, snap);
	else
		ret = reply_metrics(h, c, snap);
	h->o.put(h->o.ctx, snap);
	return ret;
}

static int resolve(const char *spec, struct sockaddr_storage *ss, socklen_t *sl)
{
	struct addrinfo hints = { 0 }, *ai = NULL;
	char host[256], *colon;
	const char *port;
	size_t hl;
	int e;

	if (!spec || !*spec || strlen(spec) >= sizeof(host))
		return 2;
	if (spec[0] == '[') {
		const char *rb = strchr(spec, ']');

		if (!rb || rb[1] != ':')
			return 2;
		hl = (size_t)(rb - spec - 1);
		memcpy(host, spec + 1, hl);
		host[hl] = 0;
		port = rb + 2;
	} else {
		snprintf(host, sizeof(host), "%s", spec);
		colon = strrchr(host, ':');
		if (!colon || strchr(host, ':') != colon)
			return 2;
		*colon = 0;
		port = spec + (colon - host) + 1;
	}
	if (!*port || strspn(port, "0123456789") != strlen(port) ||
	    atoi(port) < 1 || atoi(port) > 65535)
		return 2;
	if (!*host)
		snprintf(host, sizeof(host), "127.0.0.1");
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	e = getaddrinfo(host, port, &hints, &ai);
	if (e || !ai)
		return 2;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sl = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

int http_serve(const struct kl_http_opts *opts, struct kl_http **srv)
{
	struct sockaddr_storage ss;
	struct kl_http *h;
	socklen_t sl = 0;
	unsigned int flags, maxc = max_connections();
	int one = 1;

	*srv = NULL;
	if (!opts || resolve(opts->addr, &ss, &sl)) {
		fprintf(stderr, "kvm-lazytop: --listen %s: want ADDR:PORT, [ADDR]:PORT or :PORT\n",
			opts && opts->addr ? opts->addr : "(null)");
		return 2;
	}
	if (mhd_load())
		return 1;
	h = calloc(1, sizeof(*h));
	if (!h) {
		fprintf(stderr, "kvm-lazytop: --listen: out of memory\n");
		return 1;
	}
	h->o = *opts;
	h->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (h->fd < 0 ||
	    setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(h->fd, (struct sockaddr *)&ss, sl) || listen(h->fd, HTTP_BACKLOG)) {
		fprintf(stderr, "kvm-lazytop: --listen %s: %s\n", opts->addr, strerror(errno));
		if (h->fd >= 0)
			close(h->fd);
		free(h);
		return 1;
	}
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (opts->verbose)
		flags |= MHD_USE_ERROR_LOG;
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, handler, h,
				MHD_OPTION_LISTEN_SOCKET, h->fd,
				MHD_OPTION_CONNECTION_LIMIT, maxc,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT,
				(unsigned int)(HTTP_PER_IP_CONNECTIONS < maxc ?
					       HTTP_PER_IP_CONNECTIONS : maxc),
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_TIMEOUT_S,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
				MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
				MHD_OPTION_END);
	if (!h->d) {
		fprintf(stderr, "kvm-lazytop: --listen %s: cannot start the HTTP server\n",
			opts->addr);
		close(h->fd);
		free(h);
		return 1;
	}
	*srv = h;
	return 0;
}

void http_stop(struct kl_http *srv)
{
	if (!srv)
		return;
	MHD_stop_daemon(srv->d);	/* closes the listen socket too */
	free(srv);
}
