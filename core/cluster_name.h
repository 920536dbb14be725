/*
 * cluster_name.h
 *	  The one rule for a cluster's name, for every place that takes one: the
 *	  write path, the watch functions, the clusters table's CHECK (through
 *	  extension/cluster_name.c) and the k8s-events commands' --cluster.
 *
 * The name is part of every row's key and of the cluster's lock: it must be
 * given, and it fits a DNS subdomain, as Kubernetes names do.
 */
#ifndef K8S_EVENTS_CLUSTER_NAME_H
#define K8S_EVENTS_CLUSTER_NAME_H

#include <string.h>

#define CLUSTER_NAME_MAX_BYTES 253

typedef enum ClusterNameCheck
{
	CLUSTER_NAME_VALID,
	CLUSTER_NAME_EMPTY,
	CLUSTER_NAME_TOO_LONG
} ClusterNameCheck;

static inline ClusterNameCheck
cluster_name_check(const char *name)
{
	if (name[0] == '\0')
		return CLUSTER_NAME_EMPTY;
	if (strlen(name) > CLUSTER_NAME_MAX_BYTES)
		return CLUSTER_NAME_TOO_LONG;
	return CLUSTER_NAME_VALID;
}

/* What is wrong, to follow "cluster name " in a message; NULL when valid. */
static inline const char *
cluster_name_problem(ClusterNameCheck check)
{
	switch (check)
	{
		case CLUSTER_NAME_EMPTY:
			return "must not be empty";
		case CLUSTER_NAME_TOO_LONG:
			return "is longer than 253 bytes";
		case CLUSTER_NAME_VALID:
			break;
	}
	return NULL;
}

#endif
