/*
 * watch_store.h
 *	  What every watcher of a cluster shares, whichever process runs it: the
 *	  one-writer lock, and the checkpoint.
 *
 * The background worker and `k8s-events watch` (through the SQL functions of
 * watch_store.c) both hold a session-level advisory lock on the cluster while
 * they watch it, so that two watchers never write one cluster's checkpoint
 * in turn.  Its keys are (WATCH_LOCK_CLASS, hash of the name): pg_locks shows
 * them as classid and objid with objsubid 2.
 */
#ifndef K8S_EVENTS_WATCH_STORE_H
#define K8S_EVENTS_WATCH_STORE_H

/* 'k8sw'; ingest's transaction-scoped locks use 'k8se', so the two never meet. */
#define WATCH_LOCK_CLASS 0x6b387377

/* Take the cluster's watch lock for this session; false when another session holds it. */
extern bool watch_lock_cluster(const char *cluster);

/* Does this session hold it? */
extern bool watch_lock_held(const char *cluster);

/*
 * Who holds it, for messages ("the background worker (pid 123)", a
 * k8s-events client's description, or "another session (pid 123)").
 * Inside SPI.
 */
extern char *watch_lock_holder(const char *cluster);

/* Upsert the checkpoint; inside SPI, in the transaction that stores its rows. */
extern void watch_store_checkpoint(const char *cluster, const char *resource_version);

/* The stored checkpoint, or NULL; inside SPI, palloc'd in the caller's context. */
extern char *watch_read_checkpoint(const char *cluster);

#endif
