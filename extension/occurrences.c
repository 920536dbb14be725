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
 * row); done here it costs a hash lookup per row and, per distinct uid and
 * partition, one descent of the partition's observation key index, without
 * the executor's per-row rescans and sorts: the store step of a bulk load is
 * serial (one writer per cluster), so its cost is the load's speed.
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
#include "catalog/pg_index.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
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

/* A row of k8s_events.events found for one of the batch's uids. */
typedef struct StoredObservation
{
	TimestampTz               event_time;
	int32                     count;
	text                     *resource_version;
	struct StoredObservation *next;
} StoredObservation;

/* The batch's rows of one uid, and what is stored of it. */
typedef struct UidGroup
{
	pg_uuid_t          uid;   /* hash key */
	int                first; /* first row of the uid, in batch order; rows chain by next_row */
	int                last;
	TimestampTz        bound;  /* the lowest bound of its rows: where the search starts */
	StoredObservation *stored; /* what the probes found */
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

static AttrNumber
column_of(Oid relid, const char *name)
{
	AttrNumber attnum = get_attnum(relid, name);

	if (attnum == InvalidAttrNumber)
		elog(ERROR, "partition %s of k8s_events.events has no column \"%s\"", get_rel_name(relid),
		     name);
	return attnum;
}

/*
 * The partition's unique index that starts with (cluster, uid), the
 * observation key, or InvalidOid.  Found by its columns, not its name, which the partition
 * may have got from whoever created it.
 */
static Oid
observation_key_index(Relation partition, const PartitionColumns *cols)
{
	List     *indexes = RelationGetIndexList(partition);
	ListCell *lc;
	Oid       found = InvalidOid;

	foreach (lc, indexes)
	{
		Oid           indexoid = lfirst_oid(lc);
		HeapTuple     tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
		Form_pg_index index;

		if (!HeapTupleIsValid(tuple))
			elog(ERROR, "cache lookup failed for index %u", indexoid);
		index = (Form_pg_index) GETSTRUCT(tuple);
		if (index->indisunique && index->indisvalid && index->indnkeyatts >= 2 &&
		    index->indkey.values[0] == cols->cluster && index->indkey.values[1] == cols->uid &&
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
remember(TupleTableSlot *slot, const PartitionColumns *cols, UidGroup *group)
{
	StoredObservation *seen = palloc(sizeof(StoredObservation));
	bool               isnull;

	seen->event_time = DatumGetTimestampTz(slot_getattr(slot, cols->event_time, &isnull));
	seen->count = DatumGetInt32(slot_getattr(slot, cols->count, &isnull));
	seen->resource_version = DatumGetTextPCopy(slot_getattr(slot, cols->resource_version, &isnull));
	seen->next = group->stored;
	group->stored = seen;
}

/* Search the partition's key index for the uid of every group whose bound lies before its end. */
static void
probe_index(Relation heap, Oid indexoid, const PartitionRange *range, Datum cluster,
            Snapshot snapshot, const PartitionColumns *cols, UidGroup **groups, int ngroups)
{
	Relation        index = index_open(indexoid, AccessShareLock);
	IndexScanDesc   scan = index_beginscan(heap, index, snapshot, 2, 0);
	TupleTableSlot *slot = table_slot_create(heap, NULL);
	ScanKeyData     keys[2];

	ScanKeyEntryInitialize(&keys[0], 0, 1, BTEqualStrategyNumber, InvalidOid,
	                       index->rd_indcollation[0], F_TEXTEQ, cluster);
	ScanKeyEntryInitialize(&keys[1], 0, 2, BTEqualStrategyNumber, InvalidOid,
	                       index->rd_indcollation[1], F_UUID_EQ, (Datum) 0);
	for (int g = 0; g < ngroups; g++)
	{
		if (groups[g]->bound >= range->to)
			continue;
		keys[1].sk_argument = UUIDPGetDatum(&groups[g]->uid);
		index_rescan(scan, keys, 2, NULL, 0);
		while (index_getnext_slot(scan, ForwardScanDirection, slot))
			remember(slot, cols, groups[g]);
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
probe_scan(Relation heap, const char *cluster, Snapshot snapshot, const PartitionColumns *cols,
           HTAB *by_uid)
{
	TableScanDesc   scan = table_beginscan(heap, snapshot, 0, NULL);
	TupleTableSlot *slot = table_slot_create(heap, NULL);

	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool      isnull;
		Datum     row_cluster = slot_getattr(slot, cols->cluster, &isnull);
		Datum     uid;
		UidGroup *group;

		CHECK_FOR_INTERRUPTS();
		if (isnull || strcmp(TextDatumGetCString(row_cluster), cluster) != 0)
			continue;
		uid = slot_getattr(slot, cols->uid, &isnull);
		if (isnull)
			continue;
		group = hash_search(by_uid, DatumGetUUIDP(uid), HASH_FIND, NULL);
		/* judge_row() leaves out what lies before a row's bound. */
		if (group != NULL)
			remember(slot, cols, group);
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
}

static void
probe_partition(const PartitionRange *range, const char *cluster, Snapshot snapshot, HTAB *by_uid,
                UidGroup **groups, int ngroups)
{
	Relation         heap = table_open(range->relid, AccessShareLock);
	PartitionColumns cols;
	Oid              indexoid;

	cols.cluster = column_of(range->relid, "cluster");
	cols.uid = column_of(range->relid, "uid");
	cols.resource_version = column_of(range->relid, "resource_version");
	cols.event_time = column_of(range->relid, "event_time");
	cols.count = column_of(range->relid, "count");
	indexoid = observation_key_index(heap, &cols);
	if (OidIsValid(indexoid))
		probe_index(heap, indexoid, range, CStringGetTextDatum(cluster), snapshot, &cols, groups,
		            ngroups);
	else
		probe_scan(heap, cluster, snapshot, &cols, by_uid);
	/* Kept until commit, as a query keeps its locks: retention waits for the writer. */
	table_close(heap, NoLock);
}

static int
group_uid_cmp(const void *a, const void *b)
{
	return memcmp((*(UidGroup *const *) a)->uid.data, (*(UidGroup *const *) b)->uid.data, UUID_LEN);
}

static bool
same_text(const text *a, const text *b)
{
	return VARSIZE_ANY_EXHDR(a) == VARSIZE_ANY_EXHDR(b) &&
	       memcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) == 0;
}

/* Whether row j comes before row i in (count, place) order. */
static bool
credited_before(const BatchRows *rows, int j, int i)
{
	return rows->count[j] < rows->count[i] || (rows->count[j] == rows->count[i] && j < i);
}

static void
judge_row(const BatchRows *rows, const int *next_row, const UidGroup *group, int i,
          BatchVerdict *verdict)
{
	int32 highest = 0;

	verdict->keep[i] = true;
	/* An earlier row with the same key is the one stored. */
	for (int j = group->first; j != i; j = next_row[j])
		if (rows->event_time[j] == rows->event_time[i] &&
		    same_text(rows->resource_version[j], rows->resource_version[i]))
		{
			verdict->keep[i] = false;
			break;
		}
	for (const StoredObservation *seen = group->stored; seen != NULL; seen = seen->next)
	{
		if (seen->event_time < rows->bound[i])
			continue;
		highest = Max(highest, seen->count);
		if (seen->event_time == rows->event_time[i] &&
		    same_text(seen->resource_version, rows->resource_version[i]))
			verdict->keep[i] = false;
	}
	for (int j = group->first; j >= 0; j = next_row[j])
		if (j != i && credited_before(rows, j, i))
			highest = Max(highest, rows->count[j]);
	verdict->occurrences[i] = Max(0, rows->count[i] - highest);
}

void
occurrences_judge(const char *cluster, const BatchRows *rows, BatchVerdict *verdict)
{
	MemoryContext work = AllocSetContextCreate(CurrentMemoryContext, "k8s_events occurrences",
	                                           ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(work);
	HASHCTL hash_ctl = {.keysize = sizeof(pg_uuid_t), .entrysize = sizeof(UidGroup), .hcxt = work};
	HTAB   *by_uid = hash_create("k8s_events batch uids", rows->n, &hash_ctl,
	                             HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	int    *next_row = palloc(sizeof(int) * rows->n);
	UidGroup      **groups = palloc(sizeof(UidGroup *) * rows->n);
	int             ngroups = 0;
	HASH_SEQ_STATUS seq;
	UidGroup       *group;
	PartitionRange *ranges;
	int             nranges;
	Oid             default_partition;
	Snapshot        snapshot;

	for (int i = 0; i < rows->n; i++)
	{
		bool found;

		group = hash_search(by_uid, rows->uid[i], HASH_ENTER, &found);
		next_row[i] = -1;
		if (!found)
		{
			group->first = i;
			group->bound = rows->bound[i];
			group->stored = NULL;
			groups[ngroups++] = group;
		}
		else
		{
			next_row[group->last] = i;
			group->bound = Min(group->bound, rows->bound[i]);
		}
		group->last = i;
	}
	/* Probing in key order walks each index from left to right. */
	qsort(groups, ngroups, sizeof(UidGroup *), group_uid_cmp);

	/*
	 * Our own earlier batches must be visible, and what other writers of the
	 * cluster committed before we took its lock: a fresh snapshot, after a
	 * command counter increment, as a READ COMMITTED statement would take.
	 */
	CommandCounterIncrement();
	snapshot = RegisterSnapshot(GetLatestSnapshot());

	/*
	 * The parent's lock before any partition's, as a query takes them, so as
	 * not to deadlock with retention; the one the INSERT takes, and like it
	 * held until commit.
	 */
	LockRelationOid(partitions_parent_oid(), RowExclusiveLock);
	ranges = partitions_list(&nranges, &default_partition);
	for (int r = 0; r < nranges; r++)
		probe_partition(&ranges[r], cluster, snapshot, by_uid, groups, ngroups);
	if (OidIsValid(default_partition))
	{
		PartitionRange everything = {default_partition, DT_NOBEGIN, DT_NOEND};

		probe_partition(&everything, cluster, snapshot, by_uid, groups, ngroups);
	}
	UnregisterSnapshot(snapshot);

	hash_seq_init(&seq, by_uid);
	while ((group = hash_seq_search(&seq)) != NULL)
		for (int i = group->first; i >= 0; i = next_row[i])
			judge_row(rows, next_row, group, i, verdict);

	MemoryContextSwitchTo(old);
	MemoryContextDelete(work);
}
