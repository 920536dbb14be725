/*
 * frame_splitter.h
 *	  Bytes of a watch stream, in whatever chunks the network delivers them, to
 *	  complete newline-terminated frames.
 *
 * A Kubernetes watch is NDJSON: one JSON object per line.  The chunks a curl
 * write callback receives are cut anywhere, also inside a multi-byte UTF-8
 * character; the splitter never looks at bytes other than '\n' and a '\r'
 * before it, so that does not matter.
 *
 * Memory is bounded by max_frame: a frame that lies wholly inside one chunk is
 * handed over in place, without copying; the others are gathered in one
 * growable buffer of at most max_frame + 1 bytes.  A longer frame is not
 * buffered: it is reported (FRAME_TOO_LONG, with its length and its first
 * bytes) once its newline arrives, and the stream goes on with the next frame.
 *
 * Plain C, shared by the extension and the k8s-events program; memory comes
 * from the caller's allocator.
 */
#ifndef K8S_EVENTS_FRAME_SPLITTER_H
#define K8S_EVENTS_FRAME_SPLITTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core_allocator.h"

/* The default largest frame: 16 MiB, far above any real Event (etcd's limit is 1.5 MiB). */
#define FRAME_SPLITTER_DEFAULT_MAX ((size_t) 16 * 1024 * 1024)

/* How many leading bytes of a too-long frame are kept to describe it. */
#define FRAME_SPLITTER_PREFIX 256

typedef enum FrameKind
{
	FRAME_OK,      /* data/len is the whole frame */
	FRAME_TOO_LONG /* longer than max_frame: data/len is its first bytes only */
} FrameKind;

/* One frame, as the callback sees it.  Valid only during the callback. */
typedef struct Frame
{
	FrameKind   kind;
	const char *data;       /* not NUL-terminated; never NULL */
	size_t      len;        /* bytes at data */
	uint64_t    length;     /* the whole frame's length, without its "\n" or "\r\n" */
	uint64_t    offset;     /* of its first byte in the stream since init/reset */
	bool        terminated; /* false only for the last, unterminated frame given by finish */
} Frame;

/* Called for each non-empty frame, in order.  Return true to stop the splitter. */
typedef bool (*FrameCallback)(void *arg, const Frame *frame);

typedef enum FrameSplitterStatus
{
	FRAME_SPLITTER_OK,      /* all input consumed */
	FRAME_SPLITTER_STOPPED, /* the callback returned true; *consumed says how far we got */
	FRAME_SPLITTER_NOMEM    /* the allocator failed; reset the splitter before reuse */
} FrameSplitterStatus;

typedef struct FrameSplitter
{
	/* all private */
	const CoreAllocator *allocator;
	size_t               max_frame;
	char                *buf;          /* the partial frame, or the prefix of a skipped one */
	size_t               buf_len;      /* bytes in buf */
	size_t               buf_cap;      /* allocated size of buf */
	bool                 skipping;     /* inside a frame longer than max_frame */
	uint64_t             skip_len;     /* its length so far */
	bool                 skip_cr;      /* its last byte so far was '\r' */
	uint64_t             offset;       /* stream offset of the next byte fed */
	uint64_t             frame_offset; /* stream offset of the pending frame */
} FrameSplitter;

/*
 * Prepare fs.  max_frame 0 means FRAME_SPLITTER_DEFAULT_MAX.  allocator may be
 * NULL (malloc) and must outlive fs.  Allocates nothing yet.
 */
extern void frame_splitter_init(FrameSplitter *fs, size_t max_frame,
                                const CoreAllocator *allocator);

/*
 * Feed the next len bytes of the stream; callback is called for every frame
 * they complete.  Empty lines (also "\r\n") are skipped; a "\r" before the
 * "\n" is not part of the frame.  If the callback stops the splitter,
 * *consumed (may be NULL) is the number of bytes used, up to and including the
 * newline of the frame that stopped it: feed the rest later to go on.
 */
extern FrameSplitterStatus frame_splitter_feed(FrameSplitter *fs, const void *data, size_t len,
                                               FrameCallback callback, void *arg, size_t *consumed);

/*
 * The stream has ended.  If it ended inside a frame, hand that frame to the
 * callback with terminated = false (the watch was cut mid-frame: its bytes
 * are incomplete) and return true; return false when the stream ended cleanly
 * on a newline.  The splitter is then reset.
 */
extern bool frame_splitter_finish(FrameSplitter *fs, FrameCallback callback, void *arg);

/* True when bytes of an unfinished frame are pending. */
extern bool frame_splitter_pending(const FrameSplitter *fs);

/* Forget any partial frame and restart the stream offset at 0 (a new connection). */
extern void frame_splitter_reset(FrameSplitter *fs);

/* Release the buffer.  fs may be initialised again afterwards. */
extern void frame_splitter_free(FrameSplitter *fs);

#endif
