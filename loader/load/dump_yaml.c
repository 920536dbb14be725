/*
 * dump_yaml.c
 *	  YAML dumps item by item, built into jansson values from libyaml's events.
 *
 * YAML input is one or more documents, read with libyaml's event parser: a
 * document whose root mapping has "items" (a kubectl List) yields the elements
 * of that sequence, a root sequence its elements, anything else is one item.
 * Only plain scalars are resolved (null, booleans, decimal integers, floats);
 * aliases are expanded as copies.  Malformed YAML items carry no raw bytes:
 * libyaml does not hand the source text back; and libyaml counts characters,
 * not bytes, so that is what the size limit counts for YAML.
 */
#include "dump_reader_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Aliases may add at most this many values to an item: a "billion laughs" guard. */
#define DR_MAX_ALIAS_NODES 100000
#define DR_MAX_ANCHORS     10000

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
		int f = dr_fill(r);

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
		dr_fail(r, "out of memory while parsing YAML");
	else if (p->error == YAML_READER_ERROR)
		dr_fail(r, "invalid YAML input at byte %llu: %s",
		        (unsigned long long) (r->yfeed_base + p->problem_offset),
		        p->problem ? p->problem : "unknown error");
	else if (p->context)
		dr_fail(r, "YAML syntax error at line %ld, column %ld: %s (%s at line %ld)",
		        yaml_line(r, p->problem_mark), (long) p->problem_mark.column + 1,
		        p->problem ? p->problem : "unknown error", p->context,
		        yaml_line(r, p->context_mark));
	else
		dr_fail(r, "YAML syntax error at line %ld, column %ld: %s", yaml_line(r, p->problem_mark),
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
		           dr_limit_text(r->max_item, limit, sizeof(limit)));
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

int
dr_yaml_next(DumpReader *r, DumpItem *item)
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
						return dr_fail(r, "out of memory");
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

/* libyaml reads on from buf[pos], where detection left the input. */
void
dr_yaml_start(DumpReader *r)
{
	r->yline_base = r->line - 1;
	r->yfeed_base = r->base + r->pos;
	r->ystate = Y_STREAM;
	if (!yaml_parser_initialize(&r->parser))
	{
		dr_fail(r, "out of memory");
		return;
	}
	r->parser_ready = true;
	yaml_parser_set_input(&r->parser, yaml_read, r);
}

void
dr_yaml_close(DumpReader *r)
{
	if (r->parser_ready)
		yaml_parser_delete(&r->parser);
	yaml_drop_frames(r);
	yaml_anchors_clear(r);
	json_decref(r->yroot);
	free(r->frames);
	free(r->anchors);
}
