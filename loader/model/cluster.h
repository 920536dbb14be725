/*
 * cluster.h
 *	  A simulated Kubernetes cluster that produces a realistic Event stream.
 *
 * The model is a discrete-event simulation driven by one seeded PRNG: nodes,
 * namespaces, Deployments (with ReplicaSets and rolling updates), HPAs,
 * StatefulSets, CronJobs and their Jobs and Pods.  Every controller and kubelet
 * action it simulates records Events the way client-go's recorders do (count
 * bumps for the core/v1 recorder, series for the events.k8s.io one), and each
 * write of an Event to the API is handed to the caller as one observation.
 *
 * Same configuration, same observations, byte for byte: nothing here reads a
 * clock.  The caller advances simulated time with cm_step(), which is what lets
 * both `generate` (as fast as possible) and a fake API server (in wall-clock
 * time) share it.
 */
#ifndef K8S_EVENTS_CLUSTER_MODEL_H
#define K8S_EVENTS_CLUSTER_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CM_MAX_NODES      1000
#define CM_MAX_NAMESPACES 200

/* How an observation is serialized. */
typedef enum cm_shape
{
	CM_SHAPE_CORE,     /* core/v1 Event as a current API server returns it */
	CM_SHAPE_CORE_OLD, /* core/v1 Event from an old (1.8-era) server: selfLink, no eventTime */
	CM_SHAPE_EVENTS_V1 /* events.k8s.io/v1 Event */
} cm_shape;

typedef struct cm_config
{
	uint64_t seed;
	int64_t  start_us; /* simulated start, microseconds since the Unix epoch */
	int64_t  end_us;   /* nothing is observed at or after this instant */
	int      nodes;
	int      namespaces;
	bool     mixed; /* also produce CM_SHAPE_EVENTS_V1 and CM_SHAPE_CORE_OLD observations */
} cm_config;

/* An ObjectReference; NULL strings and a zero resource_version are absent. */
typedef struct cm_obj_ref
{
	const char *kind;
	const char *namespace;
	const char *name;
	const char *uid;
	const char *api_version;
	uint64_t    resource_version;
	const char *field_path;
} cm_obj_ref;

/*
 * One write of an Event.  The strings are only valid during the callback.
 * new_style events were written through events.k8s.io (eventTime, action,
 * series; no count/firstTimestamp); the others by the core/v1 recorder.
 */
typedef struct cm_obs
{
	bool        modified; /* an update of an existing Event (count or series bump) */
	bool        new_style;
	cm_shape    shape;
	const char *name;
	const char *namespace;
	const char *uid;
	uint64_t    resource_version;
	int64_t     creation_us;
	cm_obj_ref  involved;
	const char *reason;
	const char *message;
	const char *type;
	const char *source_component; /* NULL: empty source */
	const char *source_host;      /* NULL: absent */
	int64_t     first_us;         /* core/v1 recorder only */
	int64_t     last_us;
	int32_t     count;
	int64_t     event_time_us; /* new_style only */
	const char *action;        /* new_style only */
	int32_t     series_count;  /* 0: no series */
	int64_t     series_last_us;
	const char *reporting_component;
	const char *reporting_instance;
} cm_obs;

/* Receives each observation; returning false stops the simulation (cm_step returns -1). */
typedef bool (*cm_emit_fn)(const cm_obs *obs, void *arg);

typedef struct cm_model cm_model;

/* Validates cfg and builds the cluster as it stands at cfg->start_us. NULL + errbuf on bad config.
 */
extern cm_model *cm_create(const cm_config *cfg, cm_emit_fn emit, void *arg, char *errbuf,
                           size_t errlen);

/*
 * Runs every simulated action due at or before until_us (and before the end),
 * emitting observations in order.  Returns how many were emitted, or -1 when
 * the callback asked to stop.
 */
extern int64_t cm_step(cm_model *m, int64_t until_us);

/* When the next action is due, or INT64_MAX once the simulation has reached its end. */
extern int64_t cm_next_time(const cm_model *m);

extern void cm_destroy(cm_model *m);

#endif
