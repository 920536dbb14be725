/*
 * jsonb_reader.c
 *	  jsonb through a JsonReader (core/json_reader.h), so that core's rules
 *	  (an Event's time, the whole decoding) read a stored Event in place.
 *
 * Values are JsonbValues; containers are read where they lie
 * (findJsonbValueFromContainer's binary search), so a rule reads the few
 * members it needs, and nothing else of the Event.
 */
#include "postgres.h"

#include <errno.h>
#include <stdlib.h>

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "jsonb_reader.h"

static const void *
jsonb_member(const JsonReader *r, const void *object, const char *key)
{
	const JsonbValue *v = object;
	JsonbValue        k = {.type = jbvString};

	if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
		return NULL;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	return findJsonbValueFromContainer(v->val.binary.data, JB_FOBJECT, &k);
}

static JsonKind
jsonb_kind(const JsonReader *r, const void *value)
{
	const JsonbValue *v = value;

	switch (v->type)
	{
		case jbvString:
			return JSON_KIND_STRING;
		case jbvNumeric:
			return JSON_KIND_NUMBER;
		case jbvBool:
			return JSON_KIND_BOOLEAN;
		case jbvBinary:
			return JsonContainerIsObject(v->val.binary.data) ? JSON_KIND_OBJECT : JSON_KIND_ARRAY;
		default:
			return JSON_KIND_NULL;
	}
}

static const char *
jsonb_string(const JsonReader *r, const void *value, size_t *len)
{
	const JsonbValue *v = value;

	*len = v->val.string.len;
	return v->val.string.val;
}

static size_t
jsonb_size(const JsonReader *r, const void *object)
{
	return JsonContainerSize(((const JsonbValue *) object)->val.binary.data);
}

static const void *
jsonb_first_member(const JsonReader *r, const void *object)
{
	JsonbIterator     *it = JsonbIteratorInit(((const JsonbValue *) object)->val.binary.data);
	JsonbValue        *v = palloc(sizeof(JsonbValue));
	JsonbIteratorToken token;

	while ((token = JsonbIteratorNext(&it, v, true)) != WJB_DONE)
		if (token == WJB_VALUE)
			return v;
	return NULL;
}

/* A NUL-terminated copy, in the current memory context. */
static const char *
jsonb_cstring(const JsonReader *r, const void *value)
{
	const JsonbValue *v = value;

	return pnstrdup(v->val.string.val, v->val.string.len);
}

/*
 * An integer: a numeric written without a fraction ("3", not "3.0", as
 * jansson tells them apart) that fits an int64.
 */
static bool
jsonb_integer(const JsonReader *r, const void *value, int64_t *result)
{
	const JsonbValue *v = value;
	char             *text;
	char             *end;
	bool              ok;

	if (v->type != jbvNumeric)
		return false;
	text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
	errno = 0;
	*result = strtoll(text, &end, 10);
	ok = errno == 0 && end != text && *end == '\0';
	pfree(text);
	return ok;
}

const JsonReader jsonb_reader = {
    .member = jsonb_member,
    .kind = jsonb_kind,
    .string = jsonb_string,
    .size = jsonb_size,
    .first_member = jsonb_first_member,
    .cstring = jsonb_cstring,
    .integer = jsonb_integer,
};

void
jsonb_reader_root(Jsonb *jb, JsonbValue *root)
{
	root->type = jbvBinary;
	root->val.binary.data = &jb->root;
	root->val.binary.len = VARSIZE(jb) - VARHDRSZ;
}
