/*
 * cluster_locks.c
 *	  The ingest and watch locks of a cluster: see cluster_locks.h.
 *
 * A cluster's key is found in k8s_events.cluster_lock_keys, or made there the
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

#include "cluster_locks.h"
#include "spi_plan.h"

static SPIPlanPtr find_plan;
static SPIPlanPtr make_plan;

bool
cluster_lock_key_if_any(const char *cluster, uint32 *key)
{
	Datum args[1] = {CStringGetTextDatum(cluster)};
	bool  isnull;

	if (find_plan == NULL)
	{
		Oid argtypes[1] = {TEXTOID};

		find_plan = spi_prepare_kept("SELECT k.key FROM k8s_events.cluster_lock_keys AS k "
		                             "WHERE k.cluster OPERATOR(pg_catalog.=) $1",
		                             1, argtypes);
	}
	/* Not read-only: a snapshot of its own, which sees keys committed a moment ago. */
	if (SPI_execute_plan(find_plan, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read k8s_events.cluster_lock_keys");
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

		make_plan = spi_prepare_kept("INSERT INTO k8s_events.cluster_lock_keys AS k (cluster, key) "
		                             "VALUES ($1, $2) ON CONFLICT DO NOTHING",
		                             2, argtypes);
	}
	/* Every key is taken by at most one name: this ends before 2^32 tries. */
	for (;; key++)
	{
		Datum  args[2] = {CStringGetTextDatum(cluster), Int64GetDatum((int64) key)};
		uint32 found;

		CHECK_FOR_INTERRUPTS();
		if (SPI_execute_plan(make_plan, args, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not write k8s_events.cluster_lock_keys");
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
