/*
 * dump_reader.c
 *	  Event dumps item by item, in bounded memory: format detection and the
 *	  public functions of dump_reader.h.
 *
 * The work is done in three pieces that share dump_reader_internal.h:
 * dump_input.c reads the file (gzip or not) into a chunked buffer, dump_json.c
 * cuts JSON items out of it with a byte scanner, and dump_yaml.c builds YAML
 * items from libyaml's events.  This file looks at the first bytes to choose
 * between the last two and hands each call to the one chosen.
 */
#include "dump_reader_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	while (r->len < 3 && dr_fill(r) > 0)
		;
	if (r->state == ST_FAILED)
		return;
	r->compressed = dr_input_compressed(r);
	if (r->len >= 3 && memcmp(r->buf, "\xEF\xBB\xBF", 3) == 0)
		r->pos = 3;
	for (;;)
	{
		char c;

		if (r->pos == r->len)
		{
			int f = dr_fill(r);

			if (f < 0)
				return;
			if (f == 0)
			{
				r->format = DUMP_FORMAT_EMPTY;
				r->state = ST_END;
				dr_end_item(r);
				return;
			}
		}
		c = r->buf[r->pos];
		if (c == '\n')
		{
			r->pos++;
			dr_count_line(r);
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
		dr_end_item(r);
		return;
	}
	r->format = DUMP_FORMAT_YAML;
	r->state = ST_YAML;
	r->pos = r->mark;
	dr_end_item(r);
	dr_yaml_start(r);
}

DumpReader *
dump_reader_open(const char *path, char *err, size_t errlen)
{
	DumpReader *r = dr_input_open(path, err, errlen);

	if (r == NULL)
		return NULL;
	r->max_item = DUMP_MAX_ITEM_BYTES;
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
		rc = dr_yaml_next(r, item);
	else
		rc = dr_json_next(r, item);
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
	return dr_input_offset(r);
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
	dr_yaml_close(r);
	dr_input_close(r);
	free(r);
}
