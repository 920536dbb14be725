/*
 * http_stream.h
 *	  One HTTP GET at a time over libcurl's multi interface, waited for by the
 *	  host.
 *
 * curl says which sockets it wants watched and when it wants to be called
 * back; the stream hands exactly that to a wait function the host supplies
 * and dispatches what became ready.  The host decides how to wait: the
 * background worker on its latch (so SIGTERM and SIGHUP are seen however
 * silent the API server is), the k8s-events program in ppoll() (so SIGINT
 * and SIGTERM are).  Nothing here blocks anywhere else.
 *
 * Plain C, shared by the extension and the k8s-events program.  Memory comes
 * from the caller's allocator; curl itself allocates with malloc.
 */
#ifndef K8S_EVENTS_HTTP_STREAM_H
#define K8S_EVENTS_HTTP_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "core_allocator.h"

/* Sockets one request can have open at once: a connection, and happy eyeballs' second try. */
#define HTTP_MAX_SOCKETS 16

/* The largest body collected whole (a list page): far above 500 Events, far below memory. */
#define HTTP_MAX_BODY ((size_t) 256 * 1024 * 1024)

/* How to reach one API server.  Strings are owned by the caller. */
typedef struct HttpEndpoint
{
	const char *api_server; /* https://host:port[/path], no trailing slash */
	const char *token;      /* bearer token, or NULL */
	const char *ca_file;    /* PEM bundle to verify the server with, or NULL for the system's */
	const char *client_cert_file; /* client certificate, or NULL */
	const char *client_key_file;
	/* The same as PEM bytes (kubeconfig's *-data fields); used when the file is NULL. */
	const unsigned char *ca_data;
	size_t               ca_len;
	const unsigned char *client_cert_data;
	size_t               client_cert_len;
	const unsigned char *client_key_data;
	size_t               client_key_len;
	const char          *tls_server_name; /* name to verify instead of the URL's host */
	const char          *proxy_url;
	bool                 insecure_skip_tls_verify;
} HttpEndpoint;

/* One socket to wait for: the stream sets fd, id and want_*, the wait function the rest. */
typedef struct HttpPollFd
{
	int fd;
	/*
	 * Unique to this socket for as long as curl watches it: a new one, even
	 * under a reused descriptor number, gets a new id.  A host that keeps a
	 * wait set between waits (the worker's epoll set) rebuilds it when the ids
	 * change, since the kernel forgets a closed descriptor's registration.
	 */
	uint64_t id;
	bool     want_read;
	bool     want_write;
	bool     readable; /* also on an error or hang-up: curl finds out which when it reads */
	bool     writable;
} HttpPollFd;

/*
 * The host's wait: return when a socket is ready as wanted, when timeout_ms
 * (never negative) has passed, or early when the host has something to look
 * at (a signal).  Return false to give up the request: the host is stopping.
 */
typedef bool (*HttpWaitFn)(void *arg, HttpPollFd *fds, int nfds, long timeout_ms);

/* What a data callback did with the bytes it was given. */
typedef enum HttpDataResult
{
	HTTP_DATA_TAKEN, /* all of them */
	HTTP_DATA_PAUSE, /* none: curl keeps them, reads no more, until http_stream_resume() */
	HTTP_DATA_ABORT  /* none, and the transfer is to end */
} HttpDataResult;

/*
 * Receives body bytes of a 200 response as they arrive.  Other responses'
 * bodies are kept in error_body instead.
 */
typedef HttpDataResult (*HttpDataCallback)(void *arg, const char *data, size_t len);

typedef enum HttpProgress
{
	HTTP_RUNNING, /* still going: pump again */
	HTTP_DONE,    /* finished: see status, or curl_error when status is 0 */
	HTTP_STOPPED  /* the wait function gave up; clean up */
} HttpProgress;

typedef struct HttpStream
{
	/* all private except where said */
	const CoreAllocator *allocator;
	CURLM               *multi;
	CURL                *easy;
	struct curl_slist   *headers;    /* holds the Authorization header: wiped before freeing */
	struct curl_slist   *connect_to; /* CURLOPT_CONNECT_TO for a tls-server-name */
	HttpDataCallback     on_data;
	void                *arg;
	/*
	 * Monotonic ms when curl wants to be called back; -1: no timer.  curl's
	 * timer is one-shot: once it has fired it is cleared here, and curl sets
	 * a new one only when its next deadline differs (CURLMOPT_TIMERFUNCTION).
	 */
	int64_t       timer_at;
	curl_socket_t sockets[HTTP_MAX_SOCKETS]; /* the sockets curl watches, and for what */
	int           socket_what[HTTP_MAX_SOCKETS];
	uint64_t      socket_id[HTTP_MAX_SOCKETS]; /* HttpPollFd.id */
	int           nsockets;
	bool          type_checked; /* a 200's Content-Type was looked at */

	/* public, read-only */
	bool    done;
	long    status;      /* HTTP status once the headers are in; 0 when the transfer failed */
	long    retry_after; /* seconds from Retry-After, or -1 */
	int64_t last_data;   /* monotonic ms of the start or of the last body bytes */
	bool    paused;      /* on_data paused the transfer: see http_stream_resume() */
	char    curl_error[CURL_ERROR_SIZE];
	/*
	 * Set when the stream ended the transfer itself (a body over max_body, a
	 * 200 that is not JSON); also in curl_error.
	 */
	char abort_reason[192];
	/* The start of a body that came with another status than 200, for messages. */
	char   error_body[1024];
	size_t error_len;
	/* Without on_data, a 200 body is collected here (NUL-terminated), up to max_body bytes. */
	char  *body;
	size_t body_len;
	size_t body_cap;
	size_t max_body; /* HTTP_MAX_BODY; may be lowered after start */
} HttpStream;

/*
 * Start a GET of path (with query) on the endpoint.  on_data NULL collects
 * the body in s->body instead.  Returns false with err set (s needs no
 * cleanup then).  The token is copied into curl's header list, which the
 * stream wipes when it is cleaned up: the caller may wipe its own at once.
 */
extern bool http_stream_start(HttpStream *s, const HttpEndpoint *endpoint, const char *path,
                              HttpDataCallback on_data, void *arg, const CoreAllocator *allocator,
                              char *err, size_t errlen);

/*
 * Wait up to max_wait_ms (less if curl's timer says so) through the host's
 * wait function, and let curl do its work.
 */
extern HttpProgress http_stream_pump(HttpStream *s, long max_wait_ms, HttpWaitFn wait, void *arg);

/*
 * Go on with a transfer on_data paused: curl hands it the bytes it held at
 * once (from inside this call), then reads on.  Does nothing if not paused.
 */
extern void http_stream_resume(HttpStream *s);

/* Release everything; safe after a failed start and twice. */
extern void http_stream_cleanup(HttpStream *s);

#endif
