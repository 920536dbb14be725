/*
 * copy_rows.h
 *	  Decoded Events as COPY BINARY rows of pg_temp.k8s_events_load.
 *
 * The column order is the one k8s_events.create_load_table() creates and
 * extension/copied.c reads: the event's columns, then earliest, error,
 * payload, and ord, the row's place in the input, which the server stores
 * the rows in.
 * Binary rather than text: timestamps and UUIDs go as the server stores them,
 * with no formatting here and no parsing there.
 */
#ifndef K8S_EVENTS_COPY_ROWS_H
#define K8S_EVENTS_COPY_ROWS_H

#include <jansson.h>

#include "core/event_decode.h"
#include "json_out.h"

/* Rows are appended to buf; the caller sends and empties it as it likes. */
typedef struct CopyRows
{
	ej_buf  buf;
	size_t  sent;     /* bytes at the start of buf already handed on */
	long    rows;     /* rows in buf */
	int64_t next_ord; /* the ord column of the next row: its place in the input */
} CopyRows;

/* The COPY BINARY header; call first. */
extern void copy_rows_header(CopyRows *c);

/*
 * One stored observation: the decoded row and the Event it came from.  text,
 * if not NULL, is the Event's JSON as it came, sent instead of writing event
 * out again (the server parses either into the same jsonb).
 */
extern void copy_rows_event(CopyRows *c, const EventRow *row, json_t *event, const char *text,
                            size_t text_len);

/*
 * One item that could not be decoded, for k8s_events.rejected.  The payload
 * need not be valid UTF-8 (or free of NUL bytes): such bytes are sent as hex,
 * as the server does for ingest().
 */
extern void copy_rows_reject(CopyRows *c, const char *error, const char *payload, size_t len);

/* The trailer that ends the COPY data; call last. */
extern void copy_rows_trailer(CopyRows *c);

#endif
