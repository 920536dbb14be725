/*
 * copied.c
 *	  Storing rows that a client decoded and sent with COPY: k8s-events load.
 *
 * Bulk loading at COPY speed and through the one write path: the client
 * decodes each Event with core/event_decode.c (the same code the server runs),
 * COPYs the rows into its session's temporary table pg_temp.k8s_events_load
 * (made by k8s_events.create_load_table()), and calls
 * k8s_events.ingest_copied(cluster), which hands the rows to ingest.c exactly
 * as ingest() would have: same key, occurrences, retention and rejects.  The
 * JSON is parsed once, by COPY.
 *
 * The client's columns are hints, never the truth: whoever fills the load
 * table could write any uid, time or earliest time beside any Event, and
 * those pick the row's key, its partition and which rows count as earlier
 * observations.  So each Event is decoded again here, in place in its jsonb,
 * with the decoder ingest() uses, and a row whose columns say anything else
 * is rejected with the column that differs.
 *
 * ingest_copied() runs as the extension owner (writers may not insert into
 * the events table themselves), so it reads nothing but a plain temporary
 * table of the caller's own session: whatever is in it, the session put there.
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "pg_builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/uuid.h"

#include "core/event_decode.h"
#include "ingest.h"
#include "jsonb_reader.h"
#include "partitions.h"
#include "sql_function.h"
#include "unix_time.h"

SQL_FUNCTION(k8s_ingest_copied);

#define LOAD_TABLE "k8s_events_load"

/* The load table's columns: the decoded row, then what a reject needs. */
enum
{
	LT_EARLIEST =
	    NUM_COLUMNS, /* earliest time the Event mentions; NULL if its first time is unknown */
	LT_ERROR,        /* set for an item the client could not decode */
	LT_PAYLOAD,      /* that item as it came */
	LT_ORD,          /* the item's place in the input: rows are stored in this order */
	LT_NUM
};

static const struct
{
	const char *name;
	Oid         type;
} load_columns[LT_NUM] = {
    [COL_UID] = {"uid", UUIDOID},
    [COL_RESOURCE_VERSION] = {"resource_version", TEXTOID},
    [COL_EVENT_TIME] = {"event_time", TIMESTAMPTZOID},
    [COL_FIRST_TIME] = {"first_time", TIMESTAMPTZOID},
    [COL_NAMESPACE] = {"namespace", TEXTOID},
    [COL_KIND] = {"kind", TEXTOID},
    [COL_NAME] = {"name", TEXTOID},
    [COL_TYPE] = {"type", TEXTOID},
    [COL_REASON] = {"reason", TEXTOID},
    [COL_MESSAGE] = {"message", TEXTOID},
    [COL_COUNT] = {"count", INT4OID},
    [COL_SOURCE_COMPONENT] = {"source_component", TEXTOID},
    [COL_SOURCE_HOST] = {"source_host", TEXTOID},
    [COL_REPORTING_CONTROLLER] = {"reporting_controller", TEXTOID},
    [COL_REPORTING_INSTANCE] = {"reporting_instance", TEXTOID},
    [COL_ACTION] = {"action", TEXTOID},
    [COL_EVENT] = {"event", JSONBOID},
    [LT_EARLIEST] = {"earliest", TIMESTAMPTZOID},
    [LT_ERROR] = {"error", TEXTOID},
    [LT_PAYLOAD] = {"payload", TEXTOID},
    [LT_ORD] = {"ord", INT8OID},
};

/*
 * The session's load table, opened; an error unless it is a plain temporary
 * table of this session with exactly the columns create_load_table() makes.
 */
static Relation
open_load_table(void)
{
	RangeVar *rv = makeRangeVar("pg_temp", LOAD_TABLE, -1);
	Oid       relid = RangeVarGetRelid(rv, AccessShareLock, true);
	Relation  rel;
	TupleDesc desc;

	if (!OidIsValid(relid))
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
		                errmsg("this session has no table pg_temp.%s", LOAD_TABLE),
		                errhint("Call k8s_events.create_load_table() and COPY the rows into it "
		                        "first, in the same session.")));
	rel = table_open(relid, NoLock);
	if (rel->rd_rel->relkind != RELKIND_RELATION ||
	    rel->rd_rel->relpersistence != RELPERSISTENCE_TEMP ||
	    !isTempNamespace(RelationGetNamespace(rel)))
		ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
		                errmsg("pg_temp.%s is not a temporary table of this session", LOAD_TABLE)));
	desc = RelationGetDescr(rel);
	for (int c = 0; c < LT_NUM; c++)
	{
		Form_pg_attribute att = c < desc->natts ? TupleDescAttr(desc, c) : NULL;

		if (att == NULL || att->attisdropped ||
		    strcmp(NameStr(att->attname), load_columns[c].name) != 0 ||
		    att->atttypid != load_columns[c].type)
			ereport(ERROR,
			        (errcode(ERRCODE_DATATYPE_MISMATCH),
			         errmsg("pg_temp.%s does not have the columns of a load table", LOAD_TABLE),
			         errdetail("Column %d should be \"%s\" of type %s.", c + 1,
			                   load_columns[c].name, format_type_be(load_columns[c].type)),
			         errhint("Drop it and call k8s_events.create_load_table().")));
	}
	if (desc->natts != LT_NUM)
		ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
		                errmsg("pg_temp.%s does not have the columns of a load table", LOAD_TABLE),
		                errdetail("It has %d columns instead of %d.", desc->natts, LT_NUM),
		                errhint("Drop it and call k8s_events.create_load_table().")));
	return rel;
}

/* Where a row of the load table is, and where it came in the input. */
typedef struct RowPlace
{
	int64           ord;  /* the ord column; rows without one after those with */
	int64           seen; /* the order the scan found it in, to break ties */
	ItemPointerData tid;
} RowPlace;

static int
row_place_cmp(const void *a, const void *b)
{
	const RowPlace *x = a;
	const RowPlace *y = b;

	if (x->ord != y->ord)
		return x->ord < y->ord ? -1 : 1;
	return x->seen < y->seen ? -1 : x->seen > y->seen;
}

/*
 * Find every row, in input order, and make every partition they need before
 * the first is written.  The heap does not keep the order rows were copied in
 * (a row that fits goes to an earlier page with room), and occurrences depend
 * on it: hence the ord column, and a sort of the rows' places, not of the rows.
 */
static RowPlace *
place_rows(Relation rel, Ingest *ingest, int64 *nrows)
{
	TableScanDesc   scan = table_beginscan(rel, GetActiveSnapshot(), 0, NULL);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	int64           capacity = 1024;
	int64           n = 0;
	RowPlace       *places = palloc(sizeof(RowPlace) * capacity);
	int             times_capacity = 64;
	int             ntimes = 0;
	TimestampTz    *times = palloc(sizeof(TimestampTz) * times_capacity);

	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool        isnull;
		Datum       ord = slot_getattr(slot, LT_ORD + 1, &isnull);
		TimestampTz t;

		CHECK_FOR_INTERRUPTS();
		if (n == capacity)
		{
			capacity *= 2;
			places = repalloc_huge(places, sizeof(RowPlace) * capacity);
		}
		places[n].ord = isnull ? PG_INT64_MAX : DatumGetInt64(ord);
		places[n].seen = n;
		places[n].tid = slot->tts_tid;
		n++;

		t = DatumGetTimestampTz(slot_getattr(slot, COL_EVENT_TIME + 1, &isnull));
		/* Repeats of the previous time are common; partitions_ensure finds the rest cheaply. */
		if (isnull || ingest_is_expired(ingest, t) || (ntimes > 0 && times[ntimes - 1] == t))
			continue;
		if (ntimes == times_capacity)
		{
			times_capacity *= 2;
			times = repalloc_huge(times, sizeof(TimestampTz) * times_capacity);
		}
		times[ntimes++] = t;
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	partitions_ensure(times, ntimes);
	pfree(times);
	qsort(places, n, sizeof(RowPlace), row_place_cmp);
	*nrows = n;
	return places;
}

/* A text column against what the decoder read: both absent, or the same bytes. */
static bool
same_text(TupleTableSlot *slot, int c, const char *expected)
{
	text *t;

	if (slot->tts_isnull[c] || expected == NULL)
		return slot->tts_isnull[c] && expected == NULL;
	t = DatumGetTextPP(slot->tts_values[c]);
	return VARSIZE_ANY_EXHDR(t) == strlen(expected) &&
	       memcmp(VARDATA_ANY(t), expected, VARSIZE_ANY_EXHDR(t)) == 0;
}

static bool
same_time(TupleTableSlot *slot, int c, int64 unix_usecs)
{
	return !slot->tts_isnull[c] &&
	       DatumGetTimestampTz(slot->tts_values[c]) == timestamptz_from_unix_usecs(unix_usecs);
}

/*
 * NULL when the row's columns are what the server's decoder reads from its
 * event; otherwise why not (the first column that differs), in the current
 * memory context.
 */
static const char *
row_differs(TupleTableSlot *slot)
{
	JsonbValue  root;
	EventRow    row;
	char        err[EVENT_ERR_LEN];
	pg_uuid_t  *uid;
	const char *column = NULL;

	jsonb_reader_root(DatumGetJsonbP(slot->tts_values[COL_EVENT]), &root);
	if (!reader_event_decode(&jsonb_reader, &root, &row, err, sizeof(err)))
		return psprintf("the event does not decode: %s", err);
	uid = DatumGetUUIDP(DirectFunctionCall1(uuid_in, CStringGetDatum(row.uid)));
	if (memcmp(DatumGetUUIDP(slot->tts_values[COL_UID]), uid, sizeof(pg_uuid_t)) != 0)
		column = "uid";
	else if (!same_text(slot, COL_RESOURCE_VERSION, row.resource_version))
		column = "resource_version";
	else if (!same_time(slot, COL_EVENT_TIME, row.event_time))
		column = "event_time";
	/* ingest_decoded() takes a first time after the event time as the event time. */
	else if (!same_time(slot, COL_FIRST_TIME, row.first_time) &&
	         !(row.first_time == row.event_time &&
	           DatumGetTimestampTz(slot->tts_values[COL_FIRST_TIME]) >
	               DatumGetTimestampTz(slot->tts_values[COL_EVENT_TIME])))
		column = "first_time";
	else if (row.first_time_known ? !same_time(slot, LT_EARLIEST, row.earliest_time)
	                              : !slot->tts_isnull[LT_EARLIEST])
		column = "earliest";
	else if (DatumGetInt32(slot->tts_values[COL_COUNT]) != (int32) row.count)
		column = "count";
	else if (!same_text(slot, COL_NAMESPACE, row.namespace))
		column = "namespace";
	else if (!same_text(slot, COL_KIND, row.kind))
		column = "kind";
	else if (!same_text(slot, COL_NAME, row.name))
		column = "name";
	else if (!same_text(slot, COL_TYPE, row.type))
		column = "type";
	else if (!same_text(slot, COL_REASON, row.reason))
		column = "reason";
	else if (!same_text(slot, COL_MESSAGE, row.message))
		column = "message";
	else if (!same_text(slot, COL_SOURCE_COMPONENT, row.source_component))
		column = "source_component";
	else if (!same_text(slot, COL_SOURCE_HOST, row.source_host))
		column = "source_host";
	else if (!same_text(slot, COL_REPORTING_CONTROLLER, row.reporting_controller))
		column = "reporting_controller";
	else if (!same_text(slot, COL_REPORTING_INSTANCE, row.reporting_instance))
		column = "reporting_instance";
	else if (!same_text(slot, COL_ACTION, row.action))
		column = "action";
	if (column == NULL)
		return NULL;
	return psprintf("the row's %s is not what its event says (uid %s, resourceVersion \"%.64s\")",
	                column, row.uid, row.resource_version);
}

static void
store_rows(Relation rel, Ingest *ingest, const RowPlace *places, int64 nrows)
{
	MemoryContext row_cxt =
	    AllocSetContextCreate(CurrentMemoryContext, "k8s_events load row", ALLOCSET_SMALL_SIZES);
	TupleTableSlot *slot = table_slot_create(rel, NULL);

	for (int64 i = 0; i < nrows; i++)
	{
		ItemPointerData tid = places[i].tid;

		CHECK_FOR_INTERRUPTS();
		if (!table_tuple_fetch_row_version(rel, &tid, GetActiveSnapshot(), slot))
			elog(ERROR, "a row of pg_temp.%s went missing", LOAD_TABLE);
		slot_getallattrs(slot);
		if (!slot->tts_isnull[LT_ERROR])
		{
			const char *payload = slot->tts_isnull[LT_PAYLOAD]
			                          ? ""
			                          : TextDatumGetCString(slot->tts_values[LT_PAYLOAD]);

			ingest_reject_raw(ingest, payload, strlen(payload),
			                  TextDatumGetCString(slot->tts_values[LT_ERROR]));
			continue;
		}
		for (int c = 0; c < NUM_COLUMNS; c++)
			if (slot->tts_isnull[c] &&
			    (c == COL_UID || c == COL_RESOURCE_VERSION || c == COL_EVENT_TIME ||
			     c == COL_FIRST_TIME || c == COL_COUNT || c == COL_EVENT))
				ereport(ERROR, (errcode(ERRCODE_NOT_NULL_VIOLATION),
				                errmsg("a row of pg_temp.%s has no %s and no error", LOAD_TABLE,
				                       load_columns[c].name)));
		{
			MemoryContext old = MemoryContextSwitchTo(row_cxt);
			const char   *why = row_differs(slot);

			MemoryContextSwitchTo(old);
			if (why != NULL)
			{
				Jsonb *event = DatumGetJsonbP(slot->tts_values[COL_EVENT]);
				char  *text = JsonbToCString(NULL, &event->root, VARSIZE(event));

				ingest_reject_raw(ingest, text, strlen(text), why);
				MemoryContextReset(row_cxt);
				continue;
			}
			MemoryContextReset(row_cxt);
		}
		if (ingest_is_expired(ingest, DatumGetTimestampTz(slot->tts_values[COL_EVENT_TIME])))
			ingest_count_expired(ingest);
		else
			ingest_decoded(ingest, slot->tts_values, slot->tts_isnull,
			               slot->tts_isnull[LT_EARLIEST]
			                   ? DT_NOBEGIN
			                   : DatumGetTimestampTz(slot->tts_values[LT_EARLIEST]));
	}
	ExecDropSingleTupleTableSlot(slot);
	MemoryContextDelete(row_cxt);
}

/*
 * ingest_copied(cluster text, source text) → record: store the rows of
 * pg_temp.k8s_events_load, and say where they went.
 */
Datum
k8s_ingest_copied(PG_FUNCTION_ARGS)
{
	char        *cluster = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char        *source = text_to_cstring(PG_GETARG_TEXT_PP(1));
	Relation     rel;
	Ingest      *ingest;
	IngestCounts counts;
	RowPlace    *places;
	int64        nrows;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ingest = ingest_begin(cluster, source);
	rel = open_load_table();
	places = place_rows(rel, ingest, &nrows);
	store_rows(rel, ingest, places, nrows);
	table_close(rel, NoLock);
	counts = ingest_end(ingest);
	SPI_finish();
	PG_RETURN_DATUM(ingest_counts_datum(fcinfo, &counts));
}
