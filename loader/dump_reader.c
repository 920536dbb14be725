/*
 * dump_reader.c
 *	  Event dumps item by item, in bounded memory: format detection, a JSON byte
 *	  scanner that cuts items out for jansson, a YAML builder over libyaml events.
 *
 * All input goes through zlib's gz* functions, which pass plain files through
 * unchanged, so gzip (multi-member too, standard input too) needs nothing more.
 *
 * JSON input is a sequence of top-level values.  A top-level array yields its
 * elements.  A top-level object is buffered while its keys are scanned: if the
 * key "items" opens an array (a List), what was buffered is dropped and the
 * elements are cut out one by one; "items": null means no items, any other
 * "items" value is one malformed item.  Any other value is itself one item.
 * The scanner only tracks strings and bracket nesting; jansson parses each item
 * once its end is known, so memory is bounded by the largest item plus a chunk.
 * (The key is recognised as the bytes "items"; "\u0069tems" would not be.)
 *
 * Recovery, so that the good items around a bad one are still read:
 *  - a balanced item that jansson rejects is a malformed item;
 *  - at top level, a line that does not start with '{' or '[' is parsed alone
 *    (a scalar, or garbage: a malformed item);
 *  - at top level, a closing bracket that does not match ends a malformed item
 *    at the end of its line or, for a value spread over lines, just before the
 *    next line that starts with '{' or '[';
 *  - a value that began on a line with content after its opening bracket
 *    (NDJSON, watch frames, eventrouter output) is cut short when its line ends
 *    inside it and the next line starts with '{' or '[': the writer died
 *    mid-line and another one appended.  It is a malformed item and reading
 *    resumes on the next line;
 *  - inside a List or array, an unmatched bracket leaves no way to find the next
 *    element: -1, after every element before it was returned.
 * Input that ends inside a top-level value, or inside a List or array, gives a
 * malformed item "truncated JSON: ..." and then the end (0), not -1: what came
 * before was good and has been returned, and the loader keeps the truncation
 * like any other rejected item.
 *
 * YAML input is one or more documents, read with libyaml's event parser: a
 * document whose root mapping has "items" (a kubectl List) yields the elements
 * of that sequence, a root sequence its elements, anything else is one item.
 * Only plain scalars are resolved (null, booleans, decimal integers, floats);
 * aliases are expanded as copies.  Malformed YAML items carry no raw bytes:
 * libyaml does not hand the source text back; and libyaml counts characters,
 * not bytes, so that is what the size limit counts for YAML.
 */
#include "dump_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>
#include <zlib.h>

#define DR_CHUNK   ((size_t) 256 * 1024)
#define DR_MIN_CAP ((size_t) 64 * 1024)
/* A buffer grown past this by one large item is given back afterwards. */
#define DR_KEEP      ((size_t) 4 * 1024 * 1024)
#define DR_RAW_MAX   ((size_t) 4096)
#define DR_GZ_BUFFER (128 * 1024)
/* jansson refuses deeper nesting anyway; deeper brackets are counted, not matched. */
#define DR_MAX_DEPTH 2048
/* Aliases may add at most this many values to an item: a "billion laughs" guard. */
#define DR_MAX_ALIAS_NODES 100000
#define DR_MAX_ANCHORS     10000

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

typedef enum ScanResult
{
	SCAN_DONE,     /* the value ended (or, for skip_ws, a non-blank byte is next) */
	SCAN_ITEMS,    /* the value of a top-level "items" key is next */
	SCAN_EOF,      /* the input ended inside the value */
	SCAN_CUT,      /* a one-line value's line ended inside it */
	SCAN_MISMATCH, /* a closing bracket does not match; mismatch says where */
	SCAN_FAIL,     /* read error; failure says why */
} ScanResult;

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

static int fail(DumpReader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(DumpReader *r, const char *fmt, ...)
{
	va_list ap;
	int     n = snprintf(r->failure, sizeof(r->failure), "%s: ", r->name);

	if (n < 0 || (size_t) n >= sizeof(r->failure))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(r->failure + n, sizeof(r->failure) - (size_t) n, fmt, ap);
	va_end(ap);
	r->state = ST_FAILED;
	return -1;
}

/* "64 MB" for the usual limits, "1000-byte" for the small ones tests set. */
static const char *
limit_text(size_t limit, char *buf, size_t buflen)
{
	if (limit % (1024 * 1024) == 0)
		snprintf(buf, buflen, "%zu MB", limit / (1024 * 1024));
	else
		snprintf(buf, buflen, "%zu-byte", limit);
	return buf;
}

/* A byte for a message: 'x', or its code when it is not printable. */
static const char *
show_byte(unsigned char c, char *buf, size_t buflen)
{
	if (c >= 0x20 && c < 0x7f)
		snprintf(buf, buflen, "'%c'", c);
	else
		snprintf(buf, buflen, "byte 0x%02x", c);
	return buf;
}

/* ---------------------------------------------------------------- input */

static int
gz_fail(DumpReader *r)
{
	int         errnum;
	const char *msg = gzerror(r->gz, &errnum);

	if (errnum == Z_ERRNO)
		return fail(r, "read error: %s", strerror(errno));
	/* zlib names the file "<fd:N>: " in its message; ours is named already. */
	if (strncmp(msg, "<fd:", 4) == 0 && strstr(msg, ": ") != NULL)
		msg = strstr(msg, ": ") + 2;
	return fail(r, "corrupt gzip data: %s", msg);
}

static void
start_skipping(DumpReader *r)
{
	r->raw_len = Min(r->pos - r->mark, DR_RAW_MAX);
	memcpy(r->raw, r->buf + r->mark, r->raw_len);
	r->skipping = true;
}

/*
 * Read more input after buf[len]: 1, 0 at the end of the input, -1 on error.
 * Consumed bytes are dropped, except those of an item being kept; an item that
 * has outgrown the limit keeps only its first bytes, so the buffer never holds
 * much more than max_item.
 */
static int
fill(DumpReader *r)
{
	int n;

	if (r->state == ST_FAILED)
		return -1;
	if (r->eof)
		return 0;
	if (r->keep && !r->skipping && r->pos - r->mark > r->max_item)
		start_skipping(r);
	if (r->cap - r->len < r->chunk)
	{
		size_t from = (r->keep && !r->skipping) ? r->mark : r->pos;

		memmove(r->buf, r->buf + from, r->len - from);
		r->len -= from;
		r->pos -= from;
		r->mark = r->mark > from ? r->mark - from : 0;
		r->base += from;
		if (r->cap - r->len < r->chunk)
		{
			size_t cap = Max(Max(r->cap + r->cap / 2, r->len + r->chunk), DR_MIN_CAP);
			char  *p = realloc(r->buf, cap);

			if (p == NULL)
				return fail(r, "out of memory (%zu bytes)", cap);
			r->buf = p;
			r->cap = cap;
		}
		else if (r->cap > DR_KEEP && r->len + r->chunk <= DR_KEEP / 2)
		{
			/* Failing to shrink is harmless: the larger buffer stays. */
			char *p = realloc(r->buf, DR_KEEP / 2);

			if (p != NULL)
			{
				r->buf = p;
				r->cap = DR_KEEP / 2;
			}
		}
	}
	n = gzread(r->gz, r->buf + r->len, (unsigned) r->chunk);
	if (n < 0)
		return gz_fail(r);
	if (n == 0)
	{
		int errnum;

		/* A gzip stream cut short reads as a plain end, with Z_BUF_ERROR set. */
		(void) gzerror(r->gz, &errnum);
		if (errnum != Z_OK)
			return gz_fail(r);
		r->eof = true;
		return 0;
	}
	r->len += (size_t) n;
	return 1;
}

static void
count_line(DumpReader *r)
{
	r->line++;
	r->line_abs = r->base + r->pos;
}

/* ---------------------------------------------------------------- items */

static void
begin_item(DumpReader *r)
{
	r->keep = true;
	r->skipping = false;
	r->mark = r->pos;
	r->item_abs = r->base + r->pos;
	r->item_line = r->line;
	r->item_col = (long) (r->item_abs - r->line_abs) + 1;
}

static void
end_item(DumpReader *r)
{
	r->keep = false;
	r->skipping = false;
}

static int
item_value(DumpReader *r, DumpItem *item, json_t *value)
{
	item->value = value;
	item->line = r->item_line;
	item->text = r->text;
	item->text_len = r->text_len;
	r->text = NULL;
	end_item(r);
	return 1;
}

static int item_malformed(DumpReader *r, DumpItem *item, size_t end, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A malformed item; its raw bytes are those kept up to end, without a final newline. */
static int
item_malformed(DumpReader *r, DumpItem *item, size_t end, const char *fmt, ...)
{
	va_list ap;

	item->value = NULL;
	item->line = r->item_line;
	va_start(ap, fmt);
	vsnprintf(item->error, sizeof(item->error), fmt, ap);
	va_end(ap);
	if (r->skipping)
	{
		item->raw = r->raw;
		item->raw_len = r->raw_len;
	}
	else if (r->keep)
	{
		size_t n = end - r->mark;

		while (n > 0 && (r->buf[r->mark + n - 1] == '\n' || r->buf[r->mark + n - 1] == '\r'))
			n--;
		item->raw = r->buf + r->mark;
		item->raw_len = Min(n, DR_RAW_MAX);
	}
	end_item(r);
	return 1;
}

/* The kept item buf[mark..end) parsed, or NULL with why set. */
static json_t *
load_item(DumpReader *r, size_t end, char *why, size_t whylen)
{
	uint64_t     size = r->base + end - r->item_abs;
	json_error_t jerr;
	json_t      *value;
	char         limit[32];

	if (r->skipping || size > r->max_item)
	{
		snprintf(why, whylen, "item of %llu bytes exceeds the %s limit", (unsigned long long) size,
		         limit_text(r->max_item, limit, sizeof(limit)));
		return NULL;
	}
	value = json_loadb(r->buf + r->mark, end - r->mark, JSON_DECODE_ANY, &jerr);
	r->text = value != NULL ? r->buf + r->mark : NULL;
	r->text_len = end - r->mark;
	if (value == NULL)
	{
		/* jansson counts from the item's first byte; the item need not start a line. */
		long line = jerr.line > 0 ? r->item_line + jerr.line - 1 : r->item_line;
		long col = jerr.line == 1 ? r->item_col + jerr.column - 1 : jerr.column;

		snprintf(why, whylen, "invalid JSON at line %ld, column %ld: %.160s", line, col, jerr.text);
	}
	return value;
}

/* ---------------------------------------------------------------- JSON scanning */

static void
scan_init(DumpReader *r, long depth, bool watch_items)
{
	r->depth = depth;
	r->stack[0] = '{';
	r->in_str = false;
	r->esc = false;
	r->scalar = false;
	r->watch_items = watch_items;
	r->expect_key = depth == 1;
	r->items_key = false;
	r->items_next = false;
	r->key_match = -1;
}

/* Skip blanks, counting lines: SCAN_DONE with a non-blank byte at buf[pos], or EOF/FAIL. */
static ScanResult
skip_ws(DumpReader *r)
{
	for (;;)
	{
		char c;

		if (r->pos == r->len)
		{
			int f = fill(r);

			if (f <= 0)
				return f < 0 ? SCAN_FAIL : SCAN_EOF;
		}
		c = r->buf[r->pos];
		if (c == '\n')
		{
			r->pos++;
			count_line(r);
			if (!r->content)
				r->oneline = false;
		}
		else if (c == ' ' || c == '\t' || c == '\r')
			r->pos++;
		else
			return SCAN_DONE;
	}
}

/*
 * Count a newline met inside a value; true when it cuts a one-line value short,
 * i.e. the next line starts another value (see the header comment).
 */
static bool
newline_cuts(DumpReader *r)
{
	count_line(r);
	if (!r->oneline)
		return false;
	if (!r->content)
	{
		/* "{" alone on its line: a pretty-printed value, which spans lines. */
		r->oneline = false;
		return false;
	}
	if (r->pos == r->len && fill(r) <= 0)
		return false;
	return r->buf[r->pos] == '{' || r->buf[r->pos] == '[';
}

/*
 * Advance to the end of the value being scanned (its opening bracket, if any, may
 * already be on the stack).  A value that starts with neither a bracket nor a
 * quote is a scalar, which ends before the next delimiter.
 */
static ScanResult
scan(DumpReader *r)
{
	for (;;)
	{
		unsigned char c;

		if (r->pos == r->len)
		{
			int f = fill(r);

			if (f <= 0)
				return f < 0 ? SCAN_FAIL : SCAN_EOF;
		}
		c = (unsigned char) r->buf[r->pos];
		if (r->in_str)
		{
			r->pos++;
			if (r->esc)
				r->esc = false;
			else if (c == '\\')
			{
				r->esc = true;
				r->key_match = -1;
			}
			else if (c == '"')
			{
				r->in_str = false;
				if (r->depth == 0)
					return SCAN_DONE;
				r->items_key = r->key_match == 5;
			}
			else if (c == '\n')
			{
				if (newline_cuts(r))
					return SCAN_CUT;
			}
			else if (r->key_match >= 0)
				r->key_match =
				    (r->key_match < 5 && c == "items"[r->key_match]) ? r->key_match + 1 : -1;
			continue;
		}
		if (r->scalar)
		{
			if (strchr(",:[]{}\" \t\r\n", c) != NULL && c != '\0')
				return SCAN_DONE;
			r->pos++;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r')
		{
			r->pos++;
			continue;
		}
		if (c == '\n')
		{
			r->pos++;
			if (newline_cuts(r))
				return SCAN_CUT;
			continue;
		}
		if (r->items_next)
		{
			r->items_next = false;
			return SCAN_ITEMS;
		}
		r->pos++;
		r->content = true;
		switch (c)
		{
			case '"':
				r->in_str = true;
				r->key_match = (r->watch_items && r->depth == 1 && r->expect_key) ? 0 : -1;
				r->expect_key = false;
				break;
			case '{':
			case '[':
				if (r->depth < DR_MAX_DEPTH)
					r->stack[r->depth] = (char) c;
				r->depth++;
				break;
			case '}':
			case ']':
			{
				char open = c == '}' ? '{' : '[';

				if (r->depth == 0 || (r->depth <= DR_MAX_DEPTH && r->stack[r->depth - 1] != open))
				{
					snprintf(r->mismatch, sizeof(r->mismatch),
					         "at line %ld, column %ld: '%c' does not close %s", r->line,
					         (long) (r->base + r->pos - r->line_abs), c,
					         r->depth == 0                   ? "anything"
					         : r->stack[r->depth - 1] == '{' ? "'{'"
					                                         : "'['");
					return SCAN_MISMATCH;
				}
				if (--r->depth == 0)
					return SCAN_DONE;
				break;
			}
			case ',':
				r->expect_key = r->depth == 1;
				r->items_key = false;
				break;
			case ':':
				r->items_next = r->depth == 1 && r->items_key;
				r->items_key = false;
				break;
			default:
				if (r->depth == 0)
					r->scalar = true;
				break;
		}
	}
}

/*
 * Consume the rest of the line and, with to_next_value, the lines after it up to
 * one that starts with '{' or '['.
 */
static ScanResult
skip_lines(DumpReader *r, bool to_next_value)
{
	for (;;)
	{
		char *nl;

		if (r->pos == r->len)
		{
			int f = fill(r);

			if (f <= 0)
				return f < 0 ? SCAN_FAIL : SCAN_DONE;
		}
		nl = memchr(r->buf + r->pos, '\n', r->len - r->pos);
		if (nl == NULL)
		{
			r->pos = r->len;
			continue;
		}
		r->pos = (size_t) (nl - r->buf) + 1;
		count_line(r);
		if (!to_next_value)
			return SCAN_DONE;
		if (r->pos == r->len && fill(r) < 0)
			return SCAN_FAIL;
		if (r->pos == r->len || r->buf[r->pos] == '{' || r->buf[r->pos] == '[')
			return SCAN_DONE;
	}
}

static void
list_begin(DumpReader *r, bool in_object)
{
	end_item(r);
	r->list_line = r->item_line;
	r->list_in_object = in_object;
	r->list_expect = 0;
	r->state = ST_LIST;
}

/*
 * A scan inside a List or array that did not reach the end of its value: the
 * input ended (the rest is lost), a one-line List was cut short (reading goes on
 * on the next line), a bracket does not match (nothing more can be read).
 */
static int
list_trouble(DumpReader *r, DumpItem *item, ScanResult s)
{
	if (s == SCAN_EOF || s == SCAN_CUT)
	{
		if (!r->keep)
			r->item_line = s == SCAN_EOF ? r->line : r->list_line;
		r->state = s == SCAN_EOF ? ST_END : ST_TOP;
		if (s == SCAN_EOF)
			return item_malformed(
			    r, item, r->pos,
			    "truncated JSON: input ends inside the list that began at line %ld", r->list_line);
		return item_malformed(r, item, r->pos,
		                      "truncated JSON: line %ld ends inside the list that began on it",
		                      r->list_line);
	}
	if (s == SCAN_MISMATCH)
		return fail(r,
		            "JSON syntax error %s; the list that began at line %ld cannot be read further",
		            r->mismatch, r->list_line);
	return -1;
}

/* What a List's "items" holds when it is not an array (buf[pos] is its first byte). */
static int
json_items_value(DumpReader *r, DumpItem *item)
{
	char        why[256];
	json_t     *value;
	const char *what;

	ScanResult s;

	begin_item(r);
	scan_init(r, 0, false);
	if ((s = scan(r)) != SCAN_DONE)
		return list_trouble(r, item, s);
	r->state = ST_REST;
	scan_init(r, 1, false);
	value = load_item(r, r->pos, why, sizeof(why));
	if (value == NULL)
		return item_malformed(r, item, r->pos, "%s", why);
	if (json_is_null(value))
	{
		end_item(r);
		return 0;
	}
	what = json_is_object(value)    ? "an object"
	       : json_is_string(value)  ? "a string"
	       : json_is_boolean(value) ? "a boolean"
	                                : "a number";
	json_decref(value);
	return item_malformed(r, item, r->pos,
	                      "\"items\" of the list that began at line %ld is %s, not an array",
	                      r->list_line, what);
}

/* Between top-level values: 1 with an item, 0 to go on in the new state, -1. */
static int
json_top(DumpReader *r, DumpItem *item)
{
	char       why[256];
	json_t    *value;
	ScanResult s = skip_ws(r);

	if (s == SCAN_FAIL)
		return -1;
	if (s == SCAN_EOF)
	{
		r->state = ST_END;
		return 0;
	}
	begin_item(r);
	r->oneline = true;
	r->content = false;
	if (r->buf[r->pos] == '[')
	{
		r->pos++;
		list_begin(r, false);
		return 0;
	}
	if (r->buf[r->pos] != '{')
	{
		/* Not an object or array: a scalar or garbage, standing alone on its line. */
		if (skip_lines(r, false) == SCAN_FAIL)
			return -1;
		value = load_item(r, r->pos, why, sizeof(why));
		return value ? item_value(r, item, value) : item_malformed(r, item, r->pos, "%s", why);
	}
	r->pos++;
	scan_init(r, 1, true);
	switch (scan(r))
	{
		case SCAN_DONE:
			value = load_item(r, r->pos, why, sizeof(why));
			return value ? item_value(r, item, value) : item_malformed(r, item, r->pos, "%s", why);
		case SCAN_ITEMS:
			list_begin(r, true);
			if (r->buf[r->pos] == '[')
			{
				r->pos++;
				return 0;
			}
			return json_items_value(r, item);
		case SCAN_EOF:
			r->state = ST_END;
			return item_malformed(
			    r, item, r->pos, "truncated JSON: input ends inside an item that began at line %ld",
			    r->item_line);
		case SCAN_CUT:
			return item_malformed(r, item, r->pos, "truncated JSON: line %ld ends inside an item",
			                      r->item_line);
		case SCAN_MISMATCH:
			if (skip_lines(r, !r->oneline) == SCAN_FAIL)
				return -1;
			return item_malformed(r, item, r->pos, "JSON syntax error %s", r->mismatch);
		default:
			return -1;
	}
}

/* Between the elements of a List or array. */
static int
json_element(DumpReader *r, DumpItem *item)
{
	char       why[256];
	char       shown[16];
	json_t    *value;
	char       c;
	ScanResult s;

	for (;;)
	{
		s = skip_ws(r);
		if (s != SCAN_DONE)
			return list_trouble(r, item, s);
		c = r->buf[r->pos];
		if (c == ']' && r->list_expect != 2)
		{
			r->pos++;
			r->state = r->list_in_object ? ST_REST : ST_TOP;
			scan_init(r, 1, false);
			return 0;
		}
		if (r->list_expect == 1)
		{
			if (c != ',')
				return fail(r,
				            "JSON syntax error at line %ld, column %ld: %s where ',' or ']' was "
				            "expected in the list that began at line %ld",
				            r->line, (long) (r->base + r->pos - r->line_abs) + 1,
				            show_byte((unsigned char) c, shown, sizeof(shown)), r->list_line);
			r->pos++;
			r->list_expect = 2;
			continue;
		}
		if (c == ']' || c == '}' || c == ',' || c == ':')
			return fail(
			    r,
			    "JSON syntax error at line %ld, column %ld: '%c' where a value was expected "
			    "in the list that began at line %ld",
			    r->line, (long) (r->base + r->pos - r->line_abs) + 1, c, r->list_line);
		break;
	}
	begin_item(r);
	scan_init(r, 0, false);
	r->list_expect = 1;
	if ((s = scan(r)) != SCAN_DONE)
		return list_trouble(r, item, s);
	value = load_item(r, r->pos, why, sizeof(why));
	return value ? item_value(r, item, value) : item_malformed(r, item, r->pos, "%s", why);
}

static int
json_next(DumpReader *r, DumpItem *item)
{
	for (;;)
	{
		int        rc;
		ScanResult s;

		switch (r->state)
		{
			case ST_TOP:
				rc = json_top(r, item);
				break;
			case ST_LIST:
				rc = json_element(r, item);
				break;
			case ST_REST:
				/* The List's other keys matter to nobody: scanned, not kept. */
				if ((s = scan(r)) != SCAN_DONE)
					return list_trouble(r, item, s);
				r->state = ST_TOP;
				rc = 0;
				break;
			case ST_END:
				return 0;
			default:
				return -1;
		}
		if (rc != 0)
			return rc;
	}
}

/* ---------------------------------------------------------------- YAML */

static long
yaml_line(const DumpReader *r, yaml_mark_t mark)
{
	return (long) mark.line + r->yline_base + 1;
}

/* libyaml pulls its input through here: first what detection read, then the file. */
static int
yaml_read(void *data, unsigned char *buffer, size_t size, size_t *size_read)
{
	DumpReader *r = data;
	size_t      n;

	if (r->pos == r->len)
	{
		int f = fill(r);

		if (f < 0)
			return 0;
		if (f == 0)
		{
			*size_read = 0;
			return 1;
		}
	}
	n = Min(size, r->len - r->pos);
	memcpy(buffer, r->buf + r->pos, n);
	r->pos += n;
	*size_read = n;
	return 1;
}

static bool
yaml_pull(DumpReader *r, yaml_event_t *ev)
{
	yaml_parser_t *p = &r->parser;

	if (yaml_parser_parse(p, ev))
		return true;
	/* A read error already said what went wrong; libyaml only knows "input error". */
	if (r->state == ST_FAILED)
		return false;
	if (p->error == YAML_MEMORY_ERROR)
		fail(r, "out of memory while parsing YAML");
	else if (p->error == YAML_READER_ERROR)
		fail(r, "invalid YAML input at byte %llu: %s",
		     (unsigned long long) (r->yfeed_base + p->problem_offset),
		     p->problem ? p->problem : "unknown error");
	else if (p->context)
		fail(r, "YAML syntax error at line %ld, column %ld: %s (%s at line %ld)",
		     yaml_line(r, p->problem_mark), (long) p->problem_mark.column + 1,
		     p->problem ? p->problem : "unknown error", p->context, yaml_line(r, p->context_mark));
	else
		fail(r, "YAML syntax error at line %ld, column %ld: %s", yaml_line(r, p->problem_mark),
		     (long) p->problem_mark.column + 1, p->problem ? p->problem : "unknown error");
	return false;
}

static bool
text_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(s, word, n) == 0;
}

static bool
is_int_text(const char *s, size_t n)
{
	size_t i = (n > 0 && (s[0] == '-' || s[0] == '+')) ? 1 : 0;

	if (i == n)
		return false;
	for (; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* YAML 1.2 core-schema floats, but not .inf and .nan, which JSON cannot hold. */
static bool
is_float_text(const char *s, size_t n)
{
	size_t i = 0;
	size_t digits = 0;

	if (i < n && (s[i] == '-' || s[i] == '+'))
		i++;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		digits++;
	if (i < n && s[i] == '.')
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
	if (digits == 0)
		return false;
	if (i < n && (s[i] == 'e' || s[i] == 'E'))
	{
		i++;
		if (i < n && (s[i] == '-' || s[i] == '+'))
			i++;
		if (i == n)
			return false;
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
	}
	return i == n;
}

/* Quoted, block and tagged scalars are strings; only plain ones are resolved. */
static json_t *
yaml_scalar(const yaml_event_t *ev)
{
	const char *s = (const char *) ev->data.scalar.value;
	size_t      n = ev->data.scalar.length;

	if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && ev->data.scalar.tag == NULL)
	{
		if (n == 0 || text_is(s, n, "~") || text_is(s, n, "null") || text_is(s, n, "Null") ||
		    text_is(s, n, "NULL"))
			return json_null();
		if (text_is(s, n, "true") || text_is(s, n, "True") || text_is(s, n, "TRUE"))
			return json_true();
		if (text_is(s, n, "false") || text_is(s, n, "False") || text_is(s, n, "FALSE"))
			return json_false();
		if (is_int_text(s, n))
		{
			long long v;

			errno = 0;
			v = strtoll(s, NULL, 10);
			if (errno == 0)
				return json_integer(v);
			/* Too large for an integer: a real, as in JSON. */
		}
		if (is_float_text(s, n))
		{
			double d = strtod(s, NULL);

			if (isfinite(d))
				return json_real(d);
		}
	}
	return json_stringn(s, n);
}

static size_t
count_nodes(const json_t *v)
{
	size_t      n = 1;
	size_t      i;
	const char *k;
	json_t     *e;

	if (json_is_array(v))
		json_array_foreach(v, i, e) n += count_nodes(e);
	else if (json_is_object(v))
		json_object_foreach((json_t *) v, k, e) n += count_nodes(e);
	return n;
}

static void
yaml_anchors_clear(DumpReader *r)
{
	for (int i = 0; i < r->nanchors; i++)
	{
		free(r->anchors[i].name);
		json_decref(r->anchors[i].value);
	}
	r->nanchors = 0;
}

static bool yaml_error(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool
yaml_error(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return false;
}

/* Remember a copy of an anchored node; a later anchor of the same name replaces it. */
static bool
yaml_anchor_set(DumpReader *r, const char *name, const json_t *value, char *why, size_t whylen)
{
	json_t     *copy = json_deep_copy(value);
	YamlAnchor *a = NULL;

	if (copy == NULL)
		return yaml_error(why, whylen, "out of memory");
	for (int i = 0; i < r->nanchors && a == NULL; i++)
		if (strcmp(r->anchors[i].name, name) == 0)
			a = &r->anchors[i];
	if (a != NULL)
		json_decref(a->value);
	else
	{
		/* Anchors live as long as their document, which may be a List of any length. */
		if (r->nanchors >= DR_MAX_ANCHORS)
		{
			json_decref(copy);
			return yaml_error(why, whylen, "more than %d YAML anchors in one document",
			                  DR_MAX_ANCHORS);
		}
		if (r->nanchors == r->anchors_cap)
		{
			int         cap = r->anchors_cap ? r->anchors_cap * 2 : 8;
			YamlAnchor *p = realloc(r->anchors, sizeof(YamlAnchor) * (size_t) cap);

			if (p == NULL)
			{
				json_decref(copy);
				return yaml_error(why, whylen, "out of memory");
			}
			r->anchors = p;
			r->anchors_cap = cap;
		}
		a = &r->anchors[r->nanchors];
		if ((a->name = strdup(name)) == NULL)
		{
			json_decref(copy);
			return yaml_error(why, whylen, "out of memory");
		}
		r->nanchors++;
	}
	a->value = copy;
	a->nodes = count_nodes(copy);
	return true;
}

/* A copy of what the alias names; the latest anchor of that name wins, as in YAML. */
static json_t *
yaml_alias(DumpReader *r, const yaml_event_t *ev, char *why, size_t whylen)
{
	const char *name = (const char *) ev->data.alias.anchor;
	json_t     *copy;

	for (int i = r->nanchors - 1; i >= 0; i--)
	{
		if (strcmp(r->anchors[i].name, name) != 0)
			continue;
		r->alias_nodes += r->anchors[i].nodes;
		if (r->alias_nodes > DR_MAX_ALIAS_NODES)
		{
			yaml_error(why, whylen,
			           "YAML aliases expand the item to more than %d values (line %ld)",
			           DR_MAX_ALIAS_NODES, yaml_line(r, ev->start_mark));
			return NULL;
		}
		copy = json_deep_copy(r->anchors[i].value);
		if (copy == NULL)
			yaml_error(why, whylen, "out of memory");
		return copy;
	}
	yaml_error(why, whylen, "YAML alias *%.64s at line %ld has no anchor", name,
	           yaml_line(r, ev->start_mark));
	return NULL;
}

static void
yaml_drop_frames(DumpReader *r)
{
	for (int i = 0; i < r->nframes; i++)
	{
		json_decref(r->frames[i].node);
		free(r->frames[i].key);
		free(r->frames[i].anchor);
	}
	r->nframes = 0;
}

/*
 * One event of the node being built.  A finished node goes into its parent, or
 * into *result when it is the root.  False with why set when the node is malformed.
 */
static bool
yaml_add(DumpReader *r, const yaml_event_t *ev, json_t **result, char *why, size_t whylen)
{
	YamlFrame  *top = r->nframes > 0 ? &r->frames[r->nframes - 1] : NULL;
	bool        is_key = top && top->is_map && !top->have_key;
	long        line = yaml_line(r, ev->start_mark);
	json_t     *node = NULL;
	const char *anchor = NULL;
	char       *owned = NULL;
	bool        ok;

	switch (ev->type)
	{
		case YAML_SCALAR_EVENT:
			/* Neither jansson's parser nor PostgreSQL's jsonb takes a NUL in a string. */
			if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length) != NULL)
				return yaml_error(why, whylen, "YAML string at line %ld contains a NUL character",
				                  line);
			if (is_key)
			{
				top->key = malloc(ev->data.scalar.length + 1);
				if (top->key == NULL)
					return yaml_error(why, whylen, "out of memory");
				memcpy(top->key, ev->data.scalar.value, ev->data.scalar.length + 1);
				top->key_len = ev->data.scalar.length;
				top->have_key = true;
				return true;
			}
			node = yaml_scalar(ev);
			anchor = (const char *) ev->data.scalar.anchor;
			break;
		case YAML_ALIAS_EVENT:
			if (is_key)
				return yaml_error(why, whylen, "YAML mapping key at line %ld is an alias", line);
			node = yaml_alias(r, ev, why, whylen);
			if (node == NULL)
				return false;
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
		{
			bool         is_map = ev->type == YAML_MAPPING_START_EVENT;
			yaml_char_t *a =
			    is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
			YamlFrame *f;

			if (is_key)
				return yaml_error(why, whylen, "YAML mapping key at line %ld is not a scalar",
				                  line);
			if (r->nframes >= DR_MAX_DEPTH)
				return yaml_error(why, whylen, "YAML nested more than %d levels deep at line %ld",
				                  DR_MAX_DEPTH, line);
			if (r->nframes == r->frames_cap)
			{
				int        cap = r->frames_cap ? r->frames_cap * 2 : 16;
				YamlFrame *p = realloc(r->frames, sizeof(YamlFrame) * (size_t) cap);

				if (p == NULL)
					return yaml_error(why, whylen, "out of memory");
				r->frames = p;
				r->frames_cap = cap;
			}
			f = &r->frames[r->nframes++];
			memset(f, 0, sizeof(*f));
			f->is_map = is_map;
			f->node = is_map ? json_object() : json_array();
			if (a)
				f->anchor = strdup((char *) a);
			if (f->node == NULL || (a && f->anchor == NULL))
				return yaml_error(why, whylen, "out of memory");
			return true;
		}
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			node = top->node;
			anchor = owned = top->anchor;
			free(top->key);
			r->nframes--;
			break;
		default:
			/* libyaml sends no document or stream event inside a node. */
			return yaml_error(why, whylen, "unexpected YAML event at line %ld", line);
	}
	ok = node != NULL && (anchor == NULL || yaml_anchor_set(r, anchor, node, why, whylen));
	free(owned);
	if (!ok)
	{
		json_decref(node);
		return why[0] ? false : yaml_error(why, whylen, "out of memory");
	}
	top = r->nframes > 0 ? &r->frames[r->nframes - 1] : NULL;
	if (top == NULL)
		*result = node;
	else if (top->is_map)
	{
		ok = json_object_setn_new(top->node, top->key, top->key_len, node) == 0;
		free(top->key);
		top->key = NULL;
		top->have_key = false;
	}
	else
		ok = json_array_append_new(top->node, node) == 0;
	return ok ? true : yaml_error(why, whylen, "out of memory");
}

/*
 * The node that starts with *ev (consumed), read to its end: 1 with *out (NULL
 * when !build, which only skips it), 0 when malformed (why set; the node is
 * consumed all the same), -1 when the parser failed.  start is where the item
 * began, for the size limit.
 */
static int
yaml_build(DumpReader *r, yaml_event_t *ev, uint64_t start, bool build, json_t **out, char *why,
           size_t whylen)
{
	long     depth = 0;
	bool     too_big = false;
	uint64_t end;
	json_t  *result = NULL;
	char     limit[32];

	*out = NULL;
	why[0] = '\0';
	for (;;)
	{
		if (ev->type == YAML_SEQUENCE_START_EVENT || ev->type == YAML_MAPPING_START_EVENT)
			depth++;
		else if (ev->type == YAML_SEQUENCE_END_EVENT || ev->type == YAML_MAPPING_END_EVENT)
			depth--;
		end = ev->end_mark.index;
		if (build && (!yaml_add(r, ev, &result, why, whylen) || end - start > r->max_item))
		{
			/* Malformed or too big: build no more, but read on to the node's end. */
			too_big = why[0] == '\0';
			yaml_drop_frames(r);
			build = false;
		}
		yaml_event_delete(ev);
		if (depth == 0)
			break;
		if (!yaml_pull(r, ev))
		{
			yaml_drop_frames(r);
			return -1;
		}
	}
	if (too_big)
	{
		json_decref(result);
		yaml_error(why, whylen, "item of %llu characters exceeds the %s limit",
		           (unsigned long long) (end - start),
		           limit_text(r->max_item, limit, sizeof(limit)));
		return 0;
	}
	if (why[0] != '\0')
	{
		json_decref(result);
		return 0;
	}
	*out = result;
	return 1;
}

static int
yaml_item(DumpReader *r, yaml_event_t *ev, DumpItem *item)
{
	json_t *value;
	int     rc;

	item->line = yaml_line(r, ev->start_mark);
	r->alias_nodes = 0;
	rc = yaml_build(r, ev, ev->start_mark.index, true, &value, item->error, sizeof(item->error));
	if (rc < 0)
		return -1;
	item->value = value;
	return 1;
}

/* One entry of a root mapping, or its end: 1 with an item, 0 to go on, -1. */
static int
yaml_map_entry(DumpReader *r, yaml_event_t *ev, DumpItem *item)
{
	char    why[256];
	json_t *value;
	char   *key = NULL;
	size_t  key_len = 0;
	long    line = yaml_line(r, ev->start_mark);
	int     rc;

	if (ev->type == YAML_MAPPING_END_EVENT)
	{
		yaml_event_delete(ev);
		r->ystate = Y_DOC_END;
		item->line = r->item_line;
		item->value = r->yroot;
		r->yroot = NULL;
		if (item->value == NULL)
			snprintf(item->error, sizeof(item->error), "%s", r->yroot_err);
		return 1;
	}
	if (ev->type == YAML_SCALAR_EVENT &&
	    text_is((char *) ev->data.scalar.value, ev->data.scalar.length, "items"))
	{
		/* A List: what was gathered of the root mapping is not an item after all. */
		yaml_event_delete(ev);
		json_decref(r->yroot);
		r->yroot = NULL;
		r->list_line = r->item_line;
		if (!yaml_pull(r, ev))
			return -1;
		if (ev->type == YAML_SEQUENCE_START_EVENT)
		{
			yaml_event_delete(ev);
			r->in_list = true;
			r->ystate = Y_SEQ;
			return 0;
		}
		r->ystate = Y_REST;
		item->line = yaml_line(r, ev->start_mark);
		rc =
		    yaml_build(r, ev, ev->start_mark.index, true, &value, item->error, sizeof(item->error));
		if (rc <= 0)
			return rc < 0 ? -1 : 1;
		if (json_is_null(value))
			return 0;
		snprintf(item->error, sizeof(item->error),
		         "\"items\" of the list that began at line %ld is %s, not a sequence", r->list_line,
		         json_is_object(value) ? "a mapping" : "a scalar");
		json_decref(value);
		return 1;
	}
	if (r->yroot != NULL)
	{
		if (ev->type != YAML_SCALAR_EVENT)
			snprintf(r->yroot_err, sizeof(r->yroot_err),
			         "YAML mapping key at line %ld is not a scalar", line);
		else if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length) != NULL)
			snprintf(r->yroot_err, sizeof(r->yroot_err),
			         "YAML string at line %ld contains a NUL character", line);
		else if ((key = malloc(ev->data.scalar.length + 1)) == NULL)
			snprintf(r->yroot_err, sizeof(r->yroot_err), "out of memory");
		else
		{
			key_len = ev->data.scalar.length;
			memcpy(key, ev->data.scalar.value, key_len + 1);
		}
		if (key == NULL)
		{
			json_decref(r->yroot);
			r->yroot = NULL;
		}
	}
	/* Skip the key unless it is a scalar, which is consumed here. */
	if (ev->type == YAML_SCALAR_EVENT)
		yaml_event_delete(ev);
	else if (yaml_build(r, ev, 0, false, &value, why, sizeof(why)) < 0)
		return -1;
	if (!yaml_pull(r, ev))
	{
		free(key);
		return -1;
	}
	rc = yaml_build(r, ev, r->yroot_start, r->yroot != NULL, &value, why, sizeof(why));
	if (rc < 0)
	{
		free(key);
		return -1;
	}
	if (rc == 0 && r->yroot != NULL)
	{
		/* The root is malformed, yet it may still turn out to be a List. */
		snprintf(r->yroot_err, sizeof(r->yroot_err), "%s", why);
		json_decref(r->yroot);
		r->yroot = NULL;
	}
	if (r->yroot != NULL && json_object_setn_new(r->yroot, key, key_len, value) != 0)
	{
		snprintf(r->yroot_err, sizeof(r->yroot_err), "out of memory");
		json_decref(r->yroot);
		r->yroot = NULL;
	}
	free(key);
	return 0;
}

static int
yaml_next(DumpReader *r, DumpItem *item)
{
	yaml_event_t ev;
	char         why[256];
	json_t      *value;
	int          rc;

	for (;;)
	{
		if (!yaml_pull(r, &ev))
			return -1;
		switch (r->ystate)
		{
			case Y_STREAM:
				if (ev.type == YAML_STREAM_END_EVENT)
					r->state = ST_END;
				else if (ev.type == YAML_DOCUMENT_START_EVENT)
				{
					/* Anchors are scoped to their document. */
					yaml_anchors_clear(r);
					r->ystate = Y_ROOT;
				}
				yaml_event_delete(&ev);
				if (r->state == ST_END)
					return 0;
				break;
			case Y_ROOT:
				r->in_list = false;
				r->item_line = yaml_line(r, ev.start_mark);
				if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT)
				{
					r->ystate = ev.type == YAML_SEQUENCE_START_EVENT ? Y_SEQ : Y_MAP;
					r->yroot = ev.type == YAML_MAPPING_START_EVENT ? json_object() : NULL;
					r->yroot_start = ev.start_mark.index;
					r->alias_nodes = 0;
					snprintf(r->yroot_err, sizeof(r->yroot_err), "out of memory");
					yaml_event_delete(&ev);
					if (r->ystate == Y_MAP && r->yroot == NULL)
						return fail(r, "out of memory");
					break;
				}
				r->ystate = Y_DOC_END;
				/* "---" with nothing after it: an empty document, not a null item. */
				if (ev.type == YAML_SCALAR_EVENT && ev.data.scalar.length == 0 &&
				    ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE && ev.data.scalar.tag == NULL &&
				    ev.data.scalar.anchor == NULL)
				{
					yaml_event_delete(&ev);
					break;
				}
				return yaml_item(r, &ev, item);
			case Y_SEQ:
				if (ev.type == YAML_SEQUENCE_END_EVENT)
				{
					r->ystate = r->in_list ? Y_REST : Y_DOC_END;
					yaml_event_delete(&ev);
					break;
				}
				return yaml_item(r, &ev, item);
			case Y_MAP:
				rc = yaml_map_entry(r, &ev, item);
				if (rc != 0)
					return rc;
				break;
			case Y_REST:
				if (ev.type == YAML_MAPPING_END_EVENT)
				{
					r->ystate = Y_DOC_END;
					yaml_event_delete(&ev);
					break;
				}
				/* Another key of the List and its value, both of no interest. */
				if (yaml_build(r, &ev, 0, false, &value, why, sizeof(why)) < 0 ||
				    !yaml_pull(r, &ev) ||
				    yaml_build(r, &ev, 0, false, &value, why, sizeof(why)) < 0)
					return -1;
				break;
			case Y_DOC_END:
				/* The document's end, the only event libyaml can send here. */
				r->ystate = Y_STREAM;
				yaml_event_delete(&ev);
				break;
		}
	}
}

/* ---------------------------------------------------------------- the reader */

/*
 * Look at the first non-blank byte, after a UTF-8 byte order mark (some Windows
 * tools write one): '{' or '[' is JSON, anything else YAML.  Blank lines are
 * dropped, but YAML gets the rest of its first line whole: indentation matters.
 */
static void
detect(DumpReader *r)
{
	r->state = ST_TOP;
	r->keep = true;
	r->mark = 0;
	while (r->len < 3 && fill(r) > 0)
		;
	if (r->state == ST_FAILED)
		return;
	r->compressed = !gzdirect(r->gz);
	if (r->len >= 3 && memcmp(r->buf, "\xEF\xBB\xBF", 3) == 0)
		r->pos = 3;
	for (;;)
	{
		char c;

		if (r->pos == r->len)
		{
			int f = fill(r);

			if (f < 0)
				return;
			if (f == 0)
			{
				r->format = DUMP_FORMAT_EMPTY;
				r->state = ST_END;
				end_item(r);
				return;
			}
		}
		c = r->buf[r->pos];
		if (c == '\n')
		{
			r->pos++;
			count_line(r);
			r->mark = r->pos;
		}
		else if (c == ' ' || c == '\t' || c == '\r')
			r->pos++;
		else
			break;
	}
	if (r->buf[r->pos] == '{' || r->buf[r->pos] == '[')
	{
		r->format = DUMP_FORMAT_JSON;
		end_item(r);
		return;
	}
	r->format = DUMP_FORMAT_YAML;
	r->state = ST_YAML;
	r->pos = r->mark;
	end_item(r);
	r->yline_base = r->line - 1;
	r->yfeed_base = r->base + r->pos;
	r->ystate = Y_STREAM;
	if (!yaml_parser_initialize(&r->parser))
	{
		fail(r, "out of memory");
		return;
	}
	r->parser_ready = true;
	yaml_parser_set_input(&r->parser, yaml_read, r);
}

DumpReader *
dump_reader_open(const char *path, char *err, size_t errlen)
{
	bool is_stdin = strcmp(path, "-") == 0;
	/* dup: closing the reader must not close the process's standard input. */
	int         fd = is_stdin ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	DumpReader *r;

	if (fd < 0)
	{
		snprintf(err, errlen, "cannot open %s: %s", is_stdin ? "standard input" : path,
		         strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0)
		st.st_mode = 0;
	if (S_ISDIR(st.st_mode))
	{
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(EISDIR));
		close(fd);
		return NULL;
	}
	r = calloc(1, sizeof(DumpReader));
	if (r == NULL || (r->name = strdup(is_stdin ? "standard input" : path)) == NULL ||
	    (r->gz = gzdopen(fd, "rb")) == NULL)
	{
		snprintf(err, errlen, "cannot open %s: out of memory", path);
		if (r)
			free(r->name);
		free(r);
		close(fd);
		return NULL;
	}
	(void) gzbuffer(r->gz, DR_GZ_BUFFER);
	r->size = S_ISREG(st.st_mode) ? (int64_t) st.st_size : -1;
	r->max_item = DUMP_MAX_ITEM_BYTES;
	r->chunk = DR_CHUNK;
	r->line = 1;
	r->state = ST_START;
	return r;
}

int
dump_reader_next(DumpReader *r, DumpItem *item, char *err, size_t errlen)
{
	int rc;

	memset(item, 0, sizeof(*item));
	if (r->state == ST_START)
		detect(r);
	if (r->state == ST_FAILED)
		rc = -1;
	else if (r->state == ST_END)
		rc = 0;
	else if (r->format == DUMP_FORMAT_YAML)
		rc = yaml_next(r, item);
	else
		rc = json_next(r, item);
	if (rc < 0)
	{
		memset(item, 0, sizeof(*item));
		if (err && errlen)
			snprintf(err, errlen, "%s", r->failure);
	}
	return rc;
}

DumpFormat
dump_reader_format(const DumpReader *r)
{
	return r->format;
}

const char *
dump_reader_describe(const DumpReader *r)
{
	static const char *const plain[] = {"unknown input", "empty input", "JSON", "YAML"};
	static const char *const gz[] = {"gzip-compressed input", "gzip-compressed empty input",
	                                 "gzip-compressed JSON", "gzip-compressed YAML"};

	return r->compressed ? gz[r->format] : plain[r->format];
}

uint64_t
dump_reader_offset(const DumpReader *r)
{
	z_off_t off = gzoffset(r->gz);

	return off >= 0 ? (uint64_t) off : r->base + r->pos;
}

int64_t
dump_reader_size(const DumpReader *r)
{
	return r->size;
}

void
dump_reader_set_max_item(DumpReader *r, size_t max_item)
{
	r->max_item = max_item > 0 ? max_item : 1;
}

void
dump_reader_set_chunk_size(DumpReader *r, size_t chunk)
{
	r->chunk = chunk > 0 ? chunk : 1;
}

void
dump_reader_close(DumpReader *r)
{
	if (r == NULL)
		return;
	if (r->parser_ready)
		yaml_parser_delete(&r->parser);
	yaml_drop_frames(r);
	yaml_anchors_clear(r);
	json_decref(r->yroot);
	free(r->frames);
	free(r->anchors);
	gzclose(r->gz);
	free(r->buf);
	free(r->name);
	free(r);
}
