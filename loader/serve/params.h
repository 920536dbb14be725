/*
 * params.h
 *	  The API's query-string parameters, each checked before anything reaches
 *	  the database.
 *
 * An endpoint names the parameters it takes; any other, a repeated one, a
 * value that is not valid UTF-8 or holds a control character or NUL, or one
 * out of its range is refused with what is wrong (HTTP 400).  Values go to
 * the database only as query parameters, never into SQL text.
 */
#ifndef K8S_EVENTS_PARAMS_H
#define K8S_EVENTS_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum ParamId
{
	P_CLUSTER,
	P_NAMESPACE,
	P_KIND,
	P_NAME,
	P_TYPE,
	P_REASON,
	P_Q,
	P_FROM,
	P_TO,
	P_BUCKET,
	P_BARS,
	P_LIMIT,
	P_OFFSET,
	P_SORT,
	P_SPARK,
	P_RELATED,
	P_NODE,
	P_COUNT
} ParamId;

#define PARAM(id) (1u << (id))

/* The longest range any view asks for: a little over the two years summaries are kept. */
#define MAX_RANGE_DAYS  800
#define MAX_BUCKETS     2000
#define MAX_QUERY_BYTES 4096

typedef struct Params
{
	const char *text[P_COUNT];  /* as given (NULL: absent), each checked */
	int64_t     from_us, to_us; /* the range (INT64_MIN/MAX: unbounded), always set */
	long        bucket_s;       /* 0: auto */
	long        bars, limit, offset, spark;
	bool        related;
	bool        sort_warnings;
} Params;

typedef struct ParamError
{
	const char *parameter; /* NULL: the request as a whole */
	char        detail[256];
} ParamError;

/* One parameter of the request, as libmicrohttpd gives it (value_len counts every byte). */
extern bool params_add(Params *p, unsigned allowed, const char *key, const char *value,
                       size_t value_len, size_t *query_bytes, ParamError *err);

/*
 * Defaults and the checks that span parameters (from before to, the range's
 * length).  A bounded endpoint (a chart, a list) reads the last 24 hours
 * unless told otherwise, at most 800 days; another, one object's rows, all of
 * them.
 */
extern bool params_finish(Params *p, int64_t now_us, bool bounded, ParamError *err);

extern void params_init(Params *p);

/* The bucket widths a chart may ask for, and the one auto picks for a range and bar count. */
extern long params_auto_bucket(int64_t range_us, long bars);

#endif
