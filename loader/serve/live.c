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
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "serve/db_pool.h"

/* A transaction's rows carry its start time (ingested_at) but show at its commit: look back. */
#define OVERLAP_SECONDS   30
#define FETCH_INTERVAL_MS 1000
#define FETCH_LIMIT       1000
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
	snprintf(frame, len, "id: %llu\nevent: event\ndata: %s\n\n", (unsigned long long) live->next_id,
	         json);
	free(live->frames[live->next_id % LIVE_RING]);
	live->frames[live->next_id % LIVE_RING] = frame;
	live->next_id++;
	pthread_cond_broadcast(&live->changed);
	pthread_mutex_unlock(&live->lock);
}

/*
 * The rows stored since the watermark (less the overlap), of the last hour,
 * oldest first; each streamed once.  The message and names are the pod's own
 * text: json_build_object escapes them, and the page shows them as text.
 */
static const char fetch_sql[] =
    "SELECT json_build_object('cluster', e.cluster, 'namespace', e.namespace, 'kind', e.kind,"
    "  'name', e.name, 'type', e.type, 'reason', e.reason, 'message', e.message,"
    "  'count', e.count, 'occurrences', e.occurrences, 'event_time', e.event_time,"
    "  'source', coalesce(e.source_host, e.reporting_instance, e.source_component,"
    "                     e.reporting_controller))::text,"
    " extract(epoch FROM e.ingested_at)::float8, e.uid::text || '/' || e.resource_version"
    " FROM k8s_events.events AS e"
    " WHERE e.event_time OPERATOR(pg_catalog.>=) now() - interval '1 hour'"
    "  AND e.ingested_at OPERATOR(pg_catalog.>=) to_timestamp($1::float8 - 30)"
    " ORDER BY e.ingested_at, e.event_time LIMIT 1000";

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
 * Read what was stored since the watermark; publish it, or (the first look,
 * when the server starts) only remember it: a page sees what is stored after
 * it opened.
 */
static void
fetch(Live *live, PGconn *conn, bool publish_rows)
{
	char        mark[64];
	const char *params[1] = {mark};
	PGresult   *res;

	snprintf(mark, sizeof(mark), "%.6f", live->watermark);
	res = PQexecParams(conn, fetch_sql, 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		fprintf(stderr, "k8s-events serve: live stream: %s", PQerrorMessage(conn));
		PQclear(res);
		return;
	}
	for (int i = 0; i < PQntuples(res); i++)
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
	PQclear(res);
	forget_old(live);
}

static void *
listener(void *arg)
{
	Live   *live = arg;
	PGconn *conn = NULL;
	bool    dirty = true;
	bool    primed = false;
	bool    watched = false; /* a page was open at the last look */
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

		if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
		{
			PGresult *res;

			if (conn)
				PQfinish(conn);
			conn = db_connect(live->conninfo, err, sizeof(err));
			if (conn != NULL)
			{
				res = PQexec(conn, "LISTEN k8s_events");
				if (PQresultStatus(res) != PGRES_COMMAND_OK ||
				    (live->watermark == 0 && !start_watermark(live, conn)))
				{
					PQfinish(conn);
					conn = NULL;
				}
				else if (!primed)
				{
					fetch(live, conn, false);
					primed = true;
				}
				PQclear(res);
				dirty = true; /* what was stored while it was away */
			}
			else
				fprintf(stderr, "k8s-events serve: live stream: %s; trying again\n", err);
		}
		/*
		 * A first page after none: what was stored while nobody watched is in
		 * the views it loads, not news; only what comes after is streamed.
		 */
		if (conn != NULL && subscribers > 0 && !watched)
		{
			fetch(live, conn, false);
			last_fetch = now_ms();
			dirty = false;
		}
		watched = conn != NULL && subscribers > 0;
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
			dirty = true; /* a page arrived: read what it should see */
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
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (long) (wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L)
	{
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
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
		for (uint64_t id = after + 1; id < live->next_id; id++)
			len += strlen(live->frames[id % LIVE_RING]);
		*frames = malloc(len + 1);
		if (*frames != NULL)
		{
			for (uint64_t id = after + 1; id < live->next_id; id++)
			{
				size_t n = strlen(live->frames[id % LIVE_RING]);

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
