/*
 * frame_splitter.c
 *	  Newline-delimited frames out of arbitrarily chunked bytes, in bounded memory.
 */
#include "frame_splitter.h"

#include <stdlib.h>
#include <string.h>

/* A buffer grown past this by one large frame is given back afterwards. */
#define FRAME_SPLITTER_KEEP    ((size_t) 1024 * 1024)
#define FRAME_SPLITTER_MIN_CAP ((size_t) 4096)

static void *
fs_alloc(const FrameSplitter *fs, size_t size)
{
	if (fs->allocator)
		return fs->allocator->alloc(fs->allocator->ctx, size);
	return malloc(size);
}

static void *
fs_realloc(const FrameSplitter *fs, void *ptr, size_t old_size, size_t new_size)
{
	if (fs->allocator)
		return fs->allocator->realloc(fs->allocator->ctx, ptr, old_size, new_size);
	return realloc(ptr, new_size);
}

static void
fs_release(FrameSplitter *fs)
{
	if (fs->buf)
	{
		if (fs->allocator)
			fs->allocator->free(fs->allocator->ctx, fs->buf);
		else
			free(fs->buf);
	}
	fs->buf = NULL;
	fs->buf_cap = 0;
	fs->buf_len = 0;
}

/* Make room for need bytes in buf; need never exceeds max_frame + 1. */
static bool
fs_reserve(FrameSplitter *fs, size_t need)
{
	size_t cap;
	char  *nbuf;

	if (need <= fs->buf_cap)
		return true;
	cap = fs->buf_cap < FRAME_SPLITTER_MIN_CAP ? FRAME_SPLITTER_MIN_CAP : fs->buf_cap;
	while (cap < need && cap <= fs->max_frame)
		cap *= 2;
	if (cap < need)
		cap = need;
	if (cap > fs->max_frame + 1)
		cap = fs->max_frame + 1 > need ? fs->max_frame + 1 : need;
	if (fs->buf)
		nbuf = fs_realloc(fs, fs->buf, fs->buf_cap, cap);
	else
		nbuf = fs_alloc(fs, cap);
	if (nbuf == NULL)
		return false;
	fs->buf = nbuf;
	fs->buf_cap = cap;
	return true;
}

static size_t
fs_prefix_len(const FrameSplitter *fs)
{
	return fs->max_frame < FRAME_SPLITTER_PREFIX ? fs->max_frame : FRAME_SPLITTER_PREFIX;
}

/*
 * The pending frame (buf_len bytes in buf plus n more at p) has outgrown
 * max_frame without a newline: keep its first bytes only and skip the rest.
 */
static bool
fs_start_skipping(FrameSplitter *fs, const char *p, size_t n)
{
	size_t keep = fs_prefix_len(fs);
	size_t total = fs->buf_len + n;

	if (fs->buf_len < keep)
	{
		size_t more = keep - fs->buf_len;

		if (more > n)
			more = n;
		if (!fs_reserve(fs, fs->buf_len + more))
			return false;
		memcpy(fs->buf + fs->buf_len, p, more);
		fs->buf_len += more;
	}
	else
		fs->buf_len = keep;
	fs->skip_cr = (n > 0 ? p[n - 1] : fs->buf[fs->buf_len - 1]) == '\r';
	fs->skip_len = total;
	fs->skipping = true;
	return true;
}

static void
fs_forget_frame(FrameSplitter *fs)
{
	fs->buf_len = 0;
	fs->skipping = false;
	fs->skip_len = 0;
	fs->skip_cr = false;
	if (fs->buf_cap > FRAME_SPLITTER_KEEP)
		fs_release(fs);
}

void
frame_splitter_init(FrameSplitter *fs, size_t max_frame, const CoreAllocator *allocator)
{
	memset(fs, 0, sizeof(*fs));
	fs->max_frame = max_frame ? max_frame : FRAME_SPLITTER_DEFAULT_MAX;
	/* max_frame + 1 must not overflow (room for a "\r"). */
	if (fs->max_frame > SIZE_MAX / 2)
		fs->max_frame = SIZE_MAX / 2;
	fs->allocator = allocator;
}

FrameSplitterStatus
frame_splitter_feed(FrameSplitter *fs, const void *data, size_t len, FrameCallback callback,
                    void *arg, size_t *consumed)
{
	const char *start = data;
	const char *p = start;
	const char *end = start + len;
	Frame       frame;
	bool        stop;

	while (p < end)
	{
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		size_t      n = nl ? (size_t) (nl - p) : (size_t) (end - p);

		memset(&frame, 0, sizeof(frame));
		frame.terminated = true;

		if (nl == NULL)
		{
			/* The frame goes on in a later chunk: remember it, within bounds. */
			if (fs->skipping)
			{
				fs->skip_len += n;
				fs->skip_cr = p[n - 1] == '\r';
			}
			else
			{
				if (fs->buf_len == 0)
					fs->frame_offset = fs->offset;
				if (fs->buf_len + n > fs->max_frame + 1)
				{
					if (!fs_start_skipping(fs, p, n))
						goto nomem;
				}
				else
				{
					if (!fs_reserve(fs, fs->buf_len + n))
						goto nomem;
					memcpy(fs->buf + fs->buf_len, p, n);
					fs->buf_len += n;
				}
			}
			fs->offset += n;
			p = end;
			break;
		}

		if (fs->skipping)
		{
			if (n > 0)
			{
				fs->skip_len += n;
				fs->skip_cr = nl[-1] == '\r';
			}
			frame.kind = FRAME_TOO_LONG;
			frame.data = fs->buf;
			frame.len = fs->buf_len;
			frame.length = fs->skip_len - (fs->skip_cr ? 1 : 0);
			frame.offset = fs->frame_offset;
		}
		else if (fs->buf_len > 0)
		{
			/* The end of a frame that began in an earlier chunk. */
			size_t total = fs->buf_len + n;
			bool   cr = (n > 0 ? nl[-1] : fs->buf[fs->buf_len - 1]) == '\r';
			size_t flen = total - (cr ? 1 : 0);

			frame.offset = fs->frame_offset;
			frame.length = flen;
			if (flen > fs->max_frame)
			{
				if (!fs_start_skipping(fs, p, n))
					goto nomem;
				frame.kind = FRAME_TOO_LONG;
				frame.len = fs->buf_len;
			}
			else
			{
				if (!fs_reserve(fs, total))
					goto nomem;
				memcpy(fs->buf + fs->buf_len, p, n);
				fs->buf_len = total;
				frame.kind = FRAME_OK;
				frame.len = flen;
			}
			frame.data = fs->buf;
		}
		else
		{
			/* Wholly inside this chunk: hand it over in place. */
			size_t flen = n - ((n > 0 && nl[-1] == '\r') ? 1 : 0);

			frame.offset = fs->offset;
			frame.length = flen;
			frame.data = p;
			if (flen > fs->max_frame)
			{
				frame.kind = FRAME_TOO_LONG;
				frame.len = fs_prefix_len(fs);
			}
			else
			{
				frame.kind = FRAME_OK;
				frame.len = flen;
			}
		}

		fs->offset += n + 1;
		p = nl + 1;
		stop = false;
		if (frame.length > 0)
			stop = callback(arg, &frame);
		fs_forget_frame(fs);
		if (stop)
		{
			if (consumed)
				*consumed = (size_t) (p - start);
			return FRAME_SPLITTER_STOPPED;
		}
	}
	if (consumed)
		*consumed = len;
	return FRAME_SPLITTER_OK;

nomem:
	fs_forget_frame(fs);
	if (consumed)
		*consumed = (size_t) (p - start);
	return FRAME_SPLITTER_NOMEM;
}

bool
frame_splitter_finish(FrameSplitter *fs, FrameCallback callback, void *arg)
{
	Frame frame;
	bool  reported = false;

	memset(&frame, 0, sizeof(frame));
	frame.terminated = false;
	frame.offset = fs->frame_offset;
	if (fs->skipping)
	{
		frame.kind = FRAME_TOO_LONG;
		frame.data = fs->buf;
		frame.len = fs->buf_len;
		frame.length = fs->skip_len - (fs->skip_cr ? 1 : 0);
	}
	else if (fs->buf_len > 0)
	{
		frame.kind = FRAME_OK;
		frame.data = fs->buf;
		frame.len = fs->buf_len - (fs->buf[fs->buf_len - 1] == '\r' ? 1 : 0);
		frame.length = frame.len;
		/* buf holds max_frame + 1 bytes (room for a "\r" before a "\n"): one more is too long. */
		if (frame.len > fs->max_frame)
		{
			frame.kind = FRAME_TOO_LONG;
			frame.len = fs_prefix_len(fs);
		}
	}
	if (frame.length > 0)
	{
		(void) callback(arg, &frame);
		reported = true;
	}
	frame_splitter_reset(fs);
	return reported;
}

bool
frame_splitter_pending(const FrameSplitter *fs)
{
	return fs->skipping || fs->buf_len > 0;
}

void
frame_splitter_reset(FrameSplitter *fs)
{
	fs_forget_frame(fs);
	fs->offset = 0;
	fs->frame_offset = 0;
}

void
frame_splitter_free(FrameSplitter *fs)
{
	fs_release(fs);
	fs->skipping = false;
	fs->skip_len = 0;
	fs->offset = 0;
	fs->frame_offset = 0;
}
