/*
 * event_decode.c
 *	  Recognise Kubernetes payloads and decode Events of both APIs.
 *
 * core/v1 Events (involvedObject, message, source, count, firstTimestamp,
 * lastTimestamp) and events.k8s.io/v1 Events (regarding, note,
 * deprecatedSource, series, eventTime, deprecated* timestamps) describe the
 * same thing; this file is the one place that maps both onto our columns.
 */
#include "event_decode.h"

#include <stdio.h>
#include <string.h>

#include "quote_text.h"
#include "rfc3339.h"

#define Min64(a, b) ((a) < (b) ? (a) : (b))

/*
 * A piece of the input quoted in a reason: at most QUOTE_MAX bytes of it, in at
 * most QUOTE_BUF bytes once escaped (quote_text.h), so that the whole reason fits
 * EVENT_ERR_LEN and is never cut in the middle of a character.
 */
#define QUOTE_MAX 64
#define QUOTE_BUF 100

/* 9000-01-01T00:00:00Z in microseconds since 1970. */
#define EVENT_TIME_END INT64_C(221845392000000000)

static bool
set_err(char *err, size_t errlen, const char *fmt, const char *arg1, const char *arg2)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, fmt, arg1, arg2);
	return false;
}

static const char *
json_type_name(const json_t *value)
{
	switch (json_typeof(value))
	{
		case JSON_OBJECT:
			return "an object";
		case JSON_ARRAY:
			return "an array";
		case JSON_STRING:
			return "a string";
		case JSON_INTEGER:
		case JSON_REAL:
			return "a number";
		case JSON_TRUE:
		case JSON_FALSE:
			return "a boolean";
		case JSON_NULL:
			return "null";
	}
	return "unknown";
}

const char *
json_kind_name(JsonKind kind)
{
	switch (kind)
	{
		case JSON_KIND_OBJECT:
			return "an object";
		case JSON_KIND_ARRAY:
			return "an array";
		case JSON_KIND_STRING:
			return "a string";
		case JSON_KIND_NUMBER:
			return "a number";
		case JSON_KIND_BOOLEAN:
			return "a boolean";
		case JSON_KIND_NULL:
			return "null";
	}
	return "unknown";
}

/* ------------------------------------------------ jansson through a JsonReader */

static const void *
jansson_member(const JsonReader *r, const void *object, const char *key)
{
	(void) r;
	return json_is_object((const json_t *) object) ? json_object_get(object, key) : NULL;
}

static JsonKind
jansson_kind(const JsonReader *r, const void *value)
{
	(void) r;
	switch (json_typeof((const json_t *) value))
	{
		case JSON_OBJECT:
			return JSON_KIND_OBJECT;
		case JSON_ARRAY:
			return JSON_KIND_ARRAY;
		case JSON_STRING:
			return JSON_KIND_STRING;
		case JSON_INTEGER:
		case JSON_REAL:
			return JSON_KIND_NUMBER;
		case JSON_TRUE:
		case JSON_FALSE:
			return JSON_KIND_BOOLEAN;
		case JSON_NULL:
			break;
	}
	return JSON_KIND_NULL;
}

static const char *
jansson_string(const JsonReader *r, const void *value, size_t *len)
{
	(void) r;
	*len = json_string_length(value);
	return json_string_value(value);
}

static size_t
jansson_size(const JsonReader *r, const void *object)
{
	(void) r;
	return json_object_size(object);
}

static const void *
jansson_first_member(const JsonReader *r, const void *object)
{
	void *it = json_object_iter((json_t *) object);

	(void) r;
	return it != NULL ? json_object_iter_value(it) : NULL;
}

static const char *
jansson_cstring(const JsonReader *r, const void *value)
{
	(void) r;
	return json_string_value(value);
}

static bool
jansson_integer(const JsonReader *r, const void *value, int64_t *result)
{
	(void) r;
	if (!json_is_integer((const json_t *) value))
		return false;
	*result = json_integer_value(value);
	return true;
}

static const JsonReader jansson_reader = {
    .member = jansson_member,
    .kind = jansson_kind,
    .string = jansson_string,
    .size = jansson_size,
    .first_member = jansson_first_member,
    .cstring = jansson_cstring,
    .integer = jansson_integer,
};

/* An object member that may be absent or null; anything else must be an object. */
static bool
read_object(const JsonReader *r, const void *parent, const char *key, const char *path,
            const void **result, char *err, size_t errlen)
{
	const void *value = parent != NULL ? r->member(r, parent, key) : NULL;
	JsonKind    kind;

	*result = NULL;
	if (value == NULL || (kind = r->kind(r, value)) == JSON_KIND_NULL)
		return true;
	if (kind != JSON_KIND_OBJECT)
		return set_err(err, errlen, "%s is %s, not an object", path, json_kind_name(kind));
	*result = value;
	return true;
}

/*
 * A string member; absent, null and "" all read as NULL, because Kubernetes
 * writes "" for an unset string in core/v1 and omits it in events.k8s.io/v1.
 */
static bool
read_string(const JsonReader *r, const void *parent, const char *key, const char *path,
            const char **result, char *err, size_t errlen)
{
	const void *value = parent != NULL ? r->member(r, parent, key) : NULL;
	JsonKind    kind;
	size_t      len;

	*result = NULL;
	if (value == NULL || (kind = r->kind(r, value)) == JSON_KIND_NULL)
		return true;
	if (kind != JSON_KIND_STRING)
		return set_err(err, errlen, "%s is %s, not a string", path, json_kind_name(kind));
	(void) r->string(r, value, &len);
	if (len > 0 && (*result = r->cstring(r, value)) == NULL)
		return set_err(err, errlen, "out of memory reading %s", path, NULL);
	return true;
}

/* A timestamp member; Go's zero time counts as unset, as it does in Kubernetes. */
static bool
read_time(const JsonReader *r, const void *parent, const char *key, const char *path, bool *present,
          int64_t *usecs, char *err, size_t errlen)
{
	const void *value = parent != NULL ? r->member(r, parent, key) : NULL;
	JsonKind    kind;
	const char *text;
	size_t      len;
	char        why[128];

	*present = false;
	if (value == NULL || (kind = r->kind(r, value)) == JSON_KIND_NULL)
		return true;
	if (kind != JSON_KIND_STRING)
		return set_err(err, errlen, "%s is %s, not a timestamp string", path, json_kind_name(kind));
	text = r->string(r, value, &len);
	if (len == 0)
		return true;
	if (!rfc3339_parse(text, len, usecs, why, sizeof(why)))
	{
		char quoted[QUOTE_BUF];

		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "invalid timestamp in %s: \"%s\": %s", path,
			         quote_text(quoted, sizeof(quoted), text, len, QUOTE_MAX), why);
		return false;
	}
	*present = *usecs != RFC3339_GO_ZERO_TIME_USECS;
	return true;
}

/* A count member: a positive integer is a count, 0/absent/null is "not set". */
static bool
read_count(const JsonReader *r, const void *parent, const char *key, const char *path,
           int64_t *count, char *err, size_t errlen)
{
	const void *value = parent != NULL ? r->member(r, parent, key) : NULL;
	JsonKind    kind;
	int64_t     n;

	if (value == NULL || (kind = r->kind(r, value)) == JSON_KIND_NULL)
		return true;
	if (kind != JSON_KIND_NUMBER || !r->integer(r, value, &n))
		return set_err(err, errlen, "%s is %s, not an integer", path, json_kind_name(kind));
	/* Kubernetes counts are int32; anything larger is not from an API server. */
	if (n > INT32_MAX || n < 0)
		return set_err(err, errlen, "%s is out of range: must be between 0 and 2147483647", path,
		               NULL);
	if (*count == 0 && n > 0)
		*count = n;
	return true;
}

typedef struct TimeField
{
	const char *container; /* NULL: the Event itself */
	const char *key;
	const char *path;
} TimeField;

/*
 * Which field says when an observation happened, newest first.  The order is
 * the contract of event_time(); it is the partition key, so it never changes.
 */
static const TimeField event_time_fields[] = {
    {"series", "lastObservedTime", "series.lastObservedTime"},
    {NULL, "lastTimestamp", "lastTimestamp"},
    {NULL, "eventTime", "eventTime"},
    {NULL, "deprecatedLastTimestamp", "deprecatedLastTimestamp"},
    {NULL, "firstTimestamp", "firstTimestamp"},
    {NULL, "deprecatedFirstTimestamp", "deprecatedFirstTimestamp"},
    {"metadata", "creationTimestamp", "metadata.creationTimestamp"},
};

/* When the event first happened. */
static const TimeField first_time_fields[] = {
    {NULL, "firstTimestamp", "firstTimestamp"},
    {NULL, "deprecatedFirstTimestamp", "deprecatedFirstTimestamp"},
    {NULL, "eventTime", "eventTime"},
    {"metadata", "creationTimestamp", "metadata.creationTimestamp"},
};

static bool
first_present_time(const JsonReader *r, const void *event, const TimeField *fields, size_t nfields,
                   bool *present, int64_t *usecs, char *err, size_t errlen)
{
	*present = false;
	for (size_t i = 0; i < nfields; i++)
	{
		const void *container = event;

		if (fields[i].container != NULL)
		{
			if (!read_object(r, event, fields[i].container, fields[i].container, &container, err,
			                 errlen))
				return false;
			if (container == NULL)
				continue;
		}
		if (!read_time(r, container, fields[i].key, fields[i].path, present, usecs, err, errlen))
			return false;
		if (*present)
			return true;
	}
	return true;
}

bool
reader_event_time(const JsonReader *r, const void *event, bool *present, int64_t *usecs, char *err,
                  size_t errlen)
{
	return first_present_time(r, event, event_time_fields,
	                          sizeof(event_time_fields) / sizeof(event_time_fields[0]), present,
	                          usecs, err, errlen);
}

bool
event_time_of(json_t *event, bool *present, int64_t *usecs, char *err, size_t errlen)
{
	return reader_event_time(&jansson_reader, event, present, usecs, err, errlen);
}

static bool
is_uuid(const char *s)
{
	static const char pattern[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

	if (strlen(s) != sizeof(pattern) - 1)
		return false;
	for (size_t i = 0; i < sizeof(pattern) - 1; i++)
	{
		char c = s[i];

		if (pattern[i] == '-'
		        ? c != '-'
		        : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

/* A field the store indexes is at most EVENT_FIELD_MAX_BYTES long. */
static bool
within_limit(const char *value, const char *path, char *err, size_t errlen)
{
	size_t len = value != NULL ? strlen(value) : 0;

	if (len <= EVENT_FIELD_MAX_BYTES)
		return true;
	if (err != NULL && errlen > 0)
		snprintf(err, errlen,
		         "%s is %zu bytes long: the store indexes it, and takes at most %d bytes (the "
		         "length of a Kubernetes name)",
		         path, len, EVENT_FIELD_MAX_BYTES);
	return false;
}

bool
reader_event_decode(const JsonReader *r, const void *event, EventRow *row, char *err, size_t errlen)
{
	const void *metadata, *involved, *series, *source;
	bool        present;
	int64_t     created;
	JsonKind    kind = r->kind(r, event);

	memset(row, 0, sizeof(*row));
	if (kind != JSON_KIND_OBJECT)
		return set_err(err, errlen, "the event is %s, not an object", json_kind_name(kind), NULL);

	if (!read_object(r, event, "metadata", "metadata", &metadata, err, errlen))
		return false;
	if (metadata == NULL)
		return set_err(err, errlen, "the event has no metadata", NULL, NULL);
	if (!read_string(r, metadata, "uid", "metadata.uid", &row->uid, err, errlen))
		return false;
	if (row->uid == NULL)
		return set_err(err, errlen, "the event has no metadata.uid", NULL, NULL);
	if (!is_uuid(row->uid))
	{
		char quoted[QUOTE_BUF];

		return set_err(err, errlen, "metadata.uid \"%s\" is not a UUID",
		               quote_text(quoted, sizeof(quoted), row->uid, strlen(row->uid), QUOTE_MAX),
		               NULL);
	}
	if (!read_string(r, metadata, "resourceVersion", "metadata.resourceVersion",
	                 &row->resource_version, err, errlen))
		return false;
	if (row->resource_version == NULL)
		row->resource_version = "";

	if (!reader_event_time(r, event, &present, &row->event_time, err, errlen))
		return false;
	if (!present)
		return set_err(err, errlen,
		               "the event has no timestamp: none of series.lastObservedTime, "
		               "lastTimestamp, eventTime, deprecatedLastTimestamp, firstTimestamp, "
		               "deprecatedFirstTimestamp, metadata.creationTimestamp is set",
		               NULL, NULL);
	/* Outside these no Kubernetes cluster ran, and no partition could be named. */
	if (row->event_time < 0 || row->event_time >= EVENT_TIME_END)
	{
		char shown[RFC3339_BUFLEN];

		if (rfc3339_format(row->event_time, shown))
			return set_err(err, errlen, "event_time %s is outside 1970-01-01 .. 8999-12-31", shown,
			               NULL);
		return set_err(err, errlen, "event_time is outside 1970-01-01 .. 8999-12-31", NULL, NULL);
	}
	if (!first_present_time(r, event, first_time_fields,
	                        sizeof(first_time_fields) / sizeof(first_time_fields[0]), &present,
	                        &row->first_time, err, errlen))
		return false;
	row->first_time_known = present;
	/*
	 * Clocks disagree: kubelets stamp lastTimestamp, the API server
	 * creationTimestamp.  Keep the earliest of them for finding earlier
	 * observations, and never let first_time come after event_time.
	 */
	row->earliest_time = present ? Min64(row->first_time, row->event_time) : row->event_time;
	if (!read_object(r, event, "metadata", "metadata", &metadata, err, errlen) ||
	    !read_time(r, metadata, "creationTimestamp", "metadata.creationTimestamp", &present,
	               &created, err, errlen))
		return false;
	if (present)
		row->earliest_time = Min64(row->earliest_time, created);
	if (!row->first_time_known || row->first_time > row->event_time)
		row->first_time = row->event_time;

	/* core/v1 names the object involvedObject, events.k8s.io/v1 regarding. */
	if (!read_object(r, event, "involvedObject", "involvedObject", &involved, err, errlen))
		return false;
	if (involved == NULL &&
	    !read_object(r, event, "regarding", "regarding", &involved, err, errlen))
		return false;
	if (!read_string(r, involved, "namespace", "involvedObject.namespace", &row->namespace, err,
	                 errlen) ||
	    !read_string(r, involved, "kind", "involvedObject.kind", &row->kind, err, errlen) ||
	    !read_string(r, involved, "name", "involvedObject.name", &row->name, err, errlen))
		return false;
	if (row->namespace == NULL &&
	    !read_string(r, metadata, "namespace", "metadata.namespace", &row->namespace, err, errlen))
		return false;

	if (!read_string(r, event, "type", "type", &row->type, err, errlen) ||
	    !read_string(r, event, "reason", "reason", &row->reason, err, errlen) ||
	    !read_string(r, event, "message", "message", &row->message, err, errlen) ||
	    !read_string(r, event, "action", "action", &row->action, err, errlen) ||
	    !read_string(r, event, "reportingInstance", "reportingInstance", &row->reporting_instance,
	                 err, errlen))
		return false;
	if (row->message == NULL && !read_string(r, event, "note", "note", &row->message, err, errlen))
		return false;
	if (!read_string(r, event, "reportingComponent", "reportingComponent",
	                 &row->reporting_controller, err, errlen))
		return false;
	if (row->reporting_controller == NULL &&
	    !read_string(r, event, "reportingController", "reportingController",
	                 &row->reporting_controller, err, errlen))
		return false;

	if (!read_object(r, event, "source", "source", &source, err, errlen))
		return false;
	if (source == NULL &&
	    !read_object(r, event, "deprecatedSource", "deprecatedSource", &source, err, errlen))
		return false;
	if (!read_string(r, source, "component", "source.component", &row->source_component, err,
	                 errlen) ||
	    !read_string(r, source, "host", "source.host", &row->source_host, err, errlen))
		return false;

	if (!read_object(r, event, "series", "series", &series, err, errlen))
		return false;
	row->count = 0;
	if (!read_count(r, series, "count", "series.count", &row->count, err, errlen) ||
	    !read_count(r, event, "count", "count", &row->count, err, errlen) ||
	    !read_count(r, event, "deprecatedCount", "deprecatedCount", &row->count, err, errlen))
		return false;
	if (row->count == 0)
		row->count = 1;

	/* What the store indexes must fit a btree entry (event_decode.h). */
	if (!within_limit(row->resource_version, "metadata.resourceVersion", err, errlen) ||
	    !within_limit(row->namespace, "involvedObject.namespace", err, errlen) ||
	    !within_limit(row->kind, "involvedObject.kind", err, errlen) ||
	    !within_limit(row->name, "involvedObject.name", err, errlen) ||
	    !within_limit(row->type, "type", err, errlen) ||
	    !within_limit(row->reason, "reason", err, errlen) ||
	    !within_limit(row->source_host, "source.host", err, errlen))
		return false;
	return true;
}

/*
 * Whether a string of value holds a NUL character (JSON "\u0000", which jansson
 * keeps when a payload is parsed with JSON_ALLOW_NUL); path says where.  Object
 * keys cannot: jansson refuses a NUL in a key even then.
 */
static bool
find_nul(json_t *value, char *path, size_t pathlen, size_t used)
{
	if (used >= pathlen)
		used = pathlen - 1;
	if (json_is_string(value))
		return memchr(json_string_value(value), '\0', json_string_length(value)) != NULL;
	if (json_is_object(value))
	{
		const char *key;
		json_t     *member;

		json_object_foreach(value, key, member)
		{
			char quoted[40];
			int  n = snprintf(path + used, pathlen - used, "%s%s", used > 0 ? "." : "",
			                  quote_text(quoted, sizeof(quoted), key, strlen(key), 32));

			if (find_nul(member, path, pathlen, used + (n > 0 ? (size_t) n : 0)))
				return true;
		}
	}
	else if (json_is_array(value))
	{
		for (size_t i = 0; i < json_array_size(value); i++)
		{
			int n = snprintf(path + used, pathlen - used, "[%zu]", i);

			if (find_nul(json_array_get(value, i), path, pathlen, used + (n > 0 ? (size_t) n : 0)))
				return true;
		}
	}
	path[used] = '\0';
	return false;
}

bool
event_decode(json_t *event, EventRow *row, char *err, size_t errlen)
{
	char path[128] = "";

	/* PostgreSQL's text and jsonb cannot hold a NUL: say so, rather than cut the string. */
	if (find_nul(event, path, sizeof(path), 0))
	{
		memset(row, 0, sizeof(*row));
		return set_err(err, errlen,
		               "%s holds a NUL character (\\u0000), which PostgreSQL cannot store in "
		               "text or jsonb",
		               path, NULL);
	}
	return reader_event_decode(&jansson_reader, event, row, err, errlen);
}

/* A member that is there and is a string. */
static bool
has_string(const JsonReader *r, const void *object, const char *key)
{
	const void *value = r->member(r, object, key);

	return value != NULL && r->kind(r, value) == JSON_KIND_STRING;
}

static bool
reader_is_watch_frame(const JsonReader *r, const void *item)
{
	return has_string(r, item, "type") && r->member(r, item, "object") != NULL;
}

static bool
reader_is_eventrouter_line(const JsonReader *r, const void *item)
{
	return has_string(r, item, "verb") && r->member(r, item, "event") != NULL;
}

/*
 * eventrouter's stdout sink, given a namespace key, prints each line inside an
 * object of that one key: {"<key>": {"verb": ..., "event": ...}}.
 */
static const void *
reader_namespace_wrapped_line(const JsonReader *r, const void *item)
{
	const void *inner;

	if (r->size(r, item) != 1 || (inner = r->first_member(r, item)) == NULL)
		return NULL;
	if (r->kind(r, inner) == JSON_KIND_OBJECT && reader_is_eventrouter_line(r, inner))
		return inner;
	return NULL;
}

const void *
reader_payload_unwrap(const JsonReader *r, const void *item)
{
	const void *inner;

	if (item == NULL || r->kind(r, item) != JSON_KIND_OBJECT)
		return item;
	if (reader_is_watch_frame(r, item))
		return r->member(r, item, "object");
	if (reader_is_eventrouter_line(r, item))
		return r->member(r, item, "event");
	if ((inner = reader_namespace_wrapped_line(r, item)) != NULL)
		return r->member(r, inner, "event");
	return item;
}

static bool
is_watch_frame(json_t *item)
{
	return reader_is_watch_frame(&jansson_reader, item);
}

static bool
is_eventrouter_line(json_t *item)
{
	return reader_is_eventrouter_line(&jansson_reader, item);
}

static json_t *
namespace_wrapped_line(json_t *item)
{
	return (json_t *) reader_namespace_wrapped_line(&jansson_reader, item);
}

static bool
is_list(json_t *item)
{
	return json_is_object(item) && json_object_get(item, "items") != NULL &&
	       json_object_get(item, "involvedObject") == NULL &&
	       json_object_get(item, "regarding") == NULL;
}

static PayloadItemKind
invalid(char *reason, size_t reasonlen, const char *fmt, const char *arg1, const char *arg2)
{
	set_err(reason, reasonlen, fmt, arg1, arg2);
	return ITEM_INVALID;
}

/* The Event inside a watch frame or eventrouter envelope must itself be an Event. */
static PayloadItemKind
classify_event(json_t *candidate, json_t **event, char *reason, size_t reasonlen)
{
	json_t *kind;

	if (!json_is_object(candidate))
		return invalid(reason, reasonlen, "the item is %s, not a JSON object",
		               json_type_name(candidate), NULL);
	kind = json_object_get(candidate, "kind");
	if (json_is_string(kind) && strcmp(json_string_value(kind), "Event") != 0)
	{
		char quoted[QUOTE_BUF];

		return invalid(reason, reasonlen, "the item is a %s, not an Event",
		               quote_text(quoted, sizeof(quoted), json_string_value(kind),
		                          json_string_length(kind), QUOTE_MAX),
		               NULL);
	}
	*event = candidate;
	return ITEM_EVENT;
}

json_t *
payload_unwrap(json_t *item)
{
	return (json_t *) reader_payload_unwrap(&jansson_reader, item);
}

PayloadItemKind
payload_item_classify(json_t *item, json_t **event, char *reason, size_t reasonlen)
{
	char quoted[QUOTE_BUF];

	*event = NULL;
	if (!json_is_object(item))
		return invalid(reason, reasonlen, "the item is %s, not a JSON object", json_type_name(item),
		               NULL);

	if (is_watch_frame(item))
	{
		const char *type = json_string_value(json_object_get(item, "type"));

		if (strcmp(type, "ADDED") == 0 || strcmp(type, "MODIFIED") == 0)
			return classify_event(json_object_get(item, "object"), event, reason, reasonlen);
		if (strcmp(type, "DELETED") == 0)
			return ITEM_DELETED;
		if (strcmp(type, "BOOKMARK") == 0)
			return ITEM_BOOKMARK;
		if (strcmp(type, "ERROR") == 0)
			return ITEM_ERROR_FRAME;
		return invalid(reason, reasonlen, "unknown watch event type \"%s\"",
		               quote_text(quoted, sizeof(quoted), type, strlen(type), 32), NULL);
	}

	if (namespace_wrapped_line(item) != NULL)
		item = namespace_wrapped_line(item);
	if (is_eventrouter_line(item))
	{
		const char *verb = json_string_value(json_object_get(item, "verb"));

		if (strcmp(verb, "ADDED") == 0 || strcmp(verb, "UPDATED") == 0)
			return classify_event(json_object_get(item, "event"), event, reason, reasonlen);
		if (strcmp(verb, "DELETED") == 0)
			return ITEM_DELETED;
		return invalid(reason, reasonlen, "unknown eventrouter verb \"%s\"",
		               quote_text(quoted, sizeof(quoted), verb, strlen(verb), 32), NULL);
	}

	if (is_list(item))
		return invalid(reason, reasonlen, "a list inside a list is not supported", NULL, NULL);

	return classify_event(item, event, reason, reasonlen);
}

static void
walk_item(json_t *item, PayloadItemCallback callback, void *arg)
{
	char            reason[EVENT_ERR_LEN];
	json_t         *event;
	PayloadItemKind kind = payload_item_classify(item, &event, reason, sizeof(reason));

	callback(arg, kind, item, event, kind == ITEM_INVALID ? reason : NULL);
}

void
payload_walk(json_t *payload, PayloadItemCallback callback, void *arg)
{
	json_t *items = payload;
	size_t  index;
	json_t *item;

	if (is_list(payload))
	{
		items = json_object_get(payload, "items");
		if (json_is_null(items))
			return; /* kubectl writes "items": null for an empty list */
		if (!json_is_array(items))
		{
			char reason[EVENT_ERR_LEN];

			set_err(reason, sizeof(reason), "the list's items is %s, not an array",
			        json_type_name(items), NULL);
			callback(arg, ITEM_INVALID, payload, NULL, reason);
			return;
		}
	}
	if (!json_is_array(items))
	{
		walk_item(payload, callback, arg);
		return;
	}
	json_array_foreach(items, index, item)
	{
		if (json_is_array(item) || is_list(item))
			callback(arg, ITEM_INVALID, item, NULL, "a list inside a list is not supported");
		else
			walk_item(item, callback, arg);
	}
}
