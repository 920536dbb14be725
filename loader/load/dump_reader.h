/*
 * dump_reader.h
 *	  Reading event dumps item by item, in bounded memory, whatever their format.
 *
 * `k8s-events load` takes what people already have: kubectl -o json and -o yaml
 * (a List or EventList, "items" possibly null), a JSON array, NDJSON, eventrouter's
 * stdout lines, recorded watch frames, any of them gzip-compressed.  The reader
 * detects the format from the first bytes and hands out one item at a time:
 * an element of a list or array, or a top-level value that is not a list.  What
 * an item is (an Event, a watch frame, an eventrouter line) is for
 * payload_item_classify() in core/event_decode.h to say, not for the reader.
 *
 * A multi-gigabyte List is never held whole: the JSON reader finds item
 * boundaries with a byte scanner and parses one item at a time; the YAML reader
 * builds one item at a time from libyaml's events.
 */
#ifndef K8S_EVENTS_DUMP_READER_H
#define K8S_EVENTS_DUMP_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* An item larger than this is reported malformed and skipped, not buffered. */
#define DUMP_MAX_ITEM_BYTES (64u * 1024 * 1024)

typedef enum DumpFormat
{
	DUMP_FORMAT_UNKNOWN, /* nothing read yet */
	DUMP_FORMAT_EMPTY,   /* no bytes, or only whitespace */
	DUMP_FORMAT_JSON,    /* one or more JSON values: a List, an array, NDJSON, frames */
	DUMP_FORMAT_YAML,    /* one or more YAML documents */
} DumpFormat;

typedef struct DumpItem
{
	/* The parsed item, owned by the caller (json_decref it), or NULL when malformed. */
	json_t *value;
	/* 1-based line of the input where the item starts. */
	long line;
	/* For a malformed item: why, e.g. "truncated JSON: ... at line 7, column 3". */
	char error[256];
	/*
	 * For an item read from JSON: its text as it came, valid until the next call,
	 * so that a client can pass it on without writing the value out again.
	 * NULL for YAML.
	 */
	const char *text;
	size_t      text_len;
	/*
	 * For a malformed item: its raw bytes (at most the first 4096), so that it can be
	 * kept in k8s_events.rejected; valid until the next call.  May not be UTF-8.
	 */
	const char *raw;
	size_t      raw_len;
} DumpItem;

typedef struct DumpReader DumpReader;

/*
 * Open a file ("-" is standard input); gzip input is recognised by its magic bytes
 * and decompressed on the fly.  NULL with err set when the file cannot be opened.
 */
extern DumpReader *dump_reader_open(const char *path, char *err, size_t errlen);

/*
 * The next item: 1 with *item filled (value, or value NULL and error set for an
 * item that is malformed but after which reading goes on), 0 at the end of the
 * input, -1 when reading cannot go on (an I/O error, a corrupt gzip stream, a
 * syntax error after which no item boundary can be found); err says why and at
 * which line.
 */
extern int dump_reader_next(DumpReader *r, DumpItem *item, char *err, size_t errlen);

/* What the input turned out to be, once the first item (or the end) was read. */
extern DumpFormat dump_reader_format(const DumpReader *r);

/* A name for messages: "JSON", "YAML", "gzip-compressed JSON", ... */
extern const char *dump_reader_describe(const DumpReader *r);

/*
 * Bytes of the file consumed so far (compressed bytes for gzip), for progress; for a
 * pipe, whose position zlib cannot tell, the decompressed bytes consumed.
 */
extern uint64_t dump_reader_offset(const DumpReader *r);

/* The file's size in bytes, or -1 when unknown (a pipe). */
extern int64_t dump_reader_size(const DumpReader *r);

extern void dump_reader_close(DumpReader *r);

/*
 * For tests only, before the first dump_reader_next(): a smaller item limit than
 * DUMP_MAX_ITEM_BYTES, and a smaller read size (down to 1 byte) to put chunk
 * boundaries everywhere.
 */
extern void dump_reader_set_max_item(DumpReader *r, size_t max_item);
extern void dump_reader_set_chunk_size(DumpReader *r, size_t chunk);

#endif
