/*
 * params.c
 *	  Query-string checks (see params.h).
 */
#include "serve/params.h"

#include <stdio.h>
#include <string.h>

#include "core/cluster_name.h"
#include "core/rfc3339.h"
#include "parse_args.h"

static const char *const names[P_COUNT] = {
    [P_CLUSTER] = "cluster",
    [P_NAMESPACE] = "namespace",
    [P_KIND] = "kind",
    [P_NAME] = "name",
    [P_TYPE] = "type",
    [P_REASON] = "reason",
    [P_Q] = "q",
    [P_FROM] = "from",
    [P_TO] = "to",
    [P_BUCKET] = "bucket",
    [P_BARS] = "bars",
    [P_LIMIT] = "limit",
    [P_OFFSET] = "offset",
    [P_SORT] = "sort",
    [P_SPARK] = "spark",
    [P_RELATED] = "related",
    [P_NODE] = "node",
};

/* Bucket widths, smallest first: what a chart can show, on boundaries people read. */
static const struct
{
	const char *text;
	long        seconds;
} widths[] = {
    {"1m", 60},    {"5m", 300},   {"10m", 600},   {"15m", 900},  {"30m", 1800},  {"1h", 3600},
    {"3h", 10800}, {"6h", 21600}, {"12h", 43200}, {"1d", 86400}, {"7d", 604800},
};
#define NWIDTHS ((int) (sizeof(widths) / sizeof(widths[0])))

void
params_init(Params *p)
{
	memset(p, 0, sizeof(*p));
	p->bars = 120;
	p->limit = 100;
	p->spark = 24;
}

static bool
fail(ParamError *err, const char *parameter, const char *detail)
{
	err->parameter = parameter;
	snprintf(err->detail, sizeof(err->detail), "%s", detail);
	return false;
}

/* Valid UTF-8 without control characters (C0, DEL, C1) and without NUL. */
static bool
clean_text(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *) s;
	size_t               i = 0;

	if (strlen(s) != len)
		return false;
	while (i < len)
	{
		unsigned char c = u[i];
		int           n;
		uint32_t      cp;

		if (c < 0x20 || c == 0x7f)
			return false;
		if (c < 0x80)
		{
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0)
			n = 1, cp = c & 0x1f;
		else if ((c & 0xf0) == 0xe0)
			n = 2, cp = c & 0x0f;
		else if ((c & 0xf8) == 0xf0)
			n = 3, cp = c & 0x07;
		else
			return false;
		for (int k = 1; k <= n; k++)
		{
			if (i + (size_t) k >= len || (u[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (u[i + k] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
			return false;
		i += (size_t) n + 1;
	}
	return true;
}

static bool
kind_text(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 63)
		return false;
	for (const char *c = s; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
			return false;
	return true;
}

/*
 * Times from 1970 to 2200: Kubernetes has no events before, and every bound the
 * database gets is then a finite time it prints and adds intervals to (an
 * unprintable one would have gone to it as -infinity, and a series of buckets
 * from there never ends).
 */
#define ERA_FIRST_US INT64_C(0)
#define ERA_END_US   (INT64_C(7258118400) * 1000000) /* 2200-01-01 */

static bool
in_era(int64_t us, ParamError *err, const char *parameter)
{
	if (us < ERA_FIRST_US || us >= ERA_END_US)
		return fail(err, parameter, "a time from 1970 to 2199");
	return true;
}

static bool
parse_time(const char *text, int64_t *us, ParamError *err, const char *parameter)
{
	char msg[200] = "";

	if (parse_relative_time(text, us, msg, sizeof(msg)))
	{
		if (msg[0])
			return fail(err, parameter, msg);
		return in_era(*us, err, parameter);
	}
	if (!rfc3339_parse(text, strlen(text), us, msg, sizeof(msg)))
	{
		char detail[256];

		snprintf(detail, sizeof(detail), "expected an RFC 3339 time or now-N[dhms]: %s", msg);
		return fail(err, parameter, detail);
	}
	return in_era(*us, err, parameter);
}

bool
params_add(Params *p, unsigned allowed, const char *key, const char *value, size_t value_len,
           size_t *query_bytes, ParamError *err)
{
	int  id = -1;
	long n;

	*query_bytes += strlen(key) + value_len + 2;
	if (*query_bytes > MAX_QUERY_BYTES)
		return fail(err, NULL, "the query string is longer than 4096 bytes");
	for (int i = 0; i < P_COUNT; i++)
		if (strcmp(key, names[i]) == 0)
			id = i;
	if (id < 0 || !(allowed & PARAM(id)))
	{
		char detail[256];

		snprintf(detail, sizeof(detail), "unknown parameter \"%.60s\"%s", key,
		         clean_text(key, strlen(key)) ? "" : " (not printable)");
		return fail(err, NULL, detail);
	}
	if (value == NULL)
		return fail(err, names[id], "needs a value");
	if (p->text[id] != NULL)
		return fail(err, names[id], "given more than once");
	if (!clean_text(value, value_len))
		return fail(err, names[id],
		            "not valid UTF-8 text (control characters and NUL are refused)");
	if (value_len == 0)
		return fail(err, names[id], "is empty (leave it out for any)");
	p->text[id] = value;
	switch ((ParamId) id)
	{
		case P_CLUSTER:
		{
			ClusterNameCheck c = cluster_name_check(value);

			if (c != CLUSTER_NAME_VALID)
				return fail(err, names[id], cluster_name_problem(c));
			break;
		}
		case P_NAMESPACE:
		case P_NAME:
		case P_NODE:
			if (value_len > 253)
				return fail(err, names[id], "longer than 253 bytes (a Kubernetes name's limit)");
			break;
		case P_KIND:
			if (!kind_text(value))
				return fail(err, names[id],
				            "a kind is 1 to 63 letters and digits (Pod, Deployment)");
			break;
		case P_TYPE:
			if (strcmp(value, "Normal") != 0 && strcmp(value, "Warning") != 0)
				return fail(err, names[id], "Normal or Warning");
			break;
		case P_REASON:
			if (value_len > 128)
				return fail(err, names[id], "longer than 128 bytes");
			break;
		case P_Q:
			if (value_len > 200)
				return fail(err, names[id], "longer than 200 bytes");
			break;
		case P_FROM:
			return parse_time(value, &p->from_us, err, names[id]);
		case P_TO:
			if (!parse_time(value, &p->to_us, err, names[id]))
				return false;
			/*
			 * "now" is read to the second and the range ends before it: take the
			 * whole current second, so that what was stamped in it is in.
			 */
			if (strcmp(value, "now") == 0)
				p->to_us += 1000000;
			return true;
		case P_BUCKET:
			if (strcmp(value, "auto") == 0)
				p->bucket_s = 0;
			else
			{
				int i;

				for (i = 0; i < NWIDTHS; i++)
					if (strcmp(value, widths[i].text) == 0)
						break;
				if (i == NWIDTHS)
					return fail(err, names[id],
					            "auto, or one of 1m 5m 10m 15m 30m 1h 3h 6h 12h 1d 7d");
				p->bucket_s = widths[i].seconds;
			}
			break;
		case P_BARS:
			if (!parse_long(value, 10, 1000, &n))
				return fail(err, names[id], "a whole number from 10 to 1000");
			p->bars = n;
			break;
		case P_LIMIT:
			if (!parse_long(value, 1, 500, &n))
				return fail(err, names[id], "a whole number from 1 to 500");
			p->limit = n;
			break;
		case P_OFFSET:
			if (!parse_long(value, 0, 100000, &n))
				return fail(err, names[id], "a whole number from 0 to 100000");
			p->offset = n;
			break;
		case P_SPARK:
			if (!parse_long(value, 0, 60, &n))
				return fail(err, names[id], "a whole number from 0 to 60");
			p->spark = n;
			break;
		case P_SORT:
			if (strcmp(value, "last") != 0 && strcmp(value, "warnings") != 0)
				return fail(err, names[id], "last or warnings");
			p->sort_warnings = value[0] == 'w';
			break;
		case P_RELATED:
			if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0)
				return fail(err, names[id], "0 or 1");
			p->related = value[0] == '1';
			break;
		case P_COUNT:
			break;
	}
	return true;
}

long
params_auto_bucket(int64_t range_us, long bars)
{
	for (int i = 0; i < NWIDTHS; i++)
		if (range_us / ((int64_t) widths[i].seconds * 1000000) <= bars)
			return widths[i].seconds;
	return widths[NWIDTHS - 1].seconds;
}

bool
params_finish(Params *p, int64_t now_us, bool bounded, ParamError *err)
{
	if (p->text[P_TO] == NULL)
		p->to_us = bounded ? now_us : INT64_MAX;
	if (p->text[P_FROM] == NULL)
		p->from_us = bounded ? p->to_us - (int64_t) 86400 * 1000000 : INT64_MIN;
	if (bounded && !in_era(p->from_us, err, "from"))
		return false;
	if (p->from_us >= p->to_us)
		return fail(err, "from", "must be before to");
	if (!bounded)
		return true;
	if (p->to_us - p->from_us > (int64_t) MAX_RANGE_DAYS * 86400 * 1000000)
		return fail(err, "from", "the range is longer than 800 days");
	if (p->bucket_s > 0 &&
	    (p->to_us - p->from_us) / ((int64_t) p->bucket_s * 1000000) > MAX_BUCKETS)
		return fail(err, "bucket", "more than 2000 buckets in the range: ask for wider ones");
	return true;
}
