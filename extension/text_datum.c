/*
 * text_datum.c
 *	  A text Datum of bytes that may not be text in the database's encoding.
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "text_datum.h"

Datum
text_datum_escaped(const char *s, size_t len)
{
	int            encoding = GetDatabaseEncoding();
	StringInfoData buf;

	if (pg_encoding_verifymbstr(encoding, s, (int) len) == (int) len)
		return PointerGetDatum(cstring_to_text_with_len(s, (int) len));
	initStringInfo(&buf);
	while (len > 0)
	{
		int n = pg_encoding_verifymbchar(encoding, s, (int) len);

		if (n > 0 && s[0] != '\0')
			appendBinaryStringInfo(&buf, s, n);
		else
		{
			appendStringInfo(&buf, "\\x%02x", (unsigned char) s[0]);
			n = 1;
		}
		s += n;
		len -= (size_t) n;
	}
	return PointerGetDatum(cstring_to_text_with_len(buf.data, buf.len));
}
