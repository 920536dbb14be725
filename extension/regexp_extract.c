/*
 * regexp_extract.c
 *	  k8s_events.regexp_extract(subject, pattern, grp): one capture group of the
 *	  first match, as BigQuery's and Rockset's REGEXP_EXTRACT.
 *
 * PostgreSQL's own engine (advanced regular expressions, as substring() and
 * regexp_match() use), so patterns mean the same here as in the rest of SQL and
 * compiled patterns come from the backend's regex cache.
 */
#include "postgres.h"

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "regex/regex.h"
#include "utils/builtins.h"
#include "sql_function.h"

SQL_FUNCTION(regexp_extract);

/* Byte length of the first nchars characters of s (at most len bytes). */
static int
char_offset_to_bytes(const char *s, int len, int nchars)
{
	int bytes = 0;

	if (pg_database_encoding_max_length() == 1)
		return nchars;
	while (nchars-- > 0 && bytes < len)
		bytes += pg_mblen(s + bytes);
	return bytes;
}

Datum
regexp_extract(PG_FUNCTION_ARGS)
{
	text       *subject = PG_GETARG_TEXT_PP(0);
	text       *pattern = PG_GETARG_TEXT_PP(1);
	int32       grp = PG_GETARG_INT32(2);
	Oid         collation = PG_GET_COLLATION();
	regex_t    *re;
	int         ngroups;
	const char *data = VARDATA_ANY(subject);
	int         data_len = VARSIZE_ANY_EXHDR(subject);
	pg_wchar   *wide;
	int         wide_len;
	regmatch_t *pmatch;
	int         rc;
	int         so_bytes;
	int         eo_bytes;

	/* Compiling first reports a bad pattern before any complaint about grp. */
	re = RE_compile_and_cache(pattern, REG_ADVANCED, collation);
	ngroups = (int) re->re_nsub;

	if (grp < 0 || grp > ngroups)
		ereport(ERROR,
		        (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		         errmsg("capture group %d does not exist in the regular expression", grp),
		         grp < 0
		             ? errdetail("Group 0 is the whole match and groups 1 and up are the "
		                         "parenthesised subexpressions; the pattern has %d.",
		                         ngroups)
		             : errdetail_plural("The pattern has %d capture group.",
		                                "The pattern has %d capture groups.", ngroups, ngroups)));

	wide = palloc((data_len + 1) * sizeof(pg_wchar));
	wide_len = pg_mb2wchar_with_len(data, wide, data_len);
	pmatch = palloc((grp + 1) * sizeof(regmatch_t));

	rc = pg_regexec(re, wide, wide_len, 0, NULL, grp + 1, pmatch, 0);
	pfree(wide);
	if (rc == REG_NOMATCH)
		PG_RETURN_NULL();
	if (rc != REG_OKAY)
	{
		char errbuf[256];

		CHECK_FOR_INTERRUPTS();
		pg_regerror(rc, re, errbuf, sizeof(errbuf));
		ereport(ERROR, (errcode(ERRCODE_INVALID_REGULAR_EXPRESSION),
		                errmsg("regular expression failed: %s", errbuf)));
	}

	/* A group inside an alternative or quantifier that was not taken. */
	if (pmatch[grp].rm_so < 0 || pmatch[grp].rm_eo < 0)
		PG_RETURN_NULL();

	so_bytes = char_offset_to_bytes(data, data_len, (int) pmatch[grp].rm_so);
	eo_bytes = so_bytes + char_offset_to_bytes(data + so_bytes, data_len - so_bytes,
	                                           (int) (pmatch[grp].rm_eo - pmatch[grp].rm_so));
	PG_RETURN_TEXT_P(cstring_to_text_with_len(data + so_bytes, eo_bytes - so_bytes));
}
