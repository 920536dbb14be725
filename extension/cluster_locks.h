/*
 * cluster_locks.h
 *	  The per-cluster locks that serialise writers and keep one watcher per
 *	  cluster, out of reach of SQL.
 *
 * Two heavyweight locks per cluster name: the ingest lock, held by every
 * writer of the cluster until its transaction ends (occurrences are judged
 * against what earlier writers committed), and the watch lock, held by the
 * one session that watches the cluster for as long as it does.
 *
 * They are LOCKTAG_USERLOCK locks: no SQL function takes that lock type
 * (pg_advisory_lock() takes LOCKTAG_ADVISORY), so no role can squat on them
 * and stall ingest or a watcher.  Their key is not a hash of the name but the
 * name's own entry in k8s_events_internal.cluster_lock_keys, which only the extension
 * writes: two names never share a key.  pg_locks shows them as locktype
 * 'userlock', database, classid = CLUSTER_LOCK_CLASS, objid = the key,
 * objsubid = the kind.
 */
#ifndef K8S_EVENTS_CLUSTER_LOCKS_H
#define K8S_EVENTS_CLUSTER_LOCKS_H

#include "storage/lock.h"

/* 'k8sl' */
#define CLUSTER_LOCK_CLASS 0x6b38736c

typedef enum ClusterLockKind
{
	CLUSTER_LOCK_INGEST = 1, /* transaction-scoped: one writer's batch at a time */
	CLUSTER_LOCK_WATCH = 2   /* session-scoped: one watcher */
} ClusterLockKind;

/*
 * The cluster's key, made on first use (in the caller's transaction; a key
 * another transaction is making meanwhile is waited for).  Inside SPI, as the
 * extension's owner or a superuser.
 */
extern uint32 cluster_lock_key(const char *cluster);

/* The key if the cluster has one; false when it never had a lock. Inside SPI. */
extern bool cluster_lock_key_if_any(const char *cluster, uint32 *key);

extern void cluster_lock_tag(LOCKTAG *tag, uint32 key, ClusterLockKind kind);

/* Wait for the cluster's ingest lock, until the end of the transaction. Inside SPI. */
extern void cluster_lock_for_ingest(const char *cluster);

#endif
