/*
 * settings.h
 *	  The k8s_events.* configuration settings (GUCs) and their parsed values.
 */
#ifndef K8S_EVENTS_SETTINGS_H
#define K8S_EVENTS_SETTINGS_H

#include "datatype/timestamp.h"

/* Raw setting strings, as PostgreSQL's GUC machinery owns them. */
extern char *k8s_events_retention;
extern char *k8s_events_summary_retention;
extern char *k8s_events_partition_width;
extern int   k8s_events_drop_lock_timeout_ms;
extern int   k8s_events_batch_size;
extern char *k8s_events_database;
extern int   k8s_events_flush_interval_ms;
extern int   k8s_events_maintenance_interval_s;
extern int   k8s_events_watch_stall_timeout_s;
extern bool  k8s_events_notify_details;

extern void settings_define(void);

/*
 * The oldest event_time that is still kept: now() minus k8s_events.retention,
 * or DT_NOBEGIN when retention is disabled ('0').
 */
extern TimestampTz settings_retention_cutoff(TimestampTz now);
/* When hourly counts expire (k8s_events.summary_retention); DT_NOBEGIN: never. */
extern TimestampTz settings_summary_retention_cutoff(TimestampTz now);

/* k8s_events.partition_width in microseconds (a fixed duration, >= 1 hour). */
extern int64 settings_partition_width_usecs(void);

#endif
