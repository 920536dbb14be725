/*
 * json_backend.c
 *	  jansson inside a PostgreSQL backend.
 *
 * jansson allocates with malloc by default, and an ereport() unwinding through
 * code that holds json_t values would leak them.  Routing its allocator to
 * palloc in CurrentMemoryContext makes every JSON value belong to the memory
 * context that was current when it was created, so it is released with that
 * context whatever way the code leaves it.  Callers therefore create JSON
 * values in a context that lives exactly as long as they need them.
 */
#include "postgres.h"

#include "fmgr.h"
#include "pg_builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "json_backend.h"

static void *
json_palloc(size_t size)
{
	/* Events can be large (a 1 MB message is legal), so allow huge chunks. */
	return MemoryContextAllocExtended(CurrentMemoryContext, size, MCXT_ALLOC_HUGE);
}

static void
json_pfree(void *ptr)
{
	if (ptr != NULL)
		pfree(ptr);
}

void
json_backend_init(void)
{
	json_set_alloc_funcs(json_palloc, json_pfree);
}

json_t *
json_from_jsonb(Jsonb *jb, char **error)
{
	char        *text = JsonbToCString(NULL, &jb->root, VARSIZE(jb));
	json_error_t jerror;
	json_t      *value = json_loads(text, JSON_DECODE_ANY, &jerror);

	pfree(text);
	if (value == NULL)
		*error =
		    psprintf("cannot decode the payload at character %d: %s", jerror.position, jerror.text);
	return value;
}

char *
json_to_cstring(json_t *value)
{
	char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);

	if (text == NULL)
		ereport(ERROR,
		        (errcode(ERRCODE_INTERNAL_ERROR), errmsg("could not serialise a JSON value")));
	return text;
}

Datum
jsonb_from_json(json_t *value)
{
	char *text = json_to_cstring(value);
	Datum result = DirectFunctionCall1(jsonb_in, CStringGetDatum(text));

	pfree(text);
	return result;
}
