/*
 * cluster_locks.c
 *	  The ingest and watch locks of a cluster: see cluster_locks.h.
 *
 * A cluster's key is found in k8s_events_internal.cluster_lock_keys, or made there the
 * first time the cluster is written or watched: the first free key from the
 * hash of the name on, so that two names whose hashes collide still get
 * keys of their own.  The key depends only on the name (and on the names
 * that took keys before it), so a key made by a transaction that rolled back
 * is made again the same: a watcher's session lock, which outlives the
 * transaction that took it, still excludes the next watcher of that name.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "cluster_locks.h"
#include "schemas.h"
#include "spi_plan.h"

static SPIPlanPtr find_plan;
static SPIPlanPtr make_plan;
/* The table both plans were made for: the update to 1.1 moves it (schemas.h). */
static char *planned_table;

/* Drop the plans if the key table is elsewhere than when they were made. */
static const char *
key_table(void)
{
	const char *table = internal_table("cluster_lock_keys");

	if (planned_table != NULL && strcmp(planned_table, table) != 0)
	{
		if (find_plan != NULL)
			SPI_freeplan(find_plan);
		if (make_plan != NULL)
			SPI_freeplan(make_plan);
		find_plan = make_plan = NULL;
		pfree(planned_table);
		planned_table = NULL;
	}
	if (planned_table == NULL)
		planned_table = MemoryContextStrdup(TopMemoryContext, table);
	return table;
}

bool
cluster_lock_key_if_any(const char *cluster, uint32 *key)
{
	Datum       args[1] = {CStringGetTextDatum(cluster)};
	bool        isnull;
	const char *table = key_table();

	if (find_plan == NULL)
	{
		Oid argtypes[1] = {TEXTOID};

		find_plan = spi_prepare_kept(
		    psprintf("SELECT k.key FROM %s AS k WHERE k.cluster OPERATOR(pg_catalog.=) $1", table),
		    1, argtypes);
	}
	/* Not read-only: a snapshot of its own, which sees keys committed a moment ago. */
	if (SPI_execute_plan(find_plan, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read %s", table);
	if (SPI_processed == 0)
		return false;
	*key = (uint32) DatumGetInt64(
	    SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	return true;
}

uint32
cluster_lock_key(const char *cluster)
{
	uint32 key = hash_bytes((const unsigned char *) cluster, strlen(cluster));

	if (cluster_lock_key_if_any(cluster, &key))
		return key;
	if (make_plan == NULL)
	{
		Oid argtypes[2] = {TEXTOID, INT8OID};

		make_plan = spi_prepare_kept(psprintf("INSERT INTO %s AS k (cluster, key) "
		                                      "VALUES ($1, $2) ON CONFLICT DO NOTHING",
		                                      key_table()),
		                             2, argtypes);
	}
	/* Every key is taken by at most one name: this ends before 2^32 tries. */
	for (;; key++)
	{
		Datum  args[2] = {CStringGetTextDatum(cluster), Int64GetDatum((int64) key)};
		uint32 found;

		CHECK_FOR_INTERRUPTS();
		if (SPI_execute_plan(make_plan, args, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not write the cluster lock keys");
		if (SPI_processed == 1)
			return key;
		/* Either another transaction just made this name's key, or the key is another name's. */
		if (cluster_lock_key_if_any(cluster, &found))
			return found;
	}
}

void
cluster_lock_tag(LOCKTAG *tag, uint32 key, ClusterLockKind kind)
{
	tag->locktag_field1 = MyDatabaseId;
	tag->locktag_field2 = CLUSTER_LOCK_CLASS;
	tag->locktag_field3 = key;
	tag->locktag_field4 = (uint16) kind;
	tag->locktag_type = LOCKTAG_USERLOCK;
	tag->locktag_lockmethodid = USER_LOCKMETHOD;
}

void
cluster_lock_for_ingest(const char *cluster)
{
	LOCKTAG tag;

	cluster_lock_tag(&tag, cluster_lock_key(cluster), CLUSTER_LOCK_INGEST);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
}
