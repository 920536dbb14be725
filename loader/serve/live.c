/*
 * live.c
 *	  LISTEN k8s_events, read what was stored, keep it for the pages (see live.h).
 */
#define _GNU_SOURCE
#include "serve/live.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "serve/db_pool.h"
#include "serve/deadline.h"

/*
 * A transaction's rows carry its start time (ingested_at) but show at its
 * commit: each look reads again the last few seconds before the newest it saw.
 * The write path's transactions (a watcher's batch, an ingest) take well under
 * that; a long `k8s-events load` of old events is no live news anyway.
 */
#define OVERLAP_SECONDS   5
#define FETCH_INTERVAL_MS 1000
#define RECONNECT_MS      2000

/* A streamed row, remembered while a later look can read it again. */
typedef struct Seen
{
	char   key[96]; /* uid/resource_version */
	double ingested_at;
	int    next; /* hash chain */
} Seen;

#define SEEN_BUCKETS 4096

struct Live
{
	pthread_t       thread;
	pthread_mutex_t lock;
	pthread_cond_t  changed;
	int             wake[2]; /* a byte here wakes the thread: a subscriber, or stop */
	bool            stopping;
	int             subscribers;
	char           *conninfo;

	/* The ring: ids first_id .. next_id - 1, of which the newest LIVE_RING. */
	char    *frames[LIVE_RING];
	uint64_t next_id;
	uint32_t run; /* this run's random prefix of every id: an id of another run is not ours */

	/* The listener thread's own. */
	double watermark; /* newest ingested_at read, seconds since the epoch; 0: not yet */
	Seen  *seen;      /* what was streamed since watermark - OVERLAP_SECONDS */
	int    nseen, seen_cap;
	int    buckets[SEEN_BUCKETS]; /* index + 1 into seen, 0: none */
};

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static unsigned
hash_key(const char *key)
{
	unsigned h = 2166136261u;

	for (const char *p = key; *p; p++)
		h = (h ^ (unsigned char) *p) * 16777619u;
	return h % SEEN_BUCKETS;
}

static bool
was_seen(Live *live, const char *key)
{
	for (int i = live->buckets[hash_key(key)]; i > 0; i = live->seen[i - 1].next)
		if (strcmp(live->seen[i - 1].key, key) == 0)
			return true;
	return false;
}

static void
remember(Live *live, const char *key, double ingested_at)
{
	unsigned h = hash_key(key);
	Seen    *e;

	if (live->nseen == live->seen_cap)
	{
		int   cap = live->seen_cap ? live->seen_cap * 2 : 256;
		Seen *s = realloc(live->seen, sizeof(Seen) * (size_t) cap);

		if (s == NULL)
			return;
		live->seen = s;
		live->seen_cap = cap;
	}
	e = &live->seen[live->nseen];
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->ingested_at = ingested_at;
	e->next = live->buckets[h];
	live->buckets[h] = ++live->nseen;
}

/* Forget what a look from the watermark can no longer read. */
static void
forget_old(Live *live)
{
	double cutoff = live->watermark - OVERLAP_SECONDS - 1;
	int    kept = 0;

	for (int i = 0; i < live->nseen; i++)
		if (live->seen[i].ingested_at >= cutoff)
			live->seen[kept++] = live->seen[i];
	live->nseen = kept;
	memset(live->buckets, 0, sizeof(live->buckets));
	for (int i = 0; i < kept; i++)
	{
		unsigned h = hash_key(live->seen[i].key);

		live->seen[i].next = live->buckets[h];
		live->buckets[h] = i + 1;
	}
}

static void
publish(Live *live, const char *json)
{
	size_t len = strlen(json) + 64;
	char  *frame = malloc(len);

	if (frame == NULL)
		return;
	pthread_mutex_lock(&live->lock);
	snprintf(frame, len, "id: %08x-%llu\nevent: event\ndata: %s\n\n", live->run,
	         (unsigned long long) live->next_id, json);
	free(live->frames[live->next_id % LIVE_RING]);
	live->frames[live->next_id % LIVE_RING] = frame;
	live->next_id++;
	pthread_cond_broadcast(&live->changed);
	pthread_mutex_unlock(&live->lock);
}

/*
 * The rows stored since the watermark (less the overlap), of the last hour,
 * oldest first, page by page in (ingested_at, uid, resource_version) order;
 * each streamed once.  The message and names are the pod's own text:
 * json_build_object escapes them, and the page shows them as text.
 */
static const char fetch_sql[] =
    "SELECT json_build_object('cluster', e.cluster, 'namespace', e.namespace, 'kind', e.kind,"
    "  'name', e.name, 'type', e.type, 'reason', e.reason, 'message', e.message,"
    "  'count', e.count, 'occurrences', e.occurrences, 'event_time', e.event_time,"
    "  'host', e.source_host, 'source', coalesce(e.source_host, e.reporting_instance, e.source_component,"
    "                     e.reporting_controller))::text,"
    " extract(epoch FROM e.ingested_at)::float8, e.uid::text || '/' || e.resource_version,"
    " e.ingested_at::text, e.uid::text, e.resource_version"
    " FROM k8s_events.events AS e"
    " WHERE e.event_time OPERATOR(pg_catalog.>=) now() - interval '1 hour'"
    "  AND e.ingested_at OPERATOR(pg_catalog.>=) to_timestamp($1::float8 - 5)"
    "  AND ($2::timestamptz IS NULL"
    "       OR (e.ingested_at, e.uid, e.resource_version) > ($2::timestamptz, $3::uuid, $4::text))"
    " ORDER BY e.ingested_at, e.uid, e.resource_version LIMIT 1000";
#define FETCH_PAGE 1000

/* Where a look starts: the server's now (its clock stamps ingested_at). */
static bool
start_watermark(Live *live, PGconn *conn)
{
	PGresult *res = PQexec(conn, "SELECT extract(epoch FROM now())::float8");
	bool      ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;

	if (ok)
		live->watermark = strtod(PQgetvalue(res, 0, 0), NULL);
	PQclear(res);
	return ok;
}

/*
 * Read what was stored since the watermark, every page of it; publish it, or
 * (priming) only remember it.  false if a query failed (the connection is
 * looked at again by the caller).
 */
static bool
fetch(Live *live, PGconn *conn, bool publish_rows)
{
	char        mark[64];
	char        after_at[64] = "", after_uid[64] = "", after_rv[256] = "";
	const char *params[4] = {mark, NULL, NULL, NULL};
	double      mark_value = live->watermark;
	int         n;

	snprintf(mark, sizeof(mark), "%.6f", mark_value);
	do
	{
		PGresult *res = PQexecParams(conn, fetch_sql, 4, NULL, params, NULL, NULL, 0);

		if (PQresultStatus(res) != PGRES_TUPLES_OK)
		{
			fprintf(stderr, "k8s-events serve: live stream: %s", PQerrorMessage(conn));
			PQclear(res);
			return false;
		}
		n = PQntuples(res);
		for (int i = 0; i < n; i++)
		{
			const char *key = PQgetvalue(res, i, 2);
			double      at = strtod(PQgetvalue(res, i, 1), NULL);

			if (at > live->watermark)
				live->watermark = at;
			if (was_seen(live, key))
				continue;
			if (publish_rows)
				publish(live, PQgetvalue(res, i, 0));
			remember(live, key, at);
		}
		if (n == FETCH_PAGE)
		{
			snprintf(after_at, sizeof(after_at), "%s", PQgetvalue(res, n - 1, 3));
			snprintf(after_uid, sizeof(after_uid), "%s", PQgetvalue(res, n - 1, 4));
			snprintf(after_rv, sizeof(after_rv), "%s", PQgetvalue(res, n - 1, 5));
			params[1] = after_at;
			params[2] = after_uid;
			params[3] = after_rv;
		}
		PQclear(res);
	} while (n == FETCH_PAGE);
	forget_old(live);
	return true;
}

/* From now on: what is stored from here is news, what was stored before is not. */
static void
prime(Live *live, PGconn *conn)
{
	if (start_watermark(live, conn))
		fetch(live, conn, false);
}

/* Pages lost events (the database was away): each is told to reload its views. */
static void
reset_pages(Live *live)
{
	pthread_mutex_lock(&live->lock);
	for (int i = 0; i < LIVE_RING; i++)
	{
		free(live->frames[i]);
		live->frames[i] = NULL;
	}
	live->next_id += LIVE_RING + 1;
	pthread_cond_broadcast(&live->changed);
	pthread_mutex_unlock(&live->lock);
}

static void *
listener(void *arg)
{
	Live   *live = arg;
	PGconn *conn = NULL;
	bool    dirty = false;
	bool    watched = false; /* a page was open at the last look */
	bool    lost = false;    /* the connection went away while a page was open */
	long    last_fetch = 0;

	for (;;)
	{
		struct pollfd fds[2];
		int           timeout = -1;
		int           subscribers;
		char          err[256];

		pthread_mutex_lock(&live->lock);
		if (live->stopping)
		{
			pthread_mutex_unlock(&live->lock);
			break;
		}
		subscribers = live->subscribers;
		pthread_mutex_unlock(&live->lock);

		if (conn != NULL && PQstatus(conn) != CONNECTION_OK)
		{
			PQfinish(conn);
			conn = NULL;
			lost = lost || watched;
		}
		if (conn == NULL)
		{
			conn = db_connect(live->conninfo, err, sizeof(err));
			if (conn != NULL)
			{
				PGresult *res = PQexec(conn, "LISTEN k8s_events");

				if (PQresultStatus(res) != PGRES_COMMAND_OK)
				{
					PQfinish(conn);
					conn = NULL;
				}
				PQclear(res);
			}
			if (conn == NULL)
				fprintf(stderr, "k8s-events serve: live stream: %s; trying again\n", err);
			else
			{
				/* What was stored while it was away cannot be told apart: pages reload. */
				if (lost && subscribers > 0)
					reset_pages(live);
				lost = false;
				watched = false;
			}
		}
		/*
		 * A first page after none: what was stored while nobody watched is in
		 * the views it loads, not news; only what comes after is streamed.
		 */
		if (conn != NULL && subscribers > 0 && !watched)
		{
			prime(live, conn);
			last_fetch = now_ms();
			dirty = false;
		}
		if (conn != NULL)
			watched = subscribers > 0;
		if (conn != NULL && dirty && subscribers > 0)
		{
			long wait = last_fetch + FETCH_INTERVAL_MS - now_ms();

			if (wait <= 0)
			{
				fetch(live, conn, true);
				last_fetch = now_ms();
				dirty = false;
			}
			else
				timeout = (int) wait;
		}
		if (conn == NULL)
			timeout = RECONNECT_MS;

		fds[0].fd = live->wake[0];
		fds[0].events = POLLIN;
		fds[1].fd = conn ? PQsocket(conn) : -1;
		fds[1].events = POLLIN;
		if (poll(fds, 2, timeout) < 0 && errno != EINTR)
			break;
		if (fds[0].revents & POLLIN)
		{
			char buf[64];

			while (read(live->wake[0], buf, sizeof(buf)) > 0)
				;
		}
		if (conn != NULL && (fds[1].revents & (POLLIN | POLLERR | POLLHUP)))
		{
			PGnotify *n;

			if (!PQconsumeInput(conn))
				continue; /* lost: made again at the top */
			while ((n = PQnotifies(conn)) != NULL)
			{
				dirty = true;
				PQfreemem(n);
			}
		}
	}
	if (conn)
		PQfinish(conn);
	return NULL;
}

Live *
live_start(const char *conninfo, char *err, size_t errlen)
{
	Live *live = calloc(1, sizeof(Live));

	if (live == NULL || (live->conninfo = strdup(conninfo)) == NULL)
	{
		free(live);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (pipe2(live->wake, O_NONBLOCK | O_CLOEXEC) != 0)
	{
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		free(live->conninfo);
		free(live);
		return NULL;
	}
	live->next_id = 1;
	if (getrandom(&live->run, sizeof(live->run), 0) != (ssize_t) sizeof(live->run))
		live->run = (uint32_t) time(NULL) ^ (uint32_t) getpid();
	pthread_mutex_init(&live->lock, NULL);
	pthread_cond_init(&live->changed, NULL);
	if (pthread_create(&live->thread, NULL, listener, live) != 0)
	{
		snprintf(err, errlen, "cannot start the live stream's thread");
		close(live->wake[0]);
		close(live->wake[1]);
		free(live->conninfo);
		free(live);
		return NULL;
	}
	return live;
}

static void
wake(Live *live)
{
	ssize_t r = write(live->wake[1], "w", 1);

	(void) r; /* a full pipe has already woken it */
}

void
live_stop(Live *live)
{
	pthread_mutex_lock(&live->lock);
	live->stopping = true;
	pthread_cond_broadcast(&live->changed);
	pthread_mutex_unlock(&live->lock);
	wake(live);
	pthread_join(live->thread, NULL);
}

void
live_free(Live *live)
{
	if (live == NULL)
		return;
	for (int i = 0; i < LIVE_RING; i++)
		free(live->frames[i]);
	close(live->wake[0]);
	close(live->wake[1]);
	free(live->seen);
	free(live->conninfo);
	pthread_mutex_destroy(&live->lock);
	pthread_cond_destroy(&live->changed);
	free(live);
}

void
live_subscribe(Live *live)
{
	pthread_mutex_lock(&live->lock);
	live->subscribers++;
	pthread_mutex_unlock(&live->lock);
	wake(live);
}

void
live_unsubscribe(Live *live)
{
	pthread_mutex_lock(&live->lock);
	live->subscribers--;
	pthread_mutex_unlock(&live->lock);
}

uint32_t
live_run(Live *live)
{
	return live->run;
}

uint64_t
live_newest(Live *live)
{
	uint64_t id;

	pthread_mutex_lock(&live->lock);
	id = live->next_id - 1;
	pthread_mutex_unlock(&live->lock);
	return id;
}

bool
live_wait(Live *live, uint64_t after, int wait_ms, char **frames, uint64_t *last, bool *missed)
{
	struct timespec until;
	bool            running;

	*frames = NULL;
	*missed = false;
	*last = after;
	until = deadline_after_ms(wait_ms);
	pthread_mutex_lock(&live->lock);
	while (!live->stopping && live->next_id - 1 <= after)
		if (pthread_cond_timedwait(&live->changed, &live->lock, &until) == ETIMEDOUT)
			break;
	running = !live->stopping;
	if (running && live->next_id - 1 > after)
	{
		uint64_t first = live->next_id > LIVE_RING ? live->next_id - LIVE_RING : 1;
		size_t   len = 0, pos = 0;

		if (after + 1 < first)
		{
			*missed = true;
			after = first - 1;
		}
		/* After a reset the ring is empty: only the reset is news. */
		for (uint64_t id = after + 1; id < live->next_id; id++)
			if (live->frames[id % LIVE_RING] != NULL)
				len += strlen(live->frames[id % LIVE_RING]);
		*frames = malloc(len + 1);
		if (*frames != NULL)
		{
			for (uint64_t id = after + 1; id < live->next_id; id++)
			{
				size_t n;

				if (live->frames[id % LIVE_RING] == NULL)
					continue;
				n = strlen(live->frames[id % LIVE_RING]);
				memcpy(*frames + pos, live->frames[id % LIVE_RING], n);
				pos += n;
			}
			(*frames)[pos] = '\0';
			*last = live->next_id - 1;
		}
	}
	pthread_mutex_unlock(&live->lock);
	return running;
}
