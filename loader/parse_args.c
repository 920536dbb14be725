/*
 * parse_args.c
 *	  Strict number and time parsing shared by the k8s-events subcommands.
 */
#include "parse_args.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* strto* skip leading blanks and take a sign; the options want neither. */
static bool
plain_start(const char *s)
{
	return s != NULL && *s != '\0' && *s != ' ' && *s != '\t' && *s != '+';
}

bool
parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long  v;

	if (!plain_start(s))
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

bool
parse_u64(const char *s, uint64_t *out)
{
	char              *end;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*out = v;
	return true;
}

bool
parse_double(const char *s, double lo, double hi, double *out)
{
	char  *end;
	double v;

	if (!plain_start(s))
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(v) || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

bool
parse_relative_time(const char *text, int64_t *us, char *err, size_t errlen)
{
	static const char usage[] = "expected now-N followed by d, h, m or s (e.g. now-7d)";
	long              n;
	char              num[32];
	size_t            len;
	int64_t           mult;
	char              unit;
	time_t            now = time(NULL);

	if (strncmp(text, "now", 3) != 0)
		return false;
	if (text[3] == '\0')
	{
		*us = (int64_t) now * 1000000;
		return true;
	}
	len = strlen(text + 4);
	if (text[3] != '-' || len < 2 || len > sizeof(num))
	{
		snprintf(err, errlen, "%s", usage);
		return true;
	}
	unit = text[4 + len - 1];
	memcpy(num, text + 4, len - 1);
	num[len - 1] = '\0';
	mult = unit == 'd' ? 86400 : unit == 'h' ? 3600 : unit == 'm' ? 60 : unit == 's' ? 1 : 0;
	/* At most 100 years back, so that the arithmetic below cannot overflow. */
	if (mult == 0 || !parse_long(num, 0, 36500L * 86400 / (mult ? mult : 1), &n))
	{
		snprintf(err, errlen, "%s", usage);
		return true;
	}
	*us = ((int64_t) now - (int64_t) n * mult) * 1000000;
	return true;
}
