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
 *	  engine must go on to store everything.  Each with a host that takes the
 *	  batch as text and again with one that takes the parsed values
 *	  (keep_values), whose batches live in jansson's memory, not the allocator's.
 *	  Prints "ok - ..." / "not ok - ..." lines and exits non-zero when a check
 *	  failed.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "core/list_watch.h"
#include "list_watch_harness.h"
#include "core/monotonic.h"
#include "tap.h"

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
	TestServer  base;
	const char *page1[4]; /* ?limit=... without continue: a page with a continue token */
	const char *page2[4]; /* &continue=...: the last page, with the list's resourceVersion */
	const char *watch[4]; /* ?watch=1 */
	bool        hold;     /* after a watch, keep the connection open until the client leaves */
	int         requests;
} Server;

#define MAX_REQUESTS 40

static bool
answer(void *arg, int fd, char *request)
{
	Server            *srv = arg;
	const char *const *pieces;

	if (++srv->requests > MAX_REQUESTS)
	{
		/* More requests than any run needs: the engine is looping. */
		srv->base.exhausted = 1;
		wait_for_close(fd);
		return true;
	}
	if (strstr(request, "watch=1") != NULL)
		pieces = srv->watch;
	else if (strstr(request, "continue=") != NULL)
		pieces = srv->page2;
	else
		pieces = srv->page1;
	send_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n");
	for (int i = 0; i < 4 && pieces[i] != NULL; i++)
	{
		if (i > 0)
			usleep(20 * 1000);
		send_all(fd, pieces[i]);
	}
	if (srv->hold && pieces == srv->watch)
		wait_for_close(fd);
	return true;
}

/* ---------------------------------------------------------------- the recording host */

typedef struct Host
{
	RecordingHost rec; /* first: the engine's callbacks get the Host */
	TestAlloc    *ta;
	int           batches;      /* watch batches stored */
	int           stop_batches; /* the run ends at this many (0: two) */
	long          calls_at_first_batch;
	bool          json_fail_until_backoff;
} Host;

static bool
h_stopping(void *arg)
{
	Host *h = arg;

	return h->batches >= (h->stop_batches > 0 ? h->stop_batches : 2);
}

static bool
h_stored(void *arg, const ListWatchBatch *b, char *err, size_t errlen)
{
	Host *h = arg;

	(void) err;
	(void) errlen;
	if (!b->list_page && ++h->batches == 1)
		h->calls_at_first_batch = h->ta->calls;
	return true;
}

/* The engine frees the checkpoint with its allocator: allocate it there, never failing. */
static bool
h_checkpoint(void *arg, char **rv, char *err, size_t errlen)
{
	Host *h = arg;

	if (!rec_checkpoint(arg, rv, err, errlen))
		return false;
	if (*rv != NULL)
		h->ta->live++;
	return true;
}

/* Backoffs are recorded, not slept; jansson gets its memory back at the first. */
static bool
h_sleep(void *arg, long ms)
{
	Host *h = arg;

	if (h->json_fail_until_backoff)
		json_failing = false;
	return rec_sleep(arg, ms);
}

static const char *token_file;
/* The hosts' keep_values in this pass. */
static bool keep_values;

/* Follow the cluster until two watch batches are stored (or the server gives up on us). */
static void
run(Host *h, Server *srv, TestAlloc *ta, const char *checkpoint)
{
	CoreAllocator    allocator = {ta_alloc, ta_realloc, ta_free, ta};
	ListWatchCluster cluster;
	ListWatchHost    host;

	srv->requests = 0;
	test_server_start(&srv->base, answer, srv);
	memset(&cluster, 0, sizeof(cluster));
	cluster.token_file = token_file; /* read at every connection, through the allocator */
	cluster.namespace = "shop";
	h->ta = ta;
	h->rec.keep_values = keep_values;
	h->rec.stopping = h_stopping;
	h->rec.stored = h_stored;
	rec_host(&host, &h->rec);
	host.allocator = &allocator;
	host.checkpoint = h_checkpoint;
	host.sleep = h_sleep;
	rec_run(&h->rec, &srv->base, &cluster, &host, checkpoint);
	test_server_stop(&srv->base);
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
	check(ref.batches == 2 && count_lines(log_text(&ref.rec.log), "store page") == 2 &&
	          count_lines(log_text(&ref.rec.log), "reject {not json (malformed watch frame: ") ==
	              2 &&
	          count_lines(log_text(&ref.rec.log), "state backoff") == 0 &&
	          strcmp(ref.rec.checkpoint ? ref.rec.checkpoint : "", "13") == 0 && ta0.live == 0 &&
	          ref.rec.wrong_form == 0,
	      "without failures: two list pages, then two watches of one batch each, a malformed frame "
	      "rejected in each, checkpoint 13 (%s), nothing leaked (%ld), each store in the form "
	      "asked (%d)",
	      ref.rec.checkpoint, ta0.live, ref.rec.wrong_form);
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
		ok_reported = backoffs_for_memory(log_text(&h.rec.log), n, &backoffs);
		if (ok_reported && backoffs == (ta.failed ? 1 : 0))
			reported++;
		else if (ok_reported)
			printf("# N=%ld: %d backoffs for memory, failure %s\n", n, backoffs,
			       ta.failed ? "hit" : "not hit");
		/* The engine went on: both watch batches stored, the checkpoint at their end. */
		if (h.batches == 2 && !srv.base.exhausted &&
		    strcmp(h.rec.checkpoint ? h.rec.checkpoint : "", "13") == 0)
			recovered++;
		else
			printf("# N=%ld: %d watch batches, checkpoint %s, %d requests\n", n, h.batches,
			       h.rec.checkpoint ? h.rec.checkpoint : "-", srv.requests);
		/* Nothing partial stored, nothing rejected but the malformed frame. */
		ok_clean = lines_known(log_text(&h.rec.log), log_text(&ref.rec.log), "store ", n) &&
		           lines_known(log_text(&h.rec.log), log_text(&ref.rec.log), "reject ", n);
		if (ok_clean)
			clean++;
		if (count_lines(log_text(&h.rec.log), "store batch") == 2)
			intact++;
		if (ta.live == 0)
			unleaked++;
		else
			printf("# N=%ld: %ld blocks not freed\n", n, ta.live);
		rec_done(&h.rec);
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
	rec_done(&ref.rec);
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
	check(json_failed_calls > 0 && backoffs_for_memory(log_text(&h.rec.log), 0, &backoffs) &&
	          backoffs == 1 && strstr(log_text(&h.rec.log), "state backoff: out of memory") != NULL,
	      "jansson out of memory in a watch frame is reported as out of memory (%ld failed "
	      "calls)",
	      json_failed_calls);
	check(count_lines(log_text(&h.rec.log), "reject ") == 2 &&
	          count_lines(log_text(&h.rec.log), "reject {not json (malformed watch frame: ") == 2 &&
	          count_lines(log_text(&h.rec.log), "store batch items=2 rejects=1 rv=13 ") == 2,
	      "and is no reject: the watch is retried and both batches are stored whole");
	check(h.batches == 2 && strcmp(h.rec.checkpoint ? h.rec.checkpoint : "", "13") == 0 &&
	          ta.live == 0,
	      "the checkpoint ends at 13 (%s), nothing leaked (%ld)", h.rec.checkpoint, ta.live);
	rec_done(&h.rec);
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
	h.rec.settings.batch_size = 1;
	h.rec.settings.flush_interval_ms = 60000;
	h.rec.settings.stall_timeout_ms = 10000;
	h.stop_batches = 1;
	run(&h, &srv, &ta, "10");
	took = monotonic_ms() - t0;
	check(ta.failed && backoffs_for_memory(log_text(&h.rec.log), 0, &backoffs) && backoffs == 1 &&
	          took < 5000,
	      "closing a batch that fell due fails: the open watch ends at once with out of memory "
	      "(%lld ms; the stall timeout is 10 s)",
	      (long long) took);
	check(count_lines(log_text(&h.rec.log), "store batch") == 1 &&
	          strstr(log_text(&h.rec.log), expected) &&
	          strcmp(h.rec.checkpoint ? h.rec.checkpoint : "", "11") == 0 && ta.live == 0,
	      "the watch is retried and the frame stored once, whole; nothing leaked (%ld)", ta.live);
	rec_done(&h.rec);
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
	/* The batch as parsed values: no "[frame,...]" to grow, so no closing "]" to fail. */
	printf("# again, the host with keep_values\n");
	keep_values = true;
	test_every_allocation_fails_once();
	test_jansson_out_of_memory();
	curl_global_cleanup();
	check(remove_tmpdir(), "the scratch directory is removed");
	return tap_exit_status();
}
