/*
 * test_list_watch.c
 *	  Unit tests of core/list_watch (the LIST/WATCH engine) and core/http_stream,
 *	  against a scripted HTTP server on 127.0.0.1 in a thread, with a host that
 *	  records what the engine asks of it.  Prints "ok - ..." / "not ok - ..."
 *	  lines and exits non-zero when a check failed.
 */
#define _GNU_SOURCE

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "core/http_stream.h"
#include "core/list_watch.h"
#include "list_watch_harness.h"
#include "core/monotonic.h"
#include "tap.h"

/* ---------------------------------------------------------------- the scripted server */

typedef struct Response
{
	int         status;  /* 0: accept the request and answer nothing until the client leaves */
	const char *headers; /* extra header lines, each ending in \r\n */
	const char *body;
	bool        hold; /* after the body, keep the connection open until the client leaves */
} Response;

/* Answers the requests in turn with the responses of its script. */
typedef struct Server
{
	TestServer      base;
	const Response *script;
	int             nscript;
	Log             requests; /* one request line per request */
	int             served;
	pthread_mutex_t mu;
} Server;

static bool
answer(void *arg, int fd, char *request)
{
	Server         *srv = arg;
	char           *eol = strstr(request, "\r\n");
	const Response *r;

	if (eol != NULL)
		*eol = '\0';
	pthread_mutex_lock(&srv->mu);
	log_add(&srv->requests, "%s", request);
	pthread_mutex_unlock(&srv->mu);
	if (srv->served >= srv->nscript)
	{
		/* Beyond the script: the host stops the engine, which hangs up. */
		srv->base.exhausted = 1;
		wait_for_close(fd);
		return false;
	}
	r = &srv->script[srv->served++];
	if (r->status != 0)
	{
		char head[1024];

		snprintf(head, sizeof(head),
		         "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n%sConnection: close\r\n\r\n",
		         r->status, r->headers != NULL ? r->headers : "");
		send_all(fd, head);
		if (r->body != NULL)
			send_all(fd, r->body);
	}
	if (r->hold || r->status == 0)
		wait_for_close(fd);
	return true;
}

static void
server_start(Server *srv, const Response *script, int nscript)
{
	memset(srv, 0, sizeof(*srv));
	srv->script = script;
	srv->nscript = nscript;
	pthread_mutex_init(&srv->mu, NULL);
	test_server_start(&srv->base, answer, srv);
}

static void
server_stop(Server *srv)
{
	test_server_stop(&srv->base);
	pthread_mutex_destroy(&srv->mu);
}

/* ---------------------------------------------------------------- the recording host */

/* The hosts' keep_values in this pass of the scenarios. */
static bool keep_values;
/* Stores, over every pass, in another form than their host asked for. */
static int wrong_forms;

typedef struct Host
{
	RecordingHost rec;           /* first: the engine's callbacks get the Host */
	int           fail_stores;   /* the next this many stores fail */
	const char   *expect_values; /* the JSON the batches' values must equal, when set */
	int           values_equal;  /* batches whose values did */
	int           stores;
	int           stop_after_stores; /* stop the engine once this many stores (0: never) */
	int           stop_after_waits;  /* stop after this many waits once connected (0: never) */
	Log           requests;          /* the request lines the server saw */
} Host;

static bool
h_stored(void *arg, const ListWatchBatch *b, char *err, size_t errlen)
{
	Host *h = arg;

	h->stores++;
	if (h->expect_values != NULL && b->values != NULL)
	{
		json_t *want = json_loads(h->expect_values, 0, NULL);

		if (want != NULL && json_equal(b->values, want))
			h->values_equal++;
		json_decref(want);
	}
	if (h->fail_stores > 0)
	{
		h->fail_stores--;
		snprintf(err, errlen, "database gone");
		return false;
	}
	return true;
}

static bool
h_stopping(void *arg)
{
	Host *h = arg;

	return (h->stop_after_stores > 0 && h->stores >= h->stop_after_stores) ||
	       (h->stop_after_waits > 0 && h->rec.waits >= h->stop_after_waits);
}

/* Run the engine against a script; done() frees what it recorded. */
static void
run(Host *h, Server *srv, const Response *script, int n, const char *checkpoint,
    const char *namespace)
{
	ListWatchCluster cluster;
	ListWatchHost    host;

	server_start(srv, script, n);
	memset(&cluster, 0, sizeof(cluster));
	cluster.namespace = namespace;
	h->rec.stopping = h_stopping;
	h->rec.stored = h_stored;
	h->rec.keep_values = keep_values;
	rec_host(&host, &h->rec);
	rec_run(&h->rec, &srv->base, &cluster, &host, checkpoint);
	server_stop(srv);
	h->requests = srv->requests;
}

static void
done(Host *h)
{
	wrong_forms += h->rec.wrong_form;
	rec_done(&h->rec);
	free(h->requests.text);
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
	check(in_order(log_text(&h.rec.log), events, 12),
	      "LIST in pages, the list's resourceVersion stored with the last page, WATCH from it, "
	      "one batch with its bookmark's resourceVersion, a malformed frame rejected, 410 at "
	      "once relists");
	check(in_order(log_text(&h.requests), requests, 6) &&
	          count_lines(log_text(&h.requests), "GET ") == 6,
	      "the requests: pages with an escaped continue token, watches with bookmarks, the "
	      "checkpoint and a timeout");
	check(count_lines(log_text(&h.rec.log), "state backoff") == 0 && h.rec.connected == 5,
	      "no backoff on the way, and five answers with 200 (%d)", h.rec.connected);
	check(strcmp(h.rec.checkpoint ? h.rec.checkpoint : "", "20") == 0,
	      "the stored checkpoint ends at the relist's resourceVersion (%s)", h.rec.checkpoint);
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
	check(in_order(log_text(&h.rec.log), events, 4) &&
	          count_lines(log_text(&h.rec.log), "count relists") == 0 &&
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
	check(in_order(log_text(&h.rec.log), events, 7),
	      "HTTP errors back off: Retry-After honoured (3 s), then the delay doubles (2 s)");
	done(&h);
}

/*
 * A watch from a resourceVersion the server has not reached: kube-apiserver
 * answers 504 ResourceVersionTooLarge.  Backed off and retried (a lagging
 * server catches up), until the third such answer in a row: then the server's
 * history is not ours (etcd restored from a backup), and only a list goes on.
 */
static void
test_too_large_relists(void)
{
#define TOO_LARGE                                                                                  \
	"{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":\"Too large resource version: 9, "    \
	"current: 3\",\"reason\":\"Timeout\",\"details\":{\"causes\":[{\"reason\":"                    \
	"\"ResourceVersionTooLarge\",\"message\":\"Too large resource version\"}],"                    \
	"\"retryAfterSeconds\":1},\"code\":504}"
	static const Response script[] = {
	    {504, "Retry-After: 1\r\n", TOO_LARGE, false},
	    {504, "Retry-After: 1\r\n", TOO_LARGE, false},
	    {504, "Retry-After: 1\r\n", TOO_LARGE, false},
	    {200, NULL,
	     "{\"kind\":\"EventList\",\"metadata\":{\"resourceVersion\":\"3\"},\"items\":[]}", false},
	};
	static const char *const events[] = {
	    "checkpoint 9",
	    "state backoff: HTTP 504 from the API server: {\"kind\":\"Status\",\"status\":\"Failure\","
	    "\"message\":\"Too large resource version: 9, current: 3\"",
	    "sleep 1000",
	    "state backoff: HTTP 504",
	    "sleep 2000",
	    "log HTTP 504 from the API server: {\"kind\":\"Status\",\"status\":\"Failure\","
	    "\"message\":\"Too large resource version: 9, current: 3\"",
	    "count relists",
	    "state listing",
	    "store page items=1 rejects=0 rv=3",
	};
	Server srv;
	Host   h;

	memset(&h, 0, sizeof(h));
	run(&h, &srv, script, 4, "9", NULL);
	check(in_order(log_text(&h.rec.log), events, 9) &&
	          count_lines(log_text(&h.rec.log), "sleep") == 2 &&
	          strstr(log_text(&h.requests), "GET /api/v1/events?limit=500 ") != NULL &&
	          h.rec.checkpoint != NULL && strcmp(h.rec.checkpoint, "3") == 0,
	      "a watch refused three times in a row as ResourceVersionTooLarge: backoff twice, then "
	      "LIST again (checkpoint %s)",
	      h.rec.checkpoint ? h.rec.checkpoint : "-");
	done(&h);
#undef TOO_LARGE
}

/*
 * A burst: thousands of frames at once, as after a stall or a long backoff.
 * The batch must not grow beyond batch_size by more than one network chunk
 * (16 kB: 15 frames of 1 kB here), however much one wait made readable: a
 * batch's parsed values are what the worker holds in memory.
 */
static void
test_burst_batches(void)
{
	enum
	{
		NFRAMES = 3000,
		BATCH = 100,
		SLACK = 16 * 1024 / 1000 + 1
	};
	static Response script[1];
	char           *body = malloc((size_t) NFRAMES * 1100);
	char            pad[901];
	size_t          off = 0;
	const char     *at;
	int             total = 0;
	int             largest = 0;
	int             batches = 0;
	Server          srv;
	Host            h;

	memset(pad, 'x', 900);
	pad[900] = '\0';
	for (int i = 0; i < NFRAMES; i++)
		off +=
		    (size_t) sprintf(body + off,
		                     "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Event\",\"metadata\":"
		                     "{\"uid\":\"u%d\",\"resourceVersion\":\"%d\"},\"message\":\"%s\"}}\n",
		                     i, 10 + i, pad);
	/* Ended by a 410, which comes while the transfer is paused: it must still count. */
	strcpy(body + off, GONE);
	script[0] = (Response){200, NULL, body, false};
	memset(&h, 0, sizeof(h));
	h.rec.settings.batch_size = BATCH;
	h.rec.settings.flush_interval_ms = 60000;
	h.rec.settings.stall_timeout_ms = 10000;
	run(&h, &srv, script, 1, "5", NULL);
	for (at = strstr(log_text(&h.rec.log), "store batch items="); at != NULL;
	     at = strstr(at + 1, "store batch items="))
	{
		int n = atoi(at + strlen("store batch items="));

		total += n;
		batches++;
		if (n > largest)
			largest = n;
	}
	check(total == NFRAMES && largest <= BATCH + SLACK,
	      "a burst of %d frames is stored in batches of batch_size %d (at most %d more): %d "
	      "batches, the largest %d frames, %d frames in all",
	      NFRAMES, BATCH, SLACK, batches, largest, total);
	check(count_lines(log_text(&h.rec.log), "count relists") == 0 &&
	          strstr(log_text(&h.requests), "resourceVersion=3009&") != NULL,
	      "the 410 at its end: WATCH again from the burst's last resourceVersion, no relist");
	done(&h);
	free(body);
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
	check(in_order(log_text(&h.rec.log), events, 7),
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
	h.rec.settings.batch_size = 1000;
	h.rec.settings.flush_interval_ms = 100;
	h.rec.settings.stall_timeout_ms = 10000;
	h.stop_after_stores = 1;
	run(&h, &srv, held_frames, 1, "5", NULL);
	check(count_lines(log_text(&h.rec.log), "store batch") == 1 &&
	          strstr(log_text(&h.rec.log), "store batch items=2 rejects=0 rv=9") != NULL &&
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
	h.rec.settings.batch_size = 1000;
	h.rec.settings.flush_interval_ms = 60000;
	h.rec.settings.stall_timeout_ms = 10000;
	h.stop_after_waits = 6;
	run(&h, &srv, held_frames, 1, "5", NULL);
	check(count_lines(log_text(&h.rec.log), "store batch") == 1 &&
	          strstr(log_text(&h.rec.log), "store batch items=2 rejects=0 rv=9") != NULL &&
	          strcmp(h.rec.checkpoint ? h.rec.checkpoint : "", "9") == 0,
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
	h.rec.settings.batch_size = 1000;
	h.rec.settings.flush_interval_ms = 250;
	h.rec.settings.stall_timeout_ms = 1000;
	run(&h, &srv, script, 1, "5", NULL);
	took = monotonic_ms() - t0;
	check(in_order(log_text(&h.rec.log), events, 2) && took >= 1000 && took < 5000,
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
	check(in_order(log_text(&h.rec.log), events, 3) &&
	          count_lines(log_text(&h.rec.log), "state backoff") == 0,
	      "a watch that ends at once without a frame is not retried at once (a 1 s pause)");
	done(&h);
}

/*
 * A host with keep_values gets each frame as the engine parsed it (its only
 * parse), bookmarks left out; what could not be parsed is still rejected
 * with the bytes received, invalid UTF-8 included.
 */
static void
test_values_as_parsed(void)
{
	static const Response script[] = {
	    {200, NULL,
	     FRAME("ADDED", "u1", "6") "{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"Event\","
	                               "\"metadata\":{\"uid\":\"u1\",\"resourceVersion\":\"7\"},"
	                               "\"message\":\"caf\\u00e9 \\\"q\\\"\"}}\n"
	                               "{\"message\":\"\xff\"}\n" BOOKMARK("8")
	                                   FRAME("ADDED", "p1", "9") BOOKMARK("10"),
	     false},
	};
	static const char values[] = "[{\"type\":\"ADDED\",\"object\":" EV(
	    "u1",
	    "6") "},"
	         "{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"Event\",\"metadata\":{\"uid\":\"u1\","
	         "\"resourceVersion\":\"7\"},\"message\":\"caf\xc3\xa9 \\\"q\\\"\"}},"
	         "{\"type\":\"ADDED\",\"object\":" EV("p1", "9") "}]";
	static const char *const events[] = {
	    "store batch items=3 rejects=1 rv=10 payload=[",
	    "reject {\"message\":\"\xff\"} (malformed watch frame: ",
	};
	Server srv;
	Host   h;

	memset(&h, 0, sizeof(h));
	h.expect_values = values;
	h.stop_after_stores = 1;
	keep_values = true;
	run(&h, &srv, script, 1, "5", NULL);
	check(in_order(log_text(&h.rec.log), events, 2) && h.values_equal == 1 &&
	          h.rec.wrong_form == 0 && strcmp(h.rec.checkpoint ? h.rec.checkpoint : "", "10") == 0,
	      "keep_values: the batch holds the frames' parsed values (escapes decoded, bookmarks "
	      "left out); a frame that is not JSON is rejected with its bytes as received");
	done(&h);
}

/* ---------------------------------------------------------------- http_stream alone */

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
	h.rec.srv = &srv.base;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", srv.base.port);
	memset(&e, 0, sizeof(e));
	e.api_server = url;
	e.token = "secret-token";
	started = http_stream_start(&s, &e, "/x", NULL, NULL, NULL, err, sizeof(err));
	if (started)
	{
		s.max_body = 16;
		while (http_stream_pump(&s, 100, rec_wait, &h) == HTTP_RUNNING)
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
	e.api_server = "https://127.0.0.1:1";
	e.proxy_url = NULL;
	e.tls_server_name = "name:1@evil/x";
	check(!http_stream_start(&s, &e, "/x", NULL, NULL, NULL, err, sizeof(err)) &&
	          strstr(err, "is not a host name") != NULL,
	      "a tls-server-name that is no host name is an error, not a URL part (%s)", err);
}

int
main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	test_list_then_watch();
	test_gone_after_frames();
	test_backoff_retry_after();
	test_too_large_relists();
	test_burst_batches();
	test_store_failure();
	test_flush_interval();
	test_stop_flushes();
	test_stall();
	test_quick_end();
	test_body_cap();
	test_bad_url();
	/* The host of the background worker: the same, from the values the engine parsed. */
	printf("# again, the host with keep_values\n");
	keep_values = true;
	test_list_then_watch();
	test_gone_after_frames();
	test_store_failure();
	test_flush_interval();
	test_stop_flushes();
	test_burst_batches();
	test_values_as_parsed();
	check(wrong_forms == 0,
	      "every store comes as the host asked: text, or with keep_values parsed values (%d)",
	      wrong_forms);
	curl_global_cleanup();
	return tap_exit_status();
}
