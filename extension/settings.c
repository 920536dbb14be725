/*
 * settings.c
 *	  Definition and validation of the k8s_events.* settings.
 *
 * Intervals are written the way a DBA writes them in SQL ('120 days',
 * '6 hours'); the check hooks parse them once, so a bad value is refused at
 * SET or reload time with a message, never at ingest time.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "settings.h"

char *k8s_events_retention = NULL;
char *k8s_events_summary_retention = NULL;
char *k8s_events_partition_width = NULL;
int   k8s_events_drop_lock_timeout_ms = 500;
int   k8s_events_batch_size = 1000;
char *k8s_events_database = NULL;
int   k8s_events_flush_interval_ms = 250;
int   k8s_events_maintenance_interval_s = 3600;
int   k8s_events_watch_stall_timeout_s = 300;
bool  k8s_events_notify_details = false;

/*
 * Parse an interval without throwing: check hooks report through
 * GUC_check_errdetail instead.  interval_in only allocates memory, so
 * catching its error without a subtransaction leaves nothing behind.
 */
static bool
parse_interval_setting(const char *value, Interval *result)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	volatile bool ok = true;

	PG_TRY();
	{
		Interval *iv = DatumGetIntervalP(DirectFunctionCall3(
		    interval_in, CStringGetDatum(value), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));

		*result = *iv;
	}
	PG_CATCH();
	{
		ErrorData *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		GUC_check_errdetail("%s", edata->message);
		FreeErrorData(edata);
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

static bool
interval_is_negative(const Interval *iv)
{
	return iv->month < 0 || iv->day < 0 || iv->time < 0;
}

static bool
check_retention(char **newval, void **extra, GucSource source)
{
	Interval iv;

	if (*newval == NULL || !parse_interval_setting(*newval, &iv))
		return false;
	if (interval_is_negative(&iv))
	{
		GUC_check_errdetail("Retention must not be negative.");
		GUC_check_errhint("Use '0' to keep events forever.");
		return false;
	}
	return true;
}

static bool
check_partition_width(char **newval, void **extra, GucSource source)
{
	Interval iv;
	int64    usecs;

	if (*newval == NULL || !parse_interval_setting(*newval, &iv))
		return false;
	if (iv.month != 0)
	{
		GUC_check_errdetail(
		    "A partition width must be a fixed duration; months and years vary in length.");
		GUC_check_errhint("Use days or hours, for example '1 day' or '7 days'.");
		return false;
	}
	usecs = iv.time + (int64) iv.day * USECS_PER_DAY;
	if (usecs < USECS_PER_HOUR || usecs % USECS_PER_HOUR != 0)
	{
		GUC_check_errdetail(
		    "A partition width must be a whole number of hours, at least one hour.");
		return false;
	}
	return true;
}

void
settings_define(void)
{
	/* A postmaster setting can only be defined while the server starts. */
	if (process_shared_preload_libraries_in_progress)
		DefineCustomStringVariable(
		    "k8s_events.database", "Database the background workers store events in.",
		    "The extension must be created there; the launcher waits until it is.",
		    &k8s_events_database, "postgres", PGC_POSTMASTER, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("k8s_events.flush_interval",
	                        "Longest time a watcher holds received events before committing them.",
	                        NULL, &k8s_events_flush_interval_ms, 250, 10, 60 * 1000, PGC_SIGHUP,
	                        GUC_UNIT_MS, NULL, NULL, NULL);

	DefineCustomIntVariable("k8s_events.watch_stall_timeout",
	                        "How long a request may deliver nothing whole (no watch frame, an "
	                        "unfinished list page) before the watcher reconnects.",
	                        "API servers send a bookmark about every minute; a trickle of bytes "
	                        "is no progress.",
	                        &k8s_events_watch_stall_timeout_s, 300, 1, 24 * 3600, PGC_SIGHUP,
	                        GUC_UNIT_S, NULL, NULL, NULL);

	DefineCustomIntVariable(
	    "k8s_events.maintenance_interval",
	    "How often the launcher creates upcoming partitions and applies retention.", NULL,
	    &k8s_events_maintenance_interval_s, 3600, 10, 7 * 24 * 3600, PGC_SIGHUP, GUC_UNIT_S, NULL,
	    NULL, NULL);

	DefineCustomStringVariable(
	    "k8s_events.retention",
	    "How long events are kept; older ones are skipped at ingest and their partitions dropped.",
	    "An interval such as '120 days'; '0' keeps events forever.", &k8s_events_retention,
	    "120 days", PGC_SUSET, 0, check_retention, NULL, NULL);

	DefineCustomStringVariable(
	    "k8s_events.summary_retention",
	    "How long the hourly counts of k8s_events.event_counts are kept; older hours are deleted "
	    "by drop_partitions().",
	    "An interval such as '2 years', usually longer than k8s_events.retention; '0' keeps them "
	    "forever.",
	    &k8s_events_summary_retention, "2 years", PGC_SUSET, 0, check_retention, NULL, NULL);

	DefineCustomStringVariable(
	    "k8s_events.partition_width", "Time span of each partition of k8s_events.events.",
	    "A whole number of hours or days, such as '1 day'. Changing it affects new partitions "
	    "only.",
	    &k8s_events_partition_width, "1 day", PGC_SUSET, 0, check_partition_width, NULL, NULL);

	DefineCustomIntVariable(
	    "k8s_events.drop_lock_timeout",
	    "How long drop_partitions waits for a lock before leaving a partition for next time.", NULL,
	    &k8s_events_drop_lock_timeout_ms, 500, 1, 60 * 1000, PGC_SUSET, GUC_UNIT_MS, NULL, NULL,
	    NULL);

	DefineCustomIntVariable(
	    "k8s_events.batch_size", "Events written per INSERT statement by ingest.", NULL,
	    &k8s_events_batch_size, 1000, 1, 100000, PGC_USERSET, 0, NULL, NULL, NULL);

	/*
	 * Any role may LISTEN on any channel: by default the notification only
	 * says that rows were stored, not in which cluster nor how many.
	 */
	DefineCustomBoolVariable(
	    "k8s_events.notify_details",
	    "Whether the notification on channel k8s_events names the cluster, the rows stored and "
	    "the newest event time.",
	    "Every role can LISTEN, whatever it may read: leave off unless every role may know "
	    "which clusters exist and how busy they are.",
	    &k8s_events_notify_details, false, PGC_SUSET, 0, NULL, NULL, NULL);
}

static Interval
setting_interval(const char *value)
{
	Interval *iv = DatumGetIntervalP(DirectFunctionCall3(
	    interval_in, CStringGetDatum(value), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));

	return *iv;
}

/* now minus a retention setting; DT_NOBEGIN for '0' (keep forever). */
static TimestampTz
cutoff_of(const char *setting, TimestampTz now)
{
	Interval iv = setting_interval(setting);

	if (iv.month == 0 && iv.day == 0 && iv.time == 0)
		return DT_NOBEGIN;
	return DatumGetTimestampTz(DirectFunctionCall2(
	    timestamptz_mi_interval, TimestampTzGetDatum(now), IntervalPGetDatum(&iv)));
}

TimestampTz
settings_retention_cutoff(TimestampTz now)
{
	return cutoff_of(k8s_events_retention, now);
}

TimestampTz
settings_summary_retention_cutoff(TimestampTz now)
{
	return cutoff_of(k8s_events_summary_retention, now);
}

int64
settings_partition_width_usecs(void)
{
	Interval iv = setting_interval(k8s_events_partition_width);

	return iv.time + (int64) iv.day * USECS_PER_DAY;
}
