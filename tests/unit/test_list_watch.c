/*
 * test_list_watch.c
 *	  Unit tests of core/list_watch (the LIST/WATCH engine) and core/http_stream,
 *	  against a scripted HTTP server on 127.0.0.1 in a thread, with a host that
 *	  records what the engine asks of it.  Prints "ok - ..." / "not ok - ..."
 *	  lines and exits non-zero when a check failed.
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http_stream.h"
#include "list_watch.h"
#include "monotonic.h"
#include "tap.h"

/* A growing text log. */
typedef struct Log
{
	char  *text;
	size_t len;
	size_t cap;
} Log;

static void log_add(Log *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
log_add(Log *l, const char *fmt, ...)
{
	va_list ap;
	char    line[4096];
	int     n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	if ((size_t) n >= sizeof(line))
		n = sizeof(line) - 1;
	if (l->len + (size_t) n + 2 > l->cap)
	{
		l->cap = (l->len + (size_t) n + 2) * 2;
		l->text = realloc(l->text, l->cap);
		if (l->text == NULL)
			abort();
	}
	memcpy(l->text + l->len, line, (size_t) n);
	l->len += (size_t) n;
	l->text[l->len++] = '\n';
	l->text[l->len] = '\0';
}

static const char *
log_text(const Log *l)
{
	return l->text != NULL ? l->text : "";
}

/* ---------------------------------------------------------------- the scripted server */

typedef struct Response
{
	int         status;  /* 0: accept the request and answer nothing until the client leaves */
	const char *headers; /* extra header lines, each ending in \r\n */
	const char *body;
	bool        hold; /* after the body, keep the connection open until the client leaves */
} Response;

typedef struct Server
{
	int             listen_fd;
	int             port;
	const Response *script;
	int             nscript;
	Log             requests; /* one request line per request */
	int             served;
	volatile int    exhausted; /* a request came beyond the script */
	pthread_t       thread;
	pthread_mutex_t mu;
} Server;

static void
wait_for_close(int fd)
{
	char buf[4096];

	while (recv(fd, buf, sizeof(buf), 0) > 0)
		;
}

static void *
serve(void *arg)
{
	Server *srv = arg;

	for (;;)
	{
		int    fd = accept(srv->listen_fd, NULL, NULL);
		char   req[8192];
		size_t len = 0;
		char  *eol;

		if (fd < 0)
			return NULL;
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
		eol = strstr(req, "\r\n");
		if (eol != NULL)
			*eol = '\0';
		pthread_mutex_lock(&srv->mu);
		log_add(&srv->requests, "%s", req);
		pthread_mutex_unlock(&srv->mu);
		if (srv->served >= srv->nscript)
		{
			/* Beyond the script: the host stops the engine, which hangs up. */
			srv->exhausted = 1;
			wait_for_close(fd);
			close(fd);
			return NULL;
		}
		{
			const Response *r = &srv->script[srv->served++];
			char            head[1024];

			if (r->status != 0)
			{
				snprintf(head, sizeof(head),
				         "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n%sConnection: "
				         "close\r\n\r\n",
				         r->status, r->headers != NULL ? r->headers : "");
				if (send(fd, head, strlen(head), MSG_NOSIGNAL) < 0 ||
				    (r->body != NULL && send(fd, r->body, strlen(r->body), MSG_NOSIGNAL) < 0))
				{
					/* the client left already */
				}
			}
			if (r->hold || r->status == 0)
				wait_for_close(fd);
		}
		close(fd);
	}
}

static void
server_start(Server *srv, const Response *script, int nscript)
{
	struct sockaddr_in addr;
	socklen_t          alen = sizeof(addr);
	int                one = 1;

	memset(srv, 0, sizeof(*srv));
	srv->script = script;
	srv->nscript = nscript;
	pthread_mutex_init(&srv->mu, NULL);
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
	pthread_create(&srv->thread, NULL, serve, srv);
}

static void
server_stop(Server *srv)
{
	/* Ends an accept() the thread may still be blocked in. */
	shutdown(srv->listen_fd, SHUT_RDWR);
	pthread_join(srv->thread, NULL);
	close(srv->listen_fd);
	pthread_mutex_destroy(&srv->mu);
}

/* ---------------------------------------------------------------- the recording host */

typedef struct Host
{
	Server           *srv;
	Log               log; /* what the engine asked, in order */
	ListWatchSettings settings;
	char             *checkpoint;  /* what checkpoint() returns */
	int               fail_stores; /* the next this many stores fail */
	int               stores;
	int               stop_after_stores; /* stop the engine once this many stores (0: never) */
	int               connected;
	int               stop_after_waits; /* stop after this many waits once connected (0: never) */
	int               waits;
	Log               requests; /* the request lines the server saw */
} Host;

static bool
h_store(void *arg, const ListWatchBatch *b, char *err, size_t errlen)
{
	Host *h = arg;

	h->stores++;
	log_add(&h->log, "store %s items=%d rejects=%d rv=%s payload=%.*s",
	        b->list_page ? "page" : "batch", b->items, b->nrejects,
	        b->resource_version ? b->resource_version : "-",
	        b->payload != NULL ? (int) b->payload_len : 1, b->payload != NULL ? b->payload : "-");
	for (int i = 0; i < b->nrejects; i++)
		log_add(&h->log, "reject %.*s (%s)", (int) b->rejects[i].len, b->rejects[i].data,
		        b->rejects[i].reason);
	if (h->fail_stores > 0)
	{
		h->fail_stores--;
		snprintf(err, errlen, "database gone");
		return false;
	}
	if (b->resource_version != NULL)
	{
		free(h->checkpoint);
		h->checkpoint = strdup(b->resource_version);
	}
	return true;
}

static bool
h_checkpoint(void *arg, char **rv, char *err, size_t errlen)
{
	Host *h = arg;

	(void) err;
	(void) errlen;
	log_add(&h->log, "checkpoint %s", h->checkpoint ? h->checkpoint : "-");
	*rv = h->checkpoint != NULL ? strdup(h->checkpoint) : NULL;
	return true;
}

static void
h_set_state(void *arg, ListWatchState state, const char *error)
{
	Host *h = arg;

	log_add(&h->log, "state %s%s%s", list_watch_state_name(state), error ? ": " : "",
	        error ? error : "");
}

static void
h_count(void *arg, ListWatchCounter counter)
{
	log_add(&((Host *) arg)->log, "count %s",
	        counter == LIST_WATCH_RELISTS ? "relists" : "reconnects");
}

static void
h_connected(void *arg)
{
	((Host *) arg)->connected++;
}

static bool
h_stopping(Host *h)
{
	return h->srv->exhausted || (h->stop_after_stores > 0 && h->stores >= h->stop_after_stores) ||
	       (h->stop_after_waits > 0 && h->waits >= h->stop_after_waits);
}

static bool
h_wait(void *arg, HttpPollFd *fds, int nfds, long timeout_ms)
{
	Host         *h = arg;
	struct pollfd pfds[HTTP_MAX_SOCKETS];

	if (h_stopping(h))
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
	return !h_stopping(h);
}

/* Backoffs are recorded, not slept. */
static bool
h_sleep(void *arg, long ms)
{
	Host *h = arg;

	log_add(&h->log, "sleep %ld", ms);
	return !h_stopping(h);
}

static void
h_settings(void *arg, ListWatchSettings *out)
{
	*out = ((Host *) arg)->settings;
}

static void
h_log(void *arg, const char *message)
{
	log_add(&((Host *) arg)->log, "log %s", message);
}

/* Deterministic: no jitter, timeoutSeconds 240. */
static uint64_t
h_random(void *arg, uint64_t bound)
{
	(void) arg;
	(void) bound;
	return 0;
}

/* Run the engine against a script; the caller frees h->log and h->checkpoint. */
static void
run(Host *h, Server *srv, const Response *script, int n, const char *checkpoint,
    const char *namespace)
{
	ListWatchCluster cluster;
	ListWatchHost    host;
	char             url[64];

	server_start(srv, script, n);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", srv->port);
	memset(&cluster, 0, sizeof(cluster));
	cluster.name = "test";
	cluster.api_server = url;
	cluster.namespace = namespace;
	h->srv = srv;
	h->checkpoint = checkpoint != NULL ? strdup(checkpoint) : NULL;
	if (h->settings.batch_size == 0)
	{
		h->settings.batch_size = 1000;
		h->settings.flush_interval_ms = 60000; /* one batch per watch unless said otherwise */
		h->settings.stall_timeout_ms = 10000;
	}
	memset(&host, 0, sizeof(host));
	host.arg = h;
	host.store = h_store;
	host.checkpoint = h_checkpoint;
	host.set_state = h_set_state;
	host.count = h_count;
	host.connected = h_connected;
	host.wait = h_wait;
	host.sleep = h_sleep;
	host.settings = h_settings;
	host.log = h_log;
	host.random = h_random;
	list_watch_run(&cluster, &host);
	server_stop(srv);
	h->requests = srv->requests;
}

static void
done(Host *h)
{
	free(h->log.text);
	free(h->requests.text);
	free(h->checkpoint);
}

/* Does text contain these lines, in this order (others may come between)? */
static bool
in_order(const char *text, const char *const *lines, int n)
{
	const char *at = text;

	for (int i = 0; i < n; i++)
	{
		const char *found = strstr(at, lines[i]);

		if (found == NULL)
		{
			fprintf(stdout, "#   missing, in order: %s\n", lines[i]);
			return false;
		}
		at = found + strlen(lines[i]);
	}
	return true;
}

static int
count_lines(const char *text, const char *prefix)
{
	int n = 0;

	for (const char *p = strstr(text, prefix); p != NULL; p = strstr(p + 1, prefix))
		n++;
	return n;
}

/* ---------------------------------------------------------------- scenarios */

#define EV(uid, rv)                                                                                \
	"{\"kind\":\"Event\",\"metadata\":{\"uid\":\"" uid "\",\"resourceVersion\":\"" rv "\"}}"
#define FRAME(type, uid, rv) "{\"type\":\"" type "\",\"object\":" EV(uid, rv) "}\n"
#define BOOKMARK(rv)                                                                               \
	"{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Event\",\"metadata\":{\"resourceVersion\":"     \
	"\"" rv "\"}}}\n"
#define GONE                                                                                       \
	"{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,\"reason\":\"Expired\","     \
	"\"message\":\"too old resource version\"}}\n"

static void
test_list_then_watch(void)
{
	static const Response script[] = {
	    {200, NULL,
	     "{\"kind\":\"EventList\",\"metadata\":{\"resourceVersion\":\"10\",\"continue\":\"c/1+=\"},"
	     "\"items\":[" EV("u1", "9") "]}",
	     false},
	    {200, NULL,
	     "{\"kind\":\"EventList\",\"metadata\":{\"resourceVersion\":\"10\"},\"items\":[" EV(
	         "u2", "10") "]}",
	     false},
	    {200, NULL,
	     FRAME("ADDED", "u3", "11") FRAME("MODIFIED", "u3", "12") "{not json\r\n" BOOKMARK("13"),
	     false},
	    {200, NULL, GONE, false},
	    {200, NULL,
	     "{\"kind\":\"EventList\",\"metadata\":{\"resourceVersion\":\"20\"},\"items\":[]}", false},
	};
	static const char *const requests[] = {
	    "GET /api/v1/namespaces/shop/events?limit=500 HTTP/1.1",
	    "GET /api/v1/namespaces/shop/events?limit=500&continue=c%2F1%2B%3D HTTP/1.1",
	    "GET /api/v1/namespaces/shop/events?watch=1&allowWatchBookmarks=true&resourceVersion=10"
	    "&timeoutSeconds=240 HTTP/1.1",
	    "GET /api/v1/namespaces/shop/events?watch=1&allowWatchBookmarks=true&resourceVersion=13"
	    "&timeoutSeconds=240 HTTP/1.1",
	    "GET /api/v1/namespaces/shop/events?limit=500 HTTP/1.1",
	    "GET /api/v1/namespaces/shop/events?watch=1&allowWatchBookmarks=true&resourceVersion=20"
	    "&timeoutSeconds=240 HTTP/1.1",
	};
	static const char *const events[] = {
	    "checkpoint -",
	    "state listing",
	    "store page items=1 rejects=0 rv=- payload={\"kind\":\"EventList\",\"metadata\":"
	    "{\"resourceVersion\":\"10\",\"continue\"",
	    "store page items=1 rejects=0 rv=10 payload=",
	    "state watching",
	    "store batch items=2 rejects=1 rv=13 payload=[{\"type\":\"ADDED\",\"object\":" EV(
	        "u3", "11") "},{\"type\":\"MODIFIED\",\"object\":" EV("u3", "12") "}]",
	    "reject {not json (malformed watch frame: ",
	    "state watching",
	    "count relists",
	    "state listing",
	    "store page items=1 rejects=0 rv=20",
	    "state watching",
	};
	Server srv;
	Host   h;

	memset(&h, 0, sizeof(h));
	run(&h, &srv, script, 5, NULL, "shop");
	check(in_order(log_text(&h.log), events, 12),
	      "LIST in pages, the list's resourceVersion stored with the last page, WATCH from it, "
	      "one batch with its bookmark's resourceVersion, a malformed frame rejected, 410 at "
	      "once relists");
	check(in_order(log_text(&h.requests), requests, 6) &&
	          count_lines(log_text(&h.requests), "GET ") == 6,
	      "the requests: pages with an escaped continue token, watches with bookmarks, the "
	      "checkpoint and a timeout");
	check(count_lines(log_text(&h.log), "state backoff") == 0 && h.connected == 5,
	      "no backoff on the way, and five answers with 200 (%d)", h.connected);
	check(strcmp(h.checkpoint ? h.checkpoint : "", "20") == 0,
	      "the stored checkpoint ends at the relist's resourceVersion (%s)", h.checkpoint);
	done(&h);
}

static void
test_gone_after_frames(void)
{
	static const Response script[] = {
	    {200, NULL, FRAME("ADDED", "u1", "6") GONE, false},
	};
	static const char *const events[] = {
	    "checkpoint 5",
	    "state watching",
	    "store batch items=1 rejects=0 rv=6",
	    "state watching",
	};
	Server srv;
	Host   h;

	memset(&h, 0, sizeof(h));
	run(&h, &srv, script, 1, "5", NULL);
	check(in_order(log_text(&h.log), events, 4) &&
	          count_lines(log_text(&h.log), "count relists") == 0 &&
	          strstr(log_text(&h.requests), "resourceVersion=6&") != NULL,
	      "410 after frames: the frames are stored, then WATCH again from their resourceVersion, "
	      "no relist");
	done(&h);
}

static void
test_backoff_retry_after(void)
{
	static const Response script[] = {
	    {429, "Retry-After: 3\r\n", "{\"kind\":\"Status\",\"code\":429}", false},
	    {503, NULL, "busy", false},
	};
	static const char *const events[] = {
	    "state backoff: HTTP 429 from the API server: {\"kind\":\"Status\",\"code\":429}",
	    "count reconnects",
	    "log HTTP 429 from the API server: {\"kind\":\"Status\",\"code\":429}; retrying in 3000 ms",
	    "sleep 3000",
	    "state backoff: HTTP 503 from the API server: busy",
	    "count reconnects",
	    "sleep 2000",
	};
	Server srv;
	Host   h;

	memset(&h, 0, sizeof(h));
	run(&h, &srv, script, 2, "5", NULL);
	check(in_order(log_text(&h.log), events, 7),
	      "HTTP errors back off: Retry-After honoured (3 s), then the delay doubles (2 s)");
	done(&h);
}

static void
test_store_failure(void)
{
	static const Response script[] = {
	    {200, NULL, FRAME("ADDED", "u1", "6") FRAME("ADDED", "u2", "7"), false},
	    {200, NULL, FRAME("ADDED", "u1", "6"), false},
	};
	static const char *const events[] = {
	    "checkpoint 5",
	    "store batch items=2 rejects=0 rv=7",
	    "state backoff: database gone",
	    "count reconnects",
	    "checkpoint 5",
	    "state watching",
	    "store batch items=1 rejects=0 rv=6",
	};
	Server srv;
	Host   h;

	memset(&h, 0, sizeof(h));
	h.fail_stores = 1;
	run(&h, &srv, script, 2, "5", NULL);
	check(in_order(log_text(&h.log), events, 7),
	      "a failed store: back off, ask the host for the checkpoint again, watch from it");
	done(&h);
}

/* Frames, then the connection stays open: only the flush interval or a stop stores them. */
static const Response held_frames[] = {
    {200, NULL, FRAME("ADDED", "u1", "6") FRAME("ADDED", "u2", "7") BOOKMARK("9"), true},
};

static void
test_flush_interval(void)
{
	Server  srv;
	Host    h;
	int64_t t0 = monotonic_ms();

	memset(&h, 0, sizeof(h));
	h.settings.batch_size = 1000;
	h.settings.flush_interval_ms = 100;
	h.settings.stall_timeout_ms = 10000;
	h.stop_after_stores = 1;
	run(&h, &srv, held_frames, 1, "5", NULL);
	check(count_lines(log_text(&h.log), "store batch") == 1 &&
	          strstr(log_text(&h.log), "store batch items=2 rejects=0 rv=9") != NULL &&
	          monotonic_ms() - t0 < 3000,
	      "on an open watch, the batch is stored once flush_interval has passed");
	done(&h);
}

static void
test_stop_flushes(void)
{
	Server srv;
	Host   h;

	memset(&h, 0, sizeof(h));
	h.settings.batch_size = 1000;
	h.settings.flush_interval_ms = 60000;
	h.settings.stall_timeout_ms = 10000;
	h.stop_after_waits = 6;
	run(&h, &srv, held_frames, 1, "5", NULL);
	check(count_lines(log_text(&h.log), "store batch") == 1 &&
	          strstr(log_text(&h.log), "store batch items=2 rejects=0 rv=9") != NULL &&
	          strcmp(h.checkpoint ? h.checkpoint : "", "9") == 0,
	      "a stop stores what is still held, with its resourceVersion");
	done(&h);
}

static void
test_stall(void)
{
	static const Response script[] = {
	    {200, NULL, "", true},
	};
	static const char *const events[] = {
	    "state watching",
	    "state backoff: nothing received for 1 s: the connection stalled",
	};
	Server  srv;
	Host    h;
	int64_t t0 = monotonic_ms();
	int64_t took;

	memset(&h, 0, sizeof(h));
	h.settings.batch_size = 1000;
	h.settings.flush_interval_ms = 250;
	h.settings.stall_timeout_ms = 1000;
	run(&h, &srv, script, 1, "5", NULL);
	took = monotonic_ms() - t0;
	check(in_order(log_text(&h.log), events, 2) && took >= 1000 && took < 5000,
	      "a silent watch is dropped after the stall timeout (%lld ms)", (long long) took);
	done(&h);
}

static void
test_quick_end(void)
{
	static const Response script[] = {
	    {200, NULL, "", false},
	};
	static const char *const events[] = {"state watching", "sleep 1000", "state watching"};
	Server                   srv;
	Host                     h;

	memset(&h, 0, sizeof(h));
	run(&h, &srv, script, 1, "5", NULL);
	check(in_order(log_text(&h.log), events, 3) &&
	          count_lines(log_text(&h.log), "state backoff") == 0,
	      "a watch that ends at once without a frame is not retried at once (a 1 s pause)");
	done(&h);
}

/* ---------------------------------------------------------------- http_stream alone */

static bool
plain_wait(void *arg, HttpPollFd *fds, int nfds, long timeout_ms)
{
	return h_wait(arg, fds, nfds, timeout_ms);
}

static void
test_body_cap(void)
{
	static const Response script[] = {
	    {200, NULL, "0123456789012345678901234567890123456789", false},
	};
	Server       srv;
	Host         h;
	HttpStream   s;
	HttpEndpoint e;
	char         url[64];
	char         err[256];
	bool         started;

	memset(&h, 0, sizeof(h));
	server_start(&srv, script, 1);
	h.srv = &srv;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", srv.port);
	memset(&e, 0, sizeof(e));
	e.api_server = url;
	e.token = "secret-token";
	started = http_stream_start(&s, &e, "/x", NULL, NULL, NULL, err, sizeof(err));
	if (started)
	{
		s.max_body = 16;
		while (http_stream_pump(&s, 100, plain_wait, &h) == HTTP_RUNNING)
			;
		check(s.status == 0 && strcmp(s.curl_error, "the response is larger than 16 bytes") == 0,
		      "a collected body over its cap fails the request with a clear error (%s)",
		      s.curl_error);
		http_stream_cleanup(&s);
		http_stream_cleanup(&s);
	}
	else
		check(false, "http_stream_start: %s", err);
	server_stop(&srv);
	h.requests = srv.requests;
	done(&h);
}

static void
test_bad_url(void)
{
	HttpStream   s;
	HttpEndpoint e;
	char         err[256] = "";

	memset(&e, 0, sizeof(e));
	e.api_server = "http://127.0.0.1:1";
	e.token = "t";
	e.tls_server_name = "name";
	e.proxy_url = "http://127.0.0.1:1";
	check(http_stream_start(&s, &e, "/x", NULL, NULL, NULL, err, sizeof(err)),
	      "a request with a tls-server-name and a proxy starts (%s)", err);
	http_stream_cleanup(&s);
	e.api_server = "not a url at all";
	e.tls_server_name = "name";
	check(!http_stream_start(&s, &e, "/x", NULL, NULL, NULL, err, sizeof(err)) &&
	          strstr(err, "tls-server-name") != NULL,
	      "an API server URL that cannot be taken apart for tls-server-name is an error (%s)", err);
}

int
main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	test_list_then_watch();
	test_gone_after_frames();
	test_backoff_retry_after();
	test_store_failure();
	test_flush_interval();
	test_stop_flushes();
	test_stall();
	test_quick_end();
	test_body_cap();
	test_bad_url();
	curl_global_cleanup();
	return tap_exit_status();
}
