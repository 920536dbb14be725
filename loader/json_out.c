/*
 * json_out.c
 *	  The output buffer and JSON text primitives the commands write with.
 */
#include "json_out.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
ej_reserve(ej_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	size_t cap;
	char  *p;

	if (need <= b->cap)
		return;
	cap = b->cap ? b->cap : 4096;
	while (cap < need)
		cap *= 2;
	p = realloc(b->data, cap);
	if (p == NULL)
	{
		fprintf(stderr, "k8s-events: out of memory (buffer of %zu bytes)\n", cap);
		exit(1);
	}
	b->data = p;
	b->cap = cap;
}

void
ej_append(ej_buf *b, const char *s, size_t n)
{
	ej_reserve(b, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
ej_puts(ej_buf *b, const char *s)
{
	ej_append(b, s, strlen(s));
}

void
ej_u64(ej_buf *b, uint64_t v)
{
	char tmp[24];
	int  i = sizeof(tmp);

	do
	{
		tmp[--i] = (char) ('0' + v % 10);
		v /= 10;
	} while (v != 0);
	ej_append(b, tmp + i, sizeof(tmp) - i);
}

void
ej_string(ej_buf *b, const char *s)
{
	static const char    hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *) s;
	size_t               n = strlen(s);
	char                *o;

	/* Worst case every byte becomes \u00XX. */
	ej_reserve(b, n * 6 + 2);
	o = b->data + b->len;
	*o++ = '"';
	for (; *p; p++)
	{
		unsigned char c = *p;

		if (c == '"' || c == '\\')
		{
			*o++ = '\\';
			*o++ = (char) c;
		}
		else if (c == '\n')
		{
			*o++ = '\\';
			*o++ = 'n';
		}
		else if (c == '\t')
		{
			*o++ = '\\';
			*o++ = 't';
		}
		else if (c == '\r')
		{
			*o++ = '\\';
			*o++ = 'r';
		}
		else if (c < 0x20 || c == '<' || c == '>' || c == '&')
		{
			/* encoding/json escapes HTML-significant bytes too; keep the bytes identical. */
			memcpy(o, "\\u00", 4);
			o += 4;
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
		else
			*o++ = (char) c;
	}
	*o++ = '"';
	*o = '\0';
	b->len = (size_t) (o - b->data);
}

void
ej_free(ej_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

static void
put2(char *o, int v)
{
	o[0] = (char) ('0' + v / 10);
	o[1] = (char) ('0' + v % 10);
}

void
ej_format_time(int64_t usecs, int micro, char *out)
{
	int64_t secs = usecs >= 0 ? usecs / 1000000 : -((-usecs + 999999) / 1000000);
	int64_t frac = usecs - secs * 1000000;
	int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
	int64_t sod = secs - days * 86400;
	/* civil_from_days (H. Hinnant): proleptic Gregorian, era-based. */
	int64_t  z = days + 719468;
	int64_t  era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned) (z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t  y = (int64_t) yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1;
	unsigned mo = mp < 10 ? mp + 3 : mp - 9;
	int      i;

	if (mo <= 2)
		y++;
	out[0] = (char) ('0' + (y / 1000) % 10);
	out[1] = (char) ('0' + (y / 100) % 10);
	out[2] = (char) ('0' + (y / 10) % 10);
	out[3] = (char) ('0' + y % 10);
	out[4] = '-';
	put2(out + 5, (int) mo);
	out[7] = '-';
	put2(out + 8, (int) d);
	out[10] = 'T';
	put2(out + 11, (int) (sod / 3600));
	out[13] = ':';
	put2(out + 14, (int) (sod / 60 % 60));
	out[16] = ':';
	put2(out + 17, (int) (sod % 60));
	if (!micro)
	{
		out[19] = 'Z';
		out[20] = '\0';
		return;
	}
	out[19] = '.';
	for (i = 25; i >= 20; i--)
	{
		out[i] = (char) ('0' + frac % 10);
		frac /= 10;
	}
	out[26] = 'Z';
	out[27] = '\0';
}
