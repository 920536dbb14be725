/*
 * fuzz_event_decode.c
 *	  libFuzzer target: Event to row decoding (core/event_decode.c): a payload
 *	  as ingest() and the watchers take it (an Event, a List, an array, watch
 *	  frames, envelopes), every item classified, every Event decoded, and its
 *	  time read both through jansson and through the JsonReader path the
 *	  extension's event_time() takes.  A decoded row must be one ingest can
 *	  store: a uid and times present, both ways giving the same time.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/event_decode.h"

static void
on_item(void *arg, PayloadItemKind kind, json_t *item, json_t *event, const char *reason)
{
	EventRow row;
	char     err[EVENT_ERR_LEN];
	bool     present;
	int64_t  usecs;

	(void) arg;
	(void) item;
	(void) reason;
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
		if (!event_time_of(event, &present, &usecs, err, sizeof(err)) || !present)
			abort();
	}
	else if (err[0] == '\0')
		abort(); /* a refusal says why */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t error;
	json_t      *root = json_loadb((const char *) data, size, JSON_DECODE_ANY, &error);

	if (root == NULL)
		return 0;
	payload_walk(root, on_item, NULL);
	json_decref(root);
	return 0;
}
