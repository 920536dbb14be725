/*
 * sim_admin.c
 *	  The /simulator/ control API: faults, stats, injected Events, moving the
 *	  clock on, closing watches, and the logs of observations and requests.
 *
 * Tests drive and inspect the fake server through it.  It lives outside the
 * Kubernetes API paths and passes none of their gates (authentication, rate
 * limits, injected failures), so a test can always reach it, whatever faults
 * it has switched on.
 */
#include "parse_args.h"
#include "sim_http_internal.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_INJECT_BYTES (64L * 1024 * 1024)
#define MAX_INJECT_COUNT 100000

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
		return sim_bad_request(c, "unknown fault \"%.64s\"", bad);
	if (!post && MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, NULL, NULL) > 0)
		return sim_send_status(c, 405, "MethodNotAllowed", "use POST to change faults", NULL);
	pthread_mutex_lock(&st->mu);
	f = st->f;
	speed = st->speed;
	rate = st->rate;
	pthread_mutex_unlock(&st->mu);

	if ((v = sim_arg(c, "reset")) && !sim_parse_bool(v, &reset))
		return sim_bad_request(c, "reset must be true or false");
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
	if ((v = sim_arg(c, key)))                                                                     \
	{                                                                                              \
		if (!parse_long(v, lo, hi, &n))                                                            \
			return sim_bad_request(c, key " must be an integer from %ld to %ld, not \"%.64s\"",    \
			                       (long) (lo), (long) (hi), v);                                   \
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
	if ((v = sim_arg(c, "expire_continue")) && !sim_parse_bool(v, &f.expire_continue))
		return sim_bad_request(c, "expire_continue must be true or false, not \"%.64s\"", v);
	if ((v = sim_arg(c, "bookmark_interval")) && !parse_double(v, 0, 86400, &f.bookmark_interval))
		return sim_bad_request(
		    c, "bookmark_interval must be seconds from 0 to 86400, not \"%.64s\"", v);
	if ((v = sim_arg(c, "rate_limit")) && !parse_double(v, 0, 1e9, &f.rate_limit))
		return sim_bad_request(
		    c, "rate_limit must be a number of requests per second, not \"%.64s\"", v);
	if ((v = sim_arg(c, "speed")) && !parse_double(v, 0, 1e7, &speed))
		return sim_bad_request(c, "speed must be a number from 0 to 10000000, not \"%.64s\"", v);
	if ((v = sim_arg(c, "rate")) && !parse_double(v, 0, SIM_MAX_RATE, &rate))
		return sim_bad_request(
		    c, "rate must be a number of Events per second from 0 to %d, not \"%.64s\"",
		    SIM_MAX_RATE, v);
	if (f.fail_count > 0 && (f.fail_status < 400 || f.fail_status > 599))
		return sim_bad_request(
		    c, "fail_status must be an HTTP error status (400-599) with fail_count");

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
	sim_wake_clock(st);
	pthread_mutex_unlock(&st->mu);
	return sim_send_buf(c, 200, &b, "application/json");
}

static enum MHD_Result
do_inject(sim_state *st, struct MHD_Connection *c)
{
	static const char *const known[] = {"namespace", "bytes", "count", NULL};
	const char              *bad = unknown_arg(c, known);
	const char              *ns = sim_arg(c, "namespace");
	const char              *v;
	long                     bytes = 0;
	long                     count = 1;
	ej_buf                   b = {0};

	if (bad)
		return sim_bad_request(c, "unknown parameter \"%.64s\"", bad);
	if (ns == NULL || *ns == '\0')
		ns = "default";
	if (strlen(ns) > 63 || strspn(ns, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(ns))
		return sim_bad_request(c, "namespace must be a DNS label, not \"%.64s\"", ns);
	if ((v = sim_arg(c, "bytes")) && !parse_long(v, 0, MAX_INJECT_BYTES, &bytes))
		return sim_bad_request(c, "bytes must be an integer from 0 to %ld, not \"%.64s\"",
		                       MAX_INJECT_BYTES, v);
	if ((v = sim_arg(c, "count")) && !parse_long(v, 1, MAX_INJECT_COUNT, &count))
		return sim_bad_request(c, "count must be an integer from 1 to %d, not \"%.64s\"",
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
	return sim_send_buf(c, 200, &b, "application/json");
}

static enum MHD_Result
do_advance(sim_state *st, struct MHD_Connection *c)
{
	static const char *const known[] = {"seconds", NULL};
	const char              *bad = unknown_arg(c, known);
	const char              *v = sim_arg(c, "seconds");
	double                   secs;
	ej_buf                   b = {0};
	char                     t[32];

	if (bad)
		return sim_bad_request(c, "unknown parameter \"%.64s\"", bad);
	if (!parse_double(v, 0, 10.0 * 365 * 86400, &secs))
		return sim_bad_request(c, "seconds must be a number from 0 to 315360000, not \"%.64s\"",
		                       v ? v : "");
	pthread_mutex_lock(&st->mu);
	st->sim_origin_us += (int64_t) llround(secs * 1e6);
	ej_format_time(sim_now_us(st), 0, t);
	/* the simulation thread wakes and catches up */
	pthread_cond_broadcast(&st->changed);
	sim_wake_clock(st);
	pthread_mutex_unlock(&st->mu);
	ej_puts(&b, "{\"sim_time\":\"");
	ej_puts(&b, t);
	ej_puts(&b, "\"}\n");
	return sim_send_buf(c, 200, &b, "application/json");
}

/* GET /simulator/requests?since=SEQ: the logged API requests after SEQ, as NDJSON. */
static enum MHD_Result
do_requests(sim_state *st, struct MHD_Connection *c)
{
	static const char *const known[] = {"since", NULL};
	const char              *bad = unknown_arg(c, known);
	const char              *v = sim_arg(c, "since");
	uint64_t                 since = 0;
	ej_buf                   b = {0};

	if (bad)
		return sim_bad_request(c, "unknown parameter \"%.64s\"", bad);
	if (v && *v && !parse_u64(v, &since))
		return sim_bad_request(c, "since must be a request sequence number, not \"%.64s\"", v);
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
			ej_string(&b, sim_api_version(r->api));
		}
		ej_puts(&b, ",\"status\":");
		ej_u64(&b, (uint64_t) r->status);
		ej_puts(&b, "}\n");
	}
	pthread_mutex_unlock(&st->mu);
	return sim_send_buf(c, 200, &b, "application/x-ndjson");
}

enum MHD_Result
sim_do_admin(sim_state *st, struct MHD_Connection *c, const char *what, const char *method)
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
		return sim_send_buf(c, 200, &b, "application/json");
	}
	if (strcmp(what, "observations") == 0 && get)
	{
		const char *v = sim_arg(c, "since_rv");
		uint64_t    since = 0;
		bool        ok;

		if (v && *v && !parse_u64(v, &since))
			return sim_bad_request(c, "since_rv must be a resourceVersion, not \"%.64s\"", v);
		pthread_mutex_lock(&st->mu);
		ok = ss_observations(st->store, since, &b);
		pthread_mutex_unlock(&st->mu);
		if (!ok)
		{
			ej_free(&b);
			return sim_send_status(c, 410, "Expired",
			                       "since_rv is older than the observation log (see "
			                       "observation_log_floor_rv in /simulator/stats)",
			                       NULL);
		}
		return sim_send_buf(c, 200, &b, "application/x-ndjson");
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
		return sim_send_buf(c, 200, &b, "application/json");
	}
	if (strcmp(what, "faults") == 0 || strcmp(what, "inject") == 0 ||
	    strcmp(what, "advance") == 0 || strcmp(what, "stats") == 0 ||
	    strcmp(what, "observations") == 0 || strcmp(what, "requests") == 0 ||
	    strcmp(what, "close_watches") == 0)
		return sim_send_code(c, 405);
	return sim_send_code(c, 404);
}
