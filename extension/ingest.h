/*
 * ingest.h
 *	  Storing Kubernetes payloads in k8s_events.events: the one write path.
 *
 * k8s_events.ingest() uses it today; the background watcher and the
 * k8s-events program go through the same code, so keys, occurrences,
 * retention and rejects mean the same whoever writes.
 */
#ifndef K8S_EVENTS_INGEST_H
#define K8S_EVENTS_INGEST_H

#include <jansson.h>

#include "datatype/timestamp.h"
#include "fmgr.h"

typedef struct IngestCounts
{
	int64       received;     /* items looked at */
	int64       stored;       /* rows newly stored */
	int64       duplicates;   /* observations already stored */
	int64       rejected;     /* items written to k8s_events.rejected */
	int64       expired;      /* events older than k8s_events.retention */
	int64       deleted;      /* DELETED frames (not events) */
	int64       bookmarks;    /* BOOKMARK frames (not events) */
	int64       error_frames; /* ERROR frames (not events) */
	TimestampTz newest;       /* newest event_time stored, or DT_NOBEGIN */
} IngestCounts;

typedef struct Ingest Ingest;

/* The columns of a decoded row, in the order ingest_decoded() takes them. */
typedef enum IngestColumn
{
	COL_UID,
	COL_RESOURCE_VERSION,
	COL_EVENT_TIME,
	COL_FIRST_TIME,
	COL_NAMESPACE,
	COL_KIND,
	COL_NAME,
	COL_TYPE,
	COL_REASON,
	COL_MESSAGE,
	COL_COUNT,
	COL_SOURCE_COMPONENT,
	COL_SOURCE_HOST,
	COL_REPORTING_CONTROLLER,
	COL_REPORTING_INSTANCE,
	COL_ACTION,
	COL_EVENT,
	NUM_COLUMNS
} IngestColumn;

/*
 * Start writing for one cluster, inside an SPI connection and a transaction.
 * Takes the cluster's ingest lock (cluster_locks.h) so that concurrent
 * writers of the same cluster compute occurrences from each other's rows.
 * source names the writer in k8s_events.rejected (e.g. "ingest()").
 */
extern Ingest *ingest_begin(const char *cluster, const char *source);

/* Store every item of a payload (see payload_walk in core/event_decode.h). */
extern void ingest_payload(Ingest *ingest, json_t *payload);

/*
 * Store a row that core/event_decode.c decoded elsewhere (k8s-events load does
 * it in the client; see copied.c).  values/nulls are indexed by IngestColumn;
 * earliest is the row's earliest_time, or DT_NOBEGIN when its first time is
 * not known.  The caller has made sure a partition exists for its event_time.
 */
extern void ingest_decoded(Ingest *ingest, const Datum *values, const bool *nulls,
                           TimestampTz earliest);

/* Whether a row of this event_time is older than k8s_events.retention (not stored). */
extern bool ingest_is_expired(const Ingest *ingest, TimestampTz event_time);

/* Count an item that ingest_is_expired() said is not to be stored. */
extern void ingest_count_expired(Ingest *ingest);

/*
 * Events older than the retention cutoff go to k8s_events.rejected with the
 * reason, instead of being counted as expired.  For the watchers: a cluster
 * keeps its Events about an hour, so an expired one there means the API
 * server's clock is wrong, and a watcher's counts reach nobody.
 */
extern void ingest_reject_expired(Ingest *ingest);

/* Record raw input that is not even JSON; bytes that are not valid text are kept as hex. */
extern void ingest_reject_raw(Ingest *ingest, const char *payload, int len, const char *error);

/* Write what is buffered, send NOTIFY k8s_events, and return the counts. */
extern IngestCounts ingest_end(Ingest *ingest);

/*
 * The counts as the calling SQL function's result row: each of its columns
 * named like a field of IngestCounts (received, stored, ..., newest) gets that
 * field, so every function reports a count under the same name.
 */
extern Datum ingest_counts_datum(FunctionCallInfo fcinfo, const IngestCounts *counts);

#endif
