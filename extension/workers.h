/*
 * workers.h
 *	  The background workers: the launcher and one watcher per cluster.
 */
#ifndef K8S_EVENTS_WORKERS_H
#define K8S_EVENTS_WORKERS_H

/*
 * Register the static supervisor, which starts the launcher in
 * k8s_events.database (supervisor.c); only while shared_preload_libraries is
 * processed.
 */
extern void workers_register_supervisor(void);

/*
 * Pin the session settings a worker's SQL depends on (worker_session.c):
 * right after BackgroundWorkerInitializeConnection, before any query.
 */
extern void worker_pin_session_settings(void);

/* The pinned statement_timeout, around one transaction of a worker's (worker_session.c). */
extern void worker_arm_statement_timeout(void);
extern void worker_disarm_statement_timeout(void);

#endif
