/*
 * copy_lanes.h
 *	  Batches of COPY rows stored through two connections, so that the server
 *	  parses one batch while it stores the one before.
 *
 * Each batch is a transaction of its own: BEGIN, COPY into
 * pg_temp.k8s_events_load, k8s_events.ingest_copied(), COMMIT.  Storing takes
 * the cluster's lock and must follow the input's order (occurrences depend on
 * it), so batches are stored strictly one after another; what overlaps is the
 * COPY of the next batch on the other connection, and the client's decoding.
 */
#ifndef K8S_EVENTS_COPY_LANES_H
#define K8S_EVENTS_COPY_LANES_H

#include <stdbool.h>

#include <libpq-fe.h>

#include "copy_rows.h"

#define COPY_LANES 2

typedef struct StoreCounts
{
	long long stored;
	long long duplicates;
	long long rejected;
	long long expired;
} StoreCounts;

typedef struct CopyLanes CopyLanes;

/*
 * Take over connections that are ready (create_load_table() called); they are
 * put in nonblocking mode and closed by copy_lanes_close().
 */
extern CopyLanes *copy_lanes_new(PGconn *conns[COPY_LANES], const char *cluster, long batch_rows);

/*
 * Hand over the rows buffered in rows (which is emptied when they are taken)
 * and make what progress can be made without waiting; with wait, wait until
 * the rows are taken.  false after an error (copy_lanes_error).
 */
extern bool copy_lanes_push(CopyLanes *lanes, CopyRows *rows, bool wait);

/*
 * How many more rows the batch being filled takes (a whole batch when none is
 * open).  Rows handed over up to it, and then pushed with wait, end the batch
 * exactly there: batches end every batch_rows rows, however fast the server.
 */
extern long copy_lanes_room(const CopyLanes *lanes);

/* Store everything handed over and commit it.  false after an error. */
extern bool copy_lanes_finish(CopyLanes *lanes, CopyRows *rows);

/* What the batches committed so far stored. */
extern const StoreCounts *copy_lanes_counts(const CopyLanes *lanes);

/* The first error, without a trailing newline. */
extern const char *copy_lanes_error(const CopyLanes *lanes);

extern void copy_lanes_close(CopyLanes *lanes);

#endif
