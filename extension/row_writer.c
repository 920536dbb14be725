/*
 * row_writer.c
 *	  Writing judged rows into k8s_events.events the way COPY does.
 *
 * The store step of a bulk load is serial (one writer per cluster), so its
 * cost is the load's speed.  An INSERT over unnest()ed arrays copied every
 * row three times (into the arrays, out of them, into the function scan's
 * tuplestore) and paid the executor's per-row overhead; here each row goes
 * from the caller's Datums into a slot, is routed to its partition and
 * checked against the table's constraints, and rows of one partition are
 * written together (table_multi_insert: one WAL record per page, not per row)
 * before their index entries, with the executor's own routines, as COPY
 * FROM does.
 *
 * Triggers are the one thing COPY does that this does not, and rules and row
 * security are beyond COPY too: when the table or any partition has triggers,
 * the table has rules or row security applies, or a partition is not a plain
 * table, row_writer_begin() says so and the caller INSERTs through SPI instead.
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_trigger.h"
#include "executor/execPartition.h"
#include "executor/executor.h"
#include "executor/nodeModifyTable.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "partitioning/partdesc.h"
#include "pg_builtins.h"
#include "rewrite/rewriteHandler.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "partitions.h"
#include "row_writer.h"

/* The table's columns the caller gives, by IngestColumn, then the two it adds. */
static const char *const given_columns[NUM_COLUMNS + 2] = {
    [COL_UID] = "uid",
    [COL_RESOURCE_VERSION] = "resource_version",
    [COL_EVENT_TIME] = "event_time",
    [COL_FIRST_TIME] = "first_time",
    [COL_NAMESPACE] = "namespace",
    [COL_KIND] = "kind",
    [COL_NAME] = "name",
    [COL_TYPE] = "type",
    [COL_REASON] = "reason",
    [COL_MESSAGE] = "message",
    [COL_COUNT] = "count",
    [COL_SOURCE_COMPONENT] = "source_component",
    [COL_SOURCE_HOST] = "source_host",
    [COL_REPORTING_CONTROLLER] = "reporting_controller",
    [COL_REPORTING_INSTANCE] = "reporting_instance",
    [COL_ACTION] = "action",
    [COL_EVENT] = "event",
    [NUM_COLUMNS] = "cluster",
    [NUM_COLUMNS + 1] = "occurrences",
};

/*
 * Rows written at a time, as COPY FROM does (copyfrom.c): up to 1000 rows or
 * 64 kB, kept apart by partition (a re-list sorted by object mixes days), the
 * least recently used partition's written first when more are mixed.
 */
#define ROWS_PER_WRITE       1000
#define BYTES_PER_WRITE      (64 * 1024)
#define PARTITIONS_PER_WRITE 32

/* The rows waiting to be written to one partition. */
typedef struct PartitionBuffer
{
	ResultRelInfo  *part; /* NULL: unused */
	TupleTableSlot *slots[ROWS_PER_WRITE];
	int             nrows;
	int             nslots; /* slots made so far, for this partition */
	Size            bytes;
	uint64          last_used;
} PartitionBuffer;

struct RowWriter
{
	EState                *estate;
	ResultRelInfo         *root;
	ModifyTableState      *mtstate;
	PartitionTupleRouting *proute;
	TupleTableSlot        *slot;                   /* a row of the parent */
	int                    attno[NUM_COLUMNS + 2]; /* where each given column goes (0-based) */
	int                    ndefaults;              /* columns left to their DEFAULT (ingested_at) */
	int                   *default_attno;
	ExprState            **default_expr;
	Datum                  cluster;
	CommandId              cid;
	BulkInsertState        bistate;
	MemoryContext          write_cxt; /* reset after each row's index entries */
	PartitionBuffer        buffers[PARTITIONS_PER_WRITE];
	int                    pending_rows; /* in all buffers */
	Size                   pending_bytes;
	uint64                 rows_put; /* a clock for last_used */
};

/*
 * Whether the relation has triggers.  pg_class.relhastriggers says only that
 * it may have (VACUUM clears it after the last is dropped): pg_trigger decides.
 */
static bool
has_triggers(Oid relid, bool may_have)
{
	Relation    triggers;
	ScanKeyData key;
	SysScanDesc scan;
	bool        found;

	if (!may_have)
		return false;
	triggers = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ,
	            ObjectIdGetDatum(relid));
	scan = systable_beginscan(triggers, TriggerRelidNameIndexId, true, NULL, 1, &key);
	found = HeapTupleIsValid(systable_getnext(scan));
	systable_endscan(scan);
	table_close(triggers, AccessShareLock);
	return found;
}

static bool
partition_may_have_triggers(Oid relid)
{
	HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	bool      result;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	result = ((Form_pg_class) GETSTRUCT(tuple))->relhastriggers;
	ReleaseSysCache(tuple);
	return result;
}

/* Whether an INSERT would do more than route, check and index: triggers, rules, row security. */
static bool
needs_full_insert(Relation parent)
{
	PartitionDesc desc = RelationGetPartitionDesc(parent, false);

	if (parent->rd_rel->relhasrules ||
	    check_enable_rls(RelationGetRelid(parent), InvalidOid, false) == RLS_ENABLED)
		return true;
	if (has_triggers(RelationGetRelid(parent), parent->rd_rel->relhastriggers))
		return true;
	for (int i = 0; i < desc->nparts; i++)
		if (has_triggers(desc->oids[i], partition_may_have_triggers(desc->oids[i])))
			return true;
	return false;
}

/* Whether every partition is a plain table (not foreign, not partitioned again). */
static bool
partitions_are_tables(Relation parent)
{
	PartitionDesc desc = RelationGetPartitionDesc(parent, false);

	for (int i = 0; i < desc->nparts; i++)
		if (get_rel_relkind(desc->oids[i]) != RELKIND_RELATION)
			return false;
	return true;
}

/* The executor state COPY FROM sets up for a partitioned table (see copyfrom.c). */
static void
init_executor(RowWriter *w, Relation parent)
{
	RangeTblEntry *rte = makeNode(RangeTblEntry);

	rte->rtekind = RTE_RELATION;
	rte->relid = RelationGetRelid(parent);
	rte->relkind = parent->rd_rel->relkind;
	rte->rellockmode = RowExclusiveLock;
	rte->requiredPerms = ACL_INSERT;

	w->estate = CreateExecutorState();
	w->estate->es_snapshot = GetActiveSnapshot();
	w->cid = GetCurrentCommandId(true);
	w->estate->es_output_cid = w->cid;
	/* As DoCopy does: the table's INSERT privilege, and any ExecutorCheckPerms_hook. */
	ExecCheckRTPerms(list_make1(rte), true);
	ExecInitRangeTable(w->estate, list_make1(rte));
	w->root = makeNode(ResultRelInfo);
	ExecInitResultRelation(w->estate, w->root, 1);
	CheckValidResultRel(w->root, CMD_INSERT);

	w->mtstate = makeNode(ModifyTableState);
	w->mtstate->ps.plan = NULL;
	w->mtstate->ps.state = w->estate;
	w->mtstate->operation = CMD_INSERT;
	w->mtstate->mt_nrels = 1;
	w->mtstate->resultRelInfo = w->root;
	w->mtstate->rootResultRelInfo = w->root;
	w->proute = ExecSetupPartitionTupleRouting(w->estate, parent);
	w->slot = ExecInitExtraTupleSlot(w->estate, RelationGetDescr(parent), &TTSOpsVirtual);
}

/* Where each given column goes, and the DEFAULT of every other one. */
static void
map_columns(RowWriter *w, Relation parent)
{
	TupleDesc desc = RelationGetDescr(parent);
	bool     *given = palloc0(sizeof(bool) * desc->natts);

	for (int c = 0; c < NUM_COLUMNS + 2; c++)
	{
		AttrNumber attnum = get_attnum(RelationGetRelid(parent), given_columns[c]);

		if (attnum <= 0)
			elog(ERROR, "k8s_events.events has no column \"%s\"", given_columns[c]);
		w->attno[c] = attnum - 1;
		given[attnum - 1] = true;
	}
	w->default_attno = palloc(sizeof(int) * desc->natts);
	w->default_expr = palloc(sizeof(ExprState *) * desc->natts);
	w->ndefaults = 0;
	for (int a = 0; a < desc->natts; a++)
	{
		Node *expr;

		/* Stored generated columns are computed for each partition (row_writer_put). */
		if (given[a] || TupleDescAttr(desc, a)->attisdropped ||
		    TupleDescAttr(desc, a)->attgenerated)
			continue;
		expr = build_column_default(parent, a + 1);
		if (expr == NULL)
			continue;
		w->default_attno[w->ndefaults] = a;
		w->default_expr[w->ndefaults] = ExecPrepareExpr((Expr *) expr, w->estate);
		w->ndefaults++;
	}
	pfree(given);
}

RowWriter *
row_writer_begin(const char *cluster)
{
	Relation   parent = table_open(partitions_parent_oid(), RowExclusiveLock);
	RowWriter *w;

	if (needs_full_insert(parent) || !partitions_are_tables(parent))
	{
		table_close(parent, NoLock);
		return NULL;
	}
	w = palloc0(sizeof(RowWriter));
	init_executor(w, parent);
	map_columns(w, parent);
	w->cluster = CStringGetTextDatum(cluster);
	w->bistate = GetBulkInsertState();
	w->write_cxt = AllocSetContextCreate(w->estate->es_query_cxt, "k8s_events row writer",
	                                     ALLOCSET_DEFAULT_SIZES);
	/* The executor opened its own reference; ours goes, the lock stays until commit. */
	table_close(parent, NoLock);
	return w;
}

/* Write a partition's waiting rows, then their index entries. */
static void
write_buffer(RowWriter *w, PartitionBuffer *buffer)
{
	ResultRelInfo *part = buffer->part;
	MemoryContext  old;

	if (buffer->nrows == 0)
		return;
	old = MemoryContextSwitchTo(w->write_cxt);
	/* The bulk-insert state pins the last page it wrote, maybe of another partition. */
	ReleaseBulkInsertStatePin(w->bistate);
	table_multi_insert(part->ri_RelationDesc, buffer->slots, buffer->nrows, w->cid, 0, w->bistate);
	for (int i = 0; i < buffer->nrows; i++)
	{
		if (part->ri_NumIndices > 0)
			ExecInsertIndexTuples(part, buffer->slots[i], w->estate, false, false, NULL, NIL);
		ExecClearTuple(buffer->slots[i]);
		MemoryContextReset(w->write_cxt);
	}
	MemoryContextSwitchTo(old);
	w->pending_rows -= buffer->nrows;
	w->pending_bytes -= buffer->bytes;
	buffer->nrows = 0;
	buffer->bytes = 0;
}

static void
write_all(RowWriter *w)
{
	for (int b = 0; b < PARTITIONS_PER_WRITE; b++)
		write_buffer(w, &w->buffers[b]);
}

/* Write what waits for the buffer's partition, and free the buffer for another. */
static void
release_buffer(RowWriter *w, PartitionBuffer *buffer)
{
	if (buffer->part == NULL)
		return;
	write_buffer(w, buffer);
	/* Its slots were made for this partition's tuple descriptor. */
	for (int i = 0; i < buffer->nslots; i++)
		ExecDropSingleTupleTableSlot(buffer->slots[i]);
	buffer->nslots = 0;
	table_finish_bulk_insert(buffer->part->ri_RelationDesc, 0);
	buffer->part = NULL;
}

/* The buffer of the partition: its own, a free one, or the least recently used one. */
static PartitionBuffer *
buffer_for(RowWriter *w, ResultRelInfo *part)
{
	PartitionBuffer *buffer = NULL;

	w->rows_put++;
	for (int b = 0; b < PARTITIONS_PER_WRITE; b++)
	{
		PartitionBuffer *candidate = &w->buffers[b];

		if (candidate->part == part)
		{
			candidate->last_used = w->rows_put;
			return candidate;
		}
		if (buffer == NULL || (buffer->part != NULL && (candidate->part == NULL ||
		                                                candidate->last_used < buffer->last_used)))
			buffer = candidate;
	}
	release_buffer(w, buffer);
	buffer->part = part;
	buffer->last_used = w->rows_put;
	return buffer;
}

void
row_writer_put(RowWriter *w, const Datum *values, const bool *nulls, int32 occurrences)
{
	EState             *estate = w->estate;
	TupleTableSlot     *slot = w->slot;
	ExprContext        *econtext = GetPerTupleExprContext(estate);
	MemoryContext       old;
	ResultRelInfo      *part;
	TupleConversionMap *map;
	PartitionBuffer    *buffer;
	Relation            rel;
	Size                size;

	CHECK_FOR_INTERRUPTS();
	ResetPerTupleExprContext(estate);
	old = MemoryContextSwitchTo(GetPerTupleMemoryContext(estate));
	ExecClearTuple(slot);
	memset(slot->tts_isnull, true, sizeof(bool) * slot->tts_tupleDescriptor->natts);
	for (int c = 0; c < NUM_COLUMNS; c++)
	{
		slot->tts_values[w->attno[c]] = values[c];
		slot->tts_isnull[w->attno[c]] = nulls[c];
	}
	slot->tts_values[w->attno[NUM_COLUMNS]] = w->cluster;
	slot->tts_isnull[w->attno[NUM_COLUMNS]] = false;
	slot->tts_values[w->attno[NUM_COLUMNS + 1]] = Int32GetDatum(occurrences);
	slot->tts_isnull[w->attno[NUM_COLUMNS + 1]] = false;
	for (int d = 0; d < w->ndefaults; d++)
		slot->tts_values[w->default_attno[d]] =
		    ExecEvalExpr(w->default_expr[d], econtext, &slot->tts_isnull[w->default_attno[d]]);
	ExecStoreVirtualTuple(slot);

	part = ExecFindPartition(w->mtstate, w->root, w->proute, slot, estate);
	rel = part->ri_RelationDesc;
	/*
	 * row_writer_begin() found no trigger and only plain tables; a trigger
	 * created or a partition attached since must not be bypassed.
	 */
	if (part->ri_TrigDesc != NULL || part->ri_FdwRoutine != NULL)
		ereport(ERROR,
		        (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
		         errmsg("partition %s of k8s_events.events changed while rows were being written",
		                RelationGetRelationName(rel)),
		         errdetail("It has a trigger or is a foreign table, which it did not have when "
		                   "this batch started."),
		         errhint("Store the batch again.")));
	map = part->ri_RootToPartitionMap;
	if (map != NULL)
		slot = execute_attr_map_slot(map->attrMap, slot, part->ri_PartitionTupleSlot);
	slot->tts_tableOid = RelationGetRelid(rel);
	if (rel->rd_att->constr != NULL && rel->rd_att->constr->has_generated_stored)
		ExecComputeStoredGenerated(part, estate, slot, CMD_INSERT);
	if (rel->rd_att->constr != NULL)
		ExecConstraints(part, slot, estate);

	/* The row goes into a slot of its own before anything resets the per-tuple memory. */
	buffer = buffer_for(w, part);
	if (buffer->nrows == buffer->nslots)
	{
		MemoryContextSwitchTo(estate->es_query_cxt);
		buffer->slots[buffer->nslots++] = table_slot_create(rel, NULL);
	}
	ExecCopySlot(buffer->slots[buffer->nrows++], slot);
	MemoryContextSwitchTo(old);
	/* About the row's size: the Event is most of it (maybe TOASTed in the load table). */
	size = nulls[COL_EVENT] ? 0 : toast_raw_datum_size(values[COL_EVENT]);
	buffer->bytes += size;
	w->pending_bytes += size;
	w->pending_rows++;
	if (w->pending_rows >= ROWS_PER_WRITE || w->pending_bytes >= BYTES_PER_WRITE)
		write_all(w);
}

void
row_writer_end(RowWriter *w)
{
	for (int b = 0; b < PARTITIONS_PER_WRITE; b++)
		release_buffer(w, &w->buffers[b]);
	FreeBulkInsertState(w->bistate);
	ExecResetTupleTable(w->estate->es_tupleTable, false);
	ExecCleanupTupleRouting(w->mtstate, w->proute);
	ExecCloseResultRelations(w->estate);
	ExecCloseRangeTableRelations(w->estate);
	FreeExecutorState(w->estate);
	pfree(w);
}
