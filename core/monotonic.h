/*
 * monotonic.h
 *	  Milliseconds on the monotonic clock, for deadlines and intervals.
 *
 * Wall-clock time can jump (NTP, an administrator); a deadline on it would
 * fire early or never.  Plain C, shared by the extension and the program.
 */
#ifndef K8S_EVENTS_MONOTONIC_H
#define K8S_EVENTS_MONOTONIC_H

#include <stdint.h>
#include <time.h>

static inline int64_t
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
