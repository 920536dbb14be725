/*
 * event_time.c
 *	  SQL functions about time: event_time(), parse_timestamp_iso8601(), unix_millis().
 *
 * event_time() is the partition key of k8s_events.events; it calls the same
 * core/ code as ingest, so a row's event_time always equals event_time(event).
 */
#include "postgres.h"

#include "fmgr.h"
#include "pg_builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "core/event_decode.h"
#include "json_backend.h"
#include "jsonb_reader.h"
#include "core/rfc3339.h"
#include "unix_time.h"
#include "sql_function.h"

SQL_FUNCTION(k8s_event_time);
SQL_FUNCTION(k8s_parse_timestamp_iso8601);
SQL_FUNCTION(k8s_unix_millis);

/*
 * event_time(event jsonb) → timestamptz: a bare Event of either API, a watch
 * frame or an eventrouter line; NULL when it holds no time.
 */
Datum
k8s_event_time(PG_FUNCTION_ARGS)
{
	Jsonb      *jb = PG_GETARG_JSONB_P(0);
	JsonbValue  root = {.type = jbvBinary};
	const void *event;
	bool        present;
	int64       usecs;
	char        err[EVENT_ERR_LEN];

	/* A scalar or array holds no Event. */
	if (!JB_ROOT_IS_OBJECT(jb))
		PG_RETURN_NULL();

	/* The same rule as ingest's (core/event_decode.c), read from the jsonb in place. */
	jsonb_reader_root(jb, &root);
	event = reader_payload_unwrap(&jsonb_reader, &root);
	if (event == NULL || jsonb_reader.kind(&jsonb_reader, event) != JSON_KIND_OBJECT)
		PG_RETURN_NULL();
	if (!reader_event_time(&jsonb_reader, event, &present, &usecs, err, sizeof(err)))
		ereport(
		    ERROR,
		    (errcode(ERRCODE_INVALID_DATETIME_FORMAT), errmsg("%s", err),
		     errhint("Kubernetes writes timestamps in RFC 3339, e.g. \"2026-11-25T17:56:28Z\".")));
	if (!present)
		PG_RETURN_NULL();
	PG_RETURN_TIMESTAMPTZ(timestamptz_from_unix_usecs(usecs));
}

/*
 * parse_timestamp_iso8601(text) → timestamptz: strict RFC 3339, so the seed's
 * UNIX_MILLIS(PARSE_TIMESTAMP_ISO8601(event.lastTimestamp)) reads the same.
 */
Datum
k8s_parse_timestamp_iso8601(PG_FUNCTION_ARGS)
{
	text *input = PG_GETARG_TEXT_PP(0);
	int64 usecs;
	char  err[128];

	if (!rfc3339_parse(VARDATA_ANY(input), VARSIZE_ANY_EXHDR(input), &usecs, err, sizeof(err)))
		ereport(
		    ERROR,
		    (errcode(ERRCODE_INVALID_DATETIME_FORMAT),
		     errmsg("invalid RFC 3339 timestamp: \"%s\"", text_to_cstring(input)),
		     errdetail("%s.", err),
		     errhint("Use the form 2026-11-25T17:56:28Z or 2026-11-25T18:56:28.123456+01:00.")));
	PG_RETURN_TIMESTAMPTZ(timestamptz_from_unix_usecs(usecs));
}

/* unix_millis(timestamptz) → bigint: milliseconds since 1970, floored like BigQuery's. */
Datum
k8s_unix_millis(PG_FUNCTION_ARGS)
{
	TimestampTz ts = PG_GETARG_TIMESTAMPTZ(0);
	int64       usecs;

	if (TIMESTAMP_NOT_FINITE(ts))
		ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
		                errmsg("cannot convert infinite timestamp to Unix milliseconds")));
	usecs = unix_usecs_from_timestamptz(ts);
	/* Floor, not truncate: an instant before 1970 belongs to the earlier millisecond. */
	PG_RETURN_INT64(usecs >= 0 ? usecs / 1000 : -((-usecs + 999) / 1000));
}
