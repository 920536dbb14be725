/*
 * sim_api.c
 *	  Requests to the Kubernetes API paths: what they ask for, whether they may,
 *	  and which handler answers them.
 *
 * Every API request passes the same gate: authentication, then rate limiting
 * (the apiserver's order), then any injected failure.  It is logged before
 * that, so that a test also sees the requests that were refused.
 */
#include "sim_http_internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- parameters */

const char *
sim_arg(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

/* Go's strconv.ParseBool, which the apiserver uses for watch and allowWatchBookmarks. */
bool
sim_parse_bool(const char *s, bool *out)
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

/* The apiVersion of api's objects. */
const char *
sim_api_version(ss_api api)
{
	return api == SS_API_EVENTS ? "events.k8s.io/v1" : "v1";
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
	w = sim_arg(c, "watch");
	if (w && *w && !sim_parse_bool(w, &watch))
	{
		r->bad_watch = w;
		r->kind = R_LIST;
		return;
	}
	r->kind = watch || watch_path ? R_WATCH : R_LIST;
}

enum MHD_Result
sim_do_api(sim_state *st, struct MHD_Connection *c, const char *url, const char *method)
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
		sim_log_request(st, c, method, url,
		                r.kind == R_LIST    ? "list"
		                : r.kind == R_WATCH ? "watch"
		                                    : "get",
		                r.api);
	}
	else
		sim_log_request(st, c, method, url, "other", SS_API_CORE);
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
		return sim_send_code(c, 401);
	if (fail)
		return sim_send_fault(c, url, fail, retry_after);

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return sim_send_code(c, 405);
	switch (r.kind)
	{
		case R_VERSION:
		{
			ej_buf b = {0};

			ej_puts(&b, "{\"major\":\"1\",\"minor\":\"29\",\"gitVersion\":\"v1.29.0-k8s-events-"
			            "simulate\",\"platform\":\"linux/amd64\"}");
			return sim_send_buf(c, 200, &b, "application/json");
		}
		case R_HEALTH:
		{
			ej_buf b = {0};

			ej_puts(&b, "ok");
			return sim_send_buf(c, 200, &b, "text/plain; charset=utf-8");
		}
		case R_API:
		{
			ej_buf b = {0};

			ej_puts(&b, "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"]}");
			return sim_send_buf(c, 200, &b, "application/json");
		}
		case R_API_V1:
		{
			ej_buf b = {0};

			ej_puts(
			    &b,
			    "{\"kind\":\"APIResourceList\",\"groupVersion\":\"v1\",\"resources\":[{\"name\":"
			    "\"events\",\"singularName\":\"event\",\"namespaced\":true,\"kind\":\"Event\","
			    "\"verbs\":[\"get\",\"list\",\"watch\"],\"shortNames\":[\"ev\"]}]}");
			return sim_send_buf(c, 200, &b, "application/json");
		}
		case R_GET:
			return sim_do_get(st, c, r.ns, r.name, r.api);
		case R_WATCH:
			return sim_do_watch(st, c, r.ns[0] ? r.ns : NULL, r.api);
		case R_LIST:
			if (r.bad_watch)
				return sim_bad_request(c, "invalid value for watch: \"%.64s\"", r.bad_watch);
			return sim_do_list(st, c, r.ns[0] ? r.ns : NULL, r.api);
		case R_NOT_FOUND:
			break;
	}
	return sim_send_code(c, 404);
}
