/*
 * deadline.h
 *	  The absolute time, wait_ms from now, that pthread_cond_timedwait takes.
 */
#ifndef K8S_EVENTS_SERVE_DEADLINE_H
#define K8S_EVENTS_SERVE_DEADLINE_H

#include <time.h>

static inline struct timespec
deadline_after_ms(int wait_ms)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (long) (wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L)
	{
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	return until;
}

#endif
