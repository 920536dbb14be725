/*
 * row_writer.h
 *	  Writing judged rows into k8s_events.events the way COPY does.
 */
#ifndef K8S_EVENTS_ROW_WRITER_H
#define K8S_EVENTS_ROW_WRITER_H

#include "ingest.h"

typedef struct RowWriter RowWriter;

/*
 * Start writing rows of the cluster; NULL when the table has triggers or
 * forced row security, which only an INSERT statement honours.
 */
extern RowWriter *row_writer_begin(const char *cluster);

/* Insert one row: values/nulls indexed by IngestColumn, and its occurrences. */
extern void row_writer_put(RowWriter *w, const Datum *values, const bool *nulls, int32 occurrences);

extern void row_writer_end(RowWriter *w);

#endif
