/*
 * dump_reader_internal.h
 *	  What the pieces of the dump reader share: the reader's state and the few
 *	  functions one piece calls in another.  For loader/dump_*.c only; everyone
 *	  else uses dump_reader.h.
 *
 * The reader stays one struct because its pieces work on the same bytes: the
 * input buffer (dump_input.c) keeps whatever item the JSON scanner (dump_json.c)
 * is cutting out, and libyaml (dump_yaml.c) pulls from that same buffer once
 * format detection (dump_reader.c) has looked at its first bytes.
 */
#ifndef K8S_EVENTS_DUMP_READER_INTERNAL_H
#define K8S_EVENTS_DUMP_READER_INTERNAL_H

#include "dump_reader.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>
#include <zlib.h>

#define DR_RAW_MAX ((size_t) 4096)
/* jansson refuses deeper nesting anyway; deeper brackets are counted, not matched. */
#define DR_MAX_DEPTH 2048

#define Min(a, b) ((a) < (b) ? (a) : (b))
#define Max(a, b) ((a) > (b) ? (a) : (b))

typedef enum State
{
	ST_START,  /* nothing read yet */
	ST_TOP,    /* JSON: between top-level values */
	ST_LIST,   /* JSON: between the elements of a List's items or a top-level array */
	ST_REST,   /* JSON: the keys of a List after its items */
	ST_YAML,   /* YAML: see YamlState */
	ST_END,    /* nothing more */
	ST_FAILED, /* -1 was returned; failure says why */
} State;

typedef enum YamlState
{
	Y_STREAM,  /* between documents */
	Y_ROOT,    /* a document's root node is next */
	Y_SEQ,     /* the elements of a root sequence or of a List's items */
	Y_MAP,     /* the entries of a root mapping, which may turn out to be a List */
	Y_REST,    /* the entries of a List after its items */
	Y_DOC_END, /* the end of the document is next */
} YamlState;

typedef struct YamlFrame
{
	json_t *node; /* the object or array being built */
	bool    is_map;
	bool    have_key;
	char   *key;
	size_t  key_len;
	char   *anchor;
} YamlFrame;

typedef struct YamlAnchor
{
	char   *name;
	json_t *value; /* a copy: the item it came from belongs to the caller */
	size_t  nodes;
} YamlAnchor;

struct DumpReader
{
	char      *name;
	gzFile     gz;
	int64_t    size;
	DumpFormat format;
	bool       compressed;
	State      state;
	char       failure[512];
	size_t     max_item;
	size_t     chunk;
	/* The text of the JSON item parsed last, for DumpItem.text. */
	const char *text;
	size_t      text_len;

	/* Input: buf[pos..len) is unread; buf[0] is byte number base of the input. */
	char    *buf;
	size_t   cap;
	size_t   len;
	size_t   pos;
	uint64_t base;
	bool     eof;
	long     line;     /* the line of buf[pos] */
	uint64_t line_abs; /* where that line starts in the input */

	/* The item being cut out: buf[mark..pos) while kept, only raw once too big. */
	bool     keep;
	bool     skipping;
	size_t   mark;
	uint64_t item_abs;
	long     item_line;
	long     item_col;
	char     raw[DR_RAW_MAX];
	size_t   raw_len;

	/* The JSON scanner. */
	long depth;
	char stack[DR_MAX_DEPTH];
	bool in_str;
	bool esc;
	bool scalar;
	bool watch_items; /* a top-level object: look for its "items" key */
	bool expect_key;
	bool items_key;
	bool items_next;
	int  key_match; /* bytes of "items" matched by the key being read, or -1 */
	bool oneline;   /* the top-level value has content on its first line */
	bool content;
	long list_line;
	bool list_in_object;
	int  list_expect; /* 0: a value or ']', 1: ',' or ']', 2: a value */
	char mismatch[128];

	/* YAML. */
	yaml_parser_t parser;
	bool          parser_ready;
	YamlState     ystate;
	long          yline_base; /* blank lines skipped before libyaml saw the input */
	uint64_t      yfeed_base;
	bool          in_list;
	json_t       *yroot;
	char          yroot_err[256];
	uint64_t      yroot_start;
	YamlFrame    *frames;
	int           nframes;
	int           frames_cap;
	YamlAnchor   *anchors;
	int           nanchors;
	int           anchors_cap;
	size_t        alias_nodes;
};

/* dump_input.c: the file, the chunked input buffer, lines and failures. */

/* The reader of an opened file, or NULL with err set; nothing is read yet. */
extern DumpReader *dr_input_open(const char *path, char *err, size_t errlen);
/* More input after buf[len]: 1, 0 at the end of the input, -1 (failure set). */
extern int  dr_fill(DumpReader *r);
extern void dr_count_line(DumpReader *r);
/* buf[pos] starts an item: its bytes are kept from here on (see dr_fill()). */
extern void dr_begin_item(DumpReader *r);
extern void dr_end_item(DumpReader *r);
/* Whether the input is gzip-compressed; known once something was read. */
extern bool     dr_input_compressed(const DumpReader *r);
extern uint64_t dr_input_offset(const DumpReader *r);
extern void     dr_input_close(DumpReader *r);
/* Reading cannot go on: -1, with failure set to the file's name and why. */
extern int dr_fail(DumpReader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A size limit for messages: "64 MB", or "1000-byte" for the small ones tests set. */
extern const char *dr_limit_text(size_t limit, char *buf, size_t buflen);

/* dump_json.c: the next item of JSON input, as dump_reader_next() returns it. */
extern int dr_json_next(DumpReader *r, DumpItem *item);

/* dump_yaml.c: YAML input, from buf[pos] on. */
extern void dr_yaml_start(DumpReader *r);
extern int  dr_yaml_next(DumpReader *r, DumpItem *item);
extern void dr_yaml_close(DumpReader *r);

#endif
