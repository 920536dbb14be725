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

/*
 * What a query's calls keep between rows (fn_extra), for the pattern they were
 * last given: its number of groups, and the literal text every match starts
 * with.  A row that does not contain that literal cannot match, and is
 * answered without converting it to wide characters or running the regular
 * expression; that is most rows of a typical query.
 */
typedef struct PatternCache
{
	text *pattern; /* a copy, in fn_mcxt */
	Oid   collation;
	int   ngroups;
	int   prefix_len; /* the first prefix_len bytes of the pattern; 0: none */
} PatternCache;

/*
 * Characters that stand for themselves wherever they appear in an advanced
 * regular expression.  Every other character (the metacharacters, and
 * anything outside ASCII, whose bytes this does not reason about) ends the
 * literal.  Case-insensitive matching or another syntax can only be asked for
 * at the very start ("(?i)", "***="), which is not a literal character, so
 * such a pattern has no prefix here.
 */
static bool
is_literal_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr(" /-_:=,;@%&'\"<>!~`", c) != NULL);
}

/*
 * Length of the literal text that every match of pattern starts with: its
 * leading literal characters, less the last when a quantifier follows it
 * ("abc*" matches "ab").  None when the pattern has an alternative anywhere
 * ("ab|cd" matches "cd"), or a comment, which the quantifier after it applies
 * through ("ab(?#x)*" matches "a"): reasoning about those is not worth the
 * risk.
 */
static int
literal_prefix_len(const char *pattern, int len)
{
	int n = 0;

	if (memchr(pattern, '|', len) != NULL || memmem(pattern, len, "(?#", 3) != NULL)
		return 0;

	while (n < len && is_literal_char(pattern[n]))
		n++;
	if (n < len && n > 0 && strchr("*+?{", pattern[n]) != NULL)
		n--;
	return n;
}

static bool
same_pattern(const PatternCache *cache, text *pattern, Oid collation)
{
	return cache != NULL && cache->collation == collation &&
	       VARSIZE_ANY_EXHDR(cache->pattern) == VARSIZE_ANY_EXHDR(pattern) &&
	       memcmp(VARDATA_ANY(cache->pattern), VARDATA_ANY(pattern), VARSIZE_ANY_EXHDR(pattern)) ==
	           0;
}

/* Fill cache (allocated in mcxt) for a pattern that compiled with ngroups groups. */
static void
remember_pattern(PatternCache *cache, MemoryContext mcxt, text *pattern, Oid collation, int ngroups)
{
	if (cache->pattern != NULL)
		pfree(cache->pattern);
	cache->pattern = MemoryContextAlloc(mcxt, VARSIZE_ANY(pattern));
	memcpy(cache->pattern, pattern, VARSIZE_ANY(pattern));
	cache->collation = collation;
	cache->ngroups = ngroups;
	cache->prefix_len = literal_prefix_len(VARDATA_ANY(pattern), VARSIZE_ANY_EXHDR(pattern));
}

/*
 * Where the regular expression may start looking, in characters: at the
 * prefix's first occurrence, at byte prefix_at.  The prefix is ASCII, so in
 * UTF-8 and single-byte encodings that byte starts a character; in other
 * encodings (whose trailing bytes can look like ASCII) look from the start.
 */
static size_t
search_start(const char *data, int prefix_at)
{
	if (pg_database_encoding_max_length() == 1)
		return (size_t) prefix_at;
	if (GetDatabaseEncoding() == PG_UTF8)
		return (size_t) pg_mbstrlen_with_len(data, prefix_at);
	return 0;
}

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
	size_t      start = 0;
	/* A C caller (DirectFunctionCall) has no FmgrInfo to keep anything in. */
	PatternCache *cache = fcinfo->flinfo != NULL ? fcinfo->flinfo->fn_extra : NULL;

	/* Compiling first reports a bad pattern before any complaint about grp. */
	if (same_pattern(cache, pattern, collation))
		ngroups = cache->ngroups;
	else
	{
		re = RE_compile_and_cache(pattern, REG_ADVANCED, collation);
		ngroups = (int) re->re_nsub;
		if (fcinfo->flinfo != NULL)
		{
			if (cache == NULL)
				cache = fcinfo->flinfo->fn_extra =
				    MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(PatternCache));
			remember_pattern(cache, fcinfo->flinfo->fn_mcxt, pattern, collation, ngroups);
		}
	}

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

	if (cache != NULL && cache->prefix_len > 0)
	{
		const char *at = memmem(data, data_len, VARDATA_ANY(cache->pattern), cache->prefix_len);

		/* Only a matching row has a group to return; grp was checked above. */
		if (at == NULL)
			PG_RETURN_NULL();
		start = search_start(data, (int) (at - data));
	}

	/* From the backend's cache: the pattern was compiled above or on an earlier row. */
	re = RE_compile_and_cache(pattern, REG_ADVANCED, collation);
	wide = palloc((data_len + 1) * sizeof(pg_wchar));
	wide_len = pg_mb2wchar_with_len(data, wide, data_len);
	pmatch = palloc((grp + 1) * sizeof(regmatch_t));

	rc = pg_regexec(re, wide, wide_len, start, NULL, grp + 1, pmatch, 0);
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
