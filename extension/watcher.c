/*
 * watcher.c
 *	  The background worker that follows one cluster's Events: the backend
 *	  host of the list/watch engine in core/list_watch.c.
 *
 * The engine does LIST, WATCH, batching, 410s and backoff; this file gives it
 * what only a backend has.  Each batch is stored through the same ingest code
 * as k8s_events.ingest(), in one transaction that also commits the
 * resourceVersion it reaches (k8s_events_internal.watch_checkpoints), so after any
 * crash the watch resumes exactly where the stored rows end.  Every wait is a
 * latch wait: SIGTERM ends the worker at once, SIGHUP reloads the settings
 * the engine reads at every pump.  A database error ends the process, its
 * message left in watch_status (state 'failed'), and the launcher starts it
 * again from the checkpoint after a backoff.  Status goes to our slot of
 * shared memory, written only while the launcher has not given the slot a
 * new generation.
 */
#include "postgres.h"

#include "access/xact.h"
#include "common/pg_prng.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"
#include "pg_builtins.h"

#include "ingest.h"
#include "core/list_watch.h"
#include "settings.h"
#include "schemas.h"
#include "shared_state.h"
#include "watch_store.h"
#include "workers.h"

/* How long to wait before trying again for a cluster another watcher holds. */
#define LOCK_RETRY_MS 5000

/* This process: one slot, one cluster, for its whole life. */
static int              my_slot;
static uint32           my_generation;
static ListWatchCluster config;
/* The checkpoint read with the configuration, handed to the engine once. */
static char *initial_checkpoint;
static bool  initial_checkpoint_given;
/* What the engine allocates (its buffers, curl requests' bodies), freed by it. */
static MemoryContext engine_cxt;
/*
 * Current while the engine runs: what jansson allocates (the frames and pages
 * it parses, held by the engine until it hands them to host_store), the
 * waits' sets.  Reset by host_store only (see list_watch.h).
 */
static MemoryContext scratch_cxt;

/*
 * Our slot in shared memory, locked exclusively, or NULL (and not locked) when
 * the launcher has given it a new generation: it is not ours to write then.
 */
static WatchSlot *
lock_my_slot(void)
{
	SharedState *shared = shared_state();

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (shared->slots[my_slot].generation != my_generation)
	{
		LWLockRelease(shared->lock);
		return NULL;
	}
	return &shared->slots[my_slot];
}

static void
unlock_my_slot(void)
{
	LWLockRelease(shared_state()->lock);
}

static void
set_state(ListWatchState s, const char *error)
{
	WatchSlot *slot = lock_my_slot();

	if (slot != NULL)
	{
		if (slot->state != s)
			slot->since = GetCurrentTimestamp();
		slot->state = s;
		if (error != NULL)
		{
			strlcpy(slot->last_error, error, sizeof(slot->last_error));
			slot->last_error_at = GetCurrentTimestamp();
		}
		unlock_my_slot();
	}
	pgstat_report_activity(STATE_RUNNING, list_watch_state_name(s));
}

/* Whether this run's failure is already in the slot, with its message. */
static bool failure_recorded;

/* An error is ending the process: say so in watch_status, for the launcher and the user. */
static void
record_failure(const char *message)
{
	WatchSlot *slot = lock_my_slot();

	if (slot != NULL)
	{
		if (slot->state != LIST_WATCH_FAILED)
			slot->since = GetCurrentTimestamp();
		slot->state = LIST_WATCH_FAILED;
		strlcpy(slot->last_error, message, sizeof(slot->last_error));
		slot->last_error_at = GetCurrentTimestamp();
		unlock_my_slot();
	}
	failure_recorded = true;
}

/*
 * On exit: the launcher waits for the pid to clear before it reuses the slot,
 * and learns from exited_cleanly whether we failed (code != 0).
 */
static void
release_my_slot(int code, Datum arg)
{
	WatchSlot *slot;

	if (code != 0 && !failure_recorded)
		record_failure(psprintf("the watcher exited with code %d (terminated?): see the "
		                        "server log",
		                        code));
	slot = lock_my_slot();

	if (slot == NULL)
	{
		/* Reassigned or stopped: still clear our pid, which only we set. */
		SharedState *shared = shared_state();

		LWLockAcquire(shared->lock, LW_EXCLUSIVE);
		if (shared->slots[my_slot].pid == MyProcPid)
		{
			shared->slots[my_slot].pid = 0;
			shared->slots[my_slot].latch = NULL;
		}
		LWLockRelease(shared->lock);
		return;
	}
	slot->pid = 0;
	slot->latch = NULL;
	slot->exited = true;
	slot->exited_cleanly = code == 0;
	unlock_my_slot();
}

/*
 * Leave if the launcher wants us gone but holds no handle to terminate us
 * with (it took us over from a launcher that crashed).  Exit code 0 keeps
 * the postmaster from starting us again.
 */
static void
leave_if_unwanted(void)
{
	SharedState *shared = shared_state();
	bool         unwanted;

	LWLockAcquire(shared->lock, LW_SHARED);
	unwanted = shared->slots[my_slot].generation != my_generation;
	LWLockRelease(shared->lock);
	if (unwanted)
		proc_exit(0);
}

/* After any wake-up: what a signal asked for. */
static void
handle_interrupts(void)
{
	CHECK_FOR_INTERRUPTS();
	leave_if_unwanted();
	if (ConfigReloadPending)
	{
		ConfigReloadPending = false;
		ProcessConfigFile(PGC_SIGHUP);
	}
}

static char *
text_or_null(HeapTuple tuple, TupleDesc desc, int column)
{
	char *value = SPI_getvalue(tuple, desc, column);

	return value != NULL ? MemoryContextStrdup(TopMemoryContext, value) : NULL;
}

/*
 * Read the cluster's row and checkpoint, and take the cluster's watch lock
 * (see watch_store.h).  Returns false when the cluster is gone or disabled;
 * *locked_by says who else holds the lock ("" when we got it).
 */
static bool
load_config(char *locked_by, size_t locked_by_len)
{
	Oid           argtypes[1] = {TEXTOID};
	Datum         args[1] = {CStringGetTextDatum(config.name)};
	bool          found = false;
	bool          got_lock;
	MemoryContext caller = CurrentMemoryContext;

	locked_by[0] = '\0';
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	/*
	 * The lock before the snapshot: whatever the previous holder committed
	 * before it let go is then seen, its last checkpoint included.
	 */
	PushActiveSnapshot(GetTransactionSnapshot()); /* for finding the lock's key */
	got_lock = watch_lock_cluster(config.name);
	PopActiveSnapshot();
	PushActiveSnapshot(GetTransactionSnapshot()); /* READ COMMITTED: a new one */
	if (SPI_execute_with_args(
	        psprintf("SELECT api_server, token_file, ca_file, client_cert_file, "
	                 "client_key_file, kubeconfig, namespace, insecure_skip_tls_verify, "
	                 "cp.resource_version, context FROM k8s_events.clusters AS c "
	                 "LEFT JOIN %s AS cp "
	                 "ON cp.cluster OPERATOR(pg_catalog.=) c.name "
	                 "WHERE c.name OPERATOR(pg_catalog.=) $1 AND c.enabled",
	                 internal_table("watch_checkpoints")),
	        1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read k8s_events.clusters");
	if (SPI_processed == 1)
	{
		HeapTuple tuple = SPI_tuptable->vals[0];
		TupleDesc desc = SPI_tuptable->tupdesc;

		found = true;
		config.api_server = text_or_null(tuple, desc, 1);
		config.token_file = text_or_null(tuple, desc, 2);
		config.ca_file = text_or_null(tuple, desc, 3);
		config.client_cert_file = text_or_null(tuple, desc, 4);
		config.client_key_file = text_or_null(tuple, desc, 5);
		config.kubeconfig = text_or_null(tuple, desc, 6);
		config.namespace = text_or_null(tuple, desc, 7);
		config.insecure_skip_tls_verify = strcmp(SPI_getvalue(tuple, desc, 8), "t") == 0;
		initial_checkpoint = text_or_null(tuple, desc, 9);
		config.context = text_or_null(tuple, desc, 10);
		if (!got_lock)
		{
			char *holder = watch_lock_holder(config.name);

			strlcpy(locked_by, holder, locked_by_len);
		}
	}
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(caller);
	return found;
}

/* ---------------------------------------------------------------- the engine's host */

/*
 * The engine allocates inside curl's write callback too (the frame splitter,
 * the batch), where an ereport() would longjmp through libcurl's frames.  So
 * running out of memory returns NULL, never an error: core/ then ends the
 * request and backs off with "out of memory" (list_watch.h).
 */
static void *
engine_alloc(void *ctx, size_t size)
{
	/* MemoryContextAllocExtended raises an error for a size it cannot serve at all. */
	if (!AllocHugeSizeIsValid(size))
		return NULL;
	return MemoryContextAllocExtended((MemoryContext) ctx, size,
	                                  MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
}

/*
 * repalloc cannot return NULL in PostgreSQL 15 (repalloc_extended is not in
 * every 15.x): a new chunk, a copy, the old one freed.  core/ gives old_size.
 */
static void *
engine_realloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
	void *moved = engine_alloc(ctx, new_size);

	if (moved != NULL)
	{
		memcpy(moved, ptr, Min(old_size, new_size));
		pfree(ptr);
	}
	return moved;
}

static void
engine_free(void *ctx, void *ptr)
{
	pfree(ptr);
}

static CoreAllocator engine_allocator = {engine_alloc, engine_realloc, engine_free, NULL};

/*
 * Whether the cluster's row still names the server and scope this watcher
 * loaded, locking it (FOR SHARE) until commit.  An UPDATE that points the row
 * elsewhere drops the checkpoint; this watcher must not write one of its own
 * after that.  If the UPDATE runs first, the lock waits for its commit and then
 * sees the new row; if the lock comes first, the UPDATE waits for our commit
 * and drops what we wrote.
 */
static bool
scope_unchanged(void)
{
	Oid         argtypes[5] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	const char *values[5] = {config.name, config.api_server, config.kubeconfig, config.context,
	                         config.namespace};
	Datum       args[5];
	char        nulls[5];

	for (int i = 0; i < 5; i++)
	{
		args[i] = values[i] != NULL ? CStringGetTextDatum(values[i]) : (Datum) 0;
		nulls[i] = values[i] != NULL ? ' ' : 'n';
	}
	if (SPI_execute_with_args(
	        "SELECT FROM k8s_events.clusters AS c WHERE c.name OPERATOR(pg_catalog.=) $1 "
	        /* IS NOT DISTINCT FROM, spelt out: it would look up an unqualified = */
	        "AND (c.api_server OPERATOR(pg_catalog.=) $2 OR (c.api_server IS NULL AND $2 IS NULL)) "
	        "AND (c.kubeconfig OPERATOR(pg_catalog.=) $3 OR (c.kubeconfig IS NULL AND $3 IS NULL)) "
	        "AND (c.context OPERATOR(pg_catalog.=) $4 OR (c.context IS NULL AND $4 IS NULL)) "
	        "AND (c.namespace OPERATOR(pg_catalog.=) $5 OR (c.namespace IS NULL AND $5 IS NULL)) "
	        "FOR SHARE",
	        5, argtypes, args, nulls, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read k8s_events.clusters");
	return SPI_processed == 1;
}

/* Store the batch and its checkpoint in one transaction. */
static bool
host_store(void *arg, const ListWatchBatch *b, char *err, size_t errlen)
{
	IngestCounts  counts = {0};
	MemoryContext caller = CurrentMemoryContext;
	bool          checkpointed = false;

	/* Where the engine parsed b->values: we reset it below. */
	Assert(caller == scratch_cxt);
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	worker_arm_statement_timeout();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "storing events");
	if (b->values != NULL || b->nrejects > 0)
	{
		Ingest *ingest = ingest_begin(config.name, "watch");

		ingest_reject_expired(ingest);

		/*
		 * Rows come from the values the engine parsed the frames or the page
		 * into: each event is parsed once.  They are ours, in scratch_cxt,
		 * which is reset below; an error ends the process, and them with it.
		 * A raw reject is stored whole (as hex if it is not text, a NUL byte
		 * included), straight from the engine's buffer.
		 */
		if (b->values != NULL)
			ingest_payload(ingest, b->values);
		for (int i = 0; i < b->nrejects; i++)
			ingest_reject_raw(ingest, b->rejects[i].data, b->rejects[i].len, b->rejects[i].reason);
		counts = ingest_end(ingest);
	}
	if (b->resource_version != NULL)
	{
		if (scope_unchanged())
		{
			watch_store_checkpoint(config.name, b->resource_version);
			checkpointed = true;
		}
		else
			ereport(LOG, (errmsg("k8s_events: cluster \"%s\" was pointed at another server or "
			                     "scope: its old watcher stores no checkpoint",
			                     config.name)));
	}
	SPI_finish();
	PopActiveSnapshot();
	worker_disarm_statement_timeout();
	CommitTransactionCommand();
	MemoryContextSwitchTo(caller); /* commit leaves us in TopMemoryContext */
	/*
	 * The engine holds nothing there now (list_watch.h): this frees the
	 * batch's values, and any leftovers of the waits.
	 */
	MemoryContextReset(scratch_cxt);
	pgstat_report_stat(false);

	{
		WatchSlot *slot = lock_my_slot();

		if (slot != NULL)
		{
			if (checkpointed)
				slot->checkpoints_committed++;
			slot->events_stored += counts.stored;
			slot->duplicates += counts.duplicates;
			slot->rejected += counts.rejected;
			slot->deleted_seen += counts.deleted;
			if (counts.stored > 0)
				slot->last_event_at = GetCurrentTimestamp();
			if (b->resource_version != NULL)
				strlcpy(slot->resource_version, b->resource_version,
				        sizeof(slot->resource_version));
			pgstat_report_activity(STATE_RUNNING, list_watch_state_name(slot->state));
			unlock_my_slot();
		}
	}
	return true;
}

/* The checkpoint read at start; later (never, as our stores don't fail) read again. */
static bool
host_checkpoint(void *arg, char **rv, char *err, size_t errlen)
{
	MemoryContext caller = CurrentMemoryContext;
	char         *stored;

	if (!initial_checkpoint_given)
	{
		initial_checkpoint_given = true;
		*rv =
		    initial_checkpoint != NULL ? MemoryContextStrdup(engine_cxt, initial_checkpoint) : NULL;
		return true;
	}
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	stored = watch_read_checkpoint(config.name);
	*rv = stored != NULL ? MemoryContextStrdup(engine_cxt, stored) : NULL;
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(caller);
	return true;
}

static void
host_set_state(void *arg, ListWatchState state, const char *error)
{
	set_state(state, error);
}

static void
host_count(void *arg, ListWatchCounter counter)
{
	WatchSlot *slot = lock_my_slot();

	if (slot != NULL)
	{
		if (counter == LIST_WATCH_RELISTS)
			slot->relists++;
		else
			slot->reconnects++;
		unlock_my_slot();
	}
}

/*
 * The wait set of requests: the latch (signals), postmaster death and the
 * sockets curl watches.  Built once per set of sockets, not per wait: curl
 * keeps the same socket for the whole of a watch, and creating an epoll set
 * at every wake-up costs four system calls each time.  Lives for the process,
 * in TopMemoryContext.
 */
#define WAIT_FIXED_EVENTS 2 /* the latch, postmaster death; the sockets follow */

static WaitEventSet *wait_set;
static int           wait_nsockets;
/* What the set watches now, per socket: curl's id for it, and the events. */
static uint64 wait_socket_id[HTTP_MAX_SOCKETS];
static uint32 wait_socket_events[HTTP_MAX_SOCKETS];

static uint32
socket_events(const HttpPollFd *fd)
{
	return (fd->want_read ? WL_SOCKET_READABLE : 0) | (fd->want_write ? WL_SOCKET_WRITEABLE : 0);
}

/*
 * Make wait_set watch exactly these sockets: ModifyWaitEvent when they are
 * the same sockets wanted for other events, a new set when curl added or
 * removed one (a closed descriptor has left the kernel's set by itself).
 */
static void
prepare_wait_set(HttpPollFd *fds, int nfds)
{
	bool same = wait_set != NULL && nfds == wait_nsockets;

	for (int i = 0; same && i < nfds; i++)
		same = fds[i].id == wait_socket_id[i];
	if (same)
	{
		for (int i = 0; i < nfds; i++)
		{
			uint32 events = socket_events(&fds[i]);

			if (events != wait_socket_events[i])
			{
				ModifyWaitEvent(wait_set, WAIT_FIXED_EVENTS + i, events, NULL);
				wait_socket_events[i] = events;
			}
		}
		return;
	}
	if (wait_set != NULL)
		FreeWaitEventSet(wait_set);
	wait_set = CreateWaitEventSet(TopMemoryContext, WAIT_FIXED_EVENTS + HTTP_MAX_SOCKETS);
	AddWaitEventToSet(wait_set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
	AddWaitEventToSet(wait_set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
	for (int i = 0; i < nfds; i++)
	{
		wait_socket_id[i] = fds[i].id;
		wait_socket_events[i] = socket_events(&fds[i]);
		AddWaitEventToSet(wait_set, wait_socket_events[i], fds[i].fd, NULL, NULL);
	}
	wait_nsockets = nfds;
}

/*
 * The wait of a request, then whatever a signal asked for.  Never false:
 * SIGTERM ends the process from CHECK_FOR_INTERRUPTS instead.
 */
static bool
host_wait(void *arg, HttpPollFd *fds, int nfds, long timeout_ms)
{
	WaitEvent events[WAIT_FIXED_EVENTS + HTTP_MAX_SOCKETS];
	int       n;

	prepare_wait_set(fds, nfds);
	n = WaitEventSetWait(wait_set, timeout_ms, events, lengthof(events), PG_WAIT_EXTENSION);
	for (int i = 0; i < n; i++)
	{
		int socket = events[i].pos - WAIT_FIXED_EVENTS;

		if (events[i].events & WL_LATCH_SET)
			ResetLatch(MyLatch);
		else if (socket >= 0 && socket < nfds)
		{
			fds[socket].readable = (events[i].events & WL_SOCKET_READABLE) != 0;
			fds[socket].writable = (events[i].events & WL_SOCKET_WRITEABLE) != 0;
		}
	}
	handle_interrupts();
	return true;
}

/* Sleep on the latch, so SIGTERM still ends us at once; SIGHUP does not cut it short. */
static bool
host_sleep(void *arg, long ms)
{
	TimestampTz until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);

	for (;;)
	{
		long left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), until);

		if (left <= 0)
			return true;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, left,
		                 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		handle_interrupts();
	}
}

static void
host_settings(void *arg, ListWatchSettings *out)
{
	out->batch_size = k8s_events_batch_size;
	out->flush_interval_ms = k8s_events_flush_interval_ms;
	out->stall_timeout_ms = (long) k8s_events_watch_stall_timeout_s * 1000;
}

static void
host_log(void *arg, const char *message)
{
	ereport(LOG, (errmsg("k8s_events: cluster \"%s\": %s", config.name, message)));
}

static uint64_t
host_random(void *arg, uint64_t bound)
{
	return pg_prng_uint64_range(&pg_global_prng_state, 0, bound - 1);
}

/* ---------------------------------------------------------------- main */

PGDLLEXPORT void k8s_events_watcher_main(Datum main_arg);

void
k8s_events_watcher_main(Datum main_arg)
{
	SharedState  *shared;
	ListWatchHost host = {0};
	char          locked_by[256];

	my_slot = (int) (DatumGetUInt32(main_arg) & ((1 << WATCH_SLOT_BITS) - 1));
	my_generation = DatumGetUInt32(main_arg) >> WATCH_SLOT_BITS;
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(k8s_events_database, NULL, 0);
	/* Before any query: nothing the database's owner set may change what we run. */
	worker_pin_session_settings();

	shared = shared_state();
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (!shared->slots[my_slot].in_use || shared->slots[my_slot].generation != my_generation)
	{
		/* Our slot went to another cluster while we were down: not ours to watch. */
		LWLockRelease(shared->lock);
		proc_exit(0);
	}
	config.name = MemoryContextStrdup(TopMemoryContext, shared->slots[my_slot].cluster);
	shared->slots[my_slot].pid = MyProcPid;
	shared->slots[my_slot].latch = MyLatch;
	LWLockRelease(shared->lock);
	before_shmem_exit(release_my_slot, (Datum) 0);

	/*
	 * An error ends the process (the bgworker's own handler logs it and
	 * exits with 1); on its way out, its message goes to watch_status, where
	 * the launcher and the user read why.
	 */
	PG_TRY();
	{
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			elog(ERROR, "could not initialise libcurl");

		/*
		 * One writer per cluster: `k8s-events watch` may hold it (the cluster was
		 * enabled while it ran).  Wait for it to end rather than write beside it.
		 */
		for (;;)
		{
			char *why;

			if (!load_config(locked_by, sizeof(locked_by)))
				proc_exit(0); /* removed or disabled meanwhile: nothing to do */
			if (locked_by[0] == '\0')
				break;
			why = psprintf("cluster is being watched by %s", locked_by);
			set_state(LIST_WATCH_BACKOFF, why);
			pfree(why);
			(void) host_sleep(NULL, LOCK_RETRY_MS);
		}
		{
			WatchSlot *slot = lock_my_slot();

			if (slot != NULL)
			{
				strlcpy(slot->resource_version, initial_checkpoint ? initial_checkpoint : "",
				        sizeof(slot->resource_version));
				unlock_my_slot();
			}
		}

		engine_cxt = AllocSetContextCreate(TopMemoryContext, "k8s_events watch engine",
		                                   ALLOCSET_DEFAULT_SIZES);
		engine_allocator.ctx = engine_cxt;
		scratch_cxt = AllocSetContextCreate(TopMemoryContext, "k8s_events watch scratch",
		                                    ALLOCSET_DEFAULT_SIZES);
		MemoryContextSwitchTo(scratch_cxt);

		host.allocator = &engine_allocator;
		host.keep_values = true;
		host.store = host_store;
		host.checkpoint = host_checkpoint;
		host.set_state = host_set_state;
		host.count = host_count;
		host.wait = host_wait;
		host.sleep = host_sleep;
		host.settings = host_settings;
		host.log = host_log;
		host.random = host_random;
		list_watch_run(&config, &host);
	}
	PG_CATCH();
	{
		ErrorData *error;

		MemoryContextSwitchTo(TopMemoryContext);
		error = CopyErrorData();
		record_failure(error->message != NULL ? error->message : "an error without a message");
		PG_RE_THROW();
	}
	PG_END_TRY();
	/* Only a host that asks to stop gets here, and ours never does. */
	proc_exit(1);
}
