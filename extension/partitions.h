/*
 * partitions.h
 *	  The daily (or k8s_events.partition_width) partitions of k8s_events.events.
 */
#ifndef K8S_EVENTS_PARTITIONS_H
#define K8S_EVENTS_PARTITIONS_H

#include "datatype/timestamp.h"

typedef struct PartitionRange
{
	Oid         relid;
	TimestampTz from; /* inclusive; DT_NOBEGIN for MINVALUE */
	TimestampTz to;   /* exclusive; DT_NOEND for MAXVALUE */
} PartitionRange;

/* The OID of k8s_events.events; ERROR when the extension is not installed. */
extern Oid partitions_parent_oid(void);

/*
 * The range partitions of k8s_events.events sorted by range; *count set;
 * palloc'd.  A DEFAULT partition is left out and, if default_partition is
 * not NULL, returned there (else InvalidOid).
 */
extern PartitionRange *partitions_list(int *count, Oid *default_partition);

/*
 * Make sure a partition exists for each of the n times, creating missing ones
 * through k8s_events.create_partitions() (which runs as the extension owner).
 * Call inside an SPI connection.
 */
extern void partitions_ensure(const TimestampTz *times, int n);

#endif
