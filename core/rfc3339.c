/*
 * rfc3339.c
 *	  A strict RFC 3339 parser.
 *
 * Kubernetes serialises every timestamp with Go's time.RFC3339 or RFC3339Micro
 * layouts; anything else in an Event is a corrupt or hand-made object, so this
 * parser rejects it with a reason rather than guessing.
 */
#include "rfc3339.h"

#include <stdio.h>

#define USECS_PER_SEC    INT64_C(1000000)
#define USECS_PER_MINUTE (60 * USECS_PER_SEC)
#define USECS_PER_DAY    (86400 * USECS_PER_SEC)

int64_t
rfc3339_days_from_civil(int64_t year, int month, int day)
{
	/* Shift the year to start in March so the leap day is the last day of it. */
	int64_t y = month <= 2 ? year - 1 : year;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t year_of_era = y - era * 400;
	int64_t month_from_march = month > 2 ? month - 3 : month + 9;
	int64_t day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
	int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;

	return era * 146097 + day_of_era - 719468;
}

static bool
is_leap_year(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int
days_in_month(int year, int month)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return month == 2 && is_leap_year(year) ? 29 : days[month - 1];
}

/* Read exactly n digits at *pos; false if any is not a digit. */
static bool
read_digits(const char *text, size_t len, size_t *pos, int n, int *value)
{
	int v = 0;

	if (*pos + n > len)
		return false;
	for (int i = 0; i < n; i++)
	{
		char c = text[*pos + i];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*pos += n;
	*value = v;
	return true;
}

static bool
expect_char(const char *text, size_t len, size_t *pos, char c)
{
	if (*pos >= len || text[*pos] != c)
		return false;
	(*pos)++;
	return true;
}

static bool
fail(char *err, size_t errlen, const char *reason)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", reason);
	return false;
}

bool
rfc3339_parse(const char *text, size_t len, int64_t *usecs, char *err, size_t errlen)
{
	size_t  pos = 0;
	int     year, month, day, hour, minute, second;
	int64_t fraction_usecs = 0;
	int64_t offset_minutes = 0;

	if (!read_digits(text, len, &pos, 4, &year) || !expect_char(text, len, &pos, '-') ||
	    !read_digits(text, len, &pos, 2, &month) || !expect_char(text, len, &pos, '-') ||
	    !read_digits(text, len, &pos, 2, &day))
		return fail(err, errlen, "expected a date as YYYY-MM-DD");
	if (pos >= len || (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' '))
		return fail(err, errlen, "expected 'T' between date and time");
	pos++;
	if (!read_digits(text, len, &pos, 2, &hour) || !expect_char(text, len, &pos, ':') ||
	    !read_digits(text, len, &pos, 2, &minute) || !expect_char(text, len, &pos, ':') ||
	    !read_digits(text, len, &pos, 2, &second))
		return fail(err, errlen, "expected a time as hh:mm:ss");

	if (year < 1 || month < 1 || month > 12)
		return fail(err, errlen, "month out of range");
	if (day < 1 || day > days_in_month(year, month))
		return fail(err, errlen, "day out of range for its month");
	if (hour > 23 || minute > 59 || second > 60)
		return fail(err, errlen, "time of day out of range");

	if (pos < len && text[pos] == '.')
	{
		int     digits = 0;
		int64_t scale = 100000;

		pos++;
		while (pos < len && text[pos] >= '0' && text[pos] <= '9')
		{
			/* Digits past the microsecond are truncated, as PostgreSQL can't store them. */
			if (digits < 6)
			{
				fraction_usecs += (text[pos] - '0') * scale;
				scale /= 10;
			}
			digits++;
			pos++;
		}
		if (digits == 0)
			return fail(err, errlen, "expected digits after the decimal point");
		if (digits > 9)
			return fail(err, errlen, "more than nine fractional digits");
	}

	if (pos < len && (text[pos] == 'Z' || text[pos] == 'z'))
		pos++;
	else if (pos < len && (text[pos] == '+' || text[pos] == '-'))
	{
		int sign = text[pos] == '-' ? -1 : 1;
		int off_hour, off_minute;

		pos++;
		if (!read_digits(text, len, &pos, 2, &off_hour) || !expect_char(text, len, &pos, ':') ||
		    !read_digits(text, len, &pos, 2, &off_minute) || off_hour > 23 || off_minute > 59)
			return fail(err, errlen, "expected a UTC offset as +hh:mm or -hh:mm");
		offset_minutes = sign * (off_hour * 60 + off_minute);
	}
	else
		return fail(err, errlen, "expected a time zone: 'Z' or an offset such as +02:00");

	if (pos != len)
		return fail(err, errlen, "unexpected characters after the time zone");

	*usecs = rfc3339_days_from_civil(year, month, day) * USECS_PER_DAY +
	         ((int64_t) hour * 3600 + minute * 60 + second) * USECS_PER_SEC + fraction_usecs -
	         offset_minutes * USECS_PER_MINUTE;
	return true;
}

bool
rfc3339_format(int64_t usecs, char *buf)
{
	int64_t days = usecs / USECS_PER_DAY;
	int64_t rem = usecs % USECS_PER_DAY;
	int64_t z, era, day_of_era, year_of_era, day_of_year, mp, year;
	int     month, day;

	if (rem < 0)
	{
		rem += USECS_PER_DAY;
		days--;
	}
	/* The inverse of rfc3339_days_from_civil. */
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	day_of_era = z - era * 146097;
	year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
	day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
	mp = (5 * day_of_year + 2) / 153;
	day = (int) (day_of_year - (153 * mp + 2) / 5 + 1);
	month = (int) (mp < 10 ? mp + 3 : mp - 9);
	year = year_of_era + era * 400 + (month <= 2);
	if (year < 1 || year > 9999)
		return false;

	{
		int64_t secs = rem / USECS_PER_SEC;
		int     micros = (int) (rem % USECS_PER_SEC);
		int n = snprintf(buf, RFC3339_BUFLEN, "%04d-%02d-%02dT%02d:%02d:%02d", (int) year, month,
		                 day, (int) (secs / 3600), (int) (secs / 60 % 60), (int) (secs % 60));

		if (micros != 0)
			n += snprintf(buf + n, RFC3339_BUFLEN - n, ".%06d", micros);
		snprintf(buf + n, RFC3339_BUFLEN - n, "Z");
	}
	return true;
}
