/*
 * sim_resume.h
 *	  --state-file: where a simulator's clock stands, so that one started again
 *	  over the same file serves the same history on, with the same
 *	  resourceVersions, as a kube-apiserver restarted over its etcd does.
 *
 * The cluster model is deterministic: the same options and the same simulated
 * time give the same writes with the same resourceVersions.  So the file holds
 * only the options that shape the history (to refuse others) and the
 * simulated time and resourceVersion reached; a restarted simulator replays
 * its cluster up to that time before it listens, and checks that it reached
 * the same resourceVersion.
 */
#ifndef K8S_EVENTS_SIM_RESUME_H
#define K8S_EVENTS_SIM_RESUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The options a history depends on. */
typedef struct sim_resume_key
{
	uint64_t seed;
	int64_t  start_us;
	long     nodes;
	long     namespaces;
	bool     mixed;
	long     initial_events;
	long     big_event_bytes;
	long     unicode_every;
	int64_t  ttl_us;
} sim_resume_key;

/* Where the simulator stands. */
typedef struct sim_resume_point
{
	int64_t  time_us;  /* simulated time the model has run to */
	uint64_t rv;       /* the store's resourceVersion then */
	uint64_t injected; /* Events injected so far: a replay cannot make them again */
} sim_resume_point;

/*
 * Reads path.  *found false (and true returned) when it does not exist: a
 * first start.  false with err set when it cannot be read or parsed, or was
 * written with other options than key.
 */
extern bool sim_resume_read(const char *path, const sim_resume_key *key, bool *found,
                            sim_resume_point *at, char *err, size_t errlen);

/* Writes path whole (a temporary file renamed over it); false with err set on failure. */
extern bool sim_resume_write(const char *path, const sim_resume_key *key,
                             const sim_resume_point *at, char *err, size_t errlen);

#endif
