/*
 * quote_text.h
 *	  Untrusted bytes (a field of an Event, an API server's error body) quoted
 *	  into a message that a terminal, a log line and a text column all take.
 *
 * Messages go to k8s_events.rejected and watch_status (text columns: valid
 * UTF-8 only), to the server log and to the program's standard error (where a
 * newline forges a line and an escape sequence moves the cursor).  So at most
 * max bytes of the input are shown, cut at a character boundary (then "..."),
 * and everything that is not printable UTF-8 is written as an escape: \n, \r,
 * \t, \u00XX for the other control characters (C0, DEL and C1), \xNN for a
 * byte that is not UTF-8, and in quote_text (for text between quotes) \" and
 * \\.  No input can end the line, the quotes or the text.
 */
#ifndef K8S_EVENTS_QUOTE_TEXT_H
#define K8S_EVENTS_QUOTE_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The length of the valid UTF-8 character at s (at most n bytes), or 0. */
static inline size_t
quote_text_char_len(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t   len;
	uint32_t c;

	if (s[0] < 0x80)
	{
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, c = s[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t k = 1; k < len; k++)
	{
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[k] & 0x3f);
	}
	/* Overlong forms, surrogates, past U+10FFFF. */
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/*
 * Write at most max bytes of src[0..srclen) into dst (dstlen bytes, always
 * NUL-terminated when dstlen > 0) as described above; returns dst.
 */
static inline const char *
quote_text_escaped(char *dst, size_t dstlen, const char *src, size_t srclen, size_t max, int quotes)
{
	const unsigned char *s = (const unsigned char *) src;
	size_t               used = 0;
	size_t               i = 0;

	if (dstlen == 0)
		return dst;
	while (i < srclen)
	{
		char     piece[8];
		size_t   plen;
		uint32_t cp;
		size_t   clen = quote_text_char_len(s + i, srclen - i, &cp);

		if (clen == 0)
			plen = (size_t) snprintf(piece, sizeof(piece), "\\x%02x", s[i]), clen = 1;
		else if (cp == '\n' || cp == '\r' || cp == '\t' || (quotes && (cp == '"' || cp == '\\')))
		{
			piece[0] = '\\';
			piece[1] = cp == '\n' ? 'n' : cp == '\r' ? 'r' : cp == '\t' ? 't' : (char) cp;
			plen = 2;
		}
		else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			plen = (size_t) snprintf(piece, sizeof(piece), "\\u%04x", (unsigned) cp);
		else
			memcpy(piece, s + i, clen), plen = clen;
		/* Room for this piece and, if more follows, "..." and the NUL. */
		if (i + clen > max || used + plen + (i + clen < srclen ? 3 : 0) + 1 > dstlen)
		{
			if (used + 4 <= dstlen)
				memcpy(dst + used, "...", 3), used += 3;
			break;
		}
		memcpy(dst + used, piece, plen);
		used += plen;
		i += clen;
	}
	dst[used] = '\0';
	return dst;
}

/* Text to put between double quotes in a message. */
static inline const char *
quote_text(char *dst, size_t dstlen, const char *src, size_t srclen, size_t max)
{
	return quote_text_escaped(dst, dstlen, src, srclen, max, 1);
}

/* Text that ends a message (an error body, an error's message): quotes left as they are. */
static inline const char *
printable_text(char *dst, size_t dstlen, const char *src, size_t srclen, size_t max)
{
	return quote_text_escaped(dst, dstlen, src, srclen, max, 0);
}

#endif
