/*
 * test_quote_text.c
 *	  Unit tests of core/quote_text.h: outside bytes quoted into a message stay
 *	  one line of valid UTF-8, cut at a character, within the buffer.
 */
#include "core/quote_text.h"

#include <stdio.h>
#include <string.h>

#include "tap.h"

/* Whether s is valid UTF-8 with no control character (C0, DEL, C1). */
static int
printable_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *) s;
	size_t               n = strlen(s);

	while (n > 0)
	{
		uint32_t cp;
		size_t   len = quote_text_char_len(p, n, &cp);

		if (len == 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return 0;
		p += len;
		n -= len;
	}
	return 1;
}

static void
expect(const char *what, const char *src, size_t srclen, size_t dstlen, size_t max, int quotes,
       const char *want)
{
	char        dst[512];
	const char *got;

	memset(dst, 'Z', sizeof(dst));
	got = quote_text_escaped(dst, dstlen, src, srclen, max, quotes);
	if (strcmp(got, want) != 0)
		printf("# got:  \"%s\"\n# want: \"%s\"\n", got, want);
	check(strcmp(got, want) == 0 && strlen(got) < dstlen && printable_utf8(got), "%s", what);
}

int
main(void)
{
	static const char rocket[] = "\xf0\x9f\x9a\x80";
	char              src[300];
	char              dst[64];

	expect("plain text is kept", "web-1", 5, 64, 64, 1, "web-1");
	expect("quotes and backslashes escaped between quotes", "it's \"x\" \\", 10, 64, 64, 1,
	       "it's \\\"x\\\" \\\\");
	expect("quotes and backslashes kept at the end of a message", "{\"a\": \"\\\\\"}", 11, 64, 64,
	       0, "{\"a\": \"\\\\\"}");
	expect("newline, return, tab escaped", "a\nb\rc\td", 7, 64, 64, 0, "a\\nb\\rc\\td");
	expect("escape sequences and other control characters as \\u", "\x1b[2J\x07\x7f", 6, 64, 64, 0,
	       "\\u001b[2J\\u0007\\u007f");
	expect("C1 control characters as \\u",
	       "\xc2\x9b"
	       "31m",
	       5, 64, 64, 0, "\\u009b31m");
	expect("bytes that are not UTF-8 as \\x", "a\xff\xc3(b", 5, 64, 64, 0, "a\\xff\\xc3(b");
	expect("an embedded NUL as \\u0000", "a\0b", 3, 64, 64, 0, "a\\u0000b");
	expect("overlong forms and surrogates as \\x", "\xc0\xaf\xed\xa0\x80", 5, 64, 64, 0,
	       "\\xc0\\xaf\\xed\\xa0\\x80");
	expect("unicode (emoji, RTL mark, combining) is kept",
	       "\xf0\x9f\x9a\x80 \xe2\x80\xae e\xcc\x81", 12, 64, 64, 0,
	       "\xf0\x9f\x9a\x80 \xe2\x80\xae e\xcc\x81");

	/* 63 bytes then an emoji: a cut at 64 bytes falls inside it, so it stops before. */
	memset(src, 'a', 63);
	memcpy(src + 63, rocket, 4);
	quote_text(dst, sizeof(dst), src, 67, 64);
	check(strlen(dst) == sizeof(dst) - 1 && strcmp(dst + 57, "aaa...") == 0 && printable_utf8(dst),
	      "a buffer too small for the quote is filled, ending with \"...\" (%zu bytes)",
	      strlen(dst));
	{
		char big[128];

		quote_text(big, sizeof(big), src, 67, 64);
		check(strlen(big) == 63 + 3 && printable_utf8(big),
		      "max bytes cut before a character that crosses it, with \"...\"");
		quote_text(big, sizeof(big), src, 67, 67);
		check(strlen(big) == 67 && memcmp(big + 63, rocket, 4) == 0,
		      "the whole input when it fits");
	}
	/* Escapes never split: 300 bytes of escape sequences into 20. */
	memset(src, '\x1b', sizeof(src));
	quote_text(dst, 20, src, sizeof(src), 300);
	check(strcmp(dst, "\\u001b\\u001b...") == 0, "an escape is never cut (\"%s\")", dst);
	quote_text(dst, 1, src, sizeof(src), 300);
	check(dst[0] == '\0', "a buffer of one byte holds the empty string");
	return tap_exit_status();
}
