/*
 * watch_store.h
 *	  What every watcher of a cluster shares, whichever process runs it: the
 *	  one-writer lock, and the checkpoint.
 *
 * The background worker and `k8s-events watch` (through the SQL functions of
 * watch_store.c) both hold the cluster's watch lock (cluster_locks.h) while
 * they watch it, so that two watchers never write one cluster's checkpoint
 * in turn.
 */
#ifndef K8S_EVENTS_WATCH_STORE_H
#define K8S_EVENTS_WATCH_STORE_H

/* Take the cluster's watch lock for this session; false when another session holds it.
 * Inside SPI. */
extern bool watch_lock_cluster(const char *cluster);

/* Does this session hold it, for the cluster's current key? Inside SPI. */
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
