/*
 * supervisor.c
 *	  The static background worker: keeps the launcher running in
 *	  k8s_events.database, or says once why it cannot.
 *
 * A worker that connects to a database that does not exist exits FATAL, and
 * a static one is started again every bgw_restart_time, forever: a wrong
 * k8s_events.database, or DROP DATABASE ... WITH (FORCE) of the right one,
 * used to fill the log with the same FATAL every 10 s.  So the static worker
 * connects to no database (it reads only the shared catalog pg_database),
 * and starts the launcher, which connects to k8s_events.database, only when
 * that database exists.  When the database is missing it logs one WARNING
 * with a hint and looks again after a backoff (1 s, doubling, 5 min at
 * most); when the launcher exits with an error, it starts it again after
 * the same backoff.  The launcher is registered with BGW_NEVER_RESTART, so
 * there is only ever the one the supervisor started.
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/procarray.h"
#include "tcop/tcopprot.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "settings.h"
#include "shared_state.h"
#include "workers.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS (5 * 60 * 1000)
/* A launcher that ran this long was working: its exit starts a new backoff series. */
#define LAUNCHER_HEALTHY_MS (60 * 1000)
/* How often to look whether a launcher this supervisor did not start has exited. */
#define FOREIGN_LAUNCHER_POLL_MS 5000

void
workers_register_supervisor(void)
{
	BackgroundWorker worker = {0};

	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	/* It fails only on errors of its own (out of memory): then the postmaster's restart is right.
	 */
	worker.bgw_restart_time = 10;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "k8s_events");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "k8s_events_supervisor_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "k8s_events supervisor");
	snprintf(worker.bgw_type, BGW_MAXLEN, "k8s_events supervisor");
	RegisterBackgroundWorker(&worker);
}

/* What the supervisor finds of k8s_events.database in pg_database. */
typedef enum DatabaseState
{
	DATABASE_READY,
	DATABASE_MISSING,
	DATABASE_NO_CONNECTIONS, /* ALTER DATABASE ... ALLOW_CONNECTIONS false */
	DATABASE_INVALID         /* left by a DROP DATABASE that was interrupted */
} DatabaseState;

/*
 * k8s_events.database's state: a heap scan of pg_database, as the autovacuum
 * launcher reads it, since a process without a database cannot open the
 * catalogs' indexes.  The launcher is started only for one it can connect to:
 * any other would end it FATAL at every try.
 */
static DatabaseState
database_state(void)
{
	Relation      rel;
	TableScanDesc scan;
	HeapTuple     tuple;
	DatabaseState state = DATABASE_MISSING;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while (state == DATABASE_MISSING &&
	       HeapTupleIsValid(tuple = heap_getnext(scan, ForwardScanDirection)))
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tuple);

		if (strcmp(NameStr(db->datname), k8s_events_database) != 0)
			continue;
		if (database_is_invalid_form(db))
			state = DATABASE_INVALID;
		else if (!db->datallowconn)
			state = DATABASE_NO_CONNECTIONS;
		else
			state = DATABASE_READY;
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	return state;
}

/* Say once why no launcher runs (the caller remembers that it said so). */
static void
warn_unusable(DatabaseState state)
{
	const char *why = state == DATABASE_MISSING          ? "does not exist"
	                  : state == DATABASE_NO_CONNECTIONS ? "does not allow connections"
	                                                     : "is invalid (a DROP DATABASE was "
	                                                       "interrupted)";

	ereport(WARNING,
	        (errmsg("k8s_events: database \"%s\" %s: no cluster is watched and no partition is "
	                "maintained",
	                k8s_events_database, why),
	         errdetail("k8s_events.database names the database the background workers connect "
	                   "to; it is looked at again every few minutes."),
	         state == DATABASE_NO_CONNECTIONS
	             ? errhint("Allow connections again with ALTER DATABASE %s ALLOW_CONNECTIONS "
	                       "true.",
	                       k8s_events_database)
	             : errhint("Create that database and run CREATE EXTENSION k8s_events in it, or set "
	                       "k8s_events.database to the database that has the extension and "
	                       "restart the server.")));
}

static BackgroundWorkerHandle *
start_launcher(void)
{
	BackgroundWorker        worker = {0};
	BackgroundWorkerHandle *handle;
	pid_t                   pid;

	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART; /* we restart it */
	worker.bgw_notify_pid = MyProcPid;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "k8s_events");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "k8s_events_launcher_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "k8s_events launcher");
	snprintf(worker.bgw_type, BGW_MAXLEN, "k8s_events launcher");
	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
	{
		ereport(WARNING, (errmsg("k8s_events: could not start the launcher"),
		                  errhint("Raise max_worker_processes.")));
		return NULL;
	}
	if (WaitForBackgroundWorkerStartup(handle, &pid) != BGWH_STARTED)
	{
		pfree(handle);
		return NULL;
	}
	return handle;
}

/* Whether a launcher runs: its pid in shared memory, still a live backend. */
static bool
launcher_running(void)
{
	SharedState *shared = shared_state();
	bool         running;

	LWLockAcquire(shared->lock, LW_SHARED);
	running = shared->launcher_pid != 0 && BackendPidGetProc(shared->launcher_pid) != NULL;
	LWLockRelease(shared->lock);
	return running;
}

/* Wait on the latch until ms have passed, or the launcher's state changed. */
static void
supervisor_wait(long ms)
{
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, ms,
	                 PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();
	if (ConfigReloadPending)
	{
		ConfigReloadPending = false;
		ProcessConfigFile(PGC_SIGHUP);
	}
}

PGDLLEXPORT void k8s_events_supervisor_main(Datum main_arg);

void
k8s_events_supervisor_main(Datum main_arg)
{
	long missing_backoff = BACKOFF_MIN_MS;  /* between looks for a missing database */
	long launcher_backoff = BACKOFF_MIN_MS; /* between starts of a failing launcher */
	/* What was last said about the database: each state is said once, until it changes. */
	DatabaseState warned_state = DATABASE_READY;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	/* No database: only the shared catalogs, pg_database among them. */
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	pgstat_report_activity(STATE_IDLE, NULL);

	for (;;)
	{
		BackgroundWorkerHandle *launcher;
		TimestampTz             started;
		pid_t                   pid;
		DatabaseState           state;

		CHECK_FOR_INTERRUPTS();
		state = database_state();

		if (state != DATABASE_READY)
		{
			if (state != warned_state)
				warn_unusable(state);
			warned_state = state;
			pgstat_report_activity(STATE_RUNNING, "waiting for k8s_events.database to be usable");
			supervisor_wait(missing_backoff);
			missing_backoff = Min(missing_backoff * 2, BACKOFF_MAX_MS);
			continue;
		}
		missing_backoff = BACKOFF_MIN_MS;
		if (warned_state != DATABASE_READY)
			ereport(LOG, (errmsg("k8s_events: database \"%s\" can be used now; starting the "
			                     "launcher",
			                     k8s_events_database)));
		warned_state = DATABASE_READY;

		/*
		 * A launcher we did not start (this supervisor was restarted; the
		 * launcher outlives it) is waited for, not doubled.
		 */
		if (launcher_running())
		{
			supervisor_wait(FOREIGN_LAUNCHER_POLL_MS);
			continue;
		}
		launcher = start_launcher();
		started = GetCurrentTimestamp();
		pgstat_report_activity(STATE_IDLE, NULL);
		/* The postmaster sets our latch when the launcher exits (bgw_notify_pid). */
		while (launcher != NULL && GetBackgroundWorkerPid(launcher, &pid) != BGWH_STOPPED)
			supervisor_wait(BACKOFF_MAX_MS);
		if (launcher != NULL)
			pfree(launcher);

		if (TimestampDifferenceExceeds(started, GetCurrentTimestamp(), LAUNCHER_HEALTHY_MS))
			launcher_backoff = BACKOFF_MIN_MS;
		/*
		 * Gone with its database (DROP DATABASE ... WITH (FORCE)), or failed:
		 * after a backoff, which doubles while the launcher keeps failing soon.
		 */
		supervisor_wait(launcher_backoff);
		launcher_backoff = Min(launcher_backoff * 2, BACKOFF_MAX_MS);
	}
}
