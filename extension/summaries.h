/*
 * summaries.h
 *	  k8s_events.resource_summary and k8s_events.event_counts, kept by the
 *	  write path in the transaction that stores the rows.
 *
 * Every stored row is added once (summaries_add), every dropped partition
 * taken out (summaries_before_drop / summaries_after_drop), so that both
 * always equal a recomputation from k8s_events.events
 * (k8s_events.verify_summaries()).  What a row adds does not depend on the
 * order rows arrive in: sums, a minimum, and a "last" observation picked by
 * (event_time, count, uid, resource_version).
 */
#ifndef K8S_EVENTS_SUMMARIES_H
#define K8S_EVENTS_SUMMARIES_H

#include "datatype/timestamp.h"
#include "utils/uuid.h"

/* What the summaries need of one stored row; NULL strings are SQL NULLs. */
typedef struct SummaryRow
{
	const char *namespace;
	const char *kind;
	const char *name;
	const char *type;
	const char *reason;
	const char *message;
	const char *source_host; /* the node whose kubelet reported it, for resource_summary.nodes */
	const char *resource_version;
	pg_uuid_t   uid;
	TimestampTz event_time;
	TimestampTz first_time;
	int32       count;
	int32       occurrences;
} SummaryRow;

/*
 * The rows one writer stores in one call (an ingest, a watcher's batch),
 * gathered so that each distinct key costs one upsert for the whole call.
 */
typedef struct SummaryBatch SummaryBatch;

/* In a memory context of its own, a child of the current one. */
extern SummaryBatch *summary_batch_begin(void);

/* Note one stored row; its strings are copied. */
extern void summary_batch_add(SummaryBatch *batch, const SummaryRow *row);

/*
 * Add the rows to the summaries of cluster: one upsert per distinct key, keys
 * in a fixed order; then free the batch.  Inside SPI, in the transaction that
 * stored them, holding the cluster's ingest lock.  Writes nothing on a 1.0
 * schema, which has no summaries (until ALTER EXTENSION k8s_events UPDATE
 * builds them).
 */
extern void summary_batch_write(SummaryBatch *batch, const char *cluster);

typedef struct SummaryDrop SummaryDrop;

/*
 * Take what the partition holds out of resource_summary; event_counts keeps
 * its hours (k8s_events.summary_retention).  Inside SPI, the partition locked.
 * oldest: nothing older is stored (no older partition, no default one), so
 * its objects are found through the summaries' indexes rather than by reading
 * all its rows.  Call summaries_after_drop once the partition is gone.
 */
extern SummaryDrop *summaries_before_drop(Oid partition, TimestampTz from, TimestampTz to,
                                          bool oldest);

/*
 * Delete the rows of objects with no rows left, and look up again, in the rows
 * left, the last observation of those that lost theirs.
 */
extern void summaries_after_drop(SummaryDrop *drop);

/*
 * Delete what outlives the rows (hourly counts and their rollups, pods' owners
 * and images, and the rollouts they make) from before cutoff, whole UTC days,
 * never an hour that still has raw rows.  Locks out every writer first (SHARE
 * ROW EXCLUSIVE on those tables), waiting as long as lock_timeout lets it.
 * Inside SPI.
 */
extern void summaries_expire_counts(TimestampTz cutoff);

#endif
