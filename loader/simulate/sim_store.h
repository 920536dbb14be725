/*
 * sim_store.h
 *	  The Event store behind `k8s-events simulate`: what a kube-apiserver plus
 *	  etcd hold for the events resource.
 *
 * Every write of an Event gets a new resourceVersion and becomes an immutable,
 * reference-counted version.  The store keeps the versions that are alive
 * (until their TTL, like --event-ttl), a bounded window of changes for
 * watches (the watch cache), list snapshots pinned by continue tokens (what
 * etcd's MVCC gives a paginated list), and a log of every write so that tests
 * can compare a database with what was served.
 *
 * Nothing here locks: the caller holds one mutex around every call (the
 * simulation runs at most a few thousand writes per second, far below where a
 * single lock would matter).
 */
#ifndef K8S_EVENTS_SIM_STORE_H
#define K8S_EVENTS_SIM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/cluster.h"
#include "json_out.h"

typedef enum ss_type
{
	SS_ADDED,
	SS_MODIFIED,
	SS_DELETED
} ss_type;

/* The API group/versions an Event is served through. */
typedef enum ss_api
{
	SS_API_CORE,   /* /api/v1: core/v1 Events */
	SS_API_EVENTS, /* /apis/events.k8s.io/v1: events.k8s.io/v1 Events */
	SS_NAPIS
} ss_api;

/*
 * One version of one Event object, shared by the alive map, history and
 * snapshots.  It is rendered once per API at write time: both renderings carry
 * the same resourceVersion, as the apiserver serves one etcd object through both.
 */
typedef struct ss_version
{
	int      refs;
	uint64_t rv;
	char    *json[SS_NAPIS]; /* the Event object, without a newline */
	size_t   len[SS_NAPIS];
	size_t   rv_off[SS_NAPIS]; /* metadata.resourceVersion digits, so DELETED can carry its own */
	size_t   rv_len;
	char     uid[40];
	const char *ns; /* interned: lives as long as the store */
	char       *name;
} ss_version;

typedef struct ss_change
{
	uint64_t    seq;
	ss_type     type;
	ss_version *v;
	int64_t     mono_us; /* when it happened, in real (monotonic) time */
} ss_change;

typedef struct ss_snapshot
{
	uint64_t     rv;
	char        *ns; /* NULL: all namespaces */
	ss_version **items;
	size_t       n;
	int64_t      created_mono_us;
} ss_snapshot;

typedef struct ss_obs_entry
{
	uint64_t rv;
	char     uid[40];
	uint8_t  type;
	uint16_t ns;
} ss_obs_entry;

typedef struct ss_config
{
	int64_t ttl_us;          /* an Event lives this long after its last write */
	int64_t history_us;      /* real time a change stays in the watch window */
	size_t  history_max;     /* and at most this many changes */
	size_t  observation_log; /* writes kept for /simulator/observations */
	int64_t continue_ttl_us; /* real time a continue token stays valid */
	int     max_snapshots;   /* pinned list snapshots; the oldest is dropped first */
} ss_config;

typedef struct ss_event ss_event;

typedef struct ss_store
{
	ss_config cfg;
	uint64_t  rv; /* the latest resourceVersion handed out */

	/* alive Events: hash by uid, and a list in expiry order */
	ss_event **buckets;
	size_t     nbuckets;
	size_t     alive;
	ss_event  *oldest;
	ss_event  *newest;

	/* the watch window: changes with seq in [base_seq, next_seq) */
	ss_change *hist;
	size_t     hist_cap;
	size_t     hist_head;
	size_t     hist_count;
	uint64_t   base_seq;
	uint64_t   floor_rv; /* every change after this resourceVersion is in the window */

	ss_snapshot *snaps;
	int          nsnaps;

	ss_obs_entry *obs;
	size_t        obs_cap;
	size_t        obs_head;
	size_t        obs_count;
	uint64_t      obs_floor_rv; /* writes at or before this are no longer logged */

	/* distinct uids ever written: 64-bit hashes, open addressing, 0 = empty */
	uint64_t *uids;
	size_t    uids_cap;
	size_t    distinct_uids;

	char **nss;
	int    nnss;

	bool     quiet; /* writes are not logged or counted (the pre-populated state) */
	uint64_t observations;
	uint64_t deletions;
	uint64_t snapshots_expired;
	ej_buf   scratch;
} ss_store;

extern ss_store *ss_create(const ss_config *cfg);
extern void      ss_destroy(ss_store *s);

/*
 * Stores one write of the Event o (its resource_version is replaced by the
 * store's next one, at least o->resource_version) that expires at deadline_us
 * of simulated time; now_mono_us stamps the change for the watch window.  The
 * write goes to the alive map, the window and the observation log.
 */
extern ss_version *ss_write(ss_store *s, const cm_obs *o, int64_t deadline_us, int64_t now_mono_us);

/* Deletes (DELETED changes) every Event whose deadline is at or before sim_us. */
extern void ss_expire(ss_store *s, int64_t sim_us, int64_t now_mono_us);

/* Forgets the watch window: watches can start from the current resourceVersion on. */
extern void ss_forget_history(ss_store *s);

/* Logs every alive Event as one write, in resourceVersion order. */
extern void ss_log_alive(ss_store *s);

/* Drops changes and snapshots that have left their windows. */
extern void ss_trim(ss_store *s, int64_t now_mono_us);

/*
 * When the store next has work for the simulation thread, so that it sleeps
 * until then: the simulated time at which ss_expire has an Event to delete,
 * and the monotonic time at which ss_trim has a change or snapshot to drop.
 * INT64_MAX: none until the store changes.
 */
extern int64_t ss_next_expiry(const ss_store *s);
extern int64_t ss_next_trim(const ss_store *s);

extern const char *ss_intern(ss_store *s, const char *ns);
extern void        ss_unref(ss_version *v);

/* The alive Events of ns (NULL: all), sorted by namespace and name, referenced. */
extern ss_version **ss_collect(ss_store *s, const char *ns, size_t *n);
extern void         ss_release(ss_version **items, size_t n);

/* The pinned snapshot at rv for ns, or NULL when it expired. */
extern ss_snapshot *ss_find_snapshot(ss_store *s, uint64_t rv, const char *ns, int64_t now_mono_us);
/* A new snapshot of the current state (takes ownership of items). */
extern ss_snapshot *ss_add_snapshot(ss_store *s, const char *ns, ss_version **items, size_t n,
                                    int64_t now_mono_us);
extern void         ss_drop_snapshots(ss_store *s);

/* The change with sequence number seq (base_seq <= seq < ss_next_seq). */
extern const ss_change *ss_change_at(const ss_store *s, uint64_t seq);
extern uint64_t         ss_next_seq(const ss_store *s);
/* The first seq whose change is after rv (ss_next_seq when none yet). */
extern uint64_t ss_seq_after(const ss_store *s, uint64_t rv);

/* Looks an alive Event up by namespace and name; NULL when there is none. */
extern ss_version *ss_lookup(ss_store *s, const char *ns, const char *name);

/* Appends the Event JSON of v as api serves it. */
extern void ss_append_json(ej_buf *b, const ss_version *v, ss_api api);

/* Appends one NDJSON line per logged write with rv > since; false if since is too old. */
extern bool ss_observations(ss_store *s, uint64_t since, ej_buf *out);

#endif
