/*
 * base64.c
 *	  Base64 (RFC 4648, standard alphabet) decoding and encoding.
 */
#include "base64.h"

#include <stdint.h>
#include <stdio.h>

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* -1: not in the alphabet; -2: ignorable white space; -3: padding. */
static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	if (c == '\n' || c == '\r' || c == ' ' || c == '\t')
		return -2;
	if (c == '=')
		return -3;
	return -1;
}

size_t
base64_decoded_max(size_t len)
{
	return len / 4 * 3 + 3;
}

size_t
base64_encoded_len(size_t len)
{
	return (len + 2) / 3 * 4;
}

bool
base64_decode(const char *in, size_t inlen, unsigned char *out, size_t outcap, size_t *outlen,
              char *err, size_t errlen)
{
	uint32_t acc = 0;
	int      nacc = 0; /* sextets in acc */
	size_t   n = 0;
	size_t   i;
	bool     padding = false;
	size_t   npad = 0;

	for (i = 0; i < inlen; i++)
	{
		int v = b64_value((unsigned char) in[i]);

		if (v == -2)
			continue;
		if (v == -1)
		{
			snprintf(err, errlen, "invalid base64: unexpected character at offset %zu", i);
			return false;
		}
		if (v == -3)
		{
			/* Padding may only complete a group of two or three characters. */
			if (!padding && nacc < 2)
			{
				snprintf(err, errlen, "invalid base64: misplaced padding at offset %zu", i);
				return false;
			}
			padding = true;
			npad++;
			if (nacc + (int) npad > 4)
			{
				snprintf(err, errlen, "invalid base64: too much padding at offset %zu", i);
				return false;
			}
			continue;
		}
		if (padding)
		{
			snprintf(err, errlen, "invalid base64: data after padding at offset %zu", i);
			return false;
		}
		acc = (acc << 6) | (uint32_t) v;
		nacc++;
		if (nacc == 4)
		{
			if (outcap - n < 3)
			{
				snprintf(err, errlen, "base64 output buffer too small");
				return false;
			}
			out[n++] = (unsigned char) (acc >> 16);
			out[n++] = (unsigned char) (acc >> 8);
			out[n++] = (unsigned char) acc;
			acc = 0;
			nacc = 0;
		}
	}
	if (nacc == 1)
	{
		snprintf(err, errlen, "invalid base64: truncated input (one character too many)");
		return false;
	}
	if (padding && nacc + (int) npad != 4)
	{
		snprintf(err, errlen, "invalid base64: incomplete padding");
		return false;
	}
	if (nacc > 1)
	{
		size_t extra = (size_t) nacc - 1; /* 2 sextets -> 1 byte, 3 -> 2 */

		if (outcap - n < extra)
		{
			snprintf(err, errlen, "base64 output buffer too small");
			return false;
		}
		acc <<= 6 * (4 - nacc);
		out[n++] = (unsigned char) (acc >> 16);
		if (nacc == 3)
			out[n++] = (unsigned char) (acc >> 8);
	}
	*outlen = n;
	return true;
}

size_t
base64_encode(const unsigned char *in, size_t inlen, char *out)
{
	size_t i;
	size_t n = 0;

	for (i = 0; i + 2 < inlen; i += 3)
	{
		uint32_t v = ((uint32_t) in[i] << 16) | ((uint32_t) in[i + 1] << 8) | in[i + 2];

		out[n++] = b64_alphabet[(v >> 18) & 63];
		out[n++] = b64_alphabet[(v >> 12) & 63];
		out[n++] = b64_alphabet[(v >> 6) & 63];
		out[n++] = b64_alphabet[v & 63];
	}
	if (i < inlen)
	{
		uint32_t v = (uint32_t) in[i] << 16;

		if (i + 1 < inlen)
			v |= (uint32_t) in[i + 1] << 8;
		out[n++] = b64_alphabet[(v >> 18) & 63];
		out[n++] = b64_alphabet[(v >> 12) & 63];
		out[n++] = i + 1 < inlen ? b64_alphabet[(v >> 6) & 63] : '=';
		out[n++] = '=';
	}
	out[n] = '\0';
	return n;
}
