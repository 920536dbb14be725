/*
 * dump_input.c
 *	  The dump reader's input: opening the file or standard input, the chunked
 *	  buffer the scanners read from, line counting, and failure messages.
 *
 * All input goes through zlib's gz* functions, which pass plain files through
 * unchanged, so gzip (multi-member too, standard input too) needs nothing more.
 *
 * The buffer holds one chunk of unread input plus, while an item is being cut
 * out, that item's bytes from its first one, so that jansson can parse it in
 * place; an item that grows past the size limit keeps only its first bytes.
 */
#include "dump_reader_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DR_CHUNK   ((size_t) 256 * 1024)
#define DR_MIN_CAP ((size_t) 64 * 1024)
/* A buffer grown past this by one large item is given back afterwards. */
#define DR_KEEP      ((size_t) 4 * 1024 * 1024)
#define DR_GZ_BUFFER (128 * 1024)

int
dr_fail(DumpReader *r, const char *fmt, ...)
{
	va_list ap;
	int     n = snprintf(r->failure, sizeof(r->failure), "%s: ", r->name);

	if (n < 0 || (size_t) n >= sizeof(r->failure))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(r->failure + n, sizeof(r->failure) - (size_t) n, fmt, ap);
	va_end(ap);
	r->state = ST_FAILED;
	return -1;
}

/* "64 MB" for the usual limits, "1000-byte" for the small ones tests set. */
const char *
dr_limit_text(size_t limit, char *buf, size_t buflen)
{
	if (limit % (1024 * 1024) == 0)
		snprintf(buf, buflen, "%zu MB", limit / (1024 * 1024));
	else
		snprintf(buf, buflen, "%zu-byte", limit);
	return buf;
}

static int
gz_fail(DumpReader *r)
{
	int         errnum;
	const char *msg = gzerror(r->gz, &errnum);

	if (errnum == Z_ERRNO)
		return dr_fail(r, "read error: %s", strerror(errno));
	/* zlib names the file "<fd:N>: " in its message; ours is named already. */
	if (strncmp(msg, "<fd:", 4) == 0 && strstr(msg, ": ") != NULL)
		msg = strstr(msg, ": ") + 2;
	return dr_fail(r, "corrupt gzip data: %s", msg);
}

static void
start_skipping(DumpReader *r)
{
	r->raw_len = Min(r->pos - r->mark, DR_RAW_MAX);
	memcpy(r->raw, r->buf + r->mark, r->raw_len);
	r->skipping = true;
}

/*
 * Read more input after buf[len]: 1, 0 at the end of the input, -1 on error.
 * Consumed bytes are dropped, except those of an item being kept; an item that
 * has outgrown the limit keeps only its first bytes, so the buffer never holds
 * much more than max_item.
 */
int
dr_fill(DumpReader *r)
{
	int n;

	if (r->state == ST_FAILED)
		return -1;
	if (r->eof)
		return 0;
	if (r->keep && !r->skipping && r->pos - r->mark > r->max_item)
		start_skipping(r);
	if (r->cap - r->len < r->chunk)
	{
		size_t from = (r->keep && !r->skipping) ? r->mark : r->pos;

		/* (Before the first read there is no buffer: memmove of NULL is undefined.) */
		if (r->len > from)
			memmove(r->buf, r->buf + from, r->len - from);
		r->len -= from;
		r->pos -= from;
		r->mark = r->mark > from ? r->mark - from : 0;
		r->base += from;
		if (r->cap - r->len < r->chunk)
		{
			size_t cap = Max(Max(r->cap + r->cap / 2, r->len + r->chunk), DR_MIN_CAP);
			char  *p = realloc(r->buf, cap);

			if (p == NULL)
				return dr_fail(r, "out of memory (%zu bytes)", cap);
			r->buf = p;
			r->cap = cap;
		}
		else if (r->cap > DR_KEEP && r->len + r->chunk <= DR_KEEP / 2)
		{
			/* Failing to shrink is harmless: the larger buffer stays. */
			char *p = realloc(r->buf, DR_KEEP / 2);

			if (p != NULL)
			{
				r->buf = p;
				r->cap = DR_KEEP / 2;
			}
		}
	}
	n = gzread(r->gz, r->buf + r->len, (unsigned) r->chunk);
	if (n < 0)
		return gz_fail(r);
	if (n == 0)
	{
		int errnum;

		/* A gzip stream cut short reads as a plain end, with Z_BUF_ERROR set. */
		(void) gzerror(r->gz, &errnum);
		if (errnum != Z_OK)
			return gz_fail(r);
		r->eof = true;
		return 0;
	}
	r->len += (size_t) n;
	return 1;
}

void
dr_count_line(DumpReader *r)
{
	r->line++;
	r->line_abs = r->base + r->pos;
}

/* ---------------------------------------------------------------- items */

void
dr_begin_item(DumpReader *r)
{
	r->keep = true;
	r->skipping = false;
	r->mark = r->pos;
	r->item_abs = r->base + r->pos;
	r->item_line = r->line;
	r->item_col = (long) (r->item_abs - r->line_abs) + 1;
}

void
dr_end_item(DumpReader *r)
{
	r->keep = false;
	r->skipping = false;
}

DumpReader *
dr_input_open(const char *path, char *err, size_t errlen)
{
	bool is_stdin = strcmp(path, "-") == 0;
	/* dup: closing the reader must not close the process's standard input. */
	int         fd = is_stdin ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	DumpReader *r;

	if (fd < 0)
	{
		snprintf(err, errlen, "cannot open %s: %s", is_stdin ? "standard input" : path,
		         strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0)
		st.st_mode = 0;
	if (S_ISDIR(st.st_mode))
	{
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(EISDIR));
		close(fd);
		return NULL;
	}
	r = calloc(1, sizeof(DumpReader));
	if (r == NULL || (r->name = strdup(is_stdin ? "standard input" : path)) == NULL ||
	    (r->gz = gzdopen(fd, "rb")) == NULL)
	{
		snprintf(err, errlen, "cannot open %s: out of memory", path);
		if (r)
			free(r->name);
		free(r);
		close(fd);
		return NULL;
	}
	(void) gzbuffer(r->gz, DR_GZ_BUFFER);
	r->size = S_ISREG(st.st_mode) ? (int64_t) st.st_size : -1;
	r->chunk = DR_CHUNK;
	r->line = 1;
	return r;
}

bool
dr_input_compressed(const DumpReader *r)
{
	return !gzdirect(r->gz);
}

uint64_t
dr_input_offset(const DumpReader *r)
{
	z_off_t off = gzoffset(r->gz);

	return off >= 0 ? (uint64_t) off : r->base + r->pos;
}

void
dr_input_close(DumpReader *r)
{
	gzclose(r->gz);
	free(r->buf);
	free(r->name);
}
