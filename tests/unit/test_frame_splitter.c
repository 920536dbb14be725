/*
 * test_frame_splitter.c
 *	  Unit tests of core/frame_splitter: prints "ok - ..." / "not ok - ..." lines
 *	  and exits non-zero when a check failed.
 */
#include "core/frame_splitter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

/* ---------------------------------------------------------------- a recorder */

/*
 * Every frame as text: "OK(offset):bytes|" or "LONG(offset,length):prefix|",
 * with "~" after the kind for an unterminated frame.
 */
typedef struct Recorder
{
	char       *text;
	size_t      len;
	size_t      cap;
	int         frames;
	int         stop_after; /* stop after this many frames (0: never) */
	const char *chunk;      /* the chunk being fed, to see zero-copy */
	size_t      chunk_len;
	int         in_place; /* frames handed over inside the chunk */
} Recorder;

static void
rec_append(Recorder *r, const char *s, size_t n)
{
	if (r->len + n + 1 > r->cap)
	{
		r->cap = (r->len + n + 1) * 2;
		r->text = realloc(r->text, r->cap);
		if (r->text == NULL)
			abort();
	}
	memcpy(r->text + r->len, s, n);
	r->len += n;
	r->text[r->len] = '\0';
}

static bool
record(void *arg, const Frame *f)
{
	Recorder *r = arg;
	char      head[128];

	if (f->kind == FRAME_OK)
		snprintf(head, sizeof(head), "OK%s(%llu):", f->terminated ? "" : "~",
		         (unsigned long long) f->offset);
	else
		snprintf(head, sizeof(head), "LONG%s(%llu,%llu):", f->terminated ? "" : "~",
		         (unsigned long long) f->offset, (unsigned long long) f->length);
	rec_append(r, head, strlen(head));
	rec_append(r, f->data, f->len);
	rec_append(r, "|", 1);
	if (f->kind == FRAME_OK && f->len != f->length)
		rec_append(r, "[len!=length]", 13);
	if (r->chunk && f->data >= r->chunk && f->data < r->chunk + r->chunk_len)
		r->in_place++;
	r->frames++;
	return r->stop_after > 0 && r->frames >= r->stop_after;
}

static void
rec_reset(Recorder *r)
{
	r->len = 0;
	if (r->text)
		r->text[0] = '\0';
	r->frames = 0;
	r->in_place = 0;
}

/* Feed stream cut at the given positions (ascending), then finish. */
static bool
feed_cut(FrameSplitter *fs, Recorder *r, const char *stream, size_t len, const size_t *cuts,
         int ncuts)
{
	size_t pos = 0;
	int    i;

	for (i = 0; i <= ncuts; i++)
	{
		size_t end = i < ncuts ? cuts[i] : len;

		if (frame_splitter_feed(fs, stream + pos, end - pos, record, r, NULL) != FRAME_SPLITTER_OK)
			return false;
		pos = end;
	}
	frame_splitter_finish(fs, record, r);
	return true;
}

static char *
feed_whole(size_t max, const char *stream, size_t len)
{
	FrameSplitter fs;
	Recorder      r = {0};

	frame_splitter_init(&fs, max, NULL);
	feed_cut(&fs, &r, stream, len, NULL, 0);
	frame_splitter_free(&fs);
	if (r.text == NULL)
		return calloc(1, 1);
	return r.text;
}

/* Every way to cut stream into one, two and three chunks gives the same frames. */
static void
check_every_split(const char *name, size_t max, const char *stream, const char *expected)
{
	size_t        len = strlen(stream);
	FrameSplitter fs;
	Recorder      r = {0};
	size_t        i, j;
	int           bad = 0;
	size_t        cuts[2];

	frame_splitter_init(&fs, max, NULL);
	for (i = 0; i <= len && bad < 3; i++)
		for (j = i; j <= len && bad < 3; j++)
		{
			cuts[0] = i;
			cuts[1] = j;
			rec_reset(&r);
			if (!feed_cut(&fs, &r, stream, len, cuts, 2) || strcmp(r.text ? r.text : "", expected))
			{
				if (bad == 0)
					printf("# cut at %zu and %zu:\n#   got      %s\n#   expected %s\n", i, j,
					       r.text ? r.text : "", expected);
				bad++;
			}
		}
	check(bad == 0, "%s: every cut into three chunks (%zu bytes)", name, len);

	/* One byte at a time. */
	rec_reset(&r);
	for (i = 0; i < len; i++)
		frame_splitter_feed(&fs, stream + i, 1, record, &r, NULL);
	frame_splitter_finish(&fs, record, &r);
	check(strcmp(r.text ? r.text : "", expected) == 0, "%s: one-byte chunks", name);
	if (strcmp(r.text ? r.text : "", expected))
		printf("#   got      %s\n#   expected %s\n", r.text, expected);
	frame_splitter_free(&fs);
	free(r.text);
}

/* ---------------------------------------------------------------- allocators */

typedef struct CountingAlloc
{
	size_t live;       /* bytes allocated now */
	size_t peak;       /* most bytes allocated at once */
	size_t fail_after; /* fail every allocation after this many bytes live (0: never) */
	int    calls;
} CountingAlloc;

/* A size header before each block, so free knows how much. */
static void *
ca_alloc(void *ctx, size_t size)
{
	CountingAlloc *ca = ctx;
	size_t        *p;

	if (ca->fail_after && ca->live + size > ca->fail_after)
		return NULL;
	p = malloc(size + sizeof(size_t));
	if (p == NULL)
		return NULL;
	p[0] = size;
	ca->live += size;
	ca->calls++;
	if (ca->live > ca->peak)
		ca->peak = ca->live;
	return p + 1;
}

static void
ca_free(void *ctx, void *ptr)
{
	CountingAlloc *ca = ctx;
	size_t        *p = (size_t *) ptr - 1;

	ca->live -= p[0];
	free(p);
}

static void *
ca_realloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
	void   *n;
	size_t *p = (size_t *) ptr - 1;

	if (p[0] != old_size)
	{
		printf("# realloc told old size %zu, block has %zu\n", old_size, p[0]);
		abort();
	}
	n = ca_alloc(ctx, new_size);
	if (n == NULL)
		return NULL;
	memcpy(n, ptr, old_size < new_size ? old_size : new_size);
	ca_free(ctx, ptr);
	return n;
}

/* ---------------------------------------------------------------- tests */

static void
test_basic(void)
{
	/* "é" is C3 A9, "€" E2 82 AC, "日本" E6 97 A5 E6 9C AC, and an emoji F0 9F 98 80. */
	const char *stream = "{\"a\":\"h\xc3\xa9llo \xe2\x82\xac\"}\n"
	                     "\r\n"
	                     "\n"
	                     "{\"b\":2}\r\n"
	                     "{\"c\":\"\xe6\x97\xa5\xe6\x9c\xac\xf0\x9f\x98\x80\"}\n";
	const char *expected = "OK(0):{\"a\":\"h\xc3\xa9llo \xe2\x82\xac\"}|"
	                       "OK(22):{\"b\":2}|"
	                       "OK(31):{\"c\":\"\xe6\x97\xa5\xe6\x9c\xac\xf0\x9f\x98\x80\"}|";
	char       *got = feed_whole(0, stream, strlen(stream));

	check(strcmp(got, expected) == 0, "frames, CRLF stripped, empty lines skipped, offsets");
	if (strcmp(got, expected))
		printf("#   got      %s\n#   expected %s\n", got, expected);
	free(got);
	check_every_split("UTF-8 stream", 0, stream, expected);
}

static void
test_edge_lines(void)
{
	char *got;

	got = feed_whole(0, "", 0);
	check(strcmp(got, "") == 0, "an empty stream has no frames");
	free(got);
	got = feed_whole(0, "\n\n\r\n\n", 5);
	check(strcmp(got, "") == 0, "a stream of empty lines has no frames");
	free(got);
	/* Only the last "\r" goes; one inside the frame and a bare trailing "\r\r" keep the rest. */
	got = feed_whole(0, "a\rb\r\nc\r\r\n", 9);
	check(strcmp(got, "OK(0):a\rb|OK(5):c\r|") == 0, "only the \\r right before \\n is stripped");
	free(got);
	/* A NUL byte is a byte like any other. */
	got = feed_whole(0, "x\0y\n", 4);
	check(memcmp(got, "OK(0):x\0y|", 10) == 0, "NUL bytes pass through");
	free(got);
	got = feed_whole(0, " \n", 2);
	check(strcmp(got, "OK(0): |") == 0, "a line of a space is a frame (only empty lines go)");
	free(got);
}

static void
test_zero_copy(void)
{
	const char   *stream = "{\"a\":1}\n{\"b\":2}\n{\"c\":";
	FrameSplitter fs;
	Recorder      r = {0};
	CountingAlloc ca = {0};
	CoreAllocator alloc = {ca_alloc, ca_realloc, ca_free, &ca};

	frame_splitter_init(&fs, 0, &alloc);
	r.chunk = stream;
	r.chunk_len = strlen(stream);
	frame_splitter_feed(&fs, stream, strlen(stream), record, &r, NULL);
	check(r.frames == 2 && r.in_place == 2, "frames wholly in a chunk are handed over in place");
	check(frame_splitter_pending(&fs), "the partial frame is pending");
	r.chunk = "1}\n";
	r.chunk_len = 3;
	frame_splitter_feed(&fs, "1}\n", 3, record, &r, NULL);
	check(r.frames == 3 && r.in_place == 2 && strstr(r.text, "OK(16):{\"c\":1}|") != NULL,
	      "a frame across chunks is assembled in the buffer");
	check(!frame_splitter_pending(&fs), "nothing pending after a newline");
	check(!frame_splitter_finish(&fs, record, &r), "finish after a newline reports nothing");
	frame_splitter_free(&fs);
	check(ca.live == 0, "free releases everything (%zu bytes left)", ca.live);
	free(r.text);
}

static void
test_too_long(void)
{
	char  stream[256];
	char  expected[512];
	char  long_line[41];
	char *got;

	/* max 16: 16 bytes pass, 16 + "\r" passes, 17 is too long. */
	got = feed_whole(16, "0123456789abcdef\n0123456789abcdef\r\n0123456789abcdefg\nok\n", 56);
	check(strcmp(got, "OK(0):0123456789abcdef|OK(17):0123456789abcdef|"
	                  "LONG(35,17):0123456789abcdef|OK(53):ok|") == 0,
	      "max frame: exactly max passes, max + \\r passes, max + 1 is too long");
	if (strcmp(got, "OK(0):0123456789abcdef|OK(17):0123456789abcdef|"
	                "LONG(35,17):0123456789abcdef|OK(53):ok|"))
		printf("#   got %s\n", got);
	free(got);

	memset(long_line, 'x', 40);
	long_line[40] = '\0';
	long_line[0] = '{';
	snprintf(stream, sizeof(stream), "{\"a\":1}\n%s\r\n{\"b\":\"\xc3\xa9\"}\n%s", long_line,
	         "{\"c\":3}\n");
	snprintf(expected, sizeof(expected),
	         "OK(0):{\"a\":1}|LONG(8,40):%.16s|OK(50):{\"b\":\"\xc3\xa9\"}|OK(61):{\"c\":3}|",
	         long_line);
	got = feed_whole(16, stream, strlen(stream));
	check(strcmp(got, expected) == 0,
	      "a too-long frame mid-stream is reported with its length and first bytes");
	if (strcmp(got, expected))
		printf("#   got      %s\n#   expected %s\n", got, expected);
	free(got);
	check_every_split("too-long frame mid-stream", 16, stream, expected);

	/* A prefix longer than FRAME_SPLITTER_PREFIX is capped. */
	{
		size_t        n = 5000;
		char         *big = malloc(n + 2);
		FrameSplitter fs;
		Recorder      r = {0};
		char          head[64];
		size_t        i;

		for (i = 0; i < n; i++)
			big[i] = (char) ('a' + i % 26);
		big[n] = '\n';
		frame_splitter_init(&fs, 1000, NULL);
		for (i = 0; i < n + 1; i += 7)
			frame_splitter_feed(&fs, big + i, i + 7 <= n + 1 ? 7 : n + 1 - i, record, &r, NULL);
		snprintf(head, sizeof(head), "LONG(0,%zu):", n);
		check(r.frames == 1 && strncmp(r.text, head, strlen(head)) == 0 &&
		          r.len == strlen(head) + FRAME_SPLITTER_PREFIX + 1 &&
		          memcmp(r.text + strlen(head), big, FRAME_SPLITTER_PREFIX) == 0,
		      "a too-long frame keeps its first %d bytes", FRAME_SPLITTER_PREFIX);
		frame_splitter_free(&fs);
		free(r.text);
		free(big);
	}
}

static void
test_unterminated(void)
{
	FrameSplitter fs;
	Recorder      r = {0};
	char         *got;

	got = feed_whole(0, "{\"a\":1}\n{\"b\":", 13);
	check(strcmp(got, "OK(0):{\"a\":1}|OK~(8):{\"b\":|") == 0,
	      "finish reports an unterminated final frame as such");
	free(got);
	got = feed_whole(0, "{\"a\":1}\r\n\r", 10);
	check(strcmp(got, "OK(0):{\"a\":1}|") == 0, "a lone trailing \\r is not a frame");
	free(got);
	got = feed_whole(8, "{\"a\":1}\n0123456789", 18);
	check(strcmp(got, "OK(0):{\"a\":1}|LONG~(8,10):01234567|") == 0,
	      "an unterminated too-long final frame is reported as too long and unterminated");
	free(got);
	/* Found by fuzz/fuzz_frames.c: one byte over the limit, kept for a "\r" that never came. */
	got = feed_whole(8, "{\"a\":1}\n012345678", 17);
	check(strcmp(got, "OK(0):{\"a\":1}|LONG~(8,9):01234567|") == 0,
	      "an unterminated final frame one byte over the limit is too long (%s)", got);
	free(got);

	frame_splitter_init(&fs, 0, NULL);
	frame_splitter_feed(&fs, "abc", 3, record, &r, NULL);
	check(frame_splitter_finish(&fs, record, &r) && r.frames == 1,
	      "finish returns true when it reports a frame");
	check(!frame_splitter_pending(&fs) && !frame_splitter_finish(&fs, record, &r) && r.frames == 1,
	      "finish resets: a second finish reports nothing");
	frame_splitter_free(&fs);
	free(r.text);
}

static void
test_reset_and_stop(void)
{
	FrameSplitter       fs;
	Recorder            r = {0};
	size_t              consumed = 0;
	const char         *s = "a\nb\nc\n";
	FrameSplitterStatus st;

	frame_splitter_init(&fs, 0, NULL);
	frame_splitter_feed(&fs, "{\"half", 6, record, &r, NULL);
	frame_splitter_reset(&fs);
	frame_splitter_feed(&fs, "x\n", 2, record, &r, NULL);
	check(strcmp(r.text, "OK(0):x|") == 0, "reset drops the partial frame and restarts offsets");

	rec_reset(&r);
	r.stop_after = 1;
	st = frame_splitter_feed(&fs, s, 6, record, &r, &consumed);
	check(st == FRAME_SPLITTER_STOPPED && consumed == 2 && r.frames == 1,
	      "the callback stops the splitter after its frame (consumed %zu)", consumed);
	r.stop_after = 0;
	st = frame_splitter_feed(&fs, s + consumed, 6 - consumed, record, &r, &consumed);
	check(st == FRAME_SPLITTER_OK && consumed == 4 &&
	          strcmp(r.text, "OK(2):a|OK(4):b|OK(6):c|") == 0,
	      "feeding the rest goes on where it stopped");
	frame_splitter_free(&fs);
	free(r.text);
}

static void
test_memory(void)
{
	FrameSplitter       fs;
	Recorder            r = {0};
	CountingAlloc       ca = {0};
	CoreAllocator       alloc = {ca_alloc, ca_realloc, ca_free, &ca};
	size_t              n = 100000;
	char               *line = malloc(n + 1);
	size_t              i;
	FrameSplitterStatus st;

	memset(line, 'z', n);
	line[n] = '\n';

	/* A long frame in one-byte chunks never grows the buffer beyond max + 1. */
	frame_splitter_init(&fs, 1000, &alloc);
	for (i = 0; i < n + 1; i++)
		frame_splitter_feed(&fs, line + i, 1, record, &r, NULL);
	frame_splitter_feed(&fs, "ok\n", 3, record, &r, NULL);
	check(ca.peak <= 1001 && r.frames == 2 && strstr(r.text, "LONG(0,100000):") == r.text &&
	          strstr(r.text, "OK(100001):ok|") != NULL,
	      "a 100 kB frame with max 1000 in 1-byte chunks: buffer peak %zu bytes", ca.peak);
	frame_splitter_free(&fs);
	check(ca.live == 0, "nothing left after free");

	/* A big buffered frame gives its buffer back afterwards. */
	{
		size_t big = 3 * 1024 * 1024;
		char  *b = malloc(big + 1);

		memset(b, 'q', big);
		b[big] = '\n';
		ca.peak = 0;
		rec_reset(&r);
		frame_splitter_init(&fs, 0, &alloc);
		frame_splitter_feed(&fs, b, 10, record, &r, NULL);
		frame_splitter_feed(&fs, b + 10, big + 1 - 10, record, &r, NULL);
		check(r.frames == 1 && ca.peak >= big && ca.live == 0,
		      "the buffer of a 3 MiB frame is released after it (live %zu)", ca.live);
		frame_splitter_free(&fs);
		free(b);
	}

	/* An allocator that fails. */
	ca.fail_after = 100;
	rec_reset(&r);
	frame_splitter_init(&fs, 0, &alloc);
	st = frame_splitter_feed(&fs, "abc", 3, record, &r, NULL);
	check(st == FRAME_SPLITTER_NOMEM, "an allocation failure is reported as FRAME_SPLITTER_NOMEM");
	frame_splitter_reset(&fs);
	st = frame_splitter_feed(&fs, "x\ny\n", 4, record, &r, NULL);
	check(st == FRAME_SPLITTER_OK && r.frames == 2, "in-place frames need no memory");
	frame_splitter_free(&fs);
	check(ca.live == 0, "nothing leaked after the failure");
	free(line);
	free(r.text);
}

static void
test_megabyte(void)
{
	size_t        n = 1024 * 1024;
	char         *stream = malloc(n + 64);
	size_t        len = 0;
	size_t        i;
	FrameSplitter fs;
	Recorder      r = {0};
	int           ok = 1;
	size_t        chunks[] = {1, 3, 4096, 16384, 1 << 20};
	size_t        c;
	size_t        flen;
	char          tail[64];

	/* {"message":"ééé..."} of 1 MiB, then a small frame. */
	len += (size_t) sprintf(stream, "{\"message\":\"");
	while (len < n - 3)
	{
		stream[len++] = '\xc3';
		stream[len++] = '\xa9';
	}
	stream[len++] = '"';
	stream[len++] = '}';
	flen = len;
	stream[len++] = '\n';
	memcpy(stream + len, "{\"small\":1}\n", 12);
	len += 12;

	snprintf(tail, sizeof(tail), "|OK(%zu):{\"small\":1}|", flen + 1);
	for (c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++)
	{
		frame_splitter_init(&fs, 0, NULL);
		rec_reset(&r);
		for (i = 0; i < len; i += chunks[c])
			frame_splitter_feed(&fs, stream + i, len - i < chunks[c] ? len - i : chunks[c], record,
			                    &r, NULL);
		if (r.frames != 2 || r.len != 6 + flen + strlen(tail) || memcmp(r.text, "OK(0):", 6) != 0 ||
		    memcmp(r.text + 6, stream, flen) != 0 || strcmp(r.text + 6 + flen, tail) != 0)
		{
			printf("# chunk size %zu: %d frames, %zu bytes\n", chunks[c], r.frames, r.len);
			ok = 0;
		}
		frame_splitter_free(&fs);
	}
	check(ok && flen >= n,
	      "a 1 MiB frame arrives whole in chunks of 1, 3, 4096, 16384 and 1 MiB bytes");
	free(stream);
	free(r.text);
}

int
main(void)
{
	test_basic();
	test_edge_lines();
	test_zero_copy();
	test_too_long();
	test_unterminated();
	test_reset_and_stop();
	test_memory();
	test_megabyte();
	return tap_exit_status();
}
