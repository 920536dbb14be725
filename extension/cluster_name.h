/*
 * cluster_name.h
 *	  Refuse an invalid cluster name with a clear error (core/cluster_name.h).
 */
#ifndef K8S_EVENTS_EXTENSION_CLUSTER_NAME_H
#define K8S_EVENTS_EXTENSION_CLUSTER_NAME_H

extern void check_cluster_name(const char *cluster);

#endif
