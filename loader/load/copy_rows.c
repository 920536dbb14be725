/*
 * copy_rows.c
 *	  Decoded Events as COPY BINARY rows (see copy_rows.h).
 *
 * The format is PostgreSQL's documented COPY BINARY: a signature, flags and
 * header extension, then per row a field count and per field a length (-1 for
 * NULL) and the bytes of the type's binary send format, all in network order.
 */
#include "copy_rows.h"

#include <stdbool.h>
#include <string.h>

/* Columns of pg_temp.k8s_events_load. */
#define LOAD_COLUMNS 21

/* 2000-01-01T00:00:00Z, PostgreSQL's epoch, in microseconds since 1970. */
#define POSTGRES_EPOCH_USECS INT64_C(946684800000000)

/* jsonb's binary format is a version byte and the JSON text. */
#define JSONB_VERSION 1

static void
put_u16(ej_buf *b, uint16_t v)
{
	unsigned char bytes[2] = {v >> 8, v & 0xff};

	ej_append(b, (const char *) bytes, 2);
}

static void
put_u32(ej_buf *b, uint32_t v)
{
	unsigned char bytes[4] = {v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff};

	ej_append(b, (const char *) bytes, 4);
}

static void
put_u64(ej_buf *b, uint64_t v)
{
	put_u32(b, (uint32_t) (v >> 32));
	put_u32(b, (uint32_t) v);
}

static void
field_null(ej_buf *b)
{
	put_u32(b, (uint32_t) -1);
}

static void
field_text(ej_buf *b, const char *s)
{
	size_t len;

	if (s == NULL)
	{
		field_null(b);
		return;
	}
	len = strlen(s);
	put_u32(b, (uint32_t) len);
	ej_append(b, s, len);
}

static void
field_timestamptz(ej_buf *b, int64_t unix_usecs)
{
	put_u32(b, 8);
	put_u64(b, (uint64_t) (unix_usecs - POSTGRES_EPOCH_USECS));
}

static void
field_int8(ej_buf *b, int64_t v)
{
	put_u32(b, 8);
	put_u64(b, (uint64_t) v);
}

static void
field_int4(ej_buf *b, int32_t v)
{
	put_u32(b, 4);
	put_u32(b, (uint32_t) v);
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return c - 'A' + 10;
}

/* The decoder has checked the 8-4-4-4-12 hex form. */
static void
field_uuid(ej_buf *b, const char *uid)
{
	unsigned char bytes[16];
	int           n = 0;

	for (const char *p = uid; *p != '\0' && n < 16; p++)
	{
		if (*p == '-')
			continue;
		bytes[n++] = (unsigned char) (hex_value(p[0]) << 4 | hex_value(p[1]));
		p++;
	}
	put_u32(b, 16);
	ej_append(b, (const char *) bytes, 16);
}

static int
append_json(const char *data, size_t len, void *arg)
{
	ej_append(arg, data, len);
	return 0;
}

/*
 * The Event as jsonb.  Reals keep 17 digits so that the double read is the
 * double stored; Event fields are strings and integers in practice.
 */
static void
field_jsonb(ej_buf *b, json_t *event, const char *text, size_t text_len)
{
	size_t   at;
	uint32_t len;

	put_u32(b, 0); /* the length, filled in below */
	at = b->len;
	ej_append(b, (const char[]){JSONB_VERSION}, 1);
	if (text != NULL)
		ej_append(b, text, text_len);
	else
		json_dump_callback(event, append_json, b, JSON_COMPACT | JSON_REAL_PRECISION(17));
	len = (uint32_t) (b->len - at);
	for (int i = 0; i < 4; i++)
		b->data[at - 4 + i] = (char) (len >> (24 - 8 * i));
}

void
copy_rows_header(CopyRows *c)
{
	ej_append(&c->buf, "PGCOPY\n\377\r\n\0", 11);
	put_u32(&c->buf, 0); /* flags */
	put_u32(&c->buf, 0); /* header extension length */
}

void
copy_rows_event(CopyRows *c, const EventRow *row, json_t *event, const char *text, size_t text_len)
{
	ej_buf *b = &c->buf;

	put_u16(b, LOAD_COLUMNS);
	field_uuid(b, row->uid);
	field_text(b, row->resource_version);
	field_timestamptz(b, row->event_time);
	field_timestamptz(b, row->first_time);
	field_text(b, row->namespace);
	field_text(b, row->kind);
	field_text(b, row->name);
	field_text(b, row->type);
	field_text(b, row->reason);
	field_text(b, row->message);
	field_int4(b, (int32_t) row->count);
	field_text(b, row->source_component);
	field_text(b, row->source_host);
	field_text(b, row->reporting_controller);
	field_text(b, row->reporting_instance);
	field_text(b, row->action);
	field_jsonb(b, event, text, text_len);
	if (row->first_time_known)
		field_timestamptz(b, row->earliest_time);
	else
		field_null(b);
	field_null(b); /* error */
	field_null(b); /* payload */
	field_int8(b, c->next_ord++);
	c->rows++;
}

/* Whether bytes are valid UTF-8 without NUL: what a text column takes. */
static bool
is_text(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len)
	{
		unsigned char c = s[i];
		int           more;
		uint32_t      cp;

		if (c == 0)
			return false;
		if (c < 0x80)
		{
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			more = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			more = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			more = 3, cp = c & 0x07;
		else
			return false;
		if (len - i <= (size_t) more)
			return false; /* cut short */
		for (int k = 1; k <= more; k++)
		{
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		/* Overlong forms, surrogates and values past U+10FFFF. */
		if ((more == 2 && cp < 0x800) || (more == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += more + 1;
	}
	return true;
}

static void
field_hex(ej_buf *b, const char *bytes, size_t len)
{
	static const char digits[] = "0123456789abcdef";

	put_u32(b, (uint32_t) (2 + 2 * len));
	ej_append(b, "\\x", 2);
	ej_reserve(b, 2 * len);
	for (size_t i = 0; i < len; i++)
	{
		b->data[b->len++] = digits[(unsigned char) bytes[i] >> 4];
		b->data[b->len++] = digits[(unsigned char) bytes[i] & 0x0f];
	}
}

void
copy_rows_reject(CopyRows *c, const char *error, const char *payload, size_t len)
{
	ej_buf *b = &c->buf;
	bool    payload_is_text = is_text((const unsigned char *) payload, len);

	put_u16(b, LOAD_COLUMNS);
	for (int i = 0; i < LOAD_COLUMNS - 3; i++)
		field_null(b); /* the event's columns and earliest */
	if (!is_text((const unsigned char *) error, strlen(error)))
		error = "(the reason is not valid text)";
	if (payload_is_text)
	{
		field_text(b, error);
		put_u32(b, (uint32_t) len);
		ej_append(b, payload, len);
	}
	else
	{
		/* As ingest() does: the bytes as hex, and the reason says so. */
		size_t at = b->len;

		put_u32(b, 0);
		ej_puts(b, error);
		ej_puts(b, " (the payload is not valid text; stored as hex)");
		for (int i = 0; i < 4; i++)
			b->data[at + i] = (char) ((b->len - at - 4) >> (24 - 8 * i));
		field_hex(b, payload, len);
	}
	field_int8(b, c->next_ord++);
	c->rows++;
}

void
copy_rows_trailer(CopyRows *c)
{
	put_u16(&c->buf, (uint16_t) -1);
}
