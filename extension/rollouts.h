/*
 * rollouts.h
 *	  k8s_events.pod_owners, pod_images and rollouts: which controller created
 *	  each pod, which images pods pulled, and so when each image was rolled out,
 *	  kept by the write path with the other summaries (summaries.h).
 */
#ifndef K8S_EVENTS_ROLLOUTS_H
#define K8S_EVENTS_ROLLOUTS_H

#include "summaries.h"

/*
 * Add what rows (stored by one call of the write path for cluster) say of
 * pods' owners and images.  Inside SPI, in the transaction that stored them,
 * holding the cluster's ingest lock.
 */
extern void rollouts_add(const char *cluster, SummaryRow *const *rows, int n);

/* Drop what was last seen before bound, and recompute the rollouts it was part of. Inside SPI. */
extern void rollouts_expire(TimestampTz bound);

#endif
