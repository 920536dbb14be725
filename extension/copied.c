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
 * JSON is parsed once, by COPY, and the decoding runs in the client, beside
 * the server rather than inside it.
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
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "ingest.h"
#include "partitions.h"
#include "sql_function.h"

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

static void
store_rows(Relation rel, Ingest *ingest, const RowPlace *places, int64 nrows)
{
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

			ingest_reject_raw(ingest, payload, TextDatumGetCString(slot->tts_values[LT_ERROR]));
			continue;
		}
		for (int c = 0; c < NUM_COLUMNS; c++)
			if (slot->tts_isnull[c] &&
			    (c == COL_UID || c == COL_RESOURCE_VERSION || c == COL_EVENT_TIME ||
			     c == COL_FIRST_TIME || c == COL_COUNT || c == COL_EVENT))
				ereport(ERROR, (errcode(ERRCODE_NOT_NULL_VIOLATION),
				                errmsg("a row of pg_temp.%s has no %s and no error", LOAD_TABLE,
				                       load_columns[c].name)));
		if (ingest_is_expired(ingest, DatumGetTimestampTz(slot->tts_values[COL_EVENT_TIME])))
			ingest_count_expired(ingest);
		else
			ingest_decoded(ingest, slot->tts_values, slot->tts_isnull,
			               slot->tts_isnull[LT_EARLIEST]
			                   ? DT_NOBEGIN
			                   : DatumGetTimestampTz(slot->tts_values[LT_EARLIEST]));
	}
	ExecDropSingleTupleTableSlot(slot);
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
