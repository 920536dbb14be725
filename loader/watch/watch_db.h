/*
 * watch_db.h
 *	  `k8s-events watch`'s side of PostgreSQL: one libpq connection, through
 *	  which it takes a cluster (k8s_events.watch_begin), stores batches with
 *	  their checkpoint (watch_store) and reports status (watch_set_state).
 */
#ifndef K8S_EVENTS_WATCH_DB_H
#define K8S_EVENTS_WATCH_DB_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "core/list_watch.h"

typedef enum WatchDbResult
{
	WATCH_DB_OK,
	WATCH_DB_UNREACHABLE, /* no connection could be made, or it was lost */
	WATCH_DB_RETRY,       /* the server refused for now (busy cluster, a transient error) */
	WATCH_DB_FATAL        /* trying again cannot help: privileges, extension missing, ... */
} WatchDbResult;

typedef struct WatchDb
{
	const char *conninfo; /* -d; NULL or "": libpq's PG* environment */
	const char *cluster;
	const char *client; /* "k8s-events watch pid N on HOST" */
	/* Waiting for the connection: signals in wait_mask are let in, and *stop ends the wait. */
	const sigset_t              *wait_mask;
	const volatile sig_atomic_t *stop;

	PGconn *conn;
	bool    begun; /* watch_begin ran on this connection: it holds the cluster */
} WatchDb;

typedef struct WatchDbCounts
{
	int64_t stored;
	int64_t duplicates;
	int64_t rejected;
} WatchDbCounts;

/*
 * Connect when not connected, and take the cluster for the session.
 * *checkpoint: the stored resourceVersion (malloc'd) or NULL.  err gets a
 * message, with the server's detail and hint lines when it gave some.
 */
extern WatchDbResult watch_db_begin(WatchDb *db, char **checkpoint, char *err, size_t errlen);

/* Store one batch and its checkpoint in one transaction (the session must have begun). */
extern WatchDbResult watch_db_store(WatchDb *db, const ListWatchBatch *batch, WatchDbCounts *counts,
                                    char *err, size_t errlen);

/* Report state, last error (NULL: keep) and counters; does nothing before begin. */
extern WatchDbResult watch_db_set_state(WatchDb *db, const char *state, const char *last_error,
                                        int64_t relists, int64_t reconnects, char *err,
                                        size_t errlen);

extern void watch_db_close(WatchDb *db);

#endif
