/*
 * image_ref.c
 *	  Container image reference parsing (see image_ref.h for the grammar).
 *
 * A hand-written scanner rather than the upstream regular expression, so that a
 * bad reference is reported by the rule it breaks instead of as a bare
 * "invalid reference format".
 */
#include "image_ref.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_REGISTRY "docker.io"
#define LEGACY_REGISTRY  "index.docker.io"
#define OFFICIAL_PREFIX  "library/"
#define DEFAULT_TAG      "latest"

/* How much of an offending piece of input an error message quotes. */
#define QUOTE_MAX 80

static bool
is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool
is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_xdigit(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool
is_word(char c)
{
	return is_alnum(c) || c == '_';
}

static bool
part_equals(const char *p, size_t len, const char *s)
{
	return len == strlen(s) && memcmp(p, s, len) == 0;
}

/*
 * Write the error, quoting at most QUOTE_MAX bytes of the offending input.  The
 * cut backs off to a UTF-8 character boundary so the message stays valid text.
 */
static bool
fail(char *err, size_t errlen, const char *fmt, const char *piece, size_t piece_len)
{
	size_t      n = piece_len;
	const char *ellipsis = "";

	if (n > QUOTE_MAX)
	{
		n = QUOTE_MAX;
		while (n > 0 && ((unsigned char) piece[n] & 0xC0) == 0x80)
			n--;
		ellipsis = "...";
	}
	snprintf(err, errlen, fmt, (int) n, piece, ellipsis);
	return false;
}

static bool fail_plain(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool
fail_plain(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return false;
}

/* host: a DNS-like name or IPv4 address (dot-separated), or a bracketed IPv6 address. */
static bool
valid_host(const char *p, size_t len)
{
	size_t i = 0;

	if (len == 0)
		return false;
	if (p[0] == '[')
	{
		if (len < 3 || p[len - 1] != ']')
			return false;
		for (i = 1; i < len - 1; i++)
			if (!is_xdigit(p[i]) && p[i] != ':')
				return false;
		return true;
	}
	while (i < len)
	{
		size_t start = i;

		while (i < len && p[i] != '.')
		{
			if (!is_alnum(p[i]) && p[i] != '-')
				return false;
			i++;
		}
		/* A label is non-empty and neither starts nor ends with '-'. */
		if (i == start || p[start] == '-' || p[i - 1] == '-')
			return false;
		if (i < len)
		{
			i++;
			if (i == len)
				return false;
		}
	}
	return true;
}

static bool
check_registry(const char *p, size_t len, char *err, size_t errlen)
{
	size_t host_len;

	if (p[0] == '[')
	{
		const char *close = memchr(p, ']', len);

		host_len = close ? (size_t) (close - p) + 1 : len;
	}
	else
	{
		const char *colon = memchr(p, ':', len);

		host_len = colon ? (size_t) (colon - p) : len;
	}
	if (!valid_host(p, host_len))
		return fail(err, errlen,
		            "Registry \"%.*s%s\" is not a host name, an IPv4 address or a bracketed "
		            "IPv6 address, with an optional :port.",
		            p, len);
	if (host_len < len)
	{
		size_t i;

		if (p[host_len] != ':' || host_len + 1 == len)
			return fail(err, errlen, "Registry \"%.*s%s\" has a malformed port.", p, len);
		for (i = host_len + 1; i < len; i++)
			if (!is_digit(p[i]))
				return fail(err, errlen, "Registry \"%.*s%s\" has a port that is not a number.", p,
				            len);
	}
	return true;
}

/*
 * One path component: alphanumeric runs joined by ".", "_", "__" or one or more
 * "-".  Upper-case letters are let through here and reported separately, so the
 * user is told "must be lower-case" rather than "malformed".
 */
static bool
valid_component(const char *p, size_t len)
{
	size_t i = 0;

	while (i < len)
	{
		if (!is_alnum(p[i]))
			return false;
		while (i < len && is_alnum(p[i]))
			i++;
		if (i == len)
			return true;
		if (p[i] == '.')
			i++;
		else if (p[i] == '_')
			i += (i + 1 < len && p[i + 1] == '_') ? 2 : 1;
		else if (p[i] == '-')
			while (i < len && p[i] == '-')
				i++;
		else
			return false;
		/* A separator must be followed by another alphanumeric run. */
		if (i == len)
			return false;
	}
	return len > 0;
}

static bool
check_path(const char *p, size_t len, size_t prefix_len, char *err, size_t errlen)
{
	size_t i = 0;
	size_t k;

	if (len == 0)
		return fail_plain(err, errlen, "The repository path after the registry is empty.");
	for (;;)
	{
		const char *slash = memchr(p + i, '/', len - i);
		size_t      end = slash ? (size_t) (slash - p) : len;

		if (end == i)
			return fail(err, errlen, "Repository \"%.*s%s\" has an empty path component.", p, len);
		if (!valid_component(p + i, end - i))
			return fail(err, errlen,
			            "Repository path component \"%.*s%s\" is not lower-case letters and "
			            "digits separated by '.', '_', '__' or dashes.",
			            p + i, end - i);
		if (!slash)
			break;
		i = end + 1;
	}
	for (k = 0; k < len; k++)
		if (p[k] >= 'A' && p[k] <= 'Z')
			return fail(err, errlen, "Repository \"%.*s%s\" must be lower-case.", p, len);
	if (prefix_len + len > IMAGE_REF_PATH_MAX)
		return fail_plain(err, errlen,
		                  "The repository is %zu characters long, more than the %d allowed.",
		                  prefix_len + len, IMAGE_REF_PATH_MAX);
	return true;
}

static bool
check_tag(const char *p, size_t len, char *err, size_t errlen)
{
	size_t i;

	if (len == 0)
		return fail_plain(err, errlen, "The tag after ':' is empty.");
	if (!is_word(p[0]))
		return fail(err, errlen, "Tag \"%.*s%s\" does not start with a letter, digit or '_'.", p,
		            len);
	for (i = 1; i < len; i++)
		if (!is_word(p[i]) && p[i] != '.' && p[i] != '-')
			return fail(err, errlen,
			            "Tag \"%.*s%s\" has a character other than letters, digits, '_', '.' "
			            "and '-'.",
			            p, len);
	if (len > IMAGE_REF_TAG_MAX)
		return fail_plain(err, errlen, "The tag is %zu characters long, more than the %d allowed.",
		                  len, IMAGE_REF_TAG_MAX);
	return true;
}

/*
 * algorithm ":" hex, where algorithm is letter-led alphanumeric pieces joined by
 * one of "-_+.", and hex has at least 32 digits.  Then, as go-digest does, the
 * algorithm must be one we know, with its exact length of lower-case hex.
 */
static bool
check_digest(const char *p, size_t len, char *err, size_t errlen)
{
	const char *colon = memchr(p, ':', len);
	size_t      alg_len;
	size_t      hex_len;
	size_t      want;
	size_t      i = 0;
	const char *hex;

	if (len == 0)
		return fail_plain(err, errlen, "The digest after '@' is empty.");
	if (!colon)
		return fail(err, errlen, "Digest \"%.*s%s\" is not of the form algorithm:hex.", p, len);
	alg_len = (size_t) (colon - p);
	hex = colon + 1;
	hex_len = len - alg_len - 1;
	while (i < alg_len)
	{
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')))
			break;
		while (i < alg_len && is_alnum(p[i]))
			i++;
		if (i < alg_len && strchr("-_+.", p[i]) != NULL)
			i++;
		else
			break;
	}
	if (alg_len == 0 || i != alg_len || !is_alnum(p[alg_len - 1]))
		return fail(err, errlen, "Digest algorithm \"%.*s%s\" is not a valid algorithm name.", p,
		            alg_len);
	for (i = 0; i < hex_len; i++)
		if (!is_xdigit(hex[i]))
			return fail(err, errlen, "Digest \"%.*s%s\" has a character that is not hexadecimal.",
			            p, len);
	if (hex_len < 32)
		return fail(err, errlen,
		            "Digest \"%.*s%s\" has fewer than the 32 hexadecimal digits required.", p, len);
	if (part_equals(p, alg_len, "sha256"))
		want = 64;
	else if (part_equals(p, alg_len, "sha384"))
		want = 96;
	else if (part_equals(p, alg_len, "sha512"))
		want = 128;
	else
		return fail(err, errlen,
		            "Digest algorithm \"%.*s%s\" is not supported (sha256, sha384 and sha512 are).",
		            p, alg_len);
	if (hex_len != want)
		return fail_plain(err, errlen, "A %.*s digest has %zu hexadecimal digits, not %zu.",
		                  (int) alg_len, p, want, hex_len);
	for (i = 0; i < hex_len; i++)
		if (hex[i] >= 'A' && hex[i] <= 'F')
			return fail(err, errlen, "Digest \"%.*s%s\" must use lower-case hexadecimal digits.", p,
			            len);
	return true;
}

bool
image_ref_parse(const char *ref, size_t len, ImageRef *out, char *err, size_t errlen)
{
	const char *at;
	const char *last_slash = NULL;
	const char *colon;
	const char *slash;
	size_t      name_len;
	size_t      i;
	bool        all_hex = (len == 64);

	memset(out, 0, sizeof(*out));
	out->repository_prefix = "";

	if (len == 0)
		return fail_plain(err, errlen, "The reference is empty.");
	for (i = 0; all_hex && i < len; i++)
		all_hex = is_digit(ref[i]) || (ref[i] >= 'a' && ref[i] <= 'f');
	if (all_hex)
		return fail_plain(err, errlen,
		                  "A 64-digit hexadecimal string is an image ID, not a repository name.");

	/* Neither name nor tag may hold '@', so the first one starts the digest. */
	at = memchr(ref, '@', len);
	name_len = at ? (size_t) (at - ref) : len;
	if (at)
	{
		out->digest.ptr = at + 1;
		out->digest.len = len - name_len - 1;
	}

	/* The tag follows the first ':' after the last '/' (a ':' before it is a port). */
	for (i = 0; i < name_len; i++)
		if (ref[i] == '/')
			last_slash = ref + i;
	{
		const char *from = last_slash ? last_slash + 1 : ref;

		colon = memchr(from, ':', name_len - (size_t) (from - ref));
	}
	if (colon)
	{
		out->tag.ptr = colon + 1;
		out->tag.len = name_len - (size_t) (colon - ref) - 1;
		name_len = (size_t) (colon - ref);
	}
	if (name_len == 0)
		return fail_plain(err, errlen, "The repository name is empty.");

	slash = memchr(ref, '/', name_len);
	out->registry.ptr = DEFAULT_REGISTRY;
	out->registry.len = strlen(DEFAULT_REGISTRY);
	out->repository.ptr = ref;
	out->repository.len = name_len;
	if (slash)
	{
		size_t first_len = (size_t) (slash - ref);
		bool   is_registry = part_equals(ref, first_len, "localhost");

		for (i = 0; !is_registry && i < first_len; i++)
			is_registry = ref[i] == '.' || ref[i] == ':' || (ref[i] >= 'A' && ref[i] <= 'Z');
		if (is_registry)
		{
			if (!check_registry(ref, first_len, err, errlen))
				return false;
			if (!part_equals(ref, first_len, LEGACY_REGISTRY))
			{
				out->registry.ptr = ref;
				out->registry.len = first_len;
			}
			out->repository.ptr = slash + 1;
			out->repository.len = name_len - first_len - 1;
		}
	}
	if (part_equals(out->registry.ptr, out->registry.len, DEFAULT_REGISTRY) &&
	    memchr(out->repository.ptr, '/', out->repository.len) == NULL)
		out->repository_prefix = OFFICIAL_PREFIX;

	if (!check_path(out->repository.ptr, out->repository.len, strlen(out->repository_prefix), err,
	                errlen))
		return false;
	if (out->tag.ptr && !check_tag(out->tag.ptr, out->tag.len, err, errlen))
		return false;
	if (out->digest.ptr && !check_digest(out->digest.ptr, out->digest.len, err, errlen))
		return false;

	if (!out->tag.ptr && !out->digest.ptr)
	{
		out->tag.ptr = DEFAULT_TAG;
		out->tag.len = strlen(DEFAULT_TAG);
		out->tag_defaulted = true;
	}
	return true;
}
