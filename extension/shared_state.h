/*
 * shared_state.h
 *	  What the launcher, the watchers and SQL sessions share: one slot per watched
 *	  cluster, holding its status for k8s_events.watch_status.
 */
#ifndef K8S_EVENTS_SHARED_STATE_H
#define K8S_EVENTS_SHARED_STATE_H

#include "datatype/timestamp.h"
#include "storage/latch.h"
#include "storage/lwlock.h"

#include "core/list_watch.h"

#define MAX_WATCHED_CLUSTERS  64
#define WATCH_SLOT_BITS       6 /* enough for MAX_WATCHED_CLUSTERS */
#define WATCH_GENERATION_MASK ((uint32) 0x03ffffff)

/* The next generation of a slot, within what a watcher's 32-bit argument carries. */
static inline uint32
next_generation(uint32 generation)
{
	return (generation + 1) & WATCH_GENERATION_MASK;
}
#define CLUSTER_NAME_LEN 256
#define STATUS_ERROR_LEN 512
#define CONFIG_HASH_LEN  33 /* an md5 in hex, and its terminator */

typedef struct WatchSlot
{
	bool   in_use;
	uint32 generation; /* bumped at each assignment; a watcher of an older one leaves */
	Latch *latch;      /* the watcher's, to wake it for that */
	char   cluster[CLUSTER_NAME_LEN];
	/* The launcher's: the cluster's settings the watcher was started for (all, and scope). */
	char config_hash[CONFIG_HASH_LEN];
	char scope_hash[CONFIG_HASH_LEN];
	/* Stopped because its scope changed: drop the checkpoint once it has exited. */
	bool           reset_checkpoint;
	pid_t          pid;
	ListWatchState state; /* the engine's states, and failed when the watcher gave up */
	char           resource_version[64];
	int64          events_stored;
	int64          duplicates;
	int64          rejected;
	int64          deleted_seen;
	int64          relists;
	int64          reconnects;
	TimestampTz    last_event_at;
	char           last_error[STATUS_ERROR_LEN];
	TimestampTz    last_error_at;
	TimestampTz    since; /* when state last changed */
	/*
	 * Kept across the restarts of one cluster's watcher in this slot (the
	 * launcher restarts it after a backoff when it fails): how often it was
	 * restarted, and when the next start is due (0: not waiting).
	 */
	int64       restarts;
	TimestampTz restart_at;
	/* Set by the watcher as it exits: with code 0 (nothing to watch) or not (it failed). */
	bool exited;
	bool exited_cleanly;
	/* Checkpoints this start of the watcher committed: progress, unlike a LIST's first pages. */
	int64 checkpoints_committed;
} WatchSlot;

typedef struct SharedState
{
	LWLock   *lock; /* protects slots */
	Latch    *launcher_latch;
	pid_t     launcher_pid; /* the running launcher's, so that there is only ever one */
	WatchSlot slots[MAX_WATCHED_CLUSTERS];
} SharedState;

/* Hooks into shared memory; called from _PG_init when preloaded. */
extern void shared_state_install_hooks(void);

/* NULL when the library was not preloaded. */
extern SharedState *shared_state(void);

/* Copy of a slot, taken under the lock. */
extern bool shared_state_read_slot(int slot, WatchSlot *copy);

#endif
