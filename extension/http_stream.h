/*
 * http_stream.h
 *	  One HTTP request at a time over libcurl's multi interface, driven from a
 *	  background worker's latch loop so that signals are never blocked.
 */
#ifndef K8S_EVENTS_HTTP_STREAM_H
#define K8S_EVENTS_HTTP_STREAM_H

#include <curl/curl.h>

#include "datatype/timestamp.h"

/* How to reach one API server. Strings are owned by the caller. */
typedef struct HttpEndpoint
{
	const char *api_server; /* https://host:port, no trailing slash */
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

/*
 * Receives body bytes of a 200 response as they arrive; return false to abort
 * the transfer.  Other responses' bodies are kept in error_body instead.
 */
typedef bool (*HttpDataCallback)(void *arg, const char *data, size_t len);

typedef enum HttpProgress
{
	HTTP_RUNNING, /* still going: call http_stream_pump again */
	HTTP_DONE,    /* finished: see status, or curl_error when status is 0 */
} HttpProgress;

typedef struct HttpStream
{
	CURLM             *multi;
	CURL              *easy;
	struct curl_slist *headers;
	struct curl_slist *resolve; /* CURLOPT_CONNECT_TO for a tls-server-name */
	HttpDataCallback   on_data;
	void              *arg;
	TimestampTz        timer_at;    /* when curl wants to be called back, 0: never */
	curl_socket_t      sockets[16]; /* the sockets curl watches, and for what */
	int                socket_what[16];
	int                nsockets;
	bool               done;
	long               status;      /* HTTP status once known, 0 before */
	long               retry_after; /* seconds from Retry-After, or -1 */
	char               curl_error[CURL_ERROR_SIZE];
	/* The start of a body that came with another status than 200, for messages. */
	char   error_body[1024];
	size_t error_len;
} HttpStream;

/* Start a GET of path (with query) on the endpoint. Returns false with err set. */
extern bool http_stream_start(HttpStream *s, const HttpEndpoint *endpoint, const char *path,
                              HttpDataCallback on_data, void *arg, char *err, size_t errlen);

/*
 * Wait up to max_wait_ms for the socket or curl's timer, on the worker's latch
 * too (so a signal wakes us), and let curl do its work.  The caller checks
 * for interrupts between calls.
 */
extern HttpProgress http_stream_pump(HttpStream *s, long max_wait_ms);

extern void http_stream_cleanup(HttpStream *s);

#endif
