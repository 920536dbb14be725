/*
 * sim_watch.c
 *	  Watches of Events, and the faults a test can make them suffer.
 *
 * libmicrohttpd runs one thread per connection, so a watch is a content reader
 * callback that simply blocks (on the state's condition variable) until there
 * is something to send; MHD turns what it returns into HTTP/1.1 chunks.  As
 * with the apiserver, a watch that cannot go on ends with an ERROR frame
 * behind its 200; the injected faults (410s, frames cut in half, stalls,
 * broken JSON) come the same way, mid-stream, where a client must cope.
 */
#define _GNU_SOURCE /* POLLRDHUP */
#include "parse_args.h"
#include "sim_http_internal.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <poll.h>
#include <sys/socket.h>

#define DEFAULT_WATCH_TIMEOUT_S 1800 /* the apiserver picks 30-60 min; clients set their own */
/* How long kube-apiserver's watch cache waits for a resourceVersion it has not reached. */
#define TOO_LARGE_WAIT_US 3000000

/* Waits on st->changed until the monotonic instant until_us at the latest. */
static void
wait_until(sim_state *st, int64_t until_us)
{
	struct timespec ts;

	ts.tv_sec = (time_t) (until_us / 1000000);
	ts.tv_nsec = (long) (until_us % 1000000) * 1000;
	pthread_cond_timedwait(&st->changed, &st->mu, &ts);
}

typedef enum
{
	W_RUN,
	W_END,   /* send what is queued, then end the stream cleanly */
	W_DROP,  /* send what is queued, then close the connection without the last chunk */
	W_STALL, /* send nothing more, keep the connection */
} wstate;

typedef struct watch
{
	sim_state   *st;
	char        *ns;
	ss_api       api;
	uint64_t     epoch; /* st->watch_epoch when it started */
	uint64_t     cursor;
	uint64_t     min_rv;
	ss_version **init; /* the current state, sent as ADDED first when watching from "0" */
	size_t       ninit;
	size_t       iinit;
	bool         bookmarks;
	int64_t      deadline_mono;
	int64_t      next_bookmark;
	uint64_t     frames;
	uint64_t     last_rv;
	int          split;
	uint64_t     rng;
	int          fd; /* the client's socket, to notice it went away while nothing is sent */
	wstate       state;
	ej_buf       out;
	size_t       out_off;
} watch;

/* True once the client has closed its end (or the connection broke). */
static bool
peer_gone(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
	char          c;

	if (fd < 0 || poll(&p, 1, 0) <= 0)
		return false;
	if (p.revents & (POLLERR | POLLHUP | POLLRDHUP | POLLNVAL))
		return true;
	return (p.revents & POLLIN) && recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/*
 * Waits up to timeout_ms for the client to close its end (or the connection to
 * break, or the server to shut it down); true if it did.  Only the hang-up is
 * waited for, not input, which a client may send and this does not read.
 */
static bool
wait_peer_gone(int fd, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLRDHUP};

	if (fd < 0)
	{
		(void) poll(NULL, 0, timeout_ms);
		return false;
	}
	if (poll(&p, 1, timeout_ms) <= 0)
		return false;
	return (p.revents & (POLLERR | POLLHUP | POLLRDHUP | POLLNVAL)) != 0;
}

static void
too_old_frame(ej_buf *b, uint64_t rv, uint64_t floor)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "too old resource version: %" PRIu64 " (%" PRIu64 ")", rv, floor);
	ej_puts(b, "{\"type\":\"ERROR\",\"object\":");
	sim_status_json(b, 410, "Expired", msg, NULL, 0);
	ej_puts(b, "}\n");
}

/* The next frame into w->out, or a state change; false: end the stream (caller holds mu). */
static bool
next_frame(watch *w)
{
	sim_state  *st = w->st;
	ss_store   *s = st->store;
	ej_buf      frame = {0};
	const char *type = NULL;
	ss_version *v = NULL;
	bool        bookmark = false;

	for (;;)
	{
		int64_t now = sim_mono_us();
		int64_t wake;

		if (st->stopping || w->epoch != st->watch_epoch)
			return false;
		if (w->iinit < w->ninit)
		{
			type = "ADDED";
			v = w->init[w->iinit++];
			break;
		}
		if (w->cursor < s->base_seq)
		{
			/* the watcher fell behind the window: the watch cache ends such watches */
			too_old_frame(&w->out, w->last_rv, s->floor_rv);
			st->errors_sent++;
			st->frames_sent++;
			w->state = W_END;
			return true;
		}
		if (w->cursor < ss_next_seq(s))
		{
			const ss_change *ch = ss_change_at(s, w->cursor++);

			if (ch->v->rv <= w->min_rv || (w->ns && strcmp(ch->v->ns, w->ns) != 0))
				continue;
			v = ch->v;
			type = ch->type == SS_ADDED      ? "ADDED"
			       : ch->type == SS_MODIFIED ? "MODIFIED"
			                                 : "DELETED";
			break;
		}
		if (now >= w->deadline_mono)
			return false;
		if (w->bookmarks && st->f.bookmark_interval > 0)
		{
			if (w->next_bookmark == 0)
				w->next_bookmark = now + (int64_t) (st->f.bookmark_interval * 1e6);
			if (now >= w->next_bookmark)
			{
				bookmark = true;
				break;
			}
		}
		else
			w->next_bookmark = 0;
		wake = now + 1000000;
		if (w->deadline_mono < wake)
			wake = w->deadline_mono;
		if (w->next_bookmark && w->next_bookmark < wake)
			wake = w->next_bookmark;
		if (peer_gone(w->fd))
			return false;
		wait_until(st, wake);
	}

	if (bookmark)
	{
		w->next_bookmark = sim_mono_us() + (int64_t) (st->f.bookmark_interval * 1e6);
		ej_puts(&frame, "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Event\",\"apiVersion\":\"");
		ej_puts(&frame, sim_api_version(w->api));
		ej_puts(&frame, "\",\"metadata\":{\"resourceVersion\":\"");
		ej_u64(&frame, s->rv);
		ej_puts(&frame, "\"}}}\n");
	}
	else
	{
		ej_puts(&frame, "{\"type\":\"");
		ej_puts(&frame, type);
		ej_puts(&frame, "\",\"object\":");
		ss_append_json(&frame, v, w->api);
		ej_puts(&frame, "}\n");
	}

	w->split = st->f.max_frame_split;
	if (st->f.gone_after > 0 && w->frames >= (uint64_t) st->f.gone_after)
	{
		ej_puts(&w->out, "{\"type\":\"ERROR\",\"object\":");
		sim_status_json(&w->out, 410, "Expired",
		                "The resourceVersion for the provided watch is too old.", NULL, 0);
		ej_puts(&w->out, "}\n");
		st->errors_sent++;
		st->frames_sent++;
		w->state = W_END;
	}
	else if (st->f.drop_after > 0 && w->frames >= (uint64_t) st->f.drop_after)
	{
		ej_append(&w->out, frame.data, frame.len / 2 ? frame.len / 2 : 1);
		w->state = W_DROP;
	}
	else if (st->f.stall_after > 0 && w->frames >= (uint64_t) st->f.stall_after)
		w->state = W_STALL;
	else
	{
		if (st->f.malformed_every > 0 && (w->frames + 1) % (uint64_t) st->f.malformed_every == 0)
		{
			ej_puts(&w->out, "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Event\",\"apiVersion\":"
			                 "\"v1\",\"metadata\":{\"name\":\"broken\n");
			st->malformed_sent++;
		}
		ej_append(&w->out, frame.data, frame.len);
		w->frames++;
		st->frames_sent++;
		if (bookmark)
			st->bookmarks_sent++;
		else
		{
			w->last_rv = v->rv;
			if (type[0] == 'A')
				st->added_sent++;
			else if (type[0] == 'M')
				st->modified_sent++;
			else
				st->deleted_sent++;
		}
	}
	ej_free(&frame);
	return true;
}

static ssize_t
watch_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	watch *w = cls;

	(void) pos;
	for (;;)
	{
		bool more;

		if (w->out_off < w->out.len)
		{
			size_t n = w->out.len - w->out_off;

			if (n > max)
				n = max;
			if (w->split > 0)
			{
				size_t k = 1 + (size_t) (splitmix64(&w->rng) % (uint64_t) w->split);

				if (n > k)
					n = k;
			}
			memcpy(buf, w->out.data + w->out_off, n);
			w->out_off += n;
			if (w->out_off == w->out.len)
				w->out.len = w->out_off = 0;
			return (ssize_t) n;
		}
		switch (w->state)
		{
			case W_END:
				return MHD_CONTENT_READER_END_OF_STREAM;
			case W_DROP:
				return MHD_CONTENT_READER_END_WITH_ERROR;
			case W_STALL:
				/* until the client gives up; a look at stopping every second */
				for (;;)
				{
					bool stop;

					pthread_mutex_lock(&w->st->mu);
					stop = w->st->stopping;
					pthread_mutex_unlock(&w->st->mu);
					if (stop || wait_peer_gone(w->fd, 1000))
						return MHD_CONTENT_READER_END_WITH_ERROR;
				}
			case W_RUN:
				break;
		}
		pthread_mutex_lock(&w->st->mu);
		more = next_frame(w);
		pthread_mutex_unlock(&w->st->mu);
		if (!more)
			return MHD_CONTENT_READER_END_OF_STREAM;
	}
}

static void
watch_free(void *cls)
{
	watch *w = cls;

	pthread_mutex_lock(&w->st->mu);
	w->st->watches_active--;
	ss_release(w->init, w->ninit);
	pthread_mutex_unlock(&w->st->mu);
	free(w->ns);
	ej_free(&w->out);
	free(w);
}

/*
 * Whether the store has reached resourceVersion rv, waiting up to 3 s for it as
 * kube-apiserver's watch cache does (one lagging behind etcd, or restarted over
 * an older one).  Watching from a version the server has not reached would
 * otherwise send bookmarks older than it, moving a client's checkpoint back.
 */
static bool
reached(sim_state *st, uint64_t rv)
{
	int64_t until = sim_mono_us() + TOO_LARGE_WAIT_US;
	bool    ok;

	pthread_mutex_lock(&st->mu);
	while (rv > st->store->rv && !st->stopping && sim_mono_us() < until)
		wait_until(st, until);
	ok = rv <= st->store->rv;
	pthread_mutex_unlock(&st->mu);
	return ok;
}

/* The answer to a watch from a resourceVersion not reached: 504, ResourceVersionTooLarge. */
static enum MHD_Result
too_large(sim_state *st, struct MHD_Connection *c, uint64_t rv)
{
	char     msg[128];
	uint64_t current;

	pthread_mutex_lock(&st->mu);
	st->watch_requests++;
	current = st->store->rv;
	pthread_mutex_unlock(&st->mu);
	snprintf(msg, sizeof(msg), "Too large resource version: %" PRIu64 ", current: %" PRIu64, rv,
	         current);
	return sim_send_status(c, 504, "Timeout", msg,
	                       "\"causes\":[{\"reason\":\"ResourceVersionTooLarge\",\"message\":"
	                       "\"Too large resource version\"}],\"retryAfterSeconds\":1");
}

enum MHD_Result
sim_do_watch(sim_state *st, struct MHD_Connection *c, const char *ns, ss_api api)
{
	const char          *rv_s = sim_arg(c, "resourceVersion");
	const char          *to_s = sim_arg(c, "timeoutSeconds");
	const char          *bm_s = sim_arg(c, "allowWatchBookmarks");
	long                 timeout = DEFAULT_WATCH_TIMEOUT_S;
	uint64_t             rv = 0;
	bool                 bookmarks = false;
	watch               *w;
	struct MHD_Response *r;
	enum MHD_Result      ret;

	if (to_s && *to_s && !parse_long(to_s, 0, LONG_MAX / 1000000, &timeout))
		return sim_bad_request(c, "invalid value for timeoutSeconds: \"%.64s\"", to_s);
	if (timeout == 0)
		timeout = DEFAULT_WATCH_TIMEOUT_S;
	if (rv_s && *rv_s && !parse_u64(rv_s, &rv))
		return sim_bad_request(c, "invalid resource version: \"%.64s\"", rv_s);
	if (bm_s && *bm_s && !sim_parse_bool(bm_s, &bookmarks))
		return sim_bad_request(c, "invalid value for allowWatchBookmarks: \"%.64s\"", bm_s);
	if (!reached(st, rv))
		return too_large(st, c, rv);

	w = calloc(1, sizeof(watch));
	if (w == NULL || (ns && (w->ns = strdup(ns)) == NULL))
		exit(1);
	w->st = st;
	w->api = api;
	w->bookmarks = bookmarks;
	{
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

		w->fd = ci ? ci->connect_fd : -1;
	}
	w->deadline_mono = sim_mono_us() + (int64_t) timeout * 1000000;

	pthread_mutex_lock(&st->mu);
	st->watch_requests++;
	st->watches_active++;
	w->epoch = st->watch_epoch;
	w->rng = splitmix64(&st->rng);
	w->split = st->f.max_frame_split;
	w->last_rv = rv;
	if (rv == 0)
	{
		/* "0" or unset: the current state as ADDED, then the changes after it */
		w->init = ss_collect(st->store, ns, &w->ninit);
		w->cursor = ss_next_seq(st->store);
		w->min_rv = st->store->rv;
	}
	else if (rv < st->store->floor_rv)
	{
		too_old_frame(&w->out, rv, st->store->floor_rv);
		st->errors_sent++;
		st->frames_sent++;
		w->state = W_END;
	}
	else
	{
		w->cursor = ss_seq_after(st->store, rv);
		w->min_rv = rv;
	}
	pthread_mutex_unlock(&st->mu);

	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, watch_read, w, watch_free);
	if (r == NULL)
	{
		watch_free(w);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache, private");
	ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	sim_note_status(200);
	return ret;
}
