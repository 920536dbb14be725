/*
 * dump_json.c
 *	  JSON dumps item by item: a byte scanner finds where each item ends, jansson
 *	  parses it, and recovery finds the next item after a bad one.
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
 */
#include "dump_reader_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef enum ScanResult
{
	SCAN_DONE,     /* the value ended (or, for skip_ws, a non-blank byte is next) */
	SCAN_ITEMS,    /* the value of a top-level "items" key is next */
	SCAN_EOF,      /* the input ended inside the value */
	SCAN_CUT,      /* a one-line value's line ended inside it */
	SCAN_MISMATCH, /* a closing bracket does not match; mismatch says where */
	SCAN_FAIL,     /* read error; failure says why */
} ScanResult;

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

/* ---------------------------------------------------------------- items */

static int
item_value(DumpReader *r, DumpItem *item, json_t *value)
{
	item->value = value;
	item->line = r->item_line;
	item->text = r->text;
	item->text_len = r->text_len;
	r->text = NULL;
	dr_end_item(r);
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
	dr_end_item(r);
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
		         dr_limit_text(r->max_item, limit, sizeof(limit)));
		return NULL;
	}
	/* A NUL in a string ("\u0000"): the loader's decoder rejects the Event and says why. */
	value = json_loadb(r->buf + r->mark, end - r->mark, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
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
			int f = dr_fill(r);

			if (f <= 0)
				return f < 0 ? SCAN_FAIL : SCAN_EOF;
		}
		c = r->buf[r->pos];
		if (c == '\n')
		{
			r->pos++;
			dr_count_line(r);
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
	dr_count_line(r);
	if (!r->oneline)
		return false;
	if (!r->content)
	{
		/* "{" alone on its line: a pretty-printed value, which spans lines. */
		r->oneline = false;
		return false;
	}
	if (r->pos == r->len && dr_fill(r) <= 0)
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
			int f = dr_fill(r);

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
			int f = dr_fill(r);

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
		dr_count_line(r);
		if (!to_next_value)
			return SCAN_DONE;
		if (r->pos == r->len && dr_fill(r) < 0)
			return SCAN_FAIL;
		if (r->pos == r->len || r->buf[r->pos] == '{' || r->buf[r->pos] == '[')
			return SCAN_DONE;
	}
}

static void
list_begin(DumpReader *r, bool in_object)
{
	dr_end_item(r);
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
		return dr_fail(
		    r, "JSON syntax error %s; the list that began at line %ld cannot be read further",
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

	dr_begin_item(r);
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
		dr_end_item(r);
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
	dr_begin_item(r);
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
				return dr_fail(r,
				               "JSON syntax error at line %ld, column %ld: %s where ',' or ']' was "
				               "expected in the list that began at line %ld",
				               r->line, (long) (r->base + r->pos - r->line_abs) + 1,
				               show_byte((unsigned char) c, shown, sizeof(shown)), r->list_line);
			r->pos++;
			r->list_expect = 2;
			continue;
		}
		if (c == ']' || c == '}' || c == ',' || c == ':')
			return dr_fail(
			    r,
			    "JSON syntax error at line %ld, column %ld: '%c' where a value was expected "
			    "in the list that began at line %ld",
			    r->line, (long) (r->base + r->pos - r->line_abs) + 1, c, r->list_line);
		break;
	}
	dr_begin_item(r);
	scan_init(r, 0, false);
	r->list_expect = 1;
	if ((s = scan(r)) != SCAN_DONE)
		return list_trouble(r, item, s);
	value = load_item(r, r->pos, why, sizeof(why));
	return value ? item_value(r, item, value) : item_malformed(r, item, r->pos, "%s", why);
}

int
dr_json_next(DumpReader *r, DumpItem *item)
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
