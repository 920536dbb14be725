/*
 * event_json.c
 *	  Serializes cluster_model observations as Kubernetes writes them.
 */
#include "event_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
ej_reserve(ej_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	size_t cap;
	char  *p;

	if (need <= b->cap)
		return;
	cap = b->cap ? b->cap : 4096;
	while (cap < need)
		cap *= 2;
	p = realloc(b->data, cap);
	if (p == NULL)
	{
		fprintf(stderr, "k8s-events: out of memory (buffer of %zu bytes)\n", cap);
		exit(1);
	}
	b->data = p;
	b->cap = cap;
}

void
ej_append(ej_buf *b, const char *s, size_t n)
{
	ej_reserve(b, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
ej_puts(ej_buf *b, const char *s)
{
	ej_append(b, s, strlen(s));
}

void
ej_u64(ej_buf *b, uint64_t v)
{
	char tmp[24];
	int  i = sizeof(tmp);

	do
	{
		tmp[--i] = (char) ('0' + v % 10);
		v /= 10;
	} while (v != 0);
	ej_append(b, tmp + i, sizeof(tmp) - i);
}

void
ej_string(ej_buf *b, const char *s)
{
	static const char    hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *) s;
	size_t               n = strlen(s);
	char                *o;

	/* Worst case every byte becomes \u00XX. */
	ej_reserve(b, n * 6 + 2);
	o = b->data + b->len;
	*o++ = '"';
	for (; *p; p++)
	{
		unsigned char c = *p;

		if (c == '"' || c == '\\')
		{
			*o++ = '\\';
			*o++ = (char) c;
		}
		else if (c == '\n')
		{
			*o++ = '\\';
			*o++ = 'n';
		}
		else if (c == '\t')
		{
			*o++ = '\\';
			*o++ = 't';
		}
		else if (c == '\r')
		{
			*o++ = '\\';
			*o++ = 'r';
		}
		else if (c < 0x20 || c == '<' || c == '>' || c == '&')
		{
			/* encoding/json escapes HTML-significant bytes too; keep the bytes identical. */
			memcpy(o, "\\u00", 4);
			o += 4;
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
		else
			*o++ = (char) c;
	}
	*o++ = '"';
	*o = '\0';
	b->len = (size_t) (o - b->data);
}

void
ej_free(ej_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

static void
put2(char *o, int v)
{
	o[0] = (char) ('0' + v / 10);
	o[1] = (char) ('0' + v % 10);
}

void
ej_format_time(int64_t usecs, int micro, char *out)
{
	int64_t secs = usecs >= 0 ? usecs / 1000000 : -((-usecs + 999999) / 1000000);
	int64_t frac = usecs - secs * 1000000;
	int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
	int64_t sod = secs - days * 86400;
	/* civil_from_days (H. Hinnant): proleptic Gregorian, era-based. */
	int64_t  z = days + 719468;
	int64_t  era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned) (z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t  y = (int64_t) yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1;
	unsigned mo = mp < 10 ? mp + 3 : mp - 9;
	int      i;

	if (mo <= 2)
		y++;
	out[0] = (char) ('0' + (y / 1000) % 10);
	out[1] = (char) ('0' + (y / 100) % 10);
	out[2] = (char) ('0' + (y / 10) % 10);
	out[3] = (char) ('0' + y % 10);
	out[4] = '-';
	put2(out + 5, (int) mo);
	out[7] = '-';
	put2(out + 8, (int) d);
	out[10] = 'T';
	put2(out + 11, (int) (sod / 3600));
	out[13] = ':';
	put2(out + 14, (int) (sod / 60 % 60));
	out[16] = ':';
	put2(out + 17, (int) (sod % 60));
	if (!micro)
	{
		out[19] = 'Z';
		out[20] = '\0';
		return;
	}
	out[19] = '.';
	for (i = 25; i >= 20; i--)
	{
		out[i] = (char) ('0' + frac % 10);
		frac /= 10;
	}
	out[26] = 'Z';
	out[27] = '\0';
}

static void
key(ej_buf *b, const char *k)
{
	/* keys are literals without characters needing escapes */
	ej_puts(b, k);
}

static void
time_value(ej_buf *b, int64_t usecs, int micro)
{
	char t[32];

	ej_format_time(usecs, micro, t);
	ej_reserve(b, 32);
	b->data[b->len++] = '"';
	ej_append(b, t, strlen(t));
	ej_append(b, "\"", 1);
}

static void
metadata(ej_buf *b, const cm_obs *o)
{
	key(b, "\"metadata\":{\"name\":");
	ej_string(b, o->name);
	key(b, ",\"namespace\":");
	ej_string(b, o->namespace);
	if (o->shape == CM_SHAPE_CORE_OLD)
	{
		key(b, ",\"selfLink\":\"/api/v1/namespaces/");
		ej_puts(b, o->namespace);
		ej_puts(b, "/events/");
		ej_puts(b, o->name);
		ej_puts(b, "\"");
	}
	key(b, ",\"uid\":");
	ej_string(b, o->uid);
	key(b, ",\"resourceVersion\":\"");
	ej_u64(b, o->resource_version);
	key(b, "\",\"creationTimestamp\":");
	time_value(b, o->creation_us, 0);
	ej_puts(b, "}");
}

static void
object_ref(ej_buf *b, const char *name, const cm_obj_ref *r)
{
	ej_puts(b, name);
	key(b, ":{\"kind\":");
	ej_string(b, r->kind);
	if (r->namespace)
	{
		key(b, ",\"namespace\":");
		ej_string(b, r->namespace);
	}
	key(b, ",\"name\":");
	ej_string(b, r->name);
	key(b, ",\"uid\":");
	ej_string(b, r->uid);
	if (r->api_version)
	{
		key(b, ",\"apiVersion\":");
		ej_string(b, r->api_version);
	}
	if (r->resource_version)
	{
		key(b, ",\"resourceVersion\":\"");
		ej_u64(b, r->resource_version);
		ej_puts(b, "\"");
	}
	if (r->field_path)
	{
		key(b, ",\"fieldPath\":");
		ej_string(b, r->field_path);
	}
	ej_puts(b, "}");
}

static void
source(ej_buf *b, const char *name, const cm_obs *o)
{
	ej_puts(b, name);
	ej_puts(b, ":{");
	if (o->source_component)
	{
		key(b, "\"component\":");
		ej_string(b, o->source_component);
		if (o->source_host)
		{
			key(b, ",\"host\":");
			ej_string(b, o->source_host);
		}
	}
	ej_puts(b, "}");
}

static void
series(ej_buf *b, const cm_obs *o)
{
	if (o->series_count <= 0)
		return;
	key(b, ",\"series\":{\"count\":");
	ej_u64(b, (uint64_t) o->series_count);
	key(b, ",\"lastObservedTime\":");
	time_value(b, o->series_last_us, 1);
	ej_puts(b, "}");
}

static void
core_event(ej_buf *b, const cm_obs *o)
{
	key(b, "{\"kind\":\"Event\",\"apiVersion\":\"v1\",");
	metadata(b, o);
	object_ref(b, ",\"involvedObject\"", &o->involved);
	key(b, ",\"reason\":");
	ej_string(b, o->reason);
	if (o->message[0])
	{
		key(b, ",\"message\":");
		ej_string(b, o->message);
	}
	source(b, ",\"source\"", o);
	if (o->new_style)
		key(b, ",\"firstTimestamp\":null,\"lastTimestamp\":null");
	else
	{
		key(b, ",\"firstTimestamp\":");
		time_value(b, o->first_us, 0);
		key(b, ",\"lastTimestamp\":");
		time_value(b, o->last_us, 0);
		key(b, ",\"count\":");
		ej_u64(b, (uint64_t) o->count);
	}
	key(b, ",\"type\":");
	ej_string(b, o->type);
	if (o->shape == CM_SHAPE_CORE_OLD)
	{
		ej_puts(b, "}");
		return;
	}
	if (o->new_style)
	{
		key(b, ",\"eventTime\":");
		time_value(b, o->event_time_us, 1);
		series(b, o);
		key(b, ",\"action\":");
		ej_string(b, o->action);
	}
	else
		key(b, ",\"eventTime\":null");
	key(b, ",\"reportingComponent\":");
	ej_string(b, o->reporting_component);
	key(b, ",\"reportingInstance\":");
	ej_string(b, o->reporting_instance);
	ej_puts(b, "}");
}

/* events.k8s.io/v1 marks its optional strings omitempty, unlike core/v1. */
static void
events_v1_event(ej_buf *b, const cm_obs *o)
{
	key(b, "{\"kind\":\"Event\",\"apiVersion\":\"events.k8s.io/v1\",");
	metadata(b, o);
	if (o->new_style)
	{
		key(b, ",\"eventTime\":");
		time_value(b, o->event_time_us, 1);
		series(b, o);
	}
	else
		key(b, ",\"eventTime\":null");
	if (o->reporting_component[0])
	{
		key(b, ",\"reportingController\":");
		ej_string(b, o->reporting_component);
	}
	if (o->reporting_instance[0])
	{
		key(b, ",\"reportingInstance\":");
		ej_string(b, o->reporting_instance);
	}
	if (o->new_style)
	{
		key(b, ",\"action\":");
		ej_string(b, o->action);
	}
	key(b, ",\"reason\":");
	ej_string(b, o->reason);
	object_ref(b, ",\"regarding\"", &o->involved);
	if (o->message[0])
	{
		key(b, ",\"note\":");
		ej_string(b, o->message);
	}
	key(b, ",\"type\":");
	ej_string(b, o->type);
	source(b, ",\"deprecatedSource\"", o);
	if (o->new_style)
		key(b, ",\"deprecatedFirstTimestamp\":null,\"deprecatedLastTimestamp\":null}");
	else
	{
		key(b, ",\"deprecatedFirstTimestamp\":");
		time_value(b, o->first_us, 0);
		key(b, ",\"deprecatedLastTimestamp\":");
		time_value(b, o->last_us, 0);
		key(b, ",\"deprecatedCount\":");
		ej_u64(b, (uint64_t) o->count);
		ej_puts(b, "}");
	}
}

void
ej_event(ej_buf *b, const cm_obs *o)
{
	if (o->shape == CM_SHAPE_EVENTS_V1)
		events_v1_event(b, o);
	else
		core_event(b, o);
}
