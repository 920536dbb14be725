/*
 * occurrences.h
 *	  Which rows of a batch are new observations, and how many occurrences each adds.
 */
#ifndef K8S_EVENTS_OCCURRENCES_H
#define K8S_EVENTS_OCCURRENCES_H

#include "datatype/timestamp.h"
#include "utils/uuid.h"

/* The key columns of a batch's rows, in batch order; none may be NULL. */
typedef struct BatchRows
{
	int                n;
	pg_uuid_t *const  *uid;
	text *const       *resource_version;
	const TimestampTz *event_time;
	const int32       *count;
	/* For each row, a time before which no earlier observation of its event can lie. */
	const TimestampTz *bound;
} BatchRows;

typedef struct BatchVerdict
{
	bool  *keep;        /* a new observation, to store */
	int32 *occurrences; /* the row's increase of count */
} BatchVerdict;

/*
 * Judge each row of the batch against the rows of k8s_events.events of the
 * cluster and the rows before it in the batch (see occurrences.c).  The
 * caller holds the cluster's ingest lock, so nothing is stored meanwhile.
 */
extern void occurrences_judge(const char *cluster, const BatchRows *rows, BatchVerdict *verdict);

#endif
