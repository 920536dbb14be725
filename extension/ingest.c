/*
 * ingest.c
 *	  The write path: Kubernetes payload → rows of k8s_events.events.
 *
 * Items are decoded by core/event_decode.c, buffered column by column, and
 * written k8s_events.batch_size at a time: occurrences.c judges which rows
 * are new observations and computes their occurrences (the increase of count
 * since the stored observations of the same event), and row_writer.c writes
 * the new ones as COPY would, or, when the table has triggers, one INSERT over
 * unnest()ed arrays (see insert_sql).  Partitions are created before the first
 *row is written; payloads are decoded twice for that (once for the times, once for the rows), which
 *costs less than holding every decoded row.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pg_builtins.h"
#include "utils/array.h"
#include "utils/datum.h"
#include "utils/datetime.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "core/event_decode.h"
#include "cluster_locks.h"
#include "cluster_name.h"
#include "ingest.h"
#include "spi_plan.h"
#include "json_backend.h"
#include "occurrences.h"
#include "partitions.h"
#include "row_writer.h"
#include "core/rfc3339.h"
#include "settings.h"
#include "summaries.h"
#include "unix_time.h"
#include "sql_function.h"
#include "text_datum.h"

SQL_FUNCTION(k8s_ingest);
SQL_FUNCTION(k8s_ingest_report);

/* How far the clocks stamping one Event may disagree, for finding its earlier observations. */
#define CLOCK_SKEW_SLACK USECS_PER_DAY

static const Oid column_types[NUM_COLUMNS] = {
    UUIDOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,  TEXTOID,
    TEXTOID, INT4OID, TEXTOID,        TEXTOID,        TEXTOID, TEXTOID, TEXTOID, JSONBOID,
};

/*
 * For a table with triggers, which row_writer.c does not fire: $1 cluster,
 * $2..$18 one array per IngestColumn, $19 occurrences, of the rows
 * occurrences_judge() found new, in batch order.
 *
 * Qualified throughout, as the SQL a background worker runs must be (its
 * session's search_path is the database owner's to set): ROWS FROM
 * (pg_catalog.unnest(), ...) is what unnest() of several arrays expands to.
 *
 * A plain INSERT, without ON CONFLICT, whose speculative insertion would
 * double the cost of writing: every writer of a cluster holds its ingest
 * lock (ingest_begin), so nothing can store a key between the judging and
 * the insert.
 */
static const char insert_sql[] =
    "INSERT INTO k8s_events.events (cluster, uid, resource_version, event_time, first_time,"
    "  namespace, kind, name, type, reason, message, count, occurrences, source_component,"
    "  source_host, reporting_controller, reporting_instance, action, event)"
    "SELECT $1, b.uid, b.resource_version, b.event_time, b.first_time, b.namespace, b.kind,"
    "  b.name, b.type, b.reason, b.message, b.count, b.occurrences, b.source_component,"
    "  b.source_host, b.reporting_controller, b.reporting_instance, b.action, b.event"
    " FROM ROWS FROM (pg_catalog.unnest($2::pg_catalog.uuid[]),"
    "    pg_catalog.unnest($3::pg_catalog.text[]), pg_catalog.unnest($4::pg_catalog.timestamptz[]),"
    "    pg_catalog.unnest($5::pg_catalog.timestamptz[]), pg_catalog.unnest($6::pg_catalog.text[]),"
    "    pg_catalog.unnest($7::pg_catalog.text[]), pg_catalog.unnest($8::pg_catalog.text[]),"
    "    pg_catalog.unnest($9::pg_catalog.text[]), pg_catalog.unnest($10::pg_catalog.text[]),"
    "    pg_catalog.unnest($11::pg_catalog.text[]), pg_catalog.unnest($12::pg_catalog.int4[]),"
    "    pg_catalog.unnest($13::pg_catalog.text[]), pg_catalog.unnest($14::pg_catalog.text[]),"
    "    pg_catalog.unnest($15::pg_catalog.text[]), pg_catalog.unnest($16::pg_catalog.text[]),"
    "    pg_catalog.unnest($17::pg_catalog.text[]), pg_catalog.unnest($18::pg_catalog.jsonb[]),"
    "    pg_catalog.unnest($19::pg_catalog.int4[]))"
    "  AS b(uid, resource_version, event_time, first_time, namespace, kind, name,"
    "    type, reason, message, count, source_component, source_host, reporting_controller,"
    "    reporting_instance, action, event, occurrences)"
    " RETURNING event_time, namespace, kind, name, type, reason, message, resource_version, uid,"
    "  first_time, count, occurrences, source_host";

static const char reject_sql[] =
    "INSERT INTO k8s_events.rejected (cluster, source, error, payload) VALUES ($1, $2, $3, $4)";

/* Plans live for the backend's life; the plan cache revalidates them after DDL. */
static SPIPlanPtr insert_plan = NULL;
static SPIPlanPtr reject_plan = NULL;

struct Ingest
{
	char         *cluster;
	char         *source;
	TimestampTz   cutoff;         /* events before it are expired */
	bool          reject_expired; /* ingest_reject_expired(): they go to rejected */
	MemoryContext batch_cxt;      /* the buffered rows; reset after each write */
	int           capacity;
	int           n;
	Datum        *values[NUM_COLUMNS];
	bool         *nulls[NUM_COLUMNS];
	TimestampTz  *bounds;              /* of the buffered rows: see BatchRows */
	int16         typlen[NUM_COLUMNS]; /* of column_types, looked up once */
	bool          typbyval[NUM_COLUMNS];
	IngestCounts  counts;
	SummaryBatch *summaries; /* the rows stored by this call, for the summaries at its end */
};

static void
prepare_plans(void)
{
	if (insert_plan == NULL)
	{
		Oid argtypes[NUM_COLUMNS + 2];

		argtypes[0] = TEXTOID;
		for (int c = 0; c < NUM_COLUMNS; c++)
			argtypes[c + 1] = get_array_type(column_types[c]);
		argtypes[NUM_COLUMNS + 1] = INT4ARRAYOID;
		insert_plan = spi_prepare_kept(insert_sql, NUM_COLUMNS + 2, argtypes);
	}
	if (reject_plan == NULL)
	{
		Oid argtypes[4] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};

		reject_plan = spi_prepare_kept(reject_sql, 4, argtypes);
	}
}

Ingest *
ingest_begin(const char *cluster, const char *source)
{
	Ingest *ingest = palloc0(sizeof(Ingest));

	/*
	 * occurrences compares with the counts other writers committed; a
	 * snapshot taken before our lock on the cluster would not see them.
	 */
	if (IsolationUsesXactSnapshot())
		ereport(
		    ERROR,
		    (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
		     errmsg("k8s_events ingest requires the READ COMMITTED isolation level"),
		     errdetail("A REPEATABLE READ or SERIALIZABLE snapshot would miss counts that other "
		               "writers store meanwhile, and count their occurrences twice."),
		     errhint("Run it in a READ COMMITTED transaction.")));
	check_cluster_name(cluster);

	/* Rows are written without an INSERT statement's own checks (row_writer.c). */
	PreventCommandIfReadOnly("k8s_events ingest");
	PreventCommandIfParallelMode("k8s_events ingest");

	ingest->cluster = pstrdup(cluster);
	ingest->source = pstrdup(source);
	ingest->cutoff = settings_retention_cutoff(GetCurrentTransactionStartTimestamp());
	ingest->capacity = k8s_events_batch_size;
	ingest->summaries = summary_batch_begin();
	ingest->batch_cxt = AllocSetContextCreate(CurrentMemoryContext, "k8s_events ingest batch",
	                                          ALLOCSET_DEFAULT_SIZES);
	for (int c = 0; c < NUM_COLUMNS; c++)
	{
		ingest->values[c] = palloc(sizeof(Datum) * ingest->capacity);
		ingest->nulls[c] = palloc(sizeof(bool) * ingest->capacity);
	}
	ingest->bounds = palloc(sizeof(TimestampTz) * ingest->capacity);
	for (int c = 0; c < NUM_COLUMNS; c++)
		get_typlenbyval(column_types[c], &ingest->typlen[c], &ingest->typbyval[c]);
	ingest->counts.newest = DT_NOBEGIN;

	cluster_lock_for_ingest(cluster);
	prepare_plans();
	return ingest;
}

static void
reject(Ingest *ingest, const char *payload, const char *error)
{
	/* The reason may quote the input (a parser's message): it must stay readable text. */
	Datum args[4] = {CStringGetTextDatum(ingest->cluster), CStringGetTextDatum(ingest->source),
	                 text_datum_escaped(error, strlen(error)), CStringGetTextDatum(payload)};

	if (SPI_execute_plan(reject_plan, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not record a rejected item");
	ingest->counts.rejected++;
}

void
ingest_reject_raw(Ingest *ingest, const char *payload, int len, const char *error)
{
	ingest->counts.received++;
	/*
	 * Raw input may be any bytes; a text column only takes the database
	 * encoding, and no NUL byte (which would cut it): anything else is kept
	 * whole, as hex.
	 */
	if (!pg_verifymbstr(payload, len, true))
	{
		StringInfoData hex;

		initStringInfo(&hex);
		appendStringInfoString(&hex, "\\x");
		for (int i = 0; i < len; i++)
			appendStringInfo(&hex, "%02x", (unsigned char) payload[i]);
		reject(ingest, hex.data,
		       psprintf("%s (the payload is not valid text; stored as hex)", error));
		return;
	}
	reject(ingest, pnstrdup(payload, len), error);
}

static void
reject_json(Ingest *ingest, json_t *item, const char *error)
{
	MemoryContext old = MemoryContextSwitchTo(ingest->batch_cxt);

	reject(ingest, json_to_cstring(item), error);
	MemoryContextSwitchTo(old);
}

static void
set_text(Ingest *ingest, IngestColumn c, const char *value)
{
	ingest->nulls[c][ingest->n] = value == NULL;
	ingest->values[c][ingest->n] = value != NULL ? CStringGetTextDatum(value) : (Datum) 0;
}

static void
set_datum(Ingest *ingest, IngestColumn c, Datum value)
{
	ingest->nulls[c][ingest->n] = false;
	ingest->values[c][ingest->n] = value;
}

/* The column's values of the rows to keep, as an array. */
static Datum
build_array(Ingest *ingest, IngestColumn c, const bool *keep, int nkept)
{
	int16  typlen;
	bool   typbyval;
	char   typalign;
	int    dims[1] = {nkept};
	int    lbs[1] = {1};
	Datum *values = palloc(sizeof(Datum) * Max(nkept, 1));
	bool  *nulls = palloc(sizeof(bool) * Max(nkept, 1));
	int    k = 0;

	for (int i = 0; i < ingest->n; i++)
		if (keep[i])
		{
			values[k] = ingest->values[c][i];
			nulls[k] = ingest->nulls[c][i];
			k++;
		}
	get_typlenbyvalalign(column_types[c], &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_md_array(values, nulls, 1, dims, lbs, column_types[c], typlen,
	                                          typbyval, typalign));
}

/* Judge the buffered rows (occurrences.c), then insert the new ones. */
static const char *
text_or_null(Datum value, bool isnull)
{
	return isnull ? NULL : TextDatumGetCString(value);
}

/* Note the buffered rows the verdict kept for the summaries. */
static void
summarise_buffered(Ingest *ingest, const BatchVerdict *verdict)
{
	for (int i = 0; i < ingest->n; i++)
	{
		SummaryRow r;

		if (!verdict->keep[i])
			continue;
		r.namespace =
		    text_or_null(ingest->values[COL_NAMESPACE][i], ingest->nulls[COL_NAMESPACE][i]);
		r.kind = text_or_null(ingest->values[COL_KIND][i], ingest->nulls[COL_KIND][i]);
		r.name = text_or_null(ingest->values[COL_NAME][i], ingest->nulls[COL_NAME][i]);
		r.type = text_or_null(ingest->values[COL_TYPE][i], ingest->nulls[COL_TYPE][i]);
		r.reason = text_or_null(ingest->values[COL_REASON][i], ingest->nulls[COL_REASON][i]);
		r.message = text_or_null(ingest->values[COL_MESSAGE][i], ingest->nulls[COL_MESSAGE][i]);
		r.source_host =
		    text_or_null(ingest->values[COL_SOURCE_HOST][i], ingest->nulls[COL_SOURCE_HOST][i]);
		r.resource_version = TextDatumGetCString(ingest->values[COL_RESOURCE_VERSION][i]);
		r.uid = *DatumGetUUIDP(ingest->values[COL_UID][i]);
		r.event_time = DatumGetTimestampTz(ingest->values[COL_EVENT_TIME][i]);
		r.first_time = ingest->nulls[COL_FIRST_TIME][i]
		                   ? r.event_time
		                   : DatumGetTimestampTz(ingest->values[COL_FIRST_TIME][i]);
		r.count = DatumGetInt32(ingest->values[COL_COUNT][i]);
		r.occurrences = verdict->occurrences[i];
		summary_batch_add(ingest->summaries, &r);
	}
}

/* Note the rows an INSERT ... RETURNING (insert_sql) wrote for the summaries; frees table. */
static void
summarise_returned(Ingest *ingest, SPITupleTable *table, uint64 n)
{
	for (uint64 i = 0; i < n; i++)
	{
		HeapTuple  tuple = table->vals[i];
		TupleDesc  desc = table->tupdesc;
		SummaryRow r;
		bool       isnull;
		Datum      v;

		r.event_time = DatumGetTimestampTz(SPI_getbinval(tuple, desc, 1, &isnull));
		v = SPI_getbinval(tuple, desc, 2, &isnull);
		r.namespace = text_or_null(v, isnull);
		v = SPI_getbinval(tuple, desc, 3, &isnull);
		r.kind = text_or_null(v, isnull);
		v = SPI_getbinval(tuple, desc, 4, &isnull);
		r.name = text_or_null(v, isnull);
		v = SPI_getbinval(tuple, desc, 5, &isnull);
		r.type = text_or_null(v, isnull);
		v = SPI_getbinval(tuple, desc, 6, &isnull);
		r.reason = text_or_null(v, isnull);
		v = SPI_getbinval(tuple, desc, 7, &isnull);
		r.message = text_or_null(v, isnull);
		r.resource_version = TextDatumGetCString(SPI_getbinval(tuple, desc, 8, &isnull));
		r.uid = *DatumGetUUIDP(SPI_getbinval(tuple, desc, 9, &isnull));
		r.first_time = DatumGetTimestampTz(SPI_getbinval(tuple, desc, 10, &isnull));
		r.count = DatumGetInt32(SPI_getbinval(tuple, desc, 11, &isnull));
		r.occurrences = DatumGetInt32(SPI_getbinval(tuple, desc, 12, &isnull));
		v = SPI_getbinval(tuple, desc, 13, &isnull);
		r.source_host = text_or_null(v, isnull);
		summary_batch_add(ingest->summaries, &r);
	}
	SPI_freetuptable(table);
}

static void
flush(Ingest *ingest)
{
	int           n = ingest->n;
	Datum         args[NUM_COLUMNS + 2];
	MemoryContext old;
	pg_uuid_t   **uids;
	text        **versions;
	TimestampTz  *times;
	int32        *counts;
	BatchVerdict  verdict;
	int           nkept = 0;
	Datum        *occurrences;
	RowWriter    *writer;
	uint64        stored = 0;

	if (n == 0)
		return;
	old = MemoryContextSwitchTo(ingest->batch_cxt);
	uids = palloc(sizeof(pg_uuid_t *) * n);
	versions = palloc(sizeof(text *) * n);
	times = palloc(sizeof(TimestampTz) * n);
	counts = palloc(sizeof(int32) * n);
	for (int i = 0; i < n; i++)
	{
		/* The decoder and ingest_copied() never let a key column be NULL. */
		if (ingest->nulls[COL_UID][i] || ingest->nulls[COL_RESOURCE_VERSION][i] ||
		    ingest->nulls[COL_EVENT_TIME][i] || ingest->nulls[COL_COUNT][i])
			elog(ERROR, "a row to store has a NULL key column");
		uids[i] = DatumGetUUIDP(ingest->values[COL_UID][i]);
		versions[i] = DatumGetTextPP(ingest->values[COL_RESOURCE_VERSION][i]);
		times[i] = DatumGetTimestampTz(ingest->values[COL_EVENT_TIME][i]);
		counts[i] = DatumGetInt32(ingest->values[COL_COUNT][i]);
	}
	verdict.keep = palloc(sizeof(bool) * n);
	verdict.occurrences = palloc(sizeof(int32) * n);
	occurrences_judge(ingest->cluster,
	                  &(BatchRows){n, uids, versions, times, counts, ingest->bounds}, &verdict);

	occurrences = palloc(sizeof(Datum) * n);
	for (int i = 0; i < n; i++)
		if (verdict.keep[i])
			occurrences[nkept++] = Int32GetDatum(verdict.occurrences[i]);
	if (nkept > 0 && (writer = row_writer_begin(ingest->cluster)) != NULL)
	{
		Datum row[NUM_COLUMNS];
		bool  row_nulls[NUM_COLUMNS];

		MemoryContextSwitchTo(old);
		for (int i = 0; i < n; i++)
		{
			if (!verdict.keep[i])
				continue;
			for (int c = 0; c < NUM_COLUMNS; c++)
			{
				row[c] = ingest->values[c][i];
				row_nulls[c] = ingest->nulls[c][i];
			}
			row_writer_put(writer, row, row_nulls, verdict.occurrences[i]);
			/* The newest of the rows really stored, for listeners. */
			ingest->counts.newest = Max(ingest->counts.newest, times[i]);
		}
		row_writer_end(writer);
		stored = nkept;
		MemoryContextSwitchTo(ingest->batch_cxt);
		summarise_buffered(ingest, &verdict);
		MemoryContextSwitchTo(old);
	}
	else if (nkept > 0)
	{
		/* Triggers, rules, row security: an INSERT statement honours them. */
		args[0] = CStringGetTextDatum(ingest->cluster);
		for (int c = 0; c < NUM_COLUMNS; c++)
			args[c + 1] = build_array(ingest, c, verdict.keep, nkept);
		args[NUM_COLUMNS + 1] = PointerGetDatum(
		    construct_array(occurrences, nkept, INT4OID, sizeof(int32), true, TYPALIGN_INT));
		MemoryContextSwitchTo(old);
		if (SPI_execute_plan(insert_plan, args, NULL, false, 0) != SPI_OK_INSERT_RETURNING)
			elog(ERROR, "could not insert into k8s_events.events");
		/* A BEFORE trigger may have skipped or changed rows: count and summarise what was written.
		 */
		stored = SPI_processed;
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			bool isnull;

			ingest->counts.newest =
			    Max(ingest->counts.newest,
			        DatumGetTimestampTz(
			            SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull)));
		}
		old = MemoryContextSwitchTo(ingest->batch_cxt);
		summarise_returned(ingest, SPI_tuptable, SPI_processed);
		MemoryContextSwitchTo(old);
	}
	else
		MemoryContextSwitchTo(old);

	ingest->counts.stored += stored;
	ingest->counts.duplicates += n - stored;
	ingest->n = 0;
	MemoryContextReset(ingest->batch_cxt);
}

/*
 * Account for the row just buffered, given the earliest time it mentions
 * (DT_NOBEGIN if unknown), and write the batch when it is full.
 */
static void
row_buffered(Ingest *ingest, TimestampTz earliest)
{
	/*
	 * Earlier observations of an event lie after the earliest time it
	 * mentions, give or take the skew between the clocks that wrote them;
	 * without a first time (a hand-made Event) they could lie anywhere.
	 */
	ingest->bounds[ingest->n] = earliest == DT_NOBEGIN ? DT_NOBEGIN : earliest - CLOCK_SKEW_SLACK;
	if (++ingest->n == ingest->capacity)
		flush(ingest);
}

static void
append_row(Ingest *ingest, json_t *event, const EventRow *row)
{
	MemoryContext old = MemoryContextSwitchTo(ingest->batch_cxt);
	TimestampTz   event_time = timestamptz_from_unix_usecs(row->event_time);
	TimestampTz   first_time = timestamptz_from_unix_usecs(row->first_time);

	set_datum(ingest, COL_UID, DirectFunctionCall1(uuid_in, CStringGetDatum(row->uid)));
	set_text(ingest, COL_RESOURCE_VERSION, row->resource_version);
	set_datum(ingest, COL_EVENT_TIME, TimestampTzGetDatum(event_time));
	set_datum(ingest, COL_FIRST_TIME, TimestampTzGetDatum(first_time));
	set_text(ingest, COL_NAMESPACE, row->namespace);
	set_text(ingest, COL_KIND, row->kind);
	set_text(ingest, COL_NAME, row->name);
	set_text(ingest, COL_TYPE, row->type);
	set_text(ingest, COL_REASON, row->reason);
	set_text(ingest, COL_MESSAGE, row->message);
	set_datum(ingest, COL_COUNT, Int32GetDatum((int32) row->count));
	set_text(ingest, COL_SOURCE_COMPONENT, row->source_component);
	set_text(ingest, COL_SOURCE_HOST, row->source_host);
	set_text(ingest, COL_REPORTING_CONTROLLER, row->reporting_controller);
	set_text(ingest, COL_REPORTING_INSTANCE, row->reporting_instance);
	set_text(ingest, COL_ACTION, row->action);
	set_datum(ingest, COL_EVENT, jsonb_from_json(event));
	MemoryContextSwitchTo(old);
	row_buffered(ingest, row->first_time_known ? timestamptz_from_unix_usecs(row->earliest_time)
	                                           : DT_NOBEGIN);
}

void
ingest_decoded(Ingest *ingest, const Datum *values, const bool *nulls, TimestampTz earliest)
{
	MemoryContext old = MemoryContextSwitchTo(ingest->batch_cxt);

	ingest->counts.received++;
	for (int c = 0; c < NUM_COLUMNS; c++)
	{
		ingest->nulls[c][ingest->n] = nulls[c];
		ingest->values[c][ingest->n] =
		    nulls[c] ? (Datum) 0 : datumCopy(values[c], ingest->typbyval[c], ingest->typlen[c]);
	}
	/*
	 * The decoder never stores a first_time after its event_time, nor an
	 * infinite one: retention and object_events() bound an object's rows by
	 * its first time.  A client's columns get the same rule.
	 */
	if (!nulls[COL_FIRST_TIME] && !nulls[COL_EVENT_TIME])
	{
		TimestampTz first = DatumGetTimestampTz(values[COL_FIRST_TIME]);
		TimestampTz when = DatumGetTimestampTz(values[COL_EVENT_TIME]);

		if (first > when || TIMESTAMP_NOT_FINITE(first))
			ingest->values[COL_FIRST_TIME][ingest->n] = TimestampTzGetDatum(when);
	}
	MemoryContextSwitchTo(old);
	row_buffered(ingest, earliest);
}

/* Events before the retention cutoff would be dropped with their partition anyway. */
bool
ingest_is_expired(const Ingest *ingest, TimestampTz event_time)
{
	return event_time < ingest->cutoff;
}

void
ingest_count_expired(Ingest *ingest)
{
	ingest->counts.received++;
	ingest->counts.expired++;
}

static bool
is_expired(const Ingest *ingest, const EventRow *row)
{
	return ingest_is_expired(ingest, timestamptz_from_unix_usecs(row->event_time));
}

void
ingest_reject_expired(Ingest *ingest)
{
	ingest->reject_expired = true;
}

/* Why an expired Event was not stored, for k8s_events.rejected. */
static char *
expired_reason(const EventRow *row)
{
	char when[RFC3339_BUFLEN];

	if (!rfc3339_format(row->event_time, when))
		strlcpy(when, "(out of range)", sizeof(when));
	return psprintf("event_time %s is older than k8s_events.retention (%s): not stored; is the "
	                "API server's clock right?",
	                when, k8s_events_retention);
}

static void
store_item(void *arg, PayloadItemKind kind, json_t *item, json_t *event, const char *reason)
{
	Ingest  *ingest = arg;
	EventRow row;
	char     err[EVENT_ERR_LEN];

	CHECK_FOR_INTERRUPTS();
	ingest->counts.received++;
	switch (kind)
	{
		case ITEM_INVALID:
			reject_json(ingest, item, reason);
			break;
		case ITEM_DELETED:
			ingest->counts.deleted++;
			break;
		case ITEM_BOOKMARK:
			ingest->counts.bookmarks++;
			break;
		case ITEM_ERROR_FRAME:
			ingest->counts.error_frames++;
			break;
		case ITEM_EVENT:
			if (!event_decode(event, &row, err, sizeof(err)))
				reject_json(ingest, item, err);
			else if (!is_expired(ingest, &row))
				append_row(ingest, event, &row);
			else if (ingest->reject_expired)
				reject_json(ingest, item, expired_reason(&row));
			else
				ingest->counts.expired++;
			break;
	}
}

typedef struct TimeList
{
	const Ingest *ingest;
	TimestampTz  *times;
	int           n;
	int           capacity;
} TimeList;

static void
collect_time(void *arg, PayloadItemKind kind, json_t *item, json_t *event, const char *reason)
{
	TimeList *list = arg;
	EventRow  row;
	char      err[EVENT_ERR_LEN];

	if (kind != ITEM_EVENT || !event_decode(event, &row, err, sizeof(err)) ||
	    is_expired(list->ingest, &row))
		return;
	/* Skip repeats of the previous time; partitions_ensure finds the rest cheaply. */
	if (list->n > 0 && list->times[list->n - 1] == timestamptz_from_unix_usecs(row.event_time))
		return;
	if (list->n == list->capacity)
	{
		list->capacity *= 2;
		list->times = repalloc_huge(list->times, sizeof(TimestampTz) * list->capacity);
	}
	list->times[list->n++] = timestamptz_from_unix_usecs(row.event_time);
}

void
ingest_payload(Ingest *ingest, json_t *payload)
{
	TimeList list = {ingest, palloc(sizeof(TimestampTz) * 64), 0, 64};

	/* First every partition the payload needs, then the rows (see the file header). */
	payload_walk(payload, collect_time, &list);
	partitions_ensure(list.times, list.n);
	pfree(list.times);

	payload_walk(payload, store_item, ingest);
}

IngestCounts
ingest_end(Ingest *ingest)
{
	flush(ingest);
	summary_batch_write(ingest->summaries, ingest->cluster);
	if (ingest->counts.stored > 0 && !k8s_events_notify_details)
	{
		/*
		 * Listeners (the dashboard) learn that rows arrived.  Any role can
		 * LISTEN, so no more than that unless k8s_events.notify_details.
		 */
		Async_Notify("k8s_events", "");
	}
	else if (ingest->counts.stored > 0)
	{
		char    newest[RFC3339_BUFLEN];
		json_t *note;
		char   *text;

		if (!rfc3339_format(unix_usecs_from_timestamptz(ingest->counts.newest), newest))
			newest[0] = '\0';
		/* Which cluster, how many rows, and how recent they are. */
		note = json_pack("{s:s, s:I, s:s}", "cluster", ingest->cluster, "rows",
		                 (json_int_t) ingest->counts.stored, "newest", newest);
		text = json_to_cstring(note);
		Async_Notify("k8s_events", text);
		json_decref(note);
		pfree(text);
	}
	MemoryContextDelete(ingest->batch_cxt);
	return ingest->counts;
}

static IngestCounts
ingest_sql_call(FunctionCallInfo fcinfo)
{
	Jsonb       *payload = PG_GETARG_JSONB_P(0);
	char        *cluster = text_to_cstring(PG_GETARG_TEXT_PP(1));
	Ingest      *ingest;
	json_t      *root;
	char        *error;
	IngestCounts counts;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ingest = ingest_begin(cluster, "ingest()");
	root = json_from_jsonb(payload, &error);
	if (root == NULL)
	{
		char *text = JsonbToCString(NULL, &payload->root, VARSIZE(payload));

		ingest_reject_raw(ingest, text, strlen(text), error);
	}
	else
		ingest_payload(ingest, root);
	counts = ingest_end(ingest);
	SPI_finish();
	return counts;
}

/* ingest(payload jsonb, cluster text) → bigint: rows newly stored. */
Datum
k8s_ingest(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(ingest_sql_call(fcinfo).stored);
}

Datum
ingest_counts_datum(FunctionCallInfo fcinfo, const IngestCounts *counts)
{
	static const struct
	{
		const char *name;
		size_t      offset;
	} fields[] = {
	    {"received", offsetof(IngestCounts, received)},
	    {"stored", offsetof(IngestCounts, stored)},
	    {"duplicates", offsetof(IngestCounts, duplicates)},
	    {"rejected", offsetof(IngestCounts, rejected)},
	    {"expired", offsetof(IngestCounts, expired)},
	    {"deleted", offsetof(IngestCounts, deleted)},
	    {"bookmarks", offsetof(IngestCounts, bookmarks)},
	    {"error_frames", offsetof(IngestCounts, error_frames)},
	};
	TupleDesc tupdesc;
	Datum    *values;
	bool     *nulls;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values = palloc0(sizeof(Datum) * tupdesc->natts);
	nulls = palloc(sizeof(bool) * tupdesc->natts);
	for (int i = 0; i < tupdesc->natts; i++)
	{
		const char *name = NameStr(TupleDescAttr(tupdesc, i)->attname);

		nulls[i] = true;
		if (strcmp(name, "newest") == 0 && counts->stored > 0)
		{
			values[i] = TimestampTzGetDatum(counts->newest);
			nulls[i] = false;
		}
		for (size_t f = 0; f < lengthof(fields); f++)
			if (strcmp(name, fields[f].name) == 0)
			{
				values[i] =
				    Int64GetDatum(*(const int64 *) ((const char *) counts + fields[f].offset));
				nulls[i] = false;
			}
	}
	return HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls));
}

/* ingest_report(payload jsonb, cluster text) → record: where every item went. */
Datum
k8s_ingest_report(PG_FUNCTION_ARGS)
{
	IngestCounts counts = ingest_sql_call(fcinfo);

	PG_RETURN_DATUM(ingest_counts_datum(fcinfo, &counts));
}
