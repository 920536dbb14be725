/*
 * list_watch.h
 *	  The LIST/WATCH engine that follows one cluster's Events: the background
 *	  worker and `k8s-events watch` both run this, each as its host.
 *
 * LIST in pages of LIST_WATCH_PAGE_SIZE with continue, each page stored as it
 * arrives and the list's resourceVersion stored with the last one; then WATCH
 * from the stored checkpoint with bookmarks, frames gathered into batches
 * (batch_size frames or flush_interval, whichever comes first) and each batch
 * stored together with the resourceVersion it reaches.  The host stores a
 * batch and its resourceVersion in one transaction, so the checkpoint the
 * engine resumes from always matches the stored rows: after any crash,
 * nothing is lost or stored twice.  410 Gone after frames arrived → watch
 * again from the checkpoint; 410 at once or an expired continue token →
 * list again.  Failures back off exponentially with jitter, honouring
 * Retry-After; a request that delivers nothing whole (a watch frame, a list
 * page) for stall_timeout is dropped, however many bytes trickle in.
 *
 * The host supplies everything that differs between a backend and a program:
 * storage, status, waiting (its signals), settings, logging, randomness and
 * memory.  Plain C, shared by the extension and the k8s-events program.
 */
#ifndef K8S_EVENTS_LIST_WATCH_H
#define K8S_EVENTS_LIST_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core_allocator.h"
#include "http_stream.h"

/*
 * jansson's value, declared rather than included: jansson.h clashes with
 * PostgreSQL's builtins.h (pg_builtins.h), which backend files include first.
 */
struct json_t;

/* Events per list page, as client-go's informers ask. */
#define LIST_WATCH_PAGE_SIZE 500

typedef enum ListWatchState
{
	LIST_WATCH_STARTING,
	LIST_WATCH_LISTING,
	LIST_WATCH_WATCHING,
	LIST_WATCH_BACKOFF,
	LIST_WATCH_FAILED /* the engine never sets it: for a host that gives up */
} ListWatchState;

extern const char *list_watch_state_name(ListWatchState state);

/*
 * Where the cluster is and what to watch, as the columns of
 * k8s_events.clusters.  With neither api_server nor kubeconfig, the pod's
 * service account (in-cluster configuration).  The fields set here override
 * the kubeconfig's.  Worked out again at every connection: tokens rotate.
 */
typedef struct ListWatchCluster
{
	const char *name; /* for messages */
	const char *api_server;
	const char *token_file;
	const char *ca_file;
	const char *client_cert_file;
	const char *client_key_file;
	const char *kubeconfig;
	const char *context;
	const char *namespace; /* NULL: every namespace */
	bool insecure_skip_tls_verify;
} ListWatchCluster;

/* Settings the host may change while the engine runs (SIGHUP); read at every pump. */
typedef struct ListWatchSettings
{
	int  batch_size;        /* frames per batch, >= 1 */
	long flush_interval_ms; /* the longest a received frame waits to be stored */
	long stall_timeout_ms;  /* a request with no whole frame or page this long is dropped */
} ListWatchSettings;

/* Bytes that are not a frame the engine could read, and why (valid UTF-8 text). */
typedef struct ListWatchReject
{
	const char *data; /* any bytes, not NUL-terminated */
	size_t      len;
	const char *reason;
} ListWatchReject;

/*
 * What to store in one transaction.  Pointers are valid during the store
 * callback only, but values, which the host owns from the call on.
 */
typedef struct ListWatchBatch
{
	/*
	 * For a host with keep_values: the watch frames as the engine parsed them
	 * (a JSON array), or one list page (an EventList object).  The host owns
	 * it whatever store returns: it json_decref()s it, or a backend resets the
	 * memory context jansson allocated it in (the one current while the
	 * engine runs).  NULL when there is none, and for other hosts.
	 */
	struct json_t *values;
	/*
	 * For a host without keep_values: the same as text, a JSON array of the
	 * frames as received (each one parsed already, so the array is valid
	 * JSON), or the list page as received.  NULL when there is none.
	 */
	const char            *payload;
	size_t                 payload_len;
	bool                   list_page;
	int                    items; /* frames in the array, or 1 for a page */
	const ListWatchReject *rejects;
	int                    nrejects;
	/* The checkpoint the batch reaches, to store with it; NULL leaves the stored one. */
	const char *resource_version;
} ListWatchBatch;

typedef enum ListWatchCounter
{
	LIST_WATCH_RELISTS,   /* a 410 sent the engine back to LIST */
	LIST_WATCH_RECONNECTS /* a failure sent it to backoff */
} ListWatchCounter;

/*
 * The engine allocates only through allocator, and jansson through its own
 * (in a backend: in the current memory context).  What jansson allocates
 * while the engine reads a frame or a page is freed before the engine calls
 * the host again, but the batch's values of a host with keep_values: those
 * are held across callbacks until store hands them over.  So a backend host
 * may reset its current context in store (its values go with it), and must
 * not anywhere else while the engine runs.
 */
typedef struct ListWatchHost
{
	void                *arg;       /* passed to every callback */
	const CoreAllocator *allocator; /* the engine's memory; NULL: malloc */

	/*
	 * Each frame is parsed once, by the engine (its type and resourceVersion
	 * say where it goes).  A host that decodes rows itself sets keep_values
	 * and gets those parsed values in the batch, so it parses nothing again;
	 * one that sends the batch elsewhere to be parsed (a program, to its
	 * server) gets the frames' text instead.
	 */
	bool keep_values;

	/*
	 * Store the batch's rows and resource_version in one transaction.  A host
	 * that cannot (it lost its database) returns false with err set; the
	 * engine drops what it holds, backs off, and asks for the checkpoint
	 * again.  A host that errors out instead (a backend) never returns.
	 */
	bool (*store)(void *arg, const ListWatchBatch *batch, char *err, size_t errlen);

	/*
	 * The stored checkpoint, in *rv (allocated with allocator; NULL when there
	 * is none: list first).  Asked at the start and after a failed store.
	 * false with err set when it cannot be read now: tried again after a
	 * backoff.
	 */
	bool (*checkpoint)(void *arg, char **rv, char *err, size_t errlen);

	/* The engine's state changed; error (or NULL) says why it is backing off. */
	void (*set_state)(void *arg, ListWatchState state, const char *error);
	void (*count)(void *arg, ListWatchCounter counter);

	/* Optional: the API server answered a request with 200, or 429/503 (busy: ask again). */
	void (*connected)(void *arg);

	/* Wait for sockets (see http_stream.h); false: stop now. */
	HttpWaitFn wait;
	/* Sleep ms milliseconds, or less when the host is stopping: false then. */
	bool (*sleep)(void *arg, long ms);

	void (*settings)(void *arg, ListWatchSettings *out);
	/* A line worth logging (backoffs); the host adds the cluster's name. */
	void (*log)(void *arg, const char *message);
	/* A uniform random number in [0, bound); bound > 0. */
	uint64_t (*random)(void *arg, uint64_t bound);
} ListWatchHost;

/*
 * Follow the cluster until the host says stop (its wait or sleep returns
 * false).  What was received by then is stored before it returns.
 */
extern void list_watch_run(const ListWatchCluster *cluster, const ListWatchHost *host);

#endif
