/*
 * sim_http.c
 *	  The HTTP side of `k8s-events simulate`.
 *
 * libmicrohttpd runs one thread per connection, so a watch is a content reader
 * callback that simply blocks (on the state's condition variable) until there
 * is something to send; MHD turns what it returns into HTTP/1.1 chunks.  The
 * answers copy what kube-apiserver does where clients can tell the difference:
 * Status objects with their reasons, list items without kind/apiVersion,
 * continue tokens in the apiserver's format, watch errors as ERROR frames
 * behind a 200.
 */
#define _GNU_SOURCE /* POLLRDHUP */
#include "parse_args.h"
#include "sim_http.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <jansson.h>
#include <microhttpd.h>

#include "base64.h"

#define DEFAULT_WATCH_TIMEOUT_S 1800 /* the apiserver picks 30-60 min; clients set their own */
#define MAX_INJECT_BYTES        (64L * 1024 * 1024)
#define MAX_INJECT_COUNT        100000
#define EXPIRED_CONTINUE_MESSAGE                                                                   \
	"The provided continue parameter is too old to display a consistent list result. You can "     \
	"start a new list without the continue parameter, or use the continue token in this "          \
	"response to retrieve the remainder of the results. Continuing with the provided token "       \
	"results in an inconsistent list - objects that were created, modified, or deleted between "   \
	"the time the first chunk was returned and now may show up in the list."

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

static void
note_status(int code)
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

static uint64_t
splitmix(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* Waits on st->changed until the monotonic instant until_us at the latest. */
static void
wait_until(sim_state *st, int64_t until_us)
{
	struct timespec ts;

	ts.tv_sec = (time_t) (until_us / 1000000);
	ts.tv_nsec = (long) (until_us % 1000000) * 1000;
	pthread_cond_timedwait(&st->changed, &st->mu, &ts);
}

/* ---------------------------------------------------------------- responses */

static const char *
reason_for(int code)
{
	switch (code)
	{
		case 400:
			return "BadRequest";
		case 401:
			return "Unauthorized";
		case 403:
			return "Forbidden";
		case 404:
			return "NotFound";
		case 405:
			return "MethodNotAllowed";
		case 409:
			return "Conflict";
		case 410:
			return "Expired";
		case 422:
			return "Invalid";
		case 429:
			return "TooManyRequests";
		case 500:
			return "InternalError";
		case 503:
			return "ServiceUnavailable";
		case 504:
			return "Timeout";
		default:
			return "";
	}
}

static const char *
message_for(int code)
{
	switch (code)
	{
		case 401:
			return "Unauthorized";
		case 403:
			return "events is forbidden: User \"system:serviceaccount:k8s-events:watcher\" cannot "
			       "list resource \"events\" in API group \"\" at the cluster scope";
		case 404:
			return "the server could not find the requested resource";
		case 405:
			return "the server does not allow this method on the requested resource";
		case 410:
			return "The resourceVersion for the provided list is too old.";
		case 429:
			return "Too many requests, please try again later.";
		case 500:
			return "Internal error occurred: simulated failure";
		case 503:
			return "the server is currently unable to handle the request";
		case 504:
			return "Timeout: request did not complete within requested timeout - context deadline "
			       "exceeded";
		default:
			return "simulated failure";
	}
}

static bool
retries(int code)
{
	return code == 429 || code == 503 || code == 504;
}

/*
 * A metav1.Status; details_json is the inside of "details" or NULL, when a
 * retryAfterSeconds of retry_after (if > 0) makes the details.
 */
static void
status_json(ej_buf *b, int code, const char *reason, const char *message, const char *details_json,
            long retry_after)
{
	ej_puts(b, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
	           "\"message\":");
	ej_string(b, message);
	if (reason[0])
	{
		ej_puts(b, ",\"reason\":");
		ej_string(b, reason);
	}
	if (details_json)
	{
		ej_puts(b, ",\"details\":{");
		ej_puts(b, details_json);
		ej_puts(b, "}");
	}
	else if (retry_after > 0)
	{
		ej_puts(b, ",\"details\":{\"retryAfterSeconds\":");
		ej_u64(b, (uint64_t) retry_after);
		ej_puts(b, "}");
	}
	ej_puts(b, ",\"code\":");
	ej_u64(b, (uint64_t) code);
	ej_puts(b, "}");
}

/* Sends b as the answer; a Retry-After header when retry_after > 0. */
static enum MHD_Result
send_buf_retry(struct MHD_Connection *c, unsigned code, ej_buf *b, const char *ctype,
               long retry_after)
{
	struct MHD_Response *r;
	enum MHD_Result      ret;
	char                 secs[24];

	if (b->data == NULL)
		ej_reserve(b, 1);
	r = MHD_create_response_from_buffer(b->len, b->data, MHD_RESPMEM_MUST_FREE);
	b->data = NULL;
	b->len = b->cap = 0;
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache, private");
	if (retry_after > 0)
	{
		snprintf(secs, sizeof(secs), "%ld", retry_after);
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, secs);
	}
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	note_status((int) code);
	return ret;
}

static enum MHD_Result
send_buf(struct MHD_Connection *c, unsigned code, ej_buf *b, const char *ctype)
{
	return send_buf_retry(c, code, b, ctype, retries((int) code) ? 1 : 0);
}

static enum MHD_Result
send_status(struct MHD_Connection *c, int code, const char *reason, const char *message,
            const char *details_json)
{
	ej_buf b = {0};

	status_json(&b, code, reason, message, details_json, retries(code) ? 1 : 0);
	return send_buf(c, (unsigned) code, &b, "application/json");
}

static enum MHD_Result
send_code(struct MHD_Connection *c, int code)
{
	return send_status(c, code, reason_for(code), message_for(code), NULL);
}

/*
 * An injected failure: a 429, 503 or 504 tells the client to retry after
 * retry_after seconds.  A 403 names the API group of the URL, as RBAC does.
 */
static enum MHD_Result
send_fault(struct MHD_Connection *c, const char *url, int code, long retry_after)
{
	ej_buf      b = {0};
	const char *message = message_for(code);

	if (!retries(code))
		retry_after = 0;
	if (code == 403 && strncmp(url, "/apis/events.k8s.io/", 20) == 0)
		message = "events.events.k8s.io is forbidden: User "
		          "\"system:serviceaccount:k8s-events:watcher\" cannot list resource \"events\" in "
		          "API group \"events.k8s.io\" at the cluster scope";
	status_json(&b, code, reason_for(code), message, NULL, retry_after);
	return send_buf_retry(c, (unsigned) code, &b, "application/json", retry_after);
}

static enum MHD_Result __attribute__((format(printf, 2, 3)))
bad_request(struct MHD_Connection *c, const char *fmt, ...)
{
	char    msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return send_status(c, 400, "BadRequest", msg, NULL);
}

/* ---------------------------------------------------------------- parameters */

static const char *
arg(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

/* Go's strconv.ParseBool, which the apiserver uses for watch and allowWatchBookmarks. */
static bool
parse_bool(const char *s, bool *out)
{
	static const char *yes[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *no[] = {"0", "f", "F", "FALSE", "false", "False"};

	if (s == NULL)
		return false;
	for (int i = 0; i < 6; i++)
	{
		if (strcmp(s, yes[i]) == 0)
			return *out = true;
		if (strcmp(s, no[i]) == 0)
		{
			*out = false;
			return true;
		}
	}
	return false;
}

/* ---------------------------------------------------------------- keys and continue tokens */

/* Compares the etcd keys "ns/name" of two Events without building them. */
static int
key_cmp(const char *ns1, const char *name1, const char *key2)
{
	const unsigned char *a = (const unsigned char *) ns1;
	const unsigned char *k = (const unsigned char *) key2;

	for (int part = 0; part < 3; part++)
	{
		if (part == 1)
			a = (const unsigned char *) "/";
		else if (part == 2)
			a = (const unsigned char *) name1;
		for (; *a; a++, k++)
		{
			if (*k == '\0')
				return 1;
			if (*a != *k)
				return *a < *k ? -1 : 1;
		}
	}
	return *k ? -1 : 0;
}

static void
encode_continue(ej_buf *out, uint64_t rv, const char *ns_scope, const ss_version *last)
{
	ej_buf json = {0};
	char  *b64;
	size_t n;

	/* the apiserver's format: the start key is relative to the listed prefix */
	ej_puts(&json, "{\"v\":\"meta.k8s.io/v1\",\"rv\":");
	ej_u64(&json, rv);
	ej_puts(&json, ",\"start\":\"");
	if (ns_scope == NULL)
	{
		ej_puts(&json, last->ns);
		ej_puts(&json, "/");
	}
	ej_puts(&json, last->name);
	ej_puts(&json, "\\u0000\"}");
	b64 = malloc(base64_encoded_len(json.len) + 1);
	if (b64 == NULL)
	{
		fprintf(stderr, "k8s-events simulate: out of memory\n");
		exit(1);
	}
	n = base64_encode((const unsigned char *) json.data, json.len, b64);
	/* base64.RawURLEncoding */
	while (n > 0 && b64[n - 1] == '=')
		n--;
	for (size_t i = 0; i < n; i++)
		b64[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
	ej_append(out, b64, n);
	free(b64);
	ej_free(&json);
}

/* Decodes a continue token into its rv and "ns/name" start key (malloc'd). */
static bool
decode_continue(const char *token, const char *ns_scope, uint64_t *rv, char **start, char *err,
                size_t errlen)
{
	size_t         len = strlen(token);
	char          *std = malloc(len + 4);
	unsigned char *raw = malloc(base64_decoded_max(len + 4) + 1);
	size_t         rawlen = 0;
	json_t        *j = NULL;
	json_error_t   jerr;
	bool           ok = false;

	if (std == NULL || raw == NULL)
	{
		fprintf(stderr, "k8s-events simulate: out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < len; i++)
		std[i] = token[i] == '-' ? '+' : token[i] == '_' ? '/' : token[i];
	while (len % 4)
		std[len++] = '=';
	std[len] = '\0';
	if (strpbrk(token, "+/=") ||
	    !base64_decode(std, len, raw, base64_decoded_max(len) + 1, &rawlen, err, errlen))
	{
		snprintf(err, errlen, "continue key is not valid: illegal base64 data");
		goto done;
	}
	j = json_loadb((const char *) raw, rawlen, JSON_ALLOW_NUL, &jerr);
	if (j == NULL || !json_is_string(json_object_get(j, "v")) ||
	    strcmp(json_string_value(json_object_get(j, "v")), "meta.k8s.io/v1") != 0)
	{
		snprintf(err, errlen,
		         "continue key is not valid: incorrect encoded start resourceVersion "
		         "(version meta.k8s.io/v1)");
		goto done;
	}
	if (!json_is_integer(json_object_get(j, "rv")) ||
	    json_integer_value(json_object_get(j, "rv")) <= 0)
	{
		snprintf(err, errlen,
		         "continue key is not valid: incorrect encoded start "
		         "resourceVersion (version meta.k8s.io/v1)");
		goto done;
	}
	{
		json_t     *s = json_object_get(j, "start");
		const char *sv;
		size_t      sl;

		if (!json_is_string(s) || (sl = json_string_length(s)) == 0)
		{
			snprintf(err, errlen, "continue key is not valid: encoded start key was empty");
			goto done;
		}
		sv = json_string_value(s);
		if (sv[sl - 1] == '\0')
			sl--;
		if (memchr(sv, '\0', sl))
		{
			snprintf(err, errlen, "continue key is not valid: invalid start key");
			goto done;
		}
		*start = malloc(sl + (ns_scope ? strlen(ns_scope) + 1 : 0) + 1);
		if (*start == NULL)
			exit(1);
		if (ns_scope)
			sprintf(*start, "%s/%.*s", ns_scope, (int) sl, sv);
		else
			sprintf(*start, "%.*s", (int) sl, sv);
	}
	*rv = (uint64_t) json_integer_value(json_object_get(j, "rv"));
	ok = true;
done:
	json_decref(j);
	free(std);
	free(raw);
	return ok;
}

/* ---------------------------------------------------------------- list and get */

/* The apiVersion of api's objects. */
static const char *
api_version(ss_api api)
{
	return api == SS_API_EVENTS ? "events.k8s.io/v1" : "v1";
}

static void
append_list_item(ej_buf *b, const ss_version *v, ss_api api)
{
	char   prefix[64];
	size_t pl = (size_t) snprintf(prefix, sizeof(prefix),
	                              "{\"kind\":\"Event\",\"apiVersion\":\"%s\",", api_version(api));

	/* the apiserver leaves kind and apiVersion out of list items */
	if (v->len[api] > pl && memcmp(v->json[api], prefix, pl) == 0)
	{
		ej_append(b, "{", 1);
		ej_append(b, v->json[api] + pl, v->len[api] - pl);
	}
	else
		ss_append_json(b, v, api);
}

static enum MHD_Result
do_list(sim_state *st, struct MHD_Connection *c, const char *ns, ss_api api)
{
	const char  *limit_s = arg(c, "limit");
	const char  *cont = arg(c, "continue");
	const char  *rv_s = arg(c, "resourceVersion");
	long         limit = 0;
	uint64_t     want_rv = 0;
	ss_version **items;
	size_t       n;
	size_t       from = 0;
	size_t       to;
	uint64_t     rv;
	ss_snapshot *sn = NULL;
	ej_buf       b = {0};
	char        *start = NULL;
	char         err[256];

	if (limit_s && *limit_s && !parse_long(limit_s, LONG_MIN, LONG_MAX, &limit))
		return bad_request(c, "invalid value for limit: \"%.64s\"", limit_s);
	if (limit < 0)
		limit = 0;
	if (rv_s && *rv_s && !parse_u64(rv_s, &want_rv))
		return bad_request(c, "invalid resource version: \"%.64s\"", rv_s);
	if (cont && *cont && !decode_continue(cont, ns, &rv, &start, err, sizeof(err)))
		return bad_request(c, "%s", err);

	pthread_mutex_lock(&st->mu);
	st->list_requests++;
	if (st->f.page_size > 0 && limit > 0 && limit > st->f.page_size)
		limit = st->f.page_size;
	if (want_rv > st->store->rv)
	{
		char msg[128];

		snprintf(msg, sizeof(msg), "Too large resource version: %" PRIu64 ", current: %" PRIu64,
		         want_rv, st->store->rv);
		pthread_mutex_unlock(&st->mu);
		free(start);
		return send_status(c, 504, "Timeout", msg,
		                   "\"causes\":[{\"reason\":\"ResourceVersionTooLarge\","
		                   "\"message\":\"Too large resource version\"}],\"retryAfterSeconds\":1");
	}
	if (start)
	{
		sn = st->f.expire_continue ? NULL : ss_find_snapshot(st->store, rv, ns, sim_mono_us());
		if (sn == NULL)
		{
			st->continues_expired++;
			pthread_mutex_unlock(&st->mu);
			free(start);
			return send_status(c, 410, "Expired", EXPIRED_CONTINUE_MESSAGE, NULL);
		}
		items = sn->items;
		n = sn->n;
		/* the first item after the start key */
		{
			size_t lo = 0, hi = n;

			while (lo < hi)
			{
				size_t mid = lo + (hi - lo) / 2;

				if (key_cmp(items[mid]->ns, items[mid]->name, start) <= 0)
					lo = mid + 1;
				else
					hi = mid;
			}
			from = lo;
		}
		free(start);
	}
	else
	{
		items = ss_collect(st->store, ns, &n);
		rv = st->store->rv;
		if (limit > 0 && n > (size_t) limit)
		{
			sn = ss_add_snapshot(st->store, ns, items, n, sim_mono_us());
			if (sn == NULL)
				items = ss_collect(st->store, ns, &n);
		}
	}
	to = limit > 0 && n - from > (size_t) limit ? from + (size_t) limit : n;

	ej_puts(&b, "{\"kind\":\"EventList\",\"apiVersion\":\"");
	ej_puts(&b, api_version(api));
	ej_puts(&b, "\",\"metadata\":{\"resourceVersion\":\"");
	ej_u64(&b, rv);
	ej_puts(&b, "\"");
	if (to < n)
	{
		ej_puts(&b, ",\"continue\":\"");
		encode_continue(&b, rv, ns, items[to - 1]);
		ej_puts(&b, "\",\"remainingItemCount\":");
		ej_u64(&b, n - to);
	}
	ej_puts(&b, "},\"items\":[");
	for (size_t i = from; i < to; i++)
	{
		if (i > from)
			ej_append(&b, ",", 1);
		append_list_item(&b, items[i], api);
	}
	ej_puts(&b, "]}");
	if (sn == NULL)
		ss_release(items, n);
	pthread_mutex_unlock(&st->mu);
	return send_buf(c, 200, &b, "application/json");
}

static enum MHD_Result
do_get(sim_state *st, struct MHD_Connection *c, const char *ns, const char *name, ss_api api)
{
	ej_buf      b = {0};
	ss_version *v;

	pthread_mutex_lock(&st->mu);
	st->get_requests++;
	v = ss_lookup(st->store, ns, name);
	if (v)
		ss_append_json(&b, v, api);
	pthread_mutex_unlock(&st->mu);
	if (v == NULL)
	{
		ej_buf msg = {0};
		ej_buf det = {0};

		ej_puts(&msg, api == SS_API_EVENTS ? "events.events.k8s.io \"" : "events \"");
		ej_puts(&msg, name);
		ej_puts(&msg, "\" not found");
		ej_puts(&det, "\"name\":");
		ej_string(&det, name);
		if (api == SS_API_EVENTS)
			ej_puts(&det, ",\"group\":\"events.k8s.io\"");
		ej_puts(&det, ",\"kind\":\"events\"");
		status_json(&b, 404, "NotFound", msg.data, det.data, 0);
		ej_free(&msg);
		ej_free(&det);
		return send_buf(c, 404, &b, "application/json");
	}
	return send_buf(c, 200, &b, "application/json");
}

/* ---------------------------------------------------------------- watch */

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

static void
too_old_frame(ej_buf *b, uint64_t rv, uint64_t floor)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "too old resource version: %" PRIu64 " (%" PRIu64 ")", rv, floor);
	ej_puts(b, "{\"type\":\"ERROR\",\"object\":");
	status_json(b, 410, "Expired", msg, NULL, 0);
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
		ej_puts(&frame, api_version(w->api));
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
		status_json(&w->out, 410, "Expired",
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
				size_t k = 1 + (size_t) (splitmix(&w->rng) % (uint64_t) w->split);

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
				for (;;)
				{
					bool stop;

					pthread_mutex_lock(&w->st->mu);
					stop = w->st->stopping;
					pthread_mutex_unlock(&w->st->mu);
					if (stop || peer_gone(w->fd))
						return MHD_CONTENT_READER_END_WITH_ERROR;
					usleep(100000);
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

static enum MHD_Result
do_watch(sim_state *st, struct MHD_Connection *c, const char *ns, ss_api api)
{
	const char          *rv_s = arg(c, "resourceVersion");
	const char          *to_s = arg(c, "timeoutSeconds");
	const char          *bm_s = arg(c, "allowWatchBookmarks");
	long                 timeout = DEFAULT_WATCH_TIMEOUT_S;
	uint64_t             rv = 0;
	bool                 bookmarks = false;
	watch               *w;
	struct MHD_Response *r;
	enum MHD_Result      ret;

	if (to_s && *to_s && !parse_long(to_s, 0, LONG_MAX / 1000000, &timeout))
		return bad_request(c, "invalid value for timeoutSeconds: \"%.64s\"", to_s);
	if (timeout == 0)
		timeout = DEFAULT_WATCH_TIMEOUT_S;
	if (rv_s && *rv_s && !parse_u64(rv_s, &rv))
		return bad_request(c, "invalid resource version: \"%.64s\"", rv_s);
	if (bm_s && *bm_s && !parse_bool(bm_s, &bookmarks))
		return bad_request(c, "invalid value for allowWatchBookmarks: \"%.64s\"", bm_s);

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
	w->rng = splitmix(&st->rng);
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
	note_status(200);
	return ret;
}

/* ---------------------------------------------------------------- synthetic events */

static void
make_uid(uint64_t *rng, char *out)
{
	uint64_t a = splitmix(rng);
	uint64_t b = splitmix(rng);

	snprintf(out, 37, "%08x-%04x-4%03x-%04x-%012" PRIx64, (unsigned) (a >> 32),
	         (unsigned) (a >> 16) & 0xffff, (unsigned) a & 0xfff,
	         (unsigned) (0x8000 | ((b >> 48) & 0x3fff)), b & UINT64_C(0xffffffffffff));
}

/* Exactly n bytes of text, mostly multi-byte UTF-8, never cut inside a character. */
static void
fill_message(ej_buf *b, long n)
{
	static const char *const units[] = {"é", "日", "本", "🚀", " ", "ü", "語", "a", "✓", "—"};
	static const char        head[] = "Simulated large message: ";
	long                     left = n;
	int                      i = 0;

	if (n >= (long) sizeof(head))
	{
		ej_puts(b, head);
		left -= (long) sizeof(head) - 1;
	}
	while (left > 0)
	{
		const char *u = units[i++ % 10];
		long        ul = (long) strlen(u);

		if (ul > left)
			u = "x", ul = 1;
		ej_append(b, u, (size_t) ul);
		left -= ul;
	}
}

ss_version *
sim_inject(sim_state *st, const char *ns, long bytes)
{
	int64_t     now = sim_now_us(st) / 1000000 * 1000000;
	char        uid[40];
	char        inv_uid[40];
	char        inv_name[64];
	char        name[128];
	ej_buf      msg = {0};
	cm_obs      o;
	ss_version *v;

	memset(&o, 0, sizeof(o));
	st->injected_events++;
	make_uid(&st->rng, uid);
	make_uid(&st->rng, inv_uid);
	snprintf(inv_name, sizeof(inv_name), "simulated-%" PRIu64, st->injected_events);
	/* like client-go: the involved object's name and the time in nanoseconds, in hex */
	snprintf(name, sizeof(name), "%s.%" PRIx64, inv_name,
	         (uint64_t) now * 1000 + st->injected_events);
	if (bytes > 0)
		fill_message(&msg, bytes);
	else
		ej_puts(&msg, "Simulated event injected through /simulator/inject — ✓ ünïcödé 日本語 🚀");
	o.shape = CM_SHAPE_CORE;
	o.name = name;
	o.namespace = ns;
	o.uid = uid;
	o.creation_us = now;
	o.involved.kind = "ConfigMap";
	o.involved.namespace = ns;
	o.involved.name = inv_name;
	o.involved.uid = inv_uid;
	o.involved.api_version = "v1";
	o.reason = bytes > 0 ? "LargeMessage" : "Simulated";
	o.message = msg.data;
	o.type = "Normal";
	o.source_component = "k8s-events-simulate";
	o.first_us = o.last_us = now;
	o.count = 1;
	o.reporting_component = "k8s-events-simulate";
	o.reporting_instance = "";
	v = ss_write(st->store, &o, now + st->ttl_us, sim_mono_us());
	ej_free(&msg);
	pthread_cond_broadcast(&st->changed);
	return v;
}

/* ---------------------------------------------------------------- admin */

static void
stat_u(ej_buf *b, const char *name, uint64_t v)
{
	ej_puts(b, ",\"");
	ej_puts(b, name);
	ej_puts(b, "\":");
	ej_u64(b, v);
}

static void
faults_json(ej_buf *b, const sim_state *st)
{
	char num[64];

	ej_puts(b, "{\"page_size\":");
	ej_u64(b, (uint64_t) st->f.page_size);
	stat_u(b, "gone_after", (uint64_t) st->f.gone_after);
	stat_u(b, "drop_after", (uint64_t) st->f.drop_after);
	stat_u(b, "stall_after", (uint64_t) st->f.stall_after);
	stat_u(b, "malformed_every", (uint64_t) st->f.malformed_every);
	ej_puts(b, st->f.expire_continue ? ",\"expire_continue\":true" : ",\"expire_continue\":false");
	snprintf(num, sizeof(num), ",\"bookmark_interval\":%g", st->f.bookmark_interval);
	ej_puts(b, num);
	stat_u(b, "fail_status", (uint64_t) st->f.fail_status);
	stat_u(b, "fail_count", (uint64_t) st->f.fail_count);
	snprintf(num, sizeof(num), ",\"rate_limit\":%g", st->f.rate_limit);
	ej_puts(b, num);
	stat_u(b, "retry_after", (uint64_t) st->f.retry_after);
	stat_u(b, "max_frame_split", (uint64_t) st->f.max_frame_split);
	snprintf(num, sizeof(num), ",\"speed\":%g", st->speed);
	ej_puts(b, num);
	snprintf(num, sizeof(num), ",\"rate\":%g}", st->rate);
	ej_puts(b, num);
}

static void
stats_json(ej_buf *b, sim_state *st)
{
	ss_store *s = st->store;
	char      t[32];

	ej_puts(b, "{\"resource_version\":");
	ej_u64(b, s->rv);
	stat_u(b, "events_alive", s->alive);
	stat_u(b, "observations", s->observations);
	stat_u(b, "distinct_uids", s->distinct_uids);
	stat_u(b, "deletions", s->deletions);
	stat_u(b, "requests", st->requests);
	stat_u(b, "list_requests", st->list_requests);
	stat_u(b, "watch_requests", st->watch_requests);
	stat_u(b, "get_requests", st->get_requests);
	stat_u(b, "events_api_requests", st->events_api_requests);
	stat_u(b, "unauthorized", st->unauthorized);
	stat_u(b, "rate_limited", st->rate_limited);
	stat_u(b, "injected_failures", st->injected_failures);
	stat_u(b, "continues_expired", st->continues_expired);
	stat_u(b, "frames_sent", st->frames_sent);
	stat_u(b, "added_sent", st->added_sent);
	stat_u(b, "modified_sent", st->modified_sent);
	stat_u(b, "deleted_sent", st->deleted_sent);
	stat_u(b, "bookmarks_sent", st->bookmarks_sent);
	stat_u(b, "errors_sent", st->errors_sent);
	stat_u(b, "malformed_sent", st->malformed_sent);
	stat_u(b, "watches_active", st->watches_active);
	stat_u(b, "injected_events", st->injected_events);
	stat_u(b, "model_writes", st->model_writes);
	stat_u(b, "requests_logged", st->reqs_next_seq);
	stat_u(b, "history_floor_rv", s->floor_rv);
	stat_u(b, "history_changes", s->hist_count);
	stat_u(b, "observation_log_floor_rv", s->obs_floor_rv);
	stat_u(b, "snapshots", (uint64_t) s->nsnaps);
	ej_format_time(sim_now_us(st), 0, t);
	ej_puts(b, ",\"sim_time\":\"");
	ej_puts(b, t);
	ej_puts(b, "\",\"faults\":");
	faults_json(b, st);
	ej_puts(b, "}\n");
}

typedef struct arg_check
{
	const char *const *known;
	const char        *unknown;
} arg_check;

static enum MHD_Result
check_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	arg_check *ac = cls;

	(void) kind;
	(void) value;
	for (int i = 0; ac->known[i]; i++)
		if (strcmp(key, ac->known[i]) == 0)
			return MHD_YES;
	ac->unknown = key;
	return MHD_NO;
}

static const char *
unknown_arg(struct MHD_Connection *c, const char *const *known)
{
	arg_check ac = {known, NULL};

	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, check_arg, &ac);
	return ac.unknown;
}

static enum MHD_Result
do_faults(sim_state *st, struct MHD_Connection *c, bool post)
{
	static const char *const known[] = {"reset",
	                                    "page_size",
	                                    "gone_after",
	                                    "drop_after",
	                                    "stall_after",
	                                    "malformed_every",
	                                    "expire_continue",
	                                    "bookmark_interval",
	                                    "fail_status",
	                                    "fail_count",
	                                    "rate_limit",
	                                    "max_frame_split",
	                                    "speed",
	                                    "retry_after",
	                                    "rate",
	                                    NULL};
	const char              *bad = unknown_arg(c, known);
	sim_faults               f;
	double                   speed;
	double                   rate;
	const char              *v;
	long                     n;
	bool                     reset = false;
	ej_buf                   b = {0};

	if (bad)
		return bad_request(c, "unknown fault \"%.64s\"", bad);
	if (!post && MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, NULL, NULL) > 0)
		return send_status(c, 405, "MethodNotAllowed", "use POST to change faults", NULL);
	pthread_mutex_lock(&st->mu);
	f = st->f;
	speed = st->speed;
	rate = st->rate;
	pthread_mutex_unlock(&st->mu);

	if ((v = arg(c, "reset")) && !parse_bool(v, &reset))
		return bad_request(c, "reset must be true or false");
	if (reset)
	{
		f.page_size = f.gone_after = f.drop_after = f.stall_after = f.malformed_every = 0;
		f.expire_continue = false;
		f.fail_status = 0;
		f.fail_count = 0;
		f.rate_limit = 0;
		f.retry_after = 1;
		f.max_frame_split = 0;
	}
#define LONG_FAULT(key, field, lo, hi)                                                             \
	if ((v = arg(c, key)))                                                                         \
	{                                                                                              \
		if (!parse_long(v, lo, hi, &n))                                                            \
			return bad_request(c, key " must be an integer from %ld to %ld, not \"%.64s\"",        \
			                   (long) (lo), (long) (hi), v);                                       \
		f.field = n;                                                                               \
	}
	LONG_FAULT("page_size", page_size, 0, 1000000000L)
	LONG_FAULT("gone_after", gone_after, 0, LONG_MAX)
	LONG_FAULT("drop_after", drop_after, 0, LONG_MAX)
	LONG_FAULT("stall_after", stall_after, 0, LONG_MAX)
	LONG_FAULT("malformed_every", malformed_every, 0, LONG_MAX)
	LONG_FAULT("fail_count", fail_count, 0, LONG_MAX)
	LONG_FAULT("fail_status", fail_status, 0, 599)
	LONG_FAULT("max_frame_split", max_frame_split, 0, 65536)
	LONG_FAULT("retry_after", retry_after, 0, 86400)
#undef LONG_FAULT
	if ((v = arg(c, "expire_continue")) && !parse_bool(v, &f.expire_continue))
		return bad_request(c, "expire_continue must be true or false, not \"%.64s\"", v);
	if ((v = arg(c, "bookmark_interval")) && !parse_double(v, 0, 86400, &f.bookmark_interval))
		return bad_request(c, "bookmark_interval must be seconds from 0 to 86400, not \"%.64s\"",
		                   v);
	if ((v = arg(c, "rate_limit")) && !parse_double(v, 0, 1e9, &f.rate_limit))
		return bad_request(c, "rate_limit must be a number of requests per second, not \"%.64s\"",
		                   v);
	if ((v = arg(c, "speed")) && !parse_double(v, 0, 1e7, &speed))
		return bad_request(c, "speed must be a number from 0 to 10000000, not \"%.64s\"", v);
	if ((v = arg(c, "rate")) && !parse_double(v, 0, SIM_MAX_RATE, &rate))
		return bad_request(c,
		                   "rate must be a number of Events per second from 0 to %d, not \"%.64s\"",
		                   SIM_MAX_RATE, v);
	if (f.fail_count > 0 && (f.fail_status < 400 || f.fail_status > 599))
		return bad_request(c, "fail_status must be an HTTP error status (400-599) with fail_count");

	pthread_mutex_lock(&st->mu);
	if (speed != st->speed)
	{
		/* re-anchor so that simulated time is continuous across the change */
		st->sim_origin_us = sim_now_us(st);
		st->mono_origin_us = sim_mono_us();
		st->speed = speed;
	}
	if (rate != st->rate)
		sim_set_rate(st, rate);
	if (f.rate_limit != st->f.rate_limit)
	{
		st->rl_tokens = f.rate_limit;
		st->rl_mono_us = sim_mono_us();
	}
	st->f = f;
	faults_json(&b, st);
	ej_puts(&b, "\n");
	pthread_cond_broadcast(&st->changed);
	pthread_mutex_unlock(&st->mu);
	return send_buf(c, 200, &b, "application/json");
}

static enum MHD_Result
do_inject(sim_state *st, struct MHD_Connection *c)
{
	static const char *const known[] = {"namespace", "bytes", "count", NULL};
	const char              *bad = unknown_arg(c, known);
	const char              *ns = arg(c, "namespace");
	const char              *v;
	long                     bytes = 0;
	long                     count = 1;
	ej_buf                   b = {0};

	if (bad)
		return bad_request(c, "unknown parameter \"%.64s\"", bad);
	if (ns == NULL || *ns == '\0')
		ns = "default";
	if (strlen(ns) > 63 || strspn(ns, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(ns))
		return bad_request(c, "namespace must be a DNS label, not \"%.64s\"", ns);
	if ((v = arg(c, "bytes")) && !parse_long(v, 0, MAX_INJECT_BYTES, &bytes))
		return bad_request(c, "bytes must be an integer from 0 to %ld, not \"%.64s\"",
		                   MAX_INJECT_BYTES, v);
	if ((v = arg(c, "count")) && !parse_long(v, 1, MAX_INJECT_COUNT, &count))
		return bad_request(c, "count must be an integer from 1 to %d, not \"%.64s\"",
		                   MAX_INJECT_COUNT, v);
	pthread_mutex_lock(&st->mu);
	ns = ss_intern(st->store, ns);
	ej_puts(&b, "{\"uids\":[");
	for (long i = 0; i < count; i++)
	{
		ss_version *ver = sim_inject(st, ns, bytes);

		if (i > 0)
			ej_puts(&b, ",");
		ej_string(&b, ver->uid);
	}
	ej_puts(&b, "],\"resource_version\":");
	ej_u64(&b, st->store->rv);
	ej_puts(&b, "}\n");
	pthread_mutex_unlock(&st->mu);
	return send_buf(c, 200, &b, "application/json");
}

static enum MHD_Result
do_advance(sim_state *st, struct MHD_Connection *c)
{
	static const char *const known[] = {"seconds", NULL};
	const char              *bad = unknown_arg(c, known);
	const char              *v = arg(c, "seconds");
	double                   secs;
	ej_buf                   b = {0};
	char                     t[32];

	if (bad)
		return bad_request(c, "unknown parameter \"%.64s\"", bad);
	if (!parse_double(v, 0, 10.0 * 365 * 86400, &secs))
		return bad_request(c, "seconds must be a number from 0 to 315360000, not \"%.64s\"",
		                   v ? v : "");
	pthread_mutex_lock(&st->mu);
	st->sim_origin_us += (int64_t) llround(secs * 1e6);
	ej_format_time(sim_now_us(st), 0, t);
	/* the simulation thread catches up on its next tick (10 ms) */
	pthread_cond_broadcast(&st->changed);
	pthread_mutex_unlock(&st->mu);
	ej_puts(&b, "{\"sim_time\":\"");
	ej_puts(&b, t);
	ej_puts(&b, "\"}\n");
	return send_buf(c, 200, &b, "application/json");
}

/* ---------------------------------------------------------------- the request log */

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
static void
log_request(sim_state *st, struct MHD_Connection *c, const char *method, const char *url,
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

/* GET /simulator/requests?since=SEQ: the logged API requests after SEQ, as NDJSON. */
static enum MHD_Result
do_requests(sim_state *st, struct MHD_Connection *c)
{
	static const char *const known[] = {"since", NULL};
	const char              *bad = unknown_arg(c, known);
	const char              *v = arg(c, "since");
	uint64_t                 since = 0;
	ej_buf                   b = {0};

	if (bad)
		return bad_request(c, "unknown parameter \"%.64s\"", bad);
	if (v && *v && !parse_u64(v, &since))
		return bad_request(c, "since must be a request sequence number, not \"%.64s\"", v);
	ej_reserve(&b, 1);
	pthread_mutex_lock(&st->mu);
	for (size_t i = 0; i < st->reqs_count; i++)
	{
		const sim_request *r = &st->reqs[(st->reqs_head + i) % st->reqs_cap];
		char               num[64];
		char               t[32];

		if (r->seq <= since)
			continue;
		ej_puts(&b, "{\"seq\":");
		ej_u64(&b, r->seq);
		snprintf(num, sizeof(num), ",\"mono\":%.6f",
		         (double) (r->mono_us - st->start_mono_us) / 1e6);
		ej_puts(&b, num);
		ej_format_time(r->real_us, 1, t);
		ej_puts(&b, ",\"time\":\"");
		ej_puts(&b, t);
		ej_puts(&b, "\",\"method\":");
		ej_string(&b, r->method);
		ej_puts(&b, ",\"path\":");
		ej_string(&b, r->path);
		ej_puts(&b, ",\"args\":");
		ej_puts(&b, r->args);
		ej_puts(&b, ",\"verb\":");
		ej_string(&b, r->verb);
		if (strcmp(r->verb, "other") != 0)
		{
			ej_puts(&b, ",\"api\":");
			ej_string(&b, api_version(r->api));
		}
		ej_puts(&b, ",\"status\":");
		ej_u64(&b, (uint64_t) r->status);
		ej_puts(&b, "}\n");
	}
	pthread_mutex_unlock(&st->mu);
	return send_buf(c, 200, &b, "application/x-ndjson");
}

static enum MHD_Result
do_admin(sim_state *st, struct MHD_Connection *c, const char *what, const char *method)
{
	bool   post = strcmp(method, "POST") == 0;
	bool   get = strcmp(method, "GET") == 0;
	ej_buf b = {0};

	if (strcmp(what, "faults") == 0 && (get || post))
		return do_faults(st, c, post);
	if (strcmp(what, "inject") == 0 && post)
		return do_inject(st, c);
	if (strcmp(what, "advance") == 0 && post)
		return do_advance(st, c);
	if (strcmp(what, "stats") == 0 && get)
	{
		pthread_mutex_lock(&st->mu);
		stats_json(&b, st);
		pthread_mutex_unlock(&st->mu);
		return send_buf(c, 200, &b, "application/json");
	}
	if (strcmp(what, "observations") == 0 && get)
	{
		const char *v = arg(c, "since_rv");
		uint64_t    since = 0;
		bool        ok;

		if (v && *v && !parse_u64(v, &since))
			return bad_request(c, "since_rv must be a resourceVersion, not \"%.64s\"", v);
		pthread_mutex_lock(&st->mu);
		ok = ss_observations(st->store, since, &b);
		pthread_mutex_unlock(&st->mu);
		if (!ok)
		{
			ej_free(&b);
			return send_status(c, 410, "Expired",
			                   "since_rv is older than the observation log (see "
			                   "observation_log_floor_rv in /simulator/stats)",
			                   NULL);
		}
		return send_buf(c, 200, &b, "application/x-ndjson");
	}
	if (strcmp(what, "requests") == 0 && get)
		return do_requests(st, c);
	if (strcmp(what, "close_watches") == 0 && post)
	{
		pthread_mutex_lock(&st->mu);
		ej_puts(&b, "{\"closed\":");
		ej_u64(&b, st->watches_active);
		ej_puts(&b, "}\n");
		st->watch_epoch++;
		pthread_cond_broadcast(&st->changed);
		pthread_mutex_unlock(&st->mu);
		return send_buf(c, 200, &b, "application/json");
	}
	if (strcmp(what, "faults") == 0 || strcmp(what, "inject") == 0 ||
	    strcmp(what, "advance") == 0 || strcmp(what, "stats") == 0 ||
	    strcmp(what, "observations") == 0 || strcmp(what, "requests") == 0 ||
	    strcmp(what, "close_watches") == 0)
		return send_code(c, 405);
	return send_code(c, 404);
}

/* ---------------------------------------------------------------- API */

static bool
authorized(sim_state *st, struct MHD_Connection *c)
{
	const char *h;
	char        token[4096];
	size_t      n;
	FILE       *fp;

	if (st->token_file == NULL)
		return true;
	/* re-read every time: a test rotates the file and expects the next request to see it */
	fp = fopen(st->token_file, "r");
	if (fp == NULL)
		return false;
	n = fread(token, 1, sizeof(token) - 1, fp);
	fclose(fp);
	token[n] = '\0';
	while (n > 0 && (token[n - 1] == '\n' || token[n - 1] == '\r' || token[n - 1] == ' ' ||
	                 token[n - 1] == '\t'))
		token[--n] = '\0';
	if (n == 0)
		return false;
	h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	h += 7;
	while (*h == ' ')
		h++;
	return strcmp(h, token) == 0;
}

typedef enum route_kind
{
	R_NOT_FOUND,
	R_VERSION,
	R_HEALTH,
	R_API,
	R_API_V1,
	R_LIST,
	R_WATCH,
	R_GET
} route_kind;

/* What a request asks for, worked out before it is authorised so that it can be logged. */
typedef struct route
{
	route_kind  kind;
	ss_api      api;
	char        ns[256];
	const char *name;
	const char *bad_watch; /* an unparsable ?watch= (a list then, answered 400) */
} route;

static void
parse_route(struct MHD_Connection *c, const char *url, route *r)
{
	const char *p = url;
	bool        watch_path = false;
	bool        watch = false;
	const char *w;

	memset(r, 0, sizeof(*r));
	r->kind = R_NOT_FOUND;
	if (strcmp(p, "/version") == 0)
		r->kind = R_VERSION;
	else if (strcmp(p, "/healthz") == 0 || strcmp(p, "/livez") == 0 || strcmp(p, "/readyz") == 0)
		r->kind = R_HEALTH;
	else if (strcmp(p, "/api") == 0)
		r->kind = R_API;
	else if (strcmp(p, "/api/v1") == 0)
		r->kind = R_API_V1;
	if (r->kind != R_NOT_FOUND)
		return;
	if (strncmp(p, "/api/v1/", 8) == 0)
		p += 8;
	else if (strncmp(p, "/apis/events.k8s.io/v1/", 23) == 0)
	{
		p += 23;
		r->api = SS_API_EVENTS;
	}
	else
		return;
	if (strncmp(p, "watch/", 6) == 0)
	{
		watch_path = true;
		p += 6;
	}
	if (strcmp(p, "events") != 0)
	{
		const char *slash;

		if (strncmp(p, "namespaces/", 11) != 0)
			return;
		p += 11;
		slash = strchr(p, '/');
		if (slash == NULL || slash == p || (size_t) (slash - p) >= sizeof(r->ns))
			return;
		memcpy(r->ns, p, (size_t) (slash - p));
		r->ns[slash - p] = '\0';
		p = slash + 1;
		if (strncmp(p, "events/", 7) == 0 && p[7] && !strchr(p + 7, '/') && !watch_path)
		{
			r->name = p + 7;
			r->kind = R_GET;
			return;
		}
		if (strcmp(p, "events") != 0)
			return;
	}
	w = arg(c, "watch");
	if (w && *w && !parse_bool(w, &watch))
	{
		r->bad_watch = w;
		r->kind = R_LIST;
		return;
	}
	r->kind = watch || watch_path ? R_WATCH : R_LIST;
}

static enum MHD_Result
do_api(sim_state *st, struct MHD_Connection *c, const char *url, const char *method)
{
	route r;
	int   fail = 0;
	long  retry_after = 0;
	bool  ok;

	parse_route(c, url, &r);
	pthread_mutex_lock(&st->mu);
	st->requests++;
	if (r.kind == R_LIST || r.kind == R_WATCH || r.kind == R_GET)
	{
		if (r.api == SS_API_EVENTS)
			st->events_api_requests++;
		log_request(st, c, method, url,
		            r.kind == R_LIST    ? "list"
		            : r.kind == R_WATCH ? "watch"
		                                : "get",
		            r.api);
	}
	else
		log_request(st, c, method, url, "other", SS_API_CORE);
	ok = authorized(st, c);
	if (!ok)
		st->unauthorized++;
	else if (st->f.rate_limit > 0)
	{
		int64_t now = sim_mono_us();
		double  burst = st->f.rate_limit < 1 ? 1 : st->f.rate_limit;

		/* a token bucket holding one second's worth of requests */
		st->rl_tokens += (double) (now - st->rl_mono_us) / 1e6 * st->f.rate_limit;
		if (st->rl_tokens > burst)
			st->rl_tokens = burst;
		st->rl_mono_us = now;
		if (st->rl_tokens >= 1)
			st->rl_tokens -= 1;
		else
		{
			st->rate_limited++;
			fail = 429;
			retry_after = st->f.retry_after;
		}
	}
	if (ok && fail == 0 && st->f.fail_count > 0)
	{
		st->f.fail_count--;
		st->injected_failures++;
		fail = st->f.fail_status;
		retry_after = st->f.retry_after;
	}
	pthread_mutex_unlock(&st->mu);
	if (!ok)
		return send_code(c, 401);
	if (fail)
		return send_fault(c, url, fail, retry_after);

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return send_code(c, 405);
	switch (r.kind)
	{
		case R_VERSION:
		{
			ej_buf b = {0};

			ej_puts(&b, "{\"major\":\"1\",\"minor\":\"29\",\"gitVersion\":\"v1.29.0-k8s-events-"
			            "simulate\",\"platform\":\"linux/amd64\"}");
			return send_buf(c, 200, &b, "application/json");
		}
		case R_HEALTH:
		{
			ej_buf b = {0};

			ej_puts(&b, "ok");
			return send_buf(c, 200, &b, "text/plain; charset=utf-8");
		}
		case R_API:
		{
			ej_buf b = {0};

			ej_puts(&b, "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"]}");
			return send_buf(c, 200, &b, "application/json");
		}
		case R_API_V1:
		{
			ej_buf b = {0};

			ej_puts(
			    &b,
			    "{\"kind\":\"APIResourceList\",\"groupVersion\":\"v1\",\"resources\":[{\"name\":"
			    "\"events\",\"singularName\":\"event\",\"namespaced\":true,\"kind\":\"Event\","
			    "\"verbs\":[\"get\",\"list\",\"watch\"],\"shortNames\":[\"ev\"]}]}");
			return send_buf(c, 200, &b, "application/json");
		}
		case R_GET:
			return do_get(st, c, r.ns, r.name, r.api);
		case R_WATCH:
			return do_watch(st, c, r.ns[0] ? r.ns : NULL, r.api);
		case R_LIST:
			if (r.bad_watch)
				return bad_request(c, "invalid value for watch: \"%.64s\"", r.bad_watch);
			return do_list(st, c, r.ns[0] ? r.ns : NULL, r.api);
		case R_NOT_FOUND:
			break;
	}
	return send_code(c, 404);
}

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
		return do_admin(st, c, url + 11, method);
	return do_api(st, c, url, method);
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
