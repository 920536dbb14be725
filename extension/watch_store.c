/*
 * watch_store.c
 *	  The cluster's watch lock and checkpoint, and the SQL functions through
 *	  which `k8s-events watch` stores what its list/watch engine receives.
 *
 * The program runs the same engine as the background worker
 * (core/list_watch.c) and must give the same guarantee: a batch's rows and
 * the resourceVersion it reaches commit together.  watch_store() does both
 * in the one transaction of its call, through the same ingest code
 * (ingest.h) as the worker, so after a crash of either the program or the
 * connection, the checkpoint it reads again with watch_begin() matches the
 * stored rows exactly.  Only the session holding the cluster's watch lock
 * may store or report status, which keeps one writer per cluster.
 *
 * These run as the extension owner (SECURITY DEFINER): the tables are not
 * writable by k8s_events_writer, whose members call them.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pg_builtins.h"
#include "nodes/pg_list.h"
#include "storage/lock.h"
#include "utils/array.h"
#include "utils/lsyscache.h"

#include <jansson.h>

#include "cluster_locks.h"
#include "cluster_name.h"
#include "ingest.h"
#include "watch_store.h"
#include "schemas.h"
#include "sql_function.h"

SQL_FUNCTION(k8s_watch_begin);
SQL_FUNCTION(k8s_watch_store);
SQL_FUNCTION(k8s_watch_set_state);
SQL_FUNCTION(k8s_watch_lock_pid);

/* A description of who watches a cluster, e.g. "k8s-events watch pid 4242 on host-1". */
#define CLIENT_MAX_LEN 256

/* ---------------------------------------------------------------- the lock */

/*
 * The watch locks this session took, with their keys: a session lock is kept
 * until the session ends.  A list in TopMemoryContext; a session watches one
 * cluster, or a few.
 */
typedef struct HeldWatchLock
{
	char  *cluster;
	uint32 key;
} HeldWatchLock;

static List *held_watch_locks = NIL;

static void
forget_held(HeldWatchLock *held)
{
	held_watch_locks = list_delete_ptr(held_watch_locks, held);
	pfree(held->cluster);
	pfree(held);
}

/*
 * Whether this session holds the cluster's watch lock, and it still guards
 * the cluster.  It does not when the session released it itself
 * (pg_advisory_unlock_all() and DISCARD ALL release every user lock), nor
 * when the transaction that made the cluster's key rolled back: the session
 * lock outlives that transaction, but the key may then go to another name,
 * and the cluster gets another key.  Such a lock is let go here.
 */
bool
watch_lock_held(const char *cluster)
{
	ListCell *lc;

	foreach (lc, held_watch_locks)
	{
		HeldWatchLock *held = lfirst(lc);
		LOCKTAG        tag;
		uint32         key;

		if (strcmp(held->cluster, cluster) != 0)
			continue;
		cluster_lock_tag(&tag, held->key, CLUSTER_LOCK_WATCH);
		if (!LockHeldByMe(&tag, ExclusiveLock))
		{
			forget_held(held);
			return false;
		}
		if (!cluster_lock_key_if_any(cluster, &key) || key != held->key)
		{
			(void) LockRelease(&tag, ExclusiveLock, true);
			forget_held(held);
			return false;
		}
		return true;
	}
	return false;
}

bool
watch_lock_cluster(const char *cluster)
{
	LOCKTAG        tag;
	uint32         key;
	MemoryContext  old;
	HeldWatchLock *held;

	/* Once is enough: a session lock taken twice would need releasing twice. */
	if (watch_lock_held(cluster))
		return true;
	key = cluster_lock_key(cluster);
	cluster_lock_tag(&tag, key, CLUSTER_LOCK_WATCH);
	if (LockAcquire(&tag, ExclusiveLock, true, true) == LOCKACQUIRE_NOT_AVAIL)
		return false;
	old = MemoryContextSwitchTo(TopMemoryContext);
	held = palloc(sizeof(HeldWatchLock));
	held->cluster = pstrdup(cluster);
	held->key = key;
	held_watch_locks = lappend(held_watch_locks, held);
	MemoryContextSwitchTo(old);
	return true;
}

/* The session holding the cluster's lock: pid, and what it is; false when none does. */
static bool
lock_holder(const char *cluster, int *pid, char **backend_type, char **client)
{
	Oid    argtypes[5] = {OIDOID, INT8OID, INT8OID, TEXTOID, INT4OID};
	Datum  args[5];
	bool   isnull;
	uint32 key;

	if (!cluster_lock_key_if_any(cluster, &key))
		return false;
	args[0] = ObjectIdGetDatum(MyDatabaseId);
	args[1] = Int64GetDatum(CLUSTER_LOCK_CLASS);
	args[2] = Int64GetDatum((int64) key);
	args[3] = CStringGetTextDatum(cluster);
	args[4] = Int32GetDatum(CLUSTER_LOCK_WATCH);
	if (SPI_execute_with_args(
	        psprintf(
	            "SELECT l.pid, a.backend_type, w.client FROM pg_catalog.pg_locks AS l "
	            "LEFT JOIN pg_catalog.pg_stat_activity AS a ON a.pid OPERATOR(pg_catalog.=) l.pid "
	            "LEFT JOIN %s AS w ON w.cluster OPERATOR(pg_catalog.=) $4 "
	            "AND w.backend_pid OPERATOR(pg_catalog.=) l.pid "
	            "WHERE l.locktype OPERATOR(pg_catalog.=) 'userlock' "
	            "AND l.database OPERATOR(pg_catalog.=) $1 "
	            "AND l.classid::pg_catalog.int8 OPERATOR(pg_catalog.=) $2 "
	            "AND l.objid::pg_catalog.int8 OPERATOR(pg_catalog.=) $3 "
	            "AND l.objsubid::pg_catalog.int4 OPERATOR(pg_catalog.=) $5 AND l.granted LIMIT 1",
	            internal_table("external_watchers")),
	        5, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read pg_locks");
	if (SPI_processed == 0)
		return false;
	*pid = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	*backend_type = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	*client = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
	return true;
}

char *
watch_lock_holder(const char *cluster)
{
	int   pid;
	char *backend_type;
	char *client;

	if (!lock_holder(cluster, &pid, &backend_type, &client))
		return pstrdup("another session, which has just ended");
	if (client != NULL)
		return psprintf("%s (session pid %d)", client, pid);
	if (backend_type != NULL && strcmp(backend_type, "k8s_events watcher") == 0)
		return psprintf("the background worker (pid %d)", pid);
	return psprintf("another session (pid %d)", pid);
}

/* ---------------------------------------------------------------- the checkpoint */

void
watch_store_checkpoint(const char *cluster, const char *resource_version)
{
	Oid   argtypes[2] = {TEXTOID, TEXTOID};
	Datum args[2] = {CStringGetTextDatum(cluster), CStringGetTextDatum(resource_version)};

	if (SPI_execute_with_args(psprintf("INSERT INTO %s AS cp "
	                                   "(cluster, resource_version) VALUES ($1, $2) "
	                                   "ON CONFLICT (cluster) DO UPDATE SET resource_version = $2, "
	                                   "updated_at = pg_catalog.now()",
	                                   internal_table("watch_checkpoints")),
	                          2, argtypes, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not store the checkpoint of cluster \"%s\"", cluster);
}

char *
watch_read_checkpoint(const char *cluster)
{
	Oid   argtypes[1] = {TEXTOID};
	Datum args[1] = {CStringGetTextDatum(cluster)};

	/* Not read-only: a snapshot of its own, taken after the caller took the cluster's lock. */
	if (SPI_execute_with_args(psprintf("SELECT cp.resource_version FROM %s AS cp "
	                                   "WHERE cp.cluster OPERATOR(pg_catalog.=) $1",
	                                   internal_table("watch_checkpoints")),
	                          1, argtypes, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the checkpoint of cluster \"%s\"", cluster);
	if (SPI_processed == 0)
		return NULL;
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

/* ---------------------------------------------------------------- argument checks */

static char *
required_text(FunctionCallInfo fcinfo, int arg, const char *name)
{
	if (PG_ARGISNULL(arg))
		ereport(ERROR,
		        (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s must not be null", name)));
	return text_to_cstring(PG_GETARG_TEXT_PP(arg));
}

/* Status and batches come only from the session that holds the cluster. */
static void
require_lock(const char *cluster)
{
	bool held;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	held = watch_lock_held(cluster);
	SPI_finish();
	if (!held)
		ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
		                errmsg("this session is not watching cluster \"%s\"", cluster),
		                errhint("Call k8s_events.watch_begin() first: only the session holding the "
		                        "cluster's watch lock stores its batches.")));
}

/* ---------------------------------------------------------------- watch_begin */

static void
refuse_if_worker_owns(const char *cluster)
{
	Oid   argtypes[1] = {TEXTOID};
	Datum args[1] = {CStringGetTextDatum(cluster)};

	if (SPI_execute_with_args(
	        "SELECT FROM k8s_events.clusters AS c WHERE c.name OPERATOR(pg_catalog.=) $1 "
	        "AND c.enabled",
	        1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read k8s_events.clusters");
	if (SPI_processed > 0)
		ereport(ERROR,
		        (errcode(ERRCODE_OBJECT_IN_USE),
		         errmsg("cluster \"%s\" is watched by the background worker", cluster),
		         errdetail("It is configured and enabled in k8s_events.clusters, and a cluster has "
		                   "one watcher."),
		         errhint("Disable it first with SELECT k8s_events.set_cluster_enabled(%s, false), "
		                 "or watch it under another name.",
		                 quote_literal_cstr(cluster))));
}

/*
 * The same client coming back (a new connection after a lost one) keeps its
 * counters; another one starts them afresh.
 */
static void
register_client(const char *cluster, const char *client)
{
	Oid   argtypes[2] = {TEXTOID, TEXTOID};
	Datum args[2] = {CStringGetTextDatum(cluster), CStringGetTextDatum(client)};

	if (SPI_execute_with_args(
	        psprintf(
	            "UPDATE %s AS w "
	            "SET backend_pid = pg_catalog.pg_backend_pid(), "
	            "updated_at = pg_catalog.now() "
	            "WHERE w.cluster OPERATOR(pg_catalog.=) $1 AND w.client OPERATOR(pg_catalog.=) $2",
	            internal_table("external_watchers")),
	        2, argtypes, args, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not update the external watchers' status");
	if (SPI_processed > 0)
		return;
	if (SPI_execute_with_args(
	        psprintf(
	            "INSERT INTO %s AS w (cluster, client, backend_pid, state, "
	            "since, started_at, updated_at) VALUES ($1, $2, pg_catalog.pg_backend_pid(), "
	            "'starting', pg_catalog.now(), pg_catalog.now(), pg_catalog.now()) "
	            "ON CONFLICT (cluster) DO UPDATE SET client = excluded.client, "
	            "backend_pid = excluded.backend_pid, state = excluded.state, events_stored = 0, "
	            "duplicates = 0, rejected = 0, deleted_seen = 0, relists = 0, reconnects = 0, "
	            "last_event_at = NULL, last_error = NULL, last_error_at = NULL, since = "
	            "excluded.since, "
	            "started_at = excluded.started_at, updated_at = excluded.updated_at",
	            internal_table("external_watchers")),
	        2, argtypes, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not record the external watcher");
}

/*
 * watch_begin(cluster text, client text) → text: take the cluster for this
 * session and return its checkpoint (NULL: none yet, list first).
 */
Datum
k8s_watch_begin(PG_FUNCTION_ARGS)
{
	char         *cluster = required_text(fcinfo, 0, "cluster");
	char         *client = required_text(fcinfo, 1, "client");
	MemoryContext caller = CurrentMemoryContext;
	char         *checkpoint;

	check_cluster_name(cluster);
	if (client[0] == '\0' || strlen(client) > CLIENT_MAX_LEN)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("client must be 1 to %d bytes long", CLIENT_MAX_LEN),
		                errhint("Describe the watcher, for example 'k8s-events watch pid 4242 on "
		                        "host-1'.")));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	refuse_if_worker_owns(cluster);
	if (!watch_lock_cluster(cluster))
		ereport(ERROR, (errcode(ERRCODE_LOCK_NOT_AVAILABLE),
		                errmsg("cluster \"%s\" is already being watched", cluster),
		                errdetail("It is watched by %s.", watch_lock_holder(cluster)),
		                errhint("A cluster has one watcher; stop the other one first.")));
	register_client(cluster, client);
	checkpoint = watch_read_checkpoint(cluster);
	if (checkpoint != NULL)
		checkpoint = MemoryContextStrdup(caller, checkpoint);
	SPI_finish();
	if (checkpoint == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(checkpoint));
}

/* ---------------------------------------------------------------- watch_store */

/* The elements of a one-dimensional array without NULLs (an empty one for NULL). */
static int
array_elements(FunctionCallInfo fcinfo, int arg, Oid type, const char *name, Datum **elements)
{
	ArrayType *array;
	bool      *nulls;
	int        n;
	int16      typlen;
	bool       typbyval;
	char       typalign;

	*elements = NULL;
	if (PG_ARGISNULL(arg))
		return 0;
	array = PG_GETARG_ARRAYTYPE_P(arg);
	if (ARR_NDIM(array) > 1)
		ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
		                errmsg("%s must be a one-dimensional array", name)));
	get_typlenbyvalalign(type, &typlen, &typbyval, &typalign);
	deconstruct_array(array, type, typlen, typbyval, typalign, elements, &nulls, &n);
	for (int i = 0; i < n; i++)
		if (nulls[i])
			ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
			                errmsg("%s must not contain NULL", name)));
	return n;
}

static void
count_into_status(const char *cluster, const IngestCounts *counts)
{
	Oid   argtypes[5] = {TEXTOID, INT8OID, INT8OID, INT8OID, INT8OID};
	Datum args[5] = {CStringGetTextDatum(cluster), Int64GetDatum(counts->stored),
	                 Int64GetDatum(counts->duplicates), Int64GetDatum(counts->rejected),
	                 Int64GetDatum(counts->deleted)};

	if (SPI_execute_with_args(
	        psprintf(
	            "UPDATE %s AS w "
	            "SET events_stored = w.events_stored OPERATOR(pg_catalog.+) $2, "
	            "duplicates = w.duplicates OPERATOR(pg_catalog.+) $3, "
	            "rejected = w.rejected OPERATOR(pg_catalog.+) $4, "
	            "deleted_seen = w.deleted_seen OPERATOR(pg_catalog.+) $5, "
	            "last_event_at = CASE WHEN $2 OPERATOR(pg_catalog.>) 0 "
	            "THEN pg_catalog.now() ELSE w.last_event_at END, updated_at = pg_catalog.now() "
	            "WHERE w.cluster OPERATOR(pg_catalog.=) $1",
	            internal_table("external_watchers")),
	        5, argtypes, args, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not update the external watchers' status");
}

/*
 * watch_store(cluster, payload text, resource_version text, raw_rejects bytea[],
 * raw_reasons text[]) → record: one batch, its rejects and its checkpoint, in
 * the caller's transaction.  payload is text, not jsonb: it is parsed by the
 * same parser as the worker's batches, so both reject exactly the same input.
 */
Datum
k8s_watch_store(PG_FUNCTION_ARGS)
{
	char        *cluster = required_text(fcinfo, 0, "cluster");
	char        *rv = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	Datum       *rejects;
	Datum       *reasons;
	int          nrejects;
	int          nreasons;
	IngestCounts counts = {0};

	require_lock(cluster);
	if (rv != NULL && rv[0] == '\0')
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("resource_version must not be empty"),
		                errhint("Pass NULL to keep the stored checkpoint.")));
	nrejects = array_elements(fcinfo, 3, BYTEAOID, "raw_rejects", &rejects);
	nreasons = array_elements(fcinfo, 4, TEXTOID, "raw_reasons", &reasons);
	if (nrejects != nreasons)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("raw_rejects and raw_reasons differ in length (%d and %d)", nrejects,
		                       nreasons),
		                errhint("Give one reason for each rejected payload.")));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (!PG_ARGISNULL(1) || nrejects > 0)
	{
		Ingest *ingest = ingest_begin(cluster, "watch");

		ingest_reject_expired(ingest);

		if (!PG_ARGISNULL(1))
		{
			text        *payload = PG_GETARG_TEXT_PP(1);
			json_error_t error;
			/* As the engine parses (list_watch.c): a NUL spoils one Event, not the batch. */
			json_t *root = json_loadb(VARDATA_ANY(payload), VARSIZE_ANY_EXHDR(payload),
			                          JSON_ALLOW_NUL, &error);

			if (root == NULL)
				ingest_reject_raw(ingest, VARDATA_ANY(payload), VARSIZE_ANY_EXHDR(payload),
				                  psprintf("malformed watch batch: %s", error.text));
			else
				ingest_payload(ingest, root);
		}
		for (int i = 0; i < nrejects; i++)
		{
			bytea *raw = DatumGetByteaPP(rejects[i]);

			/* Raw bytes as the worker keeps them: all of them, as hex if not text. */
			ingest_reject_raw(ingest, VARDATA_ANY(raw), VARSIZE_ANY_EXHDR(raw),
			                  TextDatumGetCString(reasons[i]));
		}
		counts = ingest_end(ingest);
	}
	if (rv != NULL)
		watch_store_checkpoint(cluster, rv);
	count_into_status(cluster, &counts);
	SPI_finish();

	PG_RETURN_DATUM(ingest_counts_datum(fcinfo, &counts));
}

/* ---------------------------------------------------------------- watch_set_state */

/* The engine's states (core/list_watch.h), and the one a client reports as it exits. */
static const char *const client_states[] = {"starting", "listing", "watching",
                                            "backoff",  "failed",  "stopped"};

/*
 * watch_set_state(cluster, state, last_error, relists, reconnects) → void:
 * status for k8s_events.watch_status.  NULL keeps a value; counters are the
 * client's totals since it started.
 */
Datum
k8s_watch_set_state(PG_FUNCTION_ARGS)
{
	char *cluster = required_text(fcinfo, 0, "cluster");
	char *state = required_text(fcinfo, 1, "state");
	bool  known = false;
	Oid   argtypes[5] = {TEXTOID, TEXTOID, TEXTOID, INT8OID, INT8OID};
	Datum args[5];
	char  nulls[5] = {' ', ' ', ' ', ' ', ' '};

	require_lock(cluster);
	for (int i = 0; i < (int) lengthof(client_states); i++)
		known |= strcmp(state, client_states[i]) == 0;
	if (!known)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("unknown watch state \"%s\"", state),
		                errhint("Use starting, listing, watching, backoff, failed or stopped.")));
	for (int arg = 3; arg <= 4; arg++)
		if (!PG_ARGISNULL(arg) && PG_GETARG_INT64(arg) < 0)
			ereport(ERROR,
			        (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			         errmsg("%s must not be negative", arg == 3 ? "relists" : "reconnects")));

	args[0] = CStringGetTextDatum(cluster);
	args[1] = CStringGetTextDatum(state);
	for (int arg = 2; arg <= 4; arg++)
	{
		nulls[arg] = PG_ARGISNULL(arg) ? 'n' : ' ';
		args[arg] = PG_ARGISNULL(arg) ? (Datum) 0 : PG_GETARG_DATUM(arg);
	}
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(
	        psprintf("UPDATE %s AS w SET "
	                 "since = CASE WHEN w.state OPERATOR(pg_catalog.=) $2 THEN w.since "
	                 "ELSE pg_catalog.now() END, state = $2, "
	                 "last_error = coalesce($3, w.last_error), "
	                 "last_error_at = CASE WHEN $3 IS NULL THEN w.last_error_at ELSE "
	                 "pg_catalog.now() END, "
	                 "relists = coalesce($4, w.relists), reconnects = coalesce($5, w.reconnects), "
	                 "updated_at = pg_catalog.now() WHERE w.cluster OPERATOR(pg_catalog.=) $1",
	                 internal_table("external_watchers")),
	        5, argtypes, args, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not update the external watchers' status");
	SPI_finish();
	PG_RETURN_VOID();
}

/* ---------------------------------------------------------------- watch_lock_pid */

/*
 * watch_lock_pid(cluster) → integer: the server process holding the
 * cluster's watch lock, or NULL; watch_status tells a running external
 * watcher from one that has gone by it.
 */
Datum
k8s_watch_lock_pid(PG_FUNCTION_ARGS)
{
	char *cluster = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int   pid;
	char *backend_type;
	char *client;
	bool  found;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	found = lock_holder(cluster, &pid, &backend_type, &client);
	SPI_finish();
	if (!found)
		PG_RETURN_NULL();
	PG_RETURN_INT32(pid);
}
