/*
 * fuzz_serve_params.c
 *	  libFuzzer target: the dashboard API's parameter checks
 *	  (loader/serve/params.c), which stand between a request and the database.
 *	  The input is a query string's pairs, "key=value" separated by '&' (a
 *	  value may hold any byte, NUL included, as libmicrohttpd hands it over);
 *	  its first byte picks the parameters the endpoint allows and whether its
 *	  range is bounded.  What passes must be what the API relies on: a range
 *	  from before to, within the era and the limits, and every text accepted a
 *	  C string of at most the query's length.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serve/params.h"

/* 2026-12-07T00:00:00Z */
#define NOW_US INT64_C(1796601600000000)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Params      p;
	ParamError  err;
	size_t      query_bytes = 0;
	unsigned    allowed;
	bool        bounded;
	char       *copy;
	char      **owned; /* every key and value, freed at the end: params keeps values */
	size_t      nowned = 0;
	const char *at, *end;
	bool        ok = true;

	if (size < 1)
		return 0;
	allowed = (data[0] & 1) ? (PARAM(P_COUNT) - 1) : (PARAM(P_COUNT) - 1) & ~(unsigned) data[0];
	bounded = (data[0] & 2) != 0;
	/* The pairs, each NUL-terminated in a copy, as libmicrohttpd gives them. */
	copy = malloc(size);
	owned = malloc(sizeof(char *) * 2 * size);
	if (copy == NULL || owned == NULL)
		abort();
	memcpy(copy, data + 1, size - 1);
	copy[size - 1] = '\0';
	params_init(&p);
	at = copy;
	end = copy + size - 1;
	while (ok && at < end)
	{
		const char *amp = memchr(at, '&', (size_t) (end - at));
		const char *stop = amp != NULL ? amp : end;
		const char *eq = memchr(at, '=', (size_t) (stop - at));
		char       *key, *value;
		size_t      key_len = (size_t) ((eq != NULL ? eq : stop) - at);
		size_t      value_len = eq != NULL ? (size_t) (stop - eq - 1) : 0;

		key = strndup(at, key_len);
		value = malloc(value_len + 1);
		if (key == NULL || value == NULL)
			abort();
		if (value_len > 0)
			memcpy(value, eq + 1, value_len);
		value[value_len] = '\0';
		owned[nowned++] = key;
		owned[nowned++] = value;
		ok = params_add(&p, allowed, key, value, value_len, &query_bytes, &err);
		at = stop + 1;
	}
	if (ok && params_finish(&p, NOW_US, bounded, &err))
	{
		if (p.from_us >= p.to_us)
			abort();
		if (bounded && (p.to_us - p.from_us > (int64_t) MAX_RANGE_DAYS * 86400 * 1000000 ||
		                (p.bucket_s > 0 &&
		                 (p.to_us - p.from_us) / ((int64_t) p.bucket_s * 1000000) > MAX_BUCKETS)))
			abort();
		for (int i = 0; i < P_COUNT; i++)
			if (p.text[i] != NULL && strlen(p.text[i]) > size)
				abort();
		if (p.limit < 0 || p.offset < 0 || p.bars < 0 || p.spark < 0)
			abort();
	}
	for (size_t i = 0; i < nowned; i++)
		free(owned[i]);
	free(owned);
	free(copy);
	return 0;
}
