/*
 * time_bucket.c
 *	  k8s_events.time_bucket(): TimescaleDB-compatible bucketing of timestamps.
 *
 * A bucket width is either a number of months (months and years only) or a
 * fixed length (days and smaller units, a day counting as 24 hours).  Fixed
 * buckets are aligned on an origin, by default Monday 2000-01-03 00:00 so that
 * weekly buckets start on Mondays like date_trunc('week').  Month buckets only
 * look at the year and month of the value and of the origin, so they always
 * start on the first of a month; their default origin is 2000-01-01.
 *
 * timestamptz values are bucketed in UTC whatever the session TimeZone is,
 * which keeps those variants IMMUTABLE.  The variants taking a time zone name
 * bucket the local wall-clock time in that zone, so daily buckets start at
 * local midnight on both sides of a DST change.
 *
 * Infinite values are returned unchanged, as TimescaleDB does, but only after
 * the width has been checked: a bad width is a bug in the query and should be
 * reported even when the first rows happen to be infinite.
 */
#include "postgres.h"

#include "common/int.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"
#include "sql_function.h"

/* Monday 2000-01-03, in days and in microseconds since the PostgreSQL epoch. */
#define TB_DEFAULT_ORIGIN_DAYS 2
#define TB_DEFAULT_ORIGIN      ((Timestamp) TB_DEFAULT_ORIGIN_DAYS * USECS_PER_DAY)

/* The checked bucket width: months, or else a length in microseconds. */
typedef struct BucketWidth
{
	int32 months;
	int64 usecs;
} BucketWidth;

/* What time_bucket_timestamp() keeps between calls of one query (fn_extra). */
typedef struct BucketCache
{
	Interval    width;
	Timestamp   origin;
	BucketWidth w;
	int64       shift; /* origin % w.usecs, for fixed widths */
} BucketCache;

static char *
width_text(Interval *width)
{
	return DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(width)));
}

static BucketWidth
check_width(Interval *width)
{
	BucketWidth w = {0, 0};

	if (width->month != 0)
	{
		/*
		 * A month has no fixed length, so "1 month 15 days" has no single
		 * sensible alignment.  TimescaleDB rejects it with the same SQLSTATE.
		 */
		if (width->day != 0 || width->time != 0)
			ereport(ERROR,
			        (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			         errmsg("bucket width cannot mix months or years with days or smaller units"),
			         errdetail("The bucket width was \"%s\".", width_text(width)),
			         errhint("Use a width of whole months or years, such as '3 months', or one "
			                 "without months, such as '30 days'.")));
		if (width->month < 0)
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			                errmsg("bucket width must be greater than zero"),
			                errdetail("The bucket width was \"%s\".", width_text(width))));
		w.months = width->month;
		return w;
	}

	/* Mixed signs such as "1 day -1 hour" are fine as long as the sum is positive. */
	if (pg_mul_s64_overflow((int64) width->day, USECS_PER_DAY, &w.usecs) ||
	    pg_add_s64_overflow(w.usecs, width->time, &w.usecs))
		ereport(ERROR,
		        (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE), errmsg("bucket width is too large"),
		         errdetail("The bucket width was \"%s\".", width_text(width))));
	if (w.usecs <= 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		                errmsg("bucket width must be greater than zero"),
		                errdetail("The bucket width was \"%s\".", width_text(width))));
	return w;
}

static void
out_of_range(const char *what)
{
	ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE), errmsg("%s out of range", what),
	                errdetail("The start of the bucket lies outside the supported range.")));
}

/*
 * Start of the bucket of width period holding value, buckets being aligned on
 * origin.  C division truncates towards zero, so a value before the origin
 * with a remainder is moved down one more bucket to get the floor.
 */
static int64
bucket_floor_shifted(int64 value, int64 period, int64 shift, const char *what)
{
	int64 rel;
	int64 quot;
	int64 result;

	if (pg_sub_s64_overflow(value, shift, &rel))
		out_of_range(what);
	quot = rel / period;
	if (rel % period < 0)
		quot--;
	if (pg_mul_s64_overflow(quot, period, &result) || pg_add_s64_overflow(result, shift, &result))
		out_of_range(what);
	return result;
}

static int64
bucket_floor(int64 value, int64 period, int64 origin, const char *what)
{
	return bucket_floor_shifted(value, period, origin % period, what);
}

static int64
floor_div(int64 a, int64 b)
{
	int64 q = a / b;

	if (a % b < 0)
		q--;
	return q;
}

/* Months since year 0 of the day (relative to the PostgreSQL epoch) holding days. */
static int64
month_index(int64 days)
{
	int year;
	int month;
	int day;

	j2date((int) (days + POSTGRES_EPOCH_JDATE), &year, &month, &day);
	return (int64) year * MONTHS_PER_YEAR + (month - 1);
}

/*
 * First day (relative to the PostgreSQL epoch) of the month bucket holding
 * the day value_days.  Only the year and month of the origin matter.
 */
static int64
month_bucket_days(int32 months, int64 value_days, int64 origin_days, const char *what)
{
	int64 start = bucket_floor(month_index(value_days), months, month_index(origin_days), what);
	int64 year = floor_div(start, MONTHS_PER_YEAR);
	int   month = (int) (start - year * MONTHS_PER_YEAR) + 1;

	/* Keep date2j's int arithmetic away from years no datetime type can hold. */
	if (year < -4714)
		out_of_range(what);
	return (int64) date2j((int) year, month, 1) - POSTGRES_EPOCH_JDATE;
}

static void
check_origin(Timestamp origin)
{
	if (TIMESTAMP_NOT_FINITE(origin))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("origin must be finite"),
		                errhint("Omit the origin to align buckets on 2000-01-03 00:00.")));
}

/*
 * The shared body for timestamp and timestamptz: both are microseconds since
 * 2000-01-01 00:00, read as UTC for timestamptz, so the same arithmetic
 * buckets a timestamptz in UTC.
 */
static Timestamp
timestamp_bucket(const BucketWidth *w, Timestamp value, Timestamp origin)
{
	Timestamp result;

	if (w->months != 0)
	{
		int64 days = month_bucket_days(w->months, floor_div(value, USECS_PER_DAY),
		                               floor_div(origin, USECS_PER_DAY), "timestamp");

		/* Whole days within the date range cannot overflow int64 microseconds. */
		result = days * USECS_PER_DAY;
	}
	else
		result = bucket_floor(value, w->usecs, origin, "timestamp");

	if (!IS_VALID_TIMESTAMP(result))
		out_of_range("timestamp");
	return result;
}

SQL_FUNCTION(time_bucket_timestamp);

/*
 * time_bucket(interval, timestamp [, origin timestamp]), and the timestamptz
 * variants without a zone: bucketing a timestamptz in UTC is the same
 * arithmetic on the same microseconds, so both SQL signatures call this.
 */
Datum
time_bucket_timestamp(PG_FUNCTION_ARGS)
{
	Interval *width = PG_GETARG_INTERVAL_P(0);
	Timestamp value = PG_GETARG_TIMESTAMP(1);
	Timestamp origin = TB_DEFAULT_ORIGIN;
	/* A C caller (DirectFunctionCall) has no FmgrInfo to keep anything in. */
	FmgrInfo    *flinfo = fcinfo->flinfo;
	BucketCache  uncached;
	BucketCache *cache = flinfo != NULL ? flinfo->fn_extra : NULL;

	if (PG_NARGS() > 2)
		origin = PG_GETARG_TIMESTAMP(2);
	/*
	 * A query passes the same width and origin for every row: keep what they
	 * give (checked, and the origin's offset into a bucket) for the next call,
	 * which is then one division, as date_bin's.
	 */
	if (cache == NULL || memcmp(&cache->width, width, sizeof(Interval)) != 0 ||
	    cache->origin != origin)
	{
		BucketWidth w = check_width(width);

		if (PG_NARGS() > 2)
			check_origin(origin);
		if (cache == NULL && flinfo != NULL)
			cache = flinfo->fn_extra = MemoryContextAlloc(flinfo->fn_mcxt, sizeof(BucketCache));
		else if (cache == NULL)
			cache = &uncached;
		cache->width = *width;
		cache->origin = origin;
		cache->w = w;
		cache->shift = w.months == 0 ? origin % w.usecs : 0;
	}
	if (TIMESTAMP_NOT_FINITE(value))
		PG_RETURN_TIMESTAMP(value);
	if (cache->w.months == 0)
	{
		Timestamp result = bucket_floor_shifted(value, cache->w.usecs, cache->shift, "timestamp");

		if (!IS_VALID_TIMESTAMP(result))
			out_of_range("timestamp");
		PG_RETURN_TIMESTAMP(result);
	}
	PG_RETURN_TIMESTAMP(timestamp_bucket(&cache->w, value, origin));
}

SQL_FUNCTION(time_bucket_timestamptz_zone);

/*
 * time_bucket(interval, timestamptz, zone text [, origin timestamptz])
 *
 * The value and the origin become wall-clock times in the zone (as with
 * AT TIME ZONE), are bucketed as timestamps, and the bucket start goes back
 * through the zone.
 *
 * A start in a spring-forward gap gets PostgreSQL's reading of such times,
 * which is never after the value.  A start in a fall-back overlap is read by
 * PostgreSQL as its second occurrence, which can be after the value (02:30
 * CEST would land in a bucket starting at 02:00 CET).  TimescaleDB fixed that
 * in 2.25 by never returning a start after the value; here the start is then
 * the first occurrence, found with the value's own UTC offset, so the bucket
 * still begins on a local boundary.
 */
Datum
time_bucket_timestamptz_zone(PG_FUNCTION_ARGS)
{
	BucketWidth w = check_width(PG_GETARG_INTERVAL_P(0));
	TimestampTz value = PG_GETARG_TIMESTAMPTZ(1);
	Datum       zone = PG_GETARG_DATUM(2);
	Timestamp   local_origin = TB_DEFAULT_ORIGIN;
	Timestamp   local;
	Timestamp   local_start;
	TimestampTz result;

	if (PG_NARGS() > 3)
	{
		TimestampTz origin = PG_GETARG_TIMESTAMPTZ(3);

		check_origin(origin);
		local_origin = DatumGetTimestamp(
		    DirectFunctionCall2(timestamptz_zone, zone, TimestampTzGetDatum(origin)));
	}

	if (TIMESTAMP_NOT_FINITE(value))
		PG_RETURN_TIMESTAMPTZ(value);

	local =
	    DatumGetTimestamp(DirectFunctionCall2(timestamptz_zone, zone, TimestampTzGetDatum(value)));
	local_start = timestamp_bucket(&w, local, local_origin);
	result = DatumGetTimestampTz(
	    DirectFunctionCall2(timestamp_zone, zone, TimestampGetDatum(local_start)));
	if (result > value)
	{
		/* Both are valid timestamps with local_start <= local: no overflow. */
		result = value - (local - local_start);
		if (!IS_VALID_TIMESTAMP(result))
			out_of_range("timestamp");
	}
	PG_RETURN_TIMESTAMPTZ(result);
}

SQL_FUNCTION(time_bucket_date);

/*
 * time_bucket(interval, date [, origin date])
 *
 * Computed in days rather than through timestamp so that every date,
 * including those past the end of the timestamp range, can be bucketed.
 */
Datum
time_bucket_date(PG_FUNCTION_ARGS)
{
	Interval   *width = PG_GETARG_INTERVAL_P(0);
	BucketWidth w = check_width(width);
	DateADT     value = PG_GETARG_DATEADT(1);
	int64       origin = TB_DEFAULT_ORIGIN_DAYS;
	int64       result;

	if (w.months == 0 && w.usecs % USECS_PER_DAY != 0)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
		                errmsg("bucket width for a date must be a whole number of days"),
		                errdetail("The bucket width was \"%s\".", width_text(width)),
		                errhint("Cast the date to timestamp to use a shorter width.")));
	if (PG_NARGS() > 2)
	{
		DateADT o = PG_GETARG_DATEADT(2);

		if (DATE_NOT_FINITE(o))
			ereport(ERROR,
			        (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("origin must be finite"),
			         errhint("Omit the origin to align buckets on 2000-01-03.")));
		origin = o;
	}
	if (DATE_NOT_FINITE(value))
		PG_RETURN_DATEADT(value);

	if (w.months != 0)
		result = month_bucket_days(w.months, value, origin, "date");
	else
		result = bucket_floor(value, w.usecs / USECS_PER_DAY, origin, "date");
	if (!IS_VALID_DATE(result))
		out_of_range("date");
	PG_RETURN_DATEADT((DateADT) result);
}
