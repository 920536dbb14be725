/*
 * sim_list.c
 *	  list and get of Events, with pagination.
 *
 * Lists copy the apiserver where clients can tell the difference: items
 * without kind and apiVersion, continue tokens in its format, pages served
 * from a snapshot that expires (410 Expired), and a resourceVersion from the
 * future answered with a 504 that says to retry.
 */
#include "parse_args.h"
#include "sim_http_internal.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/base64.h"

#define EXPIRED_CONTINUE_MESSAGE                                                                   \
	"The provided continue parameter is too old to display a consistent list result. You can "     \
	"start a new list without the continue parameter, or use the continue token in this "          \
	"response to retrieve the remainder of the results. Continuing with the provided token "       \
	"results in an inconsistent list - objects that were created, modified, or deleted between "   \
	"the time the first chunk was returned and now may show up in the list."

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

static void
append_list_item(ej_buf *b, const ss_version *v, ss_api api)
{
	char   prefix[64];
	size_t pl = (size_t) snprintf(
	    prefix, sizeof(prefix), "{\"kind\":\"Event\",\"apiVersion\":\"%s\",", sim_api_version(api));

	/* the apiserver leaves kind and apiVersion out of list items */
	if (v->len[api] > pl && memcmp(v->json[api], prefix, pl) == 0)
	{
		ej_append(b, "{", 1);
		ej_append(b, v->json[api] + pl, v->len[api] - pl);
	}
	else
		ss_append_json(b, v, api);
}

enum MHD_Result
sim_do_list(sim_state *st, struct MHD_Connection *c, const char *ns, ss_api api)
{
	const char  *limit_s = sim_arg(c, "limit");
	const char  *cont = sim_arg(c, "continue");
	const char  *rv_s = sim_arg(c, "resourceVersion");
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
		return sim_bad_request(c, "invalid value for limit: \"%.64s\"", limit_s);
	if (limit < 0)
		limit = 0;
	if (rv_s && *rv_s && !parse_u64(rv_s, &want_rv))
		return sim_bad_request(c, "invalid resource version: \"%.64s\"", rv_s);
	if (cont && *cont && !decode_continue(cont, ns, &rv, &start, err, sizeof(err)))
		return sim_bad_request(c, "%s", err);

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
		return sim_send_status(
		    c, 504, "Timeout", msg,
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
			return sim_send_status(c, 410, "Expired", EXPIRED_CONTINUE_MESSAGE, NULL);
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
			else
				sim_wake_clock(st); /* which drops it when its continue tokens expire */
		}
	}
	to = limit > 0 && n - from > (size_t) limit ? from + (size_t) limit : n;

	ej_puts(&b, "{\"kind\":\"EventList\",\"apiVersion\":\"");
	ej_puts(&b, sim_api_version(api));
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
	return sim_send_buf(c, 200, &b, "application/json");
}

enum MHD_Result
sim_do_get(sim_state *st, struct MHD_Connection *c, const char *ns, const char *name, ss_api api)
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
		sim_status_json(&b, 404, "NotFound", msg.data, det.data, 0);
		ej_free(&msg);
		ej_free(&det);
		return sim_send_buf(c, 404, &b, "application/json");
	}
	return sim_send_buf(c, 200, &b, "application/json");
}
