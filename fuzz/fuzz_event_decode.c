/*
 * fuzz_event_decode.c
 *	  libFuzzer target: Event to row decoding (core/event_decode.c): a payload
 *	  as ingest() and the watchers take it (an Event, a List, an array, watch
 *	  frames, envelopes), every item classified, every Event decoded, and its
 *	  time read both through jansson and through the JsonReader path the
 *	  extension's event_time() takes.  A decoded row must be one ingest can
 *	  store: a uid and times present, both ways giving the same time, no indexed
 *	  field over the limit; a reason (item or Event refused) must be one line of
 *	  valid UTF-8, as a text column and a terminal take it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/event_decode.h"
#include "core/quote_text.h"

/* Valid UTF-8 without control characters (what quote_text.h makes of outside input). */
static void
check_reason(const char *reason)
{
	const unsigned char *p = (const unsigned char *) reason;
	size_t               n = strlen(reason);

	if (n == 0)
		abort(); /* a refusal says why */
	while (n > 0)
	{
		uint32_t cp;
		size_t   len = quote_text_char_len(p, n, &cp);

		if (len == 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			abort();
		p += len;
		n -= len;
	}
}

static bool
too_long(const char *field)
{
	return field != NULL && strlen(field) > EVENT_FIELD_MAX_BYTES;
}

static void
on_item(void *arg, PayloadItemKind kind, json_t *item, json_t *event, const char *reason)
{
	EventRow row;
	char     err[EVENT_ERR_LEN];
	bool     present;
	int64_t  usecs;

	(void) arg;
	(void) item;
	if (kind == ITEM_INVALID)
		check_reason(reason);
	/* (A DELETED frame is counted, not decoded: it carries no Event to store.) */
	if (kind != ITEM_EVENT)
		return;
	if (event == NULL)
		abort();
	if (event_decode(event, &row, err, sizeof(err)))
	{
		if (row.uid == NULL || row.resource_version == NULL || row.first_time > row.event_time ||
		    row.count < 1)
			abort();
		if (too_long(row.resource_version) || too_long(row.namespace) || too_long(row.kind) ||
		    too_long(row.name) || too_long(row.type) || too_long(row.reason) ||
		    too_long(row.source_host))
			abort();
		if (!event_time_of(event, &present, &usecs, err, sizeof(err)) || !present)
			abort();
	}
	else
		check_reason(err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t error;
	/* As the engine parses (core/list_watch.c): a "\u0000" reaches the decoder. */
	json_t *root = json_loadb((const char *) data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &error);

	if (root == NULL)
		return 0;
	payload_walk(root, on_item, NULL);
	json_decref(root);
	return 0;
}
