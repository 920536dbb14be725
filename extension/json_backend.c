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
#include "miscadmin.h"
#include "pg_builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include <errno.h>
#include <math.h>

#include "json_backend.h"

/*
 * Out of memory: never a NULL, since jansson (2.14, and its master) does not
 * survive one from its allocator.  Its lexer ignores a failed growth of its
 * token buffer (lex_save), drops the byte and carries on: a number or string
 * silently loses characters, and a lost closing quote makes lex_scan_string
 * copy past the end of its buffer, a heap overflow.
 *
 * In a background worker, the process ends (FATAL, which unwinds nothing: it
 * runs the exit callbacks, which roll the transaction back, and exits): a
 * watch frame is parsed inside curl's write callback, and an ERROR's longjmp
 * out of curl's frames would leave curl's state half-changed.  The launcher
 * starts the watcher again from its checkpoint.
 *
 * In a client's session (ingest() and the other SQL functions, where no curl
 * frame is on the stack), an ERROR, as for any out-of-memory: jansson keeps
 * no state outside the values and buffers it allocated here, and those
 * belong to a memory context that the error's cleanup resets.
 */
static void *
json_palloc(size_t size)
{
	void *chunk = NULL;

	/* Events can be large (a 1 MB message is legal), so allow huge chunks. */
	if (AllocHugeSizeIsValid(size))
		chunk = MemoryContextAllocExtended(CurrentMemoryContext, size,
		                                   MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
	if (chunk == NULL)
		ereport(IsBackgroundWorker ? FATAL : ERROR,
		        (errcode(ERRCODE_OUT_OF_MEMORY),
		         errmsg("out of memory in the JSON parser (a request of %zu bytes)", size),
		         IsBackgroundWorker
		             ? errdetail("The JSON parser cannot continue after a failed allocation, "
		                         "nor be unwound: the worker ends, its transaction is rolled "
		                         "back, and it is started again from its checkpoint.")
		             : 0));
	return chunk;
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

/* A number for an error message: itself, or its start and length when long. */
static char *
number_for_message(const char *text)
{
	size_t len = strlen(text);

	if (len <= 32)
		return pstrdup(text);
	return psprintf("%.20s... (%zu digits)", text, len);
}

/* A jsonb number as jansson holds it: an integer when it is one, else a double. */
static json_t *
json_from_numeric(Numeric num, char **error)
{
	char   *text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(num)));
	char   *end;
	json_t *value;

	errno = 0;
	if (strpbrk(text, ".eE") == NULL)
	{
		long long integer = strtoll(text, &end, 10);

		if (errno != 0 || *end != '\0')
		{
			*error = psprintf("the number %s does not fit in a 64-bit integer",
			                  number_for_message(text));
			return NULL;
		}
		value = json_integer(integer);
	}
	else
	{
		double real = strtod(text, &end);

		if (errno != 0 || *end != '\0' || isinf(real))
		{
			*error = psprintf("the number %s does not fit in a double", number_for_message(text));
			return NULL;
		}
		value = json_real(real);
	}
	pfree(text);
	return value;
}

static json_t *
json_from_scalar(const JsonbValue *v, char **error)
{
	switch (v->type)
	{
		case jbvNull:
			return json_null();
		case jbvBool:
			return json_boolean(v->val.boolean);
		case jbvString:
			/* jsonb holds valid text already; no need for jansson to check it again. */
			return json_stringn_nocheck(v->val.string.val, v->val.string.len);
		case jbvNumeric:
			return json_from_numeric(v->val.numeric, error);
		default:
			elog(ERROR, "unexpected jsonb value type %d", (int) v->type);
	}
	return NULL;
}

/*
 * An empty jansson object.  Not json_object(): inside the server that name
 * resolves to PostgreSQL's own SQL function json_object(), which the postgres
 * executable exports and which takes precedence over the library's symbol.
 */
static json_t *
new_json_object(void)
{
	return json_pack("{}");
}

/* Add value to container: under key in an object, at the end of an array. */
static void
json_container_add(json_t *container, const char *key, json_t *value)
{
	if (json_is_object(container))
		json_object_set_new_nocheck(container, key, value);
	else
		json_array_append_new(container, value);
}

json_t *
json_from_jsonb(Jsonb *jb, char **error)
{
	JsonbIterator     *it = JsonbIteratorInit(&jb->root);
	JsonbValue         v;
	JsonbIteratorToken token;
	int                capacity = 16;
	json_t           **stack = palloc(sizeof(json_t *) * capacity);
	char             **keys = palloc(sizeof(char *) * capacity); /* key of each open container */
	int                depth = 0;
	char              *key = NULL;
	json_t            *result = NULL;

	*error = NULL;
	while ((token = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		json_t *value = NULL;

		switch (token)
		{
			case WJB_BEGIN_OBJECT:
			case WJB_BEGIN_ARRAY:
				if (depth == capacity)
				{
					capacity *= 2;
					stack = repalloc(stack, sizeof(json_t *) * capacity);
					keys = repalloc(keys, sizeof(char *) * capacity);
				}
				keys[depth] = key; /* owned by the stack until the container ends */
				key = NULL;
				/* jsonb stores a lone scalar as a one-element "raw scalar" array. */
				if (token == WJB_BEGIN_ARRAY && v.val.array.rawScalar)
					stack[depth++] = NULL;
				else
					stack[depth++] = token == WJB_BEGIN_OBJECT ? new_json_object() : json_array();
				continue;
			case WJB_KEY:
				key = pnstrdup(v.val.string.val, v.val.string.len);
				continue;
			case WJB_VALUE:
			case WJB_ELEM:
				value = json_from_scalar(&v, error);
				if (value == NULL)
					return NULL;
				if (stack[depth - 1] == NULL)
				{
					result = value; /* the raw scalar */
					continue;
				}
				json_container_add(stack[depth - 1], key, value);
				if (key != NULL)
				{
					pfree(key); /* jansson keeps its own copy */
					key = NULL;
				}
				continue;
			case WJB_END_OBJECT:
			case WJB_END_ARRAY:
				value = stack[--depth];
				if (value == NULL)
					continue; /* end of the raw scalar's array */
				if (depth == 0)
					result = value;
				else
				{
					json_container_add(stack[depth - 1], keys[depth], value);
					if (keys[depth] != NULL)
						pfree(keys[depth]);
				}
				continue;
			default:
				elog(ERROR, "unexpected jsonb iterator token %d", (int) token);
		}
	}
	pfree(stack);
	pfree(keys);
	return result;
}

char *
json_to_cstring(json_t *value)
{
	char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);

	if (text == NULL)
		ereport(ERROR,
		        (errcode(ERRCODE_INTERNAL_ERROR), errmsg("could not serialise a JSON value")));
	return text;
}

/* Push value into a jsonb under construction; returns what pushJsonbValue returned last. */
static JsonbValue *
push_json(JsonbParseState **state, json_t *value, JsonbIteratorToken token)
{
	JsonbValue  v;
	const char *key;
	json_t     *member;
	size_t      index;

	check_stack_depth();
	switch (json_typeof(value))
	{
		case JSON_OBJECT:
			pushJsonbValue(state, WJB_BEGIN_OBJECT, NULL);
			json_object_foreach(value, key, member)
			{
				v.type = jbvString;
				v.val.string.val = (char *) key;
				v.val.string.len = strlen(key);
				pushJsonbValue(state, WJB_KEY, &v);
				push_json(state, member, WJB_VALUE);
			}
			return pushJsonbValue(state, WJB_END_OBJECT, NULL);
		case JSON_ARRAY:
			pushJsonbValue(state, WJB_BEGIN_ARRAY, NULL);
			json_array_foreach(value, index, member) push_json(state, member, WJB_ELEM);
			return pushJsonbValue(state, WJB_END_ARRAY, NULL);
		case JSON_STRING:
			v.type = jbvString;
			v.val.string.val = (char *) json_string_value(value);
			v.val.string.len = json_string_length(value);
			break;
		case JSON_INTEGER:
			v.type = jbvNumeric;
			v.val.numeric = int64_to_numeric(json_integer_value(value));
			break;
		case JSON_REAL:
			v.type = jbvNumeric;
			v.val.numeric = DatumGetNumeric(
			    DirectFunctionCall1(float8_numeric, Float8GetDatum(json_real_value(value))));
			break;
		case JSON_TRUE:
		case JSON_FALSE:
			v.type = jbvBool;
			v.val.boolean = json_is_true(value);
			break;
		case JSON_NULL:
			v.type = jbvNull;
			break;
	}
	return pushJsonbValue(state, token, &v);
}

/*
 * Build the jsonb directly rather than printing JSON text and parsing it
 * again: ingest writes one of these per event.
 */
Datum
jsonb_from_json(json_t *value)
{
	JsonbParseState *state = NULL;
	JsonbValue      *result;

	if (json_is_object(value) || json_is_array(value))
		result = push_json(&state, value, WJB_VALUE);
	else
	{
		/* A top-level scalar is stored as a one-element raw scalar array. */
		JsonbValue array = {.type = jbvArray};

		array.val.array.rawScalar = true;
		pushJsonbValue(&state, WJB_BEGIN_ARRAY, &array);
		push_json(&state, value, WJB_ELEM);
		result = pushJsonbValue(&state, WJB_END_ARRAY, NULL);
	}
	return JsonbPGetDatum(JsonbValueToJsonb(result));
}
