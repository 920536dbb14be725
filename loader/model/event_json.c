/*
 * event_json.c
 *	  Serializes cluster_model observations as Kubernetes writes them.
 */
#include "model/event_json.h"

#include <string.h>

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
