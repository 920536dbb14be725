/*
 * sim_http.c
 *	  The HTTP side of `k8s-events simulate`: the server itself, the simulated
 *	  clock, and the log of the API requests it answered.
 *
 * libmicrohttpd runs one thread per connection, which the pieces of the server
 * rely on: a watch simply blocks until it has something to send
 * (sim_watch.c), and the request being answered is a thread-local, so that
 * whatever sends the answer can log its status without being told which
 * request it belongs to.
 */
#include "sim_http_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

int64_t
sim_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
sim_now_us(const sim_state *st)
{
	if (st->rate > 0)
		return st->sim_origin_us;
	return st->sim_origin_us +
	       (int64_t) llround((double) (sim_mono_us() - st->mono_origin_us) * st->speed);
}

void
sim_wake_clock(sim_state *st)
{
	uint64_t one = 1;
	ssize_t  n;

	/* fails only when the counter is full, and then the thread is woken anyway */
	n = write(st->clock_fd, &one, sizeof(one));
	(void) n;
}

void
sim_set_rate(sim_state *st, double rate)
{
	int64_t now = sim_mono_us();

	/* the clock goes on from where it stands, whichever pacing drove it */
	st->sim_origin_us = sim_now_us(st);
	st->mono_origin_us = now;
	st->rate = rate;
	st->rate_mono_us = now;
	st->rate_writes = st->model_writes;
}

/* ---------------------------------------------------------------- the request log */

/*
 * The request being answered on this thread (libmicrohttpd gives each
 * connection its own), so that whatever sends the answer can log its status.
 */
static __thread uint64_t tl_request_seq;
static sim_state        *g_st;

static sim_request *
find_request(sim_state *st, uint64_t seq)
{
	uint64_t first;

	if (st->reqs_count == 0)
		return NULL;
	first = st->reqs[st->reqs_head].seq;
	if (seq < first || seq - first >= st->reqs_count)
		return NULL;
	return &st->reqs[(st->reqs_head + (seq - first)) % st->reqs_cap];
}

void
sim_note_status(int code)
{
	sim_state   *st = g_st;
	sim_request *r;

	if (st == NULL || tl_request_seq == 0)
		return;
	pthread_mutex_lock(&st->mu);
	if ((r = find_request(st, tl_request_seq)) != NULL)
		r->status = code;
	pthread_mutex_unlock(&st->mu);
	tl_request_seq = 0;
}

static enum MHD_Result
add_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	ej_buf *b = cls;

	(void) kind;
	ej_puts(b, b->len > 1 ? "," : "");
	ej_string(b, key);
	ej_puts(b, ":");
	ej_string(b, value ? value : "");
	return MHD_YES;
}

static char *
xstrdup_or_die(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
	{
		fprintf(stderr, "k8s-events simulate: out of memory\n");
		exit(1);
	}
	return p;
}

/* Logs an API request as it arrives (the caller holds mu) and makes it this thread's. */
void
sim_log_request(sim_state *st, struct MHD_Connection *c, const char *method, const char *url,
                const char *verb, ss_api api)
{
	sim_request    *r;
	ej_buf          args = {0};
	struct timespec ts;

	tl_request_seq = 0;
	if (st->request_log_max == 0)
	{
		st->reqs_next_seq++;
		return;
	}
	if (st->reqs_count == st->reqs_cap)
	{
		if (st->reqs_cap < st->request_log_max)
		{
			size_t       n = st->reqs_cap ? st->reqs_cap * 2 : 256;
			sim_request *q;

			if (n > st->request_log_max)
				n = st->request_log_max;
			q = malloc(n * sizeof(sim_request));
			if (q == NULL)
				exit(1);
			for (size_t i = 0; i < st->reqs_count; i++)
				q[i] = st->reqs[(st->reqs_head + i) % st->reqs_cap];
			free(st->reqs);
			st->reqs = q;
			st->reqs_cap = n;
			st->reqs_head = 0;
		}
		else
		{
			r = &st->reqs[st->reqs_head];
			free(r->path);
			free(r->args);
			st->reqs_head = (st->reqs_head + 1) % st->reqs_cap;
			st->reqs_count--;
		}
	}
	r = &st->reqs[(st->reqs_head + st->reqs_count) % st->reqs_cap];
	st->reqs_count++;
	memset(r, 0, sizeof(*r));
	r->seq = ++st->reqs_next_seq;
	r->mono_us = sim_mono_us();
	clock_gettime(CLOCK_REALTIME, &ts);
	r->real_us = (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	snprintf(r->method, sizeof(r->method), "%s", method);
	snprintf(r->verb, sizeof(r->verb), "%s", verb);
	r->api = api;
	r->path = xstrdup_or_die(url);
	ej_puts(&args, "{");
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_arg, &args);
	ej_puts(&args, "}");
	r->args = args.data;
	tl_request_seq = r->seq;
}

void
sim_requests_free(sim_state *st)
{
	for (size_t i = 0; i < st->reqs_count; i++)
	{
		sim_request *r = &st->reqs[(st->reqs_head + i) % st->reqs_cap];

		free(r->path);
		free(r->args);
	}
	free(st->reqs);
	st->reqs = NULL;
	st->reqs_count = st->reqs_cap = 0;
}

/* ---------------------------------------------------------------- the server */

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
       const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	static int marker;
	sim_state *st = cls;

	(void) version;
	(void) upload_data;
	tl_request_seq = 0;
	/* the first call only announces the request; a body (ignored) comes in later calls */
	if (*con_cls == NULL)
	{
		*con_cls = &marker;
		return MHD_YES;
	}
	if (*upload_data_size != 0)
	{
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (st->verbose)
		fprintf(stderr, "k8s-events simulate: %s %s\n", method, url);
	if (strncmp(url, "/simulator/", 11) == 0)
		return sim_do_admin(st, c, url + 11, method);
	return sim_do_api(st, c, url, method);
}

/* libmicrohttpd's complaints (a client that went away, a failed TLS handshake) are noise
 * unless asked for. */
static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	sim_state *st = cls;

	if (!st->verbose)
		return;
	fprintf(stderr, "k8s-events simulate: libmicrohttpd: ");
	vfprintf(stderr, fmt, ap);
}

struct MHD_Daemon *
sim_http_start(sim_state *st, int port, const char *cert_pem, const char *key_pem, int *bound_port,
               char *errbuf, size_t errlen)
{
	struct sockaddr_in          addr;
	struct MHD_Daemon          *d;
	const union MHD_DaemonInfo *info;
	unsigned int                flags =
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;

	g_st = st;
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t) port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (cert_pem)
	{
		if (!MHD_is_feature_supported(MHD_FEATURE_TLS))
		{
			snprintf(errbuf, errlen, "this libmicrohttpd was built without TLS support");
			return NULL;
		}
		flags |= MHD_USE_TLS;
		d = MHD_start_daemon(flags, (uint16_t) port, NULL, NULL, handle, st, MHD_OPTION_SOCK_ADDR,
		                     (struct sockaddr *) &addr, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, st,
		                     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 120,
		                     MHD_OPTION_CONNECTION_LIMIT, (unsigned int) 1000,
		                     MHD_OPTION_HTTPS_MEM_CERT, cert_pem, MHD_OPTION_HTTPS_MEM_KEY, key_pem,
		                     MHD_OPTION_END);
	}
	else
		d = MHD_start_daemon(flags, (uint16_t) port, NULL, NULL, handle, st, MHD_OPTION_SOCK_ADDR,
		                     (struct sockaddr *) &addr, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, st,
		                     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 120,
		                     MHD_OPTION_CONNECTION_LIMIT, (unsigned int) 1000, MHD_OPTION_END);
	if (d == NULL)
	{
		snprintf(errbuf, errlen,
		         cert_pem ? "cannot listen on 127.0.0.1:%d with TLS (port in use, or the "
		                    "certificate and key do not match)"
		                  : "cannot listen on 127.0.0.1:%d (port in use?)",
		         port);
		return NULL;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	*bound_port = info ? (int) info->port : port;
	return d;
}

void
sim_http_stop(struct MHD_Daemon *d)
{
	if (d)
		MHD_stop_daemon(d);
}
