/*
 * shared_state.c
 *	  The shared memory of k8s_events, and the SQL functions that read or poke it.
 *
 * It exists only when the library is in shared_preload_libraries; without it
 * there are no workers, watch_status is empty and waking the launcher is a no-op.
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "shared_state.h"
#include "sql_function.h"
#include "text_datum.h"

SQL_FUNCTION(k8s_wake_launcher_at_commit);
SQL_FUNCTION(k8s_watch_status);

static SharedState            *state = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static bool                    wake_registered = false;
static bool                    wake_pending = false;

static void
request_shared_memory(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(SharedState)));
	RequestNamedLWLockTranche("k8s_events", 1);
}

static void
attach_shared_memory(void)
{
	bool found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	state = ShmemInitStruct("k8s_events", sizeof(SharedState), &found);
	if (!found)
	{
		memset(state, 0, sizeof(SharedState));
		state->lock = &(GetNamedLWLockTranche("k8s_events"))->lock;
	}
	LWLockRelease(AddinShmemInitLock);
}

void
shared_state_install_hooks(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = request_shared_memory;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = attach_shared_memory;
}

SharedState *
shared_state(void)
{
	return state;
}

bool
shared_state_read_slot(int slot, WatchSlot *copy)
{
	bool in_use;

	LWLockAcquire(state->lock, LW_SHARED);
	*copy = state->slots[slot];
	in_use = copy->in_use;
	LWLockRelease(state->lock);
	return in_use;
}

/*
 * Set the launcher's latch once the transaction that changed the clusters
 * commits.  The callback is registered once and stays: unregistering it from
 * inside the callback list would free the entry being walked.
 */
static void
wake_launcher_on_commit(XactEvent event, void *arg)
{
	if (!wake_pending)
		return;
	if (event == XACT_EVENT_COMMIT && state != NULL)
	{
		Latch *latch;

		LWLockAcquire(state->lock, LW_SHARED);
		latch = state->launcher_latch;
		LWLockRelease(state->lock);
		if (latch != NULL)
			SetLatch(latch);
	}
	/* A prepared transaction commits later, elsewhere: the launcher's own polling catches it. */
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PREPARE)
		wake_pending = false;
}

Datum
k8s_wake_launcher_at_commit(PG_FUNCTION_ARGS)
{
	if (!wake_registered)
	{
		RegisterXactCallback(wake_launcher_on_commit, NULL);
		wake_registered = true;
	}
	wake_pending = true;
	PG_RETURN_VOID();
}

static Datum
timestamp_or_null(TimestampTz ts, bool *isnull)
{
	*isnull = ts == 0;
	return TimestampTzGetDatum(ts);
}

/* watch_status() → one row per running watcher, from shared memory. */
Datum
k8s_watch_status(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	if (state == NULL)
		return (Datum) 0;
	for (int i = 0; i < MAX_WATCHED_CLUSTERS; i++)
	{
		WatchSlot slot;
		Datum     values[16];
		bool      nulls[16] = {false};

		if (!shared_state_read_slot(i, &slot))
			continue;
		values[0] = CStringGetTextDatum(slot.cluster);
		values[1] = CStringGetTextDatum(list_watch_state_name(slot.state));
		/* What the API server sent, cut to fit the slot: it must stay readable text. */
		values[2] = text_datum_escaped(slot.resource_version, strlen(slot.resource_version));
		nulls[2] = slot.resource_version[0] == '\0';
		values[3] = Int64GetDatum(slot.events_stored);
		values[4] = Int64GetDatum(slot.duplicates);
		values[5] = Int64GetDatum(slot.rejected);
		values[6] = Int64GetDatum(slot.deleted_seen);
		values[7] = Int64GetDatum(slot.relists);
		values[8] = Int64GetDatum(slot.reconnects);
		values[9] = timestamp_or_null(slot.last_event_at, &nulls[9]);
		values[10] = text_datum_escaped(slot.last_error, strlen(slot.last_error));
		nulls[10] = slot.last_error[0] == '\0';
		values[11] = timestamp_or_null(slot.last_error_at, &nulls[11]);
		values[12] = timestamp_or_null(slot.since, &nulls[12]);
		values[13] = Int32GetDatum(slot.pid);
		nulls[13] = slot.pid == 0; /* failed, waiting for its restart; or not started yet */
		values[14] = Int64GetDatum(slot.restarts);
		values[15] = timestamp_or_null(slot.restart_at, &nulls[15]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
