/*
 * live.h
 *	  The live stream: one LISTEN k8s_events connection, the events stored since,
 *	  fanned out to every open page (Server-Sent Events).
 *
 * The write path sends NOTIFY k8s_events at the commit of each batch.  One
 * thread listens; while at least one page is connected, it reads the rows
 * stored since it last looked (at most once a second, and only the last hour's
 * partitions), numbers them, and keeps the newest LIVE_RING of them, so that a
 * page that reconnects with Last-Event-ID gets what it missed.  With no page
 * connected it only drains the notifications: an idle server costs nothing.
 * A page sees what is stored after it opened (what came before is in the views
 * it loads as it opens).
 */
#ifndef K8S_EVENTS_LIVE_H
#define K8S_EVENTS_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LIVE_RING 2048

typedef struct Live Live;

extern Live *live_start(const char *conninfo, char *err, size_t errlen);

/* Stop listening and end every stream's wait (live_wait returns false from then on). */
extern void live_stop(Live *live);

/* Once no stream is left (the HTTP daemon stopped). */
extern void live_free(Live *live);

/* A page's stream opens and closes: the thread reads rows only while one is open. */
extern void live_subscribe(Live *live);
extern void live_unsubscribe(Live *live);

/* This run's prefix of every event id ("%08x-N"): a page's id of another run is not ours. */
extern uint32_t live_run(Live *live);

/* The number of the newest event kept (0: none yet): where a new page starts. */
extern uint64_t live_newest(Live *live);

/*
 * The events after id `after`, as SSE frames, into a malloc'd *frames (NULL if
 * none came within wait_ms); *last is the id of the last one.  *missed is set
 * when some after `after` are no longer kept: the page should reload its views.
 * Returns false once the server is stopping.
 */
extern bool live_wait(Live *live, uint64_t after, int wait_ms, char **frames, uint64_t *last,
                      bool *missed);

#endif
