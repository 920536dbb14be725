/*
 * json_reader.h
 *	  Reading a JSON document through callbacks, so that one implementation of
 *	  a rule serves every form the document comes in: jansson's json_t where
 *	  the text was parsed, PostgreSQL's jsonb in the extension (event_time(),
 *	  and ingest_copied(), which decodes each stored Event again), read in place
 *	  without converting the Event.
 *
 * Values are opaque pointers the reader hands out; NULL means "absent".
 */
#ifndef K8S_EVENTS_JSON_READER_H
#define K8S_EVENTS_JSON_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum JsonKind
{
	JSON_KIND_NULL,
	JSON_KIND_STRING,
	JSON_KIND_NUMBER,
	JSON_KIND_BOOLEAN,
	JSON_KIND_ARRAY,
	JSON_KIND_OBJECT
} JsonKind;

typedef struct JsonReader JsonReader;
struct JsonReader
{
	/* The member key of an object value, or NULL when it has none (or is no object). */
	const void *(*member)(const JsonReader *r, const void *object, const char *key);
	JsonKind (*kind)(const JsonReader *r, const void *value);
	/* A string's bytes, not NUL-terminated, and their length. */
	const char *(*string)(const JsonReader *r, const void *value, size_t *len);
	/* How many members an object has. */
	size_t (*size)(const JsonReader *r, const void *object);
	/* The value of an object's first member, or NULL when it has none. */
	const void *(*first_member)(const JsonReader *r, const void *object);
	/*
	 * A string's bytes NUL-terminated, living as long as the document (a copy
	 * where the form keeps them unterminated), or NULL when memory ran out.
	 */
	const char *(*cstring)(const JsonReader *r, const void *value);
	/* A number's value when it is an integer that fits; false for any other number. */
	bool (*integer)(const JsonReader *r, const void *value, int64_t *result);
	void *arg;
};

/* "an object", "a string", ...: how error messages name a value's type. */
extern const char *json_kind_name(JsonKind kind);

#endif
