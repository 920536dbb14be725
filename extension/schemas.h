/*
 * schemas.h
 *	  Where the extension keeps what users do not query: the partitions of
 *	  k8s_events.events in k8s_events_partitions, the workers' own tables
 *	  (checkpoints, lock keys, external watchers) in k8s_events_internal, so
 *	  that schema k8s_events lists only what a user or a BI tool reads.
 *
 * Both schemas came with 1.1.  A database still at 1.0 (the library is new,
 * ALTER EXTENSION k8s_events UPDATE has not run yet) keeps all of it in
 * k8s_events, and works on until it is updated.
 */
#ifndef K8S_EVENTS_SCHEMAS_H
#define K8S_EVENTS_SCHEMAS_H

/* The schema new partitions go in. */
extern const char *partition_schema(void);

/* The qualified name of one of the workers' tables, e.g. internal_table("watch_checkpoints"). */
extern const char *internal_table(const char *name);

#endif
