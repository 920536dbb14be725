/*
 * list_watch_harness.h
 *	  What the unit tests of core/list_watch share (test_list_watch.c,
 *	  test_alloc_failure.c): a growing text log, an HTTP server on 127.0.0.1
 *	  in a thread that a test's answer function scripts, and a host whose
 *	  callbacks record what the engine asks of it.
 *
 * Header-only like tap.h: each test is one translation unit that includes it
 * once, and functions are static inline so that a test that does not use one
 * is not warned about it under -Werror.
 */
#ifndef K8S_EVENTS_TESTS_LIST_WATCH_HARNESS_H
#define K8S_EVENTS_TESTS_LIST_WATCH_HARNESS_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "core/list_watch.h"

/* ---------------------------------------------------------------- the log */

/* A growing text log, a line per log_add(). */
typedef struct Log
{
	char  *text;
	size_t len;
	size_t cap;
} Log;

static inline void log_add(Log *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline void
log_add(Log *l, const char *fmt, ...)
{
	va_list ap;
	int     n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	if (l->len + (size_t) n + 2 > l->cap)
	{
		l->cap = (l->len + (size_t) n + 2) * 2;
		l->text = realloc(l->text, l->cap);
		if (l->text == NULL)
			abort();
	}
	va_start(ap, fmt);
	vsnprintf(l->text + l->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	l->len += (size_t) n;
	l->text[l->len++] = '\n';
	l->text[l->len] = '\0';
}

static inline const char *
log_text(const Log *l)
{
	return l->text != NULL ? l->text : "";
}

/* How many times prefix occurs in text. */
static inline int
count_lines(const char *text, const char *prefix)
{
	int n = 0;

	for (const char *p = strstr(text, prefix); p != NULL; p = strstr(p + 1, prefix))
		n++;
	return n;
}

/* ---------------------------------------------------------------- the server */

/*
 * Answers one request on fd, whose head (NUL-terminated) is in request; fd is
 * closed after. false: accept no more connections.
 */
typedef bool (*TestServerAnswer)(void *arg, int fd, char *request);

typedef struct TestServer
{
	int              listen_fd;
	int              port;
	TestServerAnswer answer;
	void            *arg;       /* answer's */
	volatile int     exhausted; /* a request came beyond the script: the host stops the engine */
	pthread_t        thread;
} TestServer;

/* Read until the client hangs up. */
static inline void
wait_for_close(int fd)
{
	char buf[4096];

	while (recv(fd, buf, sizeof(buf), 0) > 0)
		;
}

static inline void
send_all(int fd, const char *data)
{
	size_t len = strlen(data);

	while (len > 0)
	{
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		if (n <= 0)
			return; /* the client left */
		data += n;
		len -= (size_t) n;
	}
}

static inline void *
test_server_serve(void *arg)
{
	TestServer *srv = arg;

	for (;;)
	{
		int    fd = accept(srv->listen_fd, NULL, NULL);
		int    one = 1;
		char   req[8192];
		size_t len = 0;
		bool   more;

		if (fd < 0)
			return NULL;
		/* Each send a segment of its own: pieces arrive as sent. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		while (len < sizeof(req) - 1)
		{
			ssize_t n = recv(fd, req + len, sizeof(req) - 1 - len, 0);

			if (n <= 0)
				break;
			len += (size_t) n;
			req[len] = '\0';
			if (strstr(req, "\r\n\r\n") != NULL)
				break;
		}
		req[len] = '\0';
		more = srv->answer(srv->arg, fd, req);
		close(fd);
		if (!more)
			return NULL;
	}
}

/* Listen on a free port of 127.0.0.1, and answer there in a thread of its own. */
static inline void
test_server_start(TestServer *srv, TestServerAnswer answer, void *arg)
{
	struct sockaddr_in addr;
	socklen_t          alen = sizeof(addr);
	int                one = 1;

	srv->answer = answer;
	srv->arg = arg;
	srv->exhausted = 0;
	srv->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(srv->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(srv->listen_fd, (struct sockaddr *) &addr, sizeof(addr)) != 0 ||
	    listen(srv->listen_fd, 8) != 0 ||
	    getsockname(srv->listen_fd, (struct sockaddr *) &addr, &alen) != 0)
	{
		perror("test server");
		exit(1);
	}
	srv->port = ntohs(addr.sin_port);
	pthread_create(&srv->thread, NULL, test_server_serve, srv);
}

static inline void
test_server_stop(TestServer *srv)
{
	/* Ends an accept() the thread may still be blocked in. */
	shutdown(srv->listen_fd, SHUT_RDWR);
	pthread_join(srv->thread, NULL);
	close(srv->listen_fd);
}

/* ---------------------------------------------------------------- the recording host */

/*
 * What a test's host records, the first member of the test's own host: the
 * engine's callbacks get that host as their arg.
 */
typedef struct RecordingHost
{
	TestServer       *srv;
	Log               log;        /* what the engine asked, in order */
	char             *checkpoint; /* what checkpoint() returns; a store moves it on */
	ListWatchSettings settings;   /* what settings() returns (batch_size 0: the defaults) */
	int               connected;  /* answers with 200 */
	int               waits;      /* waits once connected */
	/* The test's: the host's keep_values (rec_host copies it).  Stores that came otherwise: */
	bool keep_values;
	int  wrong_form; /* a value with text, text with keep_values, or frames without either */
	/* The test's: stop the engine now (besides when the server is exhausted)? */
	bool (*stopping)(void *host);
	/* The test's part of a store, once it is logged; false (with err set) fails it. */
	bool (*stored)(void *host, const ListWatchBatch *b, char *err, size_t errlen);
} RecordingHost;

static inline bool
rec_stopping(RecordingHost *h)
{
	return h->srv->exhausted || (h->stopping != NULL && h->stopping(h));
}

/*
 * Logs the batch; its payload is the text received, or the values given
 * written out compactly (the same text when the frames were compact JSON).
 * The values are the host's: freed here, whatever the store returns.
 */
static inline bool
rec_store(void *arg, const ListWatchBatch *b, char *err, size_t errlen)
{
	RecordingHost *h = arg;
	char          *dumped = b->values != NULL ? json_dumps(b->values, JSON_COMPACT) : NULL;
	const char    *payload = b->values != NULL ? dumped : b->payload;
	bool           ok = true;

	if (h->keep_values ? b->payload != NULL || (b->items > 0) != (b->values != NULL)
	                   : b->values != NULL || (b->items > 0) != (b->payload != NULL))
		h->wrong_form++;
	log_add(&h->log, "store %s items=%d rejects=%d rv=%s payload=%.*s",
	        b->list_page ? "page" : "batch", b->items, b->nrejects,
	        b->resource_version ? b->resource_version : "-",
	        payload == NULL     ? 1
	        : b->values != NULL ? (int) strlen(payload)
	                            : (int) b->payload_len,
	        payload != NULL ? payload : "-");
	free(dumped);
	for (int i = 0; i < b->nrejects; i++)
		log_add(&h->log, "reject %.*s (%s)", (int) b->rejects[i].len, b->rejects[i].data,
		        b->rejects[i].reason);
	if (h->stored != NULL && !h->stored(h, b, err, errlen))
		ok = false;
	else if (b->resource_version != NULL)
	{
		free(h->checkpoint);
		h->checkpoint = strdup(b->resource_version);
	}
	json_decref(b->values);
	return ok;
}

static inline bool
rec_checkpoint(void *arg, char **rv, char *err, size_t errlen)
{
	RecordingHost *h = arg;

	(void) err;
	(void) errlen;
	log_add(&h->log, "checkpoint %s", h->checkpoint ? h->checkpoint : "-");
	*rv = h->checkpoint != NULL ? strdup(h->checkpoint) : NULL;
	return true;
}

static inline void
rec_set_state(void *arg, ListWatchState state, const char *error)
{
	log_add(&((RecordingHost *) arg)->log, "state %s%s%s", list_watch_state_name(state),
	        error ? ": " : "", error ? error : "");
}

static inline void
rec_count(void *arg, ListWatchCounter counter)
{
	log_add(&((RecordingHost *) arg)->log, "count %s",
	        counter == LIST_WATCH_RELISTS ? "relists" : "reconnects");
}

static inline void
rec_connected(void *arg)
{
	((RecordingHost *) arg)->connected++;
}

static inline bool
rec_wait(void *arg, HttpPollFd *fds, int nfds, long timeout_ms)
{
	RecordingHost *h = arg;
	struct pollfd  pfds[HTTP_MAX_SOCKETS];

	if (rec_stopping(h))
		return false;
	if (h->connected > 0)
		h->waits++;
	for (int i = 0; i < nfds; i++)
	{
		pfds[i].fd = fds[i].fd;
		pfds[i].events =
		    (short) ((fds[i].want_read ? POLLIN : 0) | (fds[i].want_write ? POLLOUT : 0));
		pfds[i].revents = 0;
	}
	/* Short waits, so that a stop is seen soon. */
	if (poll(pfds, (nfds_t) nfds, timeout_ms < 50 ? (int) timeout_ms : 50) > 0)
		for (int i = 0; i < nfds; i++)
		{
			fds[i].readable = (pfds[i].revents & (POLLIN | POLLERR | POLLHUP)) != 0;
			fds[i].writable = (pfds[i].revents & (POLLOUT | POLLERR)) != 0;
		}
	return !rec_stopping(h);
}

/* Backoffs are recorded, not slept. */
static inline bool
rec_sleep(void *arg, long ms)
{
	RecordingHost *h = arg;

	log_add(&h->log, "sleep %ld", ms);
	return !rec_stopping(h);
}

static inline void
rec_settings(void *arg, ListWatchSettings *out)
{
	*out = ((RecordingHost *) arg)->settings;
}

static inline void
rec_log(void *arg, const char *message)
{
	log_add(&((RecordingHost *) arg)->log, "log %s", message);
}

/* Deterministic: no jitter, timeoutSeconds 240. */
static inline uint64_t
rec_random(void *arg, uint64_t bound)
{
	(void) arg;
	(void) bound;
	return 0;
}

/* host with the recording callbacks, for h; the test may replace some before rec_run(). */
static inline void
rec_host(ListWatchHost *host, RecordingHost *h)
{
	memset(host, 0, sizeof(*host));
	host->arg = h;
	host->keep_values = h->keep_values;
	host->store = rec_store;
	host->checkpoint = rec_checkpoint;
	host->set_state = rec_set_state;
	host->count = rec_count;
	host->connected = rec_connected;
	host->wait = rec_wait;
	host->sleep = rec_sleep;
	host->settings = rec_settings;
	host->log = rec_log;
	host->random = rec_random;
}

/*
 * Run the engine on cluster (its name and API server set here) against the
 * started srv, from checkpoint; rec_done() frees what h recorded.
 */
static inline void
rec_run(RecordingHost *h, TestServer *srv, ListWatchCluster *cluster, const ListWatchHost *host,
        const char *checkpoint)
{
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", srv->port);
	cluster->name = "test";
	cluster->api_server = url;
	h->srv = srv;
	h->checkpoint = checkpoint != NULL ? strdup(checkpoint) : NULL;
	if (h->settings.batch_size == 0)
	{
		h->settings.batch_size = 1000;
		h->settings.flush_interval_ms = 60000; /* one batch per watch unless said otherwise */
		h->settings.stall_timeout_ms = 10000;
	}
	list_watch_run(cluster, host);
}

static inline void
rec_done(RecordingHost *h)
{
	free(h->log.text);
	free(h->checkpoint);
}

#endif /* K8S_EVENTS_TESTS_LIST_WATCH_HARNESS_H */
