/*
 * list_watch.c
 *	  The LIST/WATCH state machine (see list_watch.h), over http_stream.c and
 *	  frame_splitter.c, with the host doing storage, status and waiting.
 *
 * Everything the engine holds lives in one Engine on the stack of
 * list_watch_run: no globals, so a host could follow several clusters.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "core_memory.h"
#include "frame_splitter.h"
#include "kubeconfig.h"
#include "list_watch.h"
#include "monotonic.h"
#include "quote_text.h"

#define BACKOFF_INITIAL_MS 1000
#define BACKOFF_MAX_MS     60000
/* The longest one wait lasts: settings, stalls and batches are looked at this often. */
#define PUMP_WAIT_MS 1000
/* A watch that ends this soon without a frame is not a reason to reconnect at once. */
#define QUICK_END_MS 1000
/*
 * Watches refused in a row because the server has not reached the checkpoint
 * (ResourceVersionTooLarge) before the engine lists again: see watch_events.
 */
#define TOO_LARGE_RELIST 3
/* Batch buffers larger than this after a big Event are given back rather than kept. */
#define KEEP_BUFFER_BYTES ((size_t) 8 * 1024 * 1024)

/* A growable string; failed stays set once memory ran out. */
typedef struct Buf
{
	char  *data;
	size_t len;
	size_t cap;
	bool   failed;
} Buf;

typedef struct Engine
{
	const ListWatchCluster *cluster;
	const ListWatchHost    *host;
	const CoreAllocator    *alloc;
	ListWatchSettings       settings;
	FrameSplitter           splitter;

	/* The stored checkpoint: where the next watch starts; NULL: list first. */
	char *checkpoint;
	bool  checkpoint_known; /* false until the host said, and after a failed store */

	/* The batch of the current watch, not stored yet. */
	Buf              payload; /* "[frame,frame,...", for a host without keep_values */
	json_t          *values;  /* the frames parsed, for a host with keep_values; NULL: none */
	int              items;
	ListWatchReject *rejects; /* data and reason owned */
	int              nrejects;
	int              rejects_cap;
	char            *batch_rv; /* the resourceVersion the batch reaches, or NULL */
	int64_t          first_at; /* monotonic ms of its first item; -1 when empty */

	/* The current watch. */
	bool    gone;       /* an ERROR frame said 410 */
	int64_t received;   /* frames other than ERROR */
	char    error[256]; /* another ERROR frame's message */
	bool    nomem;      /* the allocator (or jansson's) failed: batch dropped, watch ends */
	bool    store_failed;
	char    store_error[512];

	/*
	 * Monotonic ms of the current request's start, of its last whole watch
	 * frame, or of the last batch stored: the stall timeout counts from here.
	 * Bytes that complete nothing are no progress: a server that trickles a
	 * byte a second would otherwise hold a request open for days.
	 */
	int64_t progress_at;
	int     too_large; /* watches refused in a row as ResourceVersionTooLarge */
} Engine;

typedef enum Outcome
{
	OUTCOME_OK,    /* finished normally */
	OUTCOME_GONE,  /* 410: the resourceVersion is too old; list again */
	OUTCOME_AGAIN, /* 410 after frames arrived: watch again from the checkpoint first */
	OUTCOME_RETRY, /* failed; back off and try again */
	OUTCOME_AHEAD, /* the server has not reached the checkpoint: back off, in the end list */
	OUTCOME_STOP   /* the host is stopping */
} Outcome;

typedef enum RequestEnd
{
	REQUEST_DONE,
	REQUEST_STOPPED,
	REQUEST_STALLED,
	REQUEST_STORE_FAILED
} RequestEnd;

const char *
list_watch_state_name(ListWatchState state)
{
	switch (state)
	{
		case LIST_WATCH_STARTING:
			return "starting";
		case LIST_WATCH_LISTING:
			return "listing";
		case LIST_WATCH_WATCHING:
			return "watching";
		case LIST_WATCH_BACKOFF:
			return "backoff";
		case LIST_WATCH_FAILED:
			return "failed";
	}
	return "unknown";
}

/* ---------------------------------------------------------------- strings */

static void
buf_append(const CoreAllocator *a, Buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap)
	{
		size_t cap = b->cap == 0 ? 256 : b->cap;
		char  *grown;

		while (cap < b->len + n + 1)
			cap *= 2;
		grown = core_realloc(a, b->data, b->cap, cap);
		if (grown == NULL)
		{
			b->failed = true;
			return;
		}
		b->data = grown;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void buf_printf(const CoreAllocator *a, Buf *b, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
buf_printf(const CoreAllocator *a, Buf *b, const char *fmt, ...)
{
	char    small[256];
	va_list ap;
	int     n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		b->failed = true;
	else if ((size_t) n < sizeof(small))
		buf_append(a, b, small, (size_t) n);
	else
	{
		char *big = core_alloc(a, (size_t) n + 1);

		if (big == NULL)
		{
			b->failed = true;
			return;
		}
		va_start(ap, fmt);
		vsnprintf(big, (size_t) n + 1, fmt, ap);
		va_end(ap);
		buf_append(a, b, big, (size_t) n);
		core_free(a, big);
	}
}

/*
 * A query or path value, percent-encoded: continue tokens are opaque and may
 * hold '+', '/' or '='.
 */
static void
buf_escaped(const CoreAllocator *a, Buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++)
	{
		unsigned char c = (unsigned char) *s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~')
			buf_append(a, b, s, 1);
		else
		{
			char pct[3] = {'%', hex[c >> 4], hex[c & 15]};

			buf_append(a, b, pct, 3);
		}
	}
}

static void
buf_free(const CoreAllocator *a, Buf *b)
{
	core_free(a, b->data);
	memset(b, 0, sizeof(*b));
}

/* Length of the valid UTF-8 sequence at p, or 0 if it is not one. */
static int
utf8_length(const unsigned char *p)
{
	int n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		n = 2;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		n = 3;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		n = 4;
	else
		return 0;
	for (int i = 1; i < n; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	/* No overlong forms, no surrogates, nothing above U+10FFFF. */
	if ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] >= 0xA0) ||
	    (p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] >= 0x90))
		return 0;
	return n;
}

/*
 * Messages end up in text columns and status; the bytes they quote (a
 * parser's "near ...", an error body cut anywhere) need not be valid UTF-8.
 */
static void
make_valid_utf8(char *s)
{
	unsigned char *p = (unsigned char *) s;

	while (*p != '\0')
	{
		int n = utf8_length(p);

		if (n == 0)
			*p++ = '?';
		else
			p += n;
	}
}

/* ---------------------------------------------------------------- settings and state */

static void
refresh_settings(Engine *e)
{
	e->host->settings(e->host->arg, &e->settings);
	if (e->settings.batch_size < 1)
		e->settings.batch_size = 1;
	if (e->settings.flush_interval_ms < 0)
		e->settings.flush_interval_ms = 0;
	if (e->settings.stall_timeout_ms < 1000)
		e->settings.stall_timeout_ms = 1000;
}

static void
set_state(Engine *e, ListWatchState state, const char *error)
{
	e->host->set_state(e->host->arg, state, error);
}

static void
replace_checkpoint(Engine *e, char *rv)
{
	core_free(e->alloc, e->checkpoint);
	e->checkpoint = rv;
}

/* ---------------------------------------------------------------- the batch */

static void
reset_batch(Engine *e)
{
	for (int i = 0; i < e->nrejects; i++)
	{
		core_free(e->alloc, (char *) e->rejects[i].data);
		core_free(e->alloc, (char *) e->rejects[i].reason);
	}
	e->nrejects = 0;
	e->items = 0;
	json_decref(e->values);
	e->values = NULL;
	e->payload.len = 0;
	e->payload.failed = false;
	if (e->payload.cap > KEEP_BUFFER_BYTES)
		buf_free(e->alloc, &e->payload);
	core_free(e->alloc, e->batch_rv);
	e->batch_rv = NULL;
	e->first_at = -1;
}

static void
note_arrival(Engine *e)
{
	if (e->first_at < 0)
		e->first_at = monotonic_ms();
}

static void add_reject(Engine *e, const char *data, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
add_reject(Engine *e, const char *data, size_t len, const char *fmt, ...)
{
	char    reason[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	make_valid_utf8(reason);
	if (e->nrejects == e->rejects_cap)
	{
		int              cap = e->rejects_cap == 0 ? 8 : e->rejects_cap * 2;
		ListWatchReject *grown =
		    core_realloc(e->alloc, e->rejects, sizeof(ListWatchReject) * (size_t) e->rejects_cap,
		                 sizeof(ListWatchReject) * (size_t) cap);

		if (grown == NULL)
		{
			e->nomem = true;
			return;
		}
		e->rejects = grown;
		e->rejects_cap = cap;
	}
	e->rejects[e->nrejects].data = core_strndup(e->alloc, data, len);
	e->rejects[e->nrejects].len = len;
	e->rejects[e->nrejects].reason = core_strdup(e->alloc, reason);
	if (e->rejects[e->nrejects].data == NULL || e->rejects[e->nrejects].reason == NULL)
	{
		core_free(e->alloc, (char *) e->rejects[e->nrejects].data);
		core_free(e->alloc, (char *) e->rejects[e->nrejects].reason);
		e->nomem = true;
		return;
	}
	e->nrejects++;
	note_arrival(e);
}

/* Nothing to store yet, or a bookmark alone (stored at once), or batch_size / flush_interval. */
static bool
batch_due(const Engine *e)
{
	if (e->first_at < 0)
		return e->batch_rv != NULL;
	return e->items >= e->settings.batch_size ||
	       monotonic_ms() - e->first_at >= e->settings.flush_interval_ms;
}

/* Hand the batch to the host; on failure it is dropped, and the checkpoint is asked again. */
static bool
store_batch(Engine *e)
{
	ListWatchBatch b;
	bool           ok;

	if (e->items == 0 && e->nrejects == 0 && e->batch_rv == NULL)
		return true;
	memset(&b, 0, sizeof(b));
	if (e->items > 0 && e->host->keep_values)
	{
		if (e->values == NULL)
		{
			/* A frame found no room in it (add_frame): the watch ends on nomem. */
			e->nomem = true;
			reset_batch(e);
			return true;
		}
		/* The host's from here on, whatever store does (list_watch.h). */
		b.values = e->values;
		e->values = NULL;
	}
	else if (e->items > 0)
	{
		buf_append(e->alloc, &e->payload, "]", 1);
		if (e->payload.failed)
		{
			e->nomem = true;
			reset_batch(e);
			return true; /* the watch ends on nomem; nothing of it was stored */
		}
		b.payload = e->payload.data;
		b.payload_len = e->payload.len;
	}
	b.items = e->items;
	b.rejects = e->rejects;
	b.nrejects = e->nrejects;
	b.resource_version = e->batch_rv;
	e->store_error[0] = '\0';
	ok = e->host->store(e->host->arg, &b, e->store_error, sizeof(e->store_error));
	if (ok && e->batch_rv != NULL)
	{
		replace_checkpoint(e, e->batch_rv);
		e->batch_rv = NULL;
	}
	if (!ok)
	{
		e->store_failed = true;
		e->checkpoint_known = false;
		if (e->store_error[0] == '\0')
			snprintf(e->store_error, sizeof(e->store_error), "the batch could not be stored");
	}
	reset_batch(e);
	return ok;
}

/* ---------------------------------------------------------------- watch frames */

/*
 * A frame into the batch: the value it was parsed into, which the host
 * decodes rows from, or its text, which the host sends on (keep_values).
 * Takes *value when it keeps it.  Once one frame found no room, the batch
 * gets no more: a partial batch must not be stored.
 */
static void
add_frame(Engine *e, const Frame *frame, json_t **value)
{
	if (e->host->keep_values)
	{
		if (e->items == 0)
			e->values = json_array();
		/* json_array_append_new releases the value when it fails. */
		if (e->values == NULL || json_array_append_new(e->values, *value) != 0)
		{
			if (e->values == NULL)
				json_decref(*value);
			json_decref(e->values);
			e->values = NULL;
			e->nomem = true;
		}
		*value = NULL;
	}
	else
	{
		buf_append(e->alloc, &e->payload, e->items == 0 ? "[" : ",", 1);
		buf_append(e->alloc, &e->payload, frame->data, frame->len);
		if (e->payload.failed)
			e->nomem = true;
	}
	e->items++;
	note_arrival(e);
}

/* One watch frame: into the batch, or a signal to stop (ERROR frames). */
static bool
watch_frame(void *arg, const Frame *frame)
{
	Engine      *e = arg;
	json_error_t error;
	json_t      *value;
	json_t      *object;
	const char  *type;
	const char  *rv;

	/*
	 * A frame cut short by a dropped connection is not bad data: its event is
	 * after the checkpoint, so the next watch sends it again whole.
	 */
	if (!frame->terminated)
		return false;
	e->progress_at = monotonic_ms();
	if (frame->kind == FRAME_TOO_LONG)
	{
		add_reject(e, frame->data, frame->len, "watch frame of %llu bytes is longer than the limit",
		           (unsigned long long) frame->length);
		return e->nomem;
	}
	/* A NUL in a string ("\u0000") spoils one Event, not the frame (event_decode says so). */
	value = json_loadb(frame->data, frame->len, JSON_ALLOW_NUL, &error);
	/*
	 * jansson names every syntax error; when its allocator failed it mostly
	 * says nothing.  That frame is not bad data: the next watch sends it again.
	 */
	if (value == NULL && error.text[0] == '\0')
	{
		e->nomem = true;
		return true;
	}
	if (value == NULL)
	{
		add_reject(e, frame->data, frame->len, "malformed watch frame: %s", error.text);
		return e->nomem;
	}
	type = json_string_value(json_object_get(value, "type"));
	object = json_object_get(value, "object");
	if (type != NULL && strcmp(type, "ERROR") == 0)
	{
		if (json_integer_value(json_object_get(object, "code")) == 410)
			e->gone = true;
		else
		{
			json_t *message = json_object_get(object, "message");
			char    quoted[200];

			snprintf(e->error, sizeof(e->error), "watch ERROR: %s",
			         json_is_string(message)
			             ? printable_text(quoted, sizeof(quoted), json_string_value(message),
			                              json_string_length(message), 160)
			             : "(no message)");
		}
		json_decref(value);
		return true;
	}
	e->received++;
	rv = json_string_value(json_object_get(json_object_get(object, "metadata"), "resourceVersion"));
	if (rv != NULL)
	{
		char *copy = core_strdup(e->alloc, rv);

		if (copy == NULL)
			e->nomem = true;
		core_free(e->alloc, e->batch_rv);
		e->batch_rv = copy;
	}
	/* A bookmark only moves the checkpoint. */
	if (type == NULL || strcmp(type, "BOOKMARK") != 0)
		add_frame(e, frame, &value);
	json_decref(value);
	return e->nomem;
}

static HttpDataResult
watch_data(void *arg, const char *data, size_t len)
{
	Engine             *e = arg;
	FrameSplitterStatus status;

	/*
	 * A full batch takes no more: curl holds these bytes, and reads no more,
	 * until run_request has stored it.  However much one wait made readable
	 * (thousands of frames after a stall), a batch is then batch_size frames
	 * and at most one network chunk more.
	 */
	if (e->items >= e->settings.batch_size)
		return HTTP_DATA_PAUSE;
	status = frame_splitter_feed(&e->splitter, data, len, watch_frame, e, NULL);
	if (status == FRAME_SPLITTER_NOMEM)
		e->nomem = true;
	/* An ERROR frame (or no memory) stopped the splitter: end the transfer. */
	return status == FRAME_SPLITTER_OK ? HTTP_DATA_TAKEN : HTTP_DATA_ABORT;
}

/* ---------------------------------------------------------------- requests */

/* How to reach the API server, with what was allocated for it. */
typedef struct Connection
{
	HttpEndpoint endpoint;
	KubeConfig   kc;
	char        *token_read; /* from a token file: ours to wipe */
} Connection;

static void
forget_connection(Engine *e, Connection *c)
{
	core_free_secret(e->alloc, c->token_read);
	kube_config_free(&c->kc, e->alloc); /* wipes its token and key data */
	memset(c, 0, sizeof(*c));
}

/*
 * Worked out again at every connection: bound service-account tokens rotate,
 * and kubeconfigs get rewritten.  The cluster's own fields override what a
 * kubeconfig says; with neither an api_server nor a kubeconfig, the in-cluster
 * service account is used.
 */
static bool
resolve_endpoint(Engine *e, Connection *c, char *err, size_t errlen)
{
	const ListWatchCluster *cl = e->cluster;
	HttpEndpoint           *ep = &c->endpoint;
	KubeConfig             *kc = &c->kc;

	memset(c, 0, sizeof(*c));
	if (cl->api_server == NULL)
	{
		bool ok = cl->kubeconfig != NULL
		              ? kube_config_load(cl->kubeconfig, cl->context, e->alloc, kc, err, errlen)
		              : kube_config_in_cluster(NULL, e->alloc, kc, err, errlen);

		if (!ok)
			return false;
	}
	ep->api_server = cl->api_server != NULL ? cl->api_server : kc->server;
	ep->ca_file = cl->ca_file != NULL ? cl->ca_file : kc->ca_file;
	ep->ca_data = kc->ca_data.data;
	ep->ca_len = kc->ca_data.len;
	ep->client_cert_file =
	    cl->client_cert_file != NULL ? cl->client_cert_file : kc->client_cert_file;
	ep->client_cert_data = kc->client_cert_data.data;
	ep->client_cert_len = kc->client_cert_data.len;
	ep->client_key_file = cl->client_key_file != NULL ? cl->client_key_file : kc->client_key_file;
	ep->client_key_data = kc->client_key_data.data;
	ep->client_key_len = kc->client_key_data.len;
	ep->tls_server_name = kc->tls_server_name;
	ep->proxy_url = kc->proxy_url;
	ep->insecure_skip_tls_verify = cl->insecure_skip_tls_verify || kc->insecure_skip_tls_verify;
	ep->token = kc->token;
	if (cl->token_file != NULL || kc->token_file != NULL)
	{
		if (kube_read_token_file(cl->token_file != NULL ? cl->token_file : kc->token_file, e->alloc,
		                         &c->token_read, err, errlen))
			ep->token = c->token_read;
		/* Like client-go: an inline token stands in for an unreadable file. */
		else if (kc->token == NULL || cl->token_file != NULL)
			return false;
	}
	return true;
}

/* Start a GET; the credentials are wiped as soon as curl has its copy. */
static bool
start_request(Engine *e, HttpStream *s, const char *path, HttpDataCallback on_data, char *err,
              size_t errlen)
{
	Connection c;
	bool       ok = resolve_endpoint(e, &c, err, errlen);

	if (ok)
		ok = http_stream_start(s, &c.endpoint, path, on_data, e, e->alloc, err, errlen);
	forget_connection(e, &c);
	return ok;
}

static void
describe_failure(const HttpStream *s, char *err, size_t errlen)
{
	/* The body is the API server's: any bytes (quote_text.h). */
	char body[300];

	if (s->status == 0 && s->abort_reason[0] != '\0')
		snprintf(err, errlen, "unusable response from the API server: %s", s->curl_error);
	else if (s->status == 0)
		snprintf(err, errlen, "cannot reach the API server: %s", s->curl_error);
	else
		snprintf(err, errlen, "HTTP %ld from the API server: %s", s->status,
		         printable_text(body, sizeof(body), s->error_body, s->error_len, 200));
}

/* Run one request to its end, storing batches that fall due on the way (watches). */
static RequestEnd
run_request(Engine *e, HttpStream *s, bool batching)
{
	bool connected = false;

	e->progress_at = monotonic_ms();

	for (;;)
	{
		long         wait = PUMP_WAIT_MS;
		HttpProgress progress;

		/* Wake up when the batch falls due, not a whole pump later. */
		if (batching && e->first_at >= 0)
		{
			int64_t left = e->first_at + e->settings.flush_interval_ms - monotonic_ms();

			if (left < wait)
				wait = left < 0 ? 0 : (long) left;
			if (batch_due(e))
				wait = 0;
		}
		progress = http_stream_pump(s, wait, e->host->wait, e->host->arg);
		if (progress == HTTP_STOPPED)
			return REQUEST_STOPPED;
		/*
		 * A 429 or 503 is the server itself asking to be asked again later (API
		 * Priority and Fairness, an apiserver starting): reached, not misconfigured.
		 */
		if (!connected && (s->status == 200 || s->status == 429 || s->status == 503))
		{
			connected = true;
			if (e->host->connected != NULL)
				e->host->connected(e->host->arg);
		}
		if (progress == HTTP_DONE)
			return REQUEST_DONE;
		refresh_settings(e);
		if (batching && batch_due(e))
		{
			if (!store_batch(e))
				return REQUEST_STORE_FAILED;
			/* The time the store took is not the server's silence. */
			e->progress_at = monotonic_ms();
		}
		/* A full batch paused the transfer (watch_data): stored, it goes on. */
		if (s->paused && e->items < e->settings.batch_size)
			http_stream_resume(s);
		/* Out of memory (also closing the batch in store_batch): end the watch now. */
		if (batching && e->nomem)
			return REQUEST_DONE;
		/*
		 * A healthy API server sends a bookmark about every minute, and a list
		 * page in seconds: nothing whole for stall_timeout is a dead link.
		 */
		if (monotonic_ms() - e->progress_at > e->settings.stall_timeout_ms)
			return REQUEST_STALLED;
	}
}

static void
describe_stall(const Engine *e, const HttpStream *s, bool list, char *err, size_t errlen)
{
	if (s->last_data > e->progress_at)
		snprintf(err, errlen,
		         "no whole %s in %ld s, only a trickle of bytes: the connection stalled",
		         list ? "list page" : "watch frame", e->settings.stall_timeout_ms / 1000);
	else
		snprintf(err, errlen, "nothing received for %ld s: the connection stalled",
		         e->settings.stall_timeout_ms / 1000);
}

static void
events_path(Engine *e, Buf *path)
{
	if (e->cluster->namespace != NULL)
	{
		buf_append(e->alloc, path, "/api/v1/namespaces/", 19);
		buf_escaped(e->alloc, path, e->cluster->namespace);
		buf_append(e->alloc, path, "/events", 7);
	}
	else
		buf_append(e->alloc, path, "/api/v1/events", 14);
}

/* ---------------------------------------------------------------- LIST */

/*
 * One list page: store it, and learn the next page's token.  A host with
 * keep_values gets the page as parsed here, others its text.  A NUL in one
 * Event ("\u0000") must not make the whole page unreadable, forever: the
 * decoder rejects that Event alone.
 */
static Outcome
store_page(Engine *e, HttpStream *s, char **next, char *err, size_t errlen)
{
	json_error_t   jerror;
	json_t        *page = json_loadb(s->body, s->body_len, JSON_ALLOW_NUL, &jerror);
	json_t        *metadata;
	const char    *cont;
	const char    *rv;
	char          *page_rv = NULL;
	bool           nomem = false;
	ListWatchBatch b;

	*next = NULL;
	if (page == NULL)
	{
		snprintf(err, errlen, "the list page is not JSON: %s",
		         jerror.text[0] != '\0' ? jerror.text : "out of memory");
		return OUTCOME_RETRY;
	}
	metadata = json_object_get(page, "metadata");
	cont = json_string_value(json_object_get(metadata, "continue"));
	rv = json_string_value(json_object_get(metadata, "resourceVersion"));
	if (cont != NULL && cont[0] != '\0')
		nomem = (*next = core_strdup(e->alloc, cont)) == NULL;
	/* Only the last page's resourceVersion is a point to watch from. */
	else if (rv != NULL)
		nomem = (page_rv = core_strdup(e->alloc, rv)) == NULL;
	if (nomem || !e->host->keep_values)
	{
		json_decref(page);
		page = NULL;
	}
	if (nomem)
	{
		snprintf(err, errlen, "out of memory");
		core_free(e->alloc, page_rv);
		return OUTCOME_RETRY;
	}

	memset(&b, 0, sizeof(b));
	b.values = page; /* the host's from here on (list_watch.h) */
	b.payload = page == NULL ? s->body : NULL;
	b.payload_len = page == NULL ? s->body_len : 0;
	b.list_page = true;
	b.items = 1;
	b.resource_version = page_rv;
	if (!e->host->store(e->host->arg, &b, err, errlen))
	{
		core_free(e->alloc, page_rv);
		core_free(e->alloc, *next);
		*next = NULL;
		e->checkpoint_known = false;
		return OUTCOME_RETRY;
	}
	if (page_rv != NULL)
		replace_checkpoint(e, page_rv);
	return OUTCOME_OK;
}

/* LIST every page; on success the list's resourceVersion is the checkpoint. */
static Outcome
list_events(Engine *e, long *retry_after, char *err, size_t errlen)
{
	char   *cont = NULL;
	Outcome outcome = OUTCOME_OK;

	set_state(e, LIST_WATCH_LISTING, NULL);
	e->received = 0;
	for (;;)
	{
		HttpStream s;
		Buf        path = {0};
		RequestEnd end;
		char      *next = NULL;

		events_path(e, &path);
		buf_printf(e->alloc, &path, "?limit=%d", LIST_WATCH_PAGE_SIZE);
		if (cont != NULL)
		{
			buf_append(e->alloc, &path, "&continue=", 10);
			buf_escaped(e->alloc, &path, cont);
		}
		if (path.failed)
		{
			snprintf(err, errlen, "out of memory");
			outcome = OUTCOME_RETRY;
		}
		else if (!start_request(e, &s, path.data, NULL, err, errlen))
			outcome = OUTCOME_RETRY;
		buf_free(e->alloc, &path);
		if (outcome != OUTCOME_OK)
			break;

		end = run_request(e, &s, false);
		*retry_after = s.retry_after;
		if (end == REQUEST_STOPPED)
			outcome = OUTCOME_STOP;
		else if (end == REQUEST_STALLED)
		{
			describe_stall(e, &s, true, err, errlen);
			outcome = OUTCOME_RETRY;
		}
		else if (s.status == 410)
			outcome = OUTCOME_GONE; /* the continue token expired */
		else if (s.status != 200)
		{
			describe_failure(&s, err, errlen);
			outcome = OUTCOME_RETRY;
		}
		else
			outcome = store_page(e, &s, &next, err, errlen);
		http_stream_cleanup(&s);
		core_free(e->alloc, cont);
		cont = next;
		if (outcome != OUTCOME_OK || cont == NULL)
			break;
	}
	core_free(e->alloc, cont);
	return outcome;
}

/* ---------------------------------------------------------------- WATCH */

/* WATCH from the checkpoint until the server ends the watch, it fails, or 410. */
static Outcome
watch_events(Engine *e, long *retry_after, char *err, size_t errlen)
{
	HttpStream s;
	Buf        path = {0};
	RequestEnd end;
	long       status;
	char       failure[512];
	char       stall[160] = "";
	/* Spread the reconnections of many watchers, as client-go does. */
	int timeout = 240 + (int) e->host->random(e->host->arg, 121);

	events_path(e, &path);
	buf_append(e->alloc, &path, "?watch=1&allowWatchBookmarks=true&resourceVersion=", 50);
	buf_escaped(e->alloc, &path, e->checkpoint);
	buf_printf(e->alloc, &path, "&timeoutSeconds=%d", timeout);
	if (path.failed)
	{
		buf_free(e->alloc, &path);
		snprintf(err, errlen, "out of memory");
		return OUTCOME_RETRY;
	}
	set_state(e, LIST_WATCH_WATCHING, NULL);
	frame_splitter_reset(&e->splitter);
	e->gone = false;
	e->received = 0;
	e->error[0] = '\0';
	e->nomem = false;
	e->store_failed = false;
	if (!start_request(e, &s, path.data, watch_data, err, errlen))
	{
		buf_free(e->alloc, &path);
		return OUTCOME_RETRY;
	}
	buf_free(e->alloc, &path);

	end = run_request(e, &s, true);
	if (end == REQUEST_STALLED)
		describe_stall(e, &s, false, stall, sizeof(stall));
	if (end != REQUEST_STORE_FAILED)
		(void) frame_splitter_finish(&e->splitter, watch_frame, e);
	status = s.status;
	*retry_after = s.retry_after;
	describe_failure(&s, failure, sizeof(failure));
	http_stream_cleanup(&s);
	/* What arrived is stored whatever ended the watch, a stop included. */
	if (end != REQUEST_STORE_FAILED && !e->nomem && !store_batch(e))
		end = REQUEST_STORE_FAILED;
	if (e->nomem)
		reset_batch(e);

	if (end == REQUEST_STOPPED)
		return OUTCOME_STOP;
	if (end == REQUEST_STORE_FAILED)
	{
		snprintf(err, errlen, "%s", e->store_error);
		return OUTCOME_RETRY;
	}
	if (e->nomem)
	{
		snprintf(err, errlen, "out of memory");
		return OUTCOME_RETRY;
	}
	/*
	 * A 410 after frames arrived may be the server dropping this watch rather
	 * than our resourceVersion leaving its window: the versions since the
	 * checkpoint may still be there, and a relist would only show the latest
	 * of each.  Watch again from the checkpoint; only a 410 at once relists.
	 */
	if ((e->gone || status == 410) && e->received > 0)
		return OUTCOME_AGAIN;
	if (e->gone || status == 410)
		return OUTCOME_GONE;
	/*
	 * kube-apiserver waits up to 3 s for a resourceVersion it has not reached,
	 * then answers 504 "Too large resource version" (ResourceVersionTooLarge).
	 * One API server lagging behind the others soon catches up; one whose
	 * history went back (etcd restored from a backup, the server replaced)
	 * never reaches the checkpoint, and only a new list goes on from there.
	 */
	if (strstr(e->error, "Too large resource version") != NULL ||
	    (status == 504 && strstr(failure, "Too large resource version") != NULL))
	{
		snprintf(err, errlen, "%s", e->error[0] != '\0' ? e->error : failure);
		return OUTCOME_AHEAD;
	}
	if (e->error[0] != '\0')
	{
		snprintf(err, errlen, "%s", e->error);
		return OUTCOME_RETRY;
	}
	if (end == REQUEST_STALLED)
	{
		snprintf(err, errlen, "%s", stall);
		return OUTCOME_RETRY;
	}
	if (status != 200)
	{
		snprintf(err, errlen, "%s", failure);
		return OUTCOME_RETRY;
	}
	return OUTCOME_OK;
}

/* ---------------------------------------------------------------- the loop */

/* Back off after a failure; false when the host is stopping. */
static bool
backoff(Engine *e, long *delay_ms, long retry_after_s, char *why)
{
	long wait = *delay_ms;
	char line[700];

	make_valid_utf8(why);
	set_state(e, LIST_WATCH_BACKOFF, why);
	e->host->count(e->host->arg, LIST_WATCH_RECONNECTS);
	if (retry_after_s > 0 && retry_after_s * 1000 > wait)
		wait = retry_after_s * 1000;
	/* Jitter on top of the exponential delay, so that many watchers spread out. */
	wait += (long) e->host->random(e->host->arg, (uint64_t) wait / 2 + 1);
	snprintf(line, sizeof(line), "%s; retrying in %ld ms", why, wait);
	e->host->log(e->host->arg, line);
	*delay_ms = *delay_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : *delay_ms * 2;
	return e->host->sleep(e->host->arg, wait);
}

void
list_watch_run(const ListWatchCluster *cluster, const ListWatchHost *host)
{
	Engine e;
	long   delay_ms = BACKOFF_INITIAL_MS;

	memset(&e, 0, sizeof(e));
	e.cluster = cluster;
	e.host = host;
	e.alloc = host->allocator;
	e.first_at = -1;
	frame_splitter_init(&e.splitter, 0, e.alloc);
	set_state(&e, LIST_WATCH_STARTING, NULL);

	for (;;)
	{
		char    err[512] = "";
		long    retry_after = -1;
		Outcome outcome;

		refresh_settings(&e);
		if (!e.checkpoint_known)
		{
			char *rv = NULL;

			if (!host->checkpoint(host->arg, &rv, err, sizeof(err)))
			{
				if (!backoff(&e, &delay_ms, -1, err))
					break;
				continue;
			}
			replace_checkpoint(&e, rv);
			e.checkpoint_known = true;
		}
		if (e.checkpoint == NULL)
		{
			outcome = list_events(&e, &retry_after, err, sizeof(err));
			/* Without it there is nothing to watch from; don't list in a tight loop. */
			if (outcome == OUTCOME_OK && e.checkpoint == NULL)
			{
				snprintf(err, sizeof(err), "the list had no metadata.resourceVersion");
				outcome = OUTCOME_RETRY;
			}
		}
		else
		{
			int64_t started = monotonic_ms();

			outcome = watch_events(&e, &retry_after, err, sizeof(err));
			/* A server that ends every watch at once must not be hammered. */
			if (outcome == OUTCOME_OK && e.received == 0 &&
			    monotonic_ms() - started < QUICK_END_MS && !host->sleep(host->arg, QUICK_END_MS))
				break;
		}

		if (outcome != OUTCOME_AHEAD)
			e.too_large = 0;
		switch (outcome)
		{
			case OUTCOME_OK:
			case OUTCOME_AGAIN:
				delay_ms = BACKOFF_INITIAL_MS;
				break;
			case OUTCOME_AHEAD:
				/* Waited for TOO_LARGE_RELIST times: the server's history is not ours. */
				if (++e.too_large >= TOO_LARGE_RELIST)
				{
					char line[700];

					snprintf(line, sizeof(line), "%s; listing again", err);
					make_valid_utf8(line);
					host->log(host->arg, line);
					e.too_large = 0;
					host->count(host->arg, LIST_WATCH_RELISTS);
					replace_checkpoint(&e, NULL);
					delay_ms = BACKOFF_INITIAL_MS;
					break;
				}
				if (!backoff(&e, &delay_ms, retry_after, err))
					goto stopped;
				break;
			case OUTCOME_GONE:
				host->count(host->arg, LIST_WATCH_RELISTS);
				/* List again; the stored checkpoint stays until the list's replaces it. */
				replace_checkpoint(&e, NULL);
				delay_ms = BACKOFF_INITIAL_MS;
				break;
			case OUTCOME_RETRY:
				/* A watch that delivered frames was a working connection: start over. */
				if (e.received > 0)
					delay_ms = BACKOFF_INITIAL_MS;
				if (!backoff(&e, &delay_ms, retry_after, err))
					goto stopped;
				break;
			case OUTCOME_STOP:
				goto stopped;
		}
	}
stopped:
	reset_batch(&e);
	buf_free(e.alloc, &e.payload);
	core_free(e.alloc, e.rejects);
	replace_checkpoint(&e, NULL);
	frame_splitter_free(&e.splitter);
}
