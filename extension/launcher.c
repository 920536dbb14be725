/*
 * launcher.c
 *	  The static background worker that keeps one watcher running per enabled cluster.
 *
 * It waits until the extension exists in k8s_events.database, then reconciles the
 * running watchers with k8s_events.clusters whenever that table changes (a
 * trigger sets our latch at commit) and at least every few seconds, and does
 * partition maintenance every k8s_events.maintenance_interval.  A watcher that
 * fails is restarted by the postmaster after bgw_restart_time.
 *
 * A watcher reads its cluster's settings once, when it starts; a row whose
 * connection settings changed gets a new watcher.  The old one must be gone
 * first: two watchers of one cluster would write the same checkpoint.  When the
 * row points at another API server or scope, the UPDATE dropped the checkpoint,
 * and the old watcher writes none after it (it checks its row under a share
 * lock: see scope_unchanged() in watcher.c).  Should one be found all the same
 * after the old watcher exited, it is dropped before the new watcher starts, so
 * the new watcher lists instead of watching from a resourceVersion of another
 * server.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/procarray.h"

#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "settings.h"
#include "shared_state.h"
#include "subtransaction.h"
#include "workers.h"

/* How often the launcher looks at k8s_events.clusters without being woken. */
#define RECONCILE_INTERVAL_MS 5000
/* A watcher that exits with an error is started again after this. */
#define WATCHER_RESTART_SECONDS 5

typedef enum RunState
{
	SLOT_FREE,
	SLOT_RUNNING,
	SLOT_STOPPING /* asked to stop; the slot is not reused until it has */
} RunState;

typedef struct RunningWatcher
{
	RunState                state;
	BackgroundWorkerHandle *handle; /* NULL for a watcher adopted from a previous launcher */
	char                    cluster[CLUSTER_NAME_LEN];
} RunningWatcher;

/* Indexed like SharedState.slots: the launcher owns slot assignment. */
static RunningWatcher running[MAX_WATCHED_CLUSTERS];

/* An enabled row of k8s_events.clusters. */
typedef struct WantedCluster
{
	char *name;
	char  config_hash[CONFIG_HASH_LEN]; /* every connection setting */
	char  scope_hash[CONFIG_HASH_LEN];  /* those that choose the API server and the Events */
} WantedCluster;

void
workers_register_launcher(void)
{
	BackgroundWorker worker = {0};

	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 10;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "k8s_events");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "k8s_events_launcher_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "k8s_events launcher");
	snprintf(worker.bgw_type, BGW_MAXLEN, "k8s_events launcher");
	RegisterBackgroundWorker(&worker);
}

/*
 * The watcher's bgw_main_arg: its slot and the slot's generation, so that a
 * watcher the postmaster restarts after the slot was given to another cluster
 * knows to leave.
 */
static Datum
watcher_arg(int slot, uint32 generation)
{
	/* 32 bits, so that the Datum is passed by value on every platform. */
	return UInt32GetDatum((generation << WATCH_SLOT_BITS) | (uint32) slot);
}

static bool
start_watcher(int slot, const WantedCluster *wanted)
{
	BackgroundWorker worker = {0};
	SharedState     *shared = shared_state();
	uint32           generation;
	const char      *cluster = wanted->name;

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	generation = next_generation(shared->slots[slot].generation);
	memset(&shared->slots[slot], 0, sizeof(WatchSlot));
	shared->slots[slot].generation = generation;
	shared->slots[slot].in_use = true;
	strlcpy(shared->slots[slot].cluster, cluster, CLUSTER_NAME_LEN);
	strlcpy(shared->slots[slot].config_hash, wanted->config_hash, CONFIG_HASH_LEN);
	strlcpy(shared->slots[slot].scope_hash, wanted->scope_hash, CONFIG_HASH_LEN);
	shared->slots[slot].state = WATCH_STARTING;
	shared->slots[slot].since = GetCurrentTimestamp();
	LWLockRelease(shared->lock);

	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = WATCHER_RESTART_SECONDS;
	worker.bgw_main_arg = watcher_arg(slot, generation);
	worker.bgw_notify_pid = MyProcPid;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "k8s_events");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "k8s_events_watcher_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "k8s_events watcher %.40s", cluster);
	snprintf(worker.bgw_type, BGW_MAXLEN, "k8s_events watcher");
	if (!RegisterDynamicBackgroundWorker(&worker, &running[slot].handle))
	{
		ereport(WARNING,
		        (errmsg("k8s_events: could not start a watcher for cluster \"%s\"", cluster),
		         errhint("Raise max_worker_processes; each watched cluster needs one.")));
		running[slot].handle = NULL;
		LWLockAcquire(shared->lock, LW_EXCLUSIVE);
		shared->slots[slot].in_use = false;
		LWLockRelease(shared->lock);
		return false;
	}
	running[slot].state = SLOT_RUNNING;
	strlcpy(running[slot].cluster, cluster, CLUSTER_NAME_LEN);
	return true;
}

static void
stop_watcher(int slot, bool reset_checkpoint)
{
	SharedState *shared = shared_state();
	Latch       *latch;

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	/* A new generation makes the watcher leave, even one we hold no handle to. */
	shared->slots[slot].generation = next_generation(shared->slots[slot].generation);
	shared->slots[slot].in_use = false;
	shared->slots[slot].reset_checkpoint |= reset_checkpoint;
	latch = shared->slots[slot].latch;
	LWLockRelease(shared->lock);
	if (running[slot].handle != NULL)
		TerminateBackgroundWorker(running[slot].handle);
	else if (latch != NULL)
		SetLatch(latch);
	running[slot].state = SLOT_STOPPING;
}

/* Has the watcher in this slot exited for good? */
static bool
watcher_gone(int slot)
{
	pid_t pid;

	if (running[slot].handle != NULL)
		return GetBackgroundWorkerPid(running[slot].handle, &pid) == BGWH_STOPPED;
	/* Adopted: the watcher clears its pid when it exits. */
	LWLockAcquire(shared_state()->lock, LW_SHARED);
	pid = shared_state()->slots[slot].pid;
	LWLockRelease(shared_state()->lock);
	return pid == 0 || BackendPidGetProc(pid) == NULL;
}

/*
 * Free the slots of watchers that exited: stopped on request, or ended by
 * themselves (a watcher that finds its cluster disabled exits with 0 and is
 * not restarted), so that a wanted cluster gets a watcher again.
 */
static void
collect_exited_watchers(void)
{
	for (int slot = 0; slot < MAX_WATCHED_CLUSTERS; slot++)
	{
		if (running[slot].state == SLOT_FREE || !watcher_gone(slot))
			continue;
		if (running[slot].handle != NULL)
			pfree(running[slot].handle);
		running[slot].handle = NULL;
		running[slot].state = SLOT_FREE;
	}
}

/*
 * Watchers outlive a launcher that crashed; the next one takes them over
 * instead of starting a second watcher for the same cluster.
 */
static void
adopt_running_watchers(void)
{
	SharedState *shared = shared_state();

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	for (int slot = 0; slot < MAX_WATCHED_CLUSTERS; slot++)
	{
		WatchSlot *w = &shared->slots[slot];

		if (w->pid != 0 && BackendPidGetProc(w->pid) != NULL)
		{
			/* Running: ours now, or (not in use any more) to be waited for before reuse. */
			running[slot].state = w->in_use ? SLOT_RUNNING : SLOT_STOPPING;
			running[slot].handle = NULL;
			strlcpy(running[slot].cluster, w->cluster, CLUSTER_NAME_LEN);
		}
		else if (w->in_use)
		{
			/* Gone, or never started: a restarted one will see the new generation. */
			w->generation = next_generation(w->generation);
			w->in_use = false;
		}
	}
	LWLockRelease(shared->lock);
}

/*
 * Drop the checkpoints of clusters whose watcher was stopped because its scope
 * changed and has exited since (its slot is free again).  The flags are
 * cleared once this transaction has committed (forget_checkpoint_resets).
 */
static void
reset_checkpoints(void)
{
	SharedState *shared = shared_state();

	for (int slot = 0; slot < MAX_WATCHED_CLUSTERS; slot++)
	{
		char  cluster[CLUSTER_NAME_LEN];
		bool  reset;
		Oid   argtypes[1] = {TEXTOID};
		Datum args[1];

		if (running[slot].state != SLOT_FREE)
			continue;
		LWLockAcquire(shared->lock, LW_SHARED);
		reset = shared->slots[slot].reset_checkpoint;
		strlcpy(cluster, shared->slots[slot].cluster, CLUSTER_NAME_LEN);
		LWLockRelease(shared->lock);
		if (!reset)
			continue;
		args[0] = CStringGetTextDatum(cluster);
		if (SPI_execute_with_args("DELETE FROM k8s_events.watch_checkpoints AS cp "
		                          "WHERE cp.cluster = $1",
		                          1, argtypes, args, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "could not reset the checkpoint of cluster \"%s\"", cluster);
		if (SPI_processed > 0)
			ereport(LOG,
			        (errmsg("k8s_events: cluster \"%s\": dropped the checkpoint its previous "
			                "watcher wrote after the cluster moved to another API server or scope",
			                cluster)));
	}
}

static void
forget_checkpoint_resets(void)
{
	SharedState *shared = shared_state();

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	for (int slot = 0; slot < MAX_WATCHED_CLUSTERS; slot++)
		if (running[slot].state == SLOT_FREE)
			shared->slots[slot].reset_checkpoint = false;
	LWLockRelease(shared->lock);
}

/* The enabled clusters, a list of WantedCluster in TopMemoryContext; NIL if the extension is
 * absent. */
static List *
enabled_clusters(void)
{
	List *wanted = NIL;

	if (!OidIsValid(get_extension_oid("k8s_events", true)))
		return NIL;
	/* ROW(...)::text tells NULL from '', so a hash changes whenever a setting does. */
	if (SPI_execute("SELECT name, "
	                "pg_catalog.md5(ROW(api_server, token_file, ca_file, client_cert_file, "
	                "client_key_file, kubeconfig, context, namespace, "
	                "insecure_skip_tls_verify)::text), "
	                "pg_catalog.md5(ROW(api_server, kubeconfig, context, namespace)::text) "
	                "FROM k8s_events.clusters WHERE enabled ORDER BY name",
	                true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read k8s_events.clusters");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple tuple = SPI_tuptable->vals[i];
		TupleDesc desc = SPI_tuptable->tupdesc;
		char     *name = SPI_getvalue(tuple, desc, 1);
		char     *config = SPI_getvalue(tuple, desc, 2);
		char     *scope = SPI_getvalue(tuple, desc, 3);
		/* The list outlives SPI's memory: the launcher frees it after reconciling. */
		MemoryContext  old = MemoryContextSwitchTo(TopMemoryContext);
		WantedCluster *w = palloc0(sizeof(WantedCluster));

		w->name = pstrdup(name);
		strlcpy(w->config_hash, config, CONFIG_HASH_LEN);
		strlcpy(w->scope_hash, scope, CONFIG_HASH_LEN);
		wanted = lappend(wanted, w);
		MemoryContextSwitchTo(old);
	}
	return wanted;
}

static void
free_wanted(List *wanted)
{
	ListCell *lc;

	foreach (lc, wanted)
		pfree(((WantedCluster *) lfirst(lc))->name);
	list_free_deep(wanted);
}

static WantedCluster *
find_wanted(List *wanted, const char *cluster)
{
	ListCell *lc;

	foreach (lc, wanted)
	{
		WantedCluster *w = lfirst(lc);

		if (strcmp(w->name, cluster) == 0)
			return w;
	}
	return NULL;
}

static void
reconcile(List *wanted)
{
	SharedState *shared = shared_state();
	ListCell    *lc;

	/* Stop watchers of clusters no longer wanted, or wanted with other settings. */
	for (int slot = 0; slot < MAX_WATCHED_CLUSTERS; slot++)
	{
		WantedCluster *w;
		char           config_hash[CONFIG_HASH_LEN];
		char           scope_hash[CONFIG_HASH_LEN];

		if (running[slot].state != SLOT_RUNNING)
			continue;
		w = find_wanted(wanted, running[slot].cluster);
		if (w == NULL)
		{
			stop_watcher(slot, false);
			continue;
		}
		LWLockAcquire(shared->lock, LW_SHARED);
		strlcpy(config_hash, shared->slots[slot].config_hash, CONFIG_HASH_LEN);
		strlcpy(scope_hash, shared->slots[slot].scope_hash, CONFIG_HASH_LEN);
		LWLockRelease(shared->lock);
		if (strcmp(config_hash, w->config_hash) != 0)
		{
			bool moved = strcmp(scope_hash, w->scope_hash) != 0;

			ereport(LOG,
			        (errmsg("k8s_events: cluster \"%s\" changed; restarting its watcher%s", w->name,
			                moved ? " (another API server or scope: it lists afresh)" : "")));
			stop_watcher(slot, moved);
		}
	}
	/* Start the missing ones, once a stopping watcher of the same cluster has gone. */
	foreach (lc, wanted)
	{
		WantedCluster *w = lfirst(lc);
		int            free_slot = -1;
		bool           found = false;

		for (int slot = 0; slot < MAX_WATCHED_CLUSTERS; slot++)
		{
			if (running[slot].state == SLOT_FREE)
			{
				if (free_slot < 0)
					free_slot = slot;
			}
			else if (strcmp(running[slot].cluster, w->name) == 0)
				found = true;
		}
		if (found)
			continue;
		if (free_slot < 0)
		{
			ereport(WARNING, (errmsg("k8s_events: more than %d clusters; \"%s\" is not watched",
			                         MAX_WATCHED_CLUSTERS, w->name)));
			continue;
		}
		start_watcher(free_slot, w);
	}
}

/*
 * Partitions for the next two days, and retention.  A failure is a WARNING,
 * not the launcher's end: in a subtransaction, so clusters are still watched.
 */
static void
maintenance_queries(void *arg)
{
	if (SPI_execute(
	        "SELECT count(*) FROM k8s_events.create_partitions(now(), now() + interval '2 days')",
	        false, 0) != SPI_OK_SELECT ||
	    SPI_execute("SELECT count(*) FROM k8s_events.drop_partitions()", false, 0) != SPI_OK_SELECT)
		elog(ERROR, "partition maintenance queries failed");
}

static void
maintain_partitions(void)
{
	ErrorData *error;

	if (!run_in_subtransaction(maintenance_queries, NULL, &error))
	{
		ereport(WARNING, (errmsg("k8s_events: partition maintenance failed: %s", error->message),
		                  errhint("It is tried again after k8s_events.maintenance_interval.")));
		FreeErrorData(error);
	}
}

/*
 * One transaction: read the wanted clusters, reconcile, maybe maintain.
 * Returns whether maintenance ran: not before the extension exists.
 */
static bool
launcher_round(bool maintain)
{
	List *wanted;
	bool  exists;

	/* First: a watcher that exited frees its slot, and may leave a checkpoint to reset. */
	collect_exited_watchers();

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "reading k8s_events.clusters");

	exists = OidIsValid(get_extension_oid("k8s_events", true));
	if (exists)
		reset_checkpoints();
	wanted = enabled_clusters();
	maintain = maintain && exists;
	if (maintain)
	{
		pgstat_report_activity(STATE_RUNNING, "maintaining k8s_events partitions");
		maintain_partitions();
	}

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);

	if (exists)
		forget_checkpoint_resets();
	reconcile(wanted);
	free_wanted(wanted);
	return maintain;
}

/* Nobody should set the latch of a process that has gone. */
static void
unpublish_latch(int code, Datum arg)
{
	SharedState *shared = shared_state();

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (shared->launcher_latch == MyLatch)
		shared->launcher_latch = NULL;
	LWLockRelease(shared->lock);
}

PGDLLEXPORT void k8s_events_launcher_main(Datum main_arg);

void
k8s_events_launcher_main(Datum main_arg)
{
	TimestampTz  next_maintenance = 0;
	SharedState *shared = shared_state();

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(k8s_events_database, NULL, 0);
	/* Before any query: nothing the database's owner set may change what we run. */
	worker_pin_session_settings();

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	shared->launcher_latch = MyLatch;
	LWLockRelease(shared->lock);
	before_shmem_exit(unpublish_latch, (Datum) 0);
	adopt_running_watchers();

	for (;;)
	{
		TimestampTz now = GetCurrentTimestamp();
		bool        maintain = now >= next_maintenance;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		/* Until the extension exists, every round tries: it starts with partitions made. */
		if (launcher_round(maintain))
			next_maintenance =
			    TimestampTzPlusMilliseconds(now, (int64) k8s_events_maintenance_interval_s * 1000);

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
		                 RECONCILE_INTERVAL_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
