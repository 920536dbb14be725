/*
 * occurrences.c
 *	  Which rows of a batch are new observations, and how many occurrences each adds.
 *
 * An Event's count says how often it happened in all; a row's occurrences is
 * the increase over the highest count already known for the same uid, stored
 * or earlier in the batch, so that sum(occurrences) counts each happening once.
 * An observation (uid, resource_version, event_time) is stored once: a row
 * whose key is stored already, or came earlier in the batch, is a duplicate.
 *
 * This was one SQL statement (two window functions and a LATERAL probe per
 * row); done here it costs, per distinct uid and partition, one descent of
 * the partition's observation key index, and two small sorts per uid, without
 * the executor's per-row rescans: the store step of a bulk load is serial
 * (one writer per cluster), so its cost is the load's speed.
 *
 * Semantics, kept from the statement:
 *  - earlier in the batch means earlier in (count, place in the batch): rows
 *    of one uid are credited in order of count, so a batch gives the same
 *    total whatever order its observations came in;
 *  - a stored row counts only if its event_time is at or after the row's
 *    bound, so that partitions before the bound need not be searched.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/nbtree.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "occurrences.h"
#include "partitions.h"
#include "pg_builtins.h"

/* A row of k8s_events.events found for one of the batch's uids. */
typedef struct StoredObservation
{
	TimestampTz event_time;
	int32       count;
	text       *resource_version;
} StoredObservation;

/* The batch's rows of one uid, and what is stored of it. */
typedef struct UidGroup
{
	pg_uuid_t          uid;   /* hash key */
	int                first; /* first row of the uid, in batch order; rows chain by next_row */
	int                last;
	int                nrows;
	TimestampTz        bound;  /* the lowest bound of its rows: where the search starts */
	StoredObservation *stored; /* what the probes found */
	int                nstored;
	int                stored_capacity;
} UidGroup;

/* The attribute numbers of one partition (they may differ from the parent's). */
typedef struct PartitionColumns
{
	AttrNumber cluster;
	AttrNumber uid;
	AttrNumber resource_version;
	AttrNumber event_time;
	AttrNumber count;
} PartitionColumns;

/* What every probe of one batch needs. */
typedef struct Probe
{
	text      *cluster;
	Snapshot   snapshot;
	HTAB      *by_uid;
	UidGroup **groups; /* in uid order */
	int        ngroups;
} Probe;

static AttrNumber
column_of(Oid relid, const char *name)
{
	AttrNumber attnum = get_attnum(relid, name);

	if (attnum == InvalidAttrNumber)
		elog(ERROR, "partition %s of k8s_events.events has no column \"%s\"", get_rel_name(relid),
		     name);
	return attnum;
}

static bool
same_text(const text *a, const text *b)
{
	return VARSIZE_ANY_EXHDR(a) == VARSIZE_ANY_EXHDR(b) &&
	       memcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) == 0;
}

/*
 * The partition's unique index on (cluster, uid, ...) with btree's default
 * operator classes (the scan keys below assume them): the observation key, or
 * InvalidOid.  Found by its columns, not its name, which a partition made by
 * hand may not share.
 */
static Oid
observation_key_index(Relation partition, const PartitionColumns *cols)
{
	List     *indexes = RelationGetIndexList(partition);
	ListCell *lc;
	Oid       found = InvalidOid;
	Oid       text_class = GetDefaultOpClass(TEXTOID, BTREE_AM_OID);
	Oid       uuid_class = GetDefaultOpClass(UUIDOID, BTREE_AM_OID);

	foreach (lc, indexes)
	{
		Oid           indexoid = lfirst_oid(lc);
		HeapTuple     tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
		Form_pg_index index;
		bool          isnull;
		oidvector    *classes;

		if (!HeapTupleIsValid(tuple))
			elog(ERROR, "cache lookup failed for index %u", indexoid);
		index = (Form_pg_index) GETSTRUCT(tuple);
		classes = (oidvector *) DatumGetPointer(
		    SysCacheGetAttr(INDEXRELID, tuple, Anum_pg_index_indclass, &isnull));
		if (index->indisunique && index->indisvalid && index->indnkeyatts >= 2 &&
		    index->indkey.values[0] == cols->cluster && index->indkey.values[1] == cols->uid &&
		    classes->values[0] == text_class && classes->values[1] == uuid_class &&
		    heap_attisnull(tuple, Anum_pg_index_indexprs, NULL) &&
		    heap_attisnull(tuple, Anum_pg_index_indpred, NULL))
			found = indexoid;
		ReleaseSysCache(tuple);
		if (OidIsValid(found))
			break;
	}
	list_free(indexes);
	return found;
}

static void
remember(UidGroup *group, TimestampTz event_time, int32 count, Datum resource_version)
{
	StoredObservation *seen;

	if (group->nstored == group->stored_capacity)
	{
		group->stored_capacity = Max(4, group->stored_capacity * 2);
		group->stored =
		    group->stored == NULL
		        ? palloc(sizeof(StoredObservation) * group->stored_capacity)
		        : repalloc(group->stored, sizeof(StoredObservation) * group->stored_capacity);
	}
	seen = &group->stored[group->nstored++];
	seen->event_time = event_time;
	seen->count = count;
	seen->resource_version = DatumGetTextPCopy(resource_version);
}

static void
remember_slot(UidGroup *group, TupleTableSlot *slot, const PartitionColumns *cols)
{
	bool isnull;

	remember(group, DatumGetTimestampTz(slot_getattr(slot, cols->event_time, &isnull)),
	         DatumGetInt32(slot_getattr(slot, cols->count, &isnull)),
	         slot_getattr(slot, cols->resource_version, &isnull));
}

/* Search the partition's key index for the uid of every group whose bound lies before its end. */
static void
probe_index(const Probe *probe, Relation heap, Oid indexoid, const PartitionRange *range,
            const PartitionColumns *cols)
{
	Relation        index = index_open(indexoid, AccessShareLock);
	IndexScanDesc   scan = index_beginscan(heap, index, probe->snapshot, 2, 0);
	TupleTableSlot *slot = table_slot_create(heap, NULL);
	ScanKeyData     keys[2];

	ScanKeyEntryInitialize(&keys[0], 0, 1, BTEqualStrategyNumber, InvalidOid,
	                       index->rd_indcollation[0], F_TEXTEQ, PointerGetDatum(probe->cluster));
	ScanKeyEntryInitialize(&keys[1], 0, 2, BTEqualStrategyNumber, InvalidOid,
	                       index->rd_indcollation[1], F_UUID_EQ, (Datum) 0);
	for (int g = 0; g < probe->ngroups; g++)
	{
		UidGroup *group = probe->groups[g];

		CHECK_FOR_INTERRUPTS();
		if (group->bound >= range->to)
			continue;
		keys[1].sk_argument = UUIDPGetDatum(&group->uid);
		index_rescan(scan, keys, 2, NULL, 0);
		while (index_getnext_slot(scan, ForwardScanDirection, slot))
			remember_slot(group, slot, cols);
	}
	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	index_close(index, NoLock);
}

/*
 * A partition made by hand without the key index: read it once for the whole
 * batch, looking each row's uid up among the batch's.
 */
static void
probe_scan(const Probe *probe, Relation heap, const PartitionColumns *cols)
{
	TableScanDesc   scan = table_beginscan(heap, probe->snapshot, 0, NULL);
	TupleTableSlot *slot = table_slot_create(heap, NULL);

	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool      isnull;
		Datum     uid;
		Datum     cluster;
		text     *cluster_text;
		bool      ours;
		UidGroup *group;

		CHECK_FOR_INTERRUPTS();
		uid = slot_getattr(slot, cols->uid, &isnull);
		if (isnull ||
		    (group = hash_search(probe->by_uid, DatumGetUUIDP(uid), HASH_FIND, NULL)) == NULL)
			continue;
		cluster = slot_getattr(slot, cols->cluster, &isnull);
		if (isnull)
			continue;
		cluster_text = DatumGetTextPP(cluster);
		ours = same_text(cluster_text, probe->cluster);
		if ((Pointer) cluster_text != DatumGetPointer(cluster))
			pfree(cluster_text);
		/* judge_group() leaves out what lies before a row's bound. */
		if (ours)
			remember_slot(group, slot, cols);
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
}

/*
 * A partition that is not a plain table (a foreign table, or partitioned in
 * turn) has no key index to descend nor heap to read: ask it with a query.
 */
static void
probe_query(const Probe *probe, Oid relid)
{
	Datum        *uids = palloc(sizeof(Datum) * probe->ngroups);
	Datum         args[2];
	Oid           argtypes[2] = {TEXTOID, UUIDARRAYOID};
	char         *sql;
	int           ret;
	MemoryContext ours = CurrentMemoryContext;

	for (int g = 0; g < probe->ngroups; g++)
		uids[g] = UUIDPGetDatum(&probe->groups[g]->uid);
	args[0] = PointerGetDatum(probe->cluster);
	args[1] = PointerGetDatum(
	    construct_array(uids, probe->ngroups, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
	sql = psprintf("SELECT uid, event_time, count, resource_version FROM %s "
	               "WHERE cluster OPERATOR(pg_catalog.=) $1 "
	               "AND uid OPERATOR(pg_catalog.=) ANY ($2)",
	               quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
	                                          get_rel_name(relid)));
	/* Not read-only: a snapshot that sees this transaction's earlier batches. */
	ret = SPI_execute_with_args(sql, 2, argtypes, args, NULL, false, 0);
	/* SPI leaves its own context current; what we remember belongs to ours. */
	MemoryContextSwitchTo(ours);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not search partition %s: %s", get_rel_name(relid),
		     SPI_result_code_string(ret));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple tuple = SPI_tuptable->vals[i];
		TupleDesc desc = SPI_tuptable->tupdesc;
		bool      isnull[4];
		Datum     uid = SPI_getbinval(tuple, desc, 1, &isnull[0]);
		Datum     event_time = SPI_getbinval(tuple, desc, 2, &isnull[1]);
		Datum     count = SPI_getbinval(tuple, desc, 3, &isnull[2]);
		Datum     version = SPI_getbinval(tuple, desc, 4, &isnull[3]);
		UidGroup *group = hash_search(probe->by_uid, DatumGetUUIDP(uid), HASH_FIND, NULL);

		/* A foreign table need not enforce NOT NULL: a key without a count still is a key. */
		if (group != NULL && !isnull[1] && !isnull[3])
			remember(group, DatumGetTimestampTz(event_time), isnull[2] ? 0 : DatumGetInt32(count),
			         version);
	}
	SPI_freetuptable(SPI_tuptable);
}

static void
probe_partition(const Probe *probe, const PartitionRange *range)
{
	Relation         heap;
	PartitionColumns cols;
	Oid              indexoid;

	if (get_rel_relkind(range->relid) != RELKIND_RELATION)
	{
		probe_query(probe, range->relid);
		return;
	}
	heap = table_open(range->relid, AccessShareLock);
	cols.cluster = column_of(range->relid, "cluster");
	cols.uid = column_of(range->relid, "uid");
	cols.resource_version = column_of(range->relid, "resource_version");
	cols.event_time = column_of(range->relid, "event_time");
	cols.count = column_of(range->relid, "count");
	indexoid = observation_key_index(heap, &cols);
	if (OidIsValid(indexoid))
		probe_index(probe, heap, indexoid, range, &cols);
	else
		probe_scan(probe, heap, &cols);
	/* Kept until commit, as a query keeps its locks: retention waits for the writer. */
	table_close(heap, NoLock);
}

static int
group_uid_cmp(const void *a, const void *b)
{
	return memcmp((*(UidGroup *const *) a)->uid.data, (*(UidGroup *const *) b)->uid.data, UUID_LEN);
}

static int
text_cmp(const text *a, const text *b)
{
	int la = VARSIZE_ANY_EXHDR(a);
	int lb = VARSIZE_ANY_EXHDR(b);
	int c = memcmp(VARDATA_ANY(a), VARDATA_ANY(b), Min(la, lb));

	return c != 0 ? c : (la > lb) - (la < lb);
}

static int
stored_key_cmp(const void *a, const void *b)
{
	const StoredObservation *x = a;
	const StoredObservation *y = b;

	if (x->event_time != y->event_time)
		return x->event_time < y->event_time ? -1 : 1;
	return text_cmp(x->resource_version, y->resource_version);
}

/* Row numbers sorted by (count, place), or by (event_time, resource_version, place). */
static int
by_count_cmp(const void *a, const void *b, void *arg)
{
	const BatchRows *rows = arg;
	int              i = *(const int *) a;
	int              j = *(const int *) b;

	if (rows->count[i] != rows->count[j])
		return rows->count[i] < rows->count[j] ? -1 : 1;
	return (i > j) - (i < j);
}

static int
by_key_cmp(const void *a, const void *b, void *arg)
{
	const BatchRows *rows = arg;
	int              i = *(const int *) a;
	int              j = *(const int *) b;
	int              c;

	if (rows->event_time[i] != rows->event_time[j])
		return rows->event_time[i] < rows->event_time[j] ? -1 : 1;
	c = text_cmp(rows->resource_version[i], rows->resource_version[j]);
	return c != 0 ? c : (i > j) - (i < j);
}

/* The first stored observation at or after t, in (event_time, resource_version) order. */
static int
first_stored_from(const UidGroup *group, TimestampTz t)
{
	int lo = 0, hi = group->nstored;

	while (lo < hi)
	{
		int mid = (lo + hi) / 2;

		if (group->stored[mid].event_time < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool
stored_has_key(const UidGroup *group, TimestampTz event_time, text *resource_version)
{
	StoredObservation key = {event_time, 0, resource_version};

	if (group->nstored == 0)
		return false;
	return bsearch(&key, group->stored, group->nstored, sizeof(StoredObservation),
	               stored_key_cmp) != NULL;
}

/*
 * Judge the rows of one uid.  In O(k log k) for k rows and stored
 * observations, since k8s_events.batch_size allows 100,000 rows of one noisy
 * Event in a batch.
 */
static void
judge_group(const BatchRows *rows, const int *next_row, UidGroup *group, BatchVerdict *verdict)
{
	int   *order = palloc(sizeof(int) * group->nrows);
	int32 *highest_after = palloc(sizeof(int32) * (group->nstored + 1));
	int    k = 0;

	for (int i = group->first; i >= 0; i = next_row[i])
		order[k++] = i;

	/* What is stored: by key, and the highest count at or after each place. */
	qsort(group->stored, group->nstored, sizeof(StoredObservation), stored_key_cmp);
	highest_after[group->nstored] = 0;
	for (int s = group->nstored - 1; s >= 0; s--)
		highest_after[s] = Max(highest_after[s + 1], group->stored[s].count);

	/* Stored already, or a key that came earlier in the batch: a duplicate. */
	qsort_arg(order, k, sizeof(int), by_key_cmp, (void *) rows);
	for (int p = 0; p < k; p++)
	{
		int i = order[p];
		int prev = p > 0 ? order[p - 1] : -1;

		verdict->keep[i] = !(prev >= 0 && rows->event_time[prev] == rows->event_time[i] &&
		                     same_text(rows->resource_version[prev], rows->resource_version[i])) &&
		                   !(rows->event_time[i] >= rows->bound[i] &&
		                     stored_has_key(group, rows->event_time[i], rows->resource_version[i]));
	}

	/* The increase over the highest count stored after its bound, or earlier in the batch. */
	qsort_arg(order, k, sizeof(int), by_count_cmp, (void *) rows);
	for (int p = 0; p < k; p++)
	{
		int   i = order[p];
		int32 stored = highest_after[first_stored_from(group, rows->bound[i])];
		int32 in_batch = p > 0 ? rows->count[order[p - 1]] : 0;
		int64 increase = (int64) rows->count[i] - Max(stored, in_batch);

		verdict->occurrences[i] = (int32) Max(0, Min(increase, PG_INT32_MAX));
	}
	pfree(order);
	pfree(highest_after);
}

void
occurrences_judge(const char *cluster, const BatchRows *rows, BatchVerdict *verdict)
{
	MemoryContext work = AllocSetContextCreate(CurrentMemoryContext, "k8s_events occurrences",
	                                           ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(work);
	HASHCTL hash_ctl = {.keysize = sizeof(pg_uuid_t), .entrysize = sizeof(UidGroup), .hcxt = work};
	Probe   probe = {0};
	int    *next_row = palloc(sizeof(int) * rows->n);
	TimestampTz     lowest_bound = DT_NOEND;
	PartitionRange *ranges;
	int             nranges;
	Oid             default_partition;

	probe.cluster = cstring_to_text(cluster);
	probe.by_uid = hash_create("k8s_events batch uids", rows->n, &hash_ctl,
	                           HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	probe.groups = palloc(sizeof(UidGroup *) * rows->n);
	for (int i = 0; i < rows->n; i++)
	{
		bool      found;
		UidGroup *group = hash_search(probe.by_uid, rows->uid[i], HASH_ENTER, &found);

		next_row[i] = -1;
		if (!found)
		{
			group->first = i;
			group->nrows = 0;
			group->bound = rows->bound[i];
			group->stored = NULL;
			group->nstored = group->stored_capacity = 0;
			probe.groups[probe.ngroups++] = group;
		}
		else
		{
			next_row[group->last] = i;
			group->bound = Min(group->bound, rows->bound[i]);
		}
		group->last = i;
		group->nrows++;
		lowest_bound = Min(lowest_bound, rows->bound[i]);
	}
	/* Probing in key order walks each index from left to right. */
	qsort(probe.groups, probe.ngroups, sizeof(UidGroup *), group_uid_cmp);

	/*
	 * The parent's lock before any partition's, as a query takes them, so as
	 * not to deadlock with retention; the one the INSERT takes, and like it
	 * held until commit.  Then the partitions, then the snapshot: our own
	 * earlier batches must be visible, and what other writers of the cluster
	 * committed before we took its lock, as to a READ COMMITTED statement.
	 */
	LockRelationOid(partitions_parent_oid(), RowExclusiveLock);
	ranges = partitions_list(&nranges, &default_partition);
	CommandCounterIncrement();
	probe.snapshot = RegisterSnapshot(GetLatestSnapshot());
	for (int r = 0; r < nranges; r++)
		if (ranges[r].to > lowest_bound)
			probe_partition(&probe, &ranges[r]);
	if (OidIsValid(default_partition))
	{
		PartitionRange everything = {default_partition, DT_NOBEGIN, DT_NOEND};

		probe_partition(&probe, &everything);
	}
	UnregisterSnapshot(probe.snapshot);

	for (int g = 0; g < probe.ngroups; g++)
	{
		CHECK_FOR_INTERRUPTS();
		judge_group(rows, next_row, probe.groups[g], verdict);
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(work);
}
