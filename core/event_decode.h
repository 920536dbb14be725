/*
 * event_decode.h
 *	  From Kubernetes JSON to the columns of k8s_events.events.
 *
 * One implementation of every rule about what an Event is and which of its fields
 * mean what, shared by the SQL functions, the background watcher and the
 * k8s-events program.  Plain C over jansson; it allocates nothing, so it needs
 * no allocator: the strings it returns point into the json_t it was given.
 */
#ifndef K8S_EVENTS_EVENT_DECODE_H
#define K8S_EVENTS_EVENT_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "json_reader.h"

#define EVENT_ERR_LEN 256

/*
 * The longest resourceVersion, namespace, kind, name, type, reason and source
 * host an Event may have to be stored: the length of a Kubernetes name (a DNS
 * subdomain), as for a cluster's name.  The partitions and the summaries index
 * these, and a btree entry holds at most 2,704 bytes: longer ones would fail the
 * whole batch, so such an Event is rejected (kept whole in k8s_events.rejected).
 */
#define EVENT_FIELD_MAX_BYTES 253

/* What one item of a payload turned out to be. */
typedef enum PayloadItemKind
{
	ITEM_EVENT,       /* an Event to store (bare, or inside a frame or envelope) */
	ITEM_DELETED,     /* a DELETED watch frame: the API forgot it, we keep it */
	ITEM_BOOKMARK,    /* a BOOKMARK watch frame: only a resourceVersion */
	ITEM_ERROR_FRAME, /* an ERROR watch frame: a Status, e.g. 410 Gone */
	ITEM_INVALID      /* not something we can store; reason says why */
} PayloadItemKind;

/*
 * Called once per item of a payload.  For ITEM_EVENT, event is the Event
 * object; for the others it is the whole item.  reason is set for
 * ITEM_INVALID only.
 */
typedef void (*PayloadItemCallback)(void *arg, PayloadItemKind kind, json_t *item, json_t *event,
                                    const char *reason);

/*
 * Walk a payload: one Event of either API, a watch frame {"type","object"},
 * an eventrouter line {"verb","event","old_event"} (bare, or inside an object of
 * one key, as its stdout sink writes it with a namespace key), a JSON array of any of
 * those, or a List/EventList whose "items" (possibly null) holds any of those.
 */
extern void payload_walk(json_t *payload, PayloadItemCallback callback, void *arg);

/*
 * Classify a single item (not a list) and find the Event inside it.
 * Returns the kind; *event is set for ITEM_EVENT; reason for ITEM_INVALID.
 */
extern PayloadItemKind payload_item_classify(json_t *item, json_t **event, char *reason,
                                             size_t reasonlen);

/*
 * The Event an item carries, or the item itself: the "object" of a watch frame,
 * the "event" of an eventrouter line.
 */
extern json_t *payload_unwrap(json_t *item);

/* The columns of one observation of an Event. */
typedef struct EventRow
{
	const char *uid;
	const char *resource_version; /* "" when the object has none */
	int64_t     event_time;       /* microseconds since 1970-01-01T00:00:00Z */
	int64_t     first_time;       /* event_time when the Event says nothing earlier */
	bool        first_time_known; /* read from a field, not copied from event_time */
	int64_t     earliest_time;    /* the earliest time the Event mentions, unclamped */
	const char *namespace;        /* of the involved object, else the Event's own */
	const char *kind;             /* of the involved object */
	const char *name;
	const char *type;
	const char *reason;
	const char *message;
	int64_t     count; /* series.count, else count, else deprecatedCount, else 1 */
	const char *source_component;
	const char *source_host;
	const char *reporting_controller;
	const char *reporting_instance;
	const char *action;
} EventRow;

/*
 * Fill row from an Event object of either API.  Returns false with a reason
 * when the object cannot be stored (no uid, a malformed field, no timestamp,
 * an event_time outside 1970-01-01 .. 8999-12-31, an indexed field longer than
 * EVENT_FIELD_MAX_BYTES, and for event_decode a NUL character in any string).
 */
extern bool event_decode(json_t *event, EventRow *row, char *err, size_t errlen);

/*
 * The same, of an Event in any form a JsonReader reads (the extension's jsonb:
 * ingest_copied() decodes each stored Event again).  The row's strings are the
 * reader's cstring()s.
 */
extern bool reader_event_decode(const JsonReader *r, const void *event, EventRow *row, char *err,
                                size_t errlen);

/*
 * The time of the newest occurrence an observation reports: the first present
 * of series.lastObservedTime, lastTimestamp, eventTime, deprecatedLastTimestamp,
 * firstTimestamp, deprecatedFirstTimestamp, metadata.creationTimestamp.
 * Returns false on a malformed timestamp (err names the field); *present is
 * false when none of the fields holds a time.
 */
extern bool event_time_of(json_t *event, bool *present, int64_t *usecs, char *err, size_t errlen);

/*
 * The same two rules through a JsonReader (json_reader.h), for JSON that is
 * not jansson's: the extension's event_time() reads a jsonb in place.
 */
extern const void *reader_payload_unwrap(const JsonReader *r, const void *item);
extern bool reader_event_time(const JsonReader *r, const void *event, bool *present, int64_t *usecs,
                              char *err, size_t errlen);

#endif
