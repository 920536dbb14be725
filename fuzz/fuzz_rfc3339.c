/*
 * fuzz_rfc3339.c
 *	  libFuzzer target: RFC 3339 timestamps (core/rfc3339.c).  A time that parses
 *	  and can be written must parse back, from what was written, to itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/rfc3339.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t usecs, again;
	char    err[128];
	char    buf[RFC3339_BUFLEN];

	if (!rfc3339_parse((const char *) data, size, &usecs, err, sizeof(err)))
	{
		if (err[0] == '\0')
			abort(); /* a refusal says why */
		return 0;
	}
	if (rfc3339_format(usecs, buf))
	{
		if (!rfc3339_parse(buf, strlen(buf), &again, err, sizeof(err)) || again != usecs)
			abort();
	}
	return 0;
}
