/*
 * watcher.c
 *	  The background worker that lists and watches one cluster's Events.
 *
 * LIST (paged with limit/continue) then WATCH from the list's resourceVersion
 * with bookmarks; frames are batched and stored through the same ingest code
 * as k8s_events.ingest(), and each batch commits together with the
 * resourceVersion it reaches (k8s_events.watch_checkpoints), so after any crash
 * the watch resumes exactly where the stored rows end.  410 Gone means the
 * checkpoint fell out of the API server's window: list again (rows already
 * stored are duplicates and skipped by key).  HTTP and network failures back
 * off exponentially with jitter; database errors end the process, and the
 * postmaster starts it again from the checkpoint.
 */
#include "postgres.h"

#include "access/xact.h"
#include "common/pg_prng.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"
#include "pg_builtins.h"

#include "core_alloc.h"
#include "frame_splitter.h"
#include "kubeconfig.h"
#include "http_stream.h"
#include "ingest.h"
#include "json_backend.h"
#include "settings.h"
#include "shared_state.h"

#define LIST_PAGE_SIZE     500
#define BACKOFF_INITIAL_MS 1000
#define BACKOFF_MAX_MS     60000
#define PUMP_WAIT_MS       1000

/* The cluster's row of k8s_events.clusters. */
typedef struct ClusterConfig
{
	char *name;
	char *api_server;
	char *token_file;
	char *ca_file;
	char *client_cert_file;
	char *client_key_file;
	char *kubeconfig;
	char *context;
	char *namespace;
	bool insecure_skip_tls_verify;
} ClusterConfig;

/* Frames received and not yet committed. */
typedef struct Batch
{
	MemoryContext cxt;
	json_t       *frames;      /* array of watch frames, or one list page */
	int           count;       /* frames (or pages) in it */
	List         *raw_rejects; /* pairs of (payload, error) strings */
	char          rv[64];      /* resourceVersion the batch reaches, "" if none */
	TimestampTz   first_at;    /* when its first frame arrived */
	bool          gone;        /* an ERROR frame said 410 */
	int64         received;    /* frames received on the current watch */
	char          error[256];  /* another ERROR frame's message */
} Batch;

static int        my_slot;
static uint32     my_generation;
static WatchState current_state = WATCH_STARTING;
/* The resourceVersion committed last: where the next watch starts. */
static char          committed_rv[64];
static ClusterConfig config;
static FrameSplitter splitter;
static Batch         batch;

/*
 * Our slot in shared memory, locked exclusively, or NULL (and not locked) when
 * the launcher has given it a new generation: it is not ours to write then.
 */
static WatchSlot *
lock_my_slot(void)
{
	SharedState *shared = shared_state();

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (shared->slots[my_slot].generation != my_generation)
	{
		LWLockRelease(shared->lock);
		return NULL;
	}
	return &shared->slots[my_slot];
}

static void
unlock_my_slot(void)
{
	LWLockRelease(shared_state()->lock);
}

static void
set_state(WatchState s, const char *error)
{
	WatchSlot *slot = lock_my_slot();

	if (slot != NULL)
	{
		if (slot->state != s)
			slot->since = GetCurrentTimestamp();
		slot->state = s;
		if (error != NULL)
		{
			strlcpy(slot->last_error, error, sizeof(slot->last_error));
			slot->last_error_at = GetCurrentTimestamp();
		}
		unlock_my_slot();
	}
	current_state = s;
	pgstat_report_activity(STATE_RUNNING, watch_state_name(s));
}

/* Add to one of our slot's counters, given as its offset in WatchSlot. */
static void
count(size_t counter, int64 by)
{
	WatchSlot *slot = lock_my_slot();

	if (slot != NULL)
	{
		*(int64 *) ((char *) slot + counter) += by;
		unlock_my_slot();
	}
}

/* On exit: the launcher waits for the pid to clear before it reuses the slot. */
static void
release_my_slot(int code, Datum arg)
{
	WatchSlot *slot = lock_my_slot();

	if (slot == NULL)
	{
		/* Reassigned or stopped: still clear our pid, which only we set. */
		SharedState *shared = shared_state();

		LWLockAcquire(shared->lock, LW_EXCLUSIVE);
		if (shared->slots[my_slot].pid == MyProcPid)
		{
			shared->slots[my_slot].pid = 0;
			shared->slots[my_slot].latch = NULL;
		}
		LWLockRelease(shared->lock);
		return;
	}
	slot->pid = 0;
	slot->latch = NULL;
	unlock_my_slot();
}

static char *
text_or_null(HeapTuple tuple, TupleDesc desc, int column)
{
	char *value = SPI_getvalue(tuple, desc, column);

	return value != NULL ? MemoryContextStrdup(TopMemoryContext, value) : NULL;
}

/* Read the cluster's row and checkpoint; false when it is gone or disabled. */
static bool
load_config(char *checkpoint, size_t checkpoint_len)
{
	Oid           argtypes[1] = {TEXTOID};
	Datum         args[1] = {CStringGetTextDatum(config.name)};
	bool          found = false;
	MemoryContext caller = CurrentMemoryContext;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_execute_with_args("SELECT api_server, token_file, ca_file, client_cert_file, "
	                          "client_key_file, kubeconfig, namespace, insecure_skip_tls_verify, "
	                          "cp.resource_version, context FROM k8s_events.clusters AS c "
	                          "LEFT JOIN k8s_events.watch_checkpoints AS cp ON cp.cluster = c.name "
	                          "WHERE c.name = $1 AND c.enabled",
	                          1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read k8s_events.clusters");
	if (SPI_processed == 1)
	{
		HeapTuple tuple = SPI_tuptable->vals[0];
		TupleDesc desc = SPI_tuptable->tupdesc;
		char     *rv = SPI_getvalue(tuple, desc, 9);

		found = true;
		config.api_server = text_or_null(tuple, desc, 1);
		config.token_file = text_or_null(tuple, desc, 2);
		config.ca_file = text_or_null(tuple, desc, 3);
		config.client_cert_file = text_or_null(tuple, desc, 4);
		config.client_key_file = text_or_null(tuple, desc, 5);
		config.kubeconfig = text_or_null(tuple, desc, 6);
		config.namespace = text_or_null(tuple, desc, 7);
		config.insecure_skip_tls_verify = strcmp(SPI_getvalue(tuple, desc, 8), "t") == 0;
		config.context = text_or_null(tuple, desc, 10);
		strlcpy(checkpoint, rv != NULL ? rv : "", checkpoint_len);
	}
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(caller);
	return found;
}

/* curl has its own copy now; ours should not outlive the request. */
static void
forget_token(char *token)
{
	if (token != NULL)
	{
		explicit_bzero(token, strlen(token));
		pfree(token);
	}
}

static const char *
events_path(void)
{
	if (config.namespace != NULL)
		return psprintf("/api/v1/namespaces/%s/events", config.namespace);
	return "/api/v1/events";
}

/* Commit the batch with the checkpoint it reaches. */
static void
flush_batch(void)
{
	IngestCounts  counts = {0};
	MemoryContext old;
	ListCell     *lc;
	bool          any = batch.count > 0 || batch.raw_rejects != NIL;
	MemoryContext caller = CurrentMemoryContext;

	if (!any && batch.rv[0] == '\0')
		return;
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "storing events");
	if (any)
	{
		Ingest *ingest = ingest_begin(config.name, "watch");

		ingest_payload(ingest, batch.frames);
		for (lc = list_head(batch.raw_rejects); lc != NULL; lc = lnext(batch.raw_rejects, lc))
		{
			char *payload = lfirst(lc);

			lc = lnext(batch.raw_rejects, lc);
			ingest_reject_raw(ingest, payload, lfirst(lc));
		}
		counts = ingest_end(ingest);
	}
	if (batch.rv[0] != '\0')
	{
		Oid   argtypes[2] = {TEXTOID, TEXTOID};
		Datum args[2] = {CStringGetTextDatum(config.name), CStringGetTextDatum(batch.rv)};

		if (SPI_execute_with_args("INSERT INTO k8s_events.watch_checkpoints AS cp "
		                          "(cluster, resource_version) VALUES ($1, $2) "
		                          "ON CONFLICT (cluster) DO UPDATE SET resource_version = $2, "
		                          "updated_at = now()",
		                          2, argtypes, args, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not store the checkpoint of cluster \"%s\"", config.name);
	}
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(caller); /* commit leaves us in TopMemoryContext */
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_RUNNING, watch_state_name(current_state));

	if (batch.rv[0] != '\0')
		strlcpy(committed_rv, batch.rv, sizeof(committed_rv));
	{
		WatchSlot *slot = lock_my_slot();

		if (slot != NULL)
		{
			slot->events_stored += counts.stored;
			slot->duplicates += counts.duplicates;
			slot->rejected += counts.rejected;
			slot->deleted_seen += counts.deleted;
			if (counts.stored > 0)
				slot->last_event_at = GetCurrentTimestamp();
			strlcpy(slot->resource_version, committed_rv, sizeof(slot->resource_version));
			unlock_my_slot();
		}
	}

	old = MemoryContextSwitchTo(batch.cxt);
	MemoryContextReset(batch.cxt);
	batch.frames = json_array();
	MemoryContextSwitchTo(old);
	batch.raw_rejects = NIL;
	batch.count = 0;
	batch.rv[0] = '\0';
	batch.first_at = 0;
}

static void
batch_init(void)
{
	MemoryContext old;

	batch.cxt =
	    AllocSetContextCreate(TopMemoryContext, "k8s_events watch batch", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(batch.cxt);
	batch.frames = json_array();
	MemoryContextSwitchTo(old);
}

static bool
batch_due(void)
{
	if (batch.first_at == 0)
		return batch.rv[0] != '\0';
	return batch.count >= k8s_events_batch_size ||
	       TimestampDifferenceExceeds(batch.first_at, GetCurrentTimestamp(),
	                                  k8s_events_flush_interval_ms);
}

static void
note_arrival(void)
{
	if (batch.first_at == 0)
		batch.first_at = GetCurrentTimestamp();
}

/* One watch frame: into the batch, or a signal to stop (ERROR frames). */
static bool
watch_frame(void *arg, const Frame *frame)
{
	MemoryContext old = MemoryContextSwitchTo(batch.cxt);
	json_error_t  error;
	json_t       *value = NULL;
	const char   *type;
	const char   *rv;

	/*
	 * A frame cut short by a dropped connection is not bad data: its event is
	 * after the checkpoint, so the next watch sends it again whole.
	 */
	if (!frame->terminated)
	{
		MemoryContextSwitchTo(old);
		return false;
	}
	if (frame->kind == FRAME_TOO_LONG)
	{
		batch.raw_rejects = lappend(batch.raw_rejects, pnstrdup(frame->data, frame->len));
		batch.raw_rejects = lappend(batch.raw_rejects,
		                            psprintf("watch frame of %llu bytes is longer than the limit",
		                                     (unsigned long long) frame->length));
		note_arrival();
		MemoryContextSwitchTo(old);
		return false;
	}
	value = json_loadb(frame->data, frame->len, 0, &error);
	if (value == NULL)
	{
		batch.raw_rejects = lappend(batch.raw_rejects, pnstrdup(frame->data, frame->len));
		batch.raw_rejects =
		    lappend(batch.raw_rejects, psprintf("malformed watch frame: %s", error.text));
		note_arrival();
		MemoryContextSwitchTo(old);
		return false;
	}
	type = json_string_value(json_object_get(value, "type"));
	if (type != NULL && strcmp(type, "ERROR") == 0)
	{
		json_t *code = json_object_get(json_object_get(value, "object"), "code");

		if (json_integer_value(code) == 410)
			batch.gone = true;
		else
			snprintf(
			    batch.error, sizeof(batch.error), "watch ERROR: %s",
			    json_string_value(json_object_get(json_object_get(value, "object"), "message")));
		MemoryContextSwitchTo(old);
		return true;
	}
	batch.received++;
	rv = json_string_value(json_object_get(
	    json_object_get(json_object_get(value, "object"), "metadata"), "resourceVersion"));
	if (rv != NULL)
		strlcpy(batch.rv, rv, sizeof(batch.rv));
	if (type == NULL || strcmp(type, "BOOKMARK") != 0)
	{
		json_array_append_new(batch.frames, value);
		batch.count++;
		note_arrival();
	}
	MemoryContextSwitchTo(old);
	return false;
}

static bool
watch_data(void *arg, const char *data, size_t len)
{
	FrameSplitterStatus status = frame_splitter_feed(&splitter, data, len, watch_frame, NULL, NULL);

	/* An ERROR frame stopped the splitter: end the transfer. */
	return status == FRAME_SPLITTER_OK;
}

static bool
collect_body(void *arg, const char *data, size_t len)
{
	appendBinaryStringInfo((StringInfo) arg, data, len);
	return true;
}

typedef enum Outcome
{
	OUTCOME_OK,    /* finished normally */
	OUTCOME_GONE,  /* 410: the resourceVersion is too old; list again */
	OUTCOME_AGAIN, /* 410 after frames arrived: watch again from the checkpoint first */
	OUTCOME_RETRY, /* failed; back off and try again */
} Outcome;

/*
 * How to reach the API server, worked out again at every connection: bound
 * service-account tokens rotate, and kubeconfigs get rewritten.  Columns of
 * k8s_events.clusters override what a kubeconfig says; with neither an
 * api_server nor a kubeconfig, the in-cluster service account is used.
 */
static bool
resolve_endpoint(HttpEndpoint *e, char **token, char *err, size_t errlen)
{
	KubeConfig kc = {0};

	memset(e, 0, sizeof(*e));
	*token = NULL;
	if (config.api_server == NULL)
	{
		bool ok = config.kubeconfig != NULL
		              ? kube_config_load(config.kubeconfig, config.context, &palloc_allocator, &kc,
		                                 err, errlen)
		              : kube_config_in_cluster(NULL, &palloc_allocator, &kc, err, errlen);

		if (!ok)
			return false;
	}
	e->api_server = config.api_server != NULL ? config.api_server : kc.server;
	e->ca_file = config.ca_file != NULL ? config.ca_file : kc.ca_file;
	e->ca_data = kc.ca_data.data;
	e->ca_len = kc.ca_data.len;
	e->client_cert_file =
	    config.client_cert_file != NULL ? config.client_cert_file : kc.client_cert_file;
	e->client_cert_data = kc.client_cert_data.data;
	e->client_cert_len = kc.client_cert_data.len;
	e->client_key_file =
	    config.client_key_file != NULL ? config.client_key_file : kc.client_key_file;
	e->client_key_data = kc.client_key_data.data;
	e->client_key_len = kc.client_key_data.len;
	e->tls_server_name = kc.tls_server_name;
	e->proxy_url = kc.proxy_url;
	e->insecure_skip_tls_verify = config.insecure_skip_tls_verify || kc.insecure_skip_tls_verify;

	if (config.token_file != NULL || kc.token_file != NULL)
	{
		if (!kube_read_token_file(config.token_file != NULL ? config.token_file : kc.token_file,
		                          &palloc_allocator, token, err, errlen))
		{
			/* Like client-go: an inline token stands in for an unreadable file. */
			if (kc.token == NULL || config.token_file != NULL)
				return false;
			*token = kc.token;
		}
	}
	else
		*token = kc.token;
	e->token = *token;
	return true;
}

static void
describe_failure(HttpStream *s, char *err, size_t errlen)
{
	if (s->status == 0)
		snprintf(err, errlen, "cannot reach the API server: %s", s->curl_error);
	else
		snprintf(err, errlen, "HTTP %ld from the API server: %.200s", s->status, s->error_body);
}

/*
 * Leave if the launcher wants us gone but holds no handle to terminate us
 * with (it took us over from a launcher that crashed).  Exit code 0 keeps
 * the postmaster from starting us again.
 */
static void
leave_if_unwanted(void)
{
	SharedState *shared = shared_state();
	bool         unwanted;

	LWLockAcquire(shared->lock, LW_SHARED);
	unwanted = shared->slots[my_slot].generation != my_generation;
	LWLockRelease(shared->lock);
	if (unwanted)
		proc_exit(0);
}

/* Run one request to its end, pumping curl under our latch. */
static void
run_request(HttpStream *s, bool (*between)(void))
{
	while (http_stream_pump(s, PUMP_WAIT_MS) == HTTP_RUNNING)
	{
		CHECK_FOR_INTERRUPTS();
		leave_if_unwanted();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (between != NULL && !between())
			break;
	}
}

/* LIST every page; on success the list's resourceVersion is committed as checkpoint. */
static Outcome
list_events(long *retry_after, char *err, size_t errlen)
{
	StringInfoData body;
	char           continue_token[4096] = "";
	char          *token;

	set_state(WATCH_LISTING, NULL);
	batch.received = 0;
	initStringInfo(&body);
	for (;;)
	{
		HttpStream    s;
		HttpEndpoint  e;
		char         *path;
		json_t       *page;
		json_error_t  jerror;
		const char   *next;
		const char   *rv;
		MemoryContext old;

		if (!resolve_endpoint(&e, &token, err, errlen))
			return OUTCOME_RETRY;
		path = continue_token[0] == '\0' ? psprintf("%s?limit=%d", events_path(), LIST_PAGE_SIZE)
		                                 : psprintf("%s?limit=%d&continue=%s", events_path(),
		                                            LIST_PAGE_SIZE, continue_token);
		resetStringInfo(&body);
		if (!http_stream_start(&s, &e, path, collect_body, &body, err, errlen))
			return OUTCOME_RETRY;
		forget_token(token);
		run_request(&s, NULL);
		http_stream_cleanup(&s);
		*retry_after = s.retry_after;
		if (s.status == 410)
			return OUTCOME_GONE; /* the continue token expired */
		if (s.status != 200)
		{
			describe_failure(&s, err, errlen);
			return OUTCOME_RETRY;
		}

		old = MemoryContextSwitchTo(batch.cxt);
		page = json_loadb(body.data, body.len, 0, &jerror);
		if (page == NULL)
		{
			MemoryContextSwitchTo(old);
			snprintf(err, errlen, "the list page is not JSON: %s", jerror.text);
			return OUTCOME_RETRY;
		}
		/* A page is a payload of its own (an EventList); it replaces the empty array. */
		batch.frames = page;
		batch.count = 1;
		next = json_string_value(json_object_get(json_object_get(page, "metadata"), "continue"));
		rv = json_string_value(
		    json_object_get(json_object_get(page, "metadata"), "resourceVersion"));
		strlcpy(continue_token, next != NULL ? next : "", sizeof(continue_token));
		/* Only the last page's resourceVersion is a point to watch from. */
		if (continue_token[0] == '\0' && rv != NULL)
			strlcpy(batch.rv, rv, sizeof(batch.rv));
		MemoryContextSwitchTo(old);
		note_arrival();
		flush_batch();
		if (continue_token[0] == '\0')
			return OUTCOME_OK;
	}
}

static bool
flush_if_due(void)
{
	if (batch_due())
		flush_batch();
	return true;
}

/* WATCH from rv until the server ends the watch, it fails, or 410. */
static Outcome
watch_events(const char *rv, long *retry_after, char *err, size_t errlen)
{
	HttpStream   s;
	char        *token;
	HttpEndpoint e;
	/* Spread reconnections of many watchers, as client-go does. */
	int   timeout = 240 + (int) pg_prng_uint64_range(&pg_global_prng_state, 0, 120);
	char *path =
	    psprintf("%s?watch=1&allowWatchBookmarks=true&resourceVersion=%s&timeoutSeconds=%d",
	             events_path(), rv, timeout);
	Outcome outcome = OUTCOME_OK;

	if (!resolve_endpoint(&e, &token, err, errlen))
		return OUTCOME_RETRY;
	set_state(WATCH_WATCHING, NULL);
	frame_splitter_reset(&splitter);
	batch.gone = false;
	batch.received = 0;
	batch.error[0] = '\0';
	if (!http_stream_start(&s, &e, path, watch_data, NULL, err, errlen))
		return OUTCOME_RETRY;
	forget_token(token);
	run_request(&s, flush_if_due);
	frame_splitter_finish(&splitter, watch_frame, NULL);
	http_stream_cleanup(&s);
	*retry_after = s.retry_after;
	flush_batch();

	/*
	 * A 410 after frames arrived may be the server dropping this watch rather
	 * than our resourceVersion leaving its window: the versions since the
	 * checkpoint may still be there, and a relist would only show the latest
	 * of each.  Watch again from the checkpoint; only a 410 at once relists.
	 */
	if ((batch.gone || s.status == 410) && batch.received > 0)
		outcome = OUTCOME_AGAIN;
	else if (batch.gone || s.status == 410)
		outcome = OUTCOME_GONE;
	else if (batch.error[0] != '\0')
	{
		strlcpy(err, batch.error, errlen);
		outcome = OUTCOME_RETRY;
	}
	else if (s.status != 200)
	{
		describe_failure(&s, err, errlen);
		outcome = OUTCOME_RETRY;
	}
	return outcome;
}

/* Sleep on the latch, so SIGTERM still ends us at once. */
static void
backoff(long *delay_ms, long retry_after_s, const char *why)
{
	long wait = *delay_ms;

	set_state(WATCH_BACKOFF, why);
	count(offsetof(WatchSlot, reconnects), 1);
	if (retry_after_s > 0)
		wait = Max(wait, retry_after_s * 1000);
	/* Full jitter on top of the exponential delay. */
	wait += (long) pg_prng_uint64_range(&pg_global_prng_state, 0, wait / 2);
	ereport(LOG,
	        (errmsg("k8s_events: cluster \"%s\": %s; retrying in %ld ms", config.name, why, wait)));
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, wait,
	                 PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();
	leave_if_unwanted();
	*delay_ms = Min(*delay_ms * 2, BACKOFF_MAX_MS);
}

PGDLLEXPORT void k8s_events_watcher_main(Datum main_arg);

void
k8s_events_watcher_main(Datum main_arg)
{
	SharedState  *shared;
	long          delay_ms = BACKOFF_INITIAL_MS;
	MemoryContext round_cxt;

	my_slot = (int) (DatumGetUInt32(main_arg) & ((1 << WATCH_SLOT_BITS) - 1));
	my_generation = DatumGetUInt32(main_arg) >> WATCH_SLOT_BITS;
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(k8s_events_database, NULL, 0);

	shared = shared_state();
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (!shared->slots[my_slot].in_use || shared->slots[my_slot].generation != my_generation)
	{
		/* Our slot went to another cluster while we were down: not ours to watch. */
		LWLockRelease(shared->lock);
		proc_exit(0);
	}
	config.name = MemoryContextStrdup(TopMemoryContext, shared->slots[my_slot].cluster);
	shared->slots[my_slot].pid = MyProcPid;
	shared->slots[my_slot].latch = MyLatch;
	LWLockRelease(shared->lock);
	before_shmem_exit(release_my_slot, (Datum) 0);

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		elog(ERROR, "could not initialise libcurl");
	frame_splitter_init(&splitter, 0, NULL);
	batch_init();

	if (!load_config(committed_rv, sizeof(committed_rv)))
		proc_exit(0); /* removed or disabled meanwhile: nothing to do */
	{
		WatchSlot *slot = lock_my_slot();

		if (slot != NULL)
		{
			strlcpy(slot->resource_version, committed_rv, sizeof(slot->resource_version));
			unlock_my_slot();
		}
	}
	round_cxt =
	    AllocSetContextCreate(TopMemoryContext, "k8s_events watch round", ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		char    err[512] = "";
		long    retry_after = -1;
		Outcome outcome;

		/* What one list or watch allocates (paths, bodies, tokens) goes with it. */
		MemoryContextReset(round_cxt);
		MemoryContextSwitchTo(round_cxt);
		CHECK_FOR_INTERRUPTS();
		if (committed_rv[0] == '\0')
		{
			outcome = list_events(&retry_after, err, sizeof(err));
			if (outcome == OUTCOME_OK)
			{
				if (committed_rv[0] == '\0')
				{
					/* Without it there is nothing to watch from; don't list in a tight loop. */
					snprintf(err, sizeof(err), "the list had no metadata.resourceVersion");
					outcome = OUTCOME_RETRY;
				}
			}
		}
		else
		{
			TimestampTz started = GetCurrentTimestamp();

			outcome = watch_events(pstrdup(committed_rv), &retry_after, err, sizeof(err));
			/* A server that ends every watch at once must not be hammered. */
			if (outcome == OUTCOME_OK && batch.received == 0 &&
			    !TimestampDifferenceExceeds(started, GetCurrentTimestamp(), 1000))
			{
				(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 1000,
				                 PG_WAIT_EXTENSION);
				ResetLatch(MyLatch);
			}
		}

		switch (outcome)
		{
			case OUTCOME_OK:
			case OUTCOME_AGAIN:
				delay_ms = BACKOFF_INITIAL_MS;
				break;
			case OUTCOME_GONE:
				count(offsetof(WatchSlot, relists), 1);
				committed_rv[0] = '\0'; /* list again; the stored checkpoint stays until then */
				delay_ms = BACKOFF_INITIAL_MS;
				break;
			case OUTCOME_RETRY:
				/* A watch that delivered frames was a working connection: start over. */
				if (batch.received > 0)
					delay_ms = BACKOFF_INITIAL_MS;
				backoff(&delay_ms, retry_after, err);
				break;
		}
	}
}
