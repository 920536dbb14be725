/*
 * test_alloc_failure.c
 *	  core/'s list/watch engine when memory runs out: an allocator that fails
 *	  its Nth allocation, for every N the path makes (LIST pages collected
 *	  whole, WATCH frames split across chunks, the batch, the token file and
 *	  the request), jansson's allocator failing while a watch runs, and the
 *	  closing of a batch that fell due on an open watch failing.  Over
 *	  real HTTP on 127.0.0.1, with a scripted server in a thread that sends
 *	  each response in pieces.  Each failure must be reported (a backoff that
 *	  says so), store nothing partial, reject nothing, leak nothing, and the
 *	  engine must go on to store everything.  Prints "ok - ..." / "not ok - ..."
 *	  lines and exits non-zero when a check failed.
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

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
	char   *line;
	int     n;

	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
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
	memcpy(l->text + l->len, line, (size_t) n);
	l->len += (size_t) n;
	l->text[l->len++] = '\n';
	l->text[l->len] = '\0';
	free(line);
}

static const char *
log_text(const Log *l)
{
	return l->text != NULL ? l->text : "";
}

static int
count_lines(const char *text, const char *prefix)
{
	int n = 0;

	for (const char *p = strstr(text, prefix); p != NULL; p = strstr(p + 1, prefix))
		n++;
	return n;
}

/* ---------------------------------------------------------------- the allocator */

/*
 * malloc that fails its fail_at'th call (alloc or realloc, counted from 1),
 * once, and counts the blocks it holds.  Records the sizes it was asked for.
 */
typedef struct TestAlloc
{
	long calls;
	long fail_at; /* 0: never */
	/* Or fail the first realloc from fail_old to fail_new bytes (0: none). */
	size_t fail_old;
	size_t fail_new;
	bool   failed;
	long   live; /* blocks allocated and not freed */
	/* the sizes asked for, call by call (the first 512): old is 0 for an alloc */
	size_t old_sizes[512];
	size_t new_sizes[512];
} TestAlloc;

static bool
ta_fails(TestAlloc *ta, size_t old_size, size_t new_size)
{
	long call = ++ta->calls;

	if (call <= (long) (sizeof(ta->new_sizes) / sizeof(ta->new_sizes[0])))
	{
		ta->old_sizes[call - 1] = old_size;
		ta->new_sizes[call - 1] = new_size;
	}
	if (call == ta->fail_at ||
	    (!ta->failed && ta->fail_new != 0 && old_size == ta->fail_old && new_size == ta->fail_new))
	{
		ta->failed = true;
		return true;
	}
	return false;
}

static void *
ta_alloc(void *ctx, size_t size)
{
	TestAlloc *ta = ctx;
	void      *p;

	if (ta_fails(ta, 0, size))
		return NULL;
	p = malloc(size);
	if (p != NULL)
		ta->live++;
	return p;
}

static void *
ta_realloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
	TestAlloc *ta = ctx;

	if (ta_fails(ta, old_size, new_size))
		return NULL; /* ptr stays the caller's */
	return realloc(ptr, new_size);
}

static void
ta_free(void *ctx, void *ptr)
{
	((TestAlloc *) ctx)->live--;
	free(ptr);
}

/* jansson's allocator, failing every call while json_failing is set. */
static bool json_failing;
static long json_failed_calls;

static void *
json_test_malloc(size_t size)
{
	if (json_failing)
	{
		json_failed_calls++;
		return NULL;
	}
	return malloc(size);
}

/* ---------------------------------------------------------------- the scripted server */

/*
 * Answers by path, each response in pieces with a pause between them, so
 * that curl hands the engine frames cut across chunks.
 */
typedef struct Server
{
	int          listen_fd;
	int          port;
	const char  *page1[4]; /* ?limit=... without continue: a page with a continue token */
	const char  *page2[4]; /* &continue=...: the last page, with the list's resourceVersion */
	const char  *watch[4]; /* ?watch=1 */
	bool         hold;     /* after a watch, keep the connection open until the client leaves */
	int          requests;
	volatile int exhausted; /* more requests than any run needs: the engine is looping */
	pthread_t    thread;
} Server;

#define MAX_REQUESTS 40

static void
wait_for_close(int fd)
{
	char buf[4096];

	while (recv(fd, buf, sizeof(buf), 0) > 0)
		;
}

static void
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

static void *
serve(void *arg)
{
	Server *srv = arg;

	for (;;)
	{
		int                fd = accept(srv->listen_fd, NULL, NULL);
		int                one = 1;
		char               req[8192];
		size_t             len = 0;
		const char *const *pieces;

		if (fd < 0)
			return NULL;
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
		if (++srv->requests > MAX_REQUESTS)
		{
			srv->exhausted = 1;
			wait_for_close(fd);
			close(fd);
			continue;
		}
		if (strstr(req, "watch=1") != NULL)
			pieces = srv->watch;
		else if (strstr(req, "continue=") != NULL)
			pieces = srv->page2;
		else
			pieces = srv->page1;
		send_all(fd,
		         "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n");
		for (int i = 0; i < 4 && pieces[i] != NULL; i++)
		{
			if (i > 0)
				usleep(20 * 1000);
			send_all(fd, pieces[i]);
		}
		if (srv->hold && pieces == srv->watch)
			wait_for_close(fd);
		close(fd);
	}
}

static void
server_start(Server *srv)
{
	struct sockaddr_in addr;
	socklen_t          alen = sizeof(addr);
	int                one = 1;

	srv->requests = 0;
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
	pthread_create(&srv->thread, NULL, serve, srv);
}

static void
server_stop(Server *srv)
{
	shutdown(srv->listen_fd, SHUT_RDWR);
	pthread_join(srv->thread, NULL);
	close(srv->listen_fd);
}

/* ---------------------------------------------------------------- the recording host */

typedef struct Host
{
	Server    *srv;
	TestAlloc *ta;
	Log        log;
	char      *checkpoint;
	int        batches;      /* watch batches stored */
	int        stop_batches; /* the run ends at this many (0: two) */
	int        batch_size;   /* 0: 1000 */
	long       calls_at_first_batch;
	bool       json_fail_until_backoff;
} Host;

static bool
h_stopping(Host *h)
{
	return h->batches >= (h->stop_batches > 0 ? h->stop_batches : 2) || h->srv->exhausted;
}

static bool
h_store(void *arg, const ListWatchBatch *b, char *err, size_t errlen)
{
	Host *h = arg;

	(void) err;
	(void) errlen;
	log_add(&h->log, "store %s items=%d rejects=%d rv=%s payload=%.*s",
	        b->list_page ? "page" : "batch", b->items, b->nrejects,
	        b->resource_version ? b->resource_version : "-",
	        b->payload != NULL ? (int) b->payload_len : 1, b->payload != NULL ? b->payload : "-");
	for (int i = 0; i < b->nrejects; i++)
		log_add(&h->log, "reject %.*s (%s)", (int) b->rejects[i].len, b->rejects[i].data,
		        b->rejects[i].reason);
	if (!b->list_page && ++h->batches == 1)
		h->calls_at_first_batch = h->ta->calls;
	if (b->resource_version != NULL)
	{
		free(h->checkpoint);
		h->checkpoint = strdup(b->resource_version);
	}
	return true;
}

/* The engine frees the checkpoint with its allocator: allocate it there, never failing. */
static bool
h_checkpoint(void *arg, char **rv, char *err, size_t errlen)
{
	Host *h = arg;

	(void) err;
	(void) errlen;
	log_add(&h->log, "checkpoint %s", h->checkpoint ? h->checkpoint : "-");
	*rv = NULL;
	if (h->checkpoint != NULL)
	{
		*rv = strdup(h->checkpoint);
		h->ta->live++;
	}
	return true;
}

static void
h_set_state(void *arg, ListWatchState state, const char *error)
{
	log_add(&((Host *) arg)->log, "state %s%s%s", list_watch_state_name(state), error ? ": " : "",
	        error ? error : "");
}

static void
h_count(void *arg, ListWatchCounter counter)
{
	(void) arg;
	(void) counter;
}

static bool
h_wait(void *arg, HttpPollFd *fds, int nfds, long timeout_ms)
{
	Host         *h = arg;
	struct pollfd pfds[HTTP_MAX_SOCKETS];

	if (h_stopping(h))
		return false;
	for (int i = 0; i < nfds; i++)
	{
		pfds[i].fd = fds[i].fd;
		pfds[i].events =
		    (short) ((fds[i].want_read ? POLLIN : 0) | (fds[i].want_write ? POLLOUT : 0));
		pfds[i].revents = 0;
	}
	if (poll(pfds, (nfds_t) nfds, timeout_ms < 50 ? (int) timeout_ms : 50) > 0)
		for (int i = 0; i < nfds; i++)
		{
			fds[i].readable = (pfds[i].revents & (POLLIN | POLLERR | POLLHUP)) != 0;
			fds[i].writable = (pfds[i].revents & (POLLOUT | POLLERR)) != 0;
		}
	return !h_stopping(h);
}

/* Backoffs are recorded, not slept; jansson gets its memory back at the first. */
static bool
h_sleep(void *arg, long ms)
{
	Host *h = arg;

	log_add(&h->log, "sleep %ld", ms);
	if (h->json_fail_until_backoff)
		json_failing = false;
	return !h_stopping(h);
}

static void
h_settings(void *arg, ListWatchSettings *out)
{
	Host *h = arg;

	out->batch_size = h->batch_size > 0 ? h->batch_size : 1000;
	out->flush_interval_ms = 60000; /* one batch per watch, unless batch_size says less */
	out->stall_timeout_ms = 10000;
}

static void
h_log(void *arg, const char *message)
{
	log_add(&((Host *) arg)->log, "log %s", message);
}

static uint64_t
h_random(void *arg, uint64_t bound)
{
	(void) arg;
	(void) bound;
	return 0;
}

static const char *token_file;

/* Follow the cluster until two watch batches are stored (or the server gives up on us). */
static void
run(Host *h, Server *srv, TestAlloc *ta, const char *checkpoint)
{
	CoreAllocator    allocator = {ta_alloc, ta_realloc, ta_free, ta};
	ListWatchCluster cluster;
	ListWatchHost    host;
	char             url[64];

	server_start(srv);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", srv->port);
	memset(&cluster, 0, sizeof(cluster));
	cluster.name = "test";
	cluster.api_server = url;
	cluster.token_file = token_file; /* read at every connection, through the allocator */
	cluster.namespace = "shop";
	h->srv = srv;
	h->ta = ta;
	h->checkpoint = checkpoint != NULL ? strdup(checkpoint) : NULL;
	memset(&host, 0, sizeof(host));
	host.arg = h;
	host.allocator = &allocator;
	host.store = h_store;
	host.checkpoint = h_checkpoint;
	host.set_state = h_set_state;
	host.count = h_count;
	host.wait = h_wait;
	host.sleep = h_sleep;
	host.settings = h_settings;
	host.log = h_log;
	host.random = h_random;
	list_watch_run(&cluster, &host);
	server_stop(srv);
}

static void
done(Host *h)
{
	free(h->log.text);
	free(h->checkpoint);
}

/* ---------------------------------------------------------------- the responses */

static char *big_frame;  /* a watch frame of about 6 KB: buffered by the splitter, grown */
static char *big_page;   /* the last list page, over 64 KB: the collected body grows */
static char *page_split; /* where big_page is cut in two */
static char *watch_head; /* the first 3000 bytes of big_frame */
static char *watch_mid;  /* the rest of it, a malformed frame, a frame, half a bookmark */

#define EV(uid, rv, msg)                                                                           \
	"{\"kind\":\"Event\",\"metadata\":{\"uid\":\"" uid "\",\"resourceVersion\":\"" rv              \
	"\"},\"message\":\"" msg "\"}"
static const char page1[] = "{\"kind\":\"EventList\",\"metadata\":{\"resourceVersion\":\"10\","
                            "\"continue\":\"c/1+=\"},\"items\":[" EV("u0", "9", "small") "]}";
static const char watch_tail[] = "\"13\"}}}\n";

static char *
repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void
make_responses(Server *srv)
{
	char *pad = repeat('x', 6000);
	char *bigpad = repeat('y', 70000);

	if (asprintf(&big_frame,
	             "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Event\",\"metadata\":{\"uid\":\"u1\","
	             "\"resourceVersion\":\"11\"},\"message\":\"%s\"}}",
	             pad) < 0 ||
	    asprintf(&big_page,
	             "{\"kind\":\"EventList\",\"metadata\":{\"resourceVersion\":\"10\"},\"items\":["
	             "{\"kind\":\"Event\",\"metadata\":{\"uid\":\"u2\",\"resourceVersion\":\"10\"},"
	             "\"message\":\"%s\"}]}",
	             bigpad) < 0)
		abort();
	watch_head = strndup(big_frame, 3000);
	if (asprintf(&watch_mid,
	             "%s\n{not json\r\n{\"type\":\"MODIFIED\",\"object\":" EV(
	                 "u1", "12", "again") "}\n{\"type\":\"BOOKMARK\",\"object\":{\"kind\":"
	                                      "\"Event\",\"metadata\":{\"resourceVersion\":",
	             big_frame + 3000) < 0)
		abort();
	page_split = strdup(big_page + 30000);
	big_page[30000] = '\0';
	srv->page1[0] = page1;
	srv->page2[0] = big_page;
	srv->page2[1] = page_split;
	srv->watch[0] = watch_head;
	srv->watch[1] = watch_mid;
	srv->watch[2] = watch_tail;
	free(pad);
	free(bigpad);
}

static void
free_responses(void)
{
	free(big_frame);
	free(big_page);
	free(page_split);
	free(watch_head);
	free(watch_mid);
}

/* ---------------------------------------------------------------- checks */

/* Every line of text starting with prefix is one of the reference's such lines. */
static bool
lines_known(const char *text, const char *reference, const char *prefix, long n)
{
	for (const char *p = strstr(text, prefix); p != NULL; p = strstr(p + 1, prefix))
	{
		const char *eol = strchr(p, '\n');
		size_t      len = eol != NULL ? (size_t) (eol - p) : strlen(p);
		bool        known = false;

		if (p != text && p[-1] != '\n')
			continue;
		for (const char *r = strstr(reference, prefix); r != NULL && !known;
		     r = strstr(r + 1, prefix))
			known = (r == reference || r[-1] == '\n') && strncmp(r, p, len) == 0 &&
			        (r[len] == '\n' || r[len] == '\0');
		if (!known)
		{
			printf("# N=%ld: unexpected: %.200s\n", n, p);
			return false;
		}
	}
	return true;
}

/* Why the engine backed off, each time: only for want of memory. */
static bool
backoffs_for_memory(const char *text, long n, int *count)
{
	const char *prefix = "state backoff: ";

	*count = 0;
	for (const char *p = strstr(text, prefix); p != NULL; p = strstr(p + 1, prefix))
	{
		const char *eol = strchr(p, '\n');
		size_t      len = eol != NULL ? (size_t) (eol - p) : strlen(p);
		char        line[512];

		snprintf(line, sizeof(line), "%.*s", (int) len, p);
		if (strstr(line, "out of memory") == NULL && strstr(line, strerror(ENOMEM)) == NULL)
		{
			printf("# N=%ld: a backoff not for memory: %s\n", n, line);
			return false;
		}
		(*count)++;
	}
	return true;
}

static bool
any_size(const TestAlloc *ta, long calls, size_t old_size, size_t new_size)
{
	for (long i = 0; i < calls && i < 512; i++)
		if (ta->old_sizes[i] == old_size && ta->new_sizes[i] == new_size)
			return true;
	return false;
}

static void
test_every_allocation_fails_once(void)
{
	Server    srv;
	Host      ref;
	TestAlloc ta0;
	long      total;
	long      hit = 0, reported = 0, recovered = 0, clean = 0, intact = 0, unleaked = 0;
	int       backoffs;

	memset(&srv, 0, sizeof(srv));
	make_responses(&srv);

	/* A run without failures: what is stored, and how many allocations it takes. */
	memset(&ref, 0, sizeof(ref));
	memset(&ta0, 0, sizeof(ta0));
	run(&ref, &srv, &ta0, NULL);
	total = ta0.calls;
	check(ref.batches == 2 && count_lines(log_text(&ref.log), "store page") == 2 &&
	          count_lines(log_text(&ref.log), "reject {not json (malformed watch frame: ") == 2 &&
	          count_lines(log_text(&ref.log), "state backoff") == 0 &&
	          strcmp(ref.checkpoint ? ref.checkpoint : "", "13") == 0 && ta0.live == 0,
	      "without failures: two list pages, then two watches of one batch each, a malformed frame "
	      "rejected in each, checkpoint 13 (%s), nothing leaked (%ld)",
	      ref.checkpoint, ta0.live);
	check(any_size(&ta0, total, 0, 4096) && any_size(&ta0, total, 4096, 8192) &&
	          any_size(&ta0, total, 0, 65536) && any_size(&ta0, total, 65536, 131072),
	      "the path buffers a frame cut across chunks and grows it (4096, then 8192), and grows "
	      "a collected list page (65536, then 131072)");
	printf("# %ld allocations until the end of the run, %ld until the first watch batch\n", total,
	       ref.calls_at_first_batch);

	for (long n = 1; n <= total; n++)
	{
		Host      h;
		TestAlloc ta;
		bool      ok_reported, ok_clean;

		memset(&h, 0, sizeof(h));
		memset(&ta, 0, sizeof(ta));
		ta.fail_at = n;
		run(&h, &srv, &ta, NULL);
		if (ta.failed)
			hit++;
		ok_reported = backoffs_for_memory(log_text(&h.log), n, &backoffs);
		if (ok_reported && backoffs == (ta.failed ? 1 : 0))
			reported++;
		else if (ok_reported)
			printf("# N=%ld: %d backoffs for memory, failure %s\n", n, backoffs,
			       ta.failed ? "hit" : "not hit");
		/* The engine went on: both watch batches stored, the checkpoint at their end. */
		if (h.batches == 2 && !srv.exhausted && strcmp(h.checkpoint ? h.checkpoint : "", "13") == 0)
			recovered++;
		else
			printf("# N=%ld: %d watch batches, checkpoint %s, %d requests\n", n, h.batches,
			       h.checkpoint ? h.checkpoint : "-", srv.requests);
		/* Nothing partial stored, nothing rejected but the malformed frame. */
		ok_clean = lines_known(log_text(&h.log), log_text(&ref.log), "store ", n) &&
		           lines_known(log_text(&h.log), log_text(&ref.log), "reject ", n);
		if (ok_clean)
			clean++;
		if (count_lines(log_text(&h.log), "store batch") == 2)
			intact++;
		if (ta.live == 0)
			unleaked++;
		else
			printf("# N=%ld: %ld blocks not freed\n", n, ta.live);
		done(&h);
	}
	check(hit == total, "each of the %ld allocations failed in one run (%ld)", total, hit);
	check(reported == total,
	      "every failure is reported as a backoff for want of memory, and nothing else is (%ld)",
	      reported);
	check(recovered == total,
	      "after every failure the engine goes on and stores both watch batches (%ld)", recovered);
	check(clean == total && intact == total,
	      "no failure stores a partial page or batch, or makes a reject of good data (%ld, %ld)",
	      clean, intact);
	check(unleaked == total, "no failure leaks a block of the allocator (%ld)", unleaked);
	done(&ref);
	free_responses();
}

/*
 * jansson out of memory while a watch runs: its json_loadb fails at once
 * (lex_init) and says nothing, which is not a malformed frame.
 */
static void
test_jansson_out_of_memory(void)
{
	Server    srv;
	Host      h;
	TestAlloc ta;
	int       backoffs = 0;

	memset(&srv, 0, sizeof(srv));
	make_responses(&srv);
	memset(&h, 0, sizeof(h));
	memset(&ta, 0, sizeof(ta));
	h.json_fail_until_backoff = true;
	json_failed_calls = 0;
	json_failing = true;
	run(&h, &srv, &ta, "10");
	json_failing = false;
	check(json_failed_calls > 0 && backoffs_for_memory(log_text(&h.log), 0, &backoffs) &&
	          backoffs == 1 && strstr(log_text(&h.log), "state backoff: out of memory") != NULL,
	      "jansson out of memory in a watch frame is reported as out of memory (%ld failed "
	      "calls)",
	      json_failed_calls);
	check(count_lines(log_text(&h.log), "reject ") == 2 &&
	          count_lines(log_text(&h.log), "reject {not json (malformed watch frame: ") == 2 &&
	          count_lines(log_text(&h.log), "store batch items=2 rejects=1 rv=13 ") == 2,
	      "and is no reject: the watch is retried and both batches are stored whole");
	check(h.batches == 2 && strcmp(h.checkpoint ? h.checkpoint : "", "13") == 0 && ta.live == 0,
	      "the checkpoint ends at 13 (%s), nothing leaked (%ld)", h.checkpoint, ta.live);
	done(&h);
	free_responses();
}

/*
 * A batch falls due while the watch stays open, and closing it ("]") finds
 * no memory: the watch ends at once, nothing of it stored, rather than
 * waiting on the open connection for the next frame or the stall timeout.
 */
static void
test_closing_a_due_batch_fails(void)
{
	static const char head[] = "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Event\",\"metadata\":"
	                           "{\"uid\":\"u1\",\"resourceVersion\":\"11\"},\"message\":\"";
	static const char tail[] = "\"}}";
	Server            srv;
	Host              h;
	TestAlloc         ta;
	char             *pad;
	char             *frame;
	char             *expected;
	int64_t           t0 = monotonic_ms();
	int64_t           took;
	int               backoffs = 0;

	/* "[" and a frame of 254 bytes fill the batch's first 256: "]" has to grow it. */
	pad = repeat('z', 254 - strlen(head) - strlen(tail));
	if (asprintf(&frame, "%s%s%s\n", head, pad, tail) < 0 ||
	    asprintf(&expected, "store batch items=1 rejects=0 rv=11 payload=[%.*s]", 254, frame) < 0)
		abort();
	memset(&srv, 0, sizeof(srv));
	srv.watch[0] = frame;
	srv.hold = true;
	memset(&h, 0, sizeof(h));
	memset(&ta, 0, sizeof(ta));
	ta.fail_old = 256;
	ta.fail_new = 512;
	h.batch_size = 1;
	h.stop_batches = 1;
	run(&h, &srv, &ta, "10");
	took = monotonic_ms() - t0;
	check(ta.failed && backoffs_for_memory(log_text(&h.log), 0, &backoffs) && backoffs == 1 &&
	          took < 5000,
	      "closing a batch that fell due fails: the open watch ends at once with out of memory "
	      "(%lld ms; the stall timeout is 10 s)",
	      (long long) took);
	check(count_lines(log_text(&h.log), "store batch") == 1 && strstr(log_text(&h.log), expected) &&
	          strcmp(h.checkpoint ? h.checkpoint : "", "11") == 0 && ta.live == 0,
	      "the watch is retried and the frame stored once, whole; nothing leaked (%ld)", ta.live);
	done(&h);
	free(pad);
	free(frame);
	free(expected);
}

int
main(void)
{
	FILE *f;

	if (!make_tmpdir("test_alloc_failure"))
		return 1;
	token_file = tmp_path("token");
	f = fopen(token_file, "w");
	if (f == NULL || fputs("secret-token\n", f) < 0 || fclose(f) != 0)
	{
		perror("token file");
		return 1;
	}
	json_set_alloc_funcs(json_test_malloc, free);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	test_every_allocation_fails_once();
	test_jansson_out_of_memory();
	test_closing_a_due_batch_fails();
	curl_global_cleanup();
	check(remove_tmpdir(), "the scratch directory is removed");
	return tap_exit_status();
}
