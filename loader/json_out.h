/*
 * json_out.h
 *	  A growable byte buffer and the JSON text primitives every command
 *	  writes with (the simulator's responses, the generator's stream, the
 *	  loader's COPY rows, the watcher's batches).
 *
 * Hand-written rather than through jansson so that the field order is the one
 * the API server produces (Go struct order) and so that writing stays far
 * faster than any consumer of the stream.
 */
#ifndef K8S_EVENTS_JSON_OUT_H
#define K8S_EVENTS_JSON_OUT_H

#include <stddef.h>
#include <stdint.h>

/* A growable byte buffer; allocation failure exits the program. */
typedef struct ej_buf
{
	char  *data;
	size_t len;
	size_t cap;
} ej_buf;

extern void ej_reserve(ej_buf *b, size_t extra);
extern void ej_append(ej_buf *b, const char *s, size_t n);
extern void ej_puts(ej_buf *b, const char *s);
extern void ej_u64(ej_buf *b, uint64_t v);
/* A JSON string literal with the escaping encoding/json uses (<, >, & as \u00XX). */
extern void ej_string(ej_buf *b, const char *s);
extern void ej_free(ej_buf *b);

/* "2006-01-02T15:04:05Z" (micro=0) or "2006-01-02T15:04:05.000000Z"; out needs 32 bytes. */
extern void ej_format_time(int64_t usecs, int micro, char *out);

#endif
