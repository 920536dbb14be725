/*
 * unix_time.h
 *	  Between core/'s Unix microseconds and PostgreSQL's TimestampTz.
 */
#ifndef K8S_EVENTS_UNIX_TIME_H
#define K8S_EVENTS_UNIX_TIME_H

#include "datatype/timestamp.h"

#define UNIX_TO_PG_EPOCH_USECS ((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)

static inline TimestampTz
timestamptz_from_unix_usecs(int64 usecs)
{
	return (TimestampTz) (usecs - UNIX_TO_PG_EPOCH_USECS);
}

static inline int64
unix_usecs_from_timestamptz(TimestampTz ts)
{
	return (int64) ts + UNIX_TO_PG_EPOCH_USECS;
}

#endif
