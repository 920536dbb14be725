/*
 * partitions.c
 *	  Creating and dropping the time partitions of k8s_events.events.
 *
 * Partitions are aligned on k8s_events.partition_width counted from Monday
 * 2000-01-03 00:00 UTC, so daily partitions start at UTC midnight and weekly
 * ones on Mondays.  When the width changes, new partitions are clipped to the
 * gaps between existing ones, so ranges never overlap.
 *
 * Dropping takes the parent's lock before the partition's, the same order a
 * query takes them, so retention cannot deadlock with readers; every lock wait
 * is bounded by k8s_events.drop_lock_timeout, and what cannot be locked now is
 * left for the next run.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "partitioning/partdesc.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "partitions.h"
#include "core/rfc3339.h"
#include "schemas.h"
#include "settings.h"
#include "summaries.h"
#include "subtransaction.h"
#include "unix_time.h"
#include "sql_function.h"

SQL_FUNCTION(k8s_partition_bounds);
SQL_FUNCTION(k8s_create_partitions);
SQL_FUNCTION(k8s_drop_partitions);
SQL_FUNCTION(k8s_drop_expired_partitions);

/* Monday 2000-01-03 00:00 UTC, as PostgreSQL counts: two days after its epoch. */
#define PARTITION_ORIGIN ((TimestampTz) 2 * USECS_PER_DAY)

/*
 * A guard against a typo creating years of partitions in one call, and a
 * limit of the lock table: each new partition holds about ten locks (table,
 * indexes, TOAST) until commit, and the default max_locks_per_transaction
 * leaves room for some hundreds in one transaction.
 */
#define MAX_PARTITIONS_PER_CALL 400

Oid
partitions_parent_oid(void)
{
	Oid nsp = get_namespace_oid("k8s_events", true);
	Oid relid = OidIsValid(nsp) ? get_relname_relid("events", nsp) : InvalidOid;

	if (!OidIsValid(relid))
		ereport(ERROR,
		        (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("table k8s_events.events does not exist"),
		         errhint("Run CREATE EXTENSION k8s_events in this database.")));
	return relid;
}

static TimestampTz
range_datum_value(List *datums, TimestampTz unbounded)
{
	PartitionRangeDatum *datum = linitial_node(PartitionRangeDatum, datums);

	if (datum->kind != PARTITION_RANGE_DATUM_VALUE)
		return unbounded;
	return DatumGetTimestampTz(castNode(Const, datum->value)->constvalue);
}

static int
compare_ranges(const void *a, const void *b)
{
	TimestampTz fa = ((const PartitionRange *) a)->from;
	TimestampTz fb = ((const PartitionRange *) b)->from;

	return fa < fb ? -1 : fa > fb ? 1 : 0;
}

PartitionRange *
partitions_list(int *count, Oid *default_partition)
{
	Relation        parent = table_open(partitions_parent_oid(), AccessShareLock);
	PartitionDesc   desc = RelationGetPartitionDesc(parent, false);
	PartitionRange *ranges = palloc0(sizeof(PartitionRange) * Max(desc->nparts, 1));
	int             n = 0;

	if (default_partition != NULL)
		*default_partition = InvalidOid;
	for (int i = 0; i < desc->nparts; i++)
	{
		HeapTuple           tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(desc->oids[i]));
		Datum               bound;
		bool                isnull;
		PartitionBoundSpec *spec;

		if (!HeapTupleIsValid(tuple))
			elog(ERROR, "cache lookup failed for relation %u", desc->oids[i]);
		bound = SysCacheGetAttr(RELOID, tuple, Anum_pg_class_relpartbound, &isnull);
		if (isnull)
			elog(ERROR, "partition %u has no bound", desc->oids[i]);
		spec = castNode(PartitionBoundSpec, stringToNode(TextDatumGetCString(bound)));
		ReleaseSysCache(tuple);
		/* A DEFAULT partition has no range; it is reported apart and never dropped. */
		if (spec->is_default)
		{
			if (default_partition != NULL)
				*default_partition = desc->oids[i];
			continue;
		}
		ranges[n].relid = desc->oids[i];
		ranges[n].from = range_datum_value(spec->lowerdatums, DT_NOBEGIN);
		ranges[n].to = range_datum_value(spec->upperdatums, DT_NOEND);
		n++;
	}
	*count = n;

	/*
	 * The ranges are a copy, so the lock can go now.  Holding it would make
	 * the stronger lock that creating or dropping a partition takes next an
	 * upgrade, and two sessions upgrading deadlock; those callers list again
	 * once they hold their own lock.
	 */
	table_close(parent, AccessShareLock);
	qsort(ranges, n, sizeof(PartitionRange), compare_ranges);
	return ranges;
}

/* The partition containing ts, or NULL. */
static const PartitionRange *
find_range(const PartitionRange *ranges, int count, TimestampTz ts)
{
	int lo = 0, hi = count - 1;

	while (lo <= hi)
	{
		int mid = (lo + hi) / 2;

		if (ts < ranges[mid].from)
			hi = mid - 1;
		else if (ts >= ranges[mid].to)
			lo = mid + 1;
		else
			return &ranges[mid];
	}
	return NULL;
}

static TimestampTz
bucket_start(TimestampTz ts, int64 width)
{
	int64 offset = ts - PARTITION_ORIGIN;
	int64 rem = offset % width;

	if (rem < 0)
		rem += width;
	return ts - rem;
}

/* ts as "YYYY-MM-DDTHH:MM:SS[.ffffff]Z", whatever the session's DateStyle and TimeZone. */
static void
format_utc(TimestampTz ts, char *iso)
{
	if (!rfc3339_format(unix_usecs_from_timestamptz(ts), iso))
		ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
		                errmsg("timestamp out of range for a partition of k8s_events.events")));
}

/* "events_20261125", or "events_20261125_0600" when not at midnight. */
static char *
partition_name(TimestampTz from)
{
	char iso[RFC3339_BUFLEN];

	format_utc(from, iso);
	/* iso is YYYY-MM-DDTHH:MM:SS[.ffffff]Z */
	if (strncmp(iso + 11, "00:00:00Z", 9) == 0)
		return psprintf("events_%.4s%.2s%.2s", iso, iso + 5, iso + 8);
	if (strncmp(iso + 16, ":00Z", 4) == 0)
		return psprintf("events_%.4s%.2s%.2s_%.2s%.2s", iso, iso + 5, iso + 8, iso + 11, iso + 14);
	/* Only clipping to a hand-made partition gives such a bound. */
	return psprintf("events_%.4s%.2s%.2s_%.2s%.2s%.2s", iso, iso + 5, iso + 8, iso + 11, iso + 14,
	                iso + 17);
}

static char *
timestamp_literal(TimestampTz ts)
{
	char iso[RFC3339_BUFLEN];

	format_utc(ts, iso);
	return quote_literal_cstr(iso);
}

/*
 * The indexes every partition carries.  They are made per partition rather
 * than on the parent because pg_dump cannot restore partitioned indexes of an
 * extension's table; the observation key stays unique across the table since
 * event_time, which is in it, decides the partition.
 */
static const char *const partition_index_ddl[] = {
    "ALTER TABLE %s ADD CONSTRAINT %s UNIQUE (cluster, uid, resource_version, event_time)",
    /*
     * One object over a time range: the drill-down's histogram and its event table.  The
     * histogram needs only these columns, so it reads the index alone (a 10M store's
     * busiest object over 30 days, 12,800 rows: 30 ms through the heap, 15 ms without).
     */
    "CREATE INDEX %2$s ON %1$s (namespace, kind, name, event_time) "
    "INCLUDE (cluster, type, reason, occurrences)",
    "CREATE INDEX %2$s ON %1$s (reason, event_time)",
    /*
     * What went wrong on a node around a time: the warnings its kubelet (or kernel monitor)
     * reported.  Partial: warnings are about a tenth of the rows, and the rest never look.
     */
    "CREATE INDEX %2$s ON %1$s (cluster, source_host, event_time) WHERE type "
    "OPERATOR(pg_catalog.=) 'Warning'",
};
static const char *const partition_index_suffix[] = {"observation_key", "object_idx", "reason_idx",
                                                     "warning_idx"};

static void
execute_utility(const char *sql)
{
	if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not run: %s", sql);
}

/*
 * Make the table with its indexes first and attach it afterwards: ATTACH
 * PARTITION takes only a SHARE UPDATE EXCLUSIVE lock on the parent, which
 * neither readers nor writers conflict with, where CREATE TABLE ... PARTITION
 * OF would take an ACCESS EXCLUSIVE one.  Writers create partitions in the
 * middle of their transactions, so the weaker lock is what keeps two of them
 * from deadlocking, and readers from waiting.
 */
/*
 * Is any relation of the partition (the table or one of its indexes) taken,
 * under this name, in the schema?  A table DETACHed to be archived keeps its
 * name and its indexes' names.
 */
static bool
partition_name_taken(const char *name, Oid nsp)
{
	if (OidIsValid(get_relname_relid(name, nsp)))
		return true;
	for (int i = 0; i < (int) lengthof(partition_index_suffix); i++)
		if (OidIsValid(get_relname_relid(psprintf("%s_%s", name, partition_index_suffix[i]), nsp)))
			return true;
	return false;
}

/*
 * The dated name, or, when a table detached from k8s_events.events (archived
 * by hand, say) still has it, the first of name_2, name_3, ... that is free:
 * the new partition goes beside the archived table, which is left as it is,
 * and the rows of that day are stored, not refused.
 */
static char *
free_partition_name(TimestampTz from, Oid nsp)
{
	char *base = partition_name(from);
	char *name = base;

	for (int n = 2; partition_name_taken(name, nsp); n++)
	{
		if (n > 1000)
			ereport(ERROR,
			        (errcode(ERRCODE_DUPLICATE_TABLE),
			         errmsg("no free name for a new partition \"%s\"", base),
			         errdetail("Tables %s to %s_1000 already exist in its schema.", base, base),
			         errhint("Drop or rename the tables detached from k8s_events.events.")));
		name = psprintf("%s_%d", base, n);
	}
	return name;
}

static Oid
create_partition(TimestampTz from, TimestampTz to)
{
	const char *schema = partition_schema();
	Oid         nsp = get_namespace_oid(schema, false);
	char       *name = free_partition_name(from, nsp);
	char       *table = quote_qualified_identifier(schema, name);

	execute_utility(psprintf("CREATE TABLE %s (LIKE k8s_events.events "
	                         "INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE "
	                         "INCLUDING COMPRESSION INCLUDING GENERATED)",
	                         table));
	for (int i = 0; i < (int) lengthof(partition_index_ddl); i++)
	{
		char *index = psprintf("%s_%s", name, partition_index_suffix[i]);

		execute_utility(psprintf(partition_index_ddl[i], table, quote_identifier(index)));
	}
	execute_utility(psprintf("ALTER TABLE k8s_events.events ATTACH PARTITION %s "
	                         "FOR VALUES FROM (%s) TO (%s)",
	                         table, timestamp_literal(from), timestamp_literal(to)));
	return get_relname_relid(name, nsp);
}

/*
 * create_partitions(from, to) → setof regclass: partitions covering every
 * instant of [from, to) that no partition covers yet.
 */
Datum
k8s_create_partitions(PG_FUNCTION_ARGS)
{
	ReturnSetInfo  *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TimestampTz     from = PG_GETARG_TIMESTAMPTZ(0);
	TimestampTz     to = PG_GETARG_TIMESTAMPTZ(1);
	int64           width = settings_partition_width_usecs();
	PartitionRange *ranges;
	int             count;
	bool            locked = false;
	int             created = 0;

	if (TIMESTAMP_NOT_FINITE(from) || TIMESTAMP_NOT_FINITE(to))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("partition ranges must be finite")));
	if (from >= to)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("the start of the range must be before its end")));
	/* In double: the span of two valid timestamps can exceed int64. */
	if (((double) to - (double) from) / width >= MAX_PARTITIONS_PER_CALL)
		ereport(ERROR,
		        (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
		         errmsg("the range would need more than %d partitions", MAX_PARTITIONS_PER_CALL),
		         errhint("Create them in several calls, or widen k8s_events.partition_width.")));

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	ranges = partitions_list(&count, NULL);
	for (TimestampTz at = from; at < to;)
	{
		const PartitionRange *existing = find_range(ranges, count, at);
		TimestampTz           start, end;
		Datum                 value;
		bool                  isnull = false;

		if (existing != NULL)
		{
			at = existing->to;
			continue;
		}
		/*
		 * Attaching a partition takes SHARE UPDATE EXCLUSIVE on the parent,
		 * which is self-exclusive: take it once something is missing, then
		 * look again, since another session may have made it meanwhile.
		 */
		if (!locked)
		{
			LockRelationOid(partitions_parent_oid(), ShareUpdateExclusiveLock);
			locked = true;
			ranges = partitions_list(&count, NULL);
			continue;
		}
		start = Max(bucket_start(at, width), at == from ? bucket_start(from, width) : at);
		end = bucket_start(at, width) + width;
		for (int i = 0; i < count; i++)
		{
			if (ranges[i].to <= at && ranges[i].to > start)
				start = ranges[i].to;
			if (ranges[i].from > at && ranges[i].from < end)
				end = ranges[i].from;
		}
		value = ObjectIdGetDatum(create_partition(start, end));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
		created++;
		at = end;
	}
	SPI_finish();
	if (created > 0)
		elog(DEBUG1, "k8s_events: created %d partitions", created);
	return (Datum) 0;
}

void
partitions_ensure(const TimestampTz *times, int n)
{
	PartitionRange *ranges;
	int             count;
	SPIPlanPtr      plan = NULL;

	if (n == 0)
		return;
	ranges = partitions_list(&count, NULL);
	for (int i = 0; i < n; i++)
	{
		Datum args[2];
		Oid   argtypes[2] = {TIMESTAMPTZOID, TIMESTAMPTZOID};

		if (find_range(ranges, count, times[i]) != NULL)
			continue;
		if (plan == NULL)
		{
			plan = SPI_prepare("SELECT k8s_events.create_partitions($1, $2)", 2, argtypes);
			if (plan == NULL)
				elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		}
		args[0] = TimestampTzGetDatum(times[i]);
		args[1] = TimestampTzGetDatum(times[i] + 1);
		if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "k8s_events.create_partitions failed");
		ranges = partitions_list(&count, NULL);
	}
	if (plan != NULL)
		SPI_freeplan(plan);
}

/*
 * partition_bounds() → setof (partition regclass, range_from, range_to),
 * oldest first; a DEFAULT partition last, with NULL bounds.
 */
Datum
k8s_partition_bounds(PG_FUNCTION_ARGS)
{
	ReturnSetInfo  *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PartitionRange *ranges;
	int             count;
	Oid             default_partition;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	ranges = partitions_list(&count, &default_partition);
	for (int i = 0; i < count; i++)
	{
		Datum values[3] = {ObjectIdGetDatum(ranges[i].relid), TimestampTzGetDatum(ranges[i].from),
		                   TimestampTzGetDatum(ranges[i].to)};
		bool  nulls[3] = {false, ranges[i].from == DT_NOBEGIN, ranges[i].to == DT_NOEND};

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	if (OidIsValid(default_partition))
	{
		Datum values[3] = {ObjectIdGetDatum(default_partition), (Datum) 0, (Datum) 0};
		bool  nulls[3] = {false, true, true};

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

typedef struct BoundedWait
{
	void (*fn)(void *);
	void *arg;
} BoundedWait;

/* fn(arg) with lock_timeout at k8s_events.drop_lock_timeout, restored afterwards. */
static void
bounded_wait_step(void *arg)
{
	BoundedWait *wait = arg;
	int          nestlevel = NewGUCNestLevel();
	char         timeout[32];

	snprintf(timeout, sizeof(timeout), "%d", k8s_events_drop_lock_timeout_ms);
	(void) set_config_option("lock_timeout", timeout, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
	                         true, 0, false);
	wait->fn(wait->arg);
	AtEOXact_GUC(true, nestlevel);
}

/*
 * Run fn(arg) in a subtransaction with lock_timeout set to
 * k8s_events.drop_lock_timeout.  Returns false, with the error swallowed, if
 * it timed out waiting for a lock; any other error propagates.
 */
static bool
with_bounded_lock_wait(void (*fn)(void *), void *arg, char **why)
{
	BoundedWait wait = {fn, arg};
	ErrorData  *error;

	if (run_in_subtransaction(bounded_wait_step, &wait, &error))
		return true;
	/* A deadlock with a reader that locked a partition first is "busy" too. */
	if (error->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE &&
	    error->sqlerrcode != ERRCODE_T_R_DEADLOCK_DETECTED)
		ReThrowError(error);
	*why = error->message;
	return false;
}

static void
expire_summaries(void *arg)
{
	summaries_expire_counts(*(TimestampTz *) arg);
}

static void
lock_parent(void *arg)
{
	LockRelationOid(*(Oid *) arg, AccessExclusiveLock);
}

/*
 * One partition to drop: with nothing older stored (no older partition, no
 * default partition), its objects' summaries can be found from the summaries.
 */
typedef struct PartitionDrop
{
	PartitionRange *range;
	bool            oldest;
} PartitionDrop;

/* Drop one partition, and take its rows out of resource_summary in the same subtransaction. */
static void
drop_partition(void *arg)
{
	PartitionDrop  *step = arg;
	PartitionRange *range = step->range;
	Oid             relid = range->relid;
	char           *sql;
	SummaryDrop    *summary;

	LockRelationOid(relid, AccessExclusiveLock);
	summary = summaries_before_drop(relid, range->from, range->to, step->oldest);
	sql = psprintf("DROP TABLE %s",
	               quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
	                                          get_rel_name(relid)));
	if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not drop partition %u", relid);
	summaries_after_drop(summary);
}

/* Drop, oldest first, every partition whose whole range lies before cutoff. */
static void
drop_partitions_before(ReturnSetInfo *rsinfo, TimestampTz cutoff)
{
	PartitionRange *ranges;
	int             count;
	Oid             parent;
	Oid             default_partition;
	char           *why;

	/* A look without a lock first: most runs have nothing to drop. */
	ranges = partitions_list(&count, NULL);
	if (count == 0 || ranges[0].to > cutoff)
		return;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	parent = partitions_parent_oid();
	if (!with_bounded_lock_wait(lock_parent, &parent, &why))
	{
		ereport(
		    NOTICE,
		    (errmsg("k8s_events.events is busy; no partition dropped this time"),
		     errdetail("%s", why),
		     errhint(
		         "The next run will try again; k8s_events.drop_lock_timeout bounds the wait.")));
		SPI_finish();
		return;
	}
	/* The parent is ours now, in the order readers lock: parent, then partition. */
	ranges = partitions_list(&count, &default_partition);
	for (int i = 0; i < count && ranges[i].to <= cutoff; i++)
	{
		char *name = quote_qualified_identifier(
		    get_namespace_name(get_rel_namespace(ranges[i].relid)), get_rel_name(ranges[i].relid));
		/* Those before it were dropped by this loop: it is the oldest now. */
		PartitionDrop step = {&ranges[i], !OidIsValid(default_partition)};

		if (with_bounded_lock_wait(drop_partition, &step, &why))
		{
			Datum value = CStringGetTextDatum(name);
			bool  isnull = false;

			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
		}
		else
		{
			/*
			 * Newer ones wait too: partitions go oldest first, so that the
			 * rows still stored are always one unbroken range (which the
			 * summaries' checks rely on: k8s_events.raw_rows_since()).
			 */
			ereport(
			    NOTICE,
			    (errmsg("partition %s is busy; it and newer ones are left for the next run", name),
			     errdetail("%s", why)));
			break;
		}
	}
	SPI_finish();
}

/* drop_partitions(older_than interval) → setof text: the partitions dropped. */
Datum
k8s_drop_partitions(PG_FUNCTION_ARGS)
{
	Interval   *older_than = PG_GETARG_INTERVAL_P(0);
	TimestampTz cutoff;

	if (older_than->month < 0 || older_than->day < 0 || older_than->time < 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("older_than must not be negative")));
	cutoff = DatumGetTimestampTz(DirectFunctionCall2(
	    timestamptz_mi_interval, TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()),
	    IntervalPGetDatum(older_than)));
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	drop_partitions_before((ReturnSetInfo *) fcinfo->resultinfo, cutoff);
	return (Datum) 0;
}

/* drop_partitions() → setof text: apply k8s_events.retention ('0' drops nothing). */
Datum
k8s_drop_expired_partitions(PG_FUNCTION_ARGS)
{
	TimestampTz cutoff = settings_retention_cutoff(GetCurrentTransactionStartTimestamp());

	TimestampTz counts_cutoff =
	    settings_summary_retention_cutoff(GetCurrentTransactionStartTimestamp());

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	if (cutoff != DT_NOBEGIN)
		drop_partitions_before((ReturnSetInfo *) fcinfo->resultinfo, cutoff);
	/*
	 * What outlives the rows (hourly counts, rollouts) expires too: a year of
	 * trends after 120 days of events.  It locks out the writers of every
	 * cluster meanwhile, a bounded wait like the partitions'; when they are
	 * busy, the next run expires it.
	 */
	if (counts_cutoff != DT_NOBEGIN)
	{
		char *why = NULL;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (!with_bounded_lock_wait(expire_summaries, &counts_cutoff, &why))
			ereport(NOTICE,
			        (errmsg("k8s_events' summaries are being written; their expiry is left for the "
			                "next run"),
			         errdetail("%s", why),
			         errhint("The next run will try again; k8s_events.drop_lock_timeout bounds "
			                 "the wait.")));
		SPI_finish();
	}
	return (Datum) 0;
}
