/*
 * json_backend.h
 *	  jansson inside a PostgreSQL backend.
 */
#ifndef K8S_EVENTS_JSON_BACKEND_H
#define K8S_EVENTS_JSON_BACKEND_H

#include <jansson.h>

#include "utils/jsonb.h"

/* Route jansson's allocations to palloc; called once from _PG_init. */
extern void json_backend_init(void);

/*
 * Parse a jsonb value into jansson.  NULL, with *error set, if jansson refuses
 * it: numbers beyond 64-bit integers or doubles are the only such input.
 */
extern json_t *json_from_jsonb(Jsonb *jb, char **error);


/* Serialise a jansson value into a new jsonb Datum. */
extern Datum jsonb_from_json(json_t *value);

/* A compact JSON text of value, palloc'd. */
extern char *json_to_cstring(json_t *value);

#endif
