/*
 * fuzz_frames.c
 *	  libFuzzer target: the watch-stream framer (core/frame_splitter.c).
 *
 * The frame limit and the size of the pieces the input is fed in are picked
 * from the input, so that frame boundaries, over-long frames and "\r\n" fall
 * at every place of a read (a captured watch stream is a seed as it is).  Every frame handed out
 *must lie within the limit and hold no newline, a whole frame all its bytes, and no more bytes can
 *come out than went in.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/frame_splitter.h"

typedef struct Seen
{
	size_t   max_frame;
	uint64_t bytes; /* frame bytes handed out */
} Seen;

static bool
on_frame(void *arg, const Frame *frame)
{
	Seen *seen = arg;

	if (frame->len > frame->length || frame->len > seen->max_frame ||
	    memchr(frame->data, '\n', frame->len) != NULL)
		abort();
	if (frame->kind == FRAME_OK && frame->len != frame->length)
		abort();
	seen->bytes += frame->len;
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FrameSplitter fs;
	Seen          seen = {0, 0};
	size_t        piece;

	if (size == 0)
		return 0;
	seen.max_frame = 1 + data[size - 1] * 4;
	piece = 1 + (size * 31 + data[size / 2]) % 64;
	frame_splitter_init(&fs, seen.max_frame, NULL);
	for (size_t at = 0; at < size; at += piece)
	{
		size_t n = size - at < piece ? size - at : piece;

		if (frame_splitter_feed(&fs, data + at, n, on_frame, &seen, NULL) != FRAME_SPLITTER_OK)
			abort();
	}
	frame_splitter_finish(&fs, on_frame, &seen);
	if (seen.bytes > size)
		abort();
	frame_splitter_free(&fs);
	return 0;
}
