/*
 * launcher.c
 *	  The background worker that keeps one watcher running per enabled cluster;
 *	  started, and restarted after a failure, by the supervisor (supervisor.c).
 *
 * It waits until the extension exists in k8s_events.database, then reconciles the
 * running watchers with k8s_events.clusters whenever that table changes (a
 * trigger sets our latch at commit) and at least every few seconds, and does
 * partition maintenance every k8s_events.maintenance_interval.
 *
 * The launcher owns its watchers' restarts.  They are registered with
 * BGW_NEVER_RESTART: a watcher that fails (its error is in watch_status, state
 * 'failed') keeps its slot, and the launcher starts it again in that slot after
 * a backoff that doubles with each failure in a row, from 1 s to 5 min, with
 * jitter.  Since the postmaster never restarts a watcher, a slot has one
 * watcher process at most, and a cluster one slot: never two watchers.
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
#include "common/pg_prng.h"
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
#include "schemas.h"
#include "shared_state.h"
#include "subtransaction.h"
#include "workers.h"

/* How often the launcher looks at k8s_events.clusters without being woken. */
#define RECONCILE_INTERVAL_MS 5000
/* A failed watcher is started again after a backoff: 1 s, doubled per failure in a row, 5 min at
 * most. */
#define RESTART_BACKOFF_MIN_MS 1000
#define RESTART_BACKOFF_MAX_MS (5 * 60 * 1000)

typedef enum RunState
{
	SLOT_FREE,
	SLOT_RUNNING,
	SLOT_STOPPING, /* asked to stop; the slot is not reused until it has */
	SLOT_FAILED    /* exited with an error; started again at restart_at */
} RunState;

typedef struct RunningWatcher
{
	RunState                state;
	BackgroundWorkerHandle *handle; /* NULL for a watcher adopted from a previous launcher */
	char                    cluster[CLUSTER_NAME_LEN];
	int                     failures; /* in a row, without a batch stored in between */
	TimestampTz             restart_at;
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

/*
 * Start a watcher for the cluster in the slot.  restart: the slot's watcher of
 * this cluster failed, and the new one keeps its restart count and last error.
 */
static bool
start_watcher(int slot, const WantedCluster *wanted, bool restart)
{
	BackgroundWorker worker = {0};
	SharedState     *shared = shared_state();
	uint32           generation;
	const char      *cluster = wanted->name;

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	generation = next_generation(shared->slots[slot].generation);
	if (restart)
	{
		WatchSlot  *w = &shared->slots[slot];
		int64       restarts = w->restarts + 1;
		char        last_error[STATUS_ERROR_LEN];
		TimestampTz last_error_at = w->last_error_at;

		memcpy(last_error, w->last_error, sizeof(last_error));
		memset(w, 0, sizeof(WatchSlot));
		w->restarts = restarts;
		memcpy(w->last_error, last_error, sizeof(last_error));
		w->last_error_at = last_error_at;
	}
	else
	{
		memset(&shared->slots[slot], 0, sizeof(WatchSlot));
		running[slot].failures = 0;
	}
	shared->slots[slot].generation = generation;
	shared->slots[slot].in_use = true;
	strlcpy(shared->slots[slot].cluster, cluster, CLUSTER_NAME_LEN);
	strlcpy(shared->slots[slot].config_hash, wanted->config_hash, CONFIG_HASH_LEN);
	strlcpy(shared->slots[slot].scope_hash, wanted->scope_hash, CONFIG_HASH_LEN);
	shared->slots[slot].state = LIST_WATCH_STARTING;
	shared->slots[slot].since = GetCurrentTimestamp();
	LWLockRelease(shared->lock);

	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART; /* we restart it: see the top of this file */
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
		running[slot].state = SLOT_FREE; /* tried again, afresh, at the next round */
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

/* The wait before restarting a watcher that failed this many times in a row. */
static long
restart_backoff_ms(int failures)
{
	long delay = RESTART_BACKOFF_MIN_MS;

	for (int i = 1; i < failures && delay < RESTART_BACKOFF_MAX_MS; i++)
		delay *= 2;
	delay = Min(delay, RESTART_BACKOFF_MAX_MS);
	/* Jitter, so that the watchers of one failing database do not restart in step. */
	return delay + (long) pg_prng_uint64_range(&pg_global_prng_state, 0, (uint64) delay / 4);
}

/*
 * A watcher that exited without being asked to: with code 0 it found nothing
 * to watch (its cluster disabled or removed), and its slot is free; otherwise
 * it failed, and it keeps its slot, marked failed, until its restart is due.
 */
static void
watcher_exited(int slot)
{
	SharedState *shared = shared_state();
	WatchSlot   *w = &shared->slots[slot];
	bool         cleanly;
	long         delay = 0;
	char         error[STATUS_ERROR_LEN];

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	cleanly = w->exited && w->exited_cleanly;
	if (!cleanly)
	{
		/*
		 * A watcher that committed a checkpoint made progress: its failure
		 * starts a new series.  Rows alone are no progress: the pages of a
		 * LIST before its last carry no checkpoint, and a watcher failing on
		 * the second page would list again from the first, every second.
		 */
		running[slot].failures = w->checkpoints_committed > 0 ? 1 : running[slot].failures + 1;
		delay = restart_backoff_ms(running[slot].failures);
		running[slot].restart_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), delay);
		if (!w->exited || w->last_error[0] == '\0')
		{
			/* It died before it could say why (in its start, or killed): the log has it. */
			strlcpy(w->last_error, "the watcher exited unexpectedly: see the server log",
			        sizeof(w->last_error));
			w->last_error_at = GetCurrentTimestamp();
		}
		if (w->state != LIST_WATCH_FAILED)
			w->since = GetCurrentTimestamp();
		w->state = LIST_WATCH_FAILED;
		w->pid = 0;
		w->latch = NULL;
		w->restart_at = running[slot].restart_at;
		strlcpy(error, w->last_error, sizeof(error));
	}
	else
		w->in_use = false;
	LWLockRelease(shared->lock);

	if (cleanly)
	{
		running[slot].state = SLOT_FREE;
		running[slot].failures = 0;
		return;
	}
	running[slot].state = SLOT_FAILED;
	ereport(LOG, (errmsg("k8s_events: the watcher of cluster \"%s\" failed (%d in a row); "
	                     "starting it again in %.1f s",
	                     running[slot].cluster, running[slot].failures, delay / 1000.0),
	              errdetail("%s", error)));
}

/*
 * Free the slots of watchers stopped on request, and handle the ones that
 * ended by themselves (watcher_exited), so that a wanted cluster gets a
 * watcher again.
 */
static void
collect_exited_watchers(void)
{
	for (int slot = 0; slot < MAX_WATCHED_CLUSTERS; slot++)
	{
		RunState was = running[slot].state;

		if (was == SLOT_FREE || was == SLOT_FAILED || !watcher_gone(slot))
			continue;
		if (running[slot].handle != NULL)
			pfree(running[slot].handle);
		running[slot].handle = NULL;
		if (was == SLOT_RUNNING)
			watcher_exited(slot);
		else
			running[slot].state = SLOT_FREE;
	}
}

/* A failed watcher that is not to be restarted (its cluster went, or changed): free its slot. */
static void
forget_failed_watcher(int slot)
{
	SharedState *shared = shared_state();

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	shared->slots[slot].generation = next_generation(shared->slots[slot].generation);
	shared->slots[slot].in_use = false;
	LWLockRelease(shared->lock);
	running[slot].state = SLOT_FREE;
	running[slot].failures = 0;
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
		if (SPI_execute_with_args(psprintf("DELETE FROM %s AS cp "
		                                   "WHERE cp.cluster OPERATOR(pg_catalog.=) $1",
		                                   internal_table("watch_checkpoints")),
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
	if (SPI_execute(
	        "SELECT name, "
	        "pg_catalog.md5(ROW(api_server, token_file, ca_file, client_cert_file, "
	        "client_key_file, kubeconfig, context, namespace, "
	        "insecure_skip_tls_verify)::pg_catalog.text), "
	        "pg_catalog.md5(ROW(api_server, kubeconfig, context, namespace)::pg_catalog.text) "
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

		if (running[slot].state != SLOT_RUNNING && running[slot].state != SLOT_FAILED)
			continue;
		w = find_wanted(wanted, running[slot].cluster);
		if (w == NULL)
		{
			if (running[slot].state == SLOT_FAILED)
				forget_failed_watcher(slot);
			else
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
			if (running[slot].state == SLOT_FAILED)
				forget_failed_watcher(slot); /* the change may be the fix: start it now */
			else
				stop_watcher(slot, moved);
			continue;
		}
		/* A failed watcher whose backoff is over starts again, in its own slot. */
		if (running[slot].state == SLOT_FAILED && GetCurrentTimestamp() >= running[slot].restart_at)
			start_watcher(slot, w, true);
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
		start_watcher(free_slot, w, false);
	}
}

/* How long the launcher may sleep: until the next failed watcher's restart, at most the interval.
 */
static long
launcher_wait_ms(void)
{
	long        wait = RECONCILE_INTERVAL_MS;
	TimestampTz now = GetCurrentTimestamp();

	for (int slot = 0; slot < MAX_WATCHED_CLUSTERS; slot++)
		if (running[slot].state == SLOT_FAILED)
			wait =
			    Min(wait, Max(0, TimestampDifferenceMilliseconds(now, running[slot].restart_at)));
	return wait;
}

/*
 * Partitions for the next two days, and retention.  A failure is a WARNING,
 * not the launcher's end: in a subtransaction, so clusters are still watched.
 */
static void
maintenance_queries(void *arg)
{
	if (SPI_execute(
	        "SELECT pg_catalog.count(*) FROM k8s_events.create_partitions(pg_catalog.now(), "
	        "pg_catalog.now() OPERATOR(pg_catalog.+) '2 days'::pg_catalog.interval)",
	        false, 0) != SPI_OK_SELECT ||
	    SPI_execute("SELECT pg_catalog.count(*) FROM k8s_events.drop_partitions()", false, 0) !=
	        SPI_OK_SELECT)
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
	worker_arm_statement_timeout();
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
	worker_disarm_statement_timeout();
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
	if (shared->launcher_pid == MyProcPid)
		shared->launcher_pid = 0;
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
	if (shared->launcher_pid != 0 && BackendPidGetProc(shared->launcher_pid) != NULL)
	{
		/* A supervisor that was restarted started us beside a launcher that still runs. */
		pid_t other = shared->launcher_pid;

		LWLockRelease(shared->lock);
		ereport(LOG, (errmsg("k8s_events: a launcher is running already (pid %d)", (int) other)));
		proc_exit(0);
	}
	shared->launcher_pid = MyProcPid;
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
		                 launcher_wait_ms(), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
